package experiments

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/folio-rl/folio/agents/baseline"
)

// ExperimentConfig is the [experiment] table: what the experiment is called,
// its seeds and where run directories go.
type ExperimentConfig struct {
	// Name of the experiment; used in run directory names and the report title.
	// Letters, digits, '-', '_' and '.'. Default "experiment".
	Name string `toml:"name"`
	// Seed is the root seed of the run. Required: there is no clock-based
	// default. Every random stream (data synthesis, episode starts, weight
	// initialisation, sampling, bootstrap) derives from it. An integer
	// 0–9223372036854775807 (a negative seed is an error).
	Seed uint64 `toml:"seed" required:"true"`
	// Seeds is how many seeds to run. Seed k = 0 is Seed itself; seeds k ≥ 1
	// are derived from Seed. With more than one seed the report shows the
	// median and interquartile range across seeds. Default 1, range 1–100.
	Seeds int `toml:"seeds"`
	// OutputDir is the directory under which run directories are created,
	// relative to the working directory. Default "runs".
	OutputDir string `toml:"output_dir"`
	// Description is free text copied into the report.
	Description string `toml:"description"`
}

// DataConfig is the [data] table: where prices come from.
type DataConfig struct {
	// Source is "synthetic" (the built-in market of [market.synthetic]; needs
	// no files) or "files". Default "synthetic".
	Source string `toml:"source"`
	// Paths are price files or directories of them (folio, Binance kline or
	// CryptoDataDownload CSVs; the format is detected). Relative paths are
	// resolved against the experiment file's directory. Required for
	// source = "files".
	Paths []string `toml:"paths"`
	// Format forces a file format: "auto", "folio", "binance" or "cdd".
	// Default "auto".
	Format string `toml:"format"`
	// Assets selects assets by name, in this order (file names without
	// extension). Empty = every asset found.
	Assets []string `toml:"assets"`
	// Interval is the expected bar interval of the files ("1h", "4h", "1d");
	// empty = inferred from the data.
	Interval Duration `toml:"interval"`
	// Resample aggregates bars to a coarser interval (e.g. "1d" from hourly
	// files); incomplete buckets are dropped and reported. Empty = none.
	Resample Duration `toml:"resample"`
	// Start is the first bar to use (YYYY-MM-DD or RFC3339, UTC, inclusive).
	// Empty = the first bar where every selected asset has data.
	Start string `toml:"start"`
	// End is the last bar to use (inclusive), "YYYY-MM-DD" or RFC3339 UTC; a
	// date-only end includes its whole UTC day (on hourly data, every bar
	// of that day). Empty = the last common bar.
	End string `toml:"end"`
	// Fill is the policy for a missing bar inside the common range: "none"
	// (an error) or "ffill" (carry the last close forward with zero volume;
	// filled bars are flagged and reported). Default "none".
	Fill string `toml:"fill"`
	// MaxFillGap is the longest run of missing bars "ffill" may fill, in bars.
	// Default 3, range 1–1000.
	MaxFillGap int `toml:"max_fill_gap"`
	// SkipFirstBars drops this many bars at the start of the common range
	// (listing-day bars have extreme wicks). Default 0.
	SkipFirstBars int `toml:"skip_first_bars"`
	// Regimes says where the per-bar regime labels come from: "auto" (true
	// labels for the synthetic market, the rule-based labeller for files),
	// "true" (synthetic only), "rules", "hmm" (a Gaussian HMM fitted on the
	// first training window (folio run) or all but the last test window of
	// bars (folio train), labels from the Viterbi path over
	// the whole panel: non-causal, so they only split episodes and group
	// the report, never observed by a policy) or "none". Default "auto".
	Regimes string `toml:"regimes"`
}

// BaselineSettings is baseline.Config embedded in the [baselines] table.
type BaselineSettings = baseline.Config

// BaselinesConfig is the [baselines] table: the classic strategies the
// agents are compared with. They trade through the same env, costs and
// guard; every setting except methods is shared by all of them (see the
// agents/baseline package documentation for each method).
type BaselinesConfig struct {
	// Methods lists the baselines to run. Allocation methods: equal-weight,
	// buy-and-hold, cash, constant, random-dirichlet, inverse-vol,
	// risk-parity, risk-budget, min-variance, mean-variance, max-sharpe,
	// efficient-return, hrp, black-litterman; online-portfolio methods: ubah,
	// ucrp, eg, ons, olmar, pamr, anticor, and bsh (best stock in hindsight:
	// reads the future, shown for reference and labelled not implementable).
	// Default ["equal-weight", "inverse-vol", "risk-parity", "min-variance",
	// "mean-variance", "hrp"].
	Methods []string `toml:"methods"`
	BaselineSettings
}

