// Package optim holds the numerical solvers behind folio's allocation
// methods: a dense convex quadratic-programming solver and a risk-budgeting
// solver.
//
// # Quadratic programmes
//
// QPSolver (and the convenience SolveQP) minimises ½xᵀPx + qᵀx subject to
// Ax = b, Gx ≤ h and Lower ≤ x ≤ Upper with the Goldfarb–Idnani dual
// active-set method. It is exact (finite termination, the solution of the
// final active set's KKT system up to rounding), needs no tuning and, for
// the small dense problems of portfolio construction (n ≤ a few hundred),
// is fast: bounds are first-class constraints whose slacks and updates cost
// O(n), and the work per iteration shrinks as bounds become active.
// P must be positive semidefinite. When it is singular the solver adds a
// ridge ρI, runs proximal-point iterations whose fixed point is the exact
// solution of the original problem, and polishes the result by solving the
// KKT system of the final active set; Solution.Ridge and Solution.Prox
// report this. Every Solution carries its status, iteration count,
// multipliers and the KKT residuals (primal and dual feasibility,
// complementarity, stationarity) evaluated on the problem as given.
//
// # Risk budgeting
//
// RiskBudgeter (and RiskBudget) finds long-only, fully invested weights
// whose risk contributions RCᵢ = wᵢ(Σw)ᵢ/wᵀΣw equal given budgets, by
// damped Newton iterations on the convex log-barrier problem
// min ½yᵀΣy − Σ bᵢ log yᵢ (Spinu 2013), warm-started by a few sweeps of
// cyclical coordinate descent. RiskBudgetCCD is the pure coordinate-descent
// method of Griveau-Billion, Richard and Roncalli (2013), kept as an
// independent second method and a factorisation-free fallback.
// RiskBudgeter.SolveCapped (and RiskBudgetCapped) adds caps 0 ≤ wᵢ ≤ uᵢ:
// the constrained risk-budgeting portfolio of Richard and Roncalli (2019),
// argmin over the box of ½xᵀΣx − λΣbᵢ log xᵢ with λ chosen so that
// Σx = 1, by a safeguarded Newton iteration on log λ around an active-set
// Newton solver; uncapped assets keep contributions θbᵢ (θ ≥ 1), capped
// ones contribute at most θbᵢ.
//
// # Conventions
//
// Matrices are gonum mat types on input; internally the solvers copy them
// into flat row-major workspaces (a *mat.SymDense or *mat.Dense is copied
// directly, other implementations element by element). Vectors are
// []float64. Methods that fill a caller's value take it first (dst).
// Solvers are values holding reusable workspaces: the zero value is ready,
// a solver is not safe for concurrent use, and nothing is kept in
// package-level state. Units are whatever the caller's are; the solvers are
// scale-aware only through relative tolerances, documented on Settings and
// RiskBudgetSettings.
//
// Errors: data-dependent outcomes (infeasible problems, iteration limits,
// non-convex P, NaN data, budgets that do not sum to one) are returned as
// errors wrapping ErrInfeasible, ErrIterationLimit, ErrNotConvex,
// ErrInvalid or ErrDegenerate, with the Solution filled as far as it got.
// Mismatched dimensions are programming errors and panic.
//
// # Imports
//
// optim imports only the standard library and gonum. It must not import
// any other folio package.
//
// # Example
//
//	p := &optim.QP{P: twoSigma, A: mat.NewDense(1, n, ones), B: []float64{1},
//		Lower: zeros, Upper: caps}
//	sol, err := optim.SolveQP(p, nil) // minimum variance, long-only, capped
//	w := make([]float64, n)
//	res, err := optim.RiskBudget(w, sigma, nil, nil) // equal risk contributions
package optim
