package features_test

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/vol"
)

// allConfig selects every family, some twice with other windows, and a
// GARCH schedule short enough for small panels (first fit at bar 100,
// refits every 30 bars).
func allConfig() features.Config {
	c := features.Defaults()
	c.Asset = append(features.DefaultAsset(), "rvol_2", "garch_f5", "mom_1", "volume_z_2", "pk_vol_21", "gk_vol_21", "pk_vol_1", "gk_vol_3")
	c.Global = append(features.DefaultGlobal(), "avg_corr_2")
	c.GarchMinBars, c.GarchRefit = 100, 30
	return c
}

func TestConfigValidate(t *testing.T) {
	if err := features.Defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, name := range features.Available() {
		c := features.Defaults()
		if strings.HasPrefix(name, "avg_") || name == "index_drawdown" {
			c.Global = []string{name}
		} else {
			c.Asset = []string{name}
			c.Global = nil
		}
		if err := c.Validate(); err != nil {
			t.Errorf("available %q rejected: %v", name, err)
		}
	}
	bad := []struct {
		name string
		edit func(*features.Config)
		want error // nil: any error
	}{
		{"unknown", func(c *features.Config) { c.Asset = []string{"rsi_14"} }, features.ErrUnknownFeature},
		{"no window", func(c *features.Config) { c.Asset = []string{"rvol_"} }, features.ErrUnknownFeature},
		{"leading zero", func(c *features.Config) { c.Asset = []string{"rvol_05"} }, features.ErrUnknownFeature},
		{"sign", func(c *features.Config) { c.Asset = []string{"mom_+5"} }, features.ErrUnknownFeature},
		{"window too small", func(c *features.Config) { c.Asset = []string{"rvol_1"} }, nil},
		{"ratio order", func(c *features.Config) { c.Asset = []string{"vol_ratio_63_5"} }, nil},
		{"ratio one window", func(c *features.Config) { c.Asset = []string{"vol_ratio_5"} }, features.ErrUnknownFeature},
		{"horizon 0", func(c *features.Config) { c.Asset = []string{"garch_f0"} }, nil},
		{"duplicate", func(c *features.Config) { c.Asset = []string{"logret", "logret"} }, nil},
		{"global as asset", func(c *features.Config) { c.Asset = []string{"avg_corr_63"} }, nil},
		{"asset as global", func(c *features.Config) { c.Global = []string{"drawdown"} }, nil},
		{"no asset features", func(c *features.Config) { c.Asset = nil }, nil},
		{"lambda 1", func(c *features.Config) { c.EWMALambda = 1 }, nil},
		{"lambda 0", func(c *features.Config) { c.EWMALambda = 0 }, nil},
		{"ewma min 0", func(c *features.Config) { c.EWMAMinBars = 0 }, nil},
		{"refit 0", func(c *features.Config) { c.GarchRefit = 0 }, nil},
		{"min bars 49", func(c *features.Config) { c.GarchMinBars = 49 }, nil},
		{"window below min", func(c *features.Config) { c.GarchWindow = 100 }, nil},
	}
	for _, b := range bad {
		c := features.Defaults()
		b.edit(&c)
		err := c.Validate()
		if err == nil || (b.want != nil && !errors.Is(err, b.want)) {
			t.Errorf("%s: err = %v, want %v", b.name, err, b.want)
		}
		if _, err := features.Compute(synthPanel(t, 5, 2, 24*time.Hour, 1), c); err == nil {
			t.Errorf("%s: Compute accepted the config", b.name)
		}
	}
}

