package vol

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/optimize"

	"github.com/folio-rl/folio/internal/seed"
)

// TestGradientMatchesFiniteDifferences checks the analytic score of pass
// against central differences of the log-likelihood (gonum diff/fd).
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	truth := GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}
	r := make([]float64, 3000)
	truth.SimulateTo(r, seed.New(11, seed.Test, 0), 2)
	for _, g := range []GARCH{
		truth,
		{Mu: -0.2, Omega: 0.3, Alpha: 0.02, Beta: 0.6},
		{Mu: 0.1, Omega: 0.01, Alpha: 0.25, Beta: 0.74},
		{Mu: 0, Omega: 0.05, Alpha: 0.6, Beta: 0.5}, // non-stationary: the likelihood is still smooth
	} {
		theta := [4]float64{g.Mu, g.Omega, g.Alpha, g.Beta}
		var scale [4]float64
		for i := range scale {
			scale[i] = math.Max(math.Abs(theta[i]), 0.01)
		}
		// Differentiate in coordinates scaled by each parameter's size so one
		// step suits all four.
		f := func(z []float64) float64 {
			p := GARCH{theta[0] + scale[0]*z[0], theta[1] + scale[1]*z[1], theta[2] + scale[2]*z[2], theta[3] + scale[3]*z[3]}
			return p.LogLikelihood(r, 1.5)
		}
		num := fd.Gradient(nil, f, make([]float64, 4), &fd.Settings{Formula: fd.Central, Step: 1e-5})
		var an [4]float64
		g.pass(r, 1.5, &an, nil)
		for i := range an {
			got := an[i] * scale[i]
			// Central differences with step h = 1e-5 on |ℓ| ≈ 5e3: rounding
			// error ≈ 1e-16·5e3/1e-5 = 5e-8 plus truncation h²·ℓ''' ≈ 1e-7;
			// 1e-5 absolute plus 1e-6 relative leaves a wide margin.
			if !scalar.EqualWithinAbsOrRel(got, num[i], 1e-5, 1e-6) {
				t.Errorf("%+v: ∂ℓ/∂θ%d·s = %.10g, finite differences %.10g", g, i, got, num[i])
			}
		}
	}
}

// TestMinimiseRosenbrock checks the BFGS on the Rosenbrock function, whose
// minimum (1, 1) is known in closed form.
func TestMinimiseRosenbrock(t *testing.T) {
	rosen := func(x, g []float64) float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		g[0] = -2*a - 400*x[0]*b
		g[1] = 200 * b
		return a*a + 100*b*b
	}
	res := minimise(rosen, []float64{-1.2, 1}, nil, 1e-10, 500)
	if !res.status.converged() {
		t.Fatalf("status %v after %d iterations", res.status, res.iters)
	}
	// The gradient threshold 1e-10 bounds the distance to the minimum by
	// ~‖H⁻¹‖·1e-10 ≈ 1e-7 (smallest Hessian eigenvalue ≈ 0.4 at (1, 1)).
	for i, want := range []float64{1, 1} {
		if math.Abs(res.x[i]-want) > 1e-6 {
			t.Errorf("x[%d] = %.12g, want 1", i, res.x[i])
		}
	}
}

// TestMinimiseRejectsOutsideDomain checks that +Inf outside a domain only
// shortens steps: minimise −log(x) + x over x > 0 (minimum at x = 1) from
// x = 10, where the first quasi-Newton step overshoots below 0.
func TestMinimiseRejectsOutsideDomain(t *testing.T) {
	f := func(x, g []float64) float64 {
		if x[0] <= 0 {
			return math.Inf(1)
		}
		g[0] = -1/x[0] + 1
		return -math.Log(x[0]) + x[0]
	}
	res := minimise(f, []float64{10}, nil, 1e-12, 200)
	if !res.status.converged() || math.Abs(res.x[0]-1) > 1e-9 {
		t.Fatalf("x = %v, status %v; want 1", res.x, res.status)
	}
}

// TestMinimiseNonFiniteStart reports a bad start instead of iterating.
func TestMinimiseNonFiniteStart(t *testing.T) {
	f := func(x, g []float64) float64 { g[0] = 0; return math.NaN() }
	if res := minimise(f, []float64{0}, nil, 1e-9, 10); res.status != statusNonFinite {
		t.Fatalf("status %v, want %v", res.status, statusNonFinite)
	}
}

