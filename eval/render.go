package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/folio-rl/folio/internal/atomicfile"
)

// Files written by WriteReport into a run directory.
const (
	ReportHTML = "report.html"
	ReportMD   = "report.md"
	ReportJSON = "report.json"
	ChartsDir  = "charts"
)

// maxChartPoints bounds the points per series drawn in a chart; longer
// series are thinned by a fixed stride (the SVG stays small and the shape
// is kept; tables always use every bar).
const maxChartPoints = 1500

// Chart is one rendered chart of the report.
type Chart struct {
	ID    string
	Title string
	SVG   []byte
}

// WriteReport computes the report from res and writes report.html,
// report.md, report.json, charts/*.svg and CSV files into dir. Every file
// is written atomically; the same res gives byte-identical files.
func WriteReport(dir string, res *Results) (*Report, error) {
	rep, err := BuildReport(res)
	if err != nil {
		return nil, err
	}
	charts, err := Charts(rep, res)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, ChartsDir), 0o755); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	for _, c := range charts {
		if err := atomicfile.WriteFile(filepath.Join(dir, ChartsDir, c.ID+".svg"), c.SVG, 0o644); err != nil {
			return nil, err
		}
	}
	js, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return nil, fmt.Errorf("eval: encoding report: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ReportJSON), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep, charts); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ReportMD), md.Bytes(), 0o644); err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, rep, charts); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ReportHTML), html.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := writeCSVs(dir, rep, res); err != nil {
		return nil, err
	}
	return rep, nil
}

// stride returns the sampling step that keeps at most maxChartPoints points.
func stride(n int) int { return max(1, (n+maxChartPoints-1)/maxChartPoints) }

