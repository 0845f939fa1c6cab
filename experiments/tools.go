package experiments

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
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
// Python's arch package). It is fitted to the one-bar returns only (see
// AssetDescription.Returns): a return spanning a gap is left out, and the
// returns on either side of it are treated as consecutive.
type GARCHSummary struct {
	Mu           float64 `json:"mu"`
	Omega        float64 `json:"omega"`
	Alpha        float64 `json:"alpha"`
	Beta         float64 `json:"beta"`
	LogLik       float64 `json:"loglik"`
	NextVariance float64 `json:"next_variance"`
	Converged    bool    `json:"converged"`
	NObs         int     `json:"nobs"`
}

// AssetDescription is one asset of `folio data describe --json`. Files of
// one asset (same asset name: 2022/BTC.csv and 2023/BTC.csv, or a Binance
// monthly kline set) are joined into one series first, as `folio run` does.
type AssetDescription struct {
	Name     string   `json:"name"`
	Files    []string `json:"files"`
	Bars     int      `json:"bars"`
	First    string   `json:"first"`
	Last     string   `json:"last"`
	Interval string   `json:"interval"`
	Gaps     int      `json:"gaps"`
	// Returns counts the one-bar returns (between bars exactly one interval
	// apart) behind ann_vol, skew, excess_kurtosis and the GARCH fit;
	// GapReturnsExcluded counts the returns spanning a gap, left out of them.
	Returns            int `json:"returns"`
	GapReturnsExcluded int `json:"gap_returns_excluded"`

	// The statistics of market.AssetStats: CAGR, volatility (n−1), skewness
	// and excess kurtosis (population moments), max drawdown.
	AnnReturn      float64 `json:"ann_return"`
	AnnVol         float64 `json:"ann_vol"`
	Skew           float64 `json:"skew"`
	ExcessKurtosis float64 `json:"excess_kurtosis"`
	MaxDrawdown    float64 `json:"max_drawdown"`

	// GARCH is the fit, or nil with GARCHError saying why there is none.
	GARCH      *GARCHSummary `json:"garch"`
	GARCHError string        `json:"garch_error,omitempty"`
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
		Name               string        `json:"name"`
		Files              []string      `json:"files"`
		Bars               int           `json:"bars"`
		First              string        `json:"first"`
		Last               string        `json:"last"`
		Interval           string        `json:"interval"`
		Gaps               int           `json:"gaps"`
		Returns            int           `json:"returns"`
		GapReturnsExcluded int           `json:"gap_returns_excluded"`
		AnnReturn          any           `json:"ann_return"`
		AnnVol             any           `json:"ann_vol"`
		Skew               any           `json:"skew"`
		ExcessKurtosis     any           `json:"excess_kurtosis"`
		MaxDrawdown        any           `json:"max_drawdown"`
		GARCH              *GARCHSummary `json:"garch"`
		GARCHError         string        `json:"garch_error,omitempty"`
	}
	return json.Marshal(out{a.Name, a.Files, a.Bars, a.First, a.Last, a.Interval, a.Gaps, a.Returns, a.GapReturnsExcluded,
		finiteOrNull(a.AnnReturn), finiteOrNull(a.AnnVol), finiteOrNull(a.Skew), finiteOrNull(a.ExcessKurtosis), finiteOrNull(a.MaxDrawdown),
		a.GARCH, a.GARCHError})
}

// oneBarReturns returns the simple returns of s in percent between bars
// exactly one interval apart, and the number of returns left out because
// they span a gap.
func oneBarReturns(s *market.Series) (pct []float64, spanning int) {
	step := int64(s.Interval / time.Second)
	pct = make([]float64, 0, s.Len())
	for k := 1; k < s.Len(); k++ {
		if s.Times[k]-s.Times[k-1] != step {
			spanning++
			continue
		}
		pct = append(pct, 100*(s.Close[k]/s.Close[k-1]-1))
	}
	return pct, spanning
}