// TestCausality proves for every feature that values at bars ≤ t do not
// depend on bars after t: every bar after t is perturbed (prices and
// volumes) and every value at or before t must be bit-identical, for
// several t around warm-ups and GARCH refit bars, with expanding and
// rolling GARCH windows. It also checks that the perturbation changed
// every series after t, so the comparison has teeth.
func TestCausality(t *testing.T) {
	p := synthPanel(t, 330, 3, 24*time.Hour, 10)
	rng := seed.New(testRoot, seed.Test, 11)
	for _, window := range []int{0, 120} {
		c := allConfig()
		c.GarchWindow = window
		base, rep, err := features.ComputeReport(p, c)
		if err != nil {
			t.Fatal(err)
		}
		if rep.GarchFits != 3*8 || rep.GarchFailed != 0 {
			t.Fatalf("window %d: report %+v, want 8 fits per asset (bars 100, 130, …, 310)", window, rep)
		}
		for _, t0 := range []int{0, 1, 2, 19, 20, 62, 63, 99, 100, 101, 129, 130, 131, 250, 328} {
			q := perturbAfter(t, p, t0, rng)
			got, err := features.Compute(q, c)
			if err != nil {
				t.Fatal(err)
			}
			check := func(name string, a, b []float64) {
				for s := 0; s <= t0; s++ {
					if math.Float64bits(a[s]) != math.Float64bits(b[s]) && !(math.IsNaN(a[s]) && math.IsNaN(b[s])) {
						t.Fatalf("window %d, perturbed after %d: %s changed at bar %d: %v → %v", window, t0, name, s, a[s], b[s])
					}
				}
				changed := false
				for s := t0 + 1; s < len(a); s++ {
					changed = changed || (a[s] != b[s] && !(math.IsNaN(a[s]) && math.IsNaN(b[s])))
				}
				if !changed && t0 < len(a)-2 {
					t.Errorf("window %d, perturbed after %d: %s did not change after the perturbation", window, t0, name)
				}
			}
			for i := range p.N() {
				for f, name := range c.Asset {
					check(name+" of "+p.Asset(i), base.Series(i, f), got.Series(i, f))
				}
			}
			for g, name := range c.Global {
				check(name, base.GlobalSeries(g), got.GlobalSeries(g))
			}
		}
	}
}