// Charts renders every chart of the report as SVG.
func Charts(rep *Report, res *Results) ([]Chart, error) {
	first := res.Seeds[0]
	one := rep.seedNote() // every chart shows the first seed
	// Legends mark the strategies that are not implementable and explain
	// the mark in a last legend line and in the caption.
	footnote := ""
	for _, s := range rep.Strategies {
		if !s.Implementable {
			footnote = notImplementableKey
		}
	}
	var charts []Chart
	add := func(id, title string) func(svg []byte, err error) error {
		return func(svg []byte, err error) error {
			if err != nil {
				return err
			}
			title += one
			if strings.Contains(string(svg), notImplementableMark) {
				title += ". " + notImplementableNote
			}
			charts = append(charts, Chart{ID: id, Title: title, SVG: svg})
			return nil
		}
	}
	smp := rep.sample()
	Smp := strings.ToUpper(smp[:1]) + smp[1:]
	smpAdj := strings.ReplaceAll(Smp, " ", "-") // "Out-of-sample"
	sub := func(p *Path, f func(k int) float64) ([]float64, []float64) {
		s := stride(p.Len())
		var x, y []float64
		for k := 0; k < p.Len(); k += s {
			x = append(x, float64(p.Time[k]))
			y = append(y, f(k))
		}
		return x, y
	}
	var equity, dd, rvol, expo []Line
	win := max(2, res.Settings.RollingWindow)
	for _, s := range first.Strategies {
		p := s.Path
		dash := s.Kind != "agent"
		// Wealth compounded from the returns, starting at 1, so strategies
		// share a scale and stitched test windows join up.
		wealth := p.Wealth()
		x, y := sub(p, func(k int) float64 { return wealth[k] })
		equity = append(equity, Line{Name: rep.label(s.Name), X: x, Y: y, Dash: dash})
		peak := 1.0
		ddv := make([]float64, p.Len())
		for k, v := range wealth {
			peak = math.Max(peak, v)
			ddv[k] = v/peak - 1
		}
		x, y = sub(p, func(k int) float64 { return ddv[k] })
		dd = append(dd, Line{Name: rep.label(s.Name), X: x, Y: y, Dash: dash})
		rv := rollingVol(p.Return, win, res.PeriodsPerYear)
		x, y = sub(p, func(k int) float64 { return rv[k] })
		rvol = append(rvol, Line{Name: rep.label(s.Name), X: x, Y: y, Dash: dash})
		ex := p.Exposure()
		x, y = sub(p, func(k int) float64 { return ex[k] })
		expo = append(expo, Line{Name: rep.label(s.Name), X: x, Y: y, Dash: dash})
	}
	if err := add("equity", smpAdj+" equity (log scale, start = 1)")(
		LineChart(ChartOptions{Title: smpAdj + " equity (log scale)" + one, YLabel: "value / initial", LogY: true, TimeX: true, Footnote: footnote}, equity)); err != nil {
		return nil, err
	}
	if err := add("drawdown", "Drawdown from the running peak")(
		LineChart(ChartOptions{Title: "Drawdown" + one, YLabel: "drawdown", TimeX: true, Footnote: footnote}, dd)); err != nil {
		return nil, err
	}
	if err := add("rolling-vol", fmt.Sprintf("Rolling %d-bar volatility (annualised)", win))(
		LineChart(ChartOptions{Title: fmt.Sprintf("Rolling %d-bar volatility (annualised)", win) + one, YLabel: "volatility", TimeX: true, Footnote: footnote}, rvol)); err != nil {
		return nil, err
	}
	if err := add("exposure", "Risky exposure (1 − cash weight)")(
		LineChart(ChartOptions{Title: "Risky exposure (1 − cash)" + one, YLabel: "exposure", TimeX: true, YCover: [2]float64{0, 1}, Footnote: footnote}, expo)); err != nil {
		return nil, err
	}
	names := append([]string{"cash"}, res.Assets...)
	for _, s := range first.Strategies {
		p := s.Path
		st := stride(p.Len())
		var x []float64
		var w [][]float64
		for k := 0; k < p.Len(); k += st {
			x = append(x, float64(p.Time[k]))
			w = append(w, p.Executed[k])
		}
		wfoot := ""
		if !s.Implementable {
			wfoot = notImplementableKey
		}
		if err := add("weights-"+slug(s.Name), "Executed weights: "+rep.label(s.Name))(
			StackedArea(ChartOptions{Title: "Weights: " + rep.label(s.Name) + one, YLabel: "weight", TimeX: true, Height: chartHeight * 8 / 10, Footnote: wfoot}, x, names, w)); err != nil {
			return nil, err
		}
	}
	// Per-regime Sharpe.
	var cats []string
	seen := map[string]bool{}
	for _, s := range rep.Strategies {
		for _, seg := range s.PerRegime {
			if !seen[seg.Label] {
				seen[seg.Label] = true
				cats = append(cats, seg.Label)
			}
		}
	}
	sort.SliceStable(cats, func(i, j int) bool { return regimeOrder(cats[i], cats[j]) < 0 })
	var groups []BarGroup
	for _, s := range rep.Strategies {
		vals := make([]float64, len(cats))
		for c, lab := range cats {
			vals[c] = math.NaN()
			for _, seg := range s.PerRegime {
				if seg.Label == lab {
					vals[c] = seg.Metrics.Sharpe
				}
			}
		}
		groups = append(groups, BarGroup{Name: rep.label(s.Name), Values: vals})
	}
	if err := add("regimes", "Sharpe ratio by regime")(
		GroupedBars(ChartOptions{Title: "Sharpe ratio by regime (" + smp + ")" + one, YLabel: "Sharpe", Footnote: footnote}, cats, groups)); err != nil {
		return nil, err
	}
	// Volatility timing: exposure against forecast volatility.
	var sc []ScatterSeries
	for i, s := range rep.Strategies {
		if s.Timing == nil || (s.Kind != "agent" && s.Name != "inverse-vol" && s.Name != "risk-parity") {
			continue
		}
		p := first.Strategies[i].Path
		ex := p.Exposure()
		st := stride(p.Len())
		var x, y []float64
		for k := 0; k < p.Len(); k += st {
			x = append(x, p.ForecastVol[k])
			y = append(y, ex[k])
		}
		sc = append(sc, ScatterSeries{Name: rep.label(s.Name), X: x, Y: y, Fit: true, Intercept: s.Timing.Regression.Intercept, Slope: s.Timing.Regression.Slope})
	}
	if err := add("vol-timing", "Exposure against forecast volatility")(
		ScatterChart(ChartOptions{Title: "Exposure vs forecast volatility" + one, XLabel: "forecast volatility", YLabel: "risky exposure", YCover: [2]float64{0, 1}}, sc)); err != nil {
		return nil, err
	}
	// Cost sensitivity.
	var cl []Line
	byStrat := map[string]*Line{}
	var order []string
	for _, r := range rep.CostSensitivity {
		l, ok := byStrat[r.Strategy]
		if !ok {
			l = &Line{Name: rep.label(r.Strategy)}
			byStrat[r.Strategy] = l
			order = append(order, r.Strategy)
		}
		l.X = append(l.X, r.FeeBps)
		l.Y = append(l.Y, r.Sharpe)
	}
	for _, n := range order {
		l := byStrat[n]
		for _, s := range first.Strategies {
			if s.Name == n {
				l.Dash = s.Kind != "agent"
			}
		}
		cl = append(cl, *l)
	}
	if err := add("costs", "Sharpe ratio against the fee level")(
		LineChart(ChartOptions{Title: "Cost sensitivity" + one, XLabel: "fee (bps)", YLabel: "Sharpe", Footnote: footnote}, cl)); err != nil {
		return nil, err
	}
	return charts, nil
}

