package regime

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// GaussianHMM is a hidden Markov model with K states and D-dimensional
// Gaussian emissions with full covariance matrices. Slices are row-major:
// Trans[j*K+k] = P(s_{t+1}=k | s_t=j), Mean[k*D+d], Cov[k*D*D+d*D+e].
//
// Observation sequences x are flat row-major T×D slices (x[t*D+d]);
// methods panic if len(x) is not a multiple of D (a programmer error).
// Outputs go to dst, reused when long enough and allocated otherwise.
// Methods return ErrDegenerate (wrapped) if a covariance is not positive
// definite; use Validate to check a model built by hand.
type GaussianHMM struct {
	K, D    int
	Initial []float64 // K, initial state distribution
	Trans   []float64 // K×K, rows sum to 1
	Mean    []float64 // K×D
	Cov     []float64 // K×D×D, symmetric positive definite
}

// ErrDegenerate is returned when a state's covariance is not positive
// definite or a state captures too little probability mass to estimate one.
var ErrDegenerate = errors.New("regime: degenerate hmm state (covariance not positive definite or state without data)")

// Validate checks shapes, that Initial and the rows of Trans are
// probability vectors (within 1e-9) and that every covariance is symmetric
// positive definite.
func (m *GaussianHMM) Validate() error {
	k, d := m.K, m.D
	if k < 1 || d < 1 {
		return fmt.Errorf("regime: hmm needs K ≥ 1 and D ≥ 1, got K=%d D=%d", k, d)
	}
	if len(m.Initial) != k || len(m.Trans) != k*k || len(m.Mean) != k*d || len(m.Cov) != k*d*d {
		return fmt.Errorf("regime: hmm parameter lengths %d, %d, %d, %d do not match K=%d D=%d",
			len(m.Initial), len(m.Trans), len(m.Mean), len(m.Cov), k, d)
	}
	if err := checkProb("initial distribution", m.Initial); err != nil {
		return err
	}
	for j := 0; j < k; j++ {
		if err := checkProb(fmt.Sprintf("transition row %d", j), m.Trans[j*k:(j+1)*k]); err != nil {
			return err
		}
	}
	for _, v := range m.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("regime: hmm mean is not finite")
		}
	}
	var e emission
	return e.set(m)
}

func checkProb(what string, p []float64) error {
	var s float64
	for _, q := range p {
		if !(q >= 0 && q <= 1) {
			return fmt.Errorf("regime: hmm %s has entry %v outside [0, 1]", what, q)
		}
		s += q
	}
	if math.Abs(s-1) > 1e-9 {
		return fmt.Errorf("regime: hmm %s sums to %v, want 1", what, s)
	}
	return nil
}

// emission caches, per state, the Cholesky factor of the covariance and the
// log normalising constant, for fast log-density evaluation.
type emission struct {
	k, d  int
	chol  []float64 // K×D×D lower-triangular factors
	logZ  []float64 // −½(D log 2π + log det Σ_k)
	mean  []float64
	resid []float64 // scratch, D
}

func (e *emission) set(m *GaussianHMM) error {
	e.k, e.d = m.K, m.D
	dd := m.D * m.D
	if len(e.chol) != m.K*dd {
		e.chol = make([]float64, m.K*dd)
		e.logZ = make([]float64, m.K)
		e.resid = make([]float64, m.D)
	}
	e.mean = m.Mean
	for k := 0; k < m.K; k++ {
		c := m.Cov[k*dd : (k+1)*dd]
		for a := 0; a < m.D; a++ {
			for b := 0; b < a; b++ {
				if math.Abs(c[a*m.D+b]-c[b*m.D+a]) > 1e-12*(math.Abs(c[a*m.D+b])+math.Abs(c[b*m.D+a])+1e-300) {
					return fmt.Errorf("regime: hmm covariance of state %d is not symmetric", k)
				}
			}
		}
		logDet, ok := cholesky(e.chol[k*dd:(k+1)*dd], c, m.D)
		if !ok {
			return fmt.Errorf("%w: state %d", ErrDegenerate, k)
		}
		e.logZ[k] = -0.5 * (float64(m.D)*math.Log(2*math.Pi) + logDet)
	}
	return nil
}

