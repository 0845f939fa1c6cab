package eval

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/mat"
)

// Report is the computed evaluation: every number the HTML, Markdown and
// JSON reports show. BuildReport computes it deterministically from
// Results.
type Report struct {
	Title          string       `json:"title"`
	Description    string       `json:"description,omitempty"`
	Provenance     Provenance   `json:"provenance"`
	Interval       string       `json:"interval"`
	PeriodsPerYear float64      `json:"periods_per_year"`
	Assets         []string     `json:"assets"`
	Start          string       `json:"oos_start"` // first out-of-sample bar
	End            string       `json:"oos_end"`   // last out-of-sample bar
	Bars           int          `json:"oos_bars"`
	Seeds          []uint64     `json:"seeds"`
	Folds          []FoldReport `json:"folds"`
	// Strategies in report order: agents first, then baselines.
	Strategies []StrategyReport `json:"strategies"`
	// Comparisons of every agent with every benchmark baseline.
	Comparisons []Comparison `json:"comparisons"`
	// CostSensitivity: strategy × fee level.
	CostSensitivity []CostRow `json:"cost_sensitivity"`
	// PBO across the strategies tried (nil when it cannot be computed).
	PBO *PBOSummary `json:"pbo,omitempty"`
	// CPCV summarises the Sharpe ratio of each strategy across the
	// combinatorial purged cross-validation paths (first seed), when run.
	CPCV []CPCVSummary `json:"cpcv,omitempty"`
	// CPCVLayout is the plan the CPCV ran (nil when not run, or read from
	// a results format version 1 file, which did not record it).
	CPCVLayout *CPCVLayoutReport `json:"cpcv_layout,omitempty"`
	Notes      []string          `json:"notes,omitempty"`
	// Settings used for the statistics.
	Settings ReportSettings `json:"settings"`
	// BlockLength is the expected block length the bootstrap intervals
	// actually used (with Settings.BlockLength = 0, the Politis–White
	// choices, which differ per series).
	BlockLength BlockLengthUsed `json:"block_length_used"`
	// DSRTrials states the number of trials and the Sharpe variance the
	// deflated Sharpe ratios deflate for.
	DSRTrials DSRTrials `json:"dsr_trials"`
	// InSample is true when the agents were trained on some of the
	// evaluated bars (Results.InSample, or a fold whose test bars overlap
	// its own training bars); InSampleBars counts the overlapping bars (0
	// when only the flag said so). The title and headings then say "in
	// sample" and Warnings explains.
	InSample     bool `json:"in_sample"`
	InSampleBars int  `json:"in_sample_bars"`
	// Warnings are shown first under Findings: they qualify every number
	// of the report.
	Warnings []string `json:"warnings,omitempty"`
}

// DSRTrials is what the deflated Sharpe ratio deflates for: N =
// Own + Extra trials, with the variance of the per-period Sharpe ratios
// of the run's own trials (first seed).
type DSRTrials struct {
	// Trials is N, the total (Own + Extra).
	Trials int `json:"trials"`
	// Own is the number of the run's strategies counted (Strategies).
	Own int `json:"own"`
	// Extra is Settings.ExtraTrials: configurations tried outside the run.
	Extra int `json:"extra"`
	// Strategies are the run's strategies counted as trials.
	Strategies []string `json:"strategies"`
	// Excluded are the run's strategies not counted, each with the reason.
	Excluded []DSRExclusion `json:"excluded,omitempty"`
	// SharpeVariance is the sample variance of the per-period Sharpe
	// ratios of Strategies (NaN, null in JSON, with fewer than two).
	SharpeVariance float64 `json:"sharpe_variance"`
}

// DSRExclusion is a strategy left out of the DSR trials.
type DSRExclusion struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// MarshalJSON encodes d with NaN as null.
func (d DSRTrials) MarshalJSON() ([]byte, error) { return marshalFinite(d) }

// UnmarshalJSON decodes d, reading null as NaN.
func (d *DSRTrials) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, d) }

// DSR exclusion reasons.
const (
	dsrNotImplementable = "not implementable: it uses future prices, so no one could have selected it"
	dsrCash             = "cash: the riskless reference, not a candidate configuration"
	dsrNoSharpe         = "Sharpe ratio undefined (fewer than 2 returns or zero dispersion)"
)

