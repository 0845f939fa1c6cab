package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func normalReturns(rng *rand.Rand, n int, mean, sd float64) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = mean + sd*rng.NormFloat64()
	}
	return r
}

func ar1(rng *rand.Rand, n int, rho float64) []float64 {
	x := make([]float64, n)
	prev := rng.NormFloat64() / math.Sqrt(1-rho*rho) // stationary start
	for i := range x {
		prev = rho*prev + rng.NormFloat64()
		x[i] = prev
	}
	return x
}

func TestStationaryIndices(t *testing.T) {
	const n = 40000
	// Mean 5 grows blocks bar by bar, mean 20 draws lengths by inversion.
	for _, blocks := range []float64{5, 20} {
		rng := seed.New(1, seed.Test, uint64(blocks))
		idx := make([]int, n)
		StationaryIndices(idx, blocks, rng)
		runs, counts := 1, make([]int, 10)
		for i, j := range idx {
			if j < 0 || j >= n {
				t.Fatalf("index %d out of range", j)
			}
			counts[j*10/n]++
			if i > 0 && j != (idx[i-1]+1)%n {
				runs++
			}
		}
		// Block lengths are geometric with mean L and sd √(1−p)/p ≈ L, so the
		// mean run length over n/L blocks has a standard error of
		// L/√(n/L): 0.056 for L = 5, 0.45 for L = 20. Consecutive blocks join
		// by chance with probability 1/n, negligible. Allow 5 SE.
		se := blocks / math.Sqrt(n/blocks)
		if mean := float64(n) / float64(runs); math.Abs(mean-blocks) > 5*se {
			t.Errorf("L = %v: mean block length %.3f, want %v ± %.3f", blocks, mean, blocks, 5*se)
		}
		// Starts are uniform: each tenth of the range holds ≈ n/10 indices;
		// with blocks of mean L the count's sd is ≈ √(n/10·2L) (geometric
		// lengths double the variance of the block count); allow 5 sd.
		sd := math.Sqrt(n / 10 * 2 * blocks)
		for d, c := range counts {
			if math.Abs(float64(c)-n/10) > 5*sd {
				t.Errorf("L = %v: decile %d holds %d indices, want %d ± %.0f", blocks, d, c, n/10, 5*sd)
			}
		}
	}
	// Mean block 1 is the i.i.d. bootstrap.
	idx := make([]int, 10)
	StationaryIndices(idx, 1, seed.New(1, seed.Test, 0))
	defer func() {
		if recover() == nil {
			t.Error("mean block < 1 did not panic")
		}
	}()
	StationaryIndices(idx, 0.5, seed.New(1, seed.Test, 0))
}

func TestBootstrapSharpeMatchesExplicitResampling(t *testing.T) {
	// Second algorithm: build each resampled series explicitly from
	// StationaryIndices (which draws from the RNG in the same order as the
	// bootstrap) and compute its Sharpe ratio directly. The prefix-sum
	// replicates must agree to rounding; the sums run over up to 300 values,
	// so tolReduction.
	r := testReturns(seed.New(2, seed.Test, 0), 300, 0.002, 0.02)
	b := testReturns(seed.New(2, seed.Test, 1), 300, 0.001, 0.02)
	// Block length 4 grows blocks bar by bar, 12 draws them by inversion.
	for _, bl := range []float64{1, 4, 12} {
		opt := BootstrapOptions{Resamples: 200, Level: 0.9, BlockLength: bl}
		got, err := BootstrapSharpeDiff(r, b, 365, opt, seed.New(2, seed.Bootstrap, 0))
		if err != nil {
			t.Fatal(err)
		}
		rng := seed.New(2, seed.Bootstrap, 0)
		idx := make([]int, len(r))
		reps := make([]float64, opt.Resamples)
		ra, rb := make([]float64, len(r)), make([]float64, len(r))
		for k := range reps {
			StationaryIndices(idx, opt.BlockLength, rng)
			for i, j := range idx {
				ra[i], rb[i] = r[j], b[j]
			}
			reps[k] = Sharpe(ra, 365) - Sharpe(rb, 365)
		}
		_, se := meanStd(reps)
		slices.Sort(reps)
		want := Interval{Estimate: Sharpe(r, 365) - Sharpe(b, 365), Lo: quantileRanked(reps, 0.05), Hi: quantileRanked(reps, 0.95), SE: se}
		for name, p := range map[string][2]float64{
			"estimate": {got.Estimate, want.Estimate}, "lo": {got.Lo, want.Lo}, "hi": {got.Hi, want.Hi}, "se": {got.SE, want.SE},
		} {
			if !sameFloat(p[0], p[1], tolReduction) {
				t.Errorf("L = %v: %s = %.15g, explicit resampling gives %.15g", bl, name, p[0], p[1])
			}
		}
		if got.Resamples != 200 || got.BlockLength != bl || got.Level != 0.9 {
			t.Errorf("interval metadata %+v", got)
		}
		// Deterministic given the generator.
		again, _ := BootstrapSharpeDiff(r, b, 365, opt, seed.New(2, seed.Bootstrap, 0))
		if again != got {
			t.Errorf("not deterministic: %+v vs %+v", again, got)
		}
	}
}

