package vol

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// FitOptions adjusts FitGARCH. The zero value (or a nil pointer) gives
// arch's behaviour: grid starting values and standard errors.
type FitOptions struct {
	// Start, if non-nil, is the starting point (a warm start, e.g. the
	// previous fit of a refit schedule); it must pass Validate. It is moved
	// inside the feasible region first: persistence clamped to [0.05, 0.995]
	// and the ARCH share α/(α+β) to [0.001, 0.999], so a start on the
	// boundary cannot trap the optimiser there. If nil, the best of arch's
	// 16-point grid is used (see FitGARCH). If the optimisation from a
	// warm start (Start or Prev) does not converge or ends at a bound
	// (GARCHFit.AtBound), it is repeated from the grid and the better end
	// point is kept.
	Start *GARCH
	// Prev, if non-nil and Start is nil, warm-starts from a previous fit,
	// typically of an overlapping window in a refit schedule: its estimates
	// (moved inside the feasible region as for Start) and the optimiser's
	// final curvature estimate. A fit with Prev runs the package's own BFGS,
	// which can start from that curvature (gonum/optimize's BFGS cannot):
	// measured, 7 passes over the data instead of 21 with gonum for a refit
	// 63 bars later on 3,000 daily returns. A Prev fitted without Prev (by
	// gonum) carries no curvature; the refit then starts from the Hessian
	// at its starting point, by finite differences of the gradient (5
	// passes), and returns curvature for the next refit.
	Prev *GARCHFit
	// NoStdErr skips the standard errors (StdErr and RobustStdErr are NaN),
	// saving about 10 passes over the data.
	NoStdErr bool
	// MaxIterations caps the optimiser's major iterations; 0 means 500.
	MaxIterations int
}

// GARCHFit is the result of FitGARCH.
type GARCHFit struct {
	Params GARCH // maximum-likelihood estimates

	// StdErr holds the classic standard errors, the square roots of the
	// diagonal of the inverse of the negated numerical Hessian of the
	// log-likelihood (arch's cov_type="classic"). NaN if not computed or if
	// the Hessian is not negative definite (typical at a boundary).
	StdErr GARCH
	// RobustStdErr holds Bollerslev–Wooldridge sandwich standard errors,
	// H⁻¹ (Σ_t s_t s_tᵀ) H⁻¹ with analytic per-observation scores s_t
	// (arch's default cov_type="robust", which uses np.cov of the scores:
	// that differs by the O(1/n) centring and n−1 factor). NaN like StdErr.
	RobustStdErr GARCH

	LogLikelihood float64 // maximised log-likelihood
	Backcast      float64 // backcast used for σ²_0, from residuals about the sample mean
	NObs          int     // number of returns fitted
	LastVariance  float64 // σ²_{n−1}: conditional variance of the last return, percent²
	NextVariance  float64 // σ²_n: one-step-ahead forecast for the next return, percent²

	// Converged reports that the optimiser stopped on its gradient
	// (‖∇f‖∞ < 1e-9 in the optimiser's coordinates, f = −ℓ/n) or
	// function-change criterion. A fit that did not converge still holds
	// the best feasible point found.
	Converged bool
	// Status says why the optimiser stopped ("gradient threshold",
	// "function convergence", "iteration limit", "line search failed").
	Status      string
	Iterations  int // optimiser major iterations
	Evaluations int // likelihood passes over the data by the optimiser (the starting grid and standard errors not counted)

	// NearUnitRoot reports α+β > 1 − UnitRootTol: the data look integrated
	// (IGARCH-like). The estimates are the best feasible point; the
	// long-run variance and long-horizon forecasts are unreliable and the
	// standard errors, computed at the edge of the parameter space, are not
	// valid.
	NearUnitRoot bool
	// AtBound reports that some constraint is nearly active: NearUnitRoot,
	// α or β below BoundTol, or ω within a factor 100 of its floor
	// OmegaFloor·v (variance decaying over the sample).
	AtBound bool

	hinv []float64   // own BFGS's final inverse Hessian in its coordinates, for FitOptions.Prev; nil after gonum
	opt  optimiserID // optimiser that produced the estimate
}

// optimiserID selects the minimiser of a fit.
type optimiserID int

const (
	optAuto  optimiserID = iota // gonum, or the own BFGS for refits (FitOptions.Prev)
	optGonum                    // gonum/optimize's BFGS (minimiseGonum), the reference
	optBFGS                     // the package's own BFGS (minimise), the fast path for refits
)

