package regime

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
)

// tinyModel is a 2-state, 2-dimensional model with correlated emissions.
func tinyModel() *GaussianHMM {
	return &GaussianHMM{
		K: 2, D: 2,
		Initial: []float64{0.3, 0.7},
		Trans:   []float64{0.8, 0.2, 0.35, 0.65},
		Mean:    []float64{0.5, -1, -0.7, 1.2},
		Cov:     []float64{1.0, 0.3, 0.3, 0.8, 2.5, -0.9, -0.9, 1.5},
	}
}

// tinyObs has T = 6 observations, the fourth an outlier far from both
// states (its densities underflow without the per-bar rescaling).
func tinyObs() []float64 {
	return []float64{0.2, -0.4, -1.1, 1.5, 0.9, -0.8, 40, -35, -0.3, 0.6, 0.4, 0.1}
}

// bruteForce enumerates all K^T state paths of m for x, with emission
// densities from gonum's distmv (independent of the package's Cholesky
// code). It returns log p(x), the filtered and smoothed posteriors (T×K)
// and the most likely path with its log joint probability.
func bruteForce(t *testing.T, m *GaussianHMM, x []float64) (ll float64, filt, smooth []float64, best []int, bestLog float64) {
	t.Helper()
	k, d := m.K, m.D
	n := len(x) / d
	logb := make([]float64, n*k)
	for j := 0; j < k; j++ {
		sym := mat.NewSymDense(d, append([]float64(nil), m.Cov[j*d*d:(j+1)*d*d]...))
		dist, ok := distmv.NewNormal(m.Mean[j*d:(j+1)*d], sym, nil)
		if !ok {
			t.Fatal("covariance not positive definite")
		}
		for s := 0; s < n; s++ {
			logb[s*k+j] = dist.LogProb(x[s*d : (s+1)*d])
		}
	}
	// Work relative to a per-path constant so exp does not underflow.
	var shift float64
	for s := 0; s < n; s++ {
		mx := math.Inf(-1)
		for j := 0; j < k; j++ {
			mx = math.Max(mx, logb[s*k+j])
		}
		shift += mx
		for j := 0; j < k; j++ {
			logb[s*k+j] -= mx
		}
	}
	filt = make([]float64, n*k)
	smooth = make([]float64, n*k)
	prefix := make([]float64, n) // Σ over prefixes of length s+1
	path := make([]int, n)
	bestLog = math.Inf(-1)
	var total float64
	paths := int(math.Pow(float64(k), float64(n)))
	for code := 0; code < paths; code++ {
		c := code
		for s := 0; s < n; s++ {
			path[s] = c % k
			c /= k
		}
		lp := math.Log(m.Initial[path[0]]) + logb[path[0]]
		for s := 0; s < n; s++ {
			if s > 0 {
				lp += math.Log(m.Trans[path[s-1]*k+path[s]]) + logb[s*k+path[s]]
			}
			// Each prefix of length s+1 is counted once per completion;
			// divide by the number of completions, k^(n−s−1).
			w := math.Exp(lp) / math.Pow(float64(k), float64(n-s-1))
			filt[s*k+path[s]] += w
			prefix[s] += w
		}
		p := math.Exp(lp)
		total += p
		for s := 0; s < n; s++ {
			smooth[s*k+path[s]] += p
		}
		if lp > bestLog {
			bestLog = lp
			best = append(best[:0], path...)
		}
	}
	for s := 0; s < n; s++ {
		for j := 0; j < k; j++ {
			filt[s*k+j] /= prefix[s]
			smooth[s*k+j] /= total
		}
	}
	return math.Log(total) + shift, filt, smooth, best, bestLog + shift
}