// logDensity returns log N(x; μ_k, Σ_k).
func (e *emission) logDensity(k int, x []float64) float64 {
	d := e.d
	l := e.chol[k*d*d : (k+1)*d*d]
	mu := e.mean[k*d : (k+1)*d]
	var q float64
	// Forward substitution L y = x − μ; the quadratic form is |y|².
	for a := 0; a < d; a++ {
		s := x[a] - mu[a]
		for b := 0; b < a; b++ {
			s -= l[a*d+b] * e.resid[b]
		}
		y := s / l[a*d+a]
		e.resid[a] = y
		q += y * y
	}
	return e.logZ[k] - 0.5*q
}

// cholesky writes the lower Cholesky factor of the d×d matrix c into l and
// returns log det c; ok is false unless c is (numerically) positive definite.
func cholesky(l, c []float64, d int) (logDet float64, ok bool) {
	clear(l)
	for j := 0; j < d; j++ {
		s := c[j*d+j]
		for k := 0; k < j; k++ {
			s -= l[j*d+k] * l[j*d+k]
		}
		if !(s > 1e-12*math.Abs(c[j*d+j])) || math.IsInf(s, 0) {
			return 0, false
		}
		ljj := math.Sqrt(s)
		l[j*d+j] = ljj
		logDet += 2 * math.Log(ljj)
		for i := j + 1; i < d; i++ {
			s := c[i*d+j]
			for k := 0; k < j; k++ {
				s -= l[i*d+k] * l[j*d+k]
			}
			l[i*d+j] = s / ljj
		}
	}
	return logDet, true
}

// workspace holds the buffers of one forward–backward pass.
type workspace struct {
	em    emission
	b     []float64 // T×K emission densities, scaled per t by exp(−shift_t)
	shift []float64 // T, log of the per-t scaling of b
	alpha []float64 // T×K scaled forward variables (filtered probabilities)
	beta  []float64 // T×K scaled backward variables
	c     []float64 // T scaling factors
}

func (w *workspace) resize(t, k int) {
	if cap(w.b) < t*k {
		w.b = make([]float64, t*k)
		w.alpha = make([]float64, t*k)
		w.beta = make([]float64, t*k)
	}
	if cap(w.c) < t {
		w.c = make([]float64, t)
		w.shift = make([]float64, t)
	}
	w.b, w.alpha, w.beta = w.b[:t*k], w.alpha[:t*k], w.beta[:t*k]
	w.c, w.shift = w.c[:t], w.shift[:t]
}

// emissions fills w.b with densities scaled per t so the largest is 1 (the
// scale goes to w.shift), which keeps outliers from underflowing.
func (m *GaussianHMM) emissions(w *workspace, x []float64) error {
	if err := w.em.set(m); err != nil {
		return err
	}
	t := len(x) / m.D
	w.resize(t, m.K)
	for s := 0; s < t; s++ {
		row := w.b[s*m.K : (s+1)*m.K]
		mx := math.Inf(-1)
		for k := range row {
			v := w.em.logDensity(k, x[s*m.D:(s+1)*m.D])
			row[k] = v
			if v > mx {
				mx = v
			}
		}
		for k := range row {
			row[k] = math.Exp(row[k] - mx)
		}
		w.shift[s] = mx
	}
	return nil
}

// forward runs the scaled forward recursion (Rabiner 1989, §V.A): alpha_t
// is P(s_t | x_≤t) and the log-likelihood is Σ_t (log c_t + shift_t).
func (m *GaussianHMM) forward(w *workspace) float64 {
	k := m.K
	t := len(w.c)
	var ll float64
	for s := 0; s < t; s++ {
		a := w.alpha[s*k : (s+1)*k]
		b := w.b[s*k : (s+1)*k]
		if s == 0 {
			for j := range a {
				a[j] = m.Initial[j] * b[j]
			}
		} else {
			prev := w.alpha[(s-1)*k : s*k]
			for j := range a {
				var acc float64
				for i, p := range prev {
					acc += p * m.Trans[i*k+j]
				}
				a[j] = acc * b[j]
			}
		}
		var c float64
		for _, v := range a {
			c += v
		}
		if c == 0 || math.IsNaN(c) {
			return math.Inf(-1)
		}
		inv := 1 / c
		for j := range a {
			a[j] *= inv
		}
		w.c[s] = c
		ll += math.Log(c) + w.shift[s]
	}
	return ll
}

