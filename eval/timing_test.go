package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestRegressHand(t *testing.T) {
	// Hand computation: x = 1..5, y = 2, 4, 5, 4, 5. x̄ = 3, ȳ = 4,
	// Σ(x−x̄)² = 10, Σ(x−x̄)(y−ȳ) = 6 → slope 0.6, intercept 4 − 1.8 = 2.2.
	// Residuals u = −0.8, 0.6, 1.0, −0.6, −0.2: SSR = 2.4, SST = 6, R² = 0.6.
	// OLS: s² = 2.4/3 = 0.8, SE = √(0.8/10) = 0.2828427, t = 2.1213203.
	// ψ = (x−x̄)·u = 1.6, −0.6, 0, −0.6, −0.4: Σψ² = 3.44.
	//   lag 0 (White): SE = √3.44/10 = 0.1854724.
	//   lag 1: Σψ_tψ_{t−1} = −0.96 + 0 + 0 + 0.24 = −0.72, weight 1 − 1/2:
	//   S = 3.44 + 2·0.5·(−0.72) = 2.72, SE = √2.72/10 = 0.1649242.
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{2, 4, 5, 4, 5}
	for _, tc := range []struct {
		lag    int
		wantSE float64
	}{{0, math.Sqrt(3.44) / 10}, {1, math.Sqrt(2.72) / 10}} {
		r, err := Regress(x, y, tc.lag)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string][2]float64{
			"slope": {r.Slope, 0.6}, "intercept": {r.Intercept, 2.2}, "r2": {r.R2, 0.6},
			"se_ols": {r.SlopeSEOLS, math.Sqrt(0.08)}, "t_ols": {r.TStatOLS, 0.6 / math.Sqrt(0.08)},
			"se_hac": {r.SlopeSE, tc.wantSE}, "t_hac": {r.TStat, 0.6 / tc.wantSE},
		} {
			if !sameFloat(p[0], p[1], tolExact) {
				t.Errorf("lag %d: %s = %.15g, want %.15g", tc.lag, name, p[0], p[1])
			}
		}
		if r.N != 5 || r.Lag != tc.lag {
			t.Errorf("N %d lag %d", r.N, r.Lag)
		}
	}
}

func TestRegressAgainstGonum(t *testing.T) {
	// Second algorithms: gonum/stat.LinearRegression and RSquared for the fit,
	// and the full HAC sandwich (X'X)⁻¹ S (X'X)⁻¹ built with gonum/mat
	// from its textbook definition with 2×2 matrices. Both sum 2,000 terms in
	// another order: tolReduction.
	rng := seed.New(12, seed.Test, 0)
	const n, lag = 2000, 7
	x := ar1(rng, n, 0.9)
	u := ar1(rng, n, 0.6)
	y := make([]float64, n)
	for i := range y {
		y[i] = 0.3 - 0.2*x[i] + u[i]*(1+0.3*math.Abs(x[i])) // autocorrelated, heteroskedastic errors
	}
	r, err := Regress(x, y, lag)
	if err != nil {
		t.Fatal(err)
	}
	alpha, beta := stat.LinearRegression(x, y, nil, false)
	r2 := stat.RSquared(x, y, nil, alpha, beta)
	if !sameFloat(r.Intercept, alpha, tolReduction) || !sameFloat(r.Slope, beta, tolReduction) || !sameFloat(r.R2, r2, tolReduction) {
		t.Errorf("fit (%v, %v, R² %v), gonum (%v, %v, R² %v)", r.Intercept, r.Slope, r.R2, alpha, beta, r2)
	}

	X := mat.NewDense(n, 2, nil)
	res := make([]float64, n)
	for i := range n {
		X.Set(i, 0, 1)
		X.Set(i, 1, x[i])
		res[i] = y[i] - alpha - beta*x[i]
	}
	var xtx, inv mat.Dense
	xtx.Mul(X.T(), X)
	if err := inv.Inverse(&xtx); err != nil {
		t.Fatal(err)
	}
	S := mat.NewDense(2, 2, nil)
	for l := 0; l <= lag; l++ {
		w := 1.0
		if l > 0 {
			w = 1 - float64(l)/float64(lag+1)
		}
		for tt := l; tt < n; tt++ {
			a := mat.NewVecDense(2, []float64{1, x[tt]})
			b := mat.NewVecDense(2, []float64{1, x[tt-l]})
			var outer mat.Dense
			outer.Outer(res[tt]*res[tt-l]*w, a, b)
			S.Add(S, &outer)
			if l > 0 {
				outer.Outer(res[tt]*res[tt-l]*w, b, a)
				S.Add(S, &outer)
			}
		}
	}
	var v mat.Dense
	v.Product(&inv, S, &inv)
	if se := math.Sqrt(v.At(1, 1)); !sameFloat(r.SlopeSE, se, tolReduction) {
		t.Errorf("HAC SE %.15g, sandwich %.15g", r.SlopeSE, se)
	}
	// With autocorrelated regressor and errors, the HAC SE exceeds the
	// naive one (the reason it is reported).
	if r.SlopeSE <= r.SlopeSEOLS {
		t.Errorf("HAC SE %v not above OLS SE %v for autocorrelated data", r.SlopeSE, r.SlopeSEOLS)
	}
}