// UnitRootTol is the distance of α+β from 1 below which a fit is flagged
// NearUnitRoot. 1e-3 is below the sampling error of the persistence for
// any realistic sample (its standard error is ~1e-3 even at n = 20,000), so
// a flagged fit is statistically indistinguishable from IGARCH.
const UnitRootTol = 1e-3

// BoundTol is the value of α or β below which a fit is flagged AtBound.
const BoundTol = 1e-5

// VarianceForecast returns the h-step-ahead variance forecast from the end
// of the fitted sample (h = 1 is NextVariance); see GARCH.Forecast.
func (f *GARCHFit) VarianceForecast(h int) float64 {
	return f.Params.Forecast(f.NextVariance, h)
}

// FitGARCH fits a constant-mean GARCH(1,1) with normal errors to the
// returns r by maximum likelihood, following Python's arch package
// (arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal")).
// By convention r holds returns in percent; the model is scale-equivariant,
// so any unit works, but arch's conventions and the magnitudes quoted in
// the docs assume percent.
//
// As in arch: the backcast (see Backcast) is computed once from the
// residuals about the sample mean and held fixed; the starting point is the
// best log-likelihood on the grid α ∈ {0.01, 0.05, 0.1, 0.2} ×
// α+β ∈ {0.5, 0.7, 0.9, 0.98} with ω = (1−α−β)·v, μ = sample mean (v is the
// mean squared residual); the likelihood is that of LogLikelihood.
//
// Unlike arch (SLSQP with bounds and the linear constraint α+β ≤ 1), the
// constraints ω > 0, α ≥ 0, β ≥ 0, α+β < 1 are enforced by a smooth
// reparameterisation and the unconstrained problem is solved by
// gonum/optimize's BFGS with the analytic gradient — or, for refits with
// FitOptions.Prev, by the package's own BFGS, which reaches the same
// optimum faster from the previous fit's curvature (see the package
// documentation). ω's lower bound OmegaFloor·v is arch's:
//
//	μ = m + x₀·√v,  ω = v·(OmegaFloor + e^{x₁}),  α+β = logistic(x₂),  α/(α+β) = logistic(x₃).
//
// Every iterate is feasible, and data whose likelihood increases towards
// α+β = 1 drive x₂ upwards until the gradient vanishes: the fit then
// returns the best feasible point with NearUnitRoot set instead of failing.
// arch also does not apply its variance bounds here (it clips σ²_t to
// [EWMA/1e6, EWMA·1e6]-based limits, which only bind at pathological
// parameters).
//
// Errors: ErrTooShort (fewer than MinObs returns), ErrNonFinite,
// ErrConstant, or a failure to evaluate the likelihood at every starting
// point. Non-convergence is not an error: see GARCHFit.Converged.
func FitGARCH(r []float64, opt *FitOptions) (*GARCHFit, error) {
	return fitGARCH(r, opt, optAuto)
}