// backward runs the scaled backward recursion with the forward scales.
func (m *GaussianHMM) backward(w *workspace) {
	k := m.K
	t := len(w.c)
	last := w.beta[(t-1)*k : t*k]
	for j := range last {
		last[j] = 1
	}
	for s := t - 2; s >= 0; s-- {
		cur := w.beta[s*k : (s+1)*k]
		next := w.beta[(s+1)*k : (s+2)*k]
		b := w.b[(s+1)*k : (s+2)*k]
		inv := 1 / w.c[s+1]
		for i := range cur {
			var acc float64
			for j := range next {
				acc += m.Trans[i*k+j] * b[j] * next[j]
			}
			cur[i] = acc * inv
		}
	}
}

func (m *GaussianHMM) checkObs(x []float64) int {
	if m.D < 1 || len(x)%m.D != 0 {
		panic("regime: observation length is not a multiple of D")
	}
	return len(x) / m.D
}

// LogLikelihood returns log p(x_1..x_T) under the model (0 for T = 0).
func (m *GaussianHMM) LogLikelihood(x []float64) (float64, error) {
	if m.checkObs(x) == 0 {
		return 0, nil
	}
	var w workspace
	if err := m.emissions(&w, x); err != nil {
		return 0, err
	}
	return m.forward(&w), nil
}

// FilterTo writes the filtered state probabilities P(s_t | x_1..x_t) into
// dst (T×K row-major; allocated when nil or too short) and returns dst and
// the log-likelihood of x. Row t depends on x_1..x_t only: this is the
// causal output, safe to use as an input to decisions at t.
func (m *GaussianHMM) FilterTo(dst []float64, x []float64) ([]float64, float64, error) {
	t := m.checkObs(x)
	dst = resize(dst, t*m.K)
	if t == 0 {
		return dst, 0, nil
	}
	var w workspace
	if err := m.emissions(&w, x); err != nil {
		return dst, 0, err
	}
	ll := m.forward(&w)
	if math.IsInf(ll, -1) {
		return dst, ll, errZeroLikelihood
	}
	copy(dst, w.alpha)
	return dst, ll, nil
}

// errZeroLikelihood reports an observation sequence that every state path
// rules out (possible only with zero transition probabilities).
var errZeroLikelihood = errors.New("regime: observations have zero likelihood under the hmm")

// SmoothNonCausalTo writes the smoothed state probabilities
// P(s_t | x_1..x_T) into dst (T×K row-major). Row t uses observations after
// t: NOT causal. Use it only to split data into episodes or for reports,
// never as an input to a decision.
func (m *GaussianHMM) SmoothNonCausalTo(dst []float64, x []float64) ([]float64, error) {
	t := m.checkObs(x)
	dst = resize(dst, t*m.K)
	if t == 0 {
		return dst, nil
	}
	var w workspace
	if err := m.emissions(&w, x); err != nil {
		return dst, err
	}
	if math.IsInf(m.forward(&w), -1) {
		return dst, errZeroLikelihood
	}
	m.backward(&w)
	for i := range dst {
		dst[i] = w.alpha[i] * w.beta[i]
	}
	return dst, nil
}

