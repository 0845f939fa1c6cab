package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// quantile7 is numpy's default (linear, Hyndman & Fan type 7) quantile,
// written out here independently of the package's SpreadOf.
func quantile7(x []float64, q float64) float64 {
	v := slices.Clone(x)
	slices.Sort(v)
	h := q * float64(len(v)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(v) {
		return v[lo]
	}
	return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
}

func medianIQR(x []float64) (med, iqr float64) {
	return quantile7(x, 0.5), quantile7(x, 0.75) - quantile7(x, 0.25)
}

// findTable returns the table whose title starts with prefix.
func findTable(t *testing.T, ts []table, prefix string) table {
	t.Helper()
	for _, tb := range ts {
		if strings.HasPrefix(tb.Title, prefix) {
			return tb
		}
	}
	t.Fatalf("no table %q", prefix)
	return table{}
}

// threeSeeds is fakeResults(3) with a different number of guard
// interventions per seed, so that every summary column varies across
// seeds for the agents.
func threeSeeds() *Results {
	res := fakeResults(3)
	for si := range res.Seeds {
		for k := range res.Seeds[si].Strategies {
			p := res.Seeds[si].Strategies[k].Path
			for i := 0; i < 3*si+k; i++ {
				p.Guard[7+13*i] = 2 // 8 + 3·seed + strategy steps changed by the guard
			}
		}
	}
	return res
}

// TestReportMultiSeedSummary: with several seeds every cell of the Summary
// is the median [IQR] across seeds of the per-seed metric, computed here
// from each seed's path; the Sharpe CI cell is the median of the per-seed
// bootstrap bounds, each a bootstrap of that seed's own path.
func TestReportMultiSeedSummary(t *testing.T) {
	res := threeSeeds()
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	sum := findTable(t, rep.tables(), "Summary (out of sample, after costs)")
	boot := BootstrapOptions{Resamples: res.Settings.Bootstrap, Level: res.Settings.Confidence, BlockLength: res.Settings.BlockLength}
	cols := []struct {
		col  int
		f    func(m Metrics) float64
		form func(float64) string
	}{
		{2, func(m Metrics) float64 { return m.AnnualReturn }, pct},
		{3, func(m Metrics) float64 { return m.AnnualVolatility }, pct},
		{4, func(m Metrics) float64 { return m.Sharpe }, func(v float64) string { return num(v, 2) }},
		{6, func(m Metrics) float64 { return m.Sortino }, func(v float64) string { return num(v, 2) }},
		{7, func(m Metrics) float64 { return m.MaxDrawdown }, pct},
		{8, func(m Metrics) float64 { return m.Calmar }, func(v float64) string { return num(v, 2) }},
		{9, func(m Metrics) float64 { return m.Turnover }, func(v float64) string { return num(v, 4) }},
		{10, func(m Metrics) float64 { return m.FeesFraction }, pct},
		{11, func(m Metrics) float64 { return m.Exposure }, func(v float64) string { return num(v, 2) }},
	}
	if len(sum.Rows) != len(res.Seeds[0].Strategies) {
		t.Fatalf("%d summary rows", len(sum.Rows))
	}
	varied := 0
	for k, s := range res.Seeds[0].Strategies {
		row := sum.Rows[k]
		if row[0] != s.Name {
			t.Fatalf("row %d is %q, want %s", k, row[0], s.Name)
		}
		var ms []Metrics
		var guard, lo, hi []float64
		for si, sd := range res.Seeds {
			p := findRun(sd, s.Name).Path
			m, err := ComputeMetrics(p.Return, res.PeriodsPerYear, p.Book(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
			g := 0
			for _, f := range p.Guard {
				if f != 0 {
					g++
				}
			}
			if g != 8+3*si+k {
				t.Fatalf("fixture: %s seed %d has %d guard steps", s.Name, si, g)
			}
			guard = append(guard, float64(g))
			stream := uint64(k)
			if si > 0 {
				stream = 1<<32 + uint64(k)<<16 + uint64(si)
			}
			ci, err := BootstrapSharpe(p.Return, res.PeriodsPerYear, boot, seed.New(res.Settings.StatsSeed, seed.Bootstrap, stream))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ci.Estimate-m.Sharpe) > 1e-12 {
				t.Fatalf("%s seed %d: bootstrap estimate %v, Sharpe %v", s.Name, si, ci.Estimate, m.Sharpe)
			}
			lo, hi = append(lo, ci.Lo), append(hi, ci.Hi)
		}
		for _, c := range cols {
			vals := make([]float64, len(ms))
			for i, m := range ms {
				vals[i] = c.f(m)
			}
			med, iqr := medianIQR(vals)
			want := fmt.Sprintf("%s [%s]", c.form(med), c.form(iqr))
			if row[c.col] != want {
				t.Errorf("%s, column %q: %q, want median [IQR] %q of %v", s.Name, sum.Header[c.col], row[c.col], want, vals)
			}
			if k == 0 && iqr > 0 {
				varied++
			}
		}
		med, iqr := medianIQR(guard)
		if want := fmt.Sprintf("%s [%s]", strconv.FormatFloat(med, 'f', -1, 64), strconv.FormatFloat(iqr, 'f', -1, 64)); row[12] != want {
			t.Errorf("%s guard steps: %q, want %q", s.Name, row[12], want)
		}
		if want := fmt.Sprintf("[%s, %s]", num(quantile7(lo, 0.5), 2), num(quantile7(hi, 0.5), 2)); row[5] != want {
			t.Errorf("%s Sharpe CI: %q, want the median per-seed bounds %q (lo %v, hi %v)", s.Name, row[5], want, lo, hi)
		}
	}
	// The agents' metrics differ across seeds, so the test tells the median
	// from seed 1's value.
	if varied < 6 {
		t.Errorf("only %d of ppo's columns vary across seeds: the fixture does not test the aggregation", varied)
	}
	if !strings.Contains(sum.Header[5], "median per-seed bounds") || !strings.Contains(sum.Note, "median [interquartile range] across the 3 seeds") {
		t.Errorf("summary header %q / note %q do not say what the cells are", sum.Header[5], sum.Note)
	}
}

// TestReportMultiSeedComparisons: with several seeds the benchmark table
// shows the median [IQR] of the per-seed Sharpe differences, the median
// per-seed interval bounds and the median p-value.
func TestReportMultiSeedComparisons(t *testing.T) {
	res := threeSeeds()
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	ct := findTable(t, rep.tables(), "Agents against the benchmarks")
	boot := BootstrapOptions{Resamples: res.Settings.Bootstrap, Level: res.Settings.Confidence, BlockLength: res.Settings.BlockLength}
	k := 0
	for _, a := range []string{"ppo", "ddpg"} {
		for _, b := range res.Settings.Benchmarks {
			row := ct.Rows[k]
			if row[0] != a || row[1] != b {
				t.Fatalf("row %d: %v", k, row[:2])
			}
			var diff, lo, hi, pv []float64
			for si, sd := range res.Seeds {
				ra, rb := findRun(sd, a).Path.Return, findRun(sd, b).Path.Return
				d := Sharpe(ra, res.PeriodsPerYear) - Sharpe(rb, res.PeriodsPerYear)
				diff = append(diff, d)
				ci, err := BootstrapSharpeDiff(ra, rb, res.PeriodsPerYear, boot, seed.New(res.Settings.StatsSeed, seed.Bootstrap, 1<<20+uint64(k)<<8+uint64(si)))
				if err != nil {
					t.Fatal(err)
				}
				lo, hi, pv = append(lo, ci.Lo), append(hi, ci.Hi), append(pv, ci.PValue)
			}
			med, iqr := medianIQR(diff)
			if want := fmt.Sprintf("%s [%s]", num(med, 2), num(iqr, 2)); row[2] != want {
				t.Errorf("%s vs %s Δ Sharpe %q, want %q (per seed %v)", a, b, row[2], want, diff)
			}
			if want := fmt.Sprintf("[%s, %s]", num(quantile7(lo, 0.5), 2), num(quantile7(hi, 0.5), 2)); row[3] != want {
				t.Errorf("%s vs %s interval %q, want %q", a, b, row[3], want)
			}
			if want := num(quantile7(pv, 0.5), 3); row[4] != want {
				t.Errorf("%s vs %s p-value %q, want %q", a, b, row[4], want)
			}
			if strings.Contains(row[6], "on this seed") || !strings.Contains(row[6], "over 3 seeds") {
				t.Errorf("verdict %q", row[6])
			}
			k++
		}
	}
}

// TestReportSingleSeedTablesLabelled: with several seeds the tables and
// charts that show the first seed only say so; with one seed none does.
func TestReportSingleSeedTablesLabelled(t *testing.T) {
	firstOnly := []string{"Statistical significance", "Walk-forward folds", "By regime", "Volatility timing", "Cost sensitivity",
		"Guard interventions", "Training", "Probability of backtest overfitting", "Combinatorial purged cross-validation: Sharpe"}
	acrossSeeds := []string{"Summary", "Agents against the benchmarks", "Provenance", "Combinatorial purged cross-validation: groups"}
	for _, n := range []int{1, 3} {
		res := withCPCV(fakeResults(n))
		rep, err := BuildReport(res)
		if err != nil {
			t.Fatal(err)
		}
		ts := rep.tables()
		mark := "(seed 1 of 3)"
		for _, tb := range ts {
			single := slices.ContainsFunc(firstOnly, func(p string) bool { return strings.HasPrefix(tb.Title, p) })
			across := slices.ContainsFunc(acrossSeeds, func(p string) bool { return strings.HasPrefix(tb.Title, p) })
			if !single && !across {
				t.Errorf("table %q is not classified in this test", tb.Title)
			}
			labelled := strings.Contains(tb.Title, "(seed 1 of")
			if want := single && n > 1; labelled != want || (want && !strings.HasSuffix(tb.Title, mark)) {
				t.Errorf("%d seed(s): table %q labelled %v, want %v", n, tb.Title, labelled, want)
			}
		}
		charts, err := Charts(rep, res)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range charts {
			if got := strings.Contains(c.Title, mark) && strings.Contains(string(c.SVG), mark); got != (n > 1) {
				t.Errorf("%d seed(s): chart %s caption/title labelled %v", n, c.ID, got)
			}
		}
	}
}

// withBshAndCash renames equal-weight to bsh (not implementable) and adds
// a cash baseline (zero returns, all cash) on every seed.
func withBshAndCash(res *Results) *Results {
	res.Settings.Benchmarks = append(res.Settings.Benchmarks, "bsh")
	for si := range res.Seeds {
		sd := &res.Seeds[si]
		for k := range sd.Strategies {
			if sd.Strategies[k].Name == "equal-weight" {
				sd.Strategies[k].Name, sd.Strategies[k].Implementable = "bsh", false
				sd.Strategies[k].Path.Strategy = "bsh"
			}
		}
		for k := range sd.Costs {
			if sd.Costs[k].Strategy == "equal-weight" {
				sd.Costs[k].Strategy = "bsh"
			}
		}
		for k := range sd.CPCV {
			if sd.CPCV[k].Name == "equal-weight" {
				sd.CPCV[k].Name = "bsh"
			}
		}
		src := sd.Strategies[2].Path
		p := *src
		p.Strategy = "cash"
		p.Return = make([]float64, len(src.Return))
		p.Value = make([]float64, len(src.Value))
		p.Executed = make([][]float64, len(src.Executed))
		p.Target = p.Executed
		p.Turnover = make([]float64, len(src.Turnover))
		p.Fees = make([]float64, len(src.Fees))
		p.Slippage = make([]float64, len(src.Slippage))
		p.Guard = make([]uint32, len(src.Guard))
		for i := range p.Value {
			p.Value[i] = p.InitialValue
			p.Executed[i] = []float64{1, 0, 0, 0}
		}
		sd.Strategies = append(sd.Strategies, StrategyRun{Name: "cash", Kind: "baseline", Implementable: true, Path: &p})
		sd.Costs = append(sd.Costs, CostRun{Strategy: "cash", FeeBps: 0, Returns: p.Return}, CostRun{Strategy: "cash", FeeBps: 25, Returns: p.Return})
	}
	return res
}

// TestReportDSRTrials: the deflated Sharpe ratio counts the implementable
// strategies with a defined Sharpe ratio (not bsh, not cash) plus the
// declared extra trials, and takes the Sharpe variance over the same
// strategies.
func TestReportDSRTrials(t *testing.T) {
	res := withBshAndCash(fakeResults(1))
	res.Settings.ExtraTrials = 7
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	d := rep.DSRTrials
	want := []string{"ppo", "ddpg", "risk-parity", "mean-variance"}
	if !slices.Equal(d.Strategies, want) || d.Own != 4 || d.Extra != 7 || d.Trials != 11 {
		t.Fatalf("DSR trials %+v, want %v, own 4, extra 7, total 11", d, want)
	}
	if len(d.Excluded) != 2 || d.Excluded[0].Name != "bsh" || d.Excluded[1].Name != "cash" ||
		!strings.Contains(d.Excluded[0].Reason, "not implementable") || !strings.Contains(d.Excluded[1].Reason, "riskless reference") {
		t.Errorf("excluded %+v", d.Excluded)
	}
	// Independent per-period Sharpe ratios and their sample variance.
	var srs []float64
	for _, n := range want {
		r := findRun(res.Seeds[0], n).Path.Return
		var mean float64
		for _, v := range r {
			mean += v
		}
		mean /= float64(len(r))
		var ss float64
		for _, v := range r {
			ss += (v - mean) * (v - mean)
		}
		srs = append(srs, mean/math.Sqrt(ss/float64(len(r)-1)))
	}
	var m, v float64
	for _, s := range srs {
		m += s
	}
	m /= float64(len(srs))
	for _, s := range srs {
		v += (s - m) * (s - m)
	}
	v /= float64(len(srs) - 1)
	if math.Abs(d.SharpeVariance-v) > 1e-15 {
		t.Errorf("Sharpe variance %v, want %v", d.SharpeVariance, v)
	}
	for _, s := range rep.Strategies {
		st, err := NewSharpeStats(findRun(res.Seeds[0], s.Name).Path.Return)
		if err != nil {
			if s.Name != "cash" || !math.IsNaN(s.DSR) {
				t.Errorf("%s: %v, DSR %v", s.Name, err, s.DSR)
			}
			continue
		}
		if w := st.DSR(11, v); math.Abs(s.DSR-w) > 1e-12 {
			t.Errorf("%s: DSR %v, want %v (11 trials)", s.Name, s.DSR, w)
		}
	}
	// The old count (every strategy, 6) gives another number: the test
	// tells the two apart.
	st, _ := NewSharpeStats(res.Seeds[0].Strategies[0].Path.Return)
	if math.Abs(rep.Strategies[0].DSR-st.DSR(6, v)) < 1e-6 {
		t.Error("the DSR does not depend on the trial count")
	}
	md, _, js := writeAll(t, rep, nil)
	note := "Trials N = 11: the run's 4 (ppo, ddpg, risk-parity, mean-variance) + 7 declared as tried outside the run"
	if !strings.Contains(md, note) || !strings.Contains(md, "Not counted: bsh† (not implementable") {
		t.Errorf("report.md does not state the trials")
	}
	dj := js["dsr_trials"].(map[string]any)
	if dj["trials"] != 11.0 || dj["own"] != 4.0 || dj["extra"] != 7.0 || dj["sharpe_variance"] != v {
		t.Errorf("report.json dsr_trials %v", dj)
	}
	if got := DSRTrialSet(res.Seeds[0].Strategies); !slices.Equal(got, want) {
		t.Errorf("DSRTrialSet %v", got)
	}

	t.Run("negative", func(t *testing.T) {
		res := fakeResults(1)
		res.Settings.ExtraTrials = -1
		if _, err := BuildReport(res); err == nil || !strings.Contains(err.Error(), "settings.extra_trials is -1") {
			t.Errorf("BuildReport: %v", err)
		}
		p := filepath.Join(t.TempDir(), "results.json")
		if err := WriteResults(p, res); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadResults(p); err == nil || !strings.Contains(err.Error(), "settings.extra_trials is -1") || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadResults: %v", err)
		}
	})
	t.Run("version 2 total trials", func(t *testing.T) {
		res := withBshAndCash(fakeResults(1))
		res.Version = 2
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.Replace(string(b), `"extra_trials":0`, `"trials":9`, 1))
		p := filepath.Join(t.TempDir(), "results.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := ReadResults(p)
		if err != nil {
			t.Fatal(err)
		}
		if back.Settings.ExtraTrials != 5 || !strings.Contains(strings.Join(back.Notes, "\n"), "settings.trials = 9 (total trials) read as 5 trial(s) outside the run besides the run's own 4") {
			t.Errorf("version 2 trials 9 read as extra %d, notes %q", back.Settings.ExtraTrials, back.Notes)
		}
	})
}

// bareBsh matches "bsh" not followed by the mark (outside file names).
var bareBsh = regexp.MustCompile(`bsh($|[^†a-z/.-])`)

// TestReportMarksNotImplementable: bsh carries its mark in every table,
// finding and chart legend, and each of them explains the mark.
func TestReportMarksNotImplementable(t *testing.T) {
	res := withCPCV(withBshAndCash(fakeResults(2)))
	// withCPCV ran after the renaming: rename its equal-weight too.
	for k := range res.Seeds[0].CPCV {
		if res.Seeds[0].CPCV[k].Name == "equal-weight" {
			res.Seeds[0].CPCV[k].Name = "bsh"
		}
	}
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, tb := range rep.tables() {
		has := false
		for _, r := range append([][]string{tb.Header}, tb.Rows...) {
			for _, c := range r {
				if bareBsh.MatchString(c) {
					t.Errorf("table %q shows bsh without its mark: %q", tb.Title, c)
				}
				has = has || strings.Contains(c, "bsh†")
			}
		}
		if has {
			shown++
			if !strings.Contains(tb.Note, notImplementableNote) {
				t.Errorf("table %q shows bsh† without the footnote", tb.Title)
			}
		}
	}
	// Summary, comparisons, significance, folds, regimes, timing, costs,
	// guard, CPCV.
	if shown < 9 {
		t.Errorf("bsh† shown in %d tables, want at least 9", shown)
	}
	charts, err := Charts(rep, res)
	if err != nil {
		t.Fatal(err)
	}
	md, html, _ := writeAll(t, rep, charts)
	for name, doc := range map[string]string{"md": md, "html": html} {
		for _, l := range strings.Split(doc, "\n") {
			if strings.HasPrefix(l, "<svg") || strings.Contains(l, "weights-bsh") {
				continue
			}
			if bareBsh.MatchString(l) {
				t.Errorf("report.%s line shows bsh without its mark: %.200s", name, l)
			}
		}
	}
	if !strings.Contains(md, "- **ppo vs bsh†**:") || !strings.Contains(html, "<b>ppo vs bsh†</b>:") {
		t.Error("the findings do not mark bsh")
	}
	withBsh := 0
	for _, c := range charts {
		svg := string(c.SVG)
		if strings.Contains(svg, ">bsh<") {
			t.Errorf("chart %s labels bsh without its mark", c.ID)
		}
		if strings.Contains(svg, "bsh†") {
			withBsh++
			if !strings.Contains(svg, ">"+notImplementableKey+"<") || !strings.Contains(c.Title, notImplementableNote) {
				t.Errorf("chart %s shows bsh† without the key in its legend and caption", c.ID)
			}
		}
	}
	// equity, drawdown, rolling vol, exposure, weights-bsh, regimes, costs.
	if withBsh != 7 {
		t.Errorf("%d charts show bsh†, want 7", withBsh)
	}
}

// TestReportInSample: an evaluation over bars the agents were trained on
// is titled and headed "in sample" and warned about in Findings and
// report.json, whether the runner flags it or the folds show it.
func TestReportInSample(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(*Results)
		overlap  int
		inSample bool
		text     string
	}{
		{"out of sample", func(*Results) {}, 0, false, ""},
		{"overlapping fold", func(r *Results) {
			r.Folds = []FoldWindow{{Index: 0, TrainStart: 0, TrainEnd: 300, TestStart: 101, TestEnd: 401}}
		}, 199, true, "The agents were trained on 199 of the evaluated bars (training runs to 2021-10-27; the evaluation starts 2021-04-12)."},
		{"runner flag", func(r *Results) { r.InSample = true }, 0, true, "The run marked this evaluation as in sample"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := fakeResults(1)
			c.edit(res)
			p := filepath.Join(t.TempDir(), "results.json")
			if err := WriteResults(p, res); err != nil {
				t.Fatal(err)
			}
			back, err := ReadResults(p)
			if err != nil {
				t.Fatal(err)
			}
			if back.InSample != res.InSample {
				t.Fatalf("in_sample not kept by results.json")
			}
			rep, err := BuildReport(back)
			if err != nil {
				t.Fatal(err)
			}
			charts, err := Charts(rep, back)
			if err != nil {
				t.Fatal(err)
			}
			md, html, js := writeAll(t, rep, charts)
			if rep.InSample != c.inSample || rep.InSampleBars != c.overlap || js["in_sample"] != c.inSample || js["in_sample_bars"] != float64(c.overlap) {
				t.Fatalf("in sample %v (%d bars), json %v %v; want %v (%d)", rep.InSample, rep.InSampleBars, js["in_sample"], js["in_sample_bars"], c.inSample, c.overlap)
			}
			heads := []string{"# test report (in sample)\n", "\nIn sample 2021-04-12", "## Summary (in sample, after costs)", "- **Warning**: In sample: ", "| evaluation period (IN SAMPLE) |"}
			for _, h := range heads {
				if strings.Contains(md, h) != c.inSample {
					t.Errorf("report.md contains %q: %v, want %v", h, !c.inSample, c.inSample)
				}
			}
			for _, h := range []string{"<h1>test report (in sample)</h1>", "<h2>Summary (in sample, after costs)</h2>", `<li class="warning"><b>Warning</b>: In sample: `} {
				if strings.Contains(html, h) != c.inSample {
					t.Errorf("report.html contains %q: %v, want %v", h, !c.inSample, c.inSample)
				}
			}
			if strings.Contains(md, "Out of sample") == c.inSample || strings.Contains(md, "(out of sample") == c.inSample {
				t.Errorf("report.md still says out of sample: %v", c.inSample)
			}
			for _, ch := range charts {
				if ch.ID == "equity" && strings.Contains(ch.Title, "In-sample equity") != c.inSample {
					t.Errorf("equity chart caption %q", ch.Title)
				}
			}
			w, _ := js["warnings"].([]any)
			if !c.inSample {
				if len(w) != 0 {
					t.Errorf("warnings %v", w)
				}
				return
			}
			if len(w) != 1 || !strings.Contains(w[0].(string), c.text) || !strings.Contains(md, c.text) {
				t.Errorf("warning %v lacks %q", w, c.text)
			}
		})
	}
}
