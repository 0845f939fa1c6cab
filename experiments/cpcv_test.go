package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/eval"
)

// TestRunCPCVLayout: a CPCV run records its layout in results.json and
// report.json; the groups tile the covered bars exactly, the covered bars
// run from the walk-forward plan's first usable bar to the end of the
// panel, and every group's saved backtest covers exactly the group's bars.
// `folio report` regenerates the report byte for byte.
func TestRunCPCVLayout(t *testing.T) {
	const groups, testGroups = 6, 2
	// C(6, 2) = 15 splits; φ = 2/6 · 15 = C(5, 1) = 5 paths (closed form).
	const splits, paths = 15, 5
	// walkforward.folds = 0 keeps every fold, so that fold 1 is the plan's
	// first (used below to recover the first usable bar).
	c, err := Load("testdata/tiny.toml", []string{"walkforward.cpcv_groups=6", "walkforward.cpcv_test_groups=2", "walkforward.folds=0"})
	if err != nil {
		t.Fatal(err)
	}
	run := runTiny(t, "testdata/tiny.toml", filepath.Join(t.TempDir(), "run"), 1,
		fmt.Sprintf("walkforward.cpcv_groups=%d", groups), fmt.Sprintf("walkforward.cpcv_test_groups=%d", testGroups), "walkforward.folds=0")

	res, err := eval.ReadResults(filepath.Join(run.Dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != eval.ResultsVersion || res.CPCVLayout == nil {
		t.Fatalf("results.json version %d, cpcv_layout %v: want version %d with a layout", res.Version, res.CPCVLayout, eval.ResultsVersion)
	}
	b, err := os.ReadFile(filepath.Join(run.Dir, eval.ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Layout *eval.CPCVLayoutReport `json:"cpcv_layout"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	l := js.Layout
	if l == nil {
		t.Fatal("report.json has no cpcv_layout")
	}
	if l.Groups != groups || l.TestGroups != testGroups || l.Splits != splits || l.Paths != paths ||
		l.Horizon != 1 || l.Embargo != c.WalkForward.Embargo {
		t.Errorf("report.json cpcv_layout %+v, want %d groups, %d test groups, %d splits, %d paths, horizon 1, embargo %d",
			l, groups, testGroups, splits, paths, c.WalkForward.Embargo)
	}
	if l.CPCVLayout.Bars != res.CPCVLayout.Bars || len(l.GroupBars) != len(res.CPCVLayout.GroupBars) {
		t.Errorf("report.json layout %+v differs from results.json %+v", l.CPCVLayout, *res.CPCVLayout)
	}

	// The covered bars: from the first bar a decision can be made at to
	// the panel's last bar. The first usable bar is recovered from the
	// walk-forward folds (rolling, step = test, every fold kept): fold k's
	// test window (k = 1, 2, …) starts at first + train + embargo + (k−1)·test.
	wf := c.WalkForward
	if wf.Mode != "rolling" || wf.Step != 0 || len(res.Folds) == 0 {
		t.Fatalf("testdata/tiny.toml is no longer a rolling plan with step = test and folds (%s, step %d, %d folds); update this test", wf.Mode, wf.Step, len(res.Folds))
	}
	f := res.Folds[0]
	first := f.TestStart - wf.Train - wf.Embargo - (f.Index-1)*wf.Test
	if want := (eval.Range{Start: first, End: len(res.Times)}); l.Bars != want {
		t.Errorf("cpcv_layout.bars = %v, want %v (first usable bar to the end of the panel)", l.Bars, want)
	}

	// The groups partition the covered bars: contiguous, non-overlapping,
	// every one non-empty, sizes within one bar of each other (equal parts).
	next, lo, hi := l.Bars.Start, l.Bars.Len(), 0
	for g, r := range l.GroupBars {
		if r.Start != next || r.Len() < 1 {
			t.Errorf("group %d is [%d, %d), want a non-empty range from bar %d", g, r.Start, r.End, next)
		}
		next = r.End
		lo, hi = min(lo, r.Len()), max(hi, r.Len())
	}
	if next != l.Bars.End {
		t.Errorf("the groups end at bar %d, the covered bars at %d", next, l.Bars.End)
	}
	if hi-lo > 1 {
		t.Errorf("group sizes %d–%d differ by more than one bar", lo, hi)
	}
	day := func(bar int) string { return time.Unix(res.Times[bar], 0).UTC().Format("2006-01-02") }
	for g, r := range l.GroupBars {
		if d := l.GroupDates[g]; d.From != day(r.Start) || d.To != day(r.End-1) {
			t.Errorf("cpcv_layout.group_dates[%d] = %+v, want %s – %s", g, d, day(r.Start), day(r.End-1))
		}
	}

	// What was backtested: in every split, each tested group's saved
	// returns cover the group's bars (the first usable bar only carries the
	// first decision, so group 0 earns one return fewer), and the pieces
	// of one path add up to path_returns.
	tested := map[int]int{} // group → returns saved
	for sp := range splits {
		for _, m := range c.Baselines.Methods {
			var saved map[string]cpcvPiece
			file := filepath.Join(run.Dir, "seed-0", "cpcv", fmt.Sprintf("split-%d", sp), slugName(m)+".json")
			if ok, err := readJSON(file, &saved); err != nil || !ok {
				t.Fatalf("%s: saved %v, %v", file, ok, err)
			}
			if len(saved) != testGroups {
				t.Errorf("%s holds %d groups, want %d", file, len(saved), testGroups)
			}
			for key, pc := range saved {
				var g int
				if _, err := fmt.Sscan(key, &g); err != nil || g < 0 || g >= groups {
					t.Fatalf("%s: group %q", file, key)
				}
				want := l.GroupBars[g].Len()
				if g == 0 {
					want--
				}
				if len(pc.Returns) != want {
					t.Errorf("%s group %d: %d returns, want %d (group bars %v)", file, g, len(pc.Returns), want, l.GroupBars[g])
				}
				tested[g] = len(pc.Returns)
			}
		}
	}
	sum := 0
	for g := range groups {
		sum += tested[g]
	}
	if len(tested) != groups || sum != l.PathReturns || l.PathReturns != l.Bars.Len()-1 {
		t.Errorf("path_returns %d; tested groups %v sum to %d over %d covered bars", l.PathReturns, tested, sum, l.Bars.Len())
	}

	// The report shows the layout.
	md, err := os.ReadFile(filepath.Join(run.Dir, eval.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("Layout: %d groups of ", groups),
		fmt.Sprintf("%d test groups per split → C(%d, %d) = %d splits, φ = %d backtest paths of %d returns each", testGroups, groups, testGroups, splits, paths, l.PathReturns),
		"## Combinatorial purged cross-validation: groups",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// folio report: the same bytes from results.json alone.
	files := []string{eval.ReportJSON, eval.ReportMD, eval.ReportHTML}
	before := map[string][]byte{}
	for _, f := range files {
		p := filepath.Join(run.Dir, f)
		if before[f], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Report(run.Dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		after, err := os.ReadFile(filepath.Join(run.Dir, f))
		if err != nil || !bytes.Equal(before[f], after) {
			t.Errorf("folio report did not regenerate %s byte for byte (%v)", f, err)
		}
	}
}