func TestBootstrapSharpeCoverage(t *testing.T) {
	// i.i.d. normal returns with per-period Sharpe 0.1 (ppy = 1, so annualised
	// = per period). Over M independent samples the 90 % percentile interval
	// should contain 0.1 about 90 % of the time. Binomial standard error for
	// M = 400: √(0.9·0.1/400) = 0.015. Percentile intervals also under-cover
	// by O(1/n) at n = 250: measured 0.880 at 90 % and 0.941 at 95 % over
	// 3,000 samples. Tolerance: that 0.02 plus 3 SE = 0.065.
	const (
		m, n, trueSR = 400, 250, 0.1
		level        = 0.9
	)
	covered := 0
	for k := range m {
		r := normalReturns(seed.New(4, seed.Test, uint64(k)), n, trueSR*0.01, 0.01)
		iv, err := BootstrapSharpe(r, 1, BootstrapOptions{Resamples: 250, Level: level, BlockLength: 1}, seed.New(4, seed.Bootstrap, uint64(k)))
		if err != nil {
			t.Fatal(err)
		}
		if iv.Lo <= trueSR && trueSR <= iv.Hi {
			covered++
		}
	}
	cov := float64(covered) / m
	t.Logf("coverage of the 90%% interval: %.4f over %d samples", cov, m)
	if math.Abs(cov-level) > 0.065 {
		t.Errorf("coverage %.3f, want %.2f ± 0.065", cov, level)
	}
}

func TestBootstrapSharpeSEMatchesLo(t *testing.T) {
	// On i.i.d. normal returns the bootstrap SE of the per-period Sharpe ratio
	// approximates Lo's (2002) analytic √((1 + SR²/2)/n). The bootstrap SE of
	// one sample has ≈ 1/√(2R) = 2.2 % Monte Carlo error plus sampling
	// variation of a few percent; averaging the ratio over 20 samples brings
	// the combined error to ≈ 1 %. Tolerance 4 %.
	const n, sr = 1000, 0.1
	var ratio float64
	const samples = 20
	for k := range samples {
		r := normalReturns(seed.New(6, seed.Test, uint64(k)), n, sr*0.01, 0.01)
		iv, err := BootstrapSharpe(r, 1, BootstrapOptions{Resamples: 1000, BlockLength: 1}, seed.New(6, seed.Bootstrap, uint64(k)))
		if err != nil {
			t.Fatal(err)
		}
		ss, err := NewSharpeStats(r)
		if err != nil {
			t.Fatal(err)
		}
		lo := math.Sqrt((1 + ss.SR*ss.SR/2) / n)
		ratio += iv.SE / lo / samples
	}
	t.Logf("mean bootstrap SE / Lo SE = %.4f", ratio)
	if math.Abs(ratio-1) > 0.04 {
		t.Errorf("bootstrap SE / analytic SE = %.4f, want 1 ± 0.04", ratio)
	}
}