// TestLogBlockFallback exercises logBlock's per-value fallback when a
// block product would overflow or underflow.
func TestLogBlockFallback(t *testing.T) {
	vals := []float64{1e200, 1e200, 1e-250, 3, 1e300, 1e300, 1e300, 1e-300, 1e-300, 1e-300, 0.5, 2}
	for rep := 0; rep < 3; rep++ {
		vals = append(vals, vals...)
	}
	var b logBlock
	var want float64
	for _, v := range vals {
		b.add(v)
		want += math.Log(v)
	}
	got := b.sum()
	// Both sides sum ~100 logs of size ≤ 700: rounding ≤ 100·700·1.1e-16 ≈ 1e-11.
	if !scalar.EqualWithinAbsOrRel(got, want, 1e-10, 1e-13) {
		t.Fatalf("Σ log = %.17g, want %.17g", got, want)
	}
}

// TestMinimiseGonumRosenbrock checks minimiseGonum on the Rosenbrock
// function, whose minimum (1, 1) is known in closed form.
func TestMinimiseGonumRosenbrock(t *testing.T) {
	rosen := func(x, g []float64) float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		g[0] = -2*a - 400*x[0]*b
		g[1] = 200 * b
		return a*a + 100*b*b
	}
	res := minimiseGonum(rosen, []float64{-1.2, 1}, 1e-10, 500)
	if !res.status.converged() {
		t.Fatalf("status %v after %d iterations", res.status, res.iters)
	}
	// As in TestMinimiseRosenbrock: ‖∇f‖∞ < 1e-10 puts x within ~1e-7 of (1, 1).
	for i := range res.x {
		if math.Abs(res.x[i]-1) > 1e-6 {
			t.Errorf("x[%d] = %.12g, want 1", i, res.x[i])
		}
	}
	if res.iters == 0 || res.evals < res.iters {
		t.Errorf("%d iterations, %d evaluations", res.iters, res.evals)
	}
}

// TestMinimiseGonumRejectsOutsideDomain minimises −log(x) + x over x > 0
// (minimum at x = 1, +Inf elsewhere) from x = 10. After gonum's unit first
// step to x = 9 the quasi-Newton step overshoots below 0; lineSearch must
// halve it back into the domain. The count of non-finite evaluations
// shows that the case was exercised.
func TestMinimiseGonumRejectsOutsideDomain(t *testing.T) {
	outside := 0
	f := func(x, g []float64) float64 {
		if x[0] <= 0 {
			outside++
			return math.Inf(1)
		}
		g[0] = -1/x[0] + 1
		return -math.Log(x[0]) + x[0]
	}
	res := minimiseGonum(f, []float64{10}, 1e-12, 200)
	if !res.status.converged() || math.Abs(res.x[0]-1) > 1e-9 {
		t.Fatalf("x = %v, status %v; want 1", res.x, res.status)
	}
	if outside == 0 {
		t.Error("no step left the domain: the test does not exercise the halving")
	}
	t.Logf("%d iterations, %d evaluations, %d outside the domain", res.iters, res.evals, outside)
}

// TestMinimiseGonumNonFiniteStart reports a bad start, at the start point.
func TestMinimiseGonumNonFiniteStart(t *testing.T) {
	f := func(x, g []float64) float64 { g[0] = 0; return math.NaN() }
	res := minimiseGonum(f, []float64{0.5}, 1e-9, 10)
	if res.status != statusNonFinite || res.x[0] != 0.5 {
		t.Fatalf("status %v at %v, want %v at 0.5", res.status, res.x, statusNonFinite)
	}
}

// TestMinimiseGonumIterationLimit checks that maxIter counts steps, not
// the start: one iteration on a quadratic leaves it unconverged.
func TestMinimiseGonumIterationLimit(t *testing.T) {
	f := func(x, g []float64) float64 {
		g[0], g[1] = x[0], 10*x[1]
		return 0.5*x[0]*x[0] + 5*x[1]*x[1]
	}
	res := minimiseGonum(f, []float64{1, 1}, 1e-12, 1)
	if res.status != statusIterations || res.iters != 1 {
		t.Fatalf("status %v after %d iterations, want %v after 1", res.status, res.iters, statusIterations)
	}
}

