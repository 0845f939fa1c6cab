package vol

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"

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
