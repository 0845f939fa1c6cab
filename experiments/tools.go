package experiments

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/BurntSushi/toml"
	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/agents/baseline"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/atomicfile"
	"github.com/folio-rl/folio/portfolio"
	"github.com/folio-rl/folio/vol"
)

// ---- folio report ----

// Report regenerates the report of a run directory from its results.json.
// The files are byte-identical to those the run wrote.
func Report(dir string) (*RunResult, error) {
	res, err := eval.ReadResults(filepath.Join(dir, resultsFile))
	if err != nil {
		return nil, fmt.Errorf("experiments: %s has no complete results (was the run finished? continue it with --resume): %w", dir, err)
	}
	rep, err := eval.WriteReport(dir, res)
	if err != nil {
		return nil, err
	}
	return &RunResult{Dir: dir, ReportHTML: filepath.Join(dir, eval.ReportHTML), Report: rep}, nil
}

// ---- folio data ----

// DataOptions are the flags of `folio data`.
type DataOptions struct {
	Paths    []string
	Interval string
	JSON     bool
	Assets   int
	Bars     int
	Seed     uint64
	Out      string
	Stdout   io.Writer
	Stderr   io.Writer
}

// GARCHSummary is the GARCH(1,1) fit of `folio data describe`: constant
// mean, normal errors, on simple returns in percent (the conventions of
// Python's arch package).
type GARCHSummary struct {
	Mu           float64 `json:"mu"`
	Omega        float64 `json:"omega"`
	Alpha        float64 `json:"alpha"`
	Beta         float64 `json:"beta"`
	LogLik       float64 `json:"loglik"`
	NextVariance float64 `json:"next_variance"`
	Converged    bool    `json:"converged"`
}

// AssetDescription is one asset of `folio data describe --json`.
type AssetDescription struct {
	Name           string        `json:"name"`
	Bars           int           `json:"bars"`
	First          string        `json:"first"`
	Last           string        `json:"last"`
	Interval       string        `json:"interval"`
	Gaps           int           `json:"gaps"`
	AnnReturn      float64       `json:"ann_return"`
	AnnVol         float64       `json:"ann_vol"`
	Skew           float64       `json:"skew"`
	ExcessKurtosis float64       `json:"excess_kurtosis"`
	MaxDrawdown    float64       `json:"max_drawdown"`
	GARCH          *GARCHSummary `json:"garch"`
	GARCHError     string        `json:"garch_error,omitempty"`
}

