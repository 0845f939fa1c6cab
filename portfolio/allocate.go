package portfolio

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/optim"
	"github.com/folio-rl/folio/risk"
)

// Allocation methods, the values of Allocate's method argument.
const (
	EqualWeight     = "equal-weight"     // 1/N
	InverseVol      = "inverse-vol"      // wᵢ ∝ 1/σᵢ
	RiskParity      = "risk-parity"      // equal risk contributions
	RiskBudget      = "risk-budget"      // risk contributions equal Options.Budgets
	MinVariance     = "min-variance"     // minimise wᵀΣw
	MeanVariance    = "mean-variance"    // maximise μᵀw − λ/2·wᵀΣw
	MaxSharpe       = "max-sharpe"       // maximise (μ − rf)ᵀw / √(wᵀΣw)
	EfficientReturn = "efficient-return" // minimise wᵀΣw s.t. μᵀw ≥ Options.TargetReturn
	HRP             = "hrp"              // hierarchical risk parity
	BlackLitterman  = "black-litterman"  // mean-variance on the Black–Litterman posterior

	// MaxReturn and MarketWeights are not methods of their own but
	// fallbacks that appear in Result.Used: the maximum-return portfolio
	// (efficient-return with a target above the largest feasible return)
	// and the Black–Litterman prior (when the posterior allocation fails).
	MaxReturn     = "max-return"
	MarketWeights = "market-weights"
)

// Methods returns the allocation method names accepted by Allocate.
func Methods() []string {
	return []string{EqualWeight, InverseVol, RiskParity, RiskBudget, MinVariance,
		MeanVariance, MaxSharpe, EfficientReturn, HRP, BlackLitterman}
}

// Covariance estimators, the values of Inputs.Estimator. See package risk
// for their definitions and normalisations.
const (
	CovSample     = "sample"         // risk.SampleCov, 1/(T−1)
	CovLedoitWolf = "ledoit-wolf"    // risk.LedoitWolf, scaled-identity target
	CovLWConstCor = "ledoit-wolf-cc" // risk.LedoitWolf, constant-correlation target
	CovOAS        = "oas"            // risk.OAS
	CovEWMA       = "ewma"           // risk.EWMACov with Inputs.EWMALambda
	CovGARCH      = "garch"          // risk.GARCHCov
)

// Estimators returns the covariance estimator names accepted in Inputs.
func Estimators() []string {
	return []string{CovSample, CovLedoitWolf, CovLWConstCor, CovOAS, CovEWMA, CovGARCH}
}

// Mean estimators, the values of Inputs.MeanEstimator.
const (
	MeanSample     = "sample"      // risk.Mean
	MeanJamesStein = "james-stein" // risk.JamesSteinMean
)

// Inputs are the market estimates an allocation uses. Either give Mu and
// Cov directly or give Returns and let them be estimated; a given Mu or Cov
// always wins over an estimate. All quantities are per bar, in the units
// of simple returns (0.01 = 1%).
type Inputs struct {
	// Mu are the expected returns, length N, or nil to estimate them from
	// Returns with MeanEstimator (needed by mean-variance, max-sharpe and
	// efficient-return; used by every method to report Result.ExpReturn).
	Mu []float64
	// Cov is the N×N covariance, or nil to estimate it from Returns with
	// Estimator. It must be symmetric positive semidefinite; the QP solver
	// copes with a singular one.
	Cov mat.Symmetric
	// Returns is a T×N matrix of simple returns, oldest bar first. Choosing a
	// causal window is the caller's job: every row is used.
	Returns mat.Matrix
	// Estimator names the covariance estimator: sample (default when
	// empty), ledoit-wolf, ledoit-wolf-cc, oas, ewma or garch.
	Estimator string
	// MeanEstimator names the mean estimator: sample (default) or
	// james-stein.
	MeanEstimator string
	// EWMALambda is the decay of the ewma estimator; 0 means 0.94.
	EWMALambda float64
	// N is the number of assets, needed only for equal-weight when neither
	// Mu, Cov nor Returns is given; otherwise it may be 0 or must agree.
	N int
}