// DSRTrialSet returns the names of the strategies of one seed that count
// as trials of the deflated Sharpe ratio: the implementable strategies
// other than the cash baseline whose per-period Sharpe ratio is defined.
// A strategy that uses the future (bsh) could not have been chosen, and
// cash is the riskless reference rather than a configuration tried; both
// are left out of the trial count and of the Sharpe variance, as the PBO
// leaves out the strategies that are not implementable.
func DSRTrialSet(runs []StrategyRun) []string {
	var out []string
	for _, s := range runs {
		if dsrExclusion(s) == "" {
			out = append(out, s.Name)
		}
	}
	return out
}

// dsrExclusion returns why s is not a DSR trial ("" when it is one).
func dsrExclusion(s StrategyRun) string {
	switch {
	case !s.Implementable:
		return dsrNotImplementable
	case s.Kind == "baseline" && s.Name == "cash":
		return dsrCash
	}
	if s.Path == nil {
		return dsrNoSharpe
	}
	if _, err := NewSharpeStats(s.Path.Return); err != nil {
		return dsrNoSharpe
	}
	return ""
}

// dsrTrials computes the DSR trial set of the first seed.
func dsrTrials(first SeedResult, extra int) DSRTrials {
	d := DSRTrials{Extra: extra}
	var srs []float64
	for _, s := range first.Strategies {
		if why := dsrExclusion(s); why != "" {
			d.Excluded = append(d.Excluded, DSRExclusion{Name: s.Name, Reason: why})
			continue
		}
		st, _ := NewSharpeStats(s.Path.Return) // defined: dsrExclusion checked it
		srs = append(srs, st.SR)
		d.Strategies = append(d.Strategies, s.Name)
	}
	d.Own = len(d.Strategies)
	d.Trials = d.Own + extra
	d.SharpeVariance = variance(srs)
	return d
}

// BlockLengthUsed summarises the expected block lengths of the report's
// bootstrap intervals: the Sharpe interval of every strategy and the
// Sharpe-difference interval of every comparison, on every seed.
type BlockLengthUsed struct {
	// Automatic is true when each interval chose its own length by
	// Politis & White (2004) (Settings.BlockLength = 0).
	Automatic bool `json:"automatic"`
	// Intervals is the number of intervals computed; 0 when the bootstrap
	// is off or no series could be resampled.
	Intervals int `json:"intervals"`
	// Min and Max are the smallest and largest lengths used, in bars (NaN,
	// null in JSON, without intervals).
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// MarshalJSON encodes b with NaN as null.
func (b BlockLengthUsed) MarshalJSON() ([]byte, error) { return marshalFinite(b) }

// UnmarshalJSON decodes b, reading null as NaN.
func (b *BlockLengthUsed) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, b) }

// blockLengthUsed collects the block lengths of the computed intervals
// (an interval that was not computed has Resamples 0).
func blockLengthUsed(rep *Report) BlockLengthUsed {
	u := BlockLengthUsed{Automatic: rep.Settings.BlockLength == 0, Min: math.NaN(), Max: math.NaN()}
	add := func(iv Interval) {
		if iv.Resamples == 0 || !(iv.BlockLength >= 1) {
			return
		}
		u.Intervals++
		if u.Intervals == 1 {
			u.Min, u.Max = iv.BlockLength, iv.BlockLength
			return
		}
		u.Min, u.Max = math.Min(u.Min, iv.BlockLength), math.Max(u.Max, iv.BlockLength)
	}
	for _, s := range rep.Strategies {
		if len(s.PerSeedSharpeCI) == 0 {
			add(s.SharpeCI)
		}
		for _, iv := range s.PerSeedSharpeCI {
			add(iv)
		}
	}
	for _, c := range rep.Comparisons {
		if len(c.PerSeedCI) == 0 {
			add(c.SharpeDiff)
		}
		for _, iv := range c.PerSeedCI {
			add(iv)
		}
	}
	return u
}

// FoldReport is a fold with dates.
type FoldReport struct {
	FoldWindow
	TrainFrom string `json:"train_from"`
	TrainTo   string `json:"train_to"`
	TestFrom  string `json:"test_from"`
	TestTo    string `json:"test_to"`
}

