package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
)

// Tolerances.
const (
	// tolExact is for the same formula evaluated in float64 along a few
	// operations: agreement to a few ULPs of the inputs' magnitude.
	tolExact = 1e-12
	// tolReduction is for values reached through long reductions computed
	// in a different order or by a different algorithm (Welford versus two
	// passes, prefix sums): rounding grows like n·ε ≈ 1e-11 for n = 1e5.
	tolReduction = 1e-9
)

// sameFloat reports whether a and b agree within tol (absolute or
// relative), with NaN equal to NaN and infinities equal by sign.
func sameFloat(a, b, tol float64) bool {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return math.IsNaN(a) && math.IsNaN(b)
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return a == b
	}
	return scalar.EqualWithinAbsOrRel(a, b, tol, tol)
}

// testReturns returns n fat-tailed daily-like returns: a normal body with
// occasional jumps, as crypto returns have.
func testReturns(rng *rand.Rand, n int, mean, vol float64) []float64 {
	r := make([]float64, n)
	for i := range r {
		x := mean + vol*rng.NormFloat64()
		if rng.Float64() < 0.02 {
			x += 4 * vol * rng.NormFloat64()
		}
		r[i] = max(x, -0.9)
	}
	return r
}

func TestMetricsHandSeries(t *testing.T) {
	// Source: hand computation below (checked with a plain-Python script that
	// applies the same formulas). r = [0.10, −0.05, 0.02, −0.10, 0.04, 0.03],
	// periods per year 12, n = 6.
	//
	// Wealth W = 1, 1.1, 1.045, 1.0659, 0.95931, 0.9976824, 1.027612872.
	// total = W6 − 1 = 0.027612872.
	// CAGR = 1.027612872^(12/6) − 1 = 0.0559882147000883.
	// mean = 0.04/6 = 0.0066667; deviations 0.093333, −0.056667, 0.013333,
	//   −0.106667, 0.033333, 0.023333; Σd² = 0.0251333; var = Σd²/5 =
	//   0.00502667; std = 0.0708990.
	// annual vol = 0.0708990·√12 = 0.245601; Sharpe = 0.0066667/0.0708990·√12 = 0.325731.
	// downside: min(r,0)² = 0.0025 and 0.01, mean over all 6 = 0.00208333,
	//   dd = 0.0456435; downside risk = dd·√12 = 0.158114;
	//   Sortino = 0.0066667·12 / 0.158114 = 0.505964.
	// max drawdown: peak 1.1 at t=1, trough 0.95931: 0.95931/1.1 − 1 = −0.1279;
	//   never regained (W6 = 1.0276 < 1.1): duration 6 − 1 = 5 bars.
	// Calmar = 0.0559882/0.1279 = 0.437750.
	// Omega = (0.10+0.02+0.04+0.03)/(0.05+0.10) = 0.19/0.15 = 1.266667.
	// sorted = −0.10, −0.05, 0.02, 0.03, 0.04, 0.10;
	//   P5: h = 0.05·5 = 0.25 → −0.10 + 0.25·0.05 = −0.0875 (= VaR);
	//   P95: h = 4.75 → 0.04 + 0.75·0.06 = 0.085; tail = 0.085/0.0875 = 0.971429.
	// CVaR: ⌊5·0.05⌋ = 0 → mean of the smallest 1 = −0.10.
	// stability: y = cumulative log1p = 0.095310, 0.044017, 0.063820,
	//   −0.041541, −0.002320, 0.027239; Σ(t−2.5)² = 17.5,
	//   Σ(t−2.5)(y−ȳ) = −0.292365, Σ(y−ȳ)² = 0.0117689;
	//   R² = 0.292365²/(17.5·0.0117689) = 0.415028.
	// hit rate = 4/6.
	// moments: m2 = Σd²/6 = 0.00418889, m3 = −8.84074e−5, m4 = 3.62019e−5:
	//   skew = m3/m2^1.5 = −0.326092, excess kurtosis = m4/m2² − 3 = −0.936839.
	r := []float64{0.10, -0.05, 0.02, -0.10, 0.04, 0.03}
	got, err := ComputeMetrics(r, 12, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"total_return":              0.027612872,
		"annual_return":             0.0559882147000883,
		"annual_volatility":         0.24560130292814,
		"sharpe":                    0.32573117099222815,
		"sortino":                   0.5059644256269407,
		"downside_risk":             0.15811388300841897,
		"max_drawdown":              -0.1279,
		"calmar":                    0.4377499194690244,
		"omega":                     0.19 / 0.15,
		"tail_ratio":                0.085 / 0.0875,
		"value_at_risk":             -0.0875,
		"conditional_value_at_risk": -0.10,
		"stability":                 0.41502797439785166,
		"hit_rate":                  4.0 / 6,
		"skewness":                  -0.32609218717902694,
		"kurtosis":                  -0.9368390687333337,
		"max_drawdown_duration":     5,
		"periods":                   6,
	}
	checkMetricsMap(t, got, want, tolExact)
	// Without a Book the bookkeeping aggregates are not available.
	for _, v := range []float64{got.Turnover, got.FeesPaid, got.SlippagePaid, got.Exposure, got.FeesFraction} {
		if !math.IsNaN(v) {
			t.Errorf("bookkeeping aggregate %v without a Book, want NaN", v)
		}
	}
}