// TestAgainstReference checks every non-GARCH feature against a direct,
// slow computation from its definition (gonum/stat on each window,
// explicit loops elsewhere).
func TestAgainstReference(t *testing.T) {
	p := synthPanel(t, 260, 4, 24*time.Hour, 20)
	c := allConfig()
	set, err := features.Compute(p, c)
	if err != nil {
		t.Fatal(err)
	}
	T, N := p.T(), p.N()
	ret := func(tt, i int) float64 { return math.Log(p.Close(tt, i) / p.Close(tt-1, i)) }
	window := func(i, from, to int) []float64 { // returns of bars from..to
		w := make([]float64, 0, to-from+1)
		for s := from; s <= to; s++ {
			w = append(w, ret(s, i))
		}
		return w
	}
	ewma := func(tt, i int) float64 {
		if tt < c.EWMAMinBars {
			return math.NaN()
		}
		var num, den float64
		for k := 0; k < tt; k++ {
			w := math.Pow(c.EWMALambda, float64(k))
			r := ret(tt-k, i)
			num += w * r * r
			den += w
		}
		return math.Sqrt(num / den)
	}
	rvol := func(tt, i, w int) float64 {
		if tt < w {
			return math.NaN()
		}
		return stat.StdDev(window(i, tt-w+1, tt), nil)
	}
	lnVol := func(tt, i int) float64 { return math.Log(1 + p.Close(tt, i)*p.Volume(tt, i)) }
	ref := map[string]func(tt, i int) float64{
		"logret": func(tt, i int) float64 {
			if tt < 1 {
				return math.NaN()
			}
			return ret(tt, i)
		},
		"rvol_2":   func(tt, i int) float64 { return rvol(tt, i, 2) },
		"rvol_5":   func(tt, i int) float64 { return rvol(tt, i, 5) },
		"rvol_21":  func(tt, i int) float64 { return rvol(tt, i, 21) },
		"rvol_63":  func(tt, i int) float64 { return rvol(tt, i, 63) },
		"ewma_vol": ewma,
		"vol_ratio_5_63": func(tt, i int) float64 {
			return rvol(tt, i, 5) / rvol(tt, i, 63)
		},
		"drawdown": func(tt, i int) float64 {
			peak := 0.0
			for s := 0; s <= tt; s++ {
				peak = math.Max(peak, p.Close(s, i))
			}
			return p.Close(tt, i)/peak - 1
		},
		"mom_1":  func(tt, i int) float64 { return momRef(p, tt, i, 1) },
		"mom_21": func(tt, i int) float64 { return momRef(p, tt, i, 21) },
		"mom_63": func(tt, i int) float64 { return momRef(p, tt, i, 63) },
		"pk_vol_1": func(tt, i int) float64 {
			u := math.Log(p.High(tt, i) / p.Low(tt, i))
			return math.Sqrt(u * u / (4 * math.Ln2))
		},
		"pk_vol_21": func(tt, i int) float64 {
			if tt < 20 {
				return math.NaN()
			}
			var s float64
			for b := tt - 20; b <= tt; b++ {
				u := math.Log(p.High(b, i) / p.Low(b, i))
				s += u * u / (4 * math.Ln2)
			}
			return math.Sqrt(s / 21)
		},
		"gk_vol_3": func(tt, i int) float64 {
			if tt < 2 {
				return math.NaN()
			}
			var s float64
			for b := tt - 2; b <= tt; b++ {
				u, v := math.Log(p.High(b, i)/p.Low(b, i)), math.Log(p.Close(b, i)/p.Open(b, i))
				s += 0.5*u*u - (2*math.Ln2-1)*v*v
			}
			return math.Sqrt(math.Max(s, 0) / 3)
		},
	}
	for _, w := range []int{2, 63} {
		ref["volume_z_"+strconv.Itoa(w)] = func(tt, i int) float64 {
			if tt < w {
				return math.NaN()
			}
			x := make([]float64, w)
			for k := range x {
				x[k] = lnVol(tt-w+k, i)
			}
			m, sd := stat.MeanStdDev(x, nil)
			if sd == 0 {
				return 0
			}
			return (lnVol(tt, i) - m) / sd
		}
	}
	checked := 0
	for f, name := range c.Asset {
		fn, ok := ref[name]
		if !ok {
			continue // GARCH features and gk_vol_21 are checked elsewhere
		}
		checked++
		for i := range N {
			got := set.Series(i, f)
			for tt := range T {
				want := fn(tt, i)
				// Direct sums over ≤ 260 terms against rolling sums
				// re-anchored every window: agreement to ~1e-13 relative
				// measured; 1e-9 relative (1e-12 absolute near 0) is safe.
				if !(math.IsNaN(want) && math.IsNaN(got[tt])) && !scalar.EqualWithinAbsOrRel(got[tt], want, 1e-12, 1e-9) {
					t.Fatalf("%s of asset %d at bar %d: %.15g, reference %.15g", name, i, tt, got[tt], want)
				}
			}
		}
	}
	if checked != len(ref) {
		t.Fatalf("checked %d features, have %d references", checked, len(ref))
	}

	// Global features.
	for g, name := range c.Global {
		got := set.GlobalSeries(g)
		for tt := range T {
			var want float64
			switch name {
			case "avg_corr_63", "avg_corr_2":
				w := 63
				if name == "avg_corr_2" {
					w = 2
				}
				if tt < w {
					want = math.NaN()
					break
				}
				var sum float64
				for i := range N {
					for j := i + 1; j < N; j++ {
						sum += stat.Correlation(window(i, tt-w+1, tt), window(j, tt-w+1, tt), nil)
					}
				}
				want = sum / float64(N*(N-1)/2)
			case "avg_ewma_vol":
				for i := range N {
					want += ewma(tt, i) / float64(N)
				}
			case "index_drawdown":
				level, peak := 1.0, 1.0
				for s := 1; s <= tt; s++ {
					var g float64
					for i := range N {
						g += p.Close(s, i) / p.Close(s-1, i)
					}
					level *= g / float64(N)
					peak = math.Max(peak, level)
				}
				want = level/peak - 1
			default:
				t.Fatalf("no reference for %s", name)
			}
			// avg_corr_2: two-point correlations are ±1 exactly in theory
			// but ±(1 − 1e-15) in either computation: same tolerance.
			if !(math.IsNaN(want) && math.IsNaN(got[tt])) && !scalar.EqualWithinAbsOrRel(got[tt], want, 1e-12, 1e-9) {
				t.Fatalf("%s at bar %d: %.15g, reference %.15g", name, tt, got[tt], want)
			}
		}
	}
}