func TestBootstrapSharpeDiff(t *testing.T) {
	rng := seed.New(8, seed.Test, 0)
	a := testReturns(rng, 1000, 0.003, 0.02)
	t.Run("identical series", func(t *testing.T) {
		// Same indices on the same data: every replicate difference is 0.
		iv, err := BootstrapSharpeDiff(a, a, 365, BootstrapOptions{Resamples: 100}, seed.New(8, seed.Bootstrap, 0))
		if err != nil {
			t.Fatal(err)
		}
		if iv.Estimate != 0 || iv.Lo != 0 || iv.Hi != 0 || iv.SE != 0 || iv.PValue != 1 {
			t.Errorf("a − a: %+v, want all zero and p = 1", iv)
		}
	})
	t.Run("scaled copy", func(t *testing.T) {
		// Sharpe is scale-invariant, so a resampled pair (a, 2a) has equal
		// Sharpe ratios up to rounding of the sums (tolReduction).
		b := make([]float64, len(a))
		for i, x := range a {
			b[i] = 0.5 * x
		}
		iv, err := BootstrapSharpeDiff(a, b, 365, BootstrapOptions{Resamples: 100}, seed.New(8, seed.Bootstrap, 1))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(iv.Lo) > tolReduction || math.Abs(iv.Hi) > tolReduction {
			t.Errorf("a vs a/2: [%g, %g], want [0, 0]", iv.Lo, iv.Hi)
		}
	})
	t.Run("clear winner", func(t *testing.T) {
		// b = a − 0.004 per day: same noise, annualised Sharpe lower by
		// 0.004/0.02·√365 ≈ 3.8; the interval must exclude 0.
		b := make([]float64, len(a))
		for i, x := range a {
			b[i] = x - 0.004
		}
		iv, err := BootstrapSharpeDiff(a, b, 365, BootstrapOptions{}, seed.New(8, seed.Bootstrap, 2))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("difference %+v", iv)
		if !(iv.Lo > 0) || iv.PValue > 0.01 || iv.BlockLength < 1 {
			t.Errorf("winner not detected: %+v", iv)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := BootstrapSharpeDiff(a, a[:10], 365, BootstrapOptions{}, rng); err == nil {
			t.Error("misaligned series accepted")
		}
		if _, err := BootstrapSharpe(a[:3], 365, BootstrapOptions{}, rng); !errors.Is(err, ErrNoReturns) {
			t.Errorf("3 returns: %v, want ErrNoReturns", err)
		}
		for _, o := range []BootstrapOptions{{Resamples: 1}, {Level: 1}, {Level: -0.5}, {BlockLength: 0.5}, {BlockLength: math.Inf(1)}} {
			if _, err := BootstrapSharpe(a, 365, o, rng); err == nil {
				t.Errorf("options %+v accepted", o)
			}
		}
		if _, err := BootstrapSharpe(make([]float64, 10), 365, BootstrapOptions{}, rng); err == nil {
			t.Error("zero-dispersion series accepted")
		}
	})
}

func TestOptimalBlockLengthAR1(t *testing.T) {
	// Theory: for AR(1) with coefficient ρ the optimal expected block length
	// of the stationary bootstrap is (2ρ/(1−ρ²))^(2/3)·n^(1/3) (from
	// G = Σ|k|R(k) = 2ρσ²/((1−ρ²)(1−ρ)²) and g = Σ R(k) = σ²/(1−ρ)²).
	// The estimator's spread at n = 5000 is about ±15 % (measured: median
	// within 7 % of theory, interquartile range ≈ 10–20 % of it), so the
	// median of 15 replications must lie within 20 %, and must grow with ρ.
	const n, reps = 5000, 15
	prev := 0.0
	for _, rho := range []float64{0.2, 0.5, 0.8} {
		vals := make([]float64, reps)
		for k := range vals {
			vals[k] = OptimalBlockLength(ar1(seed.New(9, seed.Test, uint64(k)), n, rho))
		}
		med := SpreadOf(vals).Median
		want := math.Pow(2*rho/(1-rho*rho), 2.0/3) * math.Cbrt(n)
		t.Logf("ρ = %.1f: median block length %.2f, theory %.2f", rho, med, want)
		if math.Abs(med/want-1) > 0.2 {
			t.Errorf("ρ = %.1f: median %.2f, want %.2f ± 20 %%", rho, med, want)
		}
		if med <= prev {
			t.Errorf("ρ = %.1f: block length %.2f does not grow with ρ (previous %.2f)", rho, med, prev)
		}
		prev = med
	}
	// White noise: the automatic length stays near 1 (theory 0; clamped to 1).
	vals := make([]float64, reps)
	for k := range vals {
		vals[k] = OptimalBlockLength(normalReturns(seed.New(10, seed.Test, uint64(k)), n, 0, 1))
	}
	if med := SpreadOf(vals).Median; med > 3 {
		t.Errorf("white noise: median block length %.2f, want ≤ 3", med)
	}
	if b := OptimalBlockLength(make([]float64, 100)); b != 1 {
		t.Errorf("constant series: %v, want 1", b)
	}
	if b := OptimalBlockLength([]float64{1, 2, 3}); b != 1 {
		t.Errorf("3 values: %v, want 1", b)
	}
	// The upper clamp ⌈min(3√n, n/3)⌉: a random walk is maximally persistent.
	walk := make([]float64, 400)
	for i := 1; i < len(walk); i++ {
		walk[i] = walk[i-1] + 1
	}
	if b := OptimalBlockLength(walk); b > 60 || b < 1 {
		t.Errorf("trend: block length %v outside [1, 60]", b)
	}
}

func TestPSRAndDSR(t *testing.T) {
	t.Run("DSR worked example", func(t *testing.T) {
		// Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", section
		// "A numerical example": annualised SR 2.5 over 5 years of daily data
		// (T = 1250, 250 days a year), N = 100 trials whose annualised Sharpe
		// ratios have variance 1/2, skewness −3, kurtosis 10. By hand:
		//   V = 0.5/250 = 0.002 per period; Φ⁻¹(0.99) = 2.326348,
		//   Φ⁻¹(1 − 1/(100e)) = 2.680292; (1−γ)·2.326348 + γ·2.680292 = 2.530603;
		//   SR₀ = √0.002·2.530603 = 0.1131720 (paper: 0.1132; 1.7894 annualised).
		//   SR = 2.5/√250 = 0.1581139; √(1 + 3·0.1581139 + (10−1)/4·0.1581139²)
		//   = 1.2371708; z = (0.1581139 − 0.1131720)·√1249/1.2371708 = 1.2838160;
		//   DSR = Φ(1.2838160) = 0.9003968 (paper: 0.9004).
		// Deterministic closed form: tolExact, except Φ⁻¹ (gonum's rational
		// approximation, ≈ 1e-15 relative): 1e-9 covers it.
		s := SharpeStats{SR: 2.5 / math.Sqrt(250), N: 1250, Skewness: -3, ExcessKurtosis: 10 - 3}
		if sr0 := ExpectedMaxSharpe(100, 0.5/250); !sameFloat(sr0, 0.11317200186513214, 1e-9) {
			t.Errorf("SR₀ = %.10f, want 0.1131720019", sr0)
		}
		if dsr := s.DSR(100, 0.5/250); !sameFloat(dsr, 0.9003968344493904, 1e-9) {
			t.Errorf("DSR = %.10f, want 0.9003968344 (paper 0.9004)", dsr)
		}
		if one := s.DSR(1, 0.5/250); one != s.PSR(0) {
			t.Errorf("one trial: DSR %v ≠ PSR(0) %v", one, s.PSR(0))
		}
	})
	t.Run("PSR properties", func(t *testing.T) {
		// By hand for normal returns: SR = 0.1, n = 100, benchmark 0:
		// Φ(0.1·√99/√(1 + 0.5·0.01)) = Φ(0.992486) = 0.8395254.
		s := SharpeStats{SR: 0.1, N: 100}
		if p := s.PSR(0); !sameFloat(p, 0.8395254171844497, 1e-12) {
			t.Errorf("PSR = %.12f, want 0.839525417184", p)
		}
		for _, st := range []SharpeStats{s, {SR: -0.3, N: 20, Skewness: 1, ExcessKurtosis: 4}} {
			if p := st.PSR(st.SR); p != 0.5 {
				t.Errorf("PSR at SR = benchmark is %v, want 0.5", p)
			}
		}
		// Negative skew and fat tails widen the SE and shrink PSR toward 0.5.
		fat := SharpeStats{SR: 0.1, N: 100, Skewness: -2, ExcessKurtosis: 10}
		if !(fat.PSR(0) < s.PSR(0) && fat.PSR(0) > 0.5) {
			t.Errorf("fat tails: PSR %v, want in (0.5, %v)", fat.PSR(0), s.PSR(0))
		}
		if !(s.PSR(0.05) < s.PSR(0)) {
			t.Error("PSR must fall as the benchmark rises")
		}
	})
	t.Run("from returns", func(t *testing.T) {
		r := []float64{0.10, -0.05, 0.02, -0.10, 0.04, 0.03}
		s, err := NewSharpeStats(r)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := ComputeMetrics(r, 12, nil, Options{})
		// The same sample moments as ComputeMetrics (hand values in
		// TestMetricsHandSeries); per-period SR = annual Sharpe / √12.
		if !sameFloat(s.SR, m.Sharpe/math.Sqrt(12), tolExact) || !sameFloat(s.Skewness, m.Skewness, tolExact) ||
			!sameFloat(s.ExcessKurtosis, m.Kurtosis, tolExact) || s.N != 6 {
			t.Errorf("SharpeStats %+v disagree with Metrics %+v", s, m)
		}
		if _, err := NewSharpeStats([]float64{0.1}); err == nil {
			t.Error("one return accepted")
		}
	})
}

func TestExpectedMaxSharpeAgainstQuadrature(t *testing.T) {
	// Independent computation: E[max of N standard normals] =
	// ∫ x·N·φ(x)·Φ(x)^(N−1) dx by the midpoint rule on [−12, 12] (step 1e-3;
	// the integrand is smooth, error ≪ 1e-6). The paper's formula is an
	// asymptotic (Gumbel) approximation: measured error 2.3 % at N = 10,
	// 0.9 % at N = 100, 0.4 % at N = 1000; allow 3 %, 1.5 %, 1 %.
	for _, tc := range []struct {
		n   int
		tol float64
	}{{10, 0.03}, {100, 0.015}, {1000, 0.01}} {
		var exact float64
		const h = 1e-3
		for x := -12 + h/2; x < 12; x += h {
			exact += x * float64(tc.n) * math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) * math.Pow(normCDF(x), float64(tc.n-1)) * h
		}
		got := ExpectedMaxSharpe(tc.n, 1)
		if math.Abs(got/exact-1) > tc.tol {
			t.Errorf("N = %d: formula %.5f, exact %.5f", tc.n, got, exact)
		}
		// Scaling by the standard deviation of the trials.
		if s := ExpectedMaxSharpe(tc.n, 4); !sameFloat(s, 2*got, tolExact) {
			t.Errorf("N = %d: variance 4 gives %v, want %v", tc.n, s, 2*got)
		}
	}
	if ExpectedMaxSharpe(1, 1) != 0 {
		t.Error("one trial must give 0")
	}
}