func rollingVol(r []float64, w int, ppy float64) []float64 {
	out := make([]float64, len(r))
	var s, s2 float64
	for k, v := range r {
		s += v
		s2 += v * v
		if k >= w {
			o := r[k-w]
			s -= o
			s2 -= o * o
		}
		if k+1 < w {
			out[k] = math.NaN()
			continue
		}
		m := s / float64(w)
		v := (s2 - float64(w)*m*m) / float64(w-1)
		out[k] = math.Sqrt(math.Max(v, 0) * ppy)
	}
	return out
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// num formats a number for tables: fixed precision, "–" for NaN.
func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.IsInf(v, 1) {
		return "+∞"
	}
	if math.IsInf(v, -1) {
		return "−∞"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return num(v, 1)
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// table is a rendered table: a header and rows of cells.
type table struct {
	Title   string
	Note    string
	Header  []string
	Rows    [][]string
	Numeric []bool
}

func (rep *Report) tables() []table {
	var ts []table
	nSeeds := len(rep.Seeds)
	multi := nSeeds > 1
	one := rep.seedNote() // " (seed 1 of N)" on the tables of the first seed only
	ts = append(ts, rep.summaryTable())
	if len(rep.Comparisons) > 0 {
		ts = append(ts, rep.comparisonTable())
	}
	stat := table{Title: "Statistical significance" + one, Header: []string{"strategy", "Sharpe", "SE (bootstrap)", "PSR (SR > 0)", "DSR", "skewness", "excess kurtosis", "VaR 5%", "CVaR 5%", "stability"},
		Note: "PSR: probability that the true Sharpe ratio is above zero (Bailey & López de Prado 2012); DSR deflates it for the number of trials (2014). " + rep.DSRTrials.describe(rep)}
	for _, s := range rep.Strategies {
		m := s.Metrics
		stat.Rows = append(stat.Rows, []string{rep.label(s.Name), num(m.Sharpe, 2), num(s.SharpeCI.SE, 2), num(s.PSR, 3), num(s.DSR, 3),
			num(m.Skewness, 2), num(m.Kurtosis, 2), pct(m.ValueAtRisk), pct(m.ConditionalValueAtRisk), num(m.Stability, 2)})
	}
	ts = append(ts, stat)
	if len(rep.Folds) > 0 {
		f := table{Title: "Walk-forward folds: Sharpe per fold" + one, Header: []string{"fold", "train", "test"}}
		for _, s := range rep.Strategies {
			f.Header = append(f.Header, rep.label(s.Name))
		}
		for _, fold := range rep.Folds {
			row := []string{strconv.Itoa(fold.Index), fold.TrainFrom + " – " + fold.TrainTo, fold.TestFrom + " – " + fold.TestTo}
			for _, s := range rep.Strategies {
				v := math.NaN()
				for _, seg := range s.PerFold {
					if seg.Label == fold.Index {
						v = seg.Metrics.Sharpe
					}
				}
				row = append(row, num(v, 2))
			}
			f.Rows = append(f.Rows, row)
		}
		ts = append(ts, f)
	}
	regimes := table{Title: "By regime: annualised return / Sharpe / bars" + one, Header: []string{"strategy"}}
	var labs []string
	seen := map[string]bool{}
	for _, s := range rep.Strategies {
		for _, seg := range s.PerRegime {
			if !seen[seg.Label] {
				seen[seg.Label] = true
				labs = append(labs, seg.Label)
			}
		}
	}
	sort.SliceStable(labs, func(i, j int) bool { return regimeOrder(labs[i], labs[j]) < 0 })
	regimes.Header = append(regimes.Header, labs...)
	for _, s := range rep.Strategies {
		row := []string{rep.label(s.Name)}
		for _, l := range labs {
			cell := "–"
			for _, seg := range s.PerRegime {
				if seg.Label == l {
					cell = fmt.Sprintf("%s / %s / %d", pct(seg.Metrics.AnnualReturn), num(seg.Metrics.Sharpe, 2), seg.Metrics.Periods)
				}
			}
			row = append(row, cell)
		}
		regimes.Rows = append(regimes.Rows, row)
	}
	ts = append(ts, regimes)
	timing := table{Title: "Volatility timing: exposure regressed on forecast volatility" + one, Header: []string{"strategy", "slope", "t (Newey–West)", "R²", "exposure, top-decile vol", "Sharpe, top-decile vol", "Sharpe, rest"},
		Note: "A strategy that times volatility holds less risk when forecast volatility is high: a negative slope with t below about −2."}
	var constant []string
	for _, s := range rep.Strategies {
		if s.Timing == nil {
			continue
		}
		t := s.Timing
		if t.ConstantExposure {
			constant = append(constant, rep.label(s.Name))
		}
		timing.Rows = append(timing.Rows, []string{rep.label(s.Name), num(t.Regression.Slope, 3), num(t.Regression.TStat, 2), num(t.Regression.R2, 3),
			num(t.HighVol.Exposure, 2), num(t.HighVol.Sharpe, 2), num(t.Rest.Sharpe, 2)})
	}
	if len(constant) > 0 {
		timing.Note += fmt.Sprintf(" Constant exposure (spread below %g, rounding noise only): %s; slope 0, t and R² not defined (–).",
			ConstantExposureSpread, strings.Join(constant, ", "))
	}
	if len(timing.Rows) > 0 {
		ts = append(ts, timing)
	}
	if len(rep.CostSensitivity) > 0 {
		var bps []float64
		seenB := map[float64]bool{}
		for _, r := range rep.CostSensitivity {
			if !seenB[r.FeeBps] {
				seenB[r.FeeBps] = true
				bps = append(bps, r.FeeBps)
			}
		}
		sort.Float64s(bps)
		c := table{Title: "Cost sensitivity: Sharpe (CAGR) at each fee level" + one, Header: []string{"strategy"},
			Note: "The same strategies (the same trained agents) re-run with the fee changed; slippage and the guard unchanged."}
		for _, b := range bps {
			c.Header = append(c.Header, num(b, 0)+" bps")
		}
		var order []string
		cells := map[string]map[float64]string{}
		for _, r := range rep.CostSensitivity {
			if cells[r.Strategy] == nil {
				cells[r.Strategy] = map[float64]string{}
				order = append(order, r.Strategy)
			}
			cells[r.Strategy][r.FeeBps] = fmt.Sprintf("%s (%s)", num(r.Sharpe, 2), pct(r.AnnualReturn))
		}
		for _, s := range order {
			row := []string{rep.label(s)}
			for _, b := range bps {
				row = append(row, cells[s][b])
			}
			c.Rows = append(c.Rows, row)
		}
		ts = append(ts, c)
	}
	guard := table{Title: "Guard interventions and optimisation fallbacks" + one, Header: []string{"strategy", "steps changed by the guard", "by limit", "fallbacks"}}
	if multi {
		guard.Note = fmt.Sprintf("The Summary shows the steps changed by the guard as the median [IQR] across the %d seeds.", nSeeds)
	}
	for _, s := range rep.Strategies {
		guard.Rows = append(guard.Rows, []string{rep.label(s.Name), strconv.Itoa(s.GuardSteps), countList(s.GuardCounts), countList(s.Fallbacks)})
	}
	ts = append(ts, guard)
	var trainRows [][]string
	for _, s := range rep.Strategies {
		for _, tr := range s.Training {
			trainRows = append(trainRows, []string{rep.label(s.Name), strconv.Itoa(tr.Fold), strconv.Itoa(tr.Steps), strconv.Itoa(tr.Iterations), tr.Selected, num(tr.BestScore, 4), strconv.Itoa(tr.BestIter)})
		}
	}
	if len(trainRows) > 0 {
		ts = append(ts, table{Title: "Training" + one, Header: []string{"agent", "fold", "env steps", "iterations", "model kept", "best validation score", "at iteration"}, Rows: trainRows})
	}
	if rep.PBO != nil {
		ts = append(ts, table{Title: "Probability of backtest overfitting (CSCV across the strategies)" + one,
			Header: []string{"PBO", "blocks", "strategies", "combinations", "degradation slope", "P(OOS loss)"},
			Rows:   [][]string{{num(rep.PBO.PBO, 3), strconv.Itoa(rep.PBO.Blocks), strconv.Itoa(rep.PBO.Configurations), strconv.Itoa(rep.PBO.Combinations), num(rep.PBO.DegradationSlope, 3), num(rep.PBO.ProbOOSLoss, 3)}},
			Note:   "Bailey, Borwein, López de Prado & Zhu (2015): the share of splits where the in-sample best strategy ranks below the out-of-sample median. Over the implementable strategies only."})
	}
	if len(rep.CPCV) > 0 {
		c := table{Title: "Combinatorial purged cross-validation: Sharpe ratio across backtest paths" + one,
			Header: []string{"strategy", "paths", "median", "IQR", "min", "max", "share > 0"},
			Note:   "López de Prado (2018, ch. 12): every combination of test groups is tested with a model trained on the other groups (purged and embargoed); each of the φ paths covers every group once. Baselines do not train, so their paths repeat the same pieces and agree; the spread across paths is informative for agents."}
		if l := rep.CPCVLayout; l != nil {
			c.Note = l.summary() + " " + c.Note
		}
		for _, x := range rep.CPCV {
			c.Rows = append(c.Rows, []string{rep.label(x.Name), strconv.Itoa(x.Paths), num(x.Sharpe.Median, 2), num(x.Sharpe.IQR, 2), num(x.Sharpe.Min, 2), num(x.Sharpe.Max, 2), num(x.Positive, 2)})
		}
		ts = append(ts, c)
		if l := rep.CPCVLayout; l != nil {
			ts = append(ts, l.groupsTable())
		}
	}
	prov := rep.Provenance
	period := fmt.Sprintf("%s – %s (%d bars)", rep.Start, rep.End, rep.Bars)
	periodKey := "out-of-sample period"
	if rep.InSample {
		periodKey = "evaluation period (IN SAMPLE)"
	}
	ts = append(ts, table{Title: "Provenance", Header: []string{"item", "value"}, Rows: [][]string{
		{"experiment", prov.Experiment}, {"root seed", strconv.FormatUint(prov.RootSeed, 10)}, {"seeds", fmt.Sprint(prov.Seeds)},
		{"data", prov.DataSource}, {"data fingerprint (sha256)", prov.DataFingerprint}, {"regime labels", prov.RegimeSource},
		{"configuration hash", prov.ConfigHash}, {"code version", prov.CodeVersion}, {"Go", prov.GoVersion},
		{"interval / periods per year", fmt.Sprintf("%s / %s", rep.Interval, num(rep.PeriodsPerYear, 0))},
		{periodKey, period},
		{"bootstrap", bootstrapProvenance(rep)},
	}})
	for i := range ts {
		ts[i].footnoteNotImplementable()
	}
	return ts
}

// footnoteNotImplementable adds the footnote on strategies that are not
// implementable to a table that shows the mark.
func (t *table) footnoteNotImplementable() {
	has := slices.ContainsFunc(t.Header, func(h string) bool { return strings.Contains(h, notImplementableMark) })
	for _, r := range t.Rows {
		has = has || slices.ContainsFunc(r, func(c string) bool { return strings.Contains(c, notImplementableMark) })
	}
	if !has {
		return
	}
	if t.Note != "" {
		t.Note += " "
	}
	t.Note += notImplementableNote
}

// levelPct formats a confidence level as the verdicts do ("95%").
func levelPct(level float64) string { return fmt.Sprintf("%.0f%%", 100*level) }

// medIQR formats a spread as "median [IQR]" with f.
func medIQR(sp Spread, f func(float64) string) string {
	return fmt.Sprintf("%s [%s]", f(sp.Median), f(sp.IQR))
}

// fmtCount formats a count, or the median of counts, without trailing zeros.
func fmtCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return num(v, 0)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// summaryTable is the Summary: the first seed's metrics with one seed;
// with several, every number is the median [IQR] across the seeds.
func (rep *Report) summaryTable() table {
	n := len(rep.Seeds)
	multi := n > 1
	t := table{Title: fmt.Sprintf("Summary (%s, after costs)", rep.sample()),
		Header: []string{"strategy", "kind", "CAGR", "vol", "Sharpe", "Sharpe CI", "Sortino", "max DD", "Calmar", "turnover/bar", "fees", "exposure", "guard steps"}}
	if multi {
		t.Header[5] = "Sharpe CI (median per-seed bounds)"
		t.Note = fmt.Sprintf("Every number is the median [interquartile range] across the %d seeds. The Sharpe CI column shows the median lower and median upper bound of the %s bootstrap intervals computed on each seed: the typical single-seed interval, not an interval for the median across seeds (its spread is the IQR beside it). Per-seed values are in report.json (per_seed, per_seed_sharpe_ci).",
			n, levelPct(rep.Settings.Confidence))
	}
	f2 := func(v float64) string { return num(v, 2) }
	f4 := func(v float64) string { return num(v, 4) }
	for _, s := range rep.Strategies {
		m := s.Metrics
		row := []string{rep.label(s.Name), s.Kind}
		if !multi {
			row = append(row, pct(m.AnnualReturn), pct(m.AnnualVolatility), num(m.Sharpe, 2),
				fmt.Sprintf("[%s, %s]", num(s.SharpeCI.Lo, 2), num(s.SharpeCI.Hi, 2)), num(m.Sortino, 2), pct(m.MaxDrawdown),
				num(m.Calmar, 2), num(m.Turnover, 4), pct(m.FeesFraction), num(m.Exposure, 2), strconv.Itoa(s.GuardSteps))
			t.Rows = append(t.Rows, row)
			continue
		}
		lo, hi := make([]float64, len(s.PerSeedSharpeCI)), make([]float64, len(s.PerSeedSharpeCI))
		for i, iv := range s.PerSeedSharpeCI {
			lo[i], hi[i] = iv.Lo, iv.Hi
		}
		sp := s.Spread
		row = append(row, medIQR(sp["annual_return"], pct), medIQR(sp["annual_volatility"], pct), medIQR(sp["sharpe"], f2),
			fmt.Sprintf("[%s, %s]", num(SpreadOf(lo).Median, 2), num(SpreadOf(hi).Median, 2)), medIQR(sp["sortino"], f2),
			medIQR(sp["max_drawdown"], pct), medIQR(sp["calmar"], f2), medIQR(sp["turnover"], f4), medIQR(sp["fees_fraction"], pct),
			medIQR(sp["exposure"], f2), medIQR(sp["guard_steps"], fmtCount))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// comparisonTable compares every agent with every benchmark: the first
// (only) seed's difference and interval with one seed; with several, the
// median [IQR] of the per-seed differences, the median per-seed interval
// bounds and the median p-value.
func (rep *Report) comparisonTable() table {
	n := len(rep.Seeds)
	t := table{Title: "Agents against the benchmarks (Sharpe difference, stationary block bootstrap)",
		Header: []string{"agent", "benchmark", "Δ Sharpe", "interval", "p-value", "seeds better", "verdict"}}
	if n > 1 {
		t.Header[2], t.Header[3], t.Header[4] = "Δ Sharpe", "interval (median per-seed bounds)", "p-value (median)"
		t.Note = fmt.Sprintf("Every number is across the %d seeds: Δ Sharpe is the median [interquartile range] of the per-seed differences; the interval shows the median lower and median upper bound of the per-seed %s bootstrap intervals; the p-value is the median of the per-seed p-values.",
			n, levelPct(rep.Settings.Confidence))
	}
	for _, x := range rep.Comparisons {
		row := []string{rep.label(x.Agent), rep.label(x.Benchmark)}
		if n > 1 {
			lo, hi, pv := make([]float64, len(x.PerSeedCI)), make([]float64, len(x.PerSeedCI)), make([]float64, len(x.PerSeedCI))
			for i, iv := range x.PerSeedCI {
				lo[i], hi[i], pv[i] = iv.Lo, iv.Hi, iv.PValue
			}
			row = append(row, medIQR(SpreadOf(x.PerSeedDiff), func(v float64) string { return num(v, 2) }),
				fmt.Sprintf("[%s, %s]", num(SpreadOf(lo).Median, 2), num(SpreadOf(hi).Median, 2)), num(SpreadOf(pv).Median, 3))
		} else {
			row = append(row, num(x.SharpeDiff.Estimate, 2), fmt.Sprintf("[%s, %s]", num(x.SharpeDiff.Lo, 2), num(x.SharpeDiff.Hi, 2)), num(x.SharpeDiff.PValue, 3))
		}
		row = append(row, fmt.Sprintf("%d/%d", x.Wins, len(x.PerSeedDiff)), x.Verdict)
		t.Rows = append(t.Rows, row)
	}
	return t
}

// describe states the DSR's trials for the significance table's note.
func (d DSRTrials) describe(rep *Report) string {
	labels := make([]string, len(d.Strategies))
	for i, s := range d.Strategies {
		labels[i] = rep.label(s)
	}
	s := fmt.Sprintf("Trials N = %d: the run's %d (%s)", d.Trials, d.Own, strings.Join(labels, ", "))
	if d.Extra > 0 {
		s += fmt.Sprintf(" + %d declared as tried outside the run", d.Extra)
	} else {
		s += ", none declared as tried outside the run"
	}
	s += fmt.Sprintf("; Sharpe variance across the run's trials %s (per period).", num(d.SharpeVariance, 6))
	if len(d.Excluded) > 0 {
		ex := make([]string, len(d.Excluded))
		for i, e := range d.Excluded {
			ex[i] = fmt.Sprintf("%s (%s)", rep.label(e.Name), e.Reason)
		}
		s += " Not counted: " + strings.Join(ex, "; ") + "."
	}
	return s
}

// bootstrapProvenance describes the bootstrap as run: resamples, level
// and the block length actually used (the Politis–White choices when
// automatic, as a range when they differ between series).
func bootstrapProvenance(rep *Report) string {
	st := rep.Settings
	if st.Bootstrap == 0 {
		return "off (0 resamples): no intervals"
	}
	head := fmt.Sprintf("%d resamples, level %s, ", st.Bootstrap, num(st.Confidence, 2))
	u := rep.BlockLength
	if u.Intervals == 0 {
		if u.Automatic {
			return head + "block length auto (Politis–White), but no interval could be computed"
		}
		return head + fmt.Sprintf("block length %s bars (fixed), but no interval could be computed", num(st.BlockLength, 1))
	}
	lengths := num(u.Min, 1)
	if hi := num(u.Max, 1); hi != lengths {
		lengths += "–" + hi
	}
	if u.Automatic {
		return head + fmt.Sprintf("block length auto (Politis–White: %s bars, over %d intervals)", lengths, u.Intervals)
	}
	return head + fmt.Sprintf("block length %s bars (fixed)", lengths)
}

func countList(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// WriteMarkdown writes the report as Markdown; charts are linked from the
// charts/ directory.
func WriteMarkdown(w io.Writer, rep *Report, charts []Chart) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", rep.Title)
	if rep.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", rep.Description)
	}
	fmt.Fprintf(&b, "%s\n\n", rep.lead())
	if len(rep.Comparisons) > 0 || len(rep.Warnings) > 0 {
		b.WriteString("## Findings\n\n")
		for _, w := range rep.Warnings {
			fmt.Fprintf(&b, "- **Warning**: %s\n", w)
		}
		for _, f := range rep.findings() {
			fmt.Fprintf(&b, "- **%s**: %s.\n", f.Head, f.Text)
		}
		b.WriteString("\n")
	}
	for _, t := range rep.tables() {
		fmt.Fprintf(&b, "## %s\n\n", t.Title)
		if t.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", t.Note)
		}
		b.WriteString("| " + strings.Join(mapStrings(t.Header, mdEscape), " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(t.Header)) + "\n")
		for _, r := range t.Rows {
			b.WriteString("| " + strings.Join(mapStrings(r, mdEscape), " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Charts\n\n")
	for _, c := range charts {
		fmt.Fprintf(&b, "![%s](%s/%s.svg)\n\n", c.Title, ChartsDir, c.ID)
	}
	if len(rep.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	if cfg := rep.Provenance.ConfigTOML; cfg != "" {
		// A fence longer than any backtick run in the text, so the TOML
		// cannot close it.
		fence := "```"
		for strings.Contains(cfg, fence) {
			fence += "`"
		}
		fmt.Fprintf(&b, "## Configuration\n\n%stoml\n%s\n%s\n", fence, strings.TrimRight(cfg, "\n"), fence)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lead is the sentence under the title: the period evaluated, in or out
// of sample.
func (rep *Report) lead() string {
	smp := rep.sample()
	return fmt.Sprintf("%s%s %s – %s, %d bars of %s, %d assets, %d seed(s). All results are after fees and slippage, behind the same risk guard.",
		strings.ToUpper(smp[:1]), smp[1:], rep.Start, rep.End, rep.Bars, rep.Interval, len(rep.Assets), len(rep.Seeds))
}

// finding is one comparison's line under Findings.
type finding struct{ Head, Text string }

func (rep *Report) findings() []finding {
	out := make([]finding, len(rep.Comparisons))
	for i, c := range rep.Comparisons {
		out[i] = finding{Head: rep.label(c.Agent) + " vs " + rep.label(c.Benchmark), Text: c.Verdict}
	}
	return out
}

func mapStrings(xs []string, f func(string) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

var svgHeaderRE = regexp.MustCompile(`(?s)^(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*`)

// WriteHTML writes a self-contained HTML report: inline CSS and inline SVG
// charts, no external resources.
func WriteHTML(w io.Writer, rep *Report, charts []Chart) error {
	type chartView struct {
		ID, Title string
		SVG       template.HTML
	}
	views := make([]chartView, len(charts))
	for i, c := range charts {
		svg := svgHeaderRE.ReplaceAll(c.SVG, nil)
		views[i] = chartView{ID: c.ID, Title: c.Title, SVG: template.HTML(svg)}
	}
	data := struct {
		R        *Report
		Lead     string
		Findings []finding
		Tables   []table
		Charts   []chartView
	}{rep, rep.lead(), rep.findings(), rep.tables(), views}
	return htmlTemplate.Execute(w, data)
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.R.Title}}</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 1200px; color: #1a1a1a; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
p.lead { color: #444; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.86em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.55em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
.note { color: #555; font-size: 0.85em; }
ul.findings li { margin-bottom: 0.3em; }
ul.findings li.warning { color: #8a1f11; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; }
figure svg text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; }
figcaption { color: #555; font-size: 0.85em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
{{if .R.Description}}<p class="lead">{{.R.Description}}</p>{{end}}
<p class="lead">{{.Lead}}</p>
{{if or .R.Comparisons .R.Warnings}}<h2>Findings</h2>
<ul class="findings">{{range .R.Warnings}}<li class="warning"><b>Warning</b>: {{.}}</li>{{end}}{{range .Findings}}<li><b>{{.Head}}</b>: {{.Text}}.</li>{{end}}</ul>{{end}}
{{range $i, $t := .Tables}}{{if eq $i 1}}{{range $.Charts}}{{if eq .ID "equity"}}<figure id="chart-{{.ID}}">{{.SVG}}<figcaption>{{.Title}}</figcaption></figure>{{end}}{{end}}{{end}}
<h2>{{$t.Title}}</h2>
{{if $t.Note}}<p class="note">{{$t.Note}}</p>{{end}}
<table>
<tr>{{range $t.Header}}<th>{{.}}</th>{{end}}</tr>
{{range $t.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
<h2>Charts</h2>
{{range .Charts}}{{if ne .ID "equity"}}<figure id="chart-{{.ID}}">{{.SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Configuration</h2>
<pre>{{.R.Provenance.ConfigTOML}}</pre>
</body>
</html>
`))

// writeCSVs writes the machine-readable series: returns.csv and equity.csv
// (one column per strategy, first seed; equity compounds the stitched
// returns from the initial capital), summary.csv (metrics per
// strategy) and weights/<strategy>.csv (executed weights per bar).
func writeCSVs(dir string, rep *Report, res *Results) error {
	first := res.Seeds[0]
	p0 := first.Strategies[0].Path
	ret := [][]string{{"time"}}
	eq := [][]string{{"time"}}
	for _, s := range first.Strategies {
		ret[0] = append(ret[0], s.Name)
		eq[0] = append(eq[0], s.Name)
	}
	wealth := make([][]float64, len(first.Strategies))
	for i, s := range first.Strategies {
		wealth[i] = s.Path.Wealth()
	}
	for k := 0; k < p0.Len(); k++ {
		r := []string{fmtTime(p0.Time[k])}
		e := []string{fmtTime(p0.Time[k])}
		for i, s := range first.Strategies {
			if k < s.Path.Len() {
				r = append(r, strconv.FormatFloat(s.Path.Return[k], 'g', -1, 64))
				e = append(e, strconv.FormatFloat(s.Path.InitialValue*wealth[i][k], 'g', -1, 64))
			} else {
				r, e = append(r, ""), append(e, "")
			}
		}
		ret, eq = append(ret, r), append(eq, e)
	}
	if err := writeCSV(filepath.Join(dir, "returns.csv"), ret); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "equity.csv"), eq); err != nil {
		return err
	}
	keys := []string{"total_return", "annual_return", "annual_volatility", "sharpe", "sortino", "downside_risk", "max_drawdown",
		"calmar", "omega", "tail_ratio", "value_at_risk", "conditional_value_at_risk", "stability", "turnover", "fees_paid", "slippage_paid",
		"max_drawdown_duration", "hit_rate", "exposure"}
	sum := [][]string{append([]string{"strategy", "kind"}, keys...)}
	for _, s := range rep.Strategies {
		js, err := json.Marshal(s.Metrics)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			return err
		}
		row := []string{s.Name, s.Kind}
		for _, k := range keys {
			switch v := m[k].(type) {
			case float64:
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			case nil:
				row = append(row, "")
			default:
				row = append(row, fmt.Sprint(v))
			}
		}
		sum = append(sum, row)
	}
	if err := writeCSV(filepath.Join(dir, "summary.csv"), sum); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		return err
	}
	for _, s := range first.Strategies {
		rows := [][]string{append([]string{"time", "cash"}, res.Assets...)}
		for k := 0; k < s.Path.Len(); k++ {
			row := []string{fmtTime(s.Path.Time[k])}
			for _, w := range s.Path.Executed[k] {
				row = append(row, strconv.FormatFloat(w, 'g', -1, 64))
			}
			rows = append(rows, row)
		}
		if err := writeCSV(filepath.Join(dir, "weights", slug(s.Name)+".csv"), rows); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(path string, rows [][]string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}
