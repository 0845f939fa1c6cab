package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"

	"github.com/folio-rl/folio/experiments"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// toolErr turns a bad flag value that experiments found (for example an
// unknown --cov) into a usage error, so that it exits with status 2.
func toolErr(err error) error {
	if err != nil && experiments.IsUsageError(err) {
		return usagef("%v", err)
	}
	return err
}

// splitPaths accepts repeated flags and comma-separated lists.
func splitPaths(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func cmdBacktest() *command {
	return &command{
		name: "backtest", args: "--data PATH... --strategy S [flags]",
		summary: "backtest a baseline or constant weights on price files (close to close, with costs)",
		help: `Backtests one strategy on price files (folio, Binance or CryptoDataDownload
CSVs; files or directories). Prices are used close to close from --start to
--end inclusive: the first return is from the first close to the second.
--start and --end take YYYY-MM-DD or RFC3339 (UTC); a date-only --end
includes every bar of that UTC day (on hourly data --end 2023-01-31 keeps
00:00 to 23:00), a date-only --start begins at 00:00, and an RFC3339 time
is exact.
Strategies: every method of 'folio optimize' (estimated on the trailing
--lookback bars at each rebalance), the online-portfolio baselines (ubah, ucrp,
eg, ons, olmar, pamr, anticor), bsh, buy-and-hold, cash, random-dirichlet, or
weights=0.4,0.3,... (a constant target over the assets in order; the rest is
cash). bsh, the best stock in hindsight, picks its asset from future prices: it
is labelled "not implementable (uses future prices)" and is a reference line,
not a strategy.
--drift-band B (equal-weight and weights=... only) trades at a scheduled bar
only when some weight, cash included, is more than B away from its target.
risk-budget needs --budgets b1,b2,... (one non-negative budget per asset,
normalised to sum 1); efficient-return needs --target-return R. Like the
[baselines] settings of an experiment file, --target-return and --risk-free
are ANNUALISED simple returns (0.3 = 30% a year; per bar they are divided by
the bars per year), unlike 'folio optimize', whose are per bar. --risk-free
is read by max-sharpe and black-litterman's momentum views. --budgets with
another strategy is an error; an unused --target-return or --risk-free is
reported as a note. --strategy constant is written weights=w1,w2,....
--json prints one object: {"strategy","assets","implementable","label",
"bars","first","last","periods_per_year","final_value","metrics":{...},
"decisions","rebalances","fallbacks":{kind: count},"notes":[...],"returns":[...]}.
Optimising strategies hold equal weights until --lookback+1 bars of history
exist, and fall back as 'folio optimize' does; every fallback is counted.`,
		setup: func(fs *flag.FlagSet) action {
			var o experiments.BacktestOptions
			var data stringList
			fs.Var(&data, "data", "price file or directory (repeatable, or comma-separated)")
			fs.StringVar(&o.Strategy, "strategy", "", "strategy: a baseline method, buy-and-hold, or weights=w1,w2,...")
			fs.IntVar(&o.RebalanceEvery, "rebalance-every", 1, "rebalance every K bars (1 = every bar)")
			fs.Float64Var(&o.FeeBps, "fee-bps", 25, "proportional fee in basis points of traded notional")
			fs.Float64Var(&o.SlippageBps, "slippage-bps", 0, "half-spread slippage in basis points of traded notional")
			fs.Float64Var(&o.InitialCapital, "initial-capital", 1_000_000, "initial capital in quote currency")
			fs.StringVar(&o.Start, "start", "", "first bar (YYYY-MM-DD = 00:00 UTC, or RFC3339), inclusive")
			fs.StringVar(&o.End, "end", "", "last bar, inclusive (YYYY-MM-DD = the whole UTC day, or RFC3339)")
			fs.StringVar(&o.Interval, "interval", "", "resample to this interval (e.g. 1d) before backtesting")
			fs.IntVar(&o.Lookback, "lookback", 90, "estimation window in bars for optimising strategies")
			fs.StringVar(&o.Cov, "cov", "ledoit-wolf", "covariance estimator: sample, ledoit-wolf, ledoit-wolf-cc, oas, ewma, garch")
			fs.StringVar(&o.Mean, "mean", "sample", "expected-return estimator of optimising strategies: sample, james-stein")
			fs.Float64Var(&o.MaxWeight, "max-weight", 1, "maximum weight per asset for optimising strategies")
			fs.Float64Var(&o.Lambda, "lambda", 10, "risk aversion for mean-variance (maximise μ'w − λ/2·w'Σw)")
			fs.StringVar(&o.Budgets, "budgets", "", "risk budgets b1,b2,... for risk-budget, one per asset (normalised to sum 1)")
			fs.StringVar(&o.TargetReturn, "target-return", "", "efficient-return: ANNUALISED target return (0.3 = 30% a year)")
			fs.Float64Var(&o.RiskFree, "risk-free", 0, "max-sharpe, black-litterman: ANNUALISED risk-free rate (0.04 = 4% a year)")
			fs.Float64Var(&o.DriftBand, "drift-band", 0, "equal-weight, weights=...: rebalance only when a weight drifts more than this from target, in [0, 1) (0 = on schedule)")
			json := fs.Bool("json", false, "print one JSON object instead of a table")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				o.Data = splitPaths(data, args)
				if len(o.Data) == 0 {
					return usagef("backtest needs --data PATH")
				}
				if o.Strategy == "" {
					return usagef("backtest needs --strategy")
				}
				res, err := experiments.Backtest(ctx, o)
				if err != nil {
					return toolErr(err)
				}
				if *json {
					return writeJSON(stdout, res)
				}
				return res.WriteText(stdout)
			}
		},
	}
}

