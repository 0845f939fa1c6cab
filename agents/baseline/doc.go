// Package baseline provides the classic allocation strategies as
// agents.Policy values, so that the evaluator runs them exactly like the
// RL agents: behind the same risk guard, with the same costs, on the same
// out-of-sample segments. New builds one by name (Methods lists them) from
// a Config that maps onto the runner's TOML table.
//
// # Weights, timing and the causal window
//
// A policy decides at bar t (obs.Bar) and writes target weights into dst:
// cash first at index 0, then the N risky assets in panel order, every
// weight non-negative, summing to one (the env.Env action convention). The
// decision is executed at the close of bar t and earns the move from close
// t to close t+1, so it may use bars ≤ t and nothing else: every estimate
// here reads obs.History, the causal view whose last bar is t. The
// estimation window of the allocation methods is the last Lookback simple
// close-to-close returns ending at t, rᵤ = close_u/close_{u−1} − 1 for
// u = t−Lookback+1 … t (market.View.ReturnsTo), oldest first. Online
// methods use price relatives x_t = close_t/close_{t−1} (close_t/close_{t−k}
// with RebalanceEvery = k) of bars ≤ t. Estimates never read data before
// obs.History's first bar either: a window that would reach past it is
// shortened or skipped as each method documents. A test proves causality for every method: rerunning
// after perturbing every bar after t leaves every decision at bars ≤ t
// bit-identical. The one exception is labelled: bsh.
//
// # Schedule and holding
//
// With RebalanceEvery = k a policy decides at its first bar and every k
// bars after it; in between it returns obs.Weights, the current drifted
// weights, so the env trades nothing (zero turnover). equal-weight and
// constant also take DriftBand: at a scheduled bar after the first they
// trade only when some weight (cash included) is more than DriftBand away
// from the target. buy-and-hold
// buys 1/N at its first decision and then always returns obs.Weights;
// cash and bsh return their fixed target at every bar. When obs.Weights is
// empty (a policy run outside an env), holding drifts the previous output
// with the closes, frictionless.
//
// # Methods
//
// Simple:
//
//	equal-weight      cash 0, 1/N per asset (DeMiguel, Garlappi and Uppal 2009's 1/N)
//	buy-and-hold      1/N at the first decision, then hold (zero turnover afterwards)
//	cash              all cash
//	constant          Config.Weights in the assets, cash the rest (e.g. weights=0.4,0.3)
//	random-dirichlet  a Dirichlet(α) draw over cash and the assets at each scheduled
//	                  bar, from the rng passed to Act (both modes); α = 1 is uniform
//	                  on the action simplex
//
// Allocation methods, all computed by portfolio.Allocate on the trailing
// window with the covariance estimator Config.Cov (default Ledoit–Wolf),
// the mean estimator Config.Mean, MaxWeight as a box constraint and cash
// 0: inverse-vol, risk-parity (equal risk contributions), risk-budget
// (Config.Budgets), min-variance, mean-variance (maximise μᵀw − λ/2·wᵀΣw,
// λ = Config.Lambda), max-sharpe (tangency, risk-free rate
// Config.RiskFree), efficient-return (minimum variance with
// μᵀw ≥ Config.TargetReturn), hrp (López de Prado 2016) and
// black-litterman (He and Litterman 1999; views explicit as P, Q, Ω, or
// by default from momentum: P = I, Qᵢ = asset i's mean return over the
// last MomentumWindow bars minus the risk-free rate, Ω = diag(P τΣ Pᵀ)).
// Annualised config rates are divided by the bars per year. The allocation
// methods need Lookback+1 bars of history; before that they hold equal
// weights and record a fallback.
//
// Online-portfolio methods (the baselines of Jiang, Xu and Liang 2017,
// Table 2, and of Li and Hoi's OLPS toolbox), trading the risky assets
// only (cash 0), each starting from the uniform portfolio b₁ at its first
// decision (or Online.Warmup periods earlier, on history bars ≤ t):
//
//	ubah     uniform buy-and-hold tracked by its own relatives, b ← b⊙x/(b·x);
//	         equals buy-and-hold without costs, but restores the frictionless
//	         weights under costs and guards where buy-and-hold never trades
//	ucrp     uniform constant rebalanced portfolio (Cover 1991)
//	bsh      best stock in hindsight: all in the asset with the largest
//	         close growth from the first decision to the horizon: the last
//	         bar of the traded segment set with Policy.SetHorizon (the
//	         walk-forward runner sets each test window's last bar), else
//	         the panel's last bar.
//	         NOT IMPLEMENTABLE: it reads the future through
//	         obs.History.Panel(); Name() is "bsh (hindsight)" and
//	         Implementable reports false. A reference line only.
//	eg       exponentiated gradient, Helmbold, Schapire, Singer and Warmuth
//	         (1998), η = 0.05
//	ons      online Newton step, Agarwal, Hazan, Kale and Schapire (2006),
//	         η = 0, β = 1, δ = 1/8; the projection onto the simplex in the
//	         A-norm is solved exactly as a QP (optim)
//	olmar    OLMAR-1, Li and Hoi (2012), ε = 10, moving-average window w = 5
//	pamr     PAMR, Li, Zhao, Hoi and Gopalkrishnan (2012), ε = 0.5; variants
//	         PAMR-1 and PAMR-2 with C = 500 via Online.PAMRVariant. The
//	         default is plain PAMR, the paper's main algorithm.
//	anticor  Anticor_w with a single window w = 30 (Borodin, El-Yaniv and
//	         Gogan 2004), not the BAH_W(Anticor) mixture over windows
//
// The online methods are stateful (Reset forgets the state) and run on the
// k-bar clock when RebalanceEvery = k > 1: the paper's period becomes k
// bars, relatives are close_t/close_{t−k} and windows count periods.
//
// # Fallbacks and diagnostics
//
// Act returns an error only for configuration that does not fit the panel
// (ErrConfig: constant weights or risk budgets of the wrong length,
// MaxWeight below 1/N, explicit views of the wrong width). It never
// returns NaN: when an optimiser fails or falls back (portfolio's
// Result.Fallback, e.g. max-sharpe when every expected excess return is
// negative, as in a crypto bear market), when history is too short, or
// when a method produces invalid weights, the policy records a Fallback
// (bar, time, kind, detail) and trades the substitute. Diagnostics (the
// FallbackReporter interface) returns them with counts per kind.
//
// # Allocation and concurrency
//
// A Policy sizes its buffers at its first decision; afterwards Act does not
// allocate for the simple and online methods. The allocation methods
// allocate inside portfolio.Allocate (estimation, solver results, notes).
// A Policy is not safe for concurrent use; nothing is kept in
// package-level state.
//
// # Imports
//
// baseline imports agents, env/market, portfolio and optim (and through
// them risk and vol), gonum and the standard library. It must not import nets,
// gorgonia, env (the simulator), eval, train or experiments.
//
// # Example
//
//	cfg := baseline.Defaults()
//	cfg.RebalanceEvery = 7
//	p, err := baseline.New("min-variance", cfg)
//	...
//	err = p.Act(dst, &agents.Observation{Bar: t, History: panel.View(0, t+1), Weights: w}, nil, agents.Deterministic)
//	for _, f := range p.Diagnostics().Fallbacks { ... }
package baseline