// Options are the constraints and preferences of an allocation. The zero
// value is long-only and fully invested with no cap.
type Options struct {
	// MaxWeight caps every weight: 0 ≤ wᵢ ≤ MaxWeight. Zero (or ≥ 1) means
	// no cap beyond 1. N·MaxWeight must be at least 1. The QP methods take
	// it as a constraint; risk-parity and risk-budget solve the constrained
	// risk-budgeting problem of Richard and Roncalli (2019), in which the
	// uncapped assets keep risk contributions in proportion to their
	// budgets (θbᵢ, θ ≥ 1) and the capped ones contribute at most θbᵢ;
	// inverse-vol, hrp and the Black–Litterman market weights, rules rather
	// than optimisations, are capped afterwards and the excess handed to the
	// uncapped assets in proportion to their weights.
	MaxWeight float64
	// RiskAversion is λ of mean-variance, which maximises μᵀw − λ/2·wᵀΣw
	// (so λ is the marginal price of variance, the convention of
	// Black–Litterman's δ). Zero means 1.
	RiskAversion float64
	// Budgets are the risk budgets of risk-budget: non-negative, length N,
	// summing to 1.
	Budgets []float64
	// TargetReturn is the per-bar expected return efficient-return must
	// reach.
	TargetReturn float64
	// RiskFree is the per-bar risk-free rate of max-sharpe.
	RiskFree float64
	// BL holds the Black–Litterman inputs; nil means no views, equal market
	// weights and the defaults of BLOptions.
	BL *BLOptions
}

// Result is an allocation. Weights are always valid: length N, finite,
// non-negative, at most the cap (up to 1e-12) and summing to 1 (to 1e-14).
type Result struct {
	Method string // the method requested
	Used   string // the method that produced Weights (differs after a fallback)

	Weights []float64
	// ExpReturn is μᵀw per bar with the μ of the inputs (the posterior μ for
	// black-litterman), or 0 when no expected returns were given or
	// estimable (a note says so).
	ExpReturn float64
	// Vol is √(wᵀΣw) per bar, with the covariance the method used.
	Vol float64
	// RiskContrib are the risk contributions wᵢ(Σw)ᵢ/wᵀΣw, fractions
	// summing to 1 (equal to the weights when wᵀΣw = 0).
	RiskContrib []float64

	// Fallback is empty when the requested method produced the weights;
	// otherwise it describes the chain taken, e.g.
	// "max-sharpe → min-variance: all expected excess returns are ≤ 0".
	Fallback string
	// KKT are the residuals of the QP solve that produced the weights (for
	// max-sharpe those of the homogenised problem, in y = w/(μ−rf)ᵀw), or
	// for risk-parity and risk-budget those of the (constrained)
	// risk-budgeting conditions in units of risk contributions (see
	// optim.RiskBudgetResult); zero for the rules. RCError is the
	// risk-contribution residual of risk-parity and risk-budget:
	// max_i |RCᵢ − bᵢ| when no cap binds, and with binding caps the largest
	// of |RCᵢ − θbᵢ| over the uncapped assets and (RCᵢ − θbᵢ)₊ over the
	// capped ones, θ being the common ratio the note reports. Iterations
	// counts the solver's iterations (QP active-set steps or Newton
	// iterations).
	KKT        optim.KKT
	RCError    float64
	Iterations int
	// Notes records every decision worth knowing: estimators and their
	// shrinkage, caps applied, ridges added, each fallback and why.
	Notes []string
}

// ErrInput is wrapped by every error Allocate returns: only invalid input
// (unknown names, mismatched dimensions, non-finite values, impossible
// options, missing data a method needs) is an error. Numerical trouble is
// handled by fallbacks.
var ErrInput = errors.New("portfolio: invalid input")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}

// fallbacks lists the methods tried, in order, after method fails. A
// method fails when its solver returns an error, it is undefined for the
// data (for instance max-sharpe with no positive excess return) or its
// weights are not finite. equal-weight cannot fail. ok is false for an
// unknown method.
func fallbacks(method string) (chain []string, ok bool) {
	switch method {
	case EqualWeight:
		return nil, true
	case InverseVol:
		return []string{EqualWeight}, true
	case RiskParity, RiskBudget, MinVariance, HRP:
		return []string{InverseVol, EqualWeight}, true
	case MeanVariance, MaxSharpe, EfficientReturn, BlackLitterman:
		return []string{MinVariance, InverseVol, EqualWeight}, true
	}
	return nil, false
}

