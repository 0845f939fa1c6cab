// Package agents holds what every allocating strategy shares and nothing
// algorithm-specific: the Policy interface (agents and baselines alike),
// the Learner interface the training loop drives, rollout storage, the
// replay buffer, and generalised advantage estimation.
//
// It imports only env (spaces and the observation layout), env/market and
// the standard library, so eval and train can depend on it without pulling
// in gorgonia; the algorithms live in agents/ppo and agents/ddpg (which use
// nets), the baselines in agents/baseline.
//
// # Conventions
//
// Weights are cash first (index 0), then the N assets in panel order,
// non-negative and summing to one. A Policy's Act decides at
// Observation.Bar using data at bars ≤ Bar only. Policies and learners
// never own an RNG: the caller passes a *rand.Rand (STYLE.md 2.4).
//
// Rollout arrays are step-major (transition (t, e) is row t·Envs + e);
// rewards are per step, γ and λ per step. Terminated marks the end of the
// MDP (no bootstrap); Truncated a cut episode, where learners bootstrap
// from the final observation kept in FinalObs.
//
// # Example
//
// The training loop (package train) is, per iteration: fill a Rollout by
// alternating Learner.Act and Vec.Step, record rewards, end flags and final
// observations, then call Learner.Update; see Learner's documentation.
package agents