func TestSpread(t *testing.T) {
	// Hand-computed with numpy's linear quantiles on sorted [1, 2, 3, 4, 100]
	// (the NaN is skipped): Q1 at h = 1 → 2, median at h = 2 → 3, Q3 at
	// h = 3 → 4.
	s := SpreadOf([]float64{4, math.NaN(), 100, 1, 3, 2})
	want := Spread{N: 5, Median: 3, Q1: 2, Q3: 4, IQR: 2, Min: 1, Max: 100}
	if s != want {
		t.Errorf("SpreadOf = %+v, want %+v", s, want)
	}
	// Even count: [1, 2, 3, 4]: median 2.5, Q1 1.75, Q3 3.25.
	if s := SpreadOf([]float64{4, 3, 2, 1}); s.Median != 2.5 || s.Q1 != 1.75 || s.Q3 != 3.25 {
		t.Errorf("SpreadOf(1..4) = %+v", s)
	}
	if s := SpreadOf([]float64{math.NaN()}); s.N != 0 || !math.IsNaN(s.Median) {
		t.Errorf("all-NaN spread %+v", s)
	}
	if _, err := json.Marshal(SpreadOf(nil)); err != nil {
		t.Errorf("empty spread does not encode: %v", err)
	}

	runs := make([]Metrics, 3)
	for i := range runs {
		r := []float64{0.01 * float64(i+1), -0.01, 0.02}
		var err error
		if runs[i], err = ComputeMetrics(r, 365, nil, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	ms := MetricsSpread(runs)
	sh := SpreadOf([]float64{runs[0].Sharpe, runs[1].Sharpe, runs[2].Sharpe})
	if ms["sharpe"] != sh || ms["periods"].Median != 3 {
		t.Errorf("MetricsSpread sharpe %+v, want %+v; periods %+v", ms["sharpe"], sh, ms["periods"])
	}
}

func BenchmarkBootstrapSharpe(b *testing.B) {
	// 1,000 resamples of 2,500 daily returns (≈ 7 years).
	r := testReturns(seed.New(1, seed.Test, 0), 2500, 0.001, 0.03)
	for _, bl := range []float64{0, 1, 10} {
		name := fmt.Sprintf("block=%g", bl)
		if bl == 0 {
			name = "block=auto"
		}
		b.Run(name, func(b *testing.B) {
			rng := seed.New(1, seed.Bootstrap, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := BootstrapSharpe(r, 365, BootstrapOptions{Resamples: 1000, BlockLength: bl}, rng); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBootstrapSharpeDiff(b *testing.B) {
	r := testReturns(seed.New(1, seed.Test, 0), 2500, 0.001, 0.03)
	q := testReturns(seed.New(1, seed.Test, 1), 2500, 0.0005, 0.02)
	rng := seed.New(1, seed.Bootstrap, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BootstrapSharpeDiff(r, q, 365, BootstrapOptions{Resamples: 1000}, rng); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOptimalBlockLength(b *testing.B) {
	r := testReturns(seed.New(1, seed.Test, 0), 2500, 0.001, 0.03)
	b.ReportAllocs()
	for b.Loop() {
		OptimalBlockLength(r)
	}
}

func ExampleBootstrapSharpeDiff() {
	// Two aligned daily return series: b is a with 0.1 % less per day.
	gen := seed.New(42, seed.Test, 0)
	a := make([]float64, 730)
	b := make([]float64, len(a))
	for i := range a {
		a[i] = 0.001 + 0.02*gen.NormFloat64()
		b[i] = a[i] - 0.001
	}
	iv, err := BootstrapSharpeDiff(a, b, 365, BootstrapOptions{Resamples: 2000}, seed.New(42, seed.Bootstrap, 0))
	if err != nil {
		panic(err)
	}
	fmt.Printf("Sharpe(a) − Sharpe(b) = %.2f, 95%% interval [%.2f, %.2f], p = %.4f\n", iv.Estimate, iv.Lo, iv.Hi, iv.PValue)
	// Output:
	// Sharpe(a) − Sharpe(b) = 0.95, 95% interval [0.90, 1.00], p = 0.0010
}

func ExampleSharpeStats_DSR() {
	// The numerical example of Bailey & López de Prado (2014): annualised
	// Sharpe 2.5 over 1,250 daily returns, skewness −3, kurtosis 10, the best
	// of 100 trials whose annualised Sharpe ratios have variance 1/2.
	s := SharpeStats{SR: 2.5 / math.Sqrt(250), N: 1250, Skewness: -3, ExcessKurtosis: 7}
	fmt.Printf("PSR(0) = %.4f, SR0 = %.4f, DSR = %.4f\n", s.PSR(0), ExpectedMaxSharpe(100, 0.5/250), s.DSR(100, 0.5/250))
	// Output:
	// PSR(0) = 1.0000, SR0 = 0.1132, DSR = 0.9004
}
