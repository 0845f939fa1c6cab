package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
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

// writeAll renders rep into the three report formats.
func writeAll(t *testing.T, rep *Report, charts []Chart) (md, html string, js map[string]any) {
	t.Helper()
	var m, h bytes.Buffer
	if err := WriteMarkdown(&m, rep, charts); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&h, rep, charts); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	return m.String(), h.String(), js
}

// TestReportSectionsInEveryFormat checks that every section the report
// writes appears as a heading in both report.md and report.html and that
// report.json holds the data behind it. Every table of the report must be
// listed here: a new section without its JSON counterpart fails.
func TestReportSectionsInEveryFormat(t *testing.T) {
	// CPCV results and their layout on the first seed, so the CPCV
	// sections are rendered.
	res := withCPCV(fakeResults(2))
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	charts, err := Charts(rep, res)
	if err != nil {
		t.Fatal(err)
	}
	md, html, js := writeAll(t, rep, charts)
	strats := js["strategies"].([]any)
	first := strats[0].(map[string]any) // an agent: fakeResults lists the agents first
	// section title prefix → the JSON key(s) holding its data ("strategies.X":
	// key X of every strategy).
	sections := []struct {
		title string
		keys  []string
	}{
		{"Findings", []string{"comparisons"}},
		{"Summary (out of sample, after costs)", []string{"strategies.metrics", "strategies.sharpe_ci", "strategies.guard_steps", "strategies.spread", "strategies.per_seed_sharpe_ci"}},
		{"Agents against the benchmarks", []string{"comparisons"}},
		{"Statistical significance", []string{"strategies.psr", "strategies.dsr", "strategies.sharpe_ci", "dsr_trials"}},
		{"Walk-forward folds", []string{"folds", "strategies.per_fold"}},
		{"By regime", []string{"strategies.per_regime"}},
		{"Volatility timing", []string{"strategies.timing"}},
		{"Cost sensitivity", []string{"cost_sensitivity"}},
		{"Guard interventions and optimisation fallbacks", []string{"strategies.guard_counts", "strategies.guard_steps"}},
		{"Training", []string{"strategies.training"}},
		{"Probability of backtest overfitting", []string{"pbo"}},
		{"Combinatorial purged cross-validation", []string{"cpcv", "cpcv_layout"}},
		{"Provenance", []string{"provenance", "settings", "block_length_used", "interval", "periods_per_year", "oos_start", "oos_end", "oos_bars", "seeds"}},
		{"Charts", nil}, // the charts are files (charts/*.svg), not JSON
		{"Notes", []string{"notes"}},
		{"Configuration", []string{"provenance.config_toml"}},
	}
	listed := func(title string) bool {
		for _, s := range sections {
			if strings.HasPrefix(title, s.title) {
				return true
			}
		}
		return false
	}
	for _, tb := range rep.tables() {
		if !listed(tb.Title) {
			t.Errorf("table %q is not listed in this test: add it with its JSON keys", tb.Title)
		}
	}
	mdHeads := regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(md, -1)
	htmlHeads := regexp.MustCompile(`<h2>([^<]+)</h2>`).FindAllStringSubmatch(html, -1)
	has := func(heads [][]string, prefix string) bool {
		for _, h := range heads {
			if strings.HasPrefix(h[1], prefix) {
				return true
			}
		}
		return false
	}
	for _, s := range sections {
		if !has(mdHeads, s.title) {
			t.Errorf("report.md lacks section %q", s.title)
		}
		if !has(htmlHeads, template.HTMLEscapeString(s.title)) {
			t.Errorf("report.html lacks section %q", s.title)
		}
		for _, k := range s.keys {
			var v any
			var ok bool
			switch {
			case strings.HasPrefix(k, "strategies."):
				v, ok = first[strings.TrimPrefix(k, "strategies.")]
			case strings.HasPrefix(k, "provenance."):
				v, ok = js["provenance"].(map[string]any)[strings.TrimPrefix(k, "provenance.")]
			default:
				v, ok = js[k]
			}
			if !ok || v == nil {
				t.Errorf("section %q: report.json lacks %s", s.title, k)
			}
		}
	}
	// Every chart is shown in both formats, under its title.
	for _, c := range charts {
		if !strings.Contains(md, "]("+ChartsDir+"/"+c.ID+".svg)") || !strings.Contains(md, "!["+c.Title+"]") {
			t.Errorf("report.md does not show chart %s", c.ID)
		}
		if !strings.Contains(html, `<figure id="chart-`+c.ID+`">`) || !strings.Contains(html, "<figcaption>"+template.HTMLEscapeString(c.Title)+"</figcaption>") {
			t.Errorf("report.html does not show chart %s", c.ID)
		}
	}
	// The configuration is reproduced verbatim in both.
	cfg := res.Provenance.ConfigTOML
	if !strings.Contains(md, cfg) || !strings.Contains(html, template.HTMLEscapeString(cfg)) {
		t.Error("the configuration TOML is not reproduced in both report.md and report.html")
	}
	if len(js["cpcv"].([]any)) != len(res.Seeds[0].Strategies) {
		t.Errorf("report.json cpcv has %d entries", len(js["cpcv"].([]any)))
	}
}