func TestNeweyWestLag(t *testing.T) {
	// ⌊4·(n/100)^(2/9)⌋ by hand: n = 100 → 4; 1,000 → 4·10^(2/9) = 6.67 → 6;
	// 87,600 → 4·876^(2/9) = 18.03 → 18.
	for n, want := range map[int]int{100: 4, 1000: 6, 87600: 18, 0: 0} {
		if got := NeweyWestLag(n); got != want {
			t.Errorf("NeweyWestLag(%d) = %d, want %d", n, got, want)
		}
	}
	r, err := Regress([]float64{1, 2, 3, 4, 5, 6}, []float64{1, 3, 2, 5, 4, 6}, AutoLag)
	if err != nil || r.Lag != NeweyWestLag(6) {
		t.Errorf("AutoLag: lag %d, %v", r.Lag, err)
	}
}

// volPath returns a persistent annualised volatility forecast path
// (log-AR(1) around 60 % with half-life ≈ 35 bars) and daily returns whose
// true volatility is that forecast.
func volPath(rng *rand.Rand, n int) (vol, ret []float64) {
	vol = make([]float64, n)
	ret = make([]float64, n)
	lv := 0.0
	for i := range vol {
		lv = 0.98*lv + 0.1*rng.NormFloat64()
		vol[i] = 0.6 * math.Exp(lv)
		ret[i] = vol[i] / math.Sqrt(365) * rng.NormFloat64()
	}
	return vol, ret
}