func cmdOptimize() *command {
	return &command{
		name: "optimize", args: "--returns FILE.csv | --prices PATH... --method M [flags]",
		summary: "compute portfolio weights from returns or prices (risk parity, mean-variance, HRP, ...)",
		help: `Methods: equal-weight, inverse-vol, risk-parity, risk-budget, min-variance,
mean-variance, max-sharpe, efficient-return, hrp, black-litterman.
A returns CSV has an optional first 'timestamp' column and one column of simple
returns per asset (header = asset names). --prices takes price files or
directories; returns are computed close to close over the last --lookback bars
(0 = all). Black-Litterman views come from --views FILE.toml:
  delta = 2.5   tau = 0.05   # optional
  [[view]]  assets = ["BTC", "ETH"]  weights = [1, -1]  return = 0.0005  # per bar
with Ω = diag(P τΣ P') (He & Litterman).
Everything is per bar, in the returns' units: --target-return, --risk-free
(used by max-sharpe; 0.0001 a day is about 3.7% a year), the expected return
and the volatility. A method that fails falls back along a fixed chain,
printed as "fallback": max-sharpe, mean-variance, efficient-return,
black-litterman → min-variance → inverse-vol → equal-weight; risk-parity,
risk-budget, min-variance, hrp → inverse-vol → equal-weight; inverse-vol →
equal-weight. efficient-return with a target above every feasible return
gives the max-return portfolio; black-litterman first tries its prior (the
market weights).
risk-budget needs --budgets (one non-negative budget per asset, in column
order; refused with any other method); --max-weight must be at least 1/N.
The output says how many returns the estimates used and the time stamps of
the first and last (from --prices: the open time of the bar each return ends
at; from --returns: its timestamp column, empty without one).
expected_return is μ'w per bar; for black-litterman μ is the posterior mean,
so it is the posterior expected return μ_BL'w. risk_contributions are
w_i(Σw)_i / w'Σw: fractions of the portfolio variance, summing to 1.
--json prints one object: {"method","used","assets","returns","first","last",
"weights","expected_return","volatility","risk_contributions","fallback",
"kkt_residual","residual_kind","notes"}. kkt_residual is the optimality residual of the
solver that produced the weights: the largest KKT residual of the QP
(residual_kind "qp-kkt"), max_i |RC_i − b_i| of the risk-budgeting Newton
solver for risk-parity and risk-budget ("risk-contribution"; with a binding
--max-weight, the constrained risk-budgeting portfolio of Richard & Roncalli:
the largest of |RC_i − θ·b_i| over uncapped and (RC_i − θ·b_i)+ over capped
assets), or null for rules that solve nothing ("none": equal-weight,
inverse-vol, hrp; their weights are capped afterwards).`,
		setup: func(fs *flag.FlagSet) action {
			var o experiments.OptimizeOptions
			var prices stringList
			fs.StringVar(&o.Returns, "returns", "", "CSV of simple returns, one column per asset")
			fs.Var(&prices, "prices", "price file or directory (repeatable, or comma-separated)")
			fs.StringVar(&o.Method, "method", "", "allocation method (see above)")
			fs.Float64Var(&o.MaxWeight, "max-weight", 1, "maximum weight per asset (long-only)")
			fs.Float64Var(&o.Lambda, "lambda", 10, "risk aversion λ for mean-variance: maximise μ'w − λ/2·w'Σw")
			fs.StringVar(&o.Budgets, "budgets", "", "risk budgets b1,b2,... for risk-budget, one per asset (normalised to sum 1)")
			fs.StringVar(&o.TargetReturn, "target-return", "", "per-bar target return for efficient-return")
			fs.StringVar(&o.Cov, "cov", "sample", "covariance estimator: sample, ledoit-wolf, ledoit-wolf-cc, oas, ewma, garch")
			fs.StringVar(&o.Mean, "mean", "sample", "expected-return estimator: sample, james-stein")
			fs.Float64Var(&o.RiskFree, "risk-free", 0, "per-bar risk-free rate for max-sharpe, in the returns' units (not annualised)")
			fs.StringVar(&o.Views, "views", "", "Black-Litterman views file (TOML)")
			fs.IntVar(&o.Lookback, "lookback", 0, "use only the last N returns (0 = all)")
			fs.StringVar(&o.Interval, "interval", "", "resample prices to this interval first (e.g. 1d)")
			json := fs.Bool("json", false, "print one JSON object")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				o.Prices = splitPaths(prices, args)
				if (o.Returns == "") == (len(o.Prices) == 0) {
					return usagef("optimize needs exactly one of --returns FILE or --prices PATH")
				}
				if o.Method == "" {
					return usagef("optimize needs --method")
				}
				res, err := experiments.Optimize(o)
				if err != nil {
					return toolErr(err)
				}
				if *json {
					return writeJSON(stdout, res)
				}
				return res.WriteText(stdout)
			}
		},
	}
}

