// Package eval evaluates strategies out of sample: portfolio metrics,
// per-regime and per-fold breakdowns, volatility-timing measurement,
// bootstrap and multiple-testing statistics, walk-forward and
// combinatorial purged cross-validation splits, and the probability of
// backtest overfitting. (The backtester, walk-forward runner and reports
// build on these pure functions.)
//
// It imports only the standard library, gonum, env (with env/market) and
// agents. It must not import gorgonia, nets, train, experiments or any
// algorithm package: agents and baselines are evaluated identically through
// agents.Policy.
//
// Inputs are read-only: no function modifies or retains a slice or matrix
// it is given (ComputeMetrics selects order statistics on a copy), and
// every slice in a result is freshly allocated and owned by the caller. The
// one dst-first function, StationaryIndices, writes only into dst.
//
// # Units and conventions
//
//   - Returns are per-period simple returns after all costs, r_t = V_t/V_{t−1} − 1,
//     where period t is one bar of the traded panel. They must be finite and
//     ≥ −1; NaN, ±Inf or a loss beyond the whole portfolio is an error.
//   - Annualisation uses periods per year from the bar interval on a
//     365-day crypto calendar (PeriodsPerYear: daily 365, 4-hour 2190,
//     hourly 8760). Volatility scales with √ppy, mean returns with ppy, CAGR
//     compounds to ppy periods.
//   - Fractions are decimals (0.1 = 10 %); drawdowns are negative
//     (MaxDrawdown −0.25 is a 25 % fall, empyrical's sign); fees and
//     slippage are in quote currency and also as a fraction of the initial
//     capital; durations, lags, windows and embargoes are in bars.
//   - Bar ranges are half-open [Start, End) bar indices.
//   - Sharpe ratios are annualised unless a name says per period; the
//     probabilistic and deflated Sharpe ratios (SharpeStats) work with
//     per-period values as their papers do.
//
// # Metrics (empyrical conventions)
//
// ComputeMetrics follows empyrical (Quantopian), the de-facto reference, so
// numbers can be checked against it: sample standard deviations with
// divisor n−1; Sortino's downside deviation averages min(r − target, 0)²
// over all periods; the drawdown path starts at wealth 1 before the first
// return; percentiles (VaR, tail ratio) interpolate linearly as
// numpy.percentile; CVaR is the mean of the ⌊(n−1)·cutoff⌋+1 smallest
// returns; stability is the R² of cumulative log returns on time; Omega's
// annual threshold is converted to a per-period one. One deliberate
// difference: the annualisation factor is always the caller's periods per
// year (empyrical's omega_ratio defaults to 252).
//
// Undefined values are NaN, never a panic or an arbitrary number:
//
//   - no returns: every statistic is NaN (Periods = 0);
//   - n = 1: TotalReturn, AnnualReturn, MaxDrawdown, duration, Calmar,
//     HitRate, DownsideRisk, VaR, CVaR and TailRatio are defined; the rest
//     (volatility, Sharpe, Sortino, Omega, stability, moments) is NaN, as
//     empyrical returns NaN for fewer than two returns;
//   - zero dispersion (a constant series, detected exactly): volatility 0,
//     Sharpe ±Inf for a non-zero mean and NaN for a zero mean (IEEE
//     division, as numpy); skewness and kurtosis NaN;
//   - no losing period: DownsideRisk 0 and Sortino +Inf (or NaN for a zero
//     mean); Omega NaN (empyrical);
//   - no drawdown: MaxDrawdown 0, duration 0, Calmar NaN (empyrical);
//   - a zero 5th percentile: TailRatio ±Inf or NaN;
//   - a total loss (r = −1): AnnualReturn −1, Stability NaN.
//
// JSON: every result type encodes NaN and ±Inf as null (encoding/json
// would fail on them) and decodes null as NaN, so reports never break on
// an undefined statistic. The sign of an infinity is not kept.
//
// # Statistics
//
// Confidence intervals come from the stationary bootstrap of Politis &
// Romano (1994) with percentile intervals; the expected block length is the
// automatic choice of Politis & White (2004, corrected by Patton, Politis &
// White 2009) unless set. The Sharpe difference of two strategies resamples
// both with the same indices. The probabilistic Sharpe ratio (Bailey &
// López de Prado 2012) and the deflated Sharpe ratio (Bailey & López de
// Prado 2014) account for non-normal returns and for the number of
// configurations tried; the report counts as trials the run's
// implementable strategies with a defined Sharpe ratio, cash excluded
// (DSRTrialSet), plus the configurations declared as tried outside the
// run (ReportSettings.ExtraTrials). Spread summarises a metric across seeds by its
// median and interquartile range (numpy's linear quantiles). Nothing here
// holds a random source: every randomised function takes a *rand.Rand,
// which callers derive with internal/seed (purpose seed.Bootstrap), so
// results are reproducible.
//
// # Reports
//
// With several seeds the Summary and the benchmark comparison show every
// number as the median [IQR] across seeds (the Sharpe interval as the
// median per-seed bounds); the tables and charts that show the first seed
// only are titled "(seed 1 of N)". A strategy that is not implementable
// (bsh) is marked "†" with a footnote wherever it is shown. An evaluation
// whose test bars overlap the agents' training bars (or that the runner
// flags with Results.InSample) is titled and headed "in sample", with a
// warning under Findings and in report.json.
//
// # Validation splits
//
// WalkForwardPlan produces rolling or expanding train/test folds with an
// embargo gap; CPCV produces the combinatorial purged cross-validation
// splits and backtest paths of López de Prado (2018, ch. 12); PBO estimates
// the probability of backtest overfitting by combinatorially symmetric
// cross-validation (Bailey, Borwein, López de Prado & Zhu 2015). All are
// index arithmetic: they never look at prices. CPCV.Layout records a plan as
// laid over the panel (groups, splits, paths, purge, embargo, the bars of
// every group); results.json stores it from format version 2, and the
// report's CPCV section states it.
//
// # Example
//
//	rng := seed.New(root, seed.Bootstrap, 0)
//	m, err := eval.ComputeMetrics(returns, eval.PeriodsPerYear(24*time.Hour), &book, eval.Options{})
//	diff, err := eval.BootstrapSharpeDiff(agent, riskParity, 365, eval.BootstrapOptions{}, rng)
//	// diff.Lo > 0: the agent's Sharpe ratio beats risk parity beyond bootstrap noise.
package eval