// Allocate computes long-only, fully invested weights with the named
// method (see Methods). It returns an error only for invalid input; when a
// method fails numerically or is undefined for the data it falls back
// along a fixed chain, recorded in Result.Fallback and Result.Notes:
//
//	max-sharpe, mean-variance, black-litterman → min-variance → inverse-vol → equal-weight
//	efficient-return (target above the largest feasible return) → max-return
//	efficient-return (solver failure) → min-variance → inverse-vol → equal-weight
//	min-variance, risk-parity, risk-budget, hrp → inverse-vol → equal-weight
//	inverse-vol → equal-weight
//
// black-litterman first falls back to its prior, the market weights, when
// the posterior cannot be formed or optimised. risk-parity and
// risk-budget treat the cap as a constraint of the risk-budgeting problem
// (see Options.MaxWeight); the rules without an optimisation (inverse-vol,
// hrp, the market weights) are capped afterwards by proportional
// redistribution, with a note.
func Allocate(method string, in Inputs, opt Options) (Result, error) {
	chain, ok := fallbacks(method)
	if !ok {
		return Result{}, inputErr("unknown method %q (known: %s)", method, strings.Join(Methods(), ", "))
	}
	a, err := newAllocator(method, in, opt)
	if err != nil {
		return Result{}, err
	}
	res := Result{Method: method}
	var trail []string
	var reasons []string
	for _, m := range append([]string{method}, chain...) {
		out, err := a.run(m)
		if err == nil {
			err = a.sanitize(&out)
		}
		if err != nil {
			a.note("%s failed: %v", m, err)
			trail = append(trail, m)
			reasons = append(reasons, err.Error())
			continue
		}
		used := m
		if out.fallback != "" {
			trail = append(trail, m)
			reasons = append(reasons, out.fallback)
			used = out.used
		}
		if len(trail) > 0 {
			res.Fallback = strings.Join(append(trail, used), " → ") + ": " + strings.Join(reasons, "; ")
		}
		a.finish(&res, used, out)
		return res, nil
	}
	// Unreachable: equal-weight cannot fail once the inputs are valid.
	panic("portfolio: every method of the fallback chain failed for " + method)
}

// allocator holds the validated inputs of one Allocate call.
type allocator struct {
	method string
	n      int
	mu     []float64     // nil when unknown
	cov    *mat.SymDense // nil when not needed and not given
	wmax   float64       // ≤ 1
	lambda float64
	opt    Options
	bl     BLOptions
	qp     optim.QPSolver
	notes  []string
}

// outcome is what one method produced.
type outcome struct {
	w        []float64
	kkt      optim.KKT
	rcErr    float64
	iter     int
	mu       []float64     // μ for ExpReturn when not a.mu (black-litterman)
	cov      *mat.SymDense // Σ for Vol and RiskContrib when not a.cov
	fallback string        // an internal fallback taken (efficient-return → max-return)
	used     string        // the method it fell back to
}

func (a *allocator) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

func needsMu(method string) bool {
	return method == MeanVariance || method == MaxSharpe || method == EfficientReturn
}

