package experiments

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/eval"
)

// TestPanelForecastVol checks the vol-timing forecast against a direct
// evaluation of its definition: at bar t the mean over assets of
// √(Σₖ λᵏ r²_{t−k} / Σₖ λᵏ), k = 0..t−1, with r the log returns and
// λ = 0.94, summed term by term (O(T²), independent of vol.EWMAAdjustedTo's
// recursion). Tolerance 1e-12 relative: both are float64 sums of at most
// 300 positive terms of similar size. It also equals the avg_ewma_vol
// feature at the default ewma_lambda after that feature's warm-up.
func TestPanelForecastVol(t *testing.T) {
	sc := synth.Defaults()
	sc.Assets, sc.Bars = 3, 300
	p, _, err := synth.Generate(sc, 11)
	if err != nil {
		t.Fatal(err)
	}
	got := panelForecastVol(p)
	if len(got) != p.T() || !math.IsNaN(got[0]) {
		t.Fatalf("length %d (want %d), bar 0 = %v (want NaN)", len(got), p.T(), got[0])
	}
	const lambda, tol = 0.94, 1e-12
	for tt := 1; tt < p.T(); tt++ {
		want := 0.0
		for i := 0; i < p.N(); i++ {
			num, den := 0.0, 0.0
			for k := 0; k < tt; k++ {
				r := math.Log(p.Close(tt-k, i) / p.Close(tt-k-1, i))
				w := math.Pow(lambda, float64(k))
				num += w * r * r
				den += w
			}
			want += math.Sqrt(num / den)
		}
		want /= float64(p.N())
		if !scalar.EqualWithinRel(got[tt], want, tol) {
			t.Fatalf("bar %d: forecast %v, direct sum %v", tt, got[tt], want)
		}
	}
	fc := features.Defaults()
	fc.Asset, fc.Global = []string{"logret"}, []string{"avg_ewma_vol"}
	fs, err := features.Compute(p, fc)
	if err != nil {
		t.Fatal(err)
	}
	avg := fs.GlobalSeries(fs.GlobalIndex("avg_ewma_vol"))
	for tt := fc.EWMAMinBars; tt < p.T(); tt++ {
		if !scalar.EqualWithinRel(got[tt], avg[tt], tol) {
			t.Fatalf("bar %d: forecast %v, avg_ewma_vol %v", tt, got[tt], avg[tt])
		}
	}
}

// TestVolTimingWithoutVolFeatures: with an observation of log returns
// only (no ewma_vol, no avg_ewma_vol) the report still has the
// volatility-timing analysis, with data for every strategy (it used to
// vanish silently).
func TestVolTimingWithoutVolFeatures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	res := runTiny(t, "testdata/tiny.toml", dir, 1, `features.asset=["logret"]`, "features.global=[]")
	md, err := os.ReadFile(filepath.Join(res.Dir, eval.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Volatility timing") {
		t.Error("report.md has no volatility-timing section")
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, eval.ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Strategies []struct {
			Name   string `json:"name"`
			Timing *struct {
				Threshold *float64 `json:"threshold"`
				HighVol   struct {
					Bars int `json:"bars"`
				} `json:"high_vol"`
				Rest struct {
					Bars int `json:"bars"`
				} `json:"rest"`
			} `json:"timing"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Strategies) == 0 {
		t.Fatal("no strategies in report.json")
	}
	for _, s := range rep.Strategies {
		tm := s.Timing
		if tm == nil || tm.Threshold == nil || !(*tm.Threshold > 0) || tm.HighVol.Bars == 0 || tm.HighVol.Bars+tm.Rest.Bars != 120 {
			t.Errorf("%s: timing %+v, want a positive threshold and 120 bars split into buckets", s.Name, tm)
		}
	}
}