// StrategyReport holds one strategy's evaluation.
type StrategyReport struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Description   string `json:"description,omitempty"`
	Implementable bool   `json:"implementable"`
	// Metrics of the first seed's out-of-sample path.
	Metrics Metrics `json:"metrics"`
	// PerSeed metrics, one per seed (only with several seeds).
	PerSeed []Metrics `json:"per_seed,omitempty"`
	// Spread is the median and IQR of every metric across seeds (only with
	// several seeds), keyed by the metric's JSON name, plus "guard_steps"
	// (the number of steps the guard changed, per seed).
	Spread map[string]Spread `json:"spread,omitempty"`
	// PerFold and PerRegime break the first seed's path down.
	PerFold   []Segment[int]    `json:"per_fold"`
	PerRegime []Segment[string] `json:"per_regime"`
	// SharpeCI is the stationary-bootstrap interval of the annualised
	// Sharpe ratio of the first seed.
	SharpeCI Interval `json:"sharpe_ci"`
	// PerSeedSharpeCI holds the interval of every seed (only with several
	// seeds; the first equals SharpeCI).
	PerSeedSharpeCI []Interval `json:"per_seed_sharpe_ci,omitempty"`
	// PSR is the probability that the true Sharpe ratio exceeds 0; DSR
	// deflates it for the trials of Report.DSRTrials (first seed).
	PSR float64 `json:"psr"`
	DSR float64 `json:"dsr"`
	// Timing is the volatility-timing regression (nil if unavailable).
	Timing      *Timing           `json:"timing,omitempty"`
	GuardCounts map[string]int    `json:"guard_counts,omitempty"`
	GuardSteps  int               `json:"guard_steps"`
	Fallbacks   map[string]int    `json:"fallbacks,omitempty"`
	Training    []TrainingSummary `json:"training,omitempty"`
}

// MarshalJSON encodes s with NaN and ±Inf as null.
func (s StrategyReport) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *StrategyReport) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

// Comparison is an agent against a benchmark baseline.
type Comparison struct {
	Agent     string `json:"agent"`
	Benchmark string `json:"benchmark"`
	// SharpeDiff is agent − benchmark annualised Sharpe on the first seed,
	// with a stationary-bootstrap interval on aligned resamples.
	SharpeDiff Interval `json:"sharpe_diff"`
	// PerSeedDiff holds the Sharpe difference per seed; Wins counts seeds
	// with a positive difference and Significant those whose interval lies
	// above zero.
	PerSeedDiff []float64 `json:"per_seed_diff"`
	// PerSeedCI holds the bootstrap interval of every seed's difference
	// (the first equals SharpeDiff).
	PerSeedCI   []Interval `json:"per_seed_ci,omitempty"`
	Wins        int        `json:"wins"`
	Significant int        `json:"significant"`
	Seeds       int        `json:"seeds"`
	// Verdict is a plain-language summary that never names a winner from a
	// single seed.
	Verdict string `json:"verdict"`
}

// MarshalJSON encodes c with NaN and ±Inf as null.
func (c Comparison) MarshalJSON() ([]byte, error) { return marshalFinite(c) }

// UnmarshalJSON decodes c, reading null as NaN.
func (c *Comparison) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, c) }

// CostRow is one strategy at one fee level (first seed).
type CostRow struct {
	Strategy     string  `json:"strategy"`
	FeeBps       float64 `json:"fee_bps"`
	Sharpe       float64 `json:"sharpe"`
	AnnualReturn float64 `json:"annual_return"`
	MaxDrawdown  float64 `json:"max_drawdown"`
	Turnover     float64 `json:"turnover"`
}

// MarshalJSON encodes c with NaN as null.
func (c CostRow) MarshalJSON() ([]byte, error) { return marshalFinite(c) }

// UnmarshalJSON decodes c, reading null as NaN.
func (c *CostRow) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, c) }

// CPCVSummary is a strategy's Sharpe ratio across CPCV paths.
type CPCVSummary struct {
	Name     string  `json:"name"`
	Paths    int     `json:"paths"`
	Sharpe   Spread  `json:"sharpe"`
	Positive float64 `json:"share_positive"` // share of paths with a positive Sharpe ratio
}