// ViterbiNonCausalTo writes the most likely state path given all of x into
// dst (length T) and returns it with its joint log-probability log p(x, s).
// The state at t depends on observations after t: NOT causal. Use it only
// to split data into episodes or for reports.
func (m *GaussianHMM) ViterbiNonCausalTo(dst []int, x []float64) ([]int, float64, error) {
	t := m.checkObs(x)
	if cap(dst) < t {
		dst = make([]int, t)
	}
	dst = dst[:t]
	if t == 0 {
		return dst, 0, nil
	}
	var em emission
	if err := em.set(m); err != nil {
		return dst, 0, err
	}
	k := m.K
	logA := make([]float64, k*k)
	for i, p := range m.Trans {
		logA[i] = math.Log(p)
	}
	delta := make([]float64, k)
	next := make([]float64, k)
	back := make([]int32, t*k)
	for j := 0; j < k; j++ {
		delta[j] = math.Log(m.Initial[j]) + em.logDensity(j, x[:m.D])
	}
	for s := 1; s < t; s++ {
		obs := x[s*m.D : (s+1)*m.D]
		for j := 0; j < k; j++ {
			best, arg := math.Inf(-1), 0
			for i := 0; i < k; i++ {
				if v := delta[i] + logA[i*k+j]; v > best {
					best, arg = v, i
				}
			}
			next[j] = best + em.logDensity(j, obs)
			back[s*k+j] = int32(arg)
		}
		delta, next = next, delta
	}
	best, arg := math.Inf(-1), 0
	for j, v := range delta {
		if v > best {
			best, arg = v, j
		}
	}
	dst[t-1] = arg
	for s := t - 1; s > 0; s-- {
		dst[s-1] = int(back[s*k+dst[s]])
	}
	return dst, best, nil
}

func resize(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}

// FitConfig controls Baum–Welch estimation of a GaussianHMM.
type FitConfig struct {
	// States is the number of hidden states K. Default 4; range [1, 16].
	States int `toml:"states"`
	// Restarts is the number of independently initialised EM runs; the one
	// with the highest log-likelihood wins. Default 8; range [1, 1000].
	Restarts int `toml:"restarts"`
	// MaxIter caps the EM iterations of one run. Default 500; range ≥ 1.
	MaxIter int `toml:"max_iter"`
	// Tol stops a run when the log-likelihood gains less than Tol per
	// observation in one iteration. Default 1e-7; range (0, 1).
	Tol float64 `toml:"tol"`
}

// DefaultFit returns the default Baum–Welch settings.
func DefaultFit() FitConfig {
	return FitConfig{States: 4, Restarts: 8, MaxIter: 500, Tol: 1e-7}
}

// Validate reports the first invalid field by its TOML key.
func (c FitConfig) Validate() error {
	switch {
	case c.States < 1 || c.States > 16:
		return fmt.Errorf("regime: states = %d, want 1..16", c.States)
	case c.Restarts < 1 || c.Restarts > 1000:
		return fmt.Errorf("regime: restarts = %d, want 1..1000", c.Restarts)
	case c.MaxIter < 1:
		return fmt.Errorf("regime: max_iter = %d, want ≥ 1", c.MaxIter)
	case !(c.Tol > 0 && c.Tol < 1):
		return fmt.Errorf("regime: tol = %v, want in (0, 1)", c.Tol)
	}
	return nil
}

// FitReport describes a Baum–Welch fit.
type FitReport struct {
	LogLik     float64     // log-likelihood of the chosen model
	Best       int         // index of the winning restart
	Iterations []int       // EM iterations per restart (0 if the restart failed at once)
	Converged  []bool      // whether each restart met Tol before MaxIter
	Failed     []error     // nil, or why a restart was abandoned (e.g. ErrDegenerate)
	History    [][]float64 // per restart, the log-likelihood at each E-step; the last is the run's final model
}

