// Package guard is folio's hard risk guard: it sits between every strategy
// (agent or baseline) and the market and maps each requested allocation onto
// the set of allocations that satisfy the configured limits. "Hard" means no
// sequence of actions — huge, negative, NaN, Inf, all-in, flip-flopping —
// can make the allocation it sends to the market breach a limit; the
// property tests drive it with thousands of such sequences and check every
// limit after every step.
//
// The projection depends only on the portfolio state passed to
// Projector.Project, so baselines and reports can use it without an env;
// Guard wraps an env.Env with it.
//
// # Conventions and units
//
// Allocations are weights (fractions of portfolio value), cash first, then
// the N risky assets in the env's order: length N+1. The portfolio is
// long-only. w' denotes the current drifted weights (env.Portfolio.Weights),
// V the portfolio value in quote currency, t the decision bar: the guard
// reads bars ≤ t only (volume and closes of bar t, returns up to bar t).
// Turnover is Σ_{i≥1}|w_i − w'_i| over the risky assets (cash excluded):
// env.Info.Turnover's definition, on target weights (see below). Volatility is annualised with the panel's bars per
// year (365-day years). Time is in bars.
//
// # Limits
//
//   - max_weight / asset_max_weight: w_i ≤ m_i for each risky asset.
//   - min_cash: w_0 ≥ c.
//   - max_gross: Σ_{i≥1} w_i ≤ G, i.e. w_0 ≥ 1 − G (long-only).
//   - max_turnover: Σ_{i≥1}|w_i − w'_i| ≤ τ.
//   - max_participation: |w_i − w'_i|·V ≤ p·close_{t,i}·volume_{t,i}. The
//     cap uses bar t's dollar volume also when the env executes at the next
//     open (bar t+1's volume is unknown at t) and the pre-trade value V.
//     The guard does not adopt the market env's own liquidity_cap: a
//     Euclidean projection onto it would spread a clipped trade over
//     assets nobody asked for, while the env clips the trade and leaves
//     the excess in cash (and says so, see below). Independently of p, an asset
//     without volume at bar t cannot trade at all, as in the market env
//     (this needs State.Market, which Guard always supplies).
//   - drawdown breaker: when 1 − V/H exceeds drawdown_limit (H the
//     high-water mark) the gross exposure is capped at drawdown_gross for
//     drawdown_cooldown decision bars [trip, trip + cooldown). H is the
//     episode peak until the first trip; when the cooldown ends the breaker
//     re-arms with H reset to the current value, so it trips again only after
//     a fresh drawdown of the limit from the highest value since re-arming.
//   - vol_target: the forecast annualised volatility √(wᵀΣw · bars/year) ≤ σ*,
//     Σ the EWMA (RiskMetrics, decay vol_lambda, vol_window bars) covariance
//     of the simple returns of bars ≤ t. Enforced by scaling risky weights
//     down into cash. It needs two returns (t ≥ 2); before that it is off.
//
// # The projection
//
// With long-only weights every gross-type limit (min_cash, max_gross, the
// breaker) is a floor on cash, and max_weight and liquidity are intervals on
// each risky weight, so these limits form a capped simplex
// C = {Σw = 1, lo ≤ w ≤ hi}. Project computes, in order:
//
//  1. the box: lo_0 = cash floor, hi_0 = 1; lo_i = max(0, w'_i − room_i),
//     hi_i = min(m_i, w'_i + room_i) with room_i the liquidity room;
//  2. the anchor a: the point of C with the least turnover (the forced
//     trades: assets drifted above their cap are sold to it, cash short of
//     its floor is raised pro rata), scaled down into cash if it breaches the
//     vol cap; a = w' when w' is feasible;
//  3. the target b: the exact Euclidean projection of the request onto C
//     (sort-based on the KKT multiplier, O(N log N); a request already in
//     C to within Tol is kept as it is), then the vol cap;
//  4. the executed allocation w = a + θ(b − a) with the largest θ ∈ [0, 1]
//     whose turnover is ≤ τ (exact, on the piecewise-linear turnover). Since
//     a and b both satisfy every other limit and those limits are convex
//     (the vol bound is a norm), w satisfies them all; θ is reported.
//
// This is a convex-combination step for turnover, not the exact projection
// onto the intersection: the guard moves along the line toward the feasible
// target, the natural "partial rebalance" of a rate limit.
//
// # Precedence when limits conflict
//
// Drift can make limits contradict each other (an asset that rallied past
// its cap while liquidity or turnover forbid selling enough). The order is:
//
//  1. liquidity is physical and always holds: an asset that cannot be sold
//     down to its cap is sold as far as max_participation allows; a cash
//     floor that illiquid holdings prevent reaching
//     is lowered to what is reachable;
//  2. position limits (max_weight, min_cash, max_gross, breaker, vol_target)
//     hold next: their forced trades are made even if they exceed τ;
//  3. turnover is honoured with whatever budget is left.
//
// Each such step sets FlagConflict, which Totals counts separately and
// which does not count as an intervention.
//
// # Invalid and non-finite actions
//
// A finite request that is not an allocation (negative components, a sum
// other than one, components up to ±1e300 or beyond, all zeros) is simply
// projected (FlagInvalid, plus the flags of the limits it breaches). A
// request holding NaN or ±Inf is, by default (non_finite = "hold"), replaced
// by the hold action — the anchor a, i.e. the current drifted weights moved
// onto the feasible set with the least turnover — and flagged
// FlagNonFinite; with non_finite = "error" Project returns an error wrapping
// env.ErrInvalidAction and changes no state.
//
// # The guard and the market env's frictions
//
// The guarantee is on the allocation the guard sends, which the market env
// reports as Info.Requested. The env executes exactly that allocation
// (Info.Executed, bit for bit) unless its own liquidity clip binds, and
// then says so: Info.LiquidityLimited counts the assets it filled only
// partly and Info.Unfilled the undone part (a fraction of V), and Guard
// counts such steps in Totals.LiquidityLimited. So every step whose
// executed weights breach a limit carries FlagConflict (the precedence
// gave way) or a partial fill (the env did); the property tests check it
// on illiquid panels.
//
// How far the executed allocation can fall short of the one sent depends
// on liquidity: by a fee-sized amount when max_participation is set below
// the env's liquidity_cap (a target asks for μ·w_i of the post-trade
// value, μ the remainder factor after costs, so a sale planned at exactly
// a cap, or a position on a bar without volume, cannot follow the
// shrinking by μ), and by any amount when the env's cap binds on a trade
// the guard planned without it (a forced sale of an illiquid position, or
// execution = "next_open", which fills on bar t+1's volume the guard must
// not read). Either way the step is counted. To keep the guard's limits
// binding on the executed weights, set max_participation below the env's
// liquidity_cap (e.g. half of it): the guard then plans trades the env
// can fill, and the precedence rule above flags the conflicts.
//
// Turnover is measured on target weights (Σ|w_i − w'_i|); the env's
// Info.Turnover measures traded notional after costs (Σ|μ·w_i − w'_i|),
// which differs by a fee-sized amount.
//
// # Reporting
//
// Report.Flags holds one bit per limit that changed the request (Flag*
// constants), Report.Interventions their number (FlagConflict excluded);
// Guard copies both and the breaker state into env.Info.Guard. Totals keeps
// running counts per flag, trips, breaker steps and, under Guard, the steps
// the env filled only partly (LiquidityLimited, not an intervention)
// across episodes for the evaluation report.
//
// # Performance and aliasing
//
// Project and Guard.Step allocate nothing (scratch is preallocated by
// NewProjector). Project reads State slices and never retains them. Guard
// sends the inner env a buffer it owns; it does not retain the caller's
// action. A Projector or Guard is used by one goroutine at a time.
//
// # Saved state
//
// Guard implements encoding.BinaryMarshaler and BinaryUnmarshaler: its
// state (breaker, Totals, the vol cap's covariance recursion, the last
// Report and projected allocation) followed by the inner env's, so a
// restored stack continues bit for bit (see env's package doc, "Saved
// state"). A state of another layer or of a guard with another Config or
// asset count is refused with env.ErrState and nothing changes.
//
// # Imports
//
// guard imports the standard library, env, env/market and
// env/internal/statebin (the state encoding) only; it must not
// import agents, nets, eval, train, experiments or gorgonia.
//
// # Example
//
//	cfg := guard.Defaults()
//	cfg.MaxWeight, cfg.MaxTurnover = 0.4, 0.5
//	cfg.DrawdownLimit, cfg.DrawdownGross = 0.2, 0.25
//	g, err := guard.New(marketEnv, cfg) // marketEnv: action = "weights"
//	...
//	err = g.Step(res, action) // res.Info.Guard tells what was changed
//	tot := g.Totals()         // interventions per limit, for the report
//
// Without an env (baselines, reports):
//
//	p, err := guard.NewProjector(cfg, assets)
//	p.Reset() // at each episode start
//	rep, err := p.Project(dst, requested, guard.State{Weights: w, Value: v, Peak: peak, Market: panel, Bar: t})
package guard