// describeSeries describes one loaded (joined, possibly resampled) series
// read from files.
func describeSeries(s *market.Series, files []string) AssetDescription {
	st := market.Describe(s)
	d := AssetDescription{Name: s.Asset, Files: files, Bars: st.Bars, First: st.First.UTC().Format(time.RFC3339), Last: st.Last.UTC().Format(time.RFC3339),
		Interval: Duration(st.Interval).String(), Gaps: st.Gaps, AnnReturn: st.CAGR, AnnVol: st.Volatility, Skew: st.Skewness,
		ExcessKurtosis: st.ExcessKurtosis, MaxDrawdown: st.MaxDrawdown}
	r, spanning := oneBarReturns(s)
	d.Returns, d.GapReturnsExcluded = len(r), spanning
	fit, err := vol.FitGARCH(r, nil)
	if err != nil {
		d.GARCHError = err.Error()
		return d
	}
	d.GARCH = &GARCHSummary{Mu: fit.Params.Mu, Omega: fit.Params.Omega, Alpha: fit.Params.Alpha, Beta: fit.Params.Beta,
		LogLik: fit.LogLikelihood, NextVariance: fit.NextVariance, Converged: fit.Converged, NObs: fit.NObs}
	return d
}

// assetSeries is one asset as read for `folio data describe`: its files
// joined, resampled if asked.
type assetSeries struct {
	series *market.Series
	files  []string
}

// csvFiles lists the files under paths: files as given, directories
// replaced by their *.csv files (sorted by name, hidden files skipped, not
// recursive), as market.Load does.
func csvFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("experiments: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("experiments: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("experiments: no CSV files in %s", strings.Join(paths, ", "))
	}
	return files, nil
}

// readSeries reads every file under paths, joins the files of each asset
// with market.Join and resamples to interval if given, as market.Load does
// for `folio run`. Assets are named by market.AssetName, so 2023/BTC.csv and
// 2024/BTC.csv are one asset, as are BTCUSDT-1d-2024-01.csv and
// BTCUSDT-1d-2024-02.csv (a Binance monthly set), while BTC_2023.csv and
// BTC_2024.csv are two. Assets come in the order of their first file.
func readSeries(paths []string, interval string) ([]assetSeries, []market.Warning, error) {
	files, err := csvFiles(paths)
	if err != nil {
		return nil, nil, err
	}
	var target time.Duration
	if interval != "" {
		d, err := ParseDuration(interval)
		if err != nil {
			return nil, nil, &usageErr{"--interval: " + err.Error()}
		}
		target = time.Duration(d)
	}
	var order []string
	parts := map[string][]*market.Series{}
	names := map[string][]string{}
	var warns []market.Warning
	for _, f := range files {
		s, w, err := market.ReadFile(f, market.FormatAuto)
		if err != nil {
			return nil, nil, err
		}
		warns = append(warns, w...)
		if _, ok := parts[s.Asset]; !ok {
			order = append(order, s.Asset)
		}
		parts[s.Asset] = append(parts[s.Asset], s)
		names[s.Asset] = append(names[s.Asset], f)
	}
	out := make([]assetSeries, 0, len(order))
	for _, a := range order {
		s, w, err := market.Join(parts[a])
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
		out = append(out, assetSeries{series: s, files: names[a]})
	}
	return out, warns, nil
}

// usageErr marks a bad flag value found below the CLI.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

// IsUsageError reports whether err is a bad flag value found below the
// CLI (the CLI exits with status 2 for it).
func IsUsageError(err error) bool {
	var u *usageErr
	return errors.As(err, &u)
}

// DataDescribe prints per-asset statistics and GARCH fits.
func DataDescribe(o DataOptions) error {
	series, warns, err := readSeries(o.Paths, o.Interval)
	if err != nil {
		return err
	}
	descs := make([]AssetDescription, len(series))
	for i, s := range series {
		descs[i] = describeSeries(s.series, s.files)
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
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", d.Name, d.Bars, d.First[:10], d.Last[:10], d.Interval, d.Gaps,
			pct1(d.AnnReturn), pct1(d.AnnVol), fixed(d.Skew, 2), fixed(d.ExcessKurtosis, 1), pct1(d.MaxDrawdown), a, b)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range descs {
		if len(d.Files) > 1 {
			fmt.Fprintf(o.Stdout, "%s: %d files joined\n", d.Name, len(d.Files))
		}
		if d.GapReturnsExcluded > 0 {
			fmt.Fprintf(o.Stdout, "%s: %d return(s) spanning a gap excluded from ann.vol, skew, ex.kurt and GARCH (%d one-bar returns used)\n",
				d.Name, d.GapReturnsExcluded, d.Returns)
		}
		if d.GARCHError != "" {
			fmt.Fprintf(o.Stdout, "%s: no GARCH fit: %s\n", d.Name, d.GARCHError)
		}
	}
	if len(warns) > 0 {
		fmt.Fprintln(o.Stderr, market.SummarizeWarnings(warns, 3))
	}
	return nil
}