// fitGARCH is FitGARCH with a choice of optimiser; the tests force each.
func fitGARCH(r []float64, opt *FitOptions, which optimiserID) (*GARCHFit, error) {
	if opt == nil {
		opt = &FitOptions{}
	}
	mean, v, err := checkSeries(r)
	if err != nil {
		return nil, err
	}
	n := float64(len(r))
	resid := make([]float64, min(BackcastLen, len(r)))
	for t := range resid {
		resid[t] = r[t] - mean
	}
	bc := Backcast(resid)
	rp := reparam{mean: mean, sd: math.Sqrt(v), v: v}

	// Starting point.
	grid := func() []float64 {
		var x []float64
		best := math.Inf(-1)
		for _, a := range [...]float64{0.01, 0.05, 0.1, 0.2} {
			for _, p := range [...]float64{0.5, 0.7, 0.9, 0.98} {
				g := GARCH{Mu: mean, Omega: (1 - p) * v, Alpha: a, Beta: p - a}
				if ll := g.LogLikelihood(r, bc); ll > best {
					best, x = ll, rp.toX(g)
				}
			}
		}
		return x
	}
	var x0, h0 []float64
	start := opt.Start
	if start == nil && opt.Prev != nil {
		start = &opt.Prev.Params
		h0 = opt.Prev.hinv
	}
	if start != nil {
		if err := start.Validate(); err != nil {
			return nil, fmt.Errorf("vol: start: %w", err)
		}
		s := *start
		p := clamp(s.Persistence(), 0.05, 0.995)
		share := 0.5
		if s.Alpha+s.Beta > 0 {
			share = s.Alpha / (s.Alpha + s.Beta)
		}
		share = clamp(share, 0.001, 0.999)
		s.Alpha, s.Beta = p*share, p*(1-share)
		x0 = rp.toX(s)
	} else {
		x0 = grid()
	}
	if x0 == nil {
		return nil, fmt.Errorf("vol: garch log-likelihood is not finite at any starting point (%d returns, variance %v)", len(r), v)
	}

	// Minimise f(x) = −ℓ(θ(x))/n: O(1) in size whatever n is.
	objective := func(x, grad []float64) float64 {
		g, jac := rp.fromX(x)
		var gl [4]float64
		ll := g.pass(r, bc, &gl, nil)
		if math.IsNaN(ll) {
			return math.Inf(1)
		}
		// ∂f/∂x = −Jᵀ ∂ℓ/∂θ / n, J = ∂θ/∂x (row = θ index).
		for j := range 4 {
			var s float64
			for i := range 4 {
				s += jac[i][j] * gl[i]
			}
			grad[j] = -s / n
		}
		return -ll / n
	}
	maxIter := opt.MaxIterations
	if maxIter <= 0 {
		maxIter = 500
	}
	if which == optAuto {
		which = optGonum
		if opt.Prev != nil {
			which = optBFGS
		}
	}
	// Each x coordinate is O(1) at realistic parameters and f is a mean per
	// observation, so ‖∇f‖∞ < 1e-9 pins the parameters to ~1e-8 relative,
	// far inside their sampling error.
	const gtol = 1e-9
	run := func(x0, h0 []float64) minResult {
		if which == optBFGS {
			return minimise(objective, x0, h0, gtol, maxIter)
		}
		return minimiseGonum(objective, x0, gtol, maxIter)
	}
	curvaturePasses := 0
	if which == optBFGS && start != nil && h0 == nil {
		// A warm start without curvature (a Prev fitted by gonum, or a
		// forced own-BFGS fit from Start): from the identity the own BFGS
		// spends about as many passes as a cold fit rebuilding it
		// (measured 19–26), while the Hessian at the start costs 5 and the
		// fit from it 3–8.
		h0 = inverseHessian(objective, x0)
		curvaturePasses = len(x0) + 1
	}
	res := run(x0, h0)
	res.evals += curvaturePasses
	if start != nil && (!res.status.converged() || rp.atBound(res.x)) {
		// A warm start that fails to converge, or converges to a
		// constraint, gets a second chance from the grid and the better
		// end point wins: boundary solutions are where the likelihood of
		// short or weakly dependent samples has several local maxima, and
		// a refit chain could otherwise carry an inferior one forward.
		if xg := grid(); xg != nil {
			if again := run(xg, nil); again.f < res.f || !finite(res.f) {
				again.iters += res.iters
				again.evals += res.evals
				res = again
			}
		}
	}
	params, _ := rp.fromX(res.x)

	fit := &GARCHFit{
		Params:      params,
		Backcast:    bc,
		NObs:        len(r),
		Iterations:  res.iters,
		Evaluations: res.evals,
		Status:      res.status.String(),
		Converged:   res.status.converged(),
		hinv:        res.h,
		opt:         which,
	}
	fit.LogLikelihood = params.LogLikelihood(r, bc)
	fit.LastVariance = params.FilterTo(nil, r[:len(r)-1], bc) // σ²_{n−1}: the forecast after n−1 returns
	e := r[len(r)-1] - params.Mu
	fit.NextVariance = params.Omega + params.Alpha*e*e + params.Beta*fit.LastVariance
	fit.NearUnitRoot = 1-params.Alpha-params.Beta < UnitRootTol
	fit.AtBound = rp.atBound(res.x)

	nan := GARCH{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	fit.StdErr, fit.RobustStdErr = nan, nan
	if !opt.NoStdErr {
		fit.StdErr, fit.RobustStdErr = stdErrors(params, r, bc, v)
	}
	return fit, nil
}

// inverseHessian returns the inverse of the Hessian of the objective at x
// (row-major), or nil if it is not finite and positive definite (far from
// a minimum). The Hessian is the forward-difference Jacobian of the
// analytic gradient (gonum diff/fd, step 1e-6 in the O(1) coordinates:
// truncation ~1e-6 and rounding ~1e-15/1e-6 = 1e-9 relative, ample for an
// optimiser's starting curvature), symmetrised; it costs len(x)+1 passes.
func inverseHessian(objective func(x, grad []float64) float64, x []float64) []float64 {
	n := len(x)
	jac := mat.NewDense(n, n, nil)
	grad := func(y, x []float64) { objective(x, y) }
	fd.Jacobian(jac, grad, x, &fd.JacobianSettings{Formula: fd.Forward, Step: 1e-6})
	h := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := 0.5 * (jac.At(i, j) + jac.At(j, i))
			if !finite(v) {
				return nil
			}
			h.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		return nil
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil
	}
	out := make([]float64, n*n)
	for i := range n {
		for j := range n {
			out[i*n+j] = inv.At(i, j)
		}
	}
	return out
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// reparam maps the unconstrained optimiser coordinates x to GARCH
// parameters; see FitGARCH.
type reparam struct {
	mean, sd, v float64
}

// OmegaFloor is the lower bound of ω relative to the sample variance v of
// the returns fitted: ω ≥ OmegaFloor·v, arch's lower bound for ω. Data
// whose variance decays over the sample push ω down to it.
const OmegaFloor = 1e-8

func (rp reparam) toX(g GARCH) []float64 {
	p := g.Alpha + g.Beta
	w := math.Max(g.Omega/rp.v-OmegaFloor, OmegaFloor)
	return []float64{(g.Mu - rp.mean) / rp.sd, math.Log(w), logit(p), logit(g.Alpha / p)}
}

// atBound reports whether the parameters at x are near a constraint: see
// GARCHFit.AtBound.
func (rp reparam) atBound(x []float64) bool {
	g, _ := rp.fromX(x)
	return 1-g.Alpha-g.Beta < UnitRootTol || g.Alpha < BoundTol || g.Beta < BoundTol || g.Omega < 100*OmegaFloor*rp.v
}

// fromX returns the parameters at x and the Jacobian ∂(μ,ω,α,β)/∂x.
func (rp reparam) fromX(x []float64) (GARCH, [4][4]float64) {
	ew := rp.v * math.Exp(x[1])
	omega := rp.v*OmegaFloor + ew
	p, a := logistic(x[2]), logistic(x[3])
	dp, da := p*logistic(-x[2]), a*logistic(-x[3]) // p(1−p), a(1−a) without cancellation
	g := GARCH{Mu: rp.mean + rp.sd*x[0], Omega: omega, Alpha: p * a, Beta: p * (1 - a)}
	var j [4][4]float64
	j[0][0] = rp.sd
	j[1][1] = ew
	j[2][2], j[2][3] = a*dp, p*da
	j[3][2], j[3][3] = (1-a)*dp, -p*da
	return g, j
}

// stdErrors returns classic and robust standard errors at θ. The Hessian
// is the central-difference Jacobian of the analytic gradient (gonum
// diff/fd), taken in coordinates scaled by each parameter's magnitude so one
// relative step suits all four; the scores' outer product comes from the
// same analytic pass.
func stdErrors(g GARCH, r []float64, bc, v float64) (classic, robust GARCH) {
	nan := GARCH{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	theta := [4]float64{g.Mu, g.Omega, g.Alpha, g.Beta}
	floor := [4]float64{0.01 * math.Sqrt(v), 1e-6 * v, 1e-4, 1e-4}
	var scale [4]float64
	for i := range scale {
		scale[i] = math.Max(math.Abs(theta[i]), floor[i])
	}
	gradZ := func(y, z []float64) {
		p := GARCH{theta[0] + scale[0]*z[0], theta[1] + scale[1]*z[1], theta[2] + scale[2]*z[2], theta[3] + scale[3]*z[3]}
		var gl [4]float64
		if math.IsNaN(p.pass(r, bc, &gl, nil)) {
			for i := range y {
				y[i] = math.NaN()
			}
			return
		}
		for i := range y {
			y[i] = gl[i] * scale[i]
		}
	}
	jz := mat.NewDense(4, 4, nil)
	fd.Jacobian(jz, gradZ, make([]float64, 4), &fd.JacobianSettings{Formula: fd.Central})
	neg := mat.NewSymDense(4, nil)
	for i := range 4 {
		for j := i; j < 4; j++ {
			h := 0.5 * (jz.At(i, j) + jz.At(j, i)) / (scale[i] * scale[j])
			if math.IsNaN(h) || math.IsInf(h, 0) {
				return nan, nan
			}
			neg.SetSym(i, j, -h)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(neg) {
		return nan, nan
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		return nan, nan
	}
	var opg [16]float64
	g.pass(r, bc, nil, &opg)
	var tmp, rob mat.Dense
	tmp.Mul(&cov, mat.NewDense(4, 4, opg[:]))
	rob.Mul(&tmp, &cov)
	se := func(i int, m mat.Matrix) float64 {
		d := m.At(i, i)
		if !(d >= 0) {
			return math.NaN()
		}
		return math.Sqrt(d)
	}
	classic = GARCH{se(0, &cov), se(1, &cov), se(2, &cov), se(3, &cov)}
	robust = GARCH{se(0, &rob), se(1, &rob), se(2, &rob), se(3, &rob)}
	return classic, robust
}
