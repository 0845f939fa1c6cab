package vol

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// minStatus says why a minimisation stopped. Both optimisers (gonum's,
// through minimiseGonum, and the package's own minimise) report it.
type minStatus int

const (
	statusGradient   minStatus = iota // ‖∇f‖∞ below the threshold: converged
	statusFunction                    // f stopped changing: converged
	statusIterations                  // iteration limit reached
	statusLineSearch                  // no acceptable step found
	statusNonFinite                   // f or ∇f not finite at the start
)

func (s minStatus) String() string {
	return [...]string{"gradient threshold", "function convergence", "iteration limit",
		"line search failed", "non-finite start"}[s]
}

// converged reports whether s is a convergence criterion.
func (s minStatus) converged() bool { return s == statusGradient || s == statusFunction }

// minResult is the outcome of a minimisation: the best point found.
type minResult struct {
	x      []float64
	h      []float64 // final inverse-Hessian approximation, row-major; nil from minimiseGonum
	f      float64
	iters  int // major iterations, the start not counted
	evals  int // calls of the objective
	status minStatus
}

// Stopping rule shared by both optimisers (see minimiseGonum).
const (
	flatTol   = 1e-14 // f counts as unchanged if it moved by less than flatTol·(1+|f|)
	flatIters = 10    // … over this many consecutive major iterations
)

// minimiseGonum minimises a smooth function of a few variables with
// gonum/optimize's BFGS, the reference optimiser of FitGARCH. fg returns
// f(x) and writes ∇f(x) into grad; it must not retain x, and may return
// +Inf (or NaN) outside its domain: the line search then shortens the step.
//
// It stops with statusGradient when ‖∇f‖∞ < gtol (Settings.GradientThreshold,
// tested at the start too), with statusFunction when f improved by less
// than flatTol·(1+|f|) over flatIters consecutive major iterations
// (optimize.FunctionConverge), with statusIterations after maxIter major
// iterations, and with statusLineSearch when the line search fails. The
// line search is lineSearch (see there for why gonum's own line searches
// do not suit a likelihood near its maximum).
func minimiseGonum(fg func(x, grad []float64) float64, x0 []float64, gtol float64, maxIter int) minResult {
	obj := newFusedObjective(fg, len(x0))
	settings := &optimize.Settings{
		GradientThreshold: gtol,
		Converger:         &optimize.FunctionConverge{Absolute: flatTol, Relative: flatTol, Iterations: flatIters},
		MajorIterations:   maxIter + 1, // Minimize counts the start as a major iteration
		Concurrent:        1,           // fusedObjective is not safe for concurrent evaluations
	}
	// GradStopThreshold NaN leaves the gradient test to Settings alone, so
	// one threshold governs the start and the iterates.
	method := &optimize.BFGS{Linesearcher: &lineSearch{}, GradStopThreshold: math.NaN()}
	res, err := optimize.Minimize(obj.problem(), x0, settings, method)
	out := minResult{evals: obj.evals}
	var ef optimize.ErrFunc
	var eg optimize.ErrGrad
	if res == nil || errors.As(err, &ef) || errors.As(err, &eg) || !finite(res.F) {
		// A non-finite start ends Minimize before its first major
		// iteration, so res.X is not a point it evaluated.
		out.x = append([]float64(nil), x0...)
		out.f = math.Inf(1)
		out.status = statusNonFinite
		return out
	}
	out.x, out.f = res.X, res.F
	out.iters = max(res.Stats.MajorIterations-1, 0)
	switch res.Status {
	case optimize.GradientThreshold:
		out.status = statusGradient
	case optimize.FunctionConvergence:
		out.status = statusFunction
	case optimize.IterationLimit:
		out.status = statusIterations
	default: // Failure: line search failed, no progress or no descent direction
		out.status = statusLineSearch
	}
	return out
}

// fusedObjective adapts a function that returns f(x) and writes ∇f(x) in
// one pass to optimize.Problem's separate Func and Grad. The likelihood
// pass yields both for little more than the cost of f alone, and the
// optimiser asks for f and ∇f at the same points, so the pair from the
// last pass is kept and a request at that point reuses it. It holds state
// between calls, so Minimize must evaluate sequentially
// (Settings.Concurrent ≤ 1).
type fusedObjective struct {
	fg     func(x, grad []float64) float64
	x, g   []float64 // point of the last pass and ∇f there
	f      float64   // f there
	filled bool
	evals  int // calls of fg
}