func newAllocator(method string, in Inputs, opt Options) (*allocator, error) {
	a := &allocator{method: method, opt: opt}
	// The number of assets and its consistency.
	n := in.N
	setN := func(m int, what string) error {
		if n != 0 && m != n {
			return inputErr("%s has %d assets, want %d", what, m, n)
		}
		n = m
		return nil
	}
	if in.Mu != nil {
		if err := setN(len(in.Mu), "Mu"); err != nil {
			return nil, err
		}
	}
	if in.Cov != nil {
		if err := setN(in.Cov.SymmetricDim(), "Cov"); err != nil {
			return nil, err
		}
	}
	if in.Returns != nil {
		_, c := in.Returns.Dims()
		if err := setN(c, "Returns"); err != nil {
			return nil, err
		}
	}
	if n <= 0 {
		return nil, inputErr("no assets: give Mu, Cov, Returns or N")
	}
	a.n = n

	// Options.
	switch w := opt.MaxWeight; {
	case math.IsNaN(w) || w < 0:
		return nil, inputErr("MaxWeight %v must be non-negative", w)
	case w == 0 || w >= 1:
		a.wmax = 1
	default:
		a.wmax = w
	}
	if float64(n)*a.wmax < 1-1e-12 {
		return nil, inputErr("MaxWeight %v is infeasible for %d assets (needs at least 1/N = %v)", a.wmax, n, 1/float64(n))
	}
	switch l := opt.RiskAversion; {
	case math.IsNaN(l) || math.IsInf(l, 0) || l < 0:
		return nil, inputErr("RiskAversion %v must be finite and non-negative", l)
	case l == 0:
		a.lambda = 1
	default:
		a.lambda = l
	}
	if math.IsNaN(opt.TargetReturn) || math.IsInf(opt.TargetReturn, 0) {
		return nil, inputErr("TargetReturn %v must be finite", opt.TargetReturn)
	}
	if math.IsNaN(opt.RiskFree) || math.IsInf(opt.RiskFree, 0) {
		return nil, inputErr("RiskFree %v must be finite", opt.RiskFree)
	}
	if method == RiskBudget {
		if opt.Budgets == nil {
			return nil, inputErr("risk-budget needs Options.Budgets")
		}
		if len(opt.Budgets) != n {
			return nil, inputErr("Budgets has %d entries, want %d", len(opt.Budgets), n)
		}
		sum := 0.0
		for i, b := range opt.Budgets {
			if !(b >= 0) || math.IsInf(b, 0) {
				return nil, inputErr("budget %d is %v; budgets must be finite and non-negative", i, b)
			}
			sum += b
		}
		if math.Abs(sum-1) > 1e-9 {
			return nil, inputErr("budgets sum to %v, want 1", sum)
		}
	}
	if method == BlackLitterman {
		bl, err := resolveBL(opt.BL, n)
		if err != nil {
			return nil, err
		}
		a.bl = bl
	}

	switch in.Estimator {
	case "", CovSample, CovLedoitWolf, CovLWConstCor, CovOAS, CovEWMA, CovGARCH:
	default:
		return nil, inputErr("unknown covariance estimator %q (known: %s)", in.Estimator, strings.Join(Estimators(), ", "))
	}
	switch in.MeanEstimator {
	case "", MeanSample, MeanJamesStein:
	default:
		return nil, inputErr("unknown mean estimator %q (known: %s, %s)", in.MeanEstimator, MeanSample, MeanJamesStein)
	}
	if in.EWMALambda != 0 && !(in.EWMALambda > 0 && in.EWMALambda < 1) {
		return nil, inputErr("EWMALambda %v must be in (0, 1)", in.EWMALambda)
	}
	if in.Mu != nil && in.MeanEstimator != "" {
		a.note("Mu given: MeanEstimator %q not used", in.MeanEstimator)
	}
	if in.Cov != nil && in.Estimator != "" {
		a.note("Cov given: Estimator %q not used", in.Estimator)
	}

	// Expected returns.
	if in.Mu != nil {
		if err := finite("Mu", in.Mu); err != nil {
			return nil, err
		}
		a.mu = append([]float64(nil), in.Mu...)
	} else if in.Returns != nil {
		var err error
		switch in.MeanEstimator {
		case "", MeanSample:
			a.mu, err = risk.Mean(nil, in.Returns)
		case MeanJamesStein:
			var c float64
			a.mu, c, err = risk.JamesSteinMean(nil, in.Returns)
			if err == nil {
				a.note("mean: james-stein, shrinkage towards the grand mean %.4g", c)
			}
		default:
			return nil, inputErr("unknown mean estimator %q (known: %s, %s)", in.MeanEstimator, MeanSample, MeanJamesStein)
		}
		if err != nil {
			return nil, inputErr("estimating expected returns: %v", err)
		}
	} else if needsMu(method) {
		return nil, inputErr("%s needs expected returns: give Mu or Returns", method)
	}

	// Covariance.
	if in.Cov != nil {
		a.cov = mat.NewSymDense(n, nil)
		a.cov.CopySym(in.Cov)
		for i := range n {
			for j := i; j < n; j++ {
				if v := a.cov.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, inputErr("Cov[%d][%d] is %v", i, j, v)
				}
			}
			if a.cov.At(i, i) < 0 {
				return nil, inputErr("Cov[%d][%d] = %v is a negative variance", i, i, a.cov.At(i, i))
			}
		}
	} else if in.Returns != nil {
		c, err := a.estimateCov(in)
		if err != nil {
			return nil, err
		}
		a.cov = c
	} else if method != EqualWeight {
		return nil, inputErr("%s needs a covariance: give Cov or Returns", method)
	}
	return a, nil
}

