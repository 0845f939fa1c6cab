// Package env is folio's market environment: a gym-style RL interface (Env,
// Space, Spec, StepResult, typed Info) over a price panel, with exact
// trading costs, a vector env (Vec) and the bench task v1 configuration.
// Every agent and every baseline meets the market here.
//
// env imports only the standard library, gonum, env/market (panels,
// regimes, feature storage) and internal packages. It must not import
// agents, nets, train, eval, experiments or gorgonia. Risk guards and
// wrappers live in env/guard and env/wrap and reach the portfolio through
// FindPortfolio; the conformance checker is env/envtest.
//
// # Units and conventions
//
// Time is in bars (panel rows); bar t covers [open time t, open time t+1).
// Values are in quote currency (e.g. USDT); Config.InitialCapital sets the
// value at reset and Config.InitialWeights the allocation (all cash if
// nil). Weights are fractions of portfolio value, cash first:
// index 0 is cash, 1..N the panel's assets in order; they are non-negative
// and sum to one (long-only). Fee and spread rates are configured in basis
// points of traded notional (1 bps = 10⁻⁴). Turnover is Σ_i |traded
// notional_i| / pre-trade value over risky assets (a full switch from cash
// to one asset is 1). Rewards are per step: log growth is
// log(V_{t+1}/V_t), a log return; Info.Return is the simple return.
//
// # Timing (no look-ahead)
//
// A decision at bar t sees bars ≤ t only: the observation holds feature
// values at bars t−W+1..t (a features.Set value at t uses bars ≤ t) and the
// current weights. With execution "close" (default) the trade happens at
// the close of t, on bar t's dollar volume, from the drifted weights w';
// the portfolio then earns the move to the close of t+1 through the price
// relatives y_{t+1} = close_{t+1}/close_t. With "next_open" the portfolio
// drifts from close t to open t+1 (relatives open_{t+1}/close_t), trades at
// the open of t+1 on bar t+1's dollar volume, then drifts to close t+1
// (close_{t+1}/open_{t+1}). Either way the reward of the decision at t is
// known at the close of t+1, when the next decision is taken, and after a
// move the weights drift: w ← w ⊙ y / (w·y). envtest's look-ahead probe
// checks all of this by perturbing every bar after t and requiring every
// observation, info and reward up to the decision at t to be unchanged.
//
// # Costs
//
// All amounts are fractions of the pre-trade value V. From pre-trade
// weights w' to target w, with μ the post-trade value V̂/V (the
// "transaction remainder factor" of Jiang, Xu & Liang 2017, arXiv:1706.10059,
// §3 eq. 14–16), asset i trades d_i = μ·w_i − w'_i (buy if positive). A buy
// of notional b costs b·(1 + c_b,i + s_i) in cash and a sale of notional s
// yields s·(1 − c_s,i − s_i), where c_b,i, c_s,i are the fee rates (the
// fee_side's maker or taker rate, or a per-asset [[costs.asset]] buy/sell
// override) and s_i ≥ 0 the slippage rate. So
//
//	cash after = w'_0 − Σ_buys d_i(1 + c_b,i + s_i) + Σ_sells |d_i|(1 − c_s,i − s_i) − k·TO²
//
// (the last term only for quadratic slippage) and, since cash after must be
// μ·w_0 and Σ_{i≥0} w'_i = Σ_{i≥0} w_i = 1, the value balance reduces to
//
//	μ = 1 − C(μ),   C(μ) = Σ_i (c_i + s_i)·|μ·w_i − w'_i| + k·TO²,   TO = Σ_i |μ·w_i − w'_i|.
//
// C is non-negative, convex in μ when no liquidity limit binds, and for
// valid configs Lipschitz in μ with constant L < 0.5 (Costs.Validate
// enforces it; realistic L ≈ 10⁻³–10⁻²), so μ ← 1 − C(μ) from μ = 1
// contracts to the unique root. The solver accelerates it with secant steps
// kept inside a bracket of the root and stops when an evaluation moves μ by
// ≤ 1e-15: 3–5 evaluations of C for realistic costs (tested), never more
// than 64.
// For one fee rate c on both sides this is Jiang's Theorem 1 with their
// purchase rate c_p = c/(1+c): they charge buys on cash spent, we on
// notional bought, as exchanges do; tests check the two against each other.
// Fees and slippage paid are V·Σ c_i|d_i| and V·(Σ s_i|d_i| + k·TO²), and
// the post-trade value is exactly V − fees − slippage.
//
// Slippage is always adverse (s_i ≥ 0):
//   - "none": s_i = 0;
//   - "spread": s_i = half_spread_bps·10⁻⁴;
//   - "sqrt" (default): s_i = half_spread_bps·10⁻⁴ + impact·√(|d_i|·V / DV_i),
//     DV_i the bar's dollar volume close·volume, so V must be in quote
//     currency (Config.InitialCapital);
//   - "quadratic": a charge k·TO² of the portfolio value (bench task v1).
//
// fee_model "linear" replaces the fixed point by its first-order
// approximation: trade to the target at the pre-cost value
// (d_i = w_i − w'_i), then pay C = Σ c_i|d_i| + slippage pro rata, μ = 1 − C.
// It agrees with "exact" to O(c²).
//
// Liquidity: a trade may not exceed liquidity_cap × the bar's dollar volume
// (|d_i| ≤ L_i = cap·DV_i/V); a larger one is partially filled, clipped to
// the cap, and the rest of the order is dropped (not carried over). An asset
// with zero volume in the bar is not traded at all. If clipped sales leave
// too little cash for the buys, every buy is scaled by one factor so that
// cash ends at zero. The executed weights then differ from the requested
// ones; Info reports both, and nothing is clipped silently:
// Info.LiquidityLimited counts the assets whose trade was cut short and
// Info.Unfilled the part of the requested trades left undone (a fraction
// of V). Without clipping the executed allocation is the target exactly.
// The cut includes fee-sized shortfalls: a target asks for μ·w_i, so a
// position held on a bar without volume (or sold by exactly L_i·V) cannot
// follow the shrinking by μ, and its weight ends a factor 1/μ above the
// target. The cap applies to the dollar volume of the bar the trade
// executes in: bar t with execution "close", bar t+1 with "next_open"
// (Market.LiquidityCap returns the cap for wrappers such as the risk
// guard, which can only plan with bar t's volume).
//
// # Observation layout
//
// The observation (Spec().Layout) is the concatenation of, for each asset i
// and each per-asset feature f (Config.Features order), the window of
// values at bars t−W+1..t, oldest first, at offset (i·F + f)·W; then each
// global feature's window at GlobalOffset + g·W; then the current drifted
// weights, cash first, at WeightsOffset (N+1 values). Features are
// unbounded in the Box space, weights lie in [0, 1]. Feature values are
// used as given: normalisation is a wrapper's or the feature builder's job.
//
// # Actions
//
// The action is a target allocation over cash + N. With action "weights"
// (default) policies emit valid weights (agents.Policy's contract) and the
// env validates: every entry ≥ −WeightTolerance and finite, the sum within
// WeightTolerance of one; accepted actions have negatives set to zero and
// are renormalised, others fail with ErrInvalidAction (the env's state is
// unchanged). With "logits" the env maps any finite vector through a
// softmax; NaN or ±Inf fail. Spec().Action is a Simplex or a Box.
//
// # Episodes and randomness
//
// Reset always takes a seed: the start bar is drawn from
// rand.New(rand.NewPCG(seed, seed.Stream(seed.Env, 0))), never from a
// global source, so equal seeds give equal episodes. Valid starts s satisfy
// s ≥ warm-up + Window − 1 (the first bar from which every selected feature
// is finite, plus the window), s ≥ segment start, and s + episode_len ≤
// segment end (with episode_len 0, s < segment end and the episode runs to
// it). Regime labels (one per bar) restrict starts to named regimes
// and/or balance them: "balanced" picks a regime uniformly among those
// present among valid starts (unlabelled bars only if nothing is labelled),
// then a start uniformly within it. Restricted episodes run their full
// length unless regime_truncate is set, which truncates at the first
// decision bar outside the named regimes. Note that the start distribution
// then depends on labels that may have been computed with hindsight; the
// observation never contains them.
//
// Ending by episode length, segment end or regime exit is truncation
// (learners bootstrap from the final observation); the wealth floor
// (terminate_below) is termination. Both flags can be set on the same step.
// Step after the episode ended, like Step before Reset, panics; Vec resets
// automatically.
//
// # Starting portfolio
//
// An episode starts with value Config.InitialCapital in the allocation
// Config.InitialWeights (cash first), all cash by default. Walk-forward
// evaluation sets both from the previous test window's final Info.Value
// and Info.Weights, so the portfolio carries across folds: the first
// decision's turnover and costs are measured from the carried weights, not
// from a buy-in from cash.
//
// # Saved state (checkpoints)
//
// Market, Vec, the guard (env/guard) and the wrappers (env/wrap)
// implement encoding.BinaryMarshaler and BinaryUnmarshaler. A wrapper's
// state includes its inner env's, so one MarshalBinary on the outermost env
// of a stack saves the whole stack, and Vec saves each env's state plus the
// per-env reset-seed streams. Restoring into envs built the same way
// continues bit for bit: the same actions give the same observations,
// rewards, flags, infos and autoresets. Each layer writes a 4-byte tag and a
// format version (see env/internal/statebin); Market adds the panel's
// fingerprint, its shape and digests of its Config and feature data, so a
// state restored into another layer, another panel, configuration or
// version fails with an error wrapping ErrState and leaves the env
// unchanged. The read-only data (panel, features) is never part of a state:
// rebuild the envs, then restore. Saving and restoring allocate; Step
// still does not.
//
// # Buffers and aliasing
//
// APIs are dst-first. Reset writes into the caller's dst; its Info slices
// are env-owned and valid until the next call. Step writes into the
// caller's StepResult (allocate with NewStepResult): the env copies into
// dst.Obs and dst.Info's slices and never retains dst or the action slice.
// Step allocates nothing. Portfolio's Weights is a read-only view valid
// until the next Step or Reset. Vec owns its batched buffers (row-major,
// valid until the next call). A Market is used by one goroutine; Clone makes
// independent envs that share the read-only data.
//
// # Bench task v1
//
// BenchConfig, LoadBench and NewBenchPanel express
// /work/shared/bench/bench_env.py's task as a Market configuration; the
// tests reproduce its golden trajectories to 1e-12.
package env
