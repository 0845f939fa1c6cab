package eval

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/golden"
	"github.com/folio-rl/folio/internal/seed"
)

// fakeResults builds a small, deterministic results set: two agents and
// three baselines over 400 daily bars in two folds, two seeds, cost runs.
func fakeResults(seeds int) *Results {
	const T, n = 400, 3
	assets := []string{"AAA", "BBB", "CCC"}
	times := make([]int64, T+102)
	t0 := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range times {
		times[i] = t0 + int64(i)*86400
	}
	res := &Results{
		Version: ResultsVersion, Title: "test report", PeriodsPerYear: 365, Interval: "1d", Assets: assets, Times: times,
		Folds: []FoldWindow{{Index: 0, TrainStart: 0, TrainEnd: 100, TestStart: 101, TestEnd: 251}, {Index: 1, TrainStart: 150, TrainEnd: 250, TestStart: 251, TestEnd: 401}},
		Provenance: Provenance{Experiment: "test", ConfigTOML: "[experiment]\nname = \"test\"\n", RootSeed: 7, DataFingerprint: "abc",
			CodeVersion: "test", GoVersion: "go", RegimeSource: "true", DataSource: "synthetic"},
		Settings: ReportSettings{Bootstrap: 200, Confidence: 0.9, RollingWindow: 20, Benchmarks: []string{"risk-parity", "mean-variance"}, StatsSeed: 3},
		Notes:    []string{"a note"},
	}
	strategies := []struct {
		name, kind string
		drift, vol float64
	}{{"ppo", "agent", 0.0012, 0.02}, {"ddpg", "agent", 0.0004, 0.025}, {"risk-parity", "baseline", 0.0006, 0.018},
		{"mean-variance", "baseline", 0.0003, 0.03}, {"equal-weight", "baseline", 0.0005, 0.022}}
	for s := 0; s < seeds; s++ {
		sr := SeedResult{Seed: uint64(11 + s)}
		for k, st := range strategies {
			rng := seed.New(uint64(100+s), seed.Test, uint64(k))
			if st.kind == "baseline" {
				rng = seed.New(100, seed.Test, uint64(k))
			}
			p := &Path{Strategy: st.name, Assets: assets, InitialValue: 1000}
			v := 1000.0
			for i := 0; i < T; i++ {
				bar := 101 + i
				r := st.drift + st.vol*rng.NormFloat64()
				v *= 1 + r
				w := []float64{0.1 + 0.05*math.Sin(float64(i)/30), 0.3, 0.3, 0}
				w[3] = 1 - w[0] - w[1] - w[2]
				fold := 0
				if bar >= 251 {
					fold = 1
				}
				p.Decision = append(p.Decision, bar-1)
				p.Bar = append(p.Bar, bar)
				p.Time = append(p.Time, times[bar])
				p.Return = append(p.Return, r)
				p.Value = append(p.Value, v)
				p.Target = append(p.Target, w)
				p.Executed = append(p.Executed, w)
				p.Turnover = append(p.Turnover, 0.01)
				p.Fees = append(p.Fees, 0.01)
				p.Slippage = append(p.Slippage, 0.002)
				flag := uint32(0)
				if i%50 == 0 {
					flag = 1
				}
				p.Guard = append(p.Guard, flag)
				p.Breaker = append(p.Breaker, false)
				p.Regime = append(p.Regime, market.Regime(1+(i/40)%4))
				p.ForecastVol = append(p.ForecastVol, 0.5+0.3*math.Sin(float64(i)/17))
				p.Fold = append(p.Fold, fold)
			}
			run := StrategyRun{Name: st.name, Kind: st.kind, Implementable: true, Path: p, GuardCounts: map[string]int{"max_weight": 8}}
			if st.kind == "agent" {
				run.Training = []TrainingSummary{{Fold: 0, Steps: 1000, Iterations: 4, Selected: "final", BestScore: math.NaN()}}
			}
			sr.Strategies = append(sr.Strategies, run)
			for _, bps := range []float64{0, 25} {
				rr := make([]float64, T)
				for i := range rr {
					rr[i] = p.Return[i] - bps*1e-6
				}
				sr.Costs = append(sr.Costs, CostRun{Strategy: st.name, FeeBps: bps, Returns: rr, Turnover: 0.01})
			}
		}
		res.Seeds = append(res.Seeds, sr)
	}
	res.Provenance.Seeds = []uint64{11}
	return res
}