// checkMetricsMap compares the fields of m named by JSON key.
func checkMetricsMap(t *testing.T, m Metrics, want map[string]float64, tol float64) {
	t.Helper()
	v := reflect.ValueOf(m)
	typ := v.Type()
	found := 0
	for i := range typ.NumField() {
		name, _ := jsonName(typ.Field(i))
		w, ok := want[name]
		if !ok {
			continue
		}
		found++
		var g float64
		if f := v.Field(i); f.Kind() == reflect.Int {
			g = float64(f.Int())
		} else {
			g = f.Float()
		}
		if !sameFloat(g, w, tol) {
			t.Errorf("%s = %.17g, want %.17g", name, g, w)
		}
	}
	if found != len(want) {
		t.Fatalf("only %d of %d expected fields exist", found, len(want))
	}
}

// refMetrics is the slow, obvious reference: every statistic from its
// textbook definition with explicit arrays, a full sort for percentiles,
// gonum/stat for the regression, in the order empyrical writes them.
func refMetrics(r []float64, ppy float64, opt Options) Metrics {
	n := len(r)
	nan := math.NaN()
	m := Metrics{Periods: n, PeriodsPerYear: ppy}
	cut := opt.Cutoff
	if cut == 0 {
		cut = 0.05
	}
	// Wealth path with W[0] = 1.
	w := make([]float64, n+1)
	w[0] = 1
	for i, x := range r {
		w[i+1] = w[i] * (1 + x)
	}
	m.TotalReturn = w[n] - 1
	if w[n] > 0 {
		m.AnnualReturn = math.Pow(w[n], ppy/float64(n)) - 1
	} else {
		m.AnnualReturn = -1
	}
	// Drawdowns from the running maximum.
	dd := make([]float64, n+1)
	runMax := make([]float64, n+1)
	for i := range w {
		runMax[i] = w[i]
		if i > 0 {
			runMax[i] = max(runMax[i-1], w[i])
		}
		dd[i] = (w[i] - runMax[i]) / runMax[i]
	}
	m.MaxDrawdown = slices.Min(dd)
	// Duration: for every bar below its running maximum, the distance to the
	// bar where that maximum was set, extended to the recovery bar.
	for i := 0; i <= n; i++ {
		if i > 0 && w[i] < runMax[i] {
			continue
		}
		// i is a peak (or a new high); find the first later bar back at it.
		j := i + 1
		for j <= n && w[j] < w[i] {
			j++
		}
		if j == i+1 {
			continue // no underwater bar after this peak
		}
		d := j - i
		if j > n {
			d = n - i
		}
		m.MaxDrawdownDuration = max(m.MaxDrawdownDuration, d)
	}
	m.Calmar = nan
	if m.MaxDrawdown < 0 {
		m.Calmar = m.AnnualReturn / math.Abs(m.MaxDrawdown)
	}
	hits := 0
	for _, x := range r {
		if x > 0 {
			hits++
		}
	}
	m.HitRate = float64(hits) / float64(n)
	var down float64
	for _, x := range r {
		d := math.Min(x-opt.SortinoTarget, 0)
		down += d * d
	}
	m.DownsideRisk = math.Sqrt(down/float64(n)) * math.Sqrt(ppy)
	s := slices.Clone(r)
	slices.Sort(s)
	pct := func(q float64) float64 {
		h := float64(n-1) * q
		lo := int(math.Floor(h))
		if lo == n-1 {
			return s[lo]
		}
		return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
	}
	m.ValueAtRisk = pct(cut)
	k := int(float64(n-1) * cut)
	m.ConditionalValueAtRisk = stat.Mean(s[:k+1], nil)
	m.TailRatio = math.Abs(pct(0.95)) / math.Abs(pct(0.05))
	m.AnnualVolatility, m.Sharpe, m.Sortino, m.Omega, m.Stability, m.Skewness, m.Kurtosis = nan, nan, nan, nan, nan, nan, nan
	m.Turnover, m.TurnoverTotal, m.FeesPaid, m.FeesFraction, m.SlippagePaid, m.SlippageFraction, m.Exposure = nan, nan, nan, nan, nan, nan, nan
	if n < 2 {
		return m
	}
	mean := stat.Mean(r, nil)
	sd := stat.StdDev(r, nil)
	m.AnnualVolatility = sd * math.Sqrt(ppy)
	m.Sharpe = (mean - opt.RiskFree) / sd * math.Sqrt(ppy)
	m.Sortino = (mean - opt.SortinoTarget) * ppy / m.DownsideRisk
	thr := opt.RiskFree + math.Pow(1+opt.OmegaThreshold, 1/ppy) - 1
	var up, dn float64
	for _, x := range r {
		if x > thr {
			up += x - thr
		} else {
			dn += thr - x
		}
	}
	if dn > 0 {
		m.Omega = up / dn
	}
	y := make([]float64, n)
	tt := make([]float64, n)
	c := 0.0
	for i, x := range r {
		c += math.Log1p(x)
		y[i] = c
		tt[i] = float64(i)
	}
	a, b := stat.LinearRegression(tt, y, nil, false)
	m.Stability = stat.RSquared(tt, y, nil, a, b)
	var m2, m3, m4 float64
	for _, x := range r {
		d := x - mean
		m2 += d * d / float64(n)
		m3 += d * d * d / float64(n)
		m4 += d * d * d * d / float64(n)
	}
	m.Skewness = m3 / math.Pow(m2, 1.5)
	m.Kurtosis = m4/(m2*m2) - 3
	return m
}