// TestLineSearch drives lineSearch through the optimize.Linesearcher
// protocol on hand-made values. The noise case has the magnitudes of a
// GARCH fit near its maximum (f = −ℓ/n ≈ 1.718, a trial value 6 ulps above
// f₀ although the directional derivative fell to a tenth; see lineSearch):
// the approximate Wolfe conditions accept it, while gonum's More–Thuente
// alone, fed the same values, does not (the control), and a real rise or a
// derivative that did not shrink enough is not accepted. Non-finite values
// halve the step until lsMinStep.
func TestLineSearch(t *testing.T) {
	const f0 = 1.7182562894318549
	noisy := f0 + 6*0x1p-52 // 6 ulps of f0 (ulp = 2⁻⁵²)
	wantEval := optimize.FuncEvaluation | optimize.GradEvaluation
	for _, c := range []struct {
		name     string
		f0, g0   float64
		f, g     float64
		accept   bool
		mtAccept bool // whether More–Thuente alone accepts (the control)
	}{
		{"noise at the optimum", f0, -1e-15, noisy, -1e-16, true, false},
		{"real rise", f0, -1e-15, f0 + 1e-10, -1e-16, false, false},
		{"slope barely reduced", f0, -1e-15, f0, -0.95e-15, false, false},
		{"overshoot past the minimum", f0, -1e-15, f0, 0.95e-15, false, false},
		{"strong Wolfe", 1, -1, 0.5, -0.1, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s lineSearch
			if op := s.Init(c.f0, c.g0, 1); op != wantEval {
				t.Fatalf("Init asks for %v, want %v", op, wantEval)
			}
			op, step, err := s.Iterate(c.f, c.g)
			if err != nil {
				t.Fatal(err)
			}
			if got := op == optimize.MajorIteration; got != c.accept || (got && step != 1) {
				t.Errorf("op %v at step %v, accept = %v", op, step, c.accept)
			}
			mt := optimize.MoreThuente{DecreaseFactor: 1e-4, CurvatureFactor: 0.9}
			mt.Init(c.f0, c.g0, 1)
			if mop, _, _ := mt.Iterate(c.f, c.g); (mop == optimize.MajorIteration) != c.mtAccept {
				t.Errorf("control: More–Thuente alone gives %v, want acceptance %v", mop, c.mtAccept)
			}
		})
	}
	t.Run("non-finite", func(t *testing.T) {
		var s lineSearch
		s.Init(1, -1, 1)
		want := 1.0
		for {
			op, step, err := s.Iterate(math.Inf(1), math.NaN())
			want /= 2
			if want < lsMinStep {
				if !errors.Is(err, optimize.ErrLinesearcherFailure) || op != optimize.NoOperation {
					t.Fatalf("step %v: op %v, err %v; want failure", step, op, err)
				}
				return
			}
			if err != nil || op != wantEval || step != want {
				t.Fatalf("op %v, step %v, err %v; want %v at %v", op, step, err, wantEval, want)
			}
		}
	})
}

// TestFusedObjective checks that Func and Grad at one point share a pass
// and that a new point triggers one.
func TestFusedObjective(t *testing.T) {
	calls := 0
	o := newFusedObjective(func(x, g []float64) float64 {
		calls++
		g[0], g[1] = 2*x[0], 3
		return x[0]*x[0] + 3*x[1]
	}, 2)
	p := o.problem()
	x := []float64{2, 1}
	g := make([]float64, 2)
	if f := p.Func(x); f != 7 {
		t.Errorf("f = %v, want 7", f)
	}
	p.Grad(g, x)
	if g[0] != 4 || g[1] != 3 || calls != 1 {
		t.Errorf("∇f = %v after %d passes, want [4 3] after 1", g, calls)
	}
	x[0] = -1 // the objective must not alias the caller's x
	p.Grad(g, x)
	if f := p.Func(x); f != 4 || g[0] != -2 || calls != 2 || o.evals != 2 {
		t.Errorf("f = %v, ∇f = %v after %d passes (counted %d), want 4, [-2 3] after 2", f, g, calls, o.evals)
	}
}

// TestInverseHessian checks the starting curvature of warm refits on
// quadratics f = ½ xᵀAx, whose inverse Hessian A⁻¹ is known in closed
// form: the gradient is linear, so forward differences have no truncation
// error and only rounding, ~ε·|∇f|/h = 1e-16/1e-6 = 1e-10 relative; 1e-8
// leaves a margin. An indefinite A has no inverse Hessian to offer.
func TestInverseHessian(t *testing.T) {
	quadratic := func(a [][]float64) func(x, g []float64) float64 {
		return func(x, g []float64) float64 {
			var f float64
			for i := range x {
				g[i] = 0
				for j := range x {
					g[i] += a[i][j] * x[j]
				}
				f += 0.5 * x[i] * g[i]
			}
			return f
		}
	}
	// A = [[4, 1], [1, 3]]: A⁻¹ = [[3, −1], [−1, 4]]/11.
	got := inverseHessian(quadratic([][]float64{{4, 1}, {1, 3}}), []float64{0.3, -2})
	want := []float64{3.0 / 11, -1.0 / 11, -1.0 / 11, 4.0 / 11}
	if len(got) != len(want) {
		t.Fatalf("inverse Hessian %v", got)
	}
	for i := range want {
		if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-8, 1e-8) {
			t.Errorf("H⁻¹[%d] = %.12g, want %.12g", i, got[i], want[i])
		}
	}
	if h := inverseHessian(quadratic([][]float64{{1, 2}, {2, 1}}), []float64{1, 1}); h != nil {
		t.Errorf("indefinite Hessian gave %v, want nil", h)
	}
}