func pct1(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func fixed(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
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
	if err := checkEmptyOut(o.Out); err != nil {
		return err
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

// checkEmptyOut refuses a --out that exists and is not an empty directory:
// a synthetic market written over an earlier one would leave that run's
// extra asset files behind and pair the new prices with files that no
// longer match them.
func checkEmptyOut(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("experiments: --out %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return &usageErr{fmt.Sprintf("--out %s is a file, not a directory: give a new or empty directory", dir)}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("experiments: --out %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return &usageErr{fmt.Sprintf("--out %s is not empty (it holds %d entries, e.g. %s): data synth writes only into a new or empty directory, so that files of an earlier run (other assets, a regimes/regimes.csv of other prices) cannot mix with this one; choose a new directory, or remove %s first",
			dir, len(ents), ents[0].Name(), dir)}
	}
	return nil
}

// ErrInvalidData is returned by DataValidate when a file has an error.
var ErrInvalidData = errors.New("data has errors")

// DataValidate prints every problem in the files; it fails if any is an
// error (warnings alone pass).
//
// With o.Interval set, every file must have that bar interval (its most
// common bar spacing); a file that does not is an error naming the file and
// the interval to use instead.
func DataValidate(o DataOptions) error {
	opt := market.Defaults()
	if o.Interval != "" {
		d, err := ParseDuration(o.Interval)
		if err != nil {
			return &usageErr{"--interval: " + err.Error()}
		}
		opt.Interval = time.Duration(d)
	}
	v, err := market.Validate(o.Paths, opt)
	if err != nil {
		// Validate fails only on invalid options, here the interval.
		return &usageErr{"--interval: " + err.Error()}
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
	// Mean is the expected-return estimator: sample (default when empty)
	// or james-stein (portfolio.Inputs.MeanEstimator).
	Mean string
	// RiskFree is the per-bar risk-free rate of max-sharpe, in the units of
	// the returns (not annualised).
	RiskFree float64

	Views    string
	Lookback int
	Interval string
}

// Residual kinds of OptimizeResult.ResidualKind.
const (
	ResidualQPKKT            = "qp-kkt"            // largest KKT residual of the QP solved
	ResidualRiskContribution = "risk-contribution" // max_i |RC_i − b_i| of the risk-budgeting solver
	ResidualNone             = "none"              // no optimisation problem was solved
)

// OptimizeResult is the output of `folio optimize --json`.
type OptimizeResult struct {
	Method string   `json:"method"`
	Used   string   `json:"used"`
	Assets []string `json:"assets"`
	// Returns is the number of returns (rows) the estimates used, after
	// --lookback; First and Last are the time stamps of the first and last
	// of them: for --prices, the open time (RFC3339, UTC) of the bar whose
	// close ends the return; for --returns, the file's timestamp column as
	// written, or "" when it has none.
	Returns int       `json:"returns"`
	First   string    `json:"first"`
	Last    string    `json:"last"`
	Weights []float64 `json:"weights"`
	// ExpectedReturn is μᵀw per bar; for black-litterman μ is the
	// posterior mean, so it is the posterior expected return.
	ExpectedReturn float64 `json:"expected_return"`
	// Volatility is √(wᵀΣw) per bar.
	Volatility float64 `json:"volatility"`
	// RiskContributions are wᵢ(Σw)ᵢ/wᵀΣw: fractions of the portfolio
	// variance, summing to 1.
	RiskContributions []float64 `json:"risk_contributions"`
	Fallback          *string   `json:"fallback"`
	// KKTResidual is the optimality residual of the solver that produced
	// the weights, of the kind ResidualKind names: for the QP methods
	// (min-variance, mean-variance, max-sharpe in its homogenised form,
	// efficient-return, black-litterman) the largest KKT residual; for
	// risk-parity and risk-budget the Newton solver's max_i |RC_i − b_i|,
	// RC_i = w_i(Σw)_i / wᵀΣw the risk contributions as fractions and b_i
	// the budgets (1/N for risk-parity), measured before any capping; nil
	// (JSON null) when the weights come from a rule that solves nothing
	// (equal-weight, inverse-vol, hrp, max-return, market weights).
	KKTResidual  *float64 `json:"kkt_residual"`
	ResidualKind string   `json:"residual_kind"`
	// Notes are portfolio.Result.Notes (estimators, shrinkage, caps,
	// fallbacks) and the CLI's own remarks.
	Notes []string `json:"notes,omitempty"`
}

// WriteText prints the result as a table.
func (r *OptimizeResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "asset\tweight\trisk contribution\t")
	for i, a := range r.Assets {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t\n", a, r.Weights[i], r.RiskContributions[i])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	span := ""
	if r.First != "" {
		span = fmt.Sprintf(", %s – %s", r.First, r.Last)
	}
	fmt.Fprintf(w, "estimated on %d returns%s\n", r.Returns, span)
	var res string
	switch r.ResidualKind {
	case ResidualQPKKT:
		res = fmt.Sprintf("KKT residual %.2g", *r.KKTResidual)
	case ResidualRiskContribution:
		res = fmt.Sprintf("risk-contribution residual max|RC−b| %.2g", *r.KKTResidual)
	default:
		res = "no solver residual (" + r.Used + " solves no optimisation problem)"
	}
	er := "expected return"
	if r.Used == portfolio.BlackLitterman {
		er = "posterior expected return μ_BLᵀw"
	}
	fmt.Fprintf(w, "method %s: %s %.6g, volatility %.6g per bar; %s\n", r.Method, er, r.ExpectedReturn, r.Volatility, res)
	if r.Fallback != nil {
		fmt.Fprintf(w, "fallback: %s\n", *r.Fallback)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// residual returns the optimality residual of the method that produced
// res's weights and its kind (see OptimizeResult.KKTResidual).
func residual(res portfolio.Result) (*float64, string) {
	switch res.Used {
	case portfolio.RiskParity, portfolio.RiskBudget:
		v := res.RCError
		return &v, ResidualRiskContribution
	case portfolio.MinVariance, portfolio.MeanVariance, portfolio.MaxSharpe, portfolio.EfficientReturn, portfolio.BlackLitterman:
		v := res.KKT.Max()
		return &v, ResidualQPKKT
	}
	return nil, ResidualNone
}

// readReturnsCSV reads a returns CSV: an optional first timestamp column,
// then one column of simple returns per asset, with a header. It returns
// the asset names, the returns and the timestamps as written (nil without
// a timestamp column).
func readReturnsCSV(path string) ([]string, *mat.Dense, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = false
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 3 {
		return nil, nil, nil, fmt.Errorf("%s: need a header and at least 2 rows of returns", path)
	}
	head := rows[0]
	skip := 0
	if len(head) > 0 && (strings.EqualFold(head[0], "timestamp") || strings.EqualFold(head[0], "date") || strings.EqualFold(head[0], "time")) {
		skip = 1
	}
	assets := head[skip:]
	if len(assets) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no asset columns", path)
	}
	m := mat.NewDense(len(rows)-1, len(assets), nil)
	var stamps []string
	if skip == 1 {
		stamps = make([]string, len(rows)-1)
	}
	for i, r := range rows[1:] {
		if len(r) != len(head) {
			return nil, nil, nil, fmt.Errorf("%s:%d: %d columns, the header has %d", path, i+2, len(r), len(head))
		}
		if stamps != nil {
			stamps[i] = strings.TrimSpace(r[0])
		}
		for j := range assets {
			v, err := strconv.ParseFloat(strings.TrimSpace(r[j+skip]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, nil, fmt.Errorf("%s:%d: column %s: %q is not a finite number", path, i+2, assets[j], r[j+skip])
			}
			if v <= -1 {
				return nil, nil, nil, fmt.Errorf("%s:%d: column %s: simple return %v ≤ −1 is impossible (are these log returns or prices?)", path, i+2, assets[j], v)
			}
			m.Set(i, j, v)
		}
	}
	return assets, m, stamps, nil
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

// checkChoice returns a usage error naming flag unless v is one of want.
func checkChoice(flag, v string, want []string) error {
	if slices.Contains(want, v) {
		return nil
	}
	return &usageErr{fmt.Sprintf("%s %q: want one of %s", flag, v, strings.Join(want, ", "))}
}

// MeanEstimators returns the values of `folio optimize --mean`.
func MeanEstimators() []string { return []string{portfolio.MeanSample, portfolio.MeanJamesStein} }

// checkOptimizeFlags validates the flags that name a choice or a number
// with a range, before any file is read.
func checkOptimizeFlags(o OptimizeOptions) error {
	if err := checkChoice("--method", o.Method, portfolio.Methods()); err != nil {
		return err
	}
	if err := checkEstimationFlags(o.Cov, o.Mean, o.RiskFree, "per-bar rate > −1 (e.g. 0.0001 per day ≈ 3.7% a year)", o.MaxWeight); err != nil {
		return err
	}
	if math.IsNaN(o.Lambda) || math.IsInf(o.Lambda, 0) || o.Lambda <= 0 {
		return &usageErr{fmt.Sprintf("--lambda %v: want a finite risk aversion > 0", o.Lambda)}
	}
	if o.Lookback < 0 {
		return &usageErr{fmt.Sprintf("--lookback %d: want 0 (all returns) or a positive number of returns", o.Lookback)}
	}
	return nil
}

// Optimize computes one allocation.
func Optimize(o OptimizeOptions) (*OptimizeResult, error) {
	if err := checkOptimizeFlags(o); err != nil {
		return nil, err
	}
	if o.Budgets != "" && o.Method != portfolio.RiskBudget {
		return nil, &usageErr{fmt.Sprintf("--budgets applies only to --method %s, not %s (drop --budgets, or use --method %s)", portfolio.RiskBudget, o.Method, portfolio.RiskBudget)}
	}
	if o.Budgets == "" && o.Method == portfolio.RiskBudget {
		return nil, &usageErr{fmt.Sprintf("--method %s needs --budgets b1,b2,...: one non-negative risk budget per asset, in column order (normalised to sum 1)", portfolio.RiskBudget)}
	}
	var assets, stamps []string
	var returns *mat.Dense
	var err error
	if o.Returns != "" {
		assets, returns, stamps, err = readReturnsCSV(o.Returns)
		if err != nil {
			return nil, err
		}
	} else {
		p, _, err := loadPrices(o.Prices, o.Interval, "", "")
		if err != nil {
			return nil, err
		}
		if p.T() < 3 {
			return nil, fmt.Errorf("experiments: --prices: %d bar(s) give %d return(s); the estimates need at least 2", p.T(), max(0, p.T()-1))
		}
		assets = p.Assets()
		returns = mat.NewDense(p.T()-1, p.N(), p.View(0, p.T()).ReturnsTo(nil, p.T()-1))
		// Return k runs from the close of bar k to that of bar k+1; it is
		// stamped with the bar it ends at.
		stamps = make([]string, p.T()-1)
		for k := range stamps {
			stamps[k] = p.Time(k + 1).Format(time.RFC3339)
		}
	}
	if o.Lookback > 0 {
		r, _ := returns.Dims()
		if o.Lookback < r {
			returns = mat.DenseCopyOf(returns.Slice(r-o.Lookback, r, 0, len(assets)))
			if stamps != nil {
				stamps = stamps[r-o.Lookback:]
			}
		}
	}
	if err := checkMaxWeight(o.MaxWeight, assets); err != nil {
		return nil, err
	}
	in := portfolio.Inputs{Returns: returns, Estimator: o.Cov, MeanEstimator: o.Mean}
	opt := portfolio.Options{MaxWeight: o.MaxWeight, RiskAversion: o.Lambda, RiskFree: o.RiskFree}
	if o.Budgets != "" {
		b, err := parseBudgets(o.Budgets, assets)
		if err != nil {
			return nil, err
		}
		if err := checkBudgetCap(b, o.MaxWeight); err != nil {
			return nil, err
		}
		sum := 0.0
		for _, x := range b {
			sum += x
		}
		for i := range b {
			b[i] /= sum
		}
		opt.Budgets = b
	}
	if o.TargetReturn != "" {
		v, err := strconv.ParseFloat(strings.TrimSpace(o.TargetReturn), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &usageErr{fmt.Sprintf("--target-return: %q is not a finite number (a per-bar simple return, e.g. 0.001)", o.TargetReturn)}
		}
		opt.TargetReturn = v
	} else if o.Method == portfolio.EfficientReturn {
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
	rows, _ := returns.Dims()
	out := &OptimizeResult{Method: o.Method, Used: res.Used, Assets: assets, Returns: rows, Weights: res.Weights, ExpectedReturn: res.ExpReturn, Volatility: res.Vol,
		RiskContributions: res.RiskContrib, Notes: res.Notes}
	if len(stamps) > 0 {
		out.First, out.Last = stamps[0], stamps[len(stamps)-1]
	}
	out.KKTResidual, out.ResidualKind = residual(res)
	if o.RiskFree != 0 && o.Method != portfolio.MaxSharpe {
		out.Notes = append(out.Notes, fmt.Sprintf("--risk-free is used only by max-sharpe; %s ignores it", o.Method))
	}
	if o.TargetReturn != "" && o.Method != portfolio.EfficientReturn {
		out.Notes = append(out.Notes, fmt.Sprintf("--target-return is used only by efficient-return; %s ignores it", o.Method))
	}
	if res.Fallback != "" {
		fb := res.Fallback
		out.Fallback = &fb
	}
	return out, nil
}

// parseBudgets reads --budgets b1,b2,...: one finite non-negative number
// per asset with a positive sum. The values are returned as given.
func parseBudgets(list string, assets []string) ([]float64, error) {
	fields := strings.Split(list, ",")
	b := make([]float64, 0, len(fields))
	for _, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &usageErr{fmt.Sprintf("--budgets: %q is not a finite number", strings.TrimSpace(f))}
		}
		b = append(b, v)
	}
	if len(b) != len(assets) {
		return nil, &usageErr{fmt.Sprintf("--budgets needs %d non-negative numbers with a positive sum, one per asset (%s); got %d", len(assets), strings.Join(assets, ", "), len(b))}
	}
	sum := 0.0
	for i, v := range b {
		if v < 0 {
			return nil, &usageErr{fmt.Sprintf("--budgets: budget %d (%s) is %v; risk budgets must be ≥ 0", i+1, assets[i], v)}
		}
		sum += v
	}
	if !(sum > 0) {
		return nil, &usageErr{fmt.Sprintf("--budgets sum to %v; give at least one positive budget", sum)}
	}
	return b, nil
}

// checkBudgetCap refuses --budgets and --max-weight that no portfolio can
// meet: an asset with a zero risk budget holds nothing, so the assets with
// positive budgets must be able to hold everything under the cap.
func checkBudgetCap(b []float64, maxW float64) error {
	k := 0
	for _, x := range b {
		if x > 0 {
			k++
		}
	}
	if float64(k)*maxW < 1-1e-12 {
		return &usageErr{fmt.Sprintf("--budgets gives %d asset(s) a positive budget and --max-weight %g caps each, so they can hold at most %.4g of the portfolio (zero-budget assets hold nothing): raise --max-weight to at least %.4g or give more assets a budget",
			k, maxW, float64(k)*maxW, math.Ceil(1e4/float64(k))/1e4)}
	}
	return nil
}

// checkMaxWeight refuses a --max-weight below 1/N: long-only weights sum
// to 1, so N assets cannot all stay under a smaller cap.
func checkMaxWeight(maxW float64, assets []string) error {
	n := float64(len(assets))
	if n == 0 || n*maxW >= 1-1e-12 {
		return nil
	}
	// The smallest feasible cap, rounded up to 4 decimals so that the value
	// printed is itself feasible.
	least := math.Ceil(1e4/n) / 1e4
	return &usageErr{fmt.Sprintf("--max-weight %v is infeasible for %d assets: the weights sum to 1, so the cap must be at least 1/%d (use --max-weight %v or more)",
		maxW, len(assets), len(assets), least)}
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
	if opt.Start, err = parseStart(start); err != nil {
		return nil, nil, &usageErr{"--start: " + err.Error()}
	}
	if opt.End, err = parseEnd(end); err != nil {
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
	// Mean is the expected-return estimator of the optimising strategies:
	// sample (default when empty) or james-stein.
	Mean string

	MaxWeight float64
	Lambda    float64
	// Budgets are the risk budgets of risk-budget, "b1,b2,..." one per
	// asset (normalised to sum 1); required by risk-budget, refused with
	// any other strategy.
	Budgets string
	// TargetReturn is efficient-return's target, an annualised simple
	// return as in the [baselines] config (per bar: divided by the bars per
	// year); required by efficient-return.
	TargetReturn string
	// RiskFree is the annualised risk-free rate of max-sharpe and of
	// black-litterman's momentum views, as in the [baselines] config.
	RiskFree float64
	// DriftBand, when positive, makes equal-weight and weights=… rebalance
	// at a scheduled bar only when some weight (cash included) is more than
	// DriftBand (absolute weight) away from its target; [0, 1).
	DriftBand float64
}

// NotImplementableLabel marks a strategy that reads prices after its
// decision bar (bsh, the best stock in hindsight).
const NotImplementableLabel = "not implementable (uses future prices)"

// BacktestResult is the output of `folio backtest --json`.
type BacktestResult struct {
	Strategy string   `json:"strategy"`
	Assets   []string `json:"assets"`
	// Implementable is false for a strategy that reads the future (bsh);
	// Label then says so.
	Implementable bool   `json:"implementable"`
	Label         string `json:"label,omitempty"`

	Bars           int          `json:"bars"`
	First          string       `json:"first"`
	Last           string       `json:"last"`
	PeriodsPerYear float64      `json:"periods_per_year"`
	FinalValue     float64      `json:"final_value"`
	Metrics        eval.Metrics `json:"metrics"`
	// Decisions and Rebalances count the strategy's decisions and those
	// that traded to a newly computed target (the rest held); Fallbacks
	// counts the decisions that used a substitute allocation, by kind
	// (e.g. "insufficient history → equal-weight", "max-sharpe →
	// min-variance").
	Decisions  int            `json:"decisions"`
	Rebalances int            `json:"rebalances"`
	Fallbacks  map[string]int `json:"fallbacks,omitempty"`
	// Notes are remarks about the flags (for example a flag the strategy
	// does not use).
	Notes []string `json:"notes,omitempty"`
	// Returns are the strategy's simple returns per bar, after costs.
	Returns []float64 `json:"returns"`
}

// WriteText prints the result's metrics.
func (r *BacktestResult) WriteText(w io.Writer) error {
	m := r.Metrics
	name := r.Strategy
	if r.Label != "" {
		name += " [" + r.Label + "]"
	}
	fmt.Fprintf(w, "%s on %s, %s – %s (%d returns, %.0f per year)\n", name, strings.Join(r.Assets, ", "), r.First[:10], r.Last[:10], len(r.Returns), r.PeriodsPerYear)
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
	fmt.Fprintf(tw, "rebalances\t%d of %d decisions\n", r.Rebalances, r.Decisions)
	if err := tw.Flush(); err != nil {
		return err
	}
	kinds := slices.Sorted(maps.Keys(r.Fallbacks))
	for _, k := range kinds {
		fmt.Fprintf(w, "fallback: %s (%d decisions)\n", k, r.Fallbacks[k])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
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
	if err := checkBacktestFlags(o); err != nil {
		return nil, err
	}
	p, _, err := loadPrices(o.Data, o.Interval, o.Start, o.End)
	if err != nil {
		return nil, err
	}
	if p.T() < 2 {
		return nil, fmt.Errorf("experiments: %d bar(s) between --start and --end: a backtest needs at least 2", p.T())
	}
	bc := baseline.Defaults()
	bc.Lookback, bc.RebalanceEvery, bc.Cov, bc.MaxWeight, bc.Lambda, bc.DriftBand = o.Lookback, o.RebalanceEvery, o.Cov, o.MaxWeight, o.Lambda, o.DriftBand
	bc.RiskFree = o.RiskFree
	if o.Mean != "" {
		bc.Mean = o.Mean
	}
	method := o.Strategy
	if method == baseline.Constant {
		return nil, &usageErr{fmt.Sprintf("--strategy constant takes its weights in the strategy itself: write --strategy weights=w1,w2,... with one weight per asset (%s); the rest of 1 is cash", strings.Join(p.Assets(), ", "))}
	}
	notes, err := backtestMethodFlags(o, method, p.Assets(), &bc)
	if err != nil {
		return nil, err
	}
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
	// bsh looks ahead to the last bar of the backtest (here the panel's).
	pol.SetHorizon(p.T() - 1)
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
	res := &BacktestResult{Strategy: o.Strategy, Assets: p.Assets(), Implementable: baseline.Implementable(method), Bars: p.T(),
		First: p.Time(0).Format(time.RFC3339), Last: p.Time(p.T() - 1).Format(time.RFC3339), PeriodsPerYear: p.BarsPerYear(),
		FinalValue: path.Value[path.Len()-1], Metrics: met, Returns: path.Return}
	if !res.Implementable {
		res.Label = NotImplementableLabel
	}
	d := pol.Diagnostics()
	res.Decisions, res.Rebalances, res.Fallbacks = d.Decisions, d.Rebalances, d.Counts
	res.Notes = notes
	return res, nil
}

// backtestAllocation are the strategies that solve an allocation under
// --max-weight (baseline.New's allocation methods).
var backtestAllocation = []string{baseline.InverseVol, baseline.RiskParity, baseline.RiskBudget, baseline.MinVariance, baseline.MeanVariance,
	baseline.MaxSharpe, baseline.EfficientReturn, baseline.HRP, baseline.BlackLitterman}

// backtestMethodFlags checks the flags that only some strategies read
// against the strategy and the assets, sets them in bc, and returns notes
// about flags the strategy ignores.
func backtestMethodFlags(o BacktestOptions, method string, assets []string, bc *baseline.Config) ([]string, error) {
	var notes []string
	if slices.Contains(backtestAllocation, method) {
		if err := checkMaxWeight(o.MaxWeight, assets); err != nil {
			return nil, err
		}
	}
	switch {
	case o.Budgets != "" && method != baseline.RiskBudget:
		return nil, &usageErr{fmt.Sprintf("--budgets applies only to --strategy %s, not %s (drop --budgets, or use --strategy %s)", baseline.RiskBudget, o.Strategy, baseline.RiskBudget)}
	case o.Budgets == "" && method == baseline.RiskBudget:
		return nil, &usageErr{fmt.Sprintf("--strategy %s needs --budgets b1,b2,...: one non-negative risk budget per asset (%s), normalised to sum 1", baseline.RiskBudget, strings.Join(assets, ", "))}
	case o.Budgets != "":
		b, err := parseBudgets(o.Budgets, assets)
		if err != nil {
			return nil, err
		}
		if err := checkBudgetCap(b, o.MaxWeight); err != nil {
			return nil, err
		}
		bc.Budgets = b
	}
	if o.TargetReturn != "" {
		v, err := strconv.ParseFloat(strings.TrimSpace(o.TargetReturn), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &usageErr{fmt.Sprintf("--target-return: %q is not a finite number (an annualised simple return, e.g. 0.3 for 30%% a year)", o.TargetReturn)}
		}
		bc.TargetReturn = v
		if method != baseline.EfficientReturn {
			notes = append(notes, fmt.Sprintf("--target-return is used only by efficient-return; %s ignores it", o.Strategy))
		}
	} else if method == baseline.EfficientReturn {
		return nil, &usageErr{fmt.Sprintf("--strategy %s needs --target-return R: the annualised simple return to reach (e.g. 0.3 for 30%% a year; per bar R / bars per year)", baseline.EfficientReturn)}
	}
	if o.RiskFree != 0 && method != baseline.MaxSharpe && method != baseline.BlackLitterman {
		notes = append(notes, fmt.Sprintf("--risk-free is used only by max-sharpe and black-litterman; %s ignores it", o.Strategy))
	}
	return notes, nil
}

// checkEstimationFlags validates the estimator and constraint flags that
// optimize and backtest share; rateUnit says what --risk-free means.
func checkEstimationFlags(cov, mean string, riskFree float64, rateUnit string, maxW float64) error {
	if err := checkChoice("--cov", cov, portfolio.Estimators()); err != nil {
		return err
	}
	if mean != "" {
		if err := checkChoice("--mean", mean, MeanEstimators()); err != nil {
			return err
		}
	}
	if math.IsNaN(riskFree) || math.IsInf(riskFree, 0) || riskFree <= -1 {
		return &usageErr{fmt.Sprintf("--risk-free %v: want a finite %s", riskFree, rateUnit)}
	}
	if math.IsNaN(maxW) || maxW <= 0 || maxW > 1 {
		return &usageErr{fmt.Sprintf("--max-weight %v: want a cap in (0, 1]", maxW)}
	}
	return nil
}

// checkBacktestFlags validates the flags that name a choice or a number
// with a range, before any file is read.
func checkBacktestFlags(o BacktestOptions) error {
	if o.RebalanceEvery < 1 {
		return &usageErr{fmt.Sprintf("--rebalance-every %d: want a number of bars ≥ 1 (1 = every bar)", o.RebalanceEvery)}
	}
	if !(o.DriftBand >= 0 && o.DriftBand < 1) {
		return &usageErr{fmt.Sprintf("--drift-band %v: want an absolute weight in [0, 1) (0 = rebalance on schedule)", o.DriftBand)}
	}
	if o.DriftBand > 0 && o.Strategy != baseline.EqualWeight && !strings.HasPrefix(o.Strategy, "weights=") {
		return &usageErr{fmt.Sprintf("--drift-band applies to --strategy %s and weights=w1,w2,... only, not %q", baseline.EqualWeight, o.Strategy)}
	}
	if err := checkEstimationFlags(o.Cov, o.Mean, o.RiskFree, "annualised rate > −1 (e.g. 0.04 for 4% a year)", o.MaxWeight); err != nil {
		return err
	}
	if !(o.InitialCapital > 0) || math.IsInf(o.InitialCapital, 0) {
		return &usageErr{fmt.Sprintf("--initial-capital %v: want a finite amount > 0", o.InitialCapital)}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--fee-bps", o.FeeBps}, {"--slippage-bps", o.SlippageBps}} {
		if !(f.v >= 0 && f.v <= 1000) {
			return &usageErr{fmt.Sprintf("%s %v: want basis points in [0, 1000]", f.name, f.v)}
		}
	}
	return nil
}

func isKnownMethod(m string) bool {
	for _, x := range baseline.Methods() {
		if x == m {
			return true
		}
	}
	return false
}
