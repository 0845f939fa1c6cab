package vol_test

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"

	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/vol"
)

func normals(n int, sd float64, stream uint64) []float64 {
	rng := seed.New(testRoot, seed.Test, stream)
	x := make([]float64, n)
	for i := range x {
		x[i] = sd * rng.NormFloat64()
	}
	return x
}

// TestEWMA compares both EWMA forms with their defining weighted sums,
// written out with explicit powers.
func TestEWMA(t *testing.T) {
	r := normals(300, 0.03, 1000)
	// Variables, not constants: Go folds constant expressions exactly, so
	// 1−λ would differ from the run-time value in the last bit.
	lambda, init := 0.94, 4e-4
	got := vol.EWMATo(make([]float64, len(r)), r, lambda, init)
	adj := vol.EWMAAdjustedTo(make([]float64, len(r)), r, lambda)
	for t0 := range r {
		// dst[t] = λ^{t+1}·init + (1−λ) Σ_{k≤t} λ^k r²_{t−k}.
		want := math.Pow(lambda, float64(t0+1)) * init
		var num, den float64
		for k := 0; k <= t0; k++ {
			w := math.Pow(lambda, float64(k))
			want += (1 - lambda) * w * r[t0-k] * r[t0-k]
			num += w * r[t0-k] * r[t0-k]
			den += w
		}
		// Sums of ≤ 300 positive terms: rounding ≤ 300 ε ≈ 7e-14 relative.
		if !scalar.EqualWithinRel(got[t0], want, 1e-12) {
			t.Fatalf("EWMATo[%d] = %.17g, direct %.17g", t0, got[t0], want)
		}
		if !scalar.EqualWithinRel(adj[t0], num/den, 1e-12) {
			t.Fatalf("EWMAAdjustedTo[%d] = %.17g, direct %.17g", t0, adj[t0], num/den)
		}
	}
	// arch's indexing: σ²_{t+1} = λσ²_t + (1−λ)r²_t from σ²_0 = init is dst[t].
	s2 := init
	for t0, x := range r {
		s2 = lambda*s2 + (1-lambda)*x*x
		if s2 != got[t0] {
			t.Fatalf("arch-indexed recursion differs at %d", t0)
		}
	}
	// In place.
	cp := append([]float64(nil), r...)
	vol.EWMAAdjustedTo(cp, cp, lambda)
	for i := range cp {
		if cp[i] != adj[i] {
			t.Fatalf("in-place EWMAAdjustedTo differs at %d", i)
		}
	}
}

// TestRealizedVol compares the rolling standard deviation with gonum's
// stat.StdDev on every window, over a long series (many re-anchorings),
// a series with a large mean (log prices, where the naive sum-of-squares
// form loses digits) and constant stretches.
func TestRealizedVol(t *testing.T) {
	long := normals(5000, 0.02, 1100)
	level := normals(3000, 0.5, 1101)
	for i := range level {
		level[i] += 15 // like log dollar volume
	}
	flat := normals(400, 1, 1103) // this stream leaves rounding noise in the flat windows without the zero floor
	for i := 105; i < 250; i++ {  // starts off a re-anchoring bar, so updates must cancel the values that leave
		flat[i] = 0.25
	}
	for _, c := range []struct {
		name string
		x    []float64
		w    int
	}{
		{"returns w=2", long, 2}, {"returns w=21", long, 21}, {"returns w=63", long, 63},
		{"level w=63", level, 63}, {"flat w=20", flat, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := vol.RealizedVolTo(make([]float64, len(c.x)), c.x, c.w)
			for i := range c.x {
				if i < c.w-1 {
					if !math.IsNaN(got[i]) {
						t.Fatalf("[%d] = %v before the first full window", i, got[i])
					}
					continue
				}
				want := stat.StdDev(c.x[i-c.w+1:i+1], nil)
				// Updates about a shift, re-anchored every w values: error
				// ≤ ~w·ε·(x−shift)² ≈ 1e-14 of the variance for these data;
				// 1e-9 relative (1e-12 absolute for zero windows) is safe.
				if !scalar.EqualWithinAbsOrRel(got[i], want, 1e-12, 1e-9) {
					t.Fatalf("[%d] = %.15g, stat.StdDev %.15g", i, got[i], want)
				}
				// A window of equal values is exactly 0 (not rounding noise),
				// even between re-anchorings.
				if want == 0 && got[i] != 0 {
					t.Fatalf("[%d] = %g for a constant window", i, got[i])
				}
			}
		})
	}
}