// FitGaussianHMM estimates a K-state Gaussian HMM on x (T×d row-major) by
// Baum–Welch (EM with the scaled forward–backward recursions), restarted
// c.Restarts times from k-means++ seeds drawn from rng; the run with the
// highest log-likelihood wins. Each run starts from means at the seeds,
// every covariance equal to the sample covariance of x, a uniform initial
// distribution and transition rows with 0.9 on the diagonal. A restart
// whose state collapses (covariance not positive definite) is abandoned and
// reported in FitReport.Failed; an error is returned only if every restart
// fails. EM is exact maximum likelihood (no covariance floor), so the
// log-likelihood never decreases within a run (FitReport.History).
func FitGaussianHMM(x []float64, d int, c FitConfig, rng *rand.Rand) (*GaussianHMM, FitReport, error) {
	var rep FitReport
	if err := c.Validate(); err != nil {
		return nil, rep, err
	}
	if d < 1 || len(x)%d != 0 {
		panic("regime: observation length is not a multiple of d")
	}
	t := len(x) / d
	if t < c.States*(d+1)*2 {
		return nil, rep, fmt.Errorf("regime: %d observations are too few for a %d-state hmm in %d dimensions", t, c.States, d)
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, rep, errors.New("regime: hmm observations must be finite")
		}
	}
	mean, cov := sampleMoments(x, d)
	var best *GaussianHMM
	rep.LogLik = math.Inf(-1)
	rep.Best = -1
	var w workspace
	for r := 0; r < c.Restarts; r++ {
		m := initialModel(x, d, c.States, mean, cov, rng)
		ll, hist, iters, conv, err := baumWelch(m, x, c, &w)
		rep.History = append(rep.History, hist)
		rep.Iterations = append(rep.Iterations, iters)
		rep.Converged = append(rep.Converged, conv)
		rep.Failed = append(rep.Failed, err)
		if err == nil && ll > rep.LogLik {
			best, rep.LogLik, rep.Best = m, ll, r
		}
	}
	if best == nil {
		return nil, rep, fmt.Errorf("regime: all %d baum-welch restarts failed, first: %w", c.Restarts, rep.Failed[0])
	}
	return best, rep, nil
}

// baumWelch iterates EM on m in place. It returns the log-likelihood of the
// final parameters and the history of log-likelihoods (one per E-step).
func baumWelch(m *GaussianHMM, x []float64, c FitConfig, w *workspace) (ll float64, hist []float64, iters int, converged bool, err error) {
	k, d := m.K, m.D
	t := len(x) / d
	tol := c.Tol * float64(t)
	xiSum := make([]float64, k*k)
	gSum := make([]float64, k)
	newMean := make([]float64, k*d)
	prev := math.Inf(-1)
	for iters = 0; iters < c.MaxIter; iters++ {
		if err = m.emissions(w, x); err != nil {
			return prev, hist, iters, false, err
		}
		ll = m.forward(w)
		if math.IsInf(ll, -1) || math.IsNaN(ll) {
			return prev, hist, iters, false, fmt.Errorf("%w: zero likelihood", ErrDegenerate)
		}
		hist = append(hist, ll)
		if ll-prev < tol {
			return ll, hist, iters, true, nil
		}
		prev = ll
		m.backward(w)

		// E-step sums. gamma_t = alpha_t ⊙ beta_t; xi_t(i,j) =
		// alpha_t(i) A_ij b_j(x_{t+1}) beta_{t+1}(j) / c_{t+1}.
		clear(xiSum)
		clear(gSum)
		clear(newMean)
		for s := 0; s < t; s++ {
			a := w.alpha[s*k : (s+1)*k]
			bt := w.beta[s*k : (s+1)*k]
			obs := x[s*d : (s+1)*d]
			for j := 0; j < k; j++ {
				g := a[j] * bt[j]
				gSum[j] += g
				for e := 0; e < d; e++ {
					newMean[j*d+e] += g * obs[e]
				}
			}
			if s == 0 {
				for j := 0; j < k; j++ {
					m.Initial[j] = a[j] * bt[j]
				}
			}
			if s+1 < t {
				b := w.b[(s+1)*k : (s+2)*k]
				nb := w.beta[(s+1)*k : (s+2)*k]
				inv := 1 / w.c[s+1]
				for i := 0; i < k; i++ {
					ai := a[i] * inv
					for j := 0; j < k; j++ {
						xiSum[i*k+j] += ai * m.Trans[i*k+j] * b[j] * nb[j]
					}
				}
			}
		}
		// M-step.
		normalise(m.Initial)
		for i := 0; i < k; i++ {
			row := xiSum[i*k : (i+1)*k]
			var s float64
			for _, v := range row {
				s += v
			}
			if s > 0 {
				for j := range row {
					m.Trans[i*k+j] = row[j] / s
				}
			}
		}
		for j := 0; j < k; j++ {
			if gSum[j] < float64(d+1) {
				return prev, hist, iters, false, fmt.Errorf("%w: state %d has mass %.3g", ErrDegenerate, j, gSum[j])
			}
			for e := 0; e < d; e++ {
				newMean[j*d+e] /= gSum[j]
			}
		}
		newCov := m.Cov
		clear(newCov)
		for s := 0; s < t; s++ {
			a := w.alpha[s*k : (s+1)*k]
			bt := w.beta[s*k : (s+1)*k]
			obs := x[s*d : (s+1)*d]
			for j := 0; j < k; j++ {
				g := a[j] * bt[j]
				mu := newMean[j*d : (j+1)*d]
				cv := newCov[j*d*d : (j+1)*d*d]
				for e := 0; e < d; e++ {
					de := obs[e] - mu[e]
					for f := 0; f <= e; f++ {
						cv[e*d+f] += g * de * (obs[f] - mu[f])
					}
				}
			}
		}
		for j := 0; j < k; j++ {
			cv := newCov[j*d*d : (j+1)*d*d]
			for e := 0; e < d; e++ {
				for f := 0; f <= e; f++ {
					cv[e*d+f] /= gSum[j]
					cv[f*d+e] = cv[e*d+f]
				}
			}
		}
		copy(m.Mean, newMean)
	}
	// MaxIter reached: evaluate the last M-step's parameters.
	if err = m.emissions(w, x); err != nil {
		return prev, hist, iters, false, err
	}
	ll = m.forward(w)
	hist = append(hist, ll)
	return ll, hist, iters, false, nil
}