// WalkForwardConfig is the [walkforward] table: the out-of-sample plan.
type WalkForwardConfig struct {
	// Mode is "rolling" (fixed-length training window) or "expanding"
	// (training starts at the first usable bar). Default "rolling".
	Mode string `toml:"mode"`
	// Train is the training window length in bars (with mode "expanding",
	// the first fold's). Default 730; range ≥ 20.
	Train int `toml:"train"`
	// Test is the test window length in bars. Default 180; range ≥ 1.
	Test int `toml:"test"`
	// Step moves the window forward by this many bars. It must equal Test
	// (0 means = test): the test windows then tile the out-of-sample
	// period, and each window starts from the portfolio the previous one
	// ended with. A smaller step would make test windows overlap (bars
	// counted twice in the stitched returns and metrics); a larger one
	// would skip bars while the portfolio value carried across them
	// ignores the market's move. Default 0; allowed 0 or = test.
	Step int `toml:"step"`
	// Embargo is the gap in bars between the end of training and the start
	// of testing (purges labels that overlap the test window). Default 1;
	// range ≥ 0.
	Embargo int `toml:"embargo"`
	// Validation holds out the last bars of each training window for
	// best-model selection during training: the model with the highest
	// annualised Sharpe ratio on them (a deterministic backtest at the
	// configured costs) is kept. Default 0 (train on all of it, keep the
	// final model); range 0 or 10 to less than half of train.
	Validation int `toml:"validation"`
	// WarmStart initialises each fold's agents from the previous fold's
	// final weights. Default false.
	WarmStart bool `toml:"warm_start"`
	// Folds limits the number of folds (the latest ones are kept); 0 = all.
	// Default 0; range ≥ 0.
	Folds int `toml:"folds"`
	// CPCVGroups, when ≥ 2, also runs combinatorial purged cross-validation
	// (López de Prado 2018, ch. 12) with this many groups and
	// CPCVTestGroups test groups per split: every split retrains each agent
	// on its purged, embargoed training groups and backtests every agent and
	// baseline on its test groups; the report gives each strategy's CPCV
	// path statistics. The probability of backtest overfitting is computed
	// across the strategies tried either way. Default 0 (off); range 0 or 2–20.
	CPCVGroups int `toml:"cpcv_groups"`
	// CPCVTestGroups is the number of test groups per CPCV split. Default 2;
	// range 1..cpcv_groups−1.
	CPCVTestGroups int `toml:"cpcv_test_groups"`
}

// ReportConfig is the [report] table.
type ReportConfig struct {
	// CostBps are the fee levels of the cost-sensitivity table: the same
	// trained strategies re-run at each, in basis points. Default
	// [0, 10, 25, 50].
	CostBps []float64 `toml:"cost_bps"`
	// Bootstrap is the number of stationary-bootstrap resamples for
	// confidence intervals. Default 1000, range 0 (off) or ≥ 100.
	Bootstrap int `toml:"bootstrap"`
	// BlockLength is the expected block length of the stationary bootstrap
	// in bars; 0 chooses it from the data (Politis–White 2004, with the
	// Patton–Politis–White correction; the report shows the value used).
	// Default 0; range 0 or ≥ 1.
	BlockLength float64 `toml:"block_length"`
	// Confidence is the level of the bootstrap intervals. Default 0.95;
	// range (0.5, 1).
	Confidence float64 `toml:"confidence"`
	// RollingWindow is the window, in bars, of the rolling-volatility chart.
	// Default 30; range ≥ 2.
	RollingWindow int `toml:"rolling_window"`
	// Benchmarks are the baselines each agent is compared with in the
	// Sharpe-difference statistics. Default ["risk-parity", "mean-variance"]
	// (those of them that run).
	Benchmarks []string `toml:"benchmarks"`
	// PNG renders report.png from report.html with headless Chromium when
	// it is installed (Debian package chromium). Default false.
	PNG bool `toml:"png"`
	// ExtraTrials is the number of configurations tried outside this run
	// (earlier sweeps, discarded agents), added to the deflated Sharpe
	// ratio's trial count; the run's own implementable strategies are
	// counted automatically. Default 0; range ≥ 0.
	ExtraTrials int `toml:"extra_trials"`
}

func defaultExperiment() ExperimentConfig {
	return ExperimentConfig{Name: "experiment", Seeds: 1, OutputDir: "runs"}
}

func defaultData() DataConfig {
	return DataConfig{Source: "synthetic", Format: "auto", Fill: "none", MaxFillGap: 3, Regimes: "auto"}
}

func defaultBaselines() BaselinesConfig {
	return BaselinesConfig{
		Methods:          []string{"equal-weight", "inverse-vol", "risk-parity", "min-variance", "mean-variance", "hrp"},
		BaselineSettings: baseline.Defaults(),
	}
}