// TestRangeEstimators checks Parkinson and Garman–Klass on a hand-computed
// bar and, by Monte Carlo, that both are unbiased for the variance of a
// Brownian log-price sampled finely within each bar.
func TestRangeEstimators(t *testing.T) {
	// One bar: O = 100, H = 110, L = 95, C = 105. Hand-computed:
	// Parkinson var = ln(110/95)²/(4 ln 2);
	// GK var = ½ ln(110/95)² − (2 ln 2 − 1) ln(105/100)².
	u, c := math.Log(110.0/95), math.Log(1.05)
	pk := vol.ParkinsonTo(make([]float64, 1), []float64{110}, []float64{95}, 1)
	gk := vol.GarmanKlassTo(make([]float64, 1), []float64{100}, []float64{110}, []float64{95}, []float64{105}, 1)
	if want := math.Sqrt(u * u / (4 * math.Ln2)); !scalar.EqualWithinRel(pk[0], want, 1e-14) {
		t.Errorf("Parkinson %v, want %v", pk[0], want)
	}
	if want := math.Sqrt(0.5*u*u - (2*math.Ln2-1)*c*c); !scalar.EqualWithinRel(gk[0], want, 1e-14) {
		t.Errorf("Garman–Klass %v, want %v", gk[0], want)
	}

	// Monte Carlo: 4,000 bars of a driftless Brownian log-price with
	// per-bar variance σ² = 1e-4, sampled at 400 steps per bar. A discrete
	// path understates the continuous high and low by ≈ 0.5826·σ_step
	// (Broadie, Glasserman & Kou 1997): without a correction the range
	// variance is biased by −7 % here. The simulated high and low are
	// shifted out by that amount, which leaves an O(1/steps) bias (< 1 %);
	// the check allows that plus 4 Monte Carlo standard errors, estimated
	// from the per-bar terms.
	const bars, steps, sigma = 4000, 400, 0.01
	rng := seed.New(testRoot, seed.Test, 1200)
	o, h, l, cl := make([]float64, bars), make([]float64, bars), make([]float64, bars), make([]float64, bars)
	logp, sdStep := 0.0, sigma/math.Sqrt(steps)
	for b := range bars {
		o[b] = math.Exp(logp)
		hi, lo := logp, logp
		for range steps {
			logp += sdStep * rng.NormFloat64()
			hi, lo = math.Max(hi, logp), math.Min(lo, logp)
		}
		h[b], l[b], cl[b] = math.Exp(hi+0.5826*sdStep), math.Exp(lo-0.5826*sdStep), math.Exp(logp)
	}
	for _, e := range []struct {
		name        string
		perBar, all []float64
	}{
		{"Parkinson", vol.ParkinsonTo(make([]float64, bars), h, l, 1), vol.ParkinsonTo(make([]float64, bars), h, l, bars)},
		{"Garman–Klass", vol.GarmanKlassTo(make([]float64, bars), o, h, l, cl, 1), vol.GarmanKlassTo(make([]float64, bars), o, h, l, cl, bars)},
	} {
		terms := make([]float64, bars)
		for i, x := range e.perBar {
			terms[i] = x * x
		}
		mean, sd := stat.MeanStdDev(terms, nil)
		se := sd / math.Sqrt(bars)
		// The full window's variance is the mean of the per-bar terms.
		if got := e.all[bars-1] * e.all[bars-1]; !scalar.EqualWithinRel(got, mean, 1e-12) {
			t.Errorf("%s: window variance %v, mean of bars %v", e.name, got, mean)
		}
		t.Logf("%s: variance / σ² = %.4f ± %.4f", e.name, mean/(sigma*sigma), se/(sigma*sigma))
		if math.Abs(mean-sigma*sigma) > 4*se+0.01*sigma*sigma {
			t.Errorf("%s: variance %.4g ± %.2g, true %.4g", e.name, mean, se, sigma*sigma)
		}
		for i := 0; i < bars-1; i++ {
			if !math.IsNaN(e.all[i]) {
				t.Fatalf("%s: value at %d before the first full window", e.name, i)
			}
		}
	}
}

func TestPanicsOnProgrammerErrors(t *testing.T) {
	for name, f := range map[string]func(){
		"ewma lambda":    func() { vol.EWMATo(make([]float64, 2), make([]float64, 2), 1, 0) },
		"ewma length":    func() { vol.EWMAAdjustedTo(make([]float64, 1), make([]float64, 2), 0.9) },
		"rvol window":    func() { vol.RealizedVolTo(make([]float64, 2), make([]float64, 2), 1) },
		"filter length":  func() { vol.GARCH{Omega: 1}.FilterTo(make([]float64, 1), make([]float64, 2), 1) },
		"forecast h":     func() { vol.GARCH{Omega: 1}.Forecast(1, 0) },
		"parkinson len":  func() { vol.ParkinsonTo(make([]float64, 2), make([]float64, 2), make([]float64, 1), 1) },
		"garman-klass w": func() { vol.GarmanKlassTo(nil, nil, nil, nil, nil, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
