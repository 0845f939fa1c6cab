package vol

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// GARCH holds the parameters of a constant-mean GARCH(1,1) model with
// normal errors, in the units of the returns it describes (percent by the
// package convention, so Omega is in percent², Alpha and Beta are unitless):
//
//	r_t = Mu + ε_t,   ε_t = σ_t z_t,   z_t ~ N(0, 1)
//	σ²_t = Omega + Alpha·ε²_{t−1} + Beta·σ²_{t−1}
//
// The parameter names and order (mu, omega, alpha[1], beta[1]) are those of
// Python's arch package.
type GARCH struct {
	Mu    float64 // mean return per bar, percent
	Omega float64 // variance intercept, percent², > 0
	Alpha float64 // ARCH coefficient (reaction to the last squared shock), ≥ 0
	Beta  float64 // GARCH coefficient (variance memory), ≥ 0
}

// Persistence returns Alpha + Beta, the rate at which a variance shock
// decays per bar. The process is covariance-stationary iff it is below 1.
func (g GARCH) Persistence() float64 { return g.Alpha + g.Beta }

// LongRunVariance returns the unconditional variance ω̄ = ω/(1−α−β), or +Inf
// when Alpha + Beta ≥ 1.
func (g GARCH) LongRunVariance() float64 {
	q := 1 - g.Alpha - g.Beta
	if q <= 0 {
		return math.Inf(1)
	}
	return g.Omega / q
}

// Validate reports whether g can drive the variance recursion: every field
// finite, Omega > 0, Alpha ≥ 0, Beta ≥ 0. Persistence ≥ 1 is allowed
// (IGARCH-like filtering and forecasting are well defined); stationarity is
// a property of a fit, reported by GARCHFit.NearUnitRoot.
func (g GARCH) Validate() error {
	for _, x := range [...]float64{g.Mu, g.Omega, g.Alpha, g.Beta} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("vol: garch parameters %+v are not finite", g)
		}
	}
	if g.Omega <= 0 || g.Alpha < 0 || g.Beta < 0 {
		return fmt.Errorf("vol: garch parameters %+v need omega > 0, alpha ≥ 0, beta ≥ 0", g)
	}
	return nil
}

// BackcastLen is the maximal number of leading residuals that Backcast
// averages, as in arch (τ = min(75, n)).
const BackcastLen = 75

// BackcastDecay is the geometric weight decay of Backcast, as in arch.
const BackcastDecay = 0.94

// Backcast returns arch's initial variance for a residual series e:
//
//	b = Σ_{k<τ} w_k e²_k,   w_k = 0.94^k / Σ_{j<τ} 0.94^j,   τ = min(75, len(e))
//
// This is arch's VolatilityProcess.backcast (GARCH.backcast with power 2):
// the first residuals, the earliest weighted most. It reads e_0..e_{τ−1},
// so a variance series started from it depends on the first τ residuals;
// causal users start their series after those bars or use residuals they
// already know. It returns NaN for an empty e.
func Backcast(e []float64) float64 {
	tau := min(BackcastLen, len(e))
	if tau == 0 {
		return math.NaN()
	}
	var num, den float64
	w := 1.0
	for k := 0; k < tau; k++ {
		num += w * e[k] * e[k]
		den += w
		w *= BackcastDecay
	}
	return num / den
}

// FilterTo writes the conditional variances σ²_0..σ²_{n−1} of the returns
// r (n of them) into dst and returns the next-bar variance σ²_n, the
// one-step-ahead forecast made after the last return. The recursion is
// arch's: σ²_0 = ω + (α+β)·backcast, then σ²_t = ω + α ε²_{t−1} + β σ²_{t−1}
// with ε_t = r_t − μ. σ²_t uses returns before t only. dst may be nil, in
// which case only the forecast is computed; otherwise it must have length
// len(r). g must pass Validate; that is not checked here.
func (g GARCH) FilterTo(dst, r []float64, backcast float64) float64 {
	if dst != nil && len(dst) != len(r) {
		panic("vol: FilterTo destination length mismatch")
	}
	mu, w, a, b := g.Mu, g.Omega, g.Alpha, g.Beta
	s2 := w + (a+b)*backcast
	for t, rt := range r {
		if dst != nil {
			dst[t] = s2
		}
		e := rt - mu
		s2 = w + a*e*e + b*s2
	}
	return s2
}