func TestVolTiming(t *testing.T) {
	const n = 2000
	vol, asset := volPath(seed.New(13, seed.Test, 0), n)
	noise := seed.New(13, seed.Test, 1)

	t.Run("inverse-vol strategy times volatility", func(t *testing.T) {
		// Exposure = min(1, 0.4/vol): more cash when forecast volatility is
		// high. The slope must be negative and significant with HAC errors.
		expo := make([]float64, n)
		ret := make([]float64, n)
		for i := range expo {
			expo[i] = min(1, 0.4/vol[i])
			ret[i] = expo[i] * asset[i]
		}
		tm, err := VolTiming(expo, vol, ret, 365, TimingOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("inverse vol: slope %.4f t(HAC) %.2f t(OLS) %.2f R² %.3f lag %d; high-vol exposure %.3f vs %.3f",
			tm.Regression.Slope, tm.Regression.TStat, tm.Regression.TStatOLS, tm.Regression.R2, tm.Regression.Lag,
			tm.HighVol.Exposure, tm.Rest.Exposure)
		if !(tm.Regression.TStat < -3) || tm.Regression.Lag != NeweyWestLag(n) {
			t.Errorf("slope %v with t %v (lag %d), want t < −3", tm.Regression.Slope, tm.Regression.TStat, tm.Regression.Lag)
		}
		if !(tm.HighVol.Exposure < tm.Rest.Exposure) {
			t.Errorf("high-vol exposure %v not below the rest %v", tm.HighVol.Exposure, tm.Rest.Exposure)
		}
		// The buckets recomputed independently: sort the forecasts, take the
		// top 200 bars (⌈0.1·2000⌉), recompute each statistic directly.
		sorted := slices.Clone(vol)
		slices.Sort(sorted)
		thr := sorted[n-200]
		var hr, rr, he []float64
		for i := range vol {
			if vol[i] >= thr {
				hr = append(hr, ret[i])
				he = append(he, expo[i])
			} else {
				rr = append(rr, ret[i])
			}
		}
		if tm.Threshold != thr || tm.HighVol.Bars != 200 || tm.Rest.Bars != n-200 || len(hr) != 200 {
			t.Fatalf("bucket: threshold %v (want %v), bars %d/%d", tm.Threshold, thr, tm.HighVol.Bars, tm.Rest.Bars)
		}
		want := BucketPerf{Bars: 200, MeanReturn: stat.Mean(hr, nil), Sharpe: stat.Mean(hr, nil) / stat.StdDev(hr, nil) * math.Sqrt(365),
			MaxDrawdown: MaxDrawdown(hr), Exposure: stat.Mean(he, nil)}
		for name, p := range map[string][2]float64{
			"mean": {tm.HighVol.MeanReturn, want.MeanReturn}, "sharpe": {tm.HighVol.Sharpe, want.Sharpe},
			"drawdown": {tm.HighVol.MaxDrawdown, want.MaxDrawdown}, "exposure": {tm.HighVol.Exposure, want.Exposure},
			"rest sharpe": {tm.Rest.Sharpe, Sharpe(rr, 365)},
		} {
			if !sameFloat(p[0], p[1], tolReduction) {
				t.Errorf("%s = %v, direct %v", name, p[0], p[1])
			}
		}
		if _, err := json.Marshal(tm); err != nil {
			t.Errorf("Timing does not encode: %v", err)
		}
	})
	t.Run("constant exposure does not time", func(t *testing.T) {
		// Exposure 0.7 plus i.i.d. noise, unrelated to volatility: the slope
		// is insignificant (|t| < 2.5 at this seed; the t-stat is ≈ N(0,1)).
		expo := make([]float64, n)
		for i := range expo {
			expo[i] = 0.7 + 0.05*noise.NormFloat64()
		}
		tm, err := VolTiming(expo, vol, asset, 365, TimingOptions{Lag: 10, TopFraction: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(tm.Regression.TStat) > 2.5 || tm.Regression.Lag != 10 || tm.HighVol.Bars != 400 {
			t.Errorf("no timing: %+v", tm.Regression)
		}
	})
	t.Run("errors", func(t *testing.T) {
		e := make([]float64, n)
		for _, tc := range []struct {
			expo, vol, ret []float64
			opt            TimingOptions
		}{
			{e[:10], vol, asset, TimingOptions{}},
			{e, vol, asset, TimingOptions{TopFraction: 1}},
			{e, vol, asset, TimingOptions{Lag: -2}},
			{e, make([]float64, n), asset, TimingOptions{}}, // constant forecast
			{e[:2], vol[:2], asset[:2], TimingOptions{}},
		} {
			if _, err := VolTiming(tc.expo, tc.vol, tc.ret, 365, tc.opt); err == nil {
				t.Errorf("VolTiming accepted %d bars with %+v", len(tc.ret), tc.opt)
			}
		}
	})
}

func TestVolTimingConstantExposure(t *testing.T) {
	const n = 500
	vol, asset := volPath(seed.New(21, seed.Test, 0), n)
	jitter := seed.New(21, seed.Test, 1)
	exact := make([]float64, n)
	noisy := make([]float64, n)
	for i := range exact {
		// Equal weight, fully invested: cash weight 0, exposure 1. The
		// jittered copy is what a cash weight of a few ulps gives, e.g.
		// after the fee fixed point and a renormalisation.
		exact[i] = 1
		noisy[i] = 1 - 1e-16*math.Abs(jitter.NormFloat64())
	}
	if slices.Max(noisy)-slices.Min(noisy) == 0 {
		t.Fatal("the jittered exposure is exactly constant; the test would not test the jitter")
	}
	// Without the constant-exposure rule the noise gets a slope and a
	// finite t-statistic of its own.
	raw, err := Regress(vol, noisy, AutoLag)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("regression on the 1e-16 jitter alone: slope %.3g, t %.2f", raw.Slope, raw.TStat)
	for _, tc := range []struct {
		name string
		expo []float64
	}{{"exact", exact}, {"jitter 1e-16", noisy}, {"level 0.35", constLevel(n, 0.35)}} {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := VolTiming(tc.expo, vol, asset, 365, TimingOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := tm.Regression
			if !tm.ConstantExposure || r.Slope != 0 || !math.IsNaN(r.TStat) || !math.IsNaN(r.TStatOLS) || !math.IsNaN(r.R2) {
				t.Errorf("constant exposure: constant %v slope %v t %v t(OLS) %v R² %v, want true, 0, NaN, NaN, NaN",
					tm.ConstantExposure, r.Slope, r.TStat, r.TStatOLS, r.R2)
			}
			// Intercept: the mean exposure (a sum of n terms: tolReduction).
			if !sameFloat(r.Intercept, stat.Mean(tc.expo, nil), tolReduction) || r.N != n || r.Lag != NeweyWestLag(n) {
				t.Errorf("intercept %v (mean %v), N %d, lag %d", r.Intercept, stat.Mean(tc.expo, nil), r.N, r.Lag)
			}
			js, err := json.Marshal(tm)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			reg := back["regression"].(map[string]any)
			if reg["t_stat"] != nil || reg["t_stat_ols"] != nil || reg["slope"] != 0.0 || back["constant_exposure"] != true {
				t.Errorf("JSON %s: want t_stat null, slope 0, constant_exposure true", js)
			}
		})
	}
	t.Run("spread above the threshold is not constant", func(t *testing.T) {
		// 1e-9 of deliberate variation, tied to volatility: above
		// ConstantExposureSpread, so the regression is reported.
		expo := make([]float64, n)
		for i := range expo {
			expo[i] = 0.5 - 1e-9*vol[i]
		}
		tm, err := VolTiming(expo, vol, asset, 365, TimingOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tm.ConstantExposure || math.IsNaN(tm.Regression.TStat) || !sameFloat(tm.Regression.Slope, -1e-9, 1e-6) {
			t.Errorf("non-constant exposure: constant %v slope %v t %v", tm.ConstantExposure, tm.Regression.Slope, tm.Regression.TStat)
		}
	})
}

func constLevel(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func TestVolTimingRecoversSlope(t *testing.T) {
	// A genuine timer: exposure = a − b·vol + u with i.i.d. N(0, σ²) noise
	// u, independent of vol. Conditional on the forecasts the OLS slope is
	// N(−b, σ²/Σ(vol − mean)²), so |slope + b| ≤ 5·σ/√Sxx fails with
	// probability 6e-7 for a random seed (it passes at the fixed one).
	const n, a, b, sigma = 2000, 0.95, 0.6, 0.03
	vol, asset := volPath(seed.New(22, seed.Test, 0), n)
	noise := seed.New(22, seed.Test, 1)
	expo := make([]float64, n)
	for i := range expo {
		expo[i] = a - b*vol[i] + sigma*noise.NormFloat64()
	}
	tm, err := VolTiming(expo, vol, asset, 365, TimingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mean := stat.Mean(vol, nil)
	var sxx float64
	for _, v := range vol {
		sxx += (v - mean) * (v - mean)
	}
	se := sigma / math.Sqrt(sxx)
	r := tm.Regression
	t.Logf("slope %.5f (true −%.2f, tolerance ±%.5f = 5 SE), t(HAC) %.1f", r.Slope, b, 5*se, r.TStat)
	if math.Abs(r.Slope+b) > 5*se {
		t.Errorf("slope %v, want −%v ± %v", r.Slope, b, 5*se)
	}
	// The OLS standard error estimates the same σ/√Sxx: σ̂ is within 10 %
	// of σ for n = 2000 (its relative SE is 1/√(2n) ≈ 1.6 %).
	if math.Abs(r.SlopeSEOLS/se-1) > 0.1 {
		t.Errorf("OLS SE %v, true %v", r.SlopeSEOLS, se)
	}
	if tm.ConstantExposure || !(r.TStat < -2) {
		t.Errorf("timer not detected: constant %v, t %v", tm.ConstantExposure, r.TStat)
	}
}