var externalRef = regexp.MustCompile(`(?i)(<script|<link|<img|<iframe|@import|url\(|\bsrc\s*=|\bhref\s*=|https?://(?:[^"'\s]*)(?:["'\s]))`)

func TestReportSelfContainedAndComplete(t *testing.T) {
	dir := t.TempDir()
	res := fakeResults(2)
	rep, err := WriteReport(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	// The only URLs allowed are XML namespace identifiers inside the SVG.
	clean := regexp.MustCompile(`xmlns(:\w+)?="[^"]*"`).ReplaceAll(html, nil)
	if m := externalRef.Find(clean); m != nil {
		t.Errorf("report.html has an external reference: %q", m)
	}
	charts, err := Charts(rep, res)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"equity", "drawdown", "rolling-vol", "exposure", "regimes", "vol-timing", "costs"}
	for _, s := range res.Seeds[0].Strategies {
		wantIDs = append(wantIDs, "weights-"+slug(s.Name))
	}
	if len(charts) != len(wantIDs) {
		t.Errorf("%d charts, want %d", len(charts), len(wantIDs))
	}
	for _, id := range wantIDs {
		re := regexp.MustCompile(`<figure id="chart-` + regexp.QuoteMeta(id) + `"><svg`)
		if !re.Match(html) {
			t.Errorf("chart %s missing from report.html", id)
		}
		if _, err := os.Stat(filepath.Join(dir, ChartsDir, id+".svg")); err != nil {
			t.Errorf("chart file: %v", err)
		}
	}
	for _, f := range []string{ReportMD, ReportJSON, "returns.csv", "equity.csv", "summary.csv", "weights/ppo.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	for _, want := range []string{"Summary (out of sample, after costs)", "Cost sensitivity", "Walk-forward folds", "By regime", "Volatility timing", "Guard interventions", "Provenance", "Agents against the benchmarks"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report.html lacks section %q", want)
		}
	}
	// Two seeds: no single-seed winner claims, the verdicts report counts.
	for _, c := range rep.Comparisons {
		if !strings.Contains(c.Verdict, "over 2 seeds") {
			t.Errorf("verdict %q does not summarise across seeds", c.Verdict)
		}
	}
}

func TestReportDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := WriteReport(d, fakeResults(2)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{ReportHTML, ReportMD, ReportJSON, "returns.csv", "charts/equity.svg"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds from the same results", f)
		}
	}
}

func TestReportResultsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	res := fakeResults(1)
	path := filepath.Join(dir, "results.json")
	if err := WriteResults(path, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := BuildReport(back)
	if err != nil {
		t.Fatal(err)
	}
	var m1, m2 bytes.Buffer
	if err := WriteMarkdown(&m1, r1, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&m2, r2, nil); err != nil {
		t.Fatal(err)
	}
	if m1.String() != m2.String() {
		t.Error("report from re-read results differs")
	}
	golden.Check(t, "report_md", m1.Bytes())
}

// TestReportRendersInChromium renders report.html with headless Chromium
// to a PNG when Chromium is installed (Debian package chromium).
func TestReportRendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium); skipping the rendering check")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	dir := t.TempDir()
	if _, err := WriteReport(dir, fakeResults(1)); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "report.png")
	if err := RenderPNG(bin, filepath.Join(dir, ReportHTML), png); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || len(b) < 10000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("no PNG rendered (%d bytes, %v)", len(b), err)
	}
}
