// Package portfolio computes long-only, fully invested allocations with
// the classic methods behind one function, Allocate(method, inputs,
// options):
//
//	equal-weight      1/N
//	inverse-vol       wᵢ ∝ 1/σᵢ
//	risk-parity       equal risk contributions (optim.RiskBudget)
//	risk-budget       risk contributions equal to Options.Budgets
//	min-variance      minimise wᵀΣw (optim QP)
//	mean-variance     maximise μᵀw − λ/2·wᵀΣw (λ = Options.RiskAversion)
//	max-sharpe        tangency portfolio via the homogenised QP
//	                  min yᵀΣy s.t. (μ−rf)ᵀy = 1, y ≥ 0, yᵢ ≤ wmax·Σy; w = y/Σy
//	efficient-return  minimise wᵀΣw s.t. μᵀw ≥ Options.TargetReturn
//	hrp               hierarchical risk parity (López de Prado 2016)
//	black-litterman   mean-variance on the He–Litterman posterior
//
// Every method respects 0 ≤ wᵢ ≤ Options.MaxWeight and Σw = 1. The QP
// methods take the cap as a constraint. risk-parity and risk-budget solve
// the constrained risk-budgeting portfolio of Richard and Roncalli (2019,
// "Constrained risk budgeting portfolios: theory, algorithms, applications
// and puzzles"): x*(λ) = argmin over 0 ≤ x ≤ cap of ½xᵀΣx − λΣbᵢ log xᵢ,
// with λ > 0 chosen so that Σx* = 1 (optim.RiskBudgeter.SolveCapped). The
// budget constraint is met through λ rather than imposed inside the
// minimisation, as the paper prescribes, so the uncapped assets keep risk
// contributions proportional to their budgets (θbᵢ with a common θ ≥ 1)
// and the capped ones contribute at most θbᵢ; with no binding cap it is
// the unconstrained solution. The other formulation the literature uses,
// min ½xᵀΣx − Σbᵢ log xᵢ subject to xᵢ ≤ cap·Σx, gives every asset an
// extra multiplier term and so distorts the uncapped assets' budgets too;
// it is not used. inverse-vol, hrp and the Black–Litterman market weights
// are rules, not optimisations: they are capped afterwards, the excess
// redistributed to the uncapped weights in proportion to their size
// (noted in the Result), the usual treatment for such rules.
//
// # Inputs and units
//
// Inputs carry μ and Σ directly or a T×N matrix of simple returns per bar
// from which they are estimated (covariance: sample | ledoit-wolf |
// ledoit-wolf-cc | oas | ewma | garch, see package risk; mean: sample |
// james-stein). Everything is per bar and in simple-return units
// (0.01 = 1%): μ, Σ, the risk-free rate and the target return. Choosing a
// causal estimation window is the caller's job.
//
// # Failure and fallbacks
//
// Allocate returns an error only for invalid input (unknown names,
// mismatched dimensions, NaN, impossible options, missing data). When a
// method fails numerically or is undefined for the data — max-sharpe when
// every expected excess return is negative, as in crypto bear markets, an
// efficient-return target above what the assets can reach, a singular
// covariance the solver cannot handle, a zero-variance asset — it falls
// back along a documented chain (see Allocate) and records every step in
// Result.Fallback and Result.Notes. Weights are never NaN.
//
// # Imports
//
// portfolio imports the standard library, gonum, risk and optim. It must
// not import env, agents or any higher layer; baselines wrap it.
//
// # Example
//
//	res, err := portfolio.Allocate(portfolio.MaxSharpe,
//		portfolio.Inputs{Returns: window, Estimator: portfolio.CovLedoitWolf},
//		portfolio.Options{MaxWeight: 0.4})
//	if err != nil { ... }          // invalid input only
//	if res.Fallback != "" { ... }  // e.g. "max-sharpe → min-variance: ..."
//	w := res.Weights
package portfolio