func cmdData() *command {
	return &command{
		name: "data", args: "describe|synth|validate [flags] [PATH...]",
		summary: "describe, validate or synthesise market data",
		help: `folio data describe PATH... [--interval 1d] [--json]
    per asset: bars, first, last, interval, gaps, annualised return and
    volatility (365-day year), skewness, excess kurtosis, max drawdown and a
    GARCH(1,1) fit (constant mean, normal errors, percent simple returns).
    Files of one asset (same asset name, e.g. 2023/BTC.csv and 2024/BTC.csv,
    or BTCUSDT-1d-2024-01.csv, BTCUSDT-1d-2024-02.csv, ...) are joined into
    one series, as 'folio run' does. Volatility, skewness, kurtosis and GARCH
    use only returns between bars one interval apart; returns spanning a gap
    are excluded and counted ("gap_returns_excluded" in --json).
folio data synth --assets N --bars T --interval 1d --seed S --out DIR
    writes the synthetic market as folio CSVs, and its true regimes to
    DIR/regimes/regimes.csv (timestamp,regime; one row per bar; regimes
    bull, bear, sideways, crash). DIR must be new or empty, so that files
    of an earlier run cannot mix with this one.
folio data validate PATH... [--interval 1h]
    prints every problem found; exits 1 if any is an error. With --interval,
    a file whose bar interval differs is an error.`,
		setup: func(fs *flag.FlagSet) action {
			var d experiments.DataOptions
			fs.StringVar(&d.Interval, "interval", "", "describe: resample to this interval first; synth: bar interval (default 1d); validate: the interval every file must have")
			fs.BoolVar(&d.JSON, "json", false, "describe: print one JSON object")
			fs.IntVar(&d.Assets, "assets", 8, "synth: number of assets")
			fs.IntVar(&d.Bars, "bars", 2000, "synth: number of bars")
			fs.Uint64Var(&d.Seed, "seed", 1, "synth: seed")
			fs.StringVar(&d.Out, "out", "", "synth: output directory")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) == 0 {
					return usagef("data needs a subcommand: describe, synth or validate")
				}
				sub, paths := args[0], args[1:]
				d.Paths = paths
				d.Stdout, d.Stderr = stdout, stderr
				switch sub {
				case "describe":
					if len(paths) == 0 {
						return usagef("data describe needs at least one PATH")
					}
					return toolErr(experiments.DataDescribe(d))
				case "synth":
					if d.Out == "" {
						return usagef("data synth needs --out DIR")
					}
					return toolErr(experiments.DataSynth(d))
				case "validate":
					if len(paths) == 0 {
						return usagef("data validate needs at least one PATH")
					}
					return toolErr(experiments.DataValidate(d))
				}
				return usagef("unknown data subcommand %q (want describe, synth or validate)", sub)
			}
		},
	}
}