// MarshalJSON encodes s with NaN as null.
func (s CPCVSummary) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *CPCVSummary) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

// PBOSummary is the probability of backtest overfitting across strategies.
type PBOSummary struct {
	PBO              float64 `json:"pbo"`
	Blocks           int     `json:"blocks"`
	Configurations   int     `json:"configurations"`
	Combinations     int     `json:"combinations"`
	DegradationSlope float64 `json:"degradation_slope"`
	ProbOOSLoss      float64 `json:"prob_oos_loss"`
}

// MarshalJSON encodes s with NaN as null.
func (s PBOSummary) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *PBOSummary) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

func fmtTime(unix int64) string { return time.Unix(unix, 0).UTC().Format("2006-01-02T15:04:05Z") }

func day(unix int64) string { return time.Unix(unix, 0).UTC().Format("2006-01-02") }

// BuildReport computes the report from results. It is deterministic: the
// bootstrap draws from streams derived from Settings.StatsSeed.
func BuildReport(res *Results) (*Report, error) {
	if len(res.Seeds) == 0 || len(res.Seeds[0].Strategies) == 0 {
		return nil, fmt.Errorf("eval: results hold no strategies")
	}
	if err := res.checkCPCV(); err != nil {
		return nil, fmt.Errorf("eval: results: %w", err)
	}
	if res.Settings.ExtraTrials < 0 {
		return nil, fmt.Errorf("eval: results: settings.extra_trials is %d; it counts configurations tried outside the run and must be ≥ 0", res.Settings.ExtraTrials)
	}
	ppy := res.PeriodsPerYear
	rep := &Report{
		Title: res.Title, Description: res.Description, Provenance: res.Provenance,
		Interval: res.Interval, PeriodsPerYear: ppy, Assets: res.Assets, Settings: res.Settings,
		Notes: append([]string(nil), res.Notes...),
	}
	for _, s := range res.Seeds {
		rep.Seeds = append(rep.Seeds, s.Seed)
	}
	at := func(bar int) string {
		if bar >= 0 && bar < len(res.Times) {
			return day(res.Times[bar])
		}
		return ""
	}
	for _, f := range res.Folds {
		rep.Folds = append(rep.Folds, FoldReport{FoldWindow: f,
			TrainFrom: at(f.TrainStart), TrainTo: at(f.TrainEnd - 1), TestFrom: at(f.TestStart), TestTo: at(f.TestEnd - 1)})
	}
	first := res.Seeds[0]
	p0 := first.Strategies[0].Path
	if p0.Len() == 0 {
		return nil, fmt.Errorf("eval: strategy %s has an empty path", first.Strategies[0].Name)
	}
	rep.Start, rep.End, rep.Bars = fmtTime(p0.Time[0]), fmtTime(p0.Time[p0.Len()-1]), p0.Len()

	rep.DSRTrials = dsrTrials(first, res.Settings.ExtraTrials)
	rep.inSample(res)

	boot := BootstrapOptions{Resamples: res.Settings.Bootstrap, Level: res.Settings.Confidence, BlockLength: res.Settings.BlockLength}
	for k, s := range first.Strategies {
		sr, err := strategyReport(res, k, s, ppy, boot, rep.DSRTrials.Trials, rep.DSRTrials.SharpeVariance)
		if err != nil {
			return nil, err
		}
		rep.Strategies = append(rep.Strategies, sr)
	}
	comps, err := comparisons(res, rep, ppy, boot)
	if err != nil {
		return nil, err
	}
	rep.Comparisons = comps
	rep.BlockLength = blockLengthUsed(rep)
	rep.CostSensitivity = costRows(first, ppy)
	rep.PBO = pboSummary(first, ppy)
	for _, c := range first.CPCV {
		pos := 0
		for _, v := range c.PathSharpe {
			if v > 0 {
				pos++
			}
		}
		sum := CPCVSummary{Name: c.Name, Paths: len(c.PathSharpe), Sharpe: SpreadOf(c.PathSharpe), Positive: math.NaN()}
		if len(c.PathSharpe) > 0 {
			sum.Positive = float64(pos) / float64(len(c.PathSharpe))
		}
		rep.CPCV = append(rep.CPCV, sum)
	}
	rep.CPCVLayout = cpcvLayoutReport(res.CPCVLayout, at)
	return rep, nil
}