// TestForwardBruteForce checks the scaled forward–backward and Viterbi
// recursions against enumeration of all 2^6 state paths. Tolerance 1e-12
// relative: both sides are exact up to float64 rounding of ≤ 64-term sums
// and a few logs.
func TestForwardBruteForce(t *testing.T) {
	const tol = 1e-12
	for _, tc := range []struct {
		name string
		m    *GaussianHMM
		x    []float64
	}{
		{"2 states, 2-D, with outlier", tinyModel(), tinyObs()},
		{"2 states, 1-D", &GaussianHMM{K: 2, D: 1, Initial: []float64{0.5, 0.5}, Trans: []float64{0.9, 0.1, 0.2, 0.8},
			Mean: []float64{-0.5, 1}, Cov: []float64{0.5, 2}}, []float64{0.1, -1.2, 2.5, 0.3, 1.1, -0.2}},
		{"3 states, 1-D, zero transition", &GaussianHMM{K: 3, D: 1, Initial: []float64{0.2, 0.3, 0.5},
			Trans: []float64{0.7, 0.3, 0, 0.1, 0.6, 0.3, 0.25, 0.25, 0.5},
			Mean:  []float64{-1, 0, 2}, Cov: []float64{1, 0.25, 3}}, []float64{-1.5, 0.1, 0.2, 2.9, -0.4, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, x := tc.m, tc.x
			wantLL, wantFilt, wantSmooth, wantPath, wantPathLog := bruteForce(t, m, x)
			ll, err := m.LogLikelihood(x)
			if err != nil {
				t.Fatal(err)
			}
			if !scalar.EqualWithinAbsOrRel(ll, wantLL, tol, tol) {
				t.Errorf("log-likelihood %.15g, brute force %.15g", ll, wantLL)
			}
			filt, fll, err := m.FilterTo(nil, x)
			if err != nil || fll != ll {
				t.Fatalf("FilterTo: %v, ll %v vs %v", err, fll, ll)
			}
			smooth, err := m.SmoothNonCausalTo(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			for i := range filt {
				if !scalar.EqualWithinAbsOrRel(filt[i], wantFilt[i], tol, tol) {
					t.Errorf("filtered[%d] = %.15g, brute force %.15g", i, filt[i], wantFilt[i])
				}
				if !scalar.EqualWithinAbsOrRel(smooth[i], wantSmooth[i], tol, tol) {
					t.Errorf("smoothed[%d] = %.15g, brute force %.15g", i, smooth[i], wantSmooth[i])
				}
			}
			path, plog, err := m.ViterbiNonCausalTo(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			for s := range path {
				if path[s] != wantPath[s] {
					t.Fatalf("viterbi path %v, brute force %v", path, wantPath)
				}
			}
			if !scalar.EqualWithinAbsOrRel(plog, wantPathLog, tol, tol) {
				t.Errorf("viterbi log-probability %.15g, brute force %.15g", plog, wantPathLog)
			}
		})
	}
}

// TestLogDensity compares the Cholesky-based emission density with gonum's
// distmv.Normal on random positive-definite covariances (1e-12 relative).
func TestLogDensity(t *testing.T) {
	rng := seed.New(1, seed.Test, 1)
	for _, d := range []int{1, 2, 3, 5} {
		for trial := 0; trial < 20; trial++ {
			a := mat.NewDense(d, d, nil)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					a.Set(i, j, rng.NormFloat64())
				}
			}
			var cov mat.SymDense
			cov.SymOuterK(1, a)
			for i := 0; i < d; i++ {
				cov.SetSym(i, i, cov.At(i, i)+0.1)
			}
			mu := make([]float64, d)
			x := make([]float64, d)
			for i := range mu {
				mu[i], x[i] = rng.NormFloat64(), 3*rng.NormFloat64()
			}
			flat := make([]float64, d*d)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					flat[i*d+j] = cov.At(i, j)
				}
			}
			m := &GaussianHMM{K: 1, D: d, Initial: []float64{1}, Trans: []float64{1}, Mean: mu, Cov: flat}
			var e emission
			if err := e.set(m); err != nil {
				t.Fatal(err)
			}
			ref, _ := distmv.NewNormal(mu, &cov, nil)
			got, want := e.logDensity(0, x), ref.LogProb(x)
			if !scalar.EqualWithinAbsOrRel(got, want, 1e-12, 1e-12) {
				t.Errorf("d=%d: log density %.15g, gonum %.15g", d, got, want)
			}
		}
	}
}

