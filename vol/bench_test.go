package vol_test

import (
	"testing"

	"github.com/folio-rl/folio/vol"
)

// BenchmarkFitGARCH fits 3,000 daily returns (simulated with parameters
// like BTC's: ω = 0.5, α = 0.08, β = 0.88, percent units): a cold fit from
// arch's grid with standard errors, one without, and a warm refit after 63
// more bars as in a refit schedule, from a cold fit ("warm", the first
// refit of a schedule) and from a refit ("warm/chain", every later one,
// which inherits the previous fit's curvature). The "optimiser=" variants
// force the optimiser that FitGARCH does not choose for that case: the
// package's own BFGS for a cold fit, gonum/optimize for a refit.
func BenchmarkFitGARCH(b *testing.B) {
	r := simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 3063, 2000)
	b.Run("n=3000/cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCH(r[:3000], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("n=3000/cold/nostderr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCH(r[:3000], &vol.FitOptions{NoStdErr: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	prev, err := vol.FitGARCH(r[:3000], &vol.FitOptions{NoStdErr: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("n=3063/warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCH(r, &vol.FitOptions{NoStdErr: true, Prev: prev}); err != nil {
				b.Fatal(err)
			}
		}
	})
	first, err := vol.FitGARCH(r[:2937], &vol.FitOptions{NoStdErr: true})
	if err != nil {
		b.Fatal(err)
	}
	refit, err := vol.FitGARCH(r[:3000], &vol.FitOptions{NoStdErr: true, Prev: first})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("n=3063/warm/chain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCH(r, &vol.FitOptions{NoStdErr: true, Prev: refit}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("n=3000/cold/nostderr/optimiser=bfgs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCHBFGS(r[:3000], &vol.FitOptions{NoStdErr: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("n=3063/warm/chain/optimiser=gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vol.FitGARCHGonum(r, &vol.FitOptions{NoStdErr: true, Prev: refit}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLogLikelihood is one likelihood pass over 3,000 returns.
func BenchmarkLogLikelihood(b *testing.B) {
	g := vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}
	r := simulate(g, 3000, 2001)
	b.ReportAllocs()
	for b.Loop() {
		g.LogLikelihood(r, 4)
	}
}

// BenchmarkRolling covers the per-bar estimators on 60,000 values.
func BenchmarkRolling(b *testing.B) {
	r := normals(60000, 0.01, 2002)
	dst := make([]float64, len(r))
	b.Run("ewma", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vol.EWMAAdjustedTo(dst, r, vol.RiskMetricsLambda)
		}
	})
	b.Run("rvol/window=63", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vol.RealizedVolTo(dst, r, 63)
		}
	})
}