func defaultWalkForward() WalkForwardConfig {
	return WalkForwardConfig{Mode: "rolling", Train: 730, Test: 180, Embargo: 1, CPCVTestGroups: 2}
}

func defaultReport() ReportConfig {
	return ReportConfig{CostBps: []float64{0, 10, 25, 50}, Bootstrap: 1000, Confidence: 0.95,
		RollingWindow: 30, Benchmarks: []string{"risk-parity", "mean-variance"}}
}

// fieldErr builds a range/value error for a key; the caller fills in File and Line.
func fieldErr(key, format string, args ...any) *ConfigError {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func oneOf(key, v string, allowed ...string) *ConfigError {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	e := fieldErr(key, "%q is not allowed", v)
	if s := suggest(v, allowed); s != "" {
		e.Fix = fmt.Sprintf("did you mean %q? allowed: %s", s, strings.Join(allowed, ", "))
	} else {
		e.Fix = "allowed: " + strings.Join(allowed, ", ")
	}
	return e
}

// parseDate reads "YYYY-MM-DD" or RFC3339 as UTC.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("cannot read date %q: write YYYY-MM-DD or RFC3339 like 2021-03-01T00:00:00Z", s)
}

func (c *ExperimentConfig) validate() []*ConfigError {
	var errs []*ConfigError
	if c.Name == "" || strings.Trim(c.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		errs = append(errs, fieldErr("experiment.name", "%q must be non-empty letters, digits, '-', '_' or '.'", c.Name))
	}
	if c.Seeds < 1 || c.Seeds > 100 {
		errs = append(errs, fieldErr("experiment.seeds", "%d is out of range 1–100", c.Seeds))
	}
	if c.OutputDir == "" {
		errs = append(errs, fieldErr("experiment.output_dir", "must not be empty"))
	}
	return errs
}

