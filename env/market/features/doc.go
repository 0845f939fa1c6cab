// Package features computes causal per-bar features of a market panel for
// observations and baselines, and stores them in a Set.
//
// Compute (or ComputeReport) builds the features named in a Config from a
// *market.Panel. The names and their order in Config.Asset and
// Config.Global define the observation layout; Available lists every
// family. The package imports the standard library, gonum, env/market and
// vol only; it must not import env, agents, nets or anything above them.
//
// # Causality
//
// Value t of every series uses bars ≤ t of the panel and nothing else:
// rolling windows end at t, running statistics (peaks, EWMA) start at bar 0
// and move forward, and GARCH parameters in force at t were estimated on
// returns ≤ the refit bar ≤ t. Changing any data after bar t leaves every
// value at bars ≤ t bit-identical; the tests prove it for every family.
//
// # Units and conventions
//
// Returns are log close-to-close returns, ret_t = log(close_t/close_{t−1}),
// defined from bar 1. Volatilities are per bar, as fractions (0.03 = 3 %
// per bar), not annualised: multiply by √(BarsPerYear) to annualise.
// Windows and horizons are in bars. Values before a feature's warm-up are
// NaN; Set.WarmUp reports the first bar from which every series is finite.
//
// # Per-asset features
//
//	logret           ret_t. Warm-up 1.
//	rvol_W           sample standard deviation (divisor W−1) of ret over bars t−W+1..t. W ≥ 2, warm-up W.
//	ewma_vol         √ of the RiskMetrics EWMA of ret² with decay EWMALambda, with weights
//	                 renormalised over the available history (vol.EWMAAdjustedTo, zero mean);
//	                 uses ret_1..ret_t and forecasts the volatility of bar t+1. Warm-up EWMAMinBars.
//	garch_vol        GARCH(1,1) conditional volatility of ret_t given bars ≤ t−1 (σ_{t|t−1}).
//	garch_fH         GARCH(1,1) H-step-ahead volatility forecast made at t, √σ²_{t+H|t}
//	                 (garch_f1 is the next bar's volatility). H ≥ 1.
//	vol_ratio_S_L    rvol_S / rvol_L (S < L); 1 when the asset did not move over L bars. Warm-up L.
//	volume_z_W       z-score of x_t = log(1 + close_t·volume_t) (quote-currency volume) against the
//	                 mean and sample standard deviation of x over the W bars before t (t−W..t−1);
//	                 0 when those W values are all equal. W ≥ 2, warm-up W.
//	drawdown         close_t / max_{s≤t} close_s − 1 (≤ 0; the peak runs from bar 0). Warm-up 0.
//	mom_K            log(close_t/close_{t−K}), the trailing K-bar log return. K ≥ 1, warm-up K.
//	pk_vol_W         Parkinson range volatility over bars t−W+1..t (vol.ParkinsonTo). Warm-up W−1.
//	gk_vol_W         Garman–Klass range volatility over bars t−W+1..t (vol.GarmanKlassTo). Warm-up W−1.
//
// # Global (market-wide) features
//
//	avg_corr_W       mean over asset pairs of the Pearson correlation of ret over bars t−W+1..t;
//	                 pairs with a motionless asset are skipped, 0 if none is left. Needs N ≥ 2,
//	                 W ≥ 2, warm-up W.
//	avg_ewma_vol     cross-sectional mean of ewma_vol. Warm-up EWMAMinBars.
//	index_drawdown   drawdown from its running peak of the equal-weight index rebalanced every
//	                 bar, I_t = I_{t−1}·mean_i(close_{i,t}/close_{i,t−1}), I_0 = 1. Warm-up 0.
//
// # GARCH refit schedule
//
// The GARCH features fit vol.FitGARCH to 100·ret (log returns in percent,
// consistent with the other features; vol's arch comparison uses simple
// returns) and divide volatilities by 100 again. Parameters are estimated
// at refit bars t = GarchMinBars + k·GarchRefit on the returns up to and
// including bar t (expanding, or the last GarchWindow returns), each
// warm-started from the previous fit. At a refit bar the fit's own filter
// gives σ²_{t|t−1} and σ²_{t+1|t}; until the next refit the recursion
// σ²_{t+1|t} = ω + α(100·ret_t − μ)² + β σ²_{t|t−1} runs on with those
// parameters, and the H-step forecast is vol.GARCH.Forecast. A refit that
// fails (e.g. a window of constant prices) keeps the previous parameters;
// ComputeReport counts fits, failures, non-converged fits and fits near a
// unit root.
//
// Before the first fit the GARCH features fall back to the EWMA, which is
// GARCH(1,1) with ω = 0, α = 1−λ, β = λ (RiskMetrics): garch_vol_t =
// ewma_vol_{t−1} and garch_fH_t = ewma_vol_t for every H (an integrated
// model with ω = 0 forecasts a flat variance). So the GARCH features are
// finite from bar EWMAMinBars+1 (garch_vol) or EWMAMinBars (garch_fH), and
// switch to fitted parameters at bar GarchMinBars.
//
// # Cost
//
// Everything except GARCH is O(T) per asset (O(T·N²) for avg_corr), with
// rolling sums re-anchored exactly every window. GARCH costs one fit per
// refit, each a few passes over its window: expanding windows make the
// total O(T²/GarchRefit) per asset, rolling ones O(T·GarchWindow/GarchRefit).
// Assets are computed concurrently.
//
// # Example
//
//	cfg := features.Defaults()
//	cfg.Asset = []string{"logret", "rvol_21", "garch_f1", "drawdown"}
//	set, err := features.Compute(panel, cfg)
//	if err != nil { ... }
//	first := set.WarmUp() // first bar with every value finite
package features