// log2Pi is log(2π).
const log2Pi = 1.8378770664093454835606594728112352797227949472755668

// LogLikelihood returns the Gaussian log-likelihood of the returns r under
// g with the given backcast: −½ Σ_t (log 2π + log σ²_t + ε²_t/σ²_t).
// It returns NaN if a variance is not positive.
func (g GARCH) LogLikelihood(r []float64, backcast float64) float64 {
	return g.pass(r, backcast, nil, nil)
}

// pass runs the variance recursion once and returns the log-likelihood; if
// grad is non-nil it receives ∂ℓ/∂(μ, ω, α, β); if opg is non-nil it
// receives the outer product of the per-observation scores, Σ_t s_t s_tᵀ,
// row-major 4×4.
//
// The derivatives follow from differentiating the recursion (the backcast
// is a constant, as in arch, where it is computed once from the residuals
// about the sample mean before optimisation):
//
//	∂σ²_0/∂(μ,ω,α,β) = (0, 1, b, b)
//	∂σ²_t/∂μ = −2α ε_{t−1} + β ∂σ²_{t−1}/∂μ
//	∂σ²_t/∂ω = 1 + β ∂σ²_{t−1}/∂ω
//	∂σ²_t/∂α = ε²_{t−1} + β ∂σ²_{t−1}/∂α
//	∂σ²_t/∂β = σ²_{t−1} + β ∂σ²_{t−1}/∂β
//	∂ℓ_t/∂θ = ½ (ε²_t/σ²_t − 1)/σ²_t · ∂σ²_t/∂θ + [θ = μ] ε_t/σ²_t
func (g GARCH) pass(r []float64, backcast float64, grad *[4]float64, opg *[16]float64) float64 {
	mu, w, a, b := g.Mu, g.Omega, g.Alpha, g.Beta
	s2 := w + (a+b)*backcast
	dm, dw, da, db := 0.0, 1.0, backcast, backcast
	var z2, g0, g1, g2, g3 float64
	var ePrev float64
	// Σ log σ²_t is accumulated as the log of products of logBlock
	// variances: one math.Log per block instead of per bar (the log was
	// three quarters of the cost of a pass). logSum falls back to one log
	// per variance when a product leaves the safe range.
	var blk logBlock
	for t, rt := range r {
		if t > 0 {
			e2 := ePrev * ePrev
			dm = -2*a*ePrev + b*dm
			dw = 1 + b*dw
			da = e2 + b*da
			db = s2 + b*db
			s2 = w + a*e2 + b*s2
		}
		e := rt - mu
		ePrev = e
		if !(s2 > 0) {
			return math.NaN()
		}
		blk.add(s2)
		inv := 1 / s2
		z := e * e * inv
		z2 += z
		if grad == nil && opg == nil {
			continue
		}
		c := 0.5 * inv * (z - 1)
		s0, s1, sa, sb := c*dm+e*inv, c*dw, c*da, c*db
		g0 += s0
		g1 += s1
		g2 += sa
		g3 += sb
		if opg != nil {
			s := [4]float64{s0, s1, sa, sb}
			for i := range 4 {
				for j := range 4 {
					opg[i*4+j] += s[i] * s[j]
				}
			}
		}
	}
	if grad != nil {
		*grad = [4]float64{g0, g1, g2, g3}
	}
	return -0.5 * (float64(len(r))*log2Pi + blk.sum() + z2)
}

// logBlock accumulates Σ log x for positive x with one math.Log per
// logBlockLen values. The product of logBlockLen values is formed only
// while it stays within [2⁻⁹⁰⁰, 2⁹⁰⁰], so it can neither overflow nor
// lose precision to underflow; the rounding error of the product is at most
// logBlockLen ulps, i.e. an absolute error of ~2e-15 in its log, the same
// order as summing individual logs.
type logBlock struct {
	vals  [logBlockLen]float64
	n     int
	total float64
}

const logBlockLen = 16

func (l *logBlock) add(x float64) {
	l.vals[l.n] = x
	l.n++
	if l.n == logBlockLen {
		l.flush()
	}
}

