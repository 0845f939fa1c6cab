// Package vol estimates and forecasts the volatility of return series:
// GARCH(1,1) by maximum likelihood, the RiskMetrics EWMA, rolling realised
// volatility and the Parkinson and Garman–Klass range estimators.
//
// It is a leaf package: it imports only the standard library and gonum
// (never env, agents or any other folio package; its tests also use
// internal/seed). Callers that must stay causal (features, baselines)
// decide which bars they pass in; every function here reads only the
// slices it is given and documents which elements each output uses.
//
// # Units and conventions
//
// GARCH follows Python's arch package so that results can be compared with
// arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal"):
// returns are in percent (100 × the return; folio compares with arch on
// simple returns, 100·(P_t/P_{t−1} − 1)), so Mu is in percent, Omega and
// every variance in percent², Alpha and Beta are unitless. The model is
// scale-equivariant: fitting 100·r instead of r multiplies Mu by 100 and
// Omega by 10⁴ and leaves Alpha and Beta unchanged; percent only keeps the
// optimiser's numbers O(1), as in arch. Index t of a series is bar t; the
// conditional variance σ²_t of return r_t uses returns before t, and the
// "next" variance σ²_n after n returns is the one-step-ahead forecast.
// The recursion starts from arch's backcast (see Backcast), which reads the
// first min(75, n) residuals.
//
// EWMA, realised and range volatilities are per bar and not annualised
// (multiply variances by bars per year to annualise); their output at
// index t uses inputs at indices ≤ t only. EWMATo's value at t is the
// forecast for bar t+1; see EWMATo for how that relates to arch's
// indexing.
//
// # Destinations
//
// Functions ending in To write into a caller-owned dst of the documented
// length and return it; they never retain dst or their inputs. A length
// mismatch or an invalid window or decay is a programmer error and panics.
// Data-dependent failures of FitGARCH (too few returns, NaN or Inf, zero
// variance) are returned as errors wrapping ErrTooShort, ErrNonFinite and
// ErrConstant; a fit that does not converge or ends at a constraint is not
// an error but is reported in GARCHFit (Converged, NearUnitRoot, AtBound).
//
// # Optimiser
//
// FitGARCH maximises the likelihood with gonum/optimize: optimize.Minimize
// with optimize.BFGS and the analytic gradient, stopping at ‖∇f‖∞ < 1e-9
// for f = −ℓ/n in the reparameterised coordinates (see FitGARCH), when f
// stops improving (optimize.FunctionConverge, 1e-14 relative over 10
// iterations) or after FitOptions.MaxIterations. Its line search is gonum's
// More–Thuente search extended with Hager and Zhang's approximate Wolfe
// conditions, because near the maximum the likelihood's value changes by
// less than its rounding error and gonum's line searches, which compare
// values, then fail (see lineSearch in optimize.go).
//
// Refits with FitOptions.Prev take a fast path: a small BFGS in this
// package (bfgs.go) that starts from the previous fit's final
// inverse-Hessian approximation, which gonum's BFGS cannot accept (it
// always starts from a scaled identity). Measured on 2 shared cores,
// medians of 5–6 alternated runs, gonum against this BFGS: a refit 63 bars
// later on 3,000 returns took 21 passes over the data against 7 (0.94 ms
// against 0.29 ms), and features.Compute, which refits every 63 bars, was
// 4.0× slower on 8 assets × 60,000 hourly bars and 2.7× on 20 × 3,000
// daily bars. Cold fits take about as many passes with either (24–30
// against 22–28) and 1.2–1.3× the time with gonum, so they use gonum.
// gonum/optimize is the reference: the tests require both optimisers to
// reach the same maximum (parameters within 1e-5, log-likelihood within
// 1e-8 relative) on simulated series and on BTC's daily returns.
//
// Standard errors use gonum/diff/fd and gonum/mat.
//
// # Example
//
//	fit, err := vol.FitGARCH(returnsPct, nil)
//	if err != nil { ... }
//	next := fit.NextVariance          // percent², variance of the next return
//	week := fit.VarianceForecast(7)   // 7-step-ahead variance forecast
package vol