func momRef(p *market.Panel, tt, i, k int) float64 {
	if tt < k {
		return math.NaN()
	}
	return math.Log(p.Close(tt, i) / p.Close(tt-k, i))
}

// TestGarchAgainstReference rebuilds the GARCH features from their
// definition: at each bar, the parameters of a cold (grid-started) fit on
// the window ending at the last refit bar, and the variance recursion run
// afresh over that window extended to the bar by vol.GARCH.FilterTo. This
// checks the refit bars, the windows, the indexing of σ²_{t|t−1} and
// σ²_{t+1|t}, the forecasts, the EWMA fallback before the first fit, and
// that the warm-started refit chain reaches the same maxima as cold fits.
func TestGarchAgainstReference(t *testing.T) {
	// Pure GARCH returns with clear volatility clustering, so that every
	// window's likelihood has a single interior maximum (on short or
	// weakly dependent windows the maximum sits on a bound, where warm and
	// cold starts may legitimately end at different points).
	g := vol.GARCH{Mu: 0.05, Omega: 0.2, Alpha: 0.12, Beta: 0.85}
	const T, N = 700, 2
	spec := market.PanelSpec{Assets: []string{"X", "Y"}, Interval: 24 * time.Hour, Times: make([]int64, T)}
	for _, s := range []*[]float64{&spec.Open, &spec.High, &spec.Low, &spec.Close, &spec.Volume} {
		*s = make([]float64, T*N)
	}
	r := make([]float64, T)
	for i := range N {
		g.SimulateTo(r, seed.New(testRoot, seed.Test, uint64(30+i)), g.LongRunVariance())
		price := 100.0
		for tt := range T {
			spec.Times[tt] = int64(tt) * 86400
			k := tt*N + i
			spec.Open[k] = price
			price *= math.Exp(r[tt] / 100)
			spec.Close[k], spec.High[k], spec.Low[k], spec.Volume[k] = price, math.Max(spec.Open[k], price), math.Min(spec.Open[k], price), 1
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, window := range []int{0, 300} {
		c := features.Defaults()
		c.Asset = []string{"garch_vol", "garch_f1", "garch_f10", "ewma_vol"}
		c.Global = nil
		c.GarchMinBars, c.GarchRefit, c.GarchWindow = 300, 100, window
		set, rep, err := features.ComputeReport(p, c)
		if err != nil {
			t.Fatal(err)
		}
		if rep.GarchFits != 8 || rep.GarchNotConverged != 0 {
			t.Fatalf("window %d: report %+v", window, rep)
		}
		for i := range p.N() {
			r := make([]float64, p.T())
			for tt := 1; tt < p.T(); tt++ {
				r[tt] = 100 * math.Log(p.Close(tt, i)/p.Close(tt-1, i))
			}
			ewma := set.Series(i, 3)
			fits := map[int]*vol.GARCHFit{}
			for tt := range p.T() {
				var wantVol, want1, want10 float64
				switch {
				case tt == 0:
					wantVol, want1, want10 = math.NaN(), math.NaN(), math.NaN()
				case tt < c.GarchMinBars:
					wantVol, want1, want10 = ewma[tt-1], ewma[tt], ewma[tt]
				default:
					k := c.GarchMinBars + (tt-c.GarchMinBars)/c.GarchRefit*c.GarchRefit
					from := 1
					if window > 0 {
						from = max(1, k-window+1)
					}
					fit, ok := fits[k]
					if !ok {
						if fit, err = vol.FitGARCH(r[from:k+1], &vol.FitOptions{NoStdErr: true}); err != nil {
							t.Fatal(err)
						}
						fits[k] = fit
					}
					seg := r[from : tt+1]
					s2 := make([]float64, len(seg))
					next := fit.Params.FilterTo(s2, seg, fit.Backcast)
					wantVol = math.Sqrt(s2[len(seg)-1]) / 100
					want1 = math.Sqrt(next) / 100
					want10 = math.Sqrt(fit.Params.Forecast(next, 10)) / 100
				}
				for f, want := range []float64{wantVol, want1, want10} {
					got := set.Series(i, f)[tt]
					// Warm and cold fits agree to ~1e-7 relative in the
					// parameters (both stop at ‖∇‖∞ < 1e-9); volatilities
					// then agree to ~1e-7: 1e-5 relative is safe and still
					// far below any schedule or indexing error (≥ 1e-3).
					if !(math.IsNaN(want) && math.IsNaN(got)) && !scalar.EqualWithinRel(got, want, 1e-5) {
						t.Fatalf("window %d asset %d bar %d: %s = %.10g, reference %.10g", window, i, tt, c.Asset[f], got, want)
					}
				}
			}
		}
	}
}

// TestWarmUp checks, for the default configuration, that each series is
// NaN exactly before its documented warm-up and finite from it on, and
// that Set.WarmUp is the largest warm-up (63).
func TestWarmUp(t *testing.T) {
	p := synthPanel(t, 400, 3, 24*time.Hour, 40)
	c := features.Defaults()
	set, err := features.Compute(p, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"logret": 1, "rvol_5": 5, "rvol_21": 21, "rvol_63": 63, "ewma_vol": 20,
		"garch_vol": 21, "garch_f1": 20, "garch_f21": 20, "vol_ratio_5_63": 63,
		"volume_z_63": 63, "drawdown": 0, "mom_21": 21, "mom_63": 63,
	}
	first := func(x []float64) int {
		for tt, v := range x {
			if !math.IsNaN(v) {
				for _, u := range x[tt:] {
					if math.IsNaN(u) || math.IsInf(u, 0) {
						t.Errorf("non-finite value after the first finite one")
					}
				}
				return tt
			}
		}
		return len(x)
	}
	for f, name := range c.Asset {
		for i := range p.N() {
			if got := first(set.Series(i, f)); got != want[name] {
				t.Errorf("%s of asset %d: first finite bar %d, want %d", name, i, got, want[name])
			}
		}
	}
	for g, name := range c.Global {
		w := map[string]int{"avg_corr_63": 63, "avg_ewma_vol": 20, "index_drawdown": 0}[name]
		if got := first(set.GlobalSeries(g)); got != w {
			t.Errorf("%s: first finite bar %d, want %d", name, got, w)
		}
	}
	if set.WarmUp() != 63 {
		t.Errorf("WarmUp() = %d, want 63", set.WarmUp())
	}
	if err := set.Validate(set.WarmUp()); err != nil {
		t.Error(err)
	}
}

// TestDegeneratePanels: an asset whose price never moves and whose volume
// is always 0, and a panel shorter than every window, must give finite
// values after warm-up (or all-NaN series), not errors or panics.
func TestDegeneratePanels(t *testing.T) {
	p := synthPanel(t, 300, 3, 24*time.Hour, 50)
	T, N := p.T(), p.N()
	spec := market.PanelSpec{Assets: p.Assets(), Interval: p.Interval(), Times: make([]int64, T)}
	for _, s := range []*[]float64{&spec.Open, &spec.High, &spec.Low, &spec.Close, &spec.Volume} {
		*s = make([]float64, T*N)
	}
	for tt := range T {
		spec.Times[tt] = p.Unix(tt)
		for i := range N {
			k := tt*N + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = p.Open(tt, i), p.High(tt, i), p.Low(tt, i), p.Close(tt, i), p.Volume(tt, i)
			if i == 1 { // a dead market: flat price, no volume
				spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = 5, 5, 5, 5, 0
			}
		}
	}
	flat, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := allConfig()
	set, rep, err := features.ComputeReport(flat, c)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GarchFailed != 7 || rep.GarchFits != 14 {
		t.Errorf("report %+v: want the 7 refits of the flat asset failed, 14 fits of the others", rep)
	}
	if err := set.Validate(set.WarmUp()); err != nil {
		t.Error(err)
	}
	if set.WarmUp() != 63 {
		t.Errorf("warm-up %d, want 63", set.WarmUp())
	}
	for f, name := range c.Asset {
		x := set.Series(1, f)
		want := 0.0
		switch {
		case name == "vol_ratio_5_63":
			want = 1
		case name == "logret" || strings.Contains(name, "vol") || name == "drawdown" || strings.HasPrefix(name, "mom") || strings.HasPrefix(name, "garch") || strings.HasPrefix(name, "volume_z"):
		default:
			t.Fatalf("no expectation for %s", name)
		}
		if v := x[T-1]; v != want {
			t.Errorf("flat asset: %s = %v, want %v", name, v, want)
		}
	}
	// avg_corr must skip the motionless asset: it equals the correlation
	// of the other two.
	g := set.GlobalIndex("avg_corr_63")
	a, b := make([]float64, 63), make([]float64, 63)
	for k := range a {
		tt := T - 63 + k
		a[k] = math.Log(flat.Close(tt, 0) / flat.Close(tt-1, 0))
		b[k] = math.Log(flat.Close(tt, 2) / flat.Close(tt-1, 2))
	}
	if got, want := set.GlobalSeries(g)[T-1], stat.Correlation(a, b, nil); !scalar.EqualWithinAbsOrRel(got, want, 1e-12, 1e-9) {
		t.Errorf("avg_corr with a motionless asset %v, want %v", got, want)
	}

	short, err := p.Slice(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	set, err = features.Compute(short, features.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if set.WarmUp() != short.T() {
		t.Errorf("10-bar panel: warm-up %d, want %d (never fully finite)", set.WarmUp(), short.T())
	}
	one, err := p.Select([]string{"A0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := features.Compute(one, features.Defaults()); err == nil {
		t.Error("avg_corr on one asset accepted")
	}
}

// TestDeterministic: the result must not depend on how assets are
// scheduled across goroutines.
func TestDeterministic(t *testing.T) {
	p := synthPanel(t, 300, 5, time.Hour, 60)
	c := allConfig()
	a, err := features.Compute(p, c)
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1)
	b, err := features.Compute(p, c)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.N() {
		for f := range c.Asset {
			x, y := a.Series(i, f), b.Series(i, f)
			for tt := range x {
				if math.Float64bits(x[tt]) != math.Float64bits(y[tt]) {
					t.Fatalf("asset %d feature %s bar %d differs: %v vs %v", i, c.Asset[f], tt, x[tt], y[tt])
				}
			}
		}
	}
}

// TestRealDaily computes the default features on real daily closes of
// BTC, ETH and BNB (common calendar to 2024-12-31) and checks warm-up,
// finiteness, GARCH fit health and the causality of a perturbation.
func TestRealDaily(t *testing.T) {
	p := realDailyPanel(t, "BTC", "ETH", "BNB")
	c := features.Defaults()
	set, rep, err := features.ComputeReport(p, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bars from %s; GARCH %+v", p.T(), p.Time(0).Format(time.DateOnly), rep)
	if set.WarmUp() != 63 {
		t.Errorf("warm-up %d, want 63", set.WarmUp())
	}
	if err := set.Validate(set.WarmUp()); err != nil {
		t.Error(err)
	}
	if rep.GarchFailed != 0 || rep.GarchNotConverged != 0 || rep.GarchFits == 0 {
		t.Errorf("GARCH report %+v", rep)
	}
	// Sanity of magnitudes: BTC's median daily EWMA and GARCH volatility
	// lie between 1 % and 10 % per day.
	for _, name := range []string{"ewma_vol", "garch_f1"} {
		x := append([]float64(nil), set.Series(0, set.Index(name))[300:]...)
		slices.Sort(x)
		med := stat.Quantile(0.5, stat.Empirical, x, nil)
		t.Logf("BTC median %s %.4f", name, med)
		if med < 0.01 || med > 0.10 {
			t.Errorf("BTC median %s = %v", name, med)
		}
	}
	t0 := p.T() / 2
	q := perturbAfter(t, p, t0, seed.New(testRoot, seed.Test, 70))
	got, err := features.Compute(q, c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.N() {
		for f, name := range c.Asset {
			a, b := set.Series(i, f), got.Series(i, f)
			for s := 0; s <= t0; s++ {
				if math.Float64bits(a[s]) != math.Float64bits(b[s]) {
					t.Fatalf("%s of %s changed at bar %d ≤ %d", name, p.Asset(i), s, t0)
				}
			}
		}
	}
}