func (l *logBlock) flush() {
	const lo, hi = 0x1p-900, 0x1p900
	p := 1.0
	ok := true
	for _, x := range l.vals[:l.n] {
		p *= x
		if !(p > lo && p < hi) {
			ok = false
			break
		}
	}
	if ok {
		l.total += math.Log(p)
	} else {
		for _, x := range l.vals[:l.n] {
			l.total += math.Log(x)
		}
	}
	l.n = 0
}

func (l *logBlock) sum() float64 {
	l.flush()
	return l.total
}

// Forecast returns the h-step-ahead variance forecast σ²_{n+h−1} given the
// one-step forecast next = σ²_n (h = 1 returns next):
//
//	σ²_{n+h−1} = ω̄ + (α+β)^{h−1} (σ²_n − ω̄),   ω̄ = ω/(1−α−β),
//
// evaluated in the algebraically equal form (α+β)^{h−1} σ²_n +
// ω Σ_{j<h−1} (α+β)^j, which stays finite and accurate as α+β → 1 (where it
// tends to σ²_n + (h−1)ω) and for α+β ≥ 1. It panics if h < 1.
func (g GARCH) Forecast(next float64, h int) float64 {
	if h < 1 {
		panic("vol: forecast horizon must be at least 1")
	}
	p := g.Persistence()
	m := float64(h - 1)
	return math.Pow(p, m)*next + g.Omega*geomSum(p, m)
}

// geomSum returns Σ_{j<m} p^j for p ≥ 0 without cancellation near p = 1.
func geomSum(p, m float64) float64 {
	q := 1 - p
	switch {
	case m == 0:
		return 0
	case q == 0:
		return m
	case math.Abs(q) < 0.5:
		return -math.Expm1(m*math.Log1p(-q)) / q
	default:
		return (1 - math.Pow(p, m)) / q
	}
}

// ForecastTo writes the 1..len(dst)-step-ahead variance forecasts into dst
// (dst[h−1] is the h-step forecast, see Forecast) and returns dst.
func (g GARCH) ForecastTo(dst []float64, next float64) []float64 {
	p := g.Persistence()
	s2 := next
	for h := range dst {
		dst[h] = s2
		s2 = g.Omega + p*s2
	}
	return dst
}

// SimulateTo fills dst with returns simulated from g, starting from the
// variance s2 for dst[0], and returns the variance of the next return.
// Shocks are standard normal draws from rng.
func (g GARCH) SimulateTo(dst []float64, rng *rand.Rand, s2 float64) float64 {
	for t := range dst {
		e := math.Sqrt(s2) * rng.NormFloat64()
		dst[t] = g.Mu + e
		s2 = g.Omega + g.Alpha*e*e + g.Beta*s2
	}
	return s2
}

// Errors returned for data that cannot be fitted.
var (
	// ErrTooShort is returned when a series has fewer than MinObs returns.
	ErrTooShort = errors.New("vol: too few returns")
	// ErrNonFinite is returned when a series holds NaN or ±Inf.
	ErrNonFinite = errors.New("vol: non-finite return")
	// ErrConstant is returned when a series has zero variance.
	ErrConstant = errors.New("vol: returns have zero variance")
)

// MinObs is the smallest number of returns FitGARCH accepts. It is the
// floor below which the fit is refused outright; sensible estimates need
// hundreds of returns.
const MinObs = 10

// checkSeries validates r and returns its mean and population variance
// (mean squared deviation, arch's np.mean(resids**2) about the sample mean).
func checkSeries(r []float64) (mean, variance float64, err error) {
	if len(r) < MinObs {
		return 0, 0, fmt.Errorf("%w: %d, need at least %d", ErrTooShort, len(r), MinObs)
	}
	for t, x := range r {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, 0, fmt.Errorf("%w: %v at index %d", ErrNonFinite, x, t)
		}
		mean += x
	}
	mean /= float64(len(r))
	for _, x := range r {
		d := x - mean
		variance += d * d
	}
	variance /= float64(len(r))
	// A constant series leaves rounding noise of order (n·ε·|mean|)² in
	// the variance; any real return series has a spread far above 1e-12 of
	// its largest magnitude.
	var big float64
	for _, x := range r {
		big = math.Max(big, math.Abs(x))
	}
	if !(variance > 1e-24*big*big) || math.IsInf(variance, 0) {
		return 0, 0, fmt.Errorf("%w (%d returns, variance %v)", ErrConstant, len(r), variance)
	}
	return mean, variance, nil
}