func (c *DataConfig) validate() []*ConfigError {
	var errs []*ConfigError
	add := func(e *ConfigError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(oneOf("data.source", c.Source, "synthetic", "files"))
	add(oneOf("data.format", c.Format, "auto", "folio", "binance", "cdd"))
	add(oneOf("data.fill", c.Fill, "none", "ffill"))
	add(oneOf("data.regimes", c.Regimes, "auto", "true", "rules", "hmm", "none"))
	if c.Source == "files" && len(c.Paths) == 0 {
		e := fieldErr("data.paths", "source = \"files\" needs at least one path")
		e.Fix = `add paths = ["data/daily"] or run with --set data.path=DIR`
		errs = append(errs, e)
	}
	if c.Source == "synthetic" && len(c.Paths) > 0 {
		errs = append(errs, &ConfigError{Key: "data.paths", Msg: "paths are given but source is \"synthetic\"", Fix: `set source = "files" to use them`})
	}
	if c.Source == "synthetic" && c.Regimes == "true" {
		// fine
	} else if c.Source == "files" && c.Regimes == "true" {
		errs = append(errs, &ConfigError{Key: "data.regimes", Msg: "true regimes exist only for the synthetic market", Fix: `use "rules" or "hmm"`})
	}
	if c.MaxFillGap < 1 || c.MaxFillGap > 1000 {
		errs = append(errs, fieldErr("data.max_fill_gap", "%d is out of range 1–1000", c.MaxFillGap))
	}
	if c.SkipFirstBars < 0 {
		errs = append(errs, fieldErr("data.skip_first_bars", "%d must be ≥ 0", c.SkipFirstBars))
	}
	for _, k := range []struct{ key, v string }{{"data.start", c.Start}, {"data.end", c.End}} {
		if _, err := parseDate(k.v); err != nil {
			errs = append(errs, fieldErr(k.key, "%v", err))
		}
	}
	if s, _ := parseStart(c.Start); !s.IsZero() {
		if e, _ := parseEnd(c.End); !e.IsZero() && e.Before(s) {
			errs = append(errs, fieldErr("data.end", "%s is before data.start %s", c.End, c.Start))
		}
	}
	if c.Resample != 0 && c.Interval != 0 && c.Resample < c.Interval {
		errs = append(errs, fieldErr("data.resample", "%s is finer than the data interval %s", c.Resample, c.Interval))
	}
	return errs
}

func (c *BaselinesConfig) validate() []*ConfigError {
	var errs []*ConfigError
	seen := map[string]bool{}
	for _, m := range c.Methods {
		if e := oneOf("baselines.methods", m, BaselineMethods()...); e != nil {
			errs = append(errs, e)
		}
		if seen[m] {
			errs = append(errs, fieldErr("baselines.methods", "%q is listed twice", m))
		}
		seen[m] = true
	}
	if err := c.BaselineSettings.Validate(); err != nil {
		errs = append(errs, wrapSectionErr("baselines", err))
		return errs
	}
	for _, m := range c.Methods {
		if _, err := baseline.New(m, c.BaselineSettings); err != nil && isKnownMethod(m) {
			e := wrapSectionErr("baselines", err)
			e.Msg = fmt.Sprintf("method %s: %s", m, e.Msg)
			errs = append(errs, e)
		}
	}
	return errs
}

// minValidation is the fewest validation bars a best-model selection may
// score: a Sharpe ratio of fewer returns is noise (two bars give a NaN or
// an absurd ratio).
const minValidation = 10

func (c *WalkForwardConfig) validate() []*ConfigError {
	var errs []*ConfigError
	if e := oneOf("walkforward.mode", c.Mode, "rolling", "expanding"); e != nil {
		errs = append(errs, e)
	}
	if c.Train < 20 {
		errs = append(errs, fieldErr("walkforward.train", "%d bars is too short (minimum 20)", c.Train))
	}
	if c.Test < 1 {
		errs = append(errs, fieldErr("walkforward.test", "%d must be ≥ 1", c.Test))
	}
	switch {
	case c.Step < 0:
		e := fieldErr("walkforward.step", "= %d: must be 0 (meaning = test) or equal to test", c.Step)
		e.Fix = fmt.Sprintf("set step = %d (= test) or 0", max(c.Test, 1))
		errs = append(errs, e)
	case c.Step != 0 && c.Step != c.Test && c.Test >= 1:
		why := "test windows would overlap, counting bars twice in the stitched returns and metrics"
		if c.Step > c.Test {
			why = fmt.Sprintf("%d bars between test windows would go untested while the portfolio value carried across them ignores the market's move", c.Step-c.Test)
		}
		e := fieldErr("walkforward.step", "= %d differs from walkforward.test = %d: %s", c.Step, c.Test, why)
		e.Fix = fmt.Sprintf("set step = %d (= test) or 0, which means = test", c.Test)
		errs = append(errs, e)
	}
	if c.Embargo < 0 {
		errs = append(errs, fieldErr("walkforward.embargo", "%d must be ≥ 0", c.Embargo))
	}
	switch {
	case c.Validation < 0 || c.Validation >= c.Train/2 && c.Validation > 0:
		errs = append(errs, fieldErr("walkforward.validation", "%d must be ≥ 0 and less than half of train (%d)", c.Validation, c.Train))
	case c.Validation > 0 && c.Validation < minValidation:
		e := fieldErr("walkforward.validation", "%d bars are too few to score a model (the score is the Sharpe ratio of the validation bars)", c.Validation)
		e.Fix = fmt.Sprintf("hold out at least %d bars, or 0 to keep the final model", minValidation)
		errs = append(errs, e)
	}
	if c.Folds < 0 {
		errs = append(errs, fieldErr("walkforward.folds", "%d must be ≥ 0", c.Folds))
	}
	if c.CPCVGroups == 1 || c.CPCVGroups < 0 || c.CPCVGroups > 20 {
		errs = append(errs, fieldErr("walkforward.cpcv_groups", "%d must be 0 (off) or 2–20", c.CPCVGroups))
	}
	if c.CPCVGroups >= 2 && (c.CPCVTestGroups < 1 || c.CPCVTestGroups >= c.CPCVGroups) {
		errs = append(errs, fieldErr("walkforward.cpcv_test_groups", "%d must be in 1..cpcv_groups-1", c.CPCVTestGroups))
	}
	return errs
}

func (c *ReportConfig) validate() []*ConfigError {
	var errs []*ConfigError
	for _, b := range c.CostBps {
		if b < 0 || b > 1000 {
			errs = append(errs, fieldErr("report.cost_bps", "%v bps is out of range 0–1000", b))
		}
	}
	if c.Bootstrap != 0 && (c.Bootstrap < 100 || c.Bootstrap > 100000) {
		errs = append(errs, fieldErr("report.bootstrap", "%d must be 0 (off) or 100–100000", c.Bootstrap))
	}
	if c.BlockLength != 0 && !(c.BlockLength >= 1 && !math.IsInf(c.BlockLength, 1)) {
		errs = append(errs, fieldErr("report.block_length", "%v must be 0 (automatic) or a finite number ≥ 1", c.BlockLength))
	}
	if !(c.Confidence > 0.5 && c.Confidence < 1) {
		errs = append(errs, fieldErr("report.confidence", "%v is out of range (0.5, 1)", c.Confidence))
	}
	if c.ExtraTrials < 0 {
		errs = append(errs, fieldErr("report.extra_trials", "%d must be ≥ 0", c.ExtraTrials))
	}
	if c.RollingWindow < 2 {
		errs = append(errs, fieldErr("report.rolling_window", "%d must be ≥ 2", c.RollingWindow))
	}
	return errs
}

// BaselineMethods lists the baseline names [baselines] accepts.
func BaselineMethods() []string { return baseline.Methods() }
