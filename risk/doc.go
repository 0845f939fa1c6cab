// Package risk estimates expected returns and covariance matrices from a
// matrix of asset returns, for the allocation methods of package portfolio
// and the baselines.
//
// # Input and causality
//
// Every estimator reads a T×N mat.Matrix of simple returns per bar
// (rₜᵢ = pₜᵢ/pₜ₋₁,ᵢ − 1): row t is bar t, oldest first, column i is asset
// i. Estimators use every row they are given and nothing else; choosing a
// causal window (bars ≤ the decision bar) is the caller's job. Estimates
// are per bar, not annualised (scale covariances by bars per year).
//
// # Estimators and their normalisations
//
//	Mean              sample mean.
//	JamesSteinMean    James–Stein means shrunk towards the grand mean
//	                  (Efron–Morris, positive part, N−3); variances 1/(T−1).
//	SampleCov         1/(T−1): unbiased entries; numpy.cov and gonum/stat's
//	                  convention and the plug-in for the optimisers.
//	EWMACov           RiskMetrics: zero mean, weights (1−λ)λᵏ normalised to
//	                  sum to one over the T bars (unbiased for a constant
//	                  covariance); forecast for the next bar.
//	LedoitWolf        1/T (centred): the normalisation under which the
//	                  optimal intensity is derived; equals scikit-learn's
//	                  LedoitWolf (ScaledIdentity target, the default) and the
//	                  authors' covCor.m (ConstantCorrelation target).
//	OAS               1/T (centred): scikit-learn's OAS formula (Chen et al.
//	                  2010, eq. 23 without the 2/N terms).
//	GARCHCov          per-asset GARCH(1,1) next-bar variances (package vol,
//	                  maximum likelihood) with the sample correlation
//	                  (normalisation cancels).
//	CorrFromCov       correlation and standard deviations of a covariance.
//
// Multiply a 1/T estimate by T/(T−1) to compare it with SampleCov.
//
// # Conventions
//
// Covariance estimators are dst-first: dst must be an empty *mat.SymDense
// (it is then allocated) or already N×N; any other size is a programming
// error and panics, as in gonum. Data-dependent failures (too few rows,
// NaN or ±Inf, zero variances where an estimator divides by them, an
// invalid decay) are returned as errors wrapping ErrTooShort,
// ErrNonFinite, ErrDegenerate or ErrParam. Shrinkage estimators return
// their intensity. Nothing is kept in package-level state.
//
// # Imports
//
// risk imports the standard library, gonum and folio's vol (for the GARCH
// fits). It must not import env, agents, portfolio or any other folio
// package.
//
// # Example
//
//	var cov mat.SymDense
//	delta, err := risk.LedoitWolf(&cov, returns, risk.ScaledIdentity)
//	mu, c, err := risk.JamesSteinMean(nil, returns)
package risk