func normalise(p []float64) {
	var s float64
	for _, v := range p {
		s += v
	}
	for i := range p {
		p[i] /= s
	}
}

// sampleMoments returns the mean (d) and the 1/T covariance (d×d) of x.
func sampleMoments(x []float64, d int) (mean, cov []float64) {
	t := len(x) / d
	mean = make([]float64, d)
	cov = make([]float64, d*d)
	for s := 0; s < t; s++ {
		for e := 0; e < d; e++ {
			mean[e] += x[s*d+e]
		}
	}
	for e := range mean {
		mean[e] /= float64(t)
	}
	for s := 0; s < t; s++ {
		for e := 0; e < d; e++ {
			for f := 0; f < d; f++ {
				cov[e*d+f] += (x[s*d+e] - mean[e]) * (x[s*d+f] - mean[f])
			}
		}
	}
	for i := range cov {
		cov[i] /= float64(t)
	}
	return mean, cov
}

// initialModel seeds a restart: the means are k-means++ seeds (Arthur &
// Vassilvitskii 2007: each next seed drawn with probability proportional to
// its squared distance from the nearest seed so far), with distances
// measured after scaling each dimension by its standard deviation.
func initialModel(x []float64, d, k int, mean, cov []float64, rng *rand.Rand) *GaussianHMM {
	t := len(x) / d
	m := &GaussianHMM{
		K: k, D: d,
		Initial: make([]float64, k),
		Trans:   make([]float64, k*k),
		Mean:    make([]float64, k*d),
		Cov:     make([]float64, k*d*d),
	}
	for j := 0; j < k; j++ {
		m.Initial[j] = 1 / float64(k)
		for i := 0; i < k; i++ {
			if k == 1 {
				m.Trans[0] = 1
			} else if i == j {
				m.Trans[j*k+i] = 0.9
			} else {
				m.Trans[j*k+i] = 0.1 / float64(k-1)
			}
		}
		copy(m.Cov[j*d*d:(j+1)*d*d], cov)
	}
	scale := make([]float64, d)
	for e := range scale {
		scale[e] = 1 / math.Sqrt(cov[e*d+e])
	}
	dist := make([]float64, t)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	pick := rng.IntN(t)
	for j := 0; j < k; j++ {
		copy(m.Mean[j*d:(j+1)*d], x[pick*d:(pick+1)*d])
		if j == k-1 {
			break
		}
		var total float64
		for s := 0; s < t; s++ {
			var q float64
			for e := 0; e < d; e++ {
				z := (x[s*d+e] - m.Mean[j*d+e]) * scale[e]
				q += z * z
			}
			dist[s] = math.Min(dist[s], q)
			total += dist[s]
		}
		u := rng.Float64() * total
		pick = t - 1
		for s := 0; s < t; s++ {
			u -= dist[s]
			if u < 0 {
				pick = s
				break
			}
		}
	}
	return m
}
