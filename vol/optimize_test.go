package vol_test

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/vol"
)

// TestOptimisersAgree requires the package's own BFGS (the fast path for
// refits) and gonum/optimize's BFGS (the reference) to reach the same
// maximum: parameters within 1e-5 (absolute or relative) and
// log-likelihoods within 1e-8 relative. Both stop at ‖∇f‖∞ < 1e-9 in O(1)
// coordinates with f = −ℓ/n; the smallest eigenvalue of f's Hessian there
// is ~1e-3 (measured 1e-3 to 3.4e-3 on simulated series), so each end
// point lies within ~1e-9/1e-3 = 1e-6 of the optimum in those coordinates
// and ≲ 1e-6 in the parameters, and ℓ differs by only second-order
// terms. Measured: parameters within 1e-8 and ℓ within 3e-15 relative, so
// 1e-5 and 1e-8 separate a different optimum from stopping noise by
// orders of magnitude.
//
// Compared per series: cold fits from the grid with each optimiser, and
// the fast path as used in a refit schedule (FitGARCH with Prev over two
// refits 63 bars apart: the first from the Hessian at its start, the
// second from the curvature the first returned) against gonum's cold fit
// of the same window.
func TestOptimisersAgree(t *testing.T) {
	type series struct {
		name string
		r    []float64
	}
	cases := []series{
		{"moderate n=500", simulate(vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 500, 1000)},
		{"moderate n=3000", simulate(vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 3000, 1001)},
		{"high persistence n=3000", simulate(vol.GARCH{Mu: 0.02, Omega: 0.02, Alpha: 0.05, Beta: 0.94}, 3000, 1002)},
		{"crypto daily n=3000", simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 3000, 1003)},
		{"strong arch n=2000", simulate(vol.GARCH{Mu: 0, Omega: 0.3, Alpha: 0.25, Beta: 0.6}, 2000, 1004)},
		{"crypto daily n=20000", simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 20000, 1005)},
		{"BTC daily 2017-08..2024-12", nil}, // read in the subtest, which skips when the data are absent
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			if r == nil {
				r = btcPercentReturns(t)
			}
			n := len(r)
			ref, err := vol.FitGARCHGonum(r, &vol.FitOptions{NoStdErr: true})
			if err != nil {
				t.Fatal(err)
			}
			cold, err := vol.FitGARCHBFGS(r, &vol.FitOptions{NoStdErr: true})
			if err != nil {
				t.Fatal(err)
			}
			// A refit schedule through the public API: the first fit
			// uses gonum, the refits the fast path.
			first, err := vol.FitGARCH(r[:n-126], &vol.FitOptions{NoStdErr: true})
			if err != nil {
				t.Fatal(err)
			}
			mid, err := vol.FitGARCH(r[:n-63], &vol.FitOptions{NoStdErr: true, Prev: first})
			if err != nil {
				t.Fatal(err)
			}
			warm, err := vol.FitGARCH(r, &vol.FitOptions{NoStdErr: true, Prev: mid})
			if err != nil {
				t.Fatal(err)
			}
			if !vol.UsedGonum(ref) || !vol.UsedGonum(first) || vol.UsedGonum(cold) || vol.UsedGonum(mid) || vol.UsedGonum(warm) {
				t.Fatalf("optimiser used: ref %v first %v cold %v mid %v warm %v (true = gonum)",
					vol.UsedGonum(ref), vol.UsedGonum(first), vol.UsedGonum(cold), vol.UsedGonum(mid), vol.UsedGonum(warm))
			}
			if vol.HasCurvature(first) || !vol.HasCurvature(mid) {
				t.Fatalf("curvature carried: gonum fit %v, own BFGS fit %v", vol.HasCurvature(first), vol.HasCurvature(mid))
			}
			t.Logf("gonum cold %2d iterations %2d passes (%s); own BFGS cold %2d/%2d (%s); refits %2d/%2d from the Hessian, %2d/%2d from the previous curvature",
				ref.Iterations, ref.Evaluations, ref.Status, cold.Iterations, cold.Evaluations, cold.Status,
				mid.Iterations, mid.Evaluations, warm.Iterations, warm.Evaluations)
			for _, fit := range []struct {
				name string
				f    *vol.GARCHFit
			}{{"own BFGS cold", cold}, {"own BFGS refit", warm}} {
				if !ref.Converged || !fit.f.Converged {
					t.Errorf("%s: converged %v (%s), gonum %v (%s)", fit.name, fit.f.Converged, fit.f.Status, ref.Converged, ref.Status)
				}
				got := []float64{fit.f.Params.Mu, fit.f.Params.Omega, fit.f.Params.Alpha, fit.f.Params.Beta}
				want := []float64{ref.Params.Mu, ref.Params.Omega, ref.Params.Alpha, ref.Params.Beta}
				var worst float64
				for i, name := range []string{"mu", "omega", "alpha", "beta"} {
					d := math.Abs(got[i]-want[i]) / math.Max(1, math.Abs(want[i]))
					worst = math.Max(worst, d)
					if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-5, 1e-5) {
						t.Errorf("%s: %s = %.10g, gonum %.10g", fit.name, name, got[i], want[i])
					}
				}
				dll := math.Abs(fit.f.LogLikelihood-ref.LogLikelihood) / math.Abs(ref.LogLikelihood)
				t.Logf("%-14s largest parameter difference %.2g, log-likelihood %.2g relative", fit.name, worst, dll)
				if !(dll <= 1e-8) {
					t.Errorf("%s: log-likelihood %.12g, gonum %.12g", fit.name, fit.f.LogLikelihood, ref.LogLikelihood)
				}
			}
		})
	}
}

// TestOptimiserChoice checks which optimiser FitGARCH runs: gonum for cold
// fits and fits from FitOptions.Start, the package's own BFGS for refits
// with FitOptions.Prev (whose result carries curvature for the next).
func TestOptimiserChoice(t *testing.T) {
	r := simulate(vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 1000, 1100)
	cold, err := vol.FitGARCH(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, err := vol.FitGARCH(r, &vol.FitOptions{Start: &cold.Params})
	if err != nil {
		t.Fatal(err)
	}
	refit, err := vol.FitGARCH(r, &vol.FitOptions{Prev: cold})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		fit       *vol.GARCHFit
		gonum     bool
		curvature bool
	}{
		{"cold", cold, true, false},
		{"start", start, true, false},
		{"prev", refit, false, true},
	} {
		if vol.UsedGonum(c.fit) != c.gonum || vol.HasCurvature(c.fit) != c.curvature {
			t.Errorf("%s: gonum %v, curvature %v; want %v, %v", c.name, vol.UsedGonum(c.fit), vol.HasCurvature(c.fit), c.gonum, c.curvature)
		}
		if !c.fit.Converged {
			t.Errorf("%s: not converged (%s)", c.name, c.fit.Status)
		}
	}
}
