package experiments

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/folio-rl/folio/eval"
)

// TestRunBSHPerWindow checks that bsh (best stock in hindsight) in a
// walk-forward run holds, in each test window, the asset that grows most
// over that window: without costs its growth per fold equals the best
// single asset's, and is never below ubah's.
func TestRunBSHPerWindow(t *testing.T) {
	sets := []string{`baselines.methods=["bsh","ubah"]`, "costs.taker_bps=0", "costs.maker_bps=0",
		`costs.slippage="none"`, "costs.liquidity_cap=0", "walkforward.folds=3", "report.bootstrap=0"}
	res := runTiny(t, "testdata/tiny.toml", filepath.Join(t.TempDir(), "run"), 1, sets...)
	r, err := eval.ReadResults(filepath.Join(res.Dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("testdata/tiny.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := loadData(c, func(_, bars int) int { return bars })
	if err != nil {
		t.Fatal(err)
	}
	p := ds.panel
	growth := map[string]map[int]float64{}
	first, last := map[int]int{}, map[int]int{}
	for _, s := range r.Seeds[0].Strategies {
		g := map[int]float64{}
		for i, f := range s.Path.Fold {
			if _, ok := g[f]; !ok {
				g[f] = 1
				first[f] = s.Path.Bar[i]
			}
			g[f] *= 1 + s.Path.Return[i]
			last[f] = s.Path.Bar[i]
		}
		growth[s.Name] = g
	}
	if len(growth["bsh"]) != 3 {
		t.Fatalf("bsh has %d folds, want 3", len(growth["bsh"]))
	}
	for f, g := range growth["bsh"] {
		best := math.Inf(-1)
		for i := 0; i < p.N(); i++ {
			best = math.Max(best, p.Close(last[f], i)/p.Close(first[f]-1, i))
		}
		if math.Abs(g-best) > 1e-9*best {
			t.Errorf("fold %d (bars %d–%d): bsh grew %.12f, the best asset %.12f", f, first[f], last[f], g, best)
		}
		if u := growth["ubah"][f]; g < u-1e-12 {
			t.Errorf("fold %d: bsh %.6f below ubah %.6f", f, g, u)
		}
	}
}

// TestRunExtraTrials checks that report.extra_trials reaches the deflated
// Sharpe ratio's trial count.
func TestRunExtraTrials(t *testing.T) {
	res := runTiny(t, "testdata/tiny.toml", filepath.Join(t.TempDir(), "run"), 1, "report.extra_trials=7", "report.bootstrap=0")
	d := res.Report.DSRTrials
	if d.Extra != 7 || d.Own != len(d.Strategies) || d.Trials != d.Own+7 || d.Own != 3 {
		t.Errorf("dsr_trials %+v, want extra 7 and own = the 3 baselines", d)
	}
}