// TestReportBlockLengthProvenance: the provenance shows the block length the
// bootstrap used, never the setting's 0.
func TestReportBlockLengthProvenance(t *testing.T) {
	t.Run("automatic", func(t *testing.T) {
		res := fakeResults(1)
		rep, err := BuildReport(res)
		if err != nil {
			t.Fatal(err)
		}
		// Independent computation of the Politis–White choices: one per
		// strategy, and the larger of the pair's for each comparison.
		first := res.Seeds[0]
		lo, hi, count := math.Inf(1), math.Inf(-1), 0
		add := func(b float64) { lo, hi, count = math.Min(lo, b), math.Max(hi, b), count+1 }
		for _, s := range first.Strategies {
			add(OptimalBlockLength(s.Path.Return))
		}
		for _, a := range first.Strategies {
			if a.Kind != "agent" {
				continue
			}
			for _, b := range res.Settings.Benchmarks {
				add(max(OptimalBlockLength(a.Path.Return), OptimalBlockLength(findRun(first, b).Path.Return)))
			}
		}
		u := rep.BlockLength
		if !u.Automatic || u.Intervals != count || u.Min != lo || u.Max != hi || lo == hi {
			t.Fatalf("block lengths %+v, want automatic, %d intervals, %v–%v (distinct)", u, count, lo, hi)
		}
		want := fmt.Sprintf("block length auto (Politis–White: %.1f–%.1f bars, over %d intervals)", lo, hi, count)
		md, html, js := writeAll(t, rep, nil)
		for name, doc := range map[string]string{"md": md, "html": html} {
			if !strings.Contains(doc, want) {
				t.Errorf("report.%s lacks %q", name, want)
			}
			if strings.Contains(doc, "block length 0") {
				t.Errorf("report.%s still shows the setting's block length 0", name)
			}
		}
		bl := js["block_length_used"].(map[string]any)
		if bl["automatic"] != true || bl["min"] != lo || bl["max"] != hi || bl["intervals"] != float64(count) {
			t.Errorf("report.json block_length_used %v", bl)
		}
	})
	t.Run("fixed", func(t *testing.T) {
		res := fakeResults(1)
		res.Settings.BlockLength = 7.5
		rep, err := BuildReport(res)
		if err != nil {
			t.Fatal(err)
		}
		md, _, _ := writeAll(t, rep, nil)
		if u := rep.BlockLength; u.Automatic || u.Min != 7.5 || u.Max != 7.5 || !strings.Contains(md, "block length 7.5 bars (fixed)") {
			t.Errorf("fixed block length: %+v", u)
		}
	})
	t.Run("off", func(t *testing.T) {
		res := fakeResults(1)
		res.Settings.Bootstrap = 0
		rep, err := BuildReport(res)
		if err != nil {
			t.Fatal(err)
		}
		md, _, js := writeAll(t, rep, nil)
		bl := js["block_length_used"].(map[string]any)
		if rep.BlockLength.Intervals != 0 || bl["min"] != nil || bl["max"] != nil || !strings.Contains(md, "| bootstrap | off (0 resamples)") {
			t.Errorf("bootstrap off: %+v, JSON %v", rep.BlockLength, bl)
		}
	})
}

// TestReportConstantExposureRendering: a constant exposure's undefined
// t-statistic is "–" in the tables, null in the JSON, and the table says why.
func TestReportConstantExposureRendering(t *testing.T) {
	res := fakeResults(1)
	eq := res.Seeds[0].Strategies[4] // equal-weight: fully invested, a few ulps of cash
	for k := range eq.Path.Executed {
		c := 1e-16 * float64(k%2)
		eq.Path.Executed[k] = []float64{c, 1.0 / 3, 1.0 / 3, 1 - c - 2.0/3}
	}
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	md, html, js := writeAll(t, rep, nil)
	row := regexp.MustCompile(`(?m)^\| equal-weight \| 0\.000 \| – \| – \|`)
	if !row.MatchString(md) {
		t.Errorf("report.md timing row of equal-weight is not slope 0.000, t –, R² –")
	}
	note := "Constant exposure (spread below 1e-12, rounding noise only): equal-weight; slope 0, t and R² not defined (–)."
	if !strings.Contains(md, note) || !strings.Contains(html, note) {
		t.Errorf("the timing note on constant exposures is missing")
	}
	tm := js["strategies"].([]any)[4].(map[string]any)["timing"].(map[string]any)
	reg := tm["regression"].(map[string]any)
	if tm["constant_exposure"] != true || reg["t_stat"] != nil || reg["slope"] != 0.0 {
		t.Errorf("report.json timing of equal-weight: %v", tm)
	}
	// The other strategies' exposure varies (0.9 ± 0.05): they are fitted.
	if rep.Strategies[0].Timing.ConstantExposure || math.IsNaN(rep.Strategies[0].Timing.Regression.TStat) {
		t.Errorf("ppo's varying exposure treated as constant")
	}
}
