package regime

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"gonum.org/v1/gonum/floats/scalar"
)

// closePanel builds a daily panel whose bars are flat (open = high = low =
// close) from closes[t][i].
func closePanel(t testing.TB, closes [][]float64) *market.Panel {
	t.Helper()
	n := len(closes[0])
	spec := market.PanelSpec{Interval: 24 * time.Hour}
	for i := 0; i < n; i++ {
		spec.Assets = append(spec.Assets, string(rune('A'+i)))
	}
	for k, row := range closes {
		spec.Times = append(spec.Times, int64(k)*86400)
		spec.Open = append(spec.Open, row...)
		spec.High = append(spec.High, row...)
		spec.Low = append(spec.Low, row...)
		spec.Close = append(spec.Close, row...)
		spec.Volume = append(spec.Volume, make([]float64, n)...)
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQuantile7 checks the type-7 quantile against values of
// numpy.quantile(x, q) (default method "linear"), worked by hand:
// x = [1, 2, 4, 7, 11], h = 4q.
func TestQuantile7(t *testing.T) {
	x := []float64{1, 2, 4, 7, 11}
	for _, tc := range []struct{ q, want float64 }{
		{0, 1}, {1, 11}, {0.5, 4},
		{0.1, 1.4},  // h = 0.4: 1 + 0.4·(2−1)
		{0.35, 2.8}, // h = 1.4: 2 + 0.4·(4−2)
		{0.9, 9.4},  // h = 3.6: 7 + 0.6·(11−7)
	} {
		if got := quantile7(x, tc.q); !scalar.EqualWithinAbsOrRel(got, tc.want, 1e-15, 1e-15) {
			t.Errorf("quantile7(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := quantile7([]float64{3}, 0.7); got != 3 {
		t.Errorf("single element: %v", got)
	}
}

// TestClassify walks through every rule and its boundaries.
func TestClassify(t *testing.T) {
	th := Thresholds{CrashVol: 0.05, CrashTrend: -0.1, SidewaysVol: 0.02,
		SidewaysTrendLo: -0.05, SidewaysTrendHi: 0.05, BullTrend: 0}
	for _, tc := range []struct {
		trend, vol float64
		want       market.Regime
	}{
		{-0.2, 0.06, market.Crash},
		{-0.1, 0.05, market.Crash},    // both bounds inclusive
		{-0.09, 0.06, market.Bear},    // volatile but not falling enough
		{-0.2, 0.04, market.Bear},     // falling but not volatile enough
		{0.01, 0.01, market.Sideways}, // quiet and flat
		{0.05, 0.01, market.Bull},     // trend bound exclusive
		{-0.05, 0.02, market.Bear},    // ditto, below the bull cut
		{0.01, 0.021, market.Bull},    // not quiet
		{0, 0.03, market.Bull},        // bull bound inclusive
		{-1e-9, 0.03, market.Bear},    //
		{math.NaN(), 0.01, market.Unlabelled},
		{0.1, math.NaN(), market.Unlabelled},
	} {
		if got := th.Classify(tc.trend, tc.vol); got != tc.want {
			t.Errorf("Classify(%v, %v) = %v, want %v", tc.trend, tc.vol, got, tc.want)
		}
	}
}

// TestFitRules computes the statistics directly from the closes (k-bar
// index log return as log of the geometric-mean price ratio; RMS of daily
// index log returns) and checks the fitted thresholds and the labels.
func TestFitRules(t *testing.T) {
	// Two assets; a deterministic but irregular path.
	var closes [][]float64
	a, b := 100.0, 10.0
	for k := 0; k < 300; k++ {
		closes = append(closes, []float64{a, b})
		a *= math.Exp(0.03*math.Sin(float64(k)*0.37) + 0.004*math.Cos(float64(k)*0.05))
		b *= math.Exp(0.02*math.Sin(float64(k)*0.11+1) - 0.01*math.Sin(float64(k)*0.023))
	}
	p := closePanel(t, closes)
	c := DefaultRules()
	c.TrendBars, c.VolBars = 20, 7
	from, to := 50, 250
	r, err := FitRules(p, from, to, c)
	if err != nil {
		t.Fatal(err)
	}
	idx := func(k int) float64 { // index log return of bar k
		return 0.5 * (math.Log(closes[k][0]/closes[k-1][0]) + math.Log(closes[k][1]/closes[k-1][1]))
	}
	trendAt := func(k int) float64 {
		return 0.5 * (math.Log(closes[k][0]/closes[k-c.TrendBars][0]) + math.Log(closes[k][1]/closes[k-c.TrendBars][1]))
	}
	volAt := func(k int) float64 {
		var q float64
		for s := k - c.VolBars + 1; s <= k; s++ {
			q += idx(s) * idx(s)
		}
		return math.Sqrt(q / float64(c.VolBars))
	}
	var tr, vo []float64
	for k := from; k < to; k++ {
		tr = append(tr, trendAt(k))
		vo = append(vo, volAt(k))
	}
	slices.Sort(tr)
	slices.Sort(vo)
	want := c.thresholds(tr, vo)
	got := r.Thresholds()
	// Trend as a sum of k log returns vs the log of a k-bar ratio: equal up
	// to rounding of ~20 terms.
	const tol = 1e-12
	for _, pair := range [][2]float64{
		{got.CrashVol, want.CrashVol}, {got.CrashTrend, want.CrashTrend}, {got.SidewaysVol, want.SidewaysVol},
		{got.SidewaysTrendLo, want.SidewaysTrendLo}, {got.SidewaysTrendHi, want.SidewaysTrendHi}, {got.BullTrend, want.BullTrend},
	} {
		if !scalar.EqualWithinAbsOrRel(pair[0], pair[1], tol, tol) {
			t.Errorf("threshold %.15g, independent %.15g", pair[0], pair[1])
		}
	}
	labels := r.LabelTo(nil, p)
	for k := range labels {
		if k < c.TrendBars {
			if labels[k] != market.Unlabelled {
				t.Fatalf("bar %d inside warm-up labelled %v", k, labels[k])
			}
			continue
		}
		tk, vk := trendAt(k), volAt(k)
		// Skip bars within rounding of a threshold.
		near := false
		for _, v := range []float64{got.CrashTrend, got.SidewaysTrendLo, got.SidewaysTrendHi, got.BullTrend} {
			near = near || math.Abs(tk-v) < 1e-12
		}
		for _, v := range []float64{got.CrashVol, got.SidewaysVol} {
			near = near || math.Abs(vk-v) < 1e-12
		}
		if w := got.Classify(tk, vk); !near && labels[k] != w {
			t.Errorf("bar %d labelled %v, independent %v", k, labels[k], w)
		}
	}
	seen := map[market.Regime]bool{}
	for _, l := range labels {
		seen[l] = true
	}
	if len(seen) < 4 {
		t.Errorf("the test path exercises only %v", seen)
	}
}

func TestRuleConfigValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		edit func(c *RuleConfig)
	}{
		{"trend_bars", func(c *RuleConfig) { c.TrendBars = 0 }},
		{"vol_bars", func(c *RuleConfig) { c.VolBars = 1 }},
		{"crash_vol_quantile", func(c *RuleConfig) { c.CrashVolQuantile = 1 }},
		{"bull_quantile", func(c *RuleConfig) { c.BullQuantile = math.NaN() }},
		{"sideways_trend_low", func(c *RuleConfig) { c.SidewaysTrendLow = 0.9 }},
	} {
		c := DefaultRules()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: err = %v", tc.key, err)
		}
	}
	p := closePanel(t, [][]float64{{1}, {2}, {3}})
	if _, err := FitRules(p, 0, 3, DefaultRules()); err == nil {
		t.Error("3-bar panel accepted for a 30-bar warm-up")
	}
	if _, err := FitRules(p, 2, 1, DefaultRules()); err == nil {
		t.Error("empty window accepted")
	}
}

func TestIndexReturns(t *testing.T) {
	p := closePanel(t, [][]float64{{100, 4}, {110, 3}, {99, 3.3}})
	got := IndexReturnsTo(nil, p)
	want := []float64{0, 0.5 * math.Log(1.1*0.75), 0.5 * math.Log(0.9*1.1)}
	for k := range want {
		if !scalar.EqualWithinAbsOrRel(got[k], want[k], 1e-15, 1e-15) {
			t.Errorf("index return %d = %.17g, want %.17g", k, got[k], want[k])
		}
	}
}

func TestConfusion(t *testing.T) {
	B, R, S, C, U := market.Bull, market.Bear, market.Sideways, market.Crash, market.Unlabelled
	truth := []market.Regime{B, B, B, R, R, S, C, U, B}
	label := []market.Regime{B, B, R, R, S, S, R, B, U}
	c := Compare(truth, label)
	if c.Total() != 7 {
		t.Fatalf("total %d, want 7 (unlabelled bars skipped)", c.Total())
	}
	if c[0][0] != 2 || c[0][1] != 1 || c[1][1] != 1 || c[1][2] != 1 || c[2][2] != 1 || c[3][1] != 1 {
		t.Errorf("matrix %v", c)
	}
	if got := c.Accuracy(); got != 4.0/7 {
		t.Errorf("accuracy %v, want 4/7", got)
	}
	if got := c.Majority(); got != 3.0/7 {
		t.Errorf("majority %v, want 3/7", got)
	}
	// Chance agreement: truth shares (3,2,1,1)/7, label shares (2,3,2,0)/7.
	if got, want := c.Chance(), (3.0*2+2*3+1*2+1*0)/49; !scalar.EqualWithinAbsOrRel(got, want, 1e-15, 1e-15) {
		t.Errorf("chance %v, want %v", got, want)
	}
	if !strings.Contains(c.String(), "sideways") {
		t.Errorf("String() = %q", c.String())
	}
}