func (a *allocator) estimateCov(in Inputs) (*mat.SymDense, error) {
	c := mat.NewSymDense(a.n, nil)
	var err error
	switch in.Estimator {
	case "", CovSample:
		err = risk.SampleCov(c, in.Returns)
	case CovLedoitWolf, CovLWConstCor:
		target := risk.ScaledIdentity
		if in.Estimator == CovLWConstCor {
			target = risk.ConstantCorrelation
		}
		var d float64
		d, err = risk.LedoitWolf(c, in.Returns, target)
		if err == nil {
			a.note("covariance: Ledoit–Wolf (%v target), shrinkage %.4g", target, d)
		}
	case CovOAS:
		var d float64
		d, err = risk.OAS(c, in.Returns)
		if err == nil {
			a.note("covariance: OAS, shrinkage %.4g", d)
		}
	case CovEWMA:
		lambda := in.EWMALambda
		if lambda == 0 {
			lambda = 0.94
		}
		err = risk.EWMACov(c, in.Returns, lambda)
		if err == nil {
			a.note("covariance: EWMA, λ = %g", lambda)
		}
	case CovGARCH:
		fits, gerr := risk.GARCHCov(c, in.Returns, nil)
		err = gerr
		if err == nil {
			for i, f := range fits {
				if !f.Converged || f.NearUnitRoot {
					a.note("covariance: GARCH fit of asset %d: converged %v, near unit root %v", i, f.Converged, f.NearUnitRoot)
				}
			}
		} else if !errors.Is(err, risk.ErrTooShort) && !errors.Is(err, risk.ErrNonFinite) {
			// A fit that cannot be made (a constant series, a failed
			// likelihood) is numerical trouble, not bad input.
			a.note("covariance: GARCH failed (%v); using the sample covariance", err)
			err = risk.SampleCov(c, in.Returns)
		}
	default:
		return nil, inputErr("unknown covariance estimator %q (known: %s)", in.Estimator, strings.Join(Estimators(), ", "))
	}
	if err != nil {
		return nil, inputErr("estimating the covariance: %v", err)
	}
	return c, nil
}

func finite(what string, s []float64) error {
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return inputErr("%s[%d] is %v", what, i, v)
		}
	}
	return nil
}

// run dispatches one method.
func (a *allocator) run(m string) (outcome, error) {
	switch m {
	case EqualWeight:
		return a.equalWeight(), nil
	case InverseVol:
		return a.inverseVol()
	case RiskParity:
		return a.riskBudget(nil)
	case RiskBudget:
		return a.riskBudget(a.opt.Budgets)
	case MinVariance:
		return a.minVariance()
	case MeanVariance:
		return a.meanVariance(a.mu, a.cov, a.lambda)
	case MaxSharpe:
		return a.maxSharpe()
	case EfficientReturn:
		return a.efficientReturn()
	case HRP:
		return a.hrp()
	case BlackLitterman:
		return a.blackLitterman()
	}
	panic("portfolio: no implementation for method " + m)
}

// sanitize checks a method's weights and removes rounding: entries within
// 1e-9 of the bounds are clipped to them and the sum renormalised. Weights
// further outside, non-finite, or summing far from 1 make the method fail.
func (a *allocator) sanitize(out *outcome) error {
	w := out.w
	if len(w) != a.n {
		return fmt.Errorf("weights have length %d, want %d", len(w), a.n)
	}
	const slack = 1e-9
	sum := 0.0
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("weight %d is %v", i, v)
		}
		if v < -slack || v > a.wmax+slack {
			return fmt.Errorf("weight %d is %v, outside [0, %v]", i, v, a.wmax)
		}
		w[i] = math.Min(math.Max(v, 0), a.wmax)
		sum += w[i]
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("weights sum to %v", sum)
	}
	if math.Abs(sum-1) > 1e-14 {
		for i := range w {
			w[i] /= sum
		}
	}
	return nil
}

// finish fills the result from the accepted outcome.
func (a *allocator) finish(res *Result, used string, out outcome) {
	res.Used = used
	res.Weights = out.w
	res.KKT = out.kkt
	res.RCError = out.rcErr
	res.Iterations = out.iter
	mu := a.mu
	if out.mu != nil {
		mu = out.mu
	}
	cov := a.cov
	if out.cov != nil {
		cov = out.cov
	}
	if mu != nil {
		for i, w := range out.w {
			res.ExpReturn += mu[i] * w
		}
	} else {
		a.note("no expected returns given: ExpReturn is 0")
	}
	res.RiskContrib = make([]float64, a.n)
	if cov != nil {
		var v float64
		sw := make([]float64, a.n)
		for i := range a.n {
			for j := range a.n {
				sw[i] += cov.At(i, j) * out.w[j]
			}
			v += out.w[i] * sw[i]
		}
		if v > 0 {
			res.Vol = math.Sqrt(v)
			for i := range a.n {
				res.RiskContrib[i] = out.w[i] * sw[i] / v
			}
		} else {
			copy(res.RiskContrib, out.w)
			a.note("portfolio variance is %g: risk contributions set to the weights", v)
		}
	} else {
		copy(res.RiskContrib, out.w)
		a.note("no covariance given: Vol is 0 and risk contributions are the weights")
	}
	res.Notes = a.notes
}