func newFusedObjective(fg func(x, grad []float64) float64, n int) *fusedObjective {
	return &fusedObjective{fg: fg, x: make([]float64, n), g: make([]float64, n)}
}

// at makes o hold f and ∇f at x.
func (o *fusedObjective) at(x []float64) {
	if o.filled && floats.Equal(x, o.x) {
		return
	}
	copy(o.x, x)
	o.f = o.fg(o.x, o.g)
	o.filled = true
	o.evals++
}

func (o *fusedObjective) problem() optimize.Problem {
	return optimize.Problem{
		Func: func(x []float64) float64 {
			o.at(x)
			return o.f
		},
		Grad: func(grad, x []float64) {
			o.at(x)
			copy(grad, o.g)
		},
	}
}

// lineSearch is the optimize.Linesearcher of minimiseGonum: gonum's
// More–Thuente search for the strong Wolfe conditions (sufficient decrease
// 1e-4, curvature 0.9), with two additions a likelihood needs.
//
// Near the maximum, f changes by less than its own rounding error: for
// the GARCH likelihood of a few thousand returns, f = −ℓ/n ≈ 2 is computed
// to about 1e-15 (measured: successive values at points 1e-10 apart
// differ by up to 6 ulps, 1.3e-15), while a step from a point with
// ‖∇f‖ ≈ 1e-9 lowers f by at most ‖∇f‖²/(2λ) ≈ 5e-16, λ ≈ 1e-3 being the
// smallest eigenvalue of its Hessian. Any test that compares f values then
// decides on noise. gonum's line searches do: BFGS's default, Bisection, needs
// f ≤ f₀ exactly, and in 4 of 12 simulated fits it bisected on noise for
// ~50 passes and failed before reaching ‖∇f‖∞ < 1e-9; More–Thuente alone
// failed in 6 of the 11 fits of this package's fit tests and example
// (measured). So a step is also accepted when it satisfies Hager and
// Zhang's approximate Wolfe conditions (SIAM J. Optim. 16(1), 2005,
// eq. 4.1, δ = 0.1, σ = 0.9), which use the accurate directional
// derivative instead of f:
//
//	σ·g₀ ≤ g ≤ (2δ − 1)·g₀   and   f ≤ f₀ + ε·(1+|f₀|),  ε = 1e-12.
//
// On a locally quadratic f the derivative condition alone implies a
// decrease; ε, about a thousand times the noise, only rejects a real
// rise. It also keeps g > g₀, so sᵀy > 0 and BFGS's update stays positive
// definite.
//
// Where f or g is not finite (outside the objective's domain, e.g. an
// overflowing variance), the trial step is halved and More–Thuente
// restarted from there; More–Thuente's interpolation needs finite values.
type lineSearch struct {
	mt     optimize.MoreThuente
	f0, g0 float64 // f and the directional derivative at step 0
	step   float64 // the step whose f and g Iterate receives next
}

const (
	lsMinStep = 1e-20 // smallest trial step after halvings for non-finite values
	lsNoise   = 1e-12 // ε of the approximate Wolfe conditions, relative to 1+|f₀|
)

// Init implements optimize.Linesearcher.
func (s *lineSearch) Init(f, g, step float64) optimize.Operation {
	s.f0, s.g0, s.step = f, g, step
	return s.restart()
}

func (s *lineSearch) restart() optimize.Operation {
	s.mt = optimize.MoreThuente{DecreaseFactor: 1e-4, CurvatureFactor: 0.9}
	return s.mt.Init(s.f0, s.g0, s.step)
}

// Iterate implements optimize.Linesearcher.
func (s *lineSearch) Iterate(f, g float64) (optimize.Operation, float64, error) {
	if !finite(f) || !finite(g) {
		s.step /= 2
		if s.step < lsMinStep {
			return optimize.NoOperation, s.step, optimize.ErrLinesearcherFailure
		}
		return s.restart(), s.step, nil
	}
	if g >= 0.9*s.g0 && g <= -0.8*s.g0 && f <= s.f0+lsNoise*(1+math.Abs(s.f0)) {
		return optimize.MajorIteration, s.step, nil
	}
	op, step, err := s.mt.Iterate(f, g)
	s.step = step
	return op, step, err
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func allFinite(x []float64) bool {
	for _, v := range x {
		if !finite(v) {
			return false
		}
	}
	return true
}