// simulateHMM draws T observations from m.
func simulateHMM(m *GaussianHMM, n int, rng *rand.Rand) (x []float64, states []int) {
	d, k := m.D, m.K
	chol := make([]float64, k*d*d)
	for j := 0; j < k; j++ {
		if _, ok := cholesky(chol[j*d*d:(j+1)*d*d], m.Cov[j*d*d:(j+1)*d*d], d); !ok {
			panic("simulateHMM: covariance not positive definite")
		}
	}
	draw := func(p []float64) int {
		u := rng.Float64()
		for j, q := range p {
			if u < q {
				return j
			}
			u -= q
		}
		return len(p) - 1
	}
	x = make([]float64, n*d)
	states = make([]int, n)
	z := make([]float64, d)
	s := draw(m.Initial)
	for t := 0; t < n; t++ {
		if t > 0 {
			s = draw(m.Trans[s*k : (s+1)*k])
		}
		states[t] = s
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		l := chol[s*d*d : (s+1)*d*d]
		for a := 0; a < d; a++ {
			v := m.Mean[s*d+a]
			for b := 0; b <= a; b++ {
				v += l[a*d+b] * z[b]
			}
			x[t*d+a] = v
		}
	}
	return x, states
}

// TestBaumWelchRecovery simulates a 3-state, 2-D HMM (n = 8,000) and checks
// that Baum–Welch recovers it. States are matched by nearest mean. Bounds
// are 5 standard errors of the complete-data estimators (the states are
// well separated, so the posteriors are nearly certain): mean σ/√n_k,
// covariance entry √((σ_aa σ_bb + σ_ab²)/n_k), transition √(p(1−p)/n_j).
// It also checks that every restart's log-likelihood never decreases.
func TestBaumWelchRecovery(t *testing.T) {
	truth := &GaussianHMM{
		K: 3, D: 2,
		Initial: []float64{1.0 / 3, 1.0 / 3, 1.0 / 3},
		Trans:   []float64{0.95, 0.03, 0.02, 0.04, 0.92, 0.04, 0.03, 0.05, 0.92},
		Mean:    []float64{-2, 0, 0, 2, 2.5, -1},
		Cov:     []float64{0.5, 0.1, 0.1, 0.4, 0.6, -0.2, -0.2, 0.8, 1.0, 0.3, 0.3, 0.5},
	}
	const n = 8000
	x, states := simulateHMM(truth, n, seed.New(3, seed.Test, 0))
	cfg := DefaultFit()
	cfg.States, cfg.Restarts = 3, 4
	m, rep, err := FitGaussianHMM(x, 2, cfg, seed.New(4, seed.Test, 0))
	if err != nil {
		t.Fatal(err)
	}
	for r, h := range rep.History {
		for i := 1; i < len(h); i++ {
			// EM never decreases the likelihood; allow float64 rounding of
			// an n-term log-likelihood sum.
			if h[i] < h[i-1]-1e-9*math.Abs(h[i-1]) {
				t.Errorf("restart %d: log-likelihood fell from %.10g to %.10g at iteration %d", r, h[i-1], h[i], i)
			}
		}
		if rep.Failed[r] == nil && !rep.Converged[r] {
			t.Errorf("restart %d did not converge in %d iterations", r, rep.Iterations[r])
		}
	}
	var counts [3]float64
	var from [3]float64
	for s, st := range states {
		counts[st]++
		if s+1 < n {
			from[st]++
		}
	}
	match := make([]int, 3) // match[true state] = fitted state
	for j := 0; j < 3; j++ {
		best := math.Inf(1)
		for f := 0; f < 3; f++ {
			dx, dy := m.Mean[f*2]-truth.Mean[j*2], m.Mean[f*2+1]-truth.Mean[j*2+1]
			if d := dx*dx + dy*dy; d < best {
				best, match[j] = d, f
			}
		}
	}
	for j := 0; j < 3; j++ {
		f := match[j]
		for a := 0; a < 2; a++ {
			se := math.Sqrt(truth.Cov[j*4+a*2+a] / counts[j])
			if math.Abs(m.Mean[f*2+a]-truth.Mean[j*2+a]) > 5*se {
				t.Errorf("state %d mean[%d] = %.4f, true %.4f (5 se = %.4f)", j, a, m.Mean[f*2+a], truth.Mean[j*2+a], 5*se)
			}
			for b := 0; b < 2; b++ {
				c := truth.Cov[j*4 : j*4+4]
				se := math.Sqrt((c[a*2+a]*c[b*2+b] + c[a*2+b]*c[a*2+b]) / counts[j])
				if math.Abs(m.Cov[f*4+a*2+b]-c[a*2+b]) > 5*se {
					t.Errorf("state %d cov[%d,%d] = %.4f, true %.4f (5 se = %.4f)", j, a, b, m.Cov[f*4+a*2+b], c[a*2+b], 5*se)
				}
			}
		}
		for l := 0; l < 3; l++ {
			p := truth.Trans[j*3+l]
			se := math.Sqrt(p * (1 - p) / from[j])
			if got := m.Trans[f*3+match[l]]; math.Abs(got-p) > 5*se {
				t.Errorf("transition %d→%d = %.4f, true %.4f (5 se = %.4f)", j, l, got, p, 5*se)
			}
		}
	}
	// The fitted model must also decode the simulated states: Viterbi
	// agrees with the truth on ≥ 97 % of bars (measured 99.5 %).
	path, _, err := m.ViterbiNonCausalTo(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	var hit int
	for s, st := range states {
		if path[s] == match[st] {
			hit++
		}
	}
	if acc := float64(hit) / n; acc < 0.97 {
		t.Errorf("viterbi decodes %.3f of the simulated states", acc)
	} else {
		t.Logf("viterbi decodes %.4f of the simulated states; log-likelihood %.2f after %v iterations", acc, rep.LogLik, rep.Iterations)
	}
}

func TestFitGaussianHMMErrors(t *testing.T) {
	rng := seed.New(5, seed.Test, 0)
	constant := make([]float64, 400)
	for i := range constant {
		constant[i] = 1.5
	}
	if _, _, err := FitGaussianHMM(constant, 1, DefaultFit(), rng); !errors.Is(err, ErrDegenerate) {
		t.Errorf("constant series: err = %v, want ErrDegenerate", err)
	}
	noisy := make([]float64, 400)
	for i := range noisy {
		noisy[i] = rng.NormFloat64()
	}
	noisy[17] = math.NaN()
	if _, _, err := FitGaussianHMM(noisy, 1, DefaultFit(), rng); err == nil {
		t.Error("NaN observation accepted")
	}
	if _, _, err := FitGaussianHMM(noisy[:20], 1, DefaultFit(), rng); err == nil {
		t.Error("20 observations accepted for a 4-state model")
	}
	bad := DefaultFit()
	bad.Tol = 0
	if _, _, err := FitGaussianHMM(noisy, 1, bad, rng); err == nil {
		t.Error("tol = 0 accepted")
	}
}

func TestGaussianHMMValidate(t *testing.T) {
	if err := tinyModel().Validate(); err != nil {
		t.Fatalf("valid model rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(m *GaussianHMM)
	}{
		{"K zero", func(m *GaussianHMM) { m.K = 0 }},
		{"short mean", func(m *GaussianHMM) { m.Mean = m.Mean[:3] }},
		{"initial sum", func(m *GaussianHMM) { m.Initial[0] = 0.5 }},
		{"negative transition", func(m *GaussianHMM) { m.Trans[0], m.Trans[1] = 1.2, -0.2 }},
		{"NaN mean", func(m *GaussianHMM) { m.Mean[2] = math.NaN() }},
		{"asymmetric covariance", func(m *GaussianHMM) { m.Cov[1] = 0.5 }},
		{"singular covariance", func(m *GaussianHMM) { copy(m.Cov[4:], []float64{1, 1, 1, 1}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyModel()
			tc.edit(m)
			if err := m.Validate(); err == nil {
				t.Error("invalid model accepted")
			}
		})
	}
	m := tinyModel()
	copy(m.Cov[4:], []float64{1, 1, 1, 1})
	if _, err := m.LogLikelihood(tinyObs()); !errors.Is(err, ErrDegenerate) {
		t.Errorf("singular covariance: err = %v, want ErrDegenerate", err)
	}
}

// TestStationaryDist checks the power iteration against the closed form of
// a two-state chain, π = (q, p)/(p + q) for exit probabilities p and q.
func TestStationaryDist(t *testing.T) {
	p, q := 0.03, 0.11
	got := stationaryDist([]float64{1 - p, p, q, 1 - q}, 2)
	want := []float64{q / (p + q), p / (p + q)}
	for i := range got {
		if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-13, 1e-13) {
			t.Errorf("π[%d] = %.16g, want %.16g", i, got[i], want[i])
		}
	}
	// A period-2 chain has no limit; the average of the last two iterates
	// is its stationary distribution (uniform here).
	got = stationaryDist([]float64{0, 1, 1, 0}, 2)
	if got[0] != 0.5 || got[1] != 0.5 {
		t.Errorf("periodic chain: π = %v, want [0.5 0.5]", got)
	}
}