// inSample sets the in-sample flag, overlap and warning of rep: the
// runner's flag, or a fold whose test bars overlap its own training bars.
func (rep *Report) inSample(res *Results) {
	overlap := 0
	var trainTo, testFrom string
	for _, f := range rep.Folds {
		lo, hi := max(f.TestStart, f.TrainStart), min(f.TestEnd, f.TrainEnd)
		if hi <= lo {
			continue
		}
		if overlap == 0 {
			trainTo, testFrom = f.TrainTo, f.TestFrom
		}
		overlap += hi - lo
	}
	if overlap == 0 && !res.InSample {
		return
	}
	rep.InSample, rep.InSampleBars = true, overlap
	rep.Title += " (in sample)"
	what := "The run marked this evaluation as in sample: the agents were trained on (some of) the evaluated bars."
	if overlap > 0 {
		what = fmt.Sprintf("The agents were trained on %d of the evaluated bars (training runs to %s; the evaluation starts %s).", overlap, trainTo, testFrom)
	}
	rep.Warnings = append(rep.Warnings, "In sample: "+what+
		" Their results here show how well they fit data they have seen, not how they would do on unseen data; the baselines use only past bars and are unaffected. Evaluate after the training range for out-of-sample results.")
}

func variance(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	_, sd := meanStd(x)
	return sd * sd
}

func strategyReport(res *Results, k int, s StrategyRun, ppy float64, boot BootstrapOptions, trials int, trialVar float64) (StrategyReport, error) {
	p := s.Path
	sr := StrategyReport{Name: s.Name, Kind: s.Kind, Description: s.Description, Implementable: s.Implementable,
		GuardCounts: s.GuardCounts, GuardSteps: p.Interventions(), Fallbacks: s.Fallbacks, Training: s.Training}
	m, err := ComputeMetrics(p.Return, ppy, p.Book(), Options{})
	if err != nil {
		return sr, fmt.Errorf("eval: %s: %w", s.Name, err)
	}
	sr.Metrics = m
	sr.SharpeCI = sharpeCI(res, p.Return, m.Sharpe, ppy, boot, uint64(k))
	if len(res.Seeds) > 1 {
		var guard []float64
		for si, seedRes := range res.Seeds {
			run := findRun(seedRes, s.Name)
			if run == nil {
				continue
			}
			pm, err := ComputeMetrics(run.Path.Return, ppy, run.Path.Book(), Options{})
			if err != nil {
				return sr, fmt.Errorf("eval: %s seed %d: %w", s.Name, seedRes.Seed, err)
			}
			sr.PerSeed = append(sr.PerSeed, pm)
			guard = append(guard, float64(run.Path.Interventions()))
			ci := sr.SharpeCI
			if si > 0 {
				ci = sharpeCI(res, run.Path.Return, pm.Sharpe, ppy, boot, 1<<32+uint64(k)<<16+uint64(si))
			}
			sr.PerSeedSharpeCI = append(sr.PerSeedSharpeCI, ci)
		}
		sr.Spread = MetricsSpread(sr.PerSeed)
		sr.Spread["guard_steps"] = SpreadOf(guard)
	}
	if sr.PerFold, err = MetricsBySegment(p.Return, p.Fold, ppy, p.Book(), Options{}); err != nil {
		return sr, fmt.Errorf("eval: %s per fold: %w", s.Name, err)
	}
	labels := make([]string, len(p.Regime))
	for i, r := range p.Regime {
		labels[i] = r.String()
	}
	if sr.PerRegime, err = MetricsBySegment(p.Return, labels, ppy, p.Book(), Options{}); err != nil {
		return sr, fmt.Errorf("eval: %s per regime: %w", s.Name, err)
	}
	slices.SortStableFunc(sr.PerRegime, func(a, b Segment[string]) int { return regimeOrder(a.Label, b.Label) })
	sr.PSR, sr.DSR = math.NaN(), math.NaN()
	if st, err := NewSharpeStats(p.Return); err == nil {
		sr.PSR = st.PSR(0)
		if trials > 1 && !math.IsNaN(trialVar) {
			sr.DSR = st.DSR(trials, trialVar)
		}
	}
	if hasFinite(p.ForecastVol) {
		if t, err := VolTiming(p.Exposure(), p.ForecastVol, p.Return, ppy, TimingOptions{}); err == nil {
			sr.Timing = &t
		}
	}
	return sr, nil
}