func TestMetricsAgainstReference(t *testing.T) {
	for _, tc := range []struct {
		n    int
		ppy  float64
		opt  Options
		mean float64
	}{
		{1, 365, Options{}, 0},
		{2, 365, Options{}, 0.001},
		{3, 8760, Options{}, 0},
		{20, 365, Options{Cutoff: 0.1}, 0.002},
		{257, 365, Options{RiskFree: 1e-4, SortinoTarget: 5e-4, OmegaThreshold: 0.05}, 0.001},
		{1000, 2190, Options{Cutoff: 0.01}, -0.0005},
		{87600, 8760, Options{}, 0.0001},
	} {
		t.Run(fmt.Sprintf("n=%d", tc.n), func(t *testing.T) {
			rng := seed.New(7, seed.Test, uint64(tc.n))
			r := testReturns(rng, tc.n, tc.mean, 0.02)
			got, err := ComputeMetrics(r, tc.ppy, nil, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			want := refMetrics(r, tc.ppy, tc.opt)
			compareMetrics(t, got, want)
		})
	}
}

// compareMetrics compares every field; the path statistics are equal to
// rounding (tolExact) and the reductions to tolReduction.
func compareMetrics(t *testing.T, got, want Metrics) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		switch g, w := gv.Field(i), wv.Field(i); g.Kind() {
		case reflect.Int:
			if g.Int() != w.Int() {
				t.Errorf("%s = %d, want %d", name, g.Int(), w.Int())
			}
		case reflect.Float64:
			tol := tolExact
			switch name {
			case "Stability", "Skewness", "Kurtosis", "Sharpe", "AnnualVolatility", "Sortino", "Omega", "ConditionalValueAtRisk":
				tol = tolReduction
			}
			if !sameFloat(g.Float(), w.Float(), tol) {
				t.Errorf("%s = %.17g, want %.17g", name, g.Float(), w.Float())
			}
		}
	}
}

