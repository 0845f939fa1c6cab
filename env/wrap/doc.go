// Package wrap holds folio's general env wrappers: observation
// normalisation (ObsNorm), reward scaling (RewardScale), the time limit
// (TimeLimit) and the episode monitor (Monitor), plus the running
// statistics they use (MeanVar). The risk guard is env/guard.
//
// Every wrapper embeds the inner env.Env, implements env.Wrapper (Unwrap),
// allocates nothing per Step and passes envtest.Check. env.FindPortfolio
// reaches the market env through any stack of them.
//
// # Order
//
// Wrappers compose; the recommended stack, innermost first, is
//
//	market env → guard → TimeLimit → Monitor → RewardScale → ObsNorm
//
// so that the guard sees every action, the monitor sees the time limit's
// truncation and raw rewards, and the learner sees scaled rewards and
// normalised observations. A Vec then steps B such stacks.
//
// # Conventions and units
//
// Observations follow env.Layout; ObsNorm leaves the current-weights block
// (N+1 values at Layout.WeightsOffset) unchanged by default. Rewards are
// per step in the inner env's units (log growth by default) until
// RewardScale divides them by a running standard deviation. Values, fees
// and slippage in Episode are in quote currency, drawdowns are fractions,
// lengths are in steps (bars).
//
// # Stateful wrappers and checkpoints
//
// Every wrapper implements encoding.BinaryMarshaler and BinaryUnmarshaler
// for checkpoints: a tagged, versioned little-endian encoding of its own
// state (exact float64 bits) followed by its inner env's state, so that
// MarshalBinary on the top of a stack saves the whole stack and a restored
// stack continues bit for bit (see env's package doc, "Saved state"). A
// state restored into another kind of wrapper, another limit or capacity,
// another observation length or an inner env that rejects its part fails
// with ErrState (= env.ErrState) and changes nothing. An inner env that
// cannot save its state makes MarshalBinary fail rather than save part of
// a stack.
//
// ObsNorm and RewardScale learn statistics across episodes. Each has a
// freeze switch (SetFrozen) for evaluation; the freeze switch is a mode
// chosen by the caller, not part of the state. To move statistics alone to
// another env (from training to evaluation, or between panels), use
// Stats and SetStats (or MeanVar's own MarshalBinary). While unfrozen their
// output depends on all earlier episodes, so a reused env does not repeat
// a trajectory (envtest's determinism check passes only when frozen).
// The statistics of several envs can be combined with MeanVar.Merge.
//
// # Buffers
//
// Wrappers transform the caller's StepResult in place after the inner Step
// and never retain the caller's action or buffers. A wrapper is used by one
// goroutine at a time.
//
// # Imports
//
// wrap imports the standard library, env and env/internal/statebin (the
// state encoding) only; it must not import
// agents, nets, eval, train, experiments or gorgonia.
//
// # Example
//
//	g, _ := guard.New(marketEnv, guardCfg)
//	tl, _ := wrap.NewTimeLimit(g, 256)
//	mon, _ := wrap.NewMonitor(tl, 100)
//	rs, _ := wrap.NewRewardScale(mon, wrap.RewardScaleDefaults())
//	on, _ := wrap.NewObsNorm(rs, wrap.ObsNormDefaults())
//	// train on `on`; for evaluation: on.SetFrozen(true); rs.SetFrozen(true)
//	ep, ok := mon.Last() // return, final value, drawdown, fees, interventions
package wrap