func finiteOrNull(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// MarshalJSON writes non-finite statistics as null.
func (a AssetDescription) MarshalJSON() ([]byte, error) {
	type out struct {
		Name           string        `json:"name"`
		Bars           int           `json:"bars"`
		First          string        `json:"first"`
		Last           string        `json:"last"`
		Interval       string        `json:"interval"`
		Gaps           int           `json:"gaps"`
		AnnReturn      any           `json:"ann_return"`
		AnnVol         any           `json:"ann_vol"`
		Skew           any           `json:"skew"`
		ExcessKurtosis any           `json:"excess_kurtosis"`
		MaxDrawdown    any           `json:"max_drawdown"`
		GARCH          *GARCHSummary `json:"garch"`
		GARCHError     string        `json:"garch_error,omitempty"`
	}
	return json.Marshal(out{a.Name, a.Bars, a.First, a.Last, a.Interval, a.Gaps, finiteOrNull(a.AnnReturn), finiteOrNull(a.AnnVol),
		finiteOrNull(a.Skew), finiteOrNull(a.ExcessKurtosis), finiteOrNull(a.MaxDrawdown), a.GARCH, a.GARCHError})
}

// describeSeries describes one loaded (and possibly resampled) series.
func describeSeries(s *market.Series) AssetDescription {
	st := market.Describe(s)
	d := AssetDescription{Name: s.Asset, Bars: st.Bars, First: st.First.UTC().Format(time.RFC3339), Last: st.Last.UTC().Format(time.RFC3339),
		Interval: Duration(st.Interval).String(), Gaps: st.Gaps, AnnReturn: st.CAGR, AnnVol: st.Volatility, Skew: st.Skewness,
		ExcessKurtosis: st.ExcessKurtosis, MaxDrawdown: st.MaxDrawdown}
	r := make([]float64, 0, s.Len())
	for k := 1; k < s.Len(); k++ {
		r = append(r, 100*(s.Close[k]/s.Close[k-1]-1))
	}
	fit, err := vol.FitGARCH(r, nil)
	if err != nil {
		d.GARCHError = err.Error()
		return d
	}
	d.GARCH = &GARCHSummary{Mu: fit.Params.Mu, Omega: fit.Params.Omega, Alpha: fit.Params.Alpha, Beta: fit.Params.Beta,
		LogLik: fit.LogLikelihood, NextVariance: fit.NextVariance, Converged: fit.Converged}
	return d
}

// readSeries reads every file under paths, resampled to interval if given.
func readSeries(paths []string, interval string) ([]*market.Series, []market.Warning, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("experiments: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("experiments: no CSV files in %s", strings.Join(paths, ", "))
	}
	var target time.Duration
	if interval != "" {
		d, err := ParseDuration(interval)
		if err != nil {
			return nil, nil, &usageErr{err.Error()}
		}
		target = time.Duration(d)
	}
	var out []*market.Series
	var warns []market.Warning
	for _, f := range files {
		s, w, err := market.ReadFile(f, market.FormatAuto)
		if err != nil {
			return nil, nil, err
		}
		warns = append(warns, w...)
		if target != 0 && target != s.Interval {
			s, w, err = market.Resample(s, target)
			if err != nil {
				return nil, nil, err
			}
			warns = append(warns, w...)
		}
		out = append(out, s)
	}
	return out, warns, nil
}

// usageErr marks a bad flag value found below the CLI.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

// DataDescribe prints per-asset statistics and GARCH fits.
func DataDescribe(o DataOptions) error {
	series, warns, err := readSeries(o.Paths, o.Interval)
	if err != nil {
		return err
	}
	descs := make([]AssetDescription, len(series))
	for i, s := range series {
		descs[i] = describeSeries(s)
	}
	if o.JSON {
		enc := json.NewEncoder(o.Stdout)
		return enc.Encode(struct {
			Assets []AssetDescription `json:"assets"`
		}{descs})
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "asset\tbars\tfirst\tlast\tinterval\tgaps\tann.return\tann.vol\tskew\tex.kurt\tmax DD\tGARCH α\tGARCH β\t")
	for _, d := range descs {
		a, b := "–", "–"
		if d.GARCH != nil {
			a, b = fmt.Sprintf("%.3f", d.GARCH.Alpha), fmt.Sprintf("%.3f", d.GARCH.Beta)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%.1f%%\t%.1f%%\t%.2f\t%.1f\t%.1f%%\t%s\t%s\t\n", d.Name, d.Bars, d.First[:10], d.Last[:10], d.Interval, d.Gaps,
			100*d.AnnReturn, 100*d.AnnVol, d.Skew, d.ExcessKurtosis, 100*d.MaxDrawdown, a, b)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(warns) > 0 {
		fmt.Fprintln(o.Stderr, market.SummarizeWarnings(warns, 3))
	}
	return nil
}

// DataSynth writes the synthetic market as folio CSVs plus regimes/regimes.csv.
func DataSynth(o DataOptions) error {
	c := synth.Defaults()
	c.Assets, c.Bars = o.Assets, o.Bars
	if o.Interval != "" {
		d, err := ParseDuration(o.Interval)
		if err != nil {
			return &usageErr{err.Error()}
		}
		c.Interval = time.Duration(d)
	}
	if err := c.Validate(); err != nil {
		return &usageErr{err.Error()}
	}
	p, reg, err := synth.Generate(c, o.Seed)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if err := market.WriteCSV(o.Out, p); err != nil {
		return err
	}
	// The regime labels go one level down, so that the directory itself
	// holds only price files and loads as a panel.
	if err := os.MkdirAll(filepath.Join(o.Out, "regimes"), 0o755); err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(o.Out, "regimes", "regimes.csv"), 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		fmt.Fprintln(bw, "timestamp,regime")
		for t := 0; t < p.T(); t++ {
			fmt.Fprintf(bw, "%s,%s\n", p.Time(t).Format(time.RFC3339), reg[t])
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "wrote %d assets × %d bars of %s (seed %d, fingerprint %s) to %s, true regimes to regimes/regimes.csv\n",
		p.N(), p.T(), Duration(p.Interval()), o.Seed, p.Fingerprint()[:16], o.Out)
	return nil
}

// ErrInvalidData is returned by DataValidate when a file has an error.
var ErrInvalidData = errors.New("data has errors")

// DataValidate prints every problem in the files; it fails if any is an
// error (warnings alone pass).
func DataValidate(o DataOptions) error {
	v, err := market.Validate(o.Paths, market.Defaults())
	if err != nil {
		return err
	}
	for _, e := range v.Errors {
		fmt.Fprintf(o.Stdout, "error: %v\n", e)
	}
	if len(v.Warnings) > 0 {
		fmt.Fprintf(o.Stdout, "%s\n", market.SummarizeWarnings(v.Warnings, 5))
	}
	fmt.Fprintf(o.Stdout, "%d file(s): %d error(s), %d warning(s)\n", len(v.Files), len(v.Errors), len(v.Warnings))
	if !v.OK() {
		return ErrInvalidData
	}
	return nil
}

// ---- folio optimize ----

// OptimizeOptions are the flags of `folio optimize`.
type OptimizeOptions struct {
	Returns      string
	Prices       []string
	Method       string
	MaxWeight    float64
	Lambda       float64
	Budgets      string
	TargetReturn string
	Cov          string
	Views        string
	Lookback     int
	Interval     string
}

// OptimizeResult is the output of `folio optimize --json`.
type OptimizeResult struct {
	Method            string    `json:"method"`
	Assets            []string  `json:"assets"`
	Weights           []float64 `json:"weights"`
	ExpectedReturn    float64   `json:"expected_return"`
	Volatility        float64   `json:"volatility"`
	RiskContributions []float64 `json:"risk_contributions"`
	Fallback          *string   `json:"fallback"`
	KKTResidual       float64   `json:"kkt_residual"`
	Notes             []string  `json:"notes,omitempty"`
}

// WriteText prints the result as a table.
func (r *OptimizeResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "asset\tweight\trisk contribution\t")
	for i, a := range r.Assets {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t\n", a, r.Weights[i], r.RiskContributions[i])
	}
	tw.Flush()
	fmt.Fprintf(w, "method %s: expected return %.6g, volatility %.6g per bar; KKT residual %.2g\n", r.Method, r.ExpectedReturn, r.Volatility, r.KKTResidual)
	if r.Fallback != nil {
		fmt.Fprintf(w, "fallback: %s\n", *r.Fallback)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// readReturnsCSV reads a returns CSV: an optional first timestamp column,
// then one column of simple returns per asset, with a header.
func readReturnsCSV(path string) ([]string, *mat.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = false
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 3 {
		return nil, nil, fmt.Errorf("%s: need a header and at least 2 rows of returns", path)
	}
	head := rows[0]
	skip := 0
	if len(head) > 0 && (strings.EqualFold(head[0], "timestamp") || strings.EqualFold(head[0], "date") || strings.EqualFold(head[0], "time")) {
		skip = 1
	}
	assets := head[skip:]
	if len(assets) == 0 {
		return nil, nil, fmt.Errorf("%s: no asset columns", path)
	}
	m := mat.NewDense(len(rows)-1, len(assets), nil)
	for i, r := range rows[1:] {
		if len(r) != len(head) {
			return nil, nil, fmt.Errorf("%s:%d: %d columns, the header has %d", path, i+2, len(r), len(head))
		}
		for j := range assets {
			v, err := strconv.ParseFloat(strings.TrimSpace(r[j+skip]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("%s:%d: column %s: %q is not a finite number", path, i+2, assets[j], r[j+skip])
			}
			if v <= -1 {
				return nil, nil, fmt.Errorf("%s:%d: column %s: simple return %v ≤ −1 is impossible (are these log returns or prices?)", path, i+2, assets[j], v)
			}
			m.Set(i, j, v)
		}
	}
	return assets, m, nil
}

// blViewsFile is the TOML of --views.
type blViewsFile struct {
	Delta         float64   `toml:"delta"`
	Tau           float64   `toml:"tau"`
	MarketWeights []float64 `toml:"market_weights"`
	View          []struct {
		Assets  []string  `toml:"assets"`
		Weights []float64 `toml:"weights"`
		Return  float64   `toml:"return"`
	} `toml:"view"`
}

func readViews(path string, assets []string) (*portfolio.BLOptions, error) {
	var v blViewsFile
	md, err := toml.DecodeFile(path, &v)
	if err != nil {
		return nil, translateDecodeError(path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &ConfigError{File: path, Key: und[0].String(), Msg: "unknown key", Fix: "views files have delta, tau, market_weights and [[view]] tables with assets, weights and return"}
	}
	o := &portfolio.BLOptions{Delta: v.Delta, Tau: v.Tau, MarketWeights: v.MarketWeights}
	if len(v.View) == 0 {
		return o, nil
	}
	idx := map[string]int{}
	for i, a := range assets {
		idx[a] = i
	}
	o.P = mat.NewDense(len(v.View), len(assets), nil)
	for k, view := range v.View {
		if len(view.Assets) == 0 || len(view.Assets) != len(view.Weights) {
			return nil, &ConfigError{File: path, Key: fmt.Sprintf("view[%d]", k), Msg: "assets and weights must be non-empty and of equal length"}
		}
		for j, a := range view.Assets {
			i, ok := idx[a]
			if !ok {
				return nil, &ConfigError{File: path, Key: fmt.Sprintf("view[%d].assets", k), Msg: fmt.Sprintf("unknown asset %q", a), Fix: "assets: " + strings.Join(assets, ", ")}
			}
			o.P.Set(k, i, view.Weights[j])
		}
		o.Q = append(o.Q, view.Return)
	}
	return o, nil
}

// Optimize computes one allocation.
func Optimize(o OptimizeOptions) (*OptimizeResult, error) {
	var assets []string
	var returns *mat.Dense
	var err error
	if o.Returns != "" {
		assets, returns, err = readReturnsCSV(o.Returns)
		if err != nil {
			return nil, err
		}
	} else {
		p, _, err := loadPrices(o.Prices, o.Interval, "", "")
		if err != nil {
			return nil, err
		}
		assets = p.Assets()
		returns = mat.NewDense(p.T()-1, p.N(), p.View(0, p.T()).ReturnsTo(nil, p.T()-1))
	}
	if o.Lookback > 0 {
		r, _ := returns.Dims()
		if o.Lookback < r {
			returns = mat.DenseCopyOf(returns.Slice(r-o.Lookback, r, 0, len(assets)))
		}
	}
	in := portfolio.Inputs{Returns: returns, Estimator: o.Cov}
	opt := portfolio.Options{MaxWeight: o.MaxWeight, RiskAversion: o.Lambda}
	if o.Budgets != "" {
		for _, s := range strings.Split(o.Budgets, ",") {
			b, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, &usageErr{fmt.Sprintf("--budgets: %q is not a number", s)}
			}
			opt.Budgets = append(opt.Budgets, b)
		}
		sum := 0.0
		for _, b := range opt.Budgets {
			sum += b
		}
		if len(opt.Budgets) != len(assets) || !(sum > 0) {
			return nil, &usageErr{fmt.Sprintf("--budgets needs %d non-negative numbers with a positive sum", len(assets))}
		}
		for i := range opt.Budgets {
			opt.Budgets[i] /= sum
		}
	}
	if o.TargetReturn != "" {
		v, err := strconv.ParseFloat(o.TargetReturn, 64)
		if err != nil {
			return nil, &usageErr{fmt.Sprintf("--target-return: %q is not a number", o.TargetReturn)}
		}
		opt.TargetReturn = v
	} else if o.Method == "efficient-return" {
		return nil, &usageErr{"efficient-return needs --target-return (per-bar expected return)"}
	}
	if o.Views != "" {
		if opt.BL, err = readViews(o.Views, assets); err != nil {
			return nil, err
		}
	}
	res, err := portfolio.Allocate(o.Method, in, opt)
	if err != nil {
		return nil, err
	}
	out := &OptimizeResult{Method: o.Method, Assets: assets, Weights: res.Weights, ExpectedReturn: res.ExpReturn, Volatility: res.Vol,
		RiskContributions: res.RiskContrib, KKTResidual: res.KKT.Max(), Notes: res.Notes}
	if res.Fallback != "" {
		fb := res.Fallback
		out.Fallback = &fb
	}
	return out, nil
}

// loadPrices loads price files into a panel.
func loadPrices(paths []string, interval, start, end string) (*market.Panel, *market.LoadReport, error) {
	opt := market.Defaults()
	if interval != "" {
		d, err := ParseDuration(interval)
		if err != nil {
			return nil, nil, &usageErr{err.Error()}
		}
		opt.Resample = time.Duration(d)
	}
	var err error
	if opt.Start, err = parseDate(start); err != nil {
		return nil, nil, &usageErr{"--start: " + err.Error()}
	}
	if opt.End, err = parseDate(end); err != nil {
		return nil, nil, &usageErr{"--end: " + err.Error()}
	}
	return market.Load(paths, opt)
}

// ---- folio backtest ----

// BacktestOptions are the flags of `folio backtest`.
type BacktestOptions struct {
	Data           []string
	Strategy       string
	RebalanceEvery int
	FeeBps         float64
	SlippageBps    float64
	InitialCapital float64
	Start, End     string
	Interval       string
	Lookback       int
	Cov            string
	MaxWeight      float64
	Lambda         float64
}

// BacktestResult is the output of `folio backtest --json`.
type BacktestResult struct {
	Strategy       string       `json:"strategy"`
	Assets         []string     `json:"assets"`
	Bars           int          `json:"bars"`
	PeriodsPerYear float64      `json:"periods_per_year"`
	FinalValue     float64      `json:"final_value"`
	Metrics        eval.Metrics `json:"metrics"`
	Returns        []float64    `json:"returns"`
	first, last    string
}

// WriteText prints the result's metrics.
func (r *BacktestResult) WriteText(w io.Writer) error {
	m := r.Metrics
	fmt.Fprintf(w, "%s on %s, %s – %s (%d returns, %.0f per year)\n", r.Strategy, strings.Join(r.Assets, ", "), r.first, r.last, len(r.Returns), r.PeriodsPerYear)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"final value", fmt.Sprintf("%.2f", r.FinalValue)}, {"total return", pctS(m.TotalReturn)}, {"annual return (CAGR)", pctS(m.AnnualReturn)},
		{"annual volatility", pctS(m.AnnualVolatility)}, {"Sharpe", fmt.Sprintf("%.3f", m.Sharpe)}, {"Sortino", fmt.Sprintf("%.3f", m.Sortino)},
		{"max drawdown", pctS(m.MaxDrawdown)}, {"Calmar", fmt.Sprintf("%.3f", m.Calmar)}, {"VaR 5%", pctS(m.ValueAtRisk)},
		{"CVaR 5%", pctS(m.ConditionalValueAtRisk)}, {"turnover per bar", fmt.Sprintf("%.4f", m.Turnover)},
		{"fees paid", fmt.Sprintf("%.2f", m.FeesPaid)}, {"slippage paid", fmt.Sprintf("%.2f", m.SlippagePaid)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func pctS(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", 100*x)
}

// Backtest runs one strategy over price files with fees and half-spread
// slippage, close to close from the first to the last bar.
func Backtest(ctx context.Context, o BacktestOptions) (*BacktestResult, error) {
	p, _, err := loadPrices(o.Data, o.Interval, o.Start, o.End)
	if err != nil {
		return nil, err
	}
	if p.T() < 2 {
		return nil, fmt.Errorf("experiments: %d bar(s) between --start and --end: a backtest needs at least 2", p.T())
	}
	bc := baseline.Defaults()
	bc.Lookback, bc.RebalanceEvery, bc.Cov, bc.MaxWeight, bc.Lambda = o.Lookback, o.RebalanceEvery, o.Cov, o.MaxWeight, o.Lambda
	method := o.Strategy
	if strings.HasPrefix(method, "weights=") {
		for _, s := range strings.Split(strings.TrimPrefix(method, "weights="), ",") {
			w, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, &usageErr{fmt.Sprintf("--strategy weights=…: %q is not a number", s)}
			}
			bc.Weights = append(bc.Weights, w)
		}
		if len(bc.Weights) != p.N() {
			return nil, &usageErr{fmt.Sprintf("--strategy weights=… has %d weights for %d assets (%s); the rest of 1 is cash", len(bc.Weights), p.N(), strings.Join(p.Assets(), ", "))}
		}
		method = baseline.Constant
	}
	pol, err := baseline.New(method, bc)
	if err != nil {
		if !isKnownMethod(method) {
			return nil, &usageErr{fmt.Sprintf("--strategy %q: unknown (want one of %s, or weights=w1,w2,...)", o.Strategy, strings.Join(baseline.Methods(), ", "))}
		}
		return nil, err
	}
	// Baselines read prices, not the observation vector: a constant feature
	// defined from bar 0 lets the first decision be at the first bar.
	fs := features.NewSet(p.T(), p.N(), []string{"const"}, nil)
	for i := 0; i < p.N(); i++ {
		clear(fs.Series(i, 0))
	}
	ec := env.Defaults()
	ec.Window = 1
	ec.EpisodeStart, ec.EpisodeLen = env.StartFirst, 0
	ec.InitialCapital = o.InitialCapital
	ec.Costs.FeeModel = env.FeeExact
	ec.Costs.TakerBps, ec.Costs.MakerBps = o.FeeBps, o.FeeBps
	ec.Costs.Slippage, ec.Costs.HalfSpreadBps = env.SlipSpread, o.SlippageBps
	ec.Costs.LiquidityCap = 0
	if o.SlippageBps == 0 {
		ec.Costs.Slippage = env.SlipNone
	}
	m, err := env.New(p, fs, nil, ec)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	path, err := eval.Backtest(ctx, m, pol, eval.BacktestOptions{})
	if err != nil {
		return nil, err
	}
	if path.Len() != p.T()-1 {
		return nil, fmt.Errorf("experiments: the backtest covered %d returns of %d", path.Len(), p.T()-1)
	}
	met, err := eval.ComputeMetrics(path.Return, p.BarsPerYear(), path.Book(), eval.Options{})
	if err != nil {
		return nil, err
	}
	name := o.Strategy
	return &BacktestResult{Strategy: name, Assets: p.Assets(), Bars: p.T(), PeriodsPerYear: p.BarsPerYear(),
		FinalValue: path.Value[path.Len()-1], Metrics: met, Returns: path.Return,
		first: p.Time(0).Format("2006-01-02"), last: p.Time(p.T() - 1).Format("2006-01-02")}, nil
}

func isKnownMethod(m string) bool {
	for _, x := range baseline.Methods() {
		if x == m {
			return true
		}
	}
	return false
}