func TestMetricsProperties(t *testing.T) {
	rng := seed.New(11, seed.Test, 0)
	r := testReturns(rng, 500, 0.001, 0.03)
	base, err := ComputeMetrics(r, 365, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("sharpe invariant to scaling", func(t *testing.T) {
		for _, c := range []float64{0.01, 0.5, 1.0 / 3} {
			s := make([]float64, len(r))
			for i, x := range r {
				s[i] = c * x
			}
			m, err := ComputeMetrics(s, 365, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// mean and std both scale by c: equal up to rounding.
			if !sameFloat(m.Sharpe, base.Sharpe, tolExact) {
				t.Errorf("c=%v: Sharpe %v, want %v", c, m.Sharpe, base.Sharpe)
			}
			if !sameFloat(m.AnnualVolatility, c*base.AnnualVolatility, tolExact) {
				t.Errorf("c=%v: volatility %v, want %v", c, m.AnnualVolatility, c*base.AnnualVolatility)
			}
		}
	})
	t.Run("monotone series has no drawdown", func(t *testing.T) {
		up := make([]float64, len(r))
		for i, x := range r {
			up[i] = math.Abs(x) // non-decreasing wealth; includes zero returns
		}
		up[3] = 0
		m, err := ComputeMetrics(up, 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.MaxDrawdown != 0 || m.MaxDrawdownDuration != 0 || !math.IsNaN(m.Calmar) {
			t.Errorf("monotone: drawdown %v duration %d Calmar %v, want 0, 0, NaN", m.MaxDrawdown, m.MaxDrawdownDuration, m.Calmar)
		}
		if !math.IsInf(m.Sortino, 1) || m.DownsideRisk != 0 || !math.IsNaN(m.Omega) {
			t.Errorf("no losses: Sortino %v downside %v Omega %v, want +Inf, 0, NaN", m.Sortino, m.DownsideRisk, m.Omega)
		}
	})
	t.Run("first period loss counts", func(t *testing.T) {
		m, err := ComputeMetrics([]float64{-0.2, 0.1, 0.2}, 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// W = 1, 0.8, 0.88, 1.056: drawdown −0.2 from the starting 1,
		// recovered at bar 3: duration 3.
		if !sameFloat(m.MaxDrawdown, -0.2, tolExact) || m.MaxDrawdownDuration != 3 {
			t.Errorf("drawdown %v duration %d, want −0.2, 3", m.MaxDrawdown, m.MaxDrawdownDuration)
		}
	})
	t.Run("bounds", func(t *testing.T) {
		if base.MaxDrawdown > 0 || base.MaxDrawdown < -1 || base.Stability < 0 || base.Stability > 1 ||
			base.HitRate < 0 || base.HitRate > 1 || base.ConditionalValueAtRisk > base.ValueAtRisk {
			t.Errorf("out of range: %+v", base)
		}
	})
}

func TestMetricsEdgeCases(t *testing.T) {
	isNaN := math.IsNaN
	t.Run("empty", func(t *testing.T) {
		m, err := ComputeMetrics(nil, 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := reflect.ValueOf(m)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Float64 && !isNaN(f.Float()) && v.Type().Field(i).Name != "PeriodsPerYear" {
				t.Errorf("%s = %v for no returns, want NaN", v.Type().Field(i).Name, f.Float())
			}
		}
	})
	t.Run("one return", func(t *testing.T) {
		m, err := ComputeMetrics([]float64{-0.1}, 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !sameFloat(m.TotalReturn, -0.1, tolExact) || !sameFloat(m.MaxDrawdown, -0.1, tolExact) ||
			m.MaxDrawdownDuration != 1 || m.ValueAtRisk != -0.1 || m.ConditionalValueAtRisk != -0.1 {
			t.Errorf("one return: %+v", m)
		}
		for name, v := range map[string]float64{"vol": m.AnnualVolatility, "sharpe": m.Sharpe, "sortino": m.Sortino, "omega": m.Omega, "stability": m.Stability} {
			if !isNaN(v) {
				t.Errorf("%s = %v for one return, want NaN", name, v)
			}
		}
	})
	t.Run("constant", func(t *testing.T) {
		// 0.001 is not exact in binary: the mean of copies may differ from
		// the value by an ULP; the dispersion must still be exactly zero.
		m, err := ComputeMetrics(slices.Repeat([]float64{0.001}, 7), 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.AnnualVolatility != 0 || !math.IsInf(m.Sharpe, 1) || !isNaN(m.Skewness) || m.Stability != 1 && !sameFloat(m.Stability, 1, tolExact) {
			t.Errorf("constant: vol %v Sharpe %v skew %v stability %v, want 0, +Inf, NaN, 1", m.AnnualVolatility, m.Sharpe, m.Skewness, m.Stability)
		}
	})
	t.Run("all zero", func(t *testing.T) {
		m, err := ComputeMetrics(make([]float64, 5), 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !isNaN(m.Sharpe) || !isNaN(m.Sortino) || m.Stability != 0 || m.TotalReturn != 0 || !isNaN(m.TailRatio) || m.HitRate != 0 {
			t.Errorf("zeros: %+v", m)
		}
	})
	t.Run("total loss", func(t *testing.T) {
		m, err := ComputeMetrics([]float64{0.1, -1, 0}, 365, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.TotalReturn != -1 || m.AnnualReturn != -1 || m.MaxDrawdown != -1 || !isNaN(m.Stability) {
			t.Errorf("ruin: %+v", m)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			r   []float64
			ppy float64
			opt Options
		}{
			{[]float64{0.1, math.NaN()}, 365, Options{}},
			{[]float64{math.Inf(1)}, 365, Options{}},
			{[]float64{-1.5}, 365, Options{}},
			{[]float64{0.1}, 0, Options{}},
			{[]float64{0.1}, math.Inf(1), Options{}},
			{[]float64{0.1}, 365, Options{Cutoff: 1}},
			{[]float64{0.1}, 365, Options{Cutoff: -0.1}},
			{[]float64{0.1}, 365, Options{RiskFree: math.NaN()}},
		} {
			if _, err := ComputeMetrics(tc.r, tc.ppy, nil, tc.opt); err == nil {
				t.Errorf("ComputeMetrics(%v, %v, %+v) succeeded, want an error", tc.r, tc.ppy, tc.opt)
			}
		}
		if _, err := ComputeMetrics([]float64{0.1}, 365, &Book{Fees: []float64{math.NaN()}}, Options{}); err == nil {
			t.Error("NaN fee accepted")
		}
	})
}

func TestMetricsBook(t *testing.T) {
	// Hand-computed: turnover mean (1+0.2+0+0.3)/4 = 0.375, total 1.5; fees
	// 10+2+0+3 = 15 on 10,000 capital = 0.0015; slippage 5+1+0+1.5 = 7.5 →
	// 0.00075; exposure (1+0.8+0.8+0.5)/4 = 0.775.
	b := &Book{
		InitialCapital: 10000,
		Turnover:       []float64{1, 0.2, 0, 0.3},
		Fees:           []float64{10, 2, 0, 3},
		Slippage:       []float64{5, 1, 0, 1.5},
		Exposure:       []float64{1, 0.8, 0.8, 0.5},
	}
	m, err := ComputeMetrics([]float64{0.01, -0.02, 0.03, 0}, 365, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkMetricsMap(t, m, map[string]float64{
		"turnover": 0.375, "turnover_total": 1.5, "fees_paid": 15, "fees_fraction": 0.0015,
		"slippage_paid": 7.5, "slippage_fraction": 0.00075, "exposure": 0.775,
	}, tolExact)

	b.Exposure = nil
	b.InitialCapital = 0
	m, err = ComputeMetrics([]float64{0.01, -0.02, 0.03, 0}, 365, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(m.Exposure) || !math.IsNaN(m.FeesFraction) || m.FeesPaid != 15 {
		t.Errorf("partial book: exposure %v fee fraction %v fees %v, want NaN, NaN, 15", m.Exposure, m.FeesFraction, m.FeesPaid)
	}

	defer func() {
		if recover() == nil {
			t.Error("misaligned Book did not panic")
		}
	}()
	_, _ = ComputeMetrics([]float64{0.01}, 365, &Book{Fees: []float64{1, 2}}, Options{})
}

func TestMetricsJSON(t *testing.T) {
	m, err := ComputeMetrics([]float64{0.01}, 365, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Sortino = math.Inf(1)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("NaN/Inf metrics do not encode: %v", err)
	}
	var keys map[string]any
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatalf("invalid JSON %s: %v", data, err)
	}
	// The keys the issue fixes, exactly.
	for _, k := range strings.Fields("total_return annual_return annual_volatility sharpe sortino downside_risk max_drawdown calmar omega tail_ratio value_at_risk conditional_value_at_risk stability turnover fees_paid slippage_paid max_drawdown_duration hit_rate exposure") {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks key %q: %s", k, data)
		}
	}
	if keys["sharpe"] != nil || keys["sortino"] != nil {
		t.Errorf("NaN/Inf not encoded as null: sharpe %v sortino %v", keys["sharpe"], keys["sortino"])
	}
	var back Metrics
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	m.Sortino = math.NaN() // the sign of an infinity is not kept
	if !reflect.DeepEqual(fmt.Sprint(back), fmt.Sprint(m)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, m)
	}
	// Segments embed Metrics and must encode too.
	segs, err := MetricsBySegment([]float64{0.01, 0.02}, []market.Regime{market.Bull, market.Crash}, 365, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(segs); err != nil {
		t.Errorf("segments do not encode: %v", err)
	}
}

func TestOrderStatsAgainstSort(t *testing.T) {
	rng := seed.New(3, seed.Test, 0)
	for _, n := range []int{1, 2, 5, 24, 25, 26, 100, 1000, 5001} {
		for rep := range 5 {
			a := make([]float64, n)
			for i := range a {
				switch rep {
				case 0:
					a[i] = rng.NormFloat64()
				case 1:
					a[i] = float64(rng.IntN(4)) // many ties
				case 2:
					a[i] = float64(i) // sorted
				case 3:
					a[i] = float64(n - i) // reversed
				default:
					a[i] = float64(i % 7) // organ-pipe-like pattern
				}
			}
			sorted := slices.Clone(a)
			slices.Sort(sorted)
			ks := []int{0, n / 20, n/20 + 1, n / 2, n - 1 - n/20, n - n/20, n - 1}
			slices.Sort(ks)
			orderStats(a, ks)
			for _, k := range ks {
				if k < n && a[k] != sorted[k] {
					t.Fatalf("n=%d rep=%d: a[%d] = %v, want %v", n, rep, k, a[k], sorted[k])
				}
				if k < n && slices.Max(a[:k+1]) != sorted[k] {
					t.Fatalf("n=%d rep=%d: prefix up to %d is not the k smallest", n, rep, k)
				}
			}
		}
	}
}

func TestQuantileNumpy(t *testing.T) {
	// Source: numpy.percentile([1, 2, 3, 4], q) with the default linear
	// method, computed by hand: h = q/100·3.
	s := []float64{1, 2, 3, 4}
	for _, tc := range []struct{ q, want float64 }{
		{0.05, 1.15}, {0.25, 1.75}, {0.5, 2.5}, {0.95, 3.85}, {1, 4}, {0, 1},
	} {
		if got := quantileRanked(s, tc.q); !sameFloat(got, tc.want, tolExact) {
			t.Errorf("q=%v: %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestMetricsBySegment(t *testing.T) {
	rng := seed.New(5, seed.Test, 0)
	n := 400
	r := testReturns(rng, n, 0.001, 0.02)
	labels := make([]market.Regime, n)
	book := &Book{InitialCapital: 1000, Fees: make([]float64, n), Turnover: make([]float64, n)}
	for i := range labels {
		labels[i] = market.Regime(1 + (i/37)%4)
		book.Fees[i] = rng.Float64()
		book.Turnover[i] = rng.Float64()
	}
	segs, err := MetricsBySegment(r, labels, 365, book, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 4", len(segs))
	}
	var fees, bars float64
	for i, s := range segs {
		if s.Label != market.Regime(i+1) {
			t.Errorf("segment %d has label %v, want %v (sorted)", i, s.Label, market.Regime(i+1))
		}
		// Independent computation: filter by hand, then ComputeMetrics.
		var sub, subFees, subTurn []float64
		for t, l := range labels {
			if l == s.Label {
				sub = append(sub, r[t])
				subFees = append(subFees, book.Fees[t])
				subTurn = append(subTurn, book.Turnover[t])
			}
		}
		want, err := ComputeMetrics(sub, 365, &Book{InitialCapital: 1000, Fees: subFees, Turnover: subTurn}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		compareMetrics(t, s.Metrics, want)
		fees += s.Metrics.FeesFraction
		bars += float64(s.Metrics.Periods)
	}
	all, err := ComputeMetrics(r, 365, book, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloat(fees, all.FeesFraction, tolExact) || int(bars) != n {
		t.Errorf("segments add up to fees %v over %v bars, want %v over %d", fees, bars, all.FeesFraction, n)
	}
	// Plain int labels (folds) work too.
	folds := make([]int, n)
	for i := range folds {
		folds[i] = i / 100
	}
	fs, err := MetricsBySegment(r, folds, 365, nil, Options{})
	if err != nil || len(fs) != 4 || fs[3].Label != 3 || fs[3].Metrics.Periods != 100 {
		t.Errorf("fold segments: %v, %v", fs, err)
	}
}

func TestPeriodsPerYear(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want float64
	}{{24 * time.Hour, 365}, {time.Hour, 8760}, {4 * time.Hour, 2190}, {time.Minute, 525600}} {
		if got := PeriodsPerYear(tc.d); got != tc.want {
			t.Errorf("PeriodsPerYear(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestMetricsRealBTC(t *testing.T) {
	r := realdata.SimpleReturns(realdata.Closes(t, "daily/BTC.csv"))
	m, err := ComputeMetrics(r, 365, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareMetrics(t, m, refMetrics(r, 365, Options{}))
	// Sanity bounds any BTC history since 2017 satisfies: a drawdown worse
	// than −70 % (2018 and 2022) and fat tails.
	if m.MaxDrawdown > -0.7 || m.Kurtosis < 3 || m.AnnualVolatility < 0.4 {
		t.Errorf("BTC daily buy-and-hold looks wrong: %+v", m)
	}
	t.Logf("BTC daily buy and hold, %d days: CAGR %.4f vol %.4f Sharpe %.4f Sortino %.4f maxDD %.4f (%d days) Calmar %.4f VaR %.4f CVaR %.4f tail %.4f stability %.4f",
		m.Periods, m.AnnualReturn, m.AnnualVolatility, m.Sharpe, m.Sortino, m.MaxDrawdown, m.MaxDrawdownDuration, m.Calmar, m.ValueAtRisk, m.ConditionalValueAtRisk, m.TailRatio, m.Stability)
}

func ExampleComputeMetrics() {
	returns := []float64{0.10, -0.05, 0.02, -0.10, 0.04, 0.03}
	m, err := ComputeMetrics(returns, 12, nil, Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("total %.4f CAGR %.4f Sharpe %.4f maxDD %.4f over %d bars\n",
		m.TotalReturn, m.AnnualReturn, m.Sharpe, m.MaxDrawdown, m.MaxDrawdownDuration)
	// Output:
	// total 0.0276 CAGR 0.0560 Sharpe 0.3257 maxDD -0.1279 over 5 bars
}

func BenchmarkComputeMetrics(b *testing.B) {
	// 10 years of hourly bars.
	r := testReturns(seed.New(1, seed.Test, 0), 87600, 0.00002, 0.006)
	book := &Book{InitialCapital: 1e5, Turnover: make([]float64, len(r)), Fees: make([]float64, len(r)),
		Slippage: make([]float64, len(r)), Exposure: make([]float64, len(r))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ComputeMetrics(r, 8760, book, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSortPercentiles is the alternative ComputeMetrics avoids: one full
// sort of a copy, for comparison with the selection it uses.
func BenchmarkSortPercentiles(b *testing.B) {
	r := testReturns(seed.New(1, seed.Test, 0), 87600, 0.00002, 0.006)
	b.ReportAllocs()
	for b.Loop() {
		s := slices.Clone(r)
		slices.Sort(s)
	}
}