// sharpeCI is the bootstrap interval of the annualised Sharpe ratio of r
// from the bootstrap stream `stream` (an interval of NaN bounds around
// the estimate when the bootstrap is off or fails).
func sharpeCI(res *Results, r []float64, estimate, ppy float64, boot BootstrapOptions, stream uint64) Interval {
	iv := Interval{Estimate: estimate, Lo: math.NaN(), Hi: math.NaN(), SE: math.NaN(), PValue: math.NaN()}
	if boot.Resamples > 0 {
		if ci, err := BootstrapSharpe(r, ppy, boot, seed.New(res.Settings.StatsSeed, seed.Bootstrap, stream)); err == nil {
			iv = ci
		}
	}
	return iv
}

func hasFinite(x []float64) bool {
	if len(x) == 0 {
		return false
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func findRun(s SeedResult, name string) *StrategyRun {
	for i := range s.Strategies {
		if s.Strategies[i].Name == name {
			return &s.Strategies[i]
		}
	}
	return nil
}

func comparisons(res *Results, rep *Report, ppy float64, boot BootstrapOptions) ([]Comparison, error) {
	first := res.Seeds[0]
	var out []Comparison
	k := 0
	for _, a := range first.Strategies {
		if a.Kind != "agent" {
			continue
		}
		for _, b := range res.Settings.Benchmarks {
			if findRun(first, b) == nil {
				continue
			}
			c := Comparison{Agent: a.Name, Benchmark: b, Seeds: len(res.Seeds)}
			for si, s := range res.Seeds {
				ra, rb := findRun(s, a.Name), findRun(s, b)
				if ra == nil || rb == nil || ra.Path.Len() != rb.Path.Len() {
					continue
				}
				diff := Sharpe(ra.Path.Return, ppy) - Sharpe(rb.Path.Return, ppy)
				c.PerSeedDiff = append(c.PerSeedDiff, diff)
				if diff > 0 {
					c.Wins++
				}
				iv := Interval{Estimate: diff, Lo: math.NaN(), Hi: math.NaN(), SE: math.NaN(), PValue: math.NaN()}
				if boot.Resamples > 0 {
					rng := seed.New(res.Settings.StatsSeed, seed.Bootstrap, 1<<20+uint64(k)<<8+uint64(si))
					if ci, err := BootstrapSharpeDiff(ra.Path.Return, rb.Path.Return, ppy, boot, rng); err == nil {
						iv = ci
					}
				}
				c.PerSeedCI = append(c.PerSeedCI, iv)
				if iv.Lo > 0 {
					c.Significant++
				}
				if si == 0 {
					c.SharpeDiff = iv
				}
			}
			c.Verdict = verdict(c, boot.Level, rep.label(b))
			out = append(out, c)
			k++
		}
	}
	return out, nil
}

// verdict states what the comparison supports, without declaring a winner
// from one seed: with one seed it reports the interval; with several it
// reports how many seeds were better and significantly better. bench is
// the benchmark's label (marked when it is not implementable).
func verdict(c Comparison, level float64, bench string) string {
	lvl := fmt.Sprintf("%.0f%%", 100*level)
	d := c.SharpeDiff
	if len(c.PerSeedDiff) <= 1 {
		switch {
		case math.IsNaN(d.Lo):
			return fmt.Sprintf("Sharpe difference %+.2f (no bootstrap interval); one seed only: no conclusion about %s", d.Estimate, c.Agent)
		case d.Lo > 0:
			return fmt.Sprintf("higher Sharpe by %+.2f, %s interval [%+.2f, %+.2f] above zero on this seed; run more seeds before calling it a win", d.Estimate, lvl, d.Lo, d.Hi)
		case d.Hi < 0:
			return fmt.Sprintf("lower Sharpe by %+.2f, %s interval [%+.2f, %+.2f] below zero on this seed", d.Estimate, lvl, d.Lo, d.Hi)
		default:
			return fmt.Sprintf("Sharpe difference %+.2f, %s interval [%+.2f, %+.2f] contains zero: not distinguishable from %s", d.Estimate, lvl, d.Lo, d.Hi, bench)
		}
	}
	med := SpreadOf(c.PerSeedDiff)
	return fmt.Sprintf("median Sharpe difference %+.2f (IQR %.2f) over %d seeds; better on %d, significantly better (%s interval above zero) on %d",
		med.Median, med.IQR, len(c.PerSeedDiff), c.Wins, lvl, c.Significant)
}

func costRows(s SeedResult, ppy float64) []CostRow {
	var rows []CostRow
	for _, c := range s.Costs {
		row := CostRow{Strategy: c.Strategy, FeeBps: c.FeeBps, Sharpe: math.NaN(), AnnualReturn: math.NaN(), MaxDrawdown: math.NaN(), Turnover: c.Turnover}
		if m, err := ComputeMetrics(c.Returns, ppy, nil, Options{}); err == nil {
			row.Sharpe, row.AnnualReturn, row.MaxDrawdown = m.Sharpe, m.AnnualReturn, m.MaxDrawdown
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Strategy != rows[j].Strategy {
			return strategyOrder(s, rows[i].Strategy) < strategyOrder(s, rows[j].Strategy)
		}
		return rows[i].FeeBps < rows[j].FeeBps
	})
	return rows
}

func strategyOrder(s SeedResult, name string) int {
	return slices.IndexFunc(s.Strategies, func(r StrategyRun) bool { return r.Name == name })
}

// pboSummary computes the PBO over the implementable strategies' aligned
// out-of-sample returns, with the largest even number of blocks ≤ 16 that
// leaves at least 10 bars per block.
func pboSummary(s SeedResult, ppy float64) *PBOSummary {
	var cols [][]float64
	for _, r := range s.Strategies {
		if r.Implementable {
			cols = append(cols, r.Path.Return)
		}
	}
	if len(cols) < 2 {
		return nil
	}
	n := len(cols[0])
	for _, c := range cols {
		if len(c) != n {
			return nil
		}
	}
	blocks := min(16, n/10)
	blocks -= blocks % 2
	if blocks < 4 {
		return nil
	}
	m := mat.NewDense(n, len(cols), nil)
	for j, c := range cols {
		for i, v := range c {
			m.Set(i, j, v)
		}
	}
	r, err := PBO(m, blocks, ppy)
	if err != nil {
		return nil
	}
	return &PBOSummary{PBO: r.PBO, Blocks: r.Blocks, Configurations: r.Configurations, Combinations: r.Combinations,
		DegradationSlope: r.DegradationSlope, ProbOOSLoss: r.ProbOOSLoss}
}

// regimeOrder sorts regime labels in the market package's order.
func regimeOrder(a, b string) int {
	ra, _ := market.ParseRegime(a)
	rb, _ := market.ParseRegime(b)
	return int(ra) - int(rb)
}

// notImplementableMark follows the name of a strategy that is not
// implementable (it uses future prices) wherever the report shows it:
// tables, findings, chart legends and titles; notImplementableNote is the
// footnote of every table and chart that shows the mark.
const (
	notImplementableMark = "†"
	notImplementableNote = "† Not implementable: chosen with hindsight (it uses future prices), shown as an upper reference, never as a competitor."
	notImplementableKey  = "† not implementable"
)

// label is the name of strategy name as the report shows it: marked with
// notImplementableMark when the strategy is not implementable.
func (rep *Report) label(name string) string {
	for _, s := range rep.Strategies {
		if s.Name == name && !s.Implementable {
			return name + notImplementableMark
		}
	}
	return name
}

// sample is "out of sample", or "in sample" when the agents were trained
// on evaluated bars.
func (rep *Report) sample() string {
	if rep.InSample {
		return "in sample"
	}
	return "out of sample"
}

// seedNote qualifies a table or chart that shows the first seed only: ""
// with one seed, " (seed 1 of N)" with N seeds.
func (rep *Report) seedNote() string {
	if len(rep.Seeds) <= 1 {
		return ""
	}
	return fmt.Sprintf(" (seed 1 of %d)", len(rep.Seeds))
}
