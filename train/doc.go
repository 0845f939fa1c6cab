// Package train is the training loop of the gradient learners (agents/ppo,
// agents/ddpg): it collects rollouts from an env.Vec, calls the learner's
// update, validates periodically and keeps the best model, writes metrics,
// checkpoints and a speed summary, shows a progress bar, and stops cleanly
// on cancellation. It knows the learners only through agents.Learner and
// imports neither nets nor an algorithm package.
//
// # The loop
//
// Run repeats iterations until the budget (Config.TotalSteps, in env steps
// summed over the envs) is spent: one rollout of the learner's shape
// (envs × steps: a whole PPO rollout, or DDPG's train_freq steps, so DDPG
// updates on every env step after its warm-up), then Learner.Update, then
// validation when due, logging when due, hooks and, when due, a checkpoint.
// Randomness comes from Options.Seed through internal/seed streams (action
// sampling, update randomness, env resets); the same seed gives
// bit-identical weights and metrics logs for any number of env workers.
//
// # Validation and the best model
//
// With Options.Validate and Config.EvalEvery > 0, Run scores the policy at
// the first iteration boundary past each multiple of EvalEvery env steps
// and after the last iteration, and keeps the model with the highest
// score. The score is whatever the Validator returns; folio's experiments
// (experiments.trainAgent) return the annualised Sharpe ratio (mean over
// sample standard deviation of the per-bar simple returns, zero risk-free
// rate, times √bars-per-year: eval.Sharpe) of a deterministic backtest of
// the policy over the validation bars (the last walkforward.validation
// bars of the training window), starting from cash, at the configured
// costs, behind the guard and the observation statistics of that moment.
// A NaN score (fewer than two bars, or no variation: a policy holding cash
// on a flat window) or an infinite one (returns without dispersion) is
// recorded in the log but never selects a model, so a window too short to
// measure cannot pick a model at random. When no score is finite the final
// model is kept (Result.Selected "final").
//
// A kept model is its weights (Learner.SaveWeights) together with the
// observation statistics it was validated through (Options.ObsStats, taken
// at the same moment): the best pair is held in memory and in the
// checkpoint, written as best.model and best.obsstats, and restored
// (weights into the learner, statistics into Result.ObsStats) when Run
// returns, so a backtest of the returned model sees observations exactly
// as its validation did.
//
// # Metrics
//
// At each logged iteration (the first iteration boundary past each
// multiple of Config.LogEvery env steps, every iteration that ran the
// validation, and the last iteration) Run records, at the global env-step
// count, the learner's "train/…" metrics of that iteration's update and:
//
//   - rollout/episodes: the number of episodes that finished since the
//     previous logged iteration;
//   - rollout/ep_return_mean, rollout/ep_len_mean: the mean return (sum of
//     the env's rewards, after any reward wrappers) and mean length in env
//     steps of those episodes, null if none finished. Every finished
//     episode is counted in exactly one log line; the running window is
//     part of the checkpoint, so a resumed run logs what an uninterrupted
//     one would;
//   - rollout/reward_mean: the mean reward of the iteration's rollout;
//   - eval/score, when validation ran in the iteration (always logged;
//     null for a NaN or infinite score);
//   - perf/steps_per_sec: env steps per wall second since Run started (a
//     reproducible JSONLines sink drops it, and every other "perf/" key).
//
// # Run directory
//
// With Options.Dir set, Run writes there, each file atomically:
//
//   - checkpoint.bin: the full training state (loop counters, RNG streams,
//     running episodes and log window, current observations, the best
//     model's weights and observation statistics, the learner's full
//     state — weights, optimiser moments, counters, DDPG's noise state and
//     replay buffer — and the env state), at the end, on a hook's ErrStop,
//     on interruption and every Config.CheckpointSeconds of wall time. It
//     is the only file that holds optimiser state or a replay buffer;
//   - best.model and final.model: model files (Learner.SaveWeights: the
//     network weights only, in nets' checkpoint format marked
//     weights-only) of the best validation score and at the end; with
//     Options.ObsStats also best.obsstats and final.obsstats, the
//     observation statistics each model acts through;
//   - perf.json: the speed of this call of Run, written at the end and on
//     interruption; wall-clock numbers, so not part of the reproducible
//     results. Keys: steps, iterations, episodes (the run's totals so
//     far, over all sessions), session_steps (env steps taken by this
//     call: fewer than steps after a resume), wall_seconds (this call's
//     loop), steps_per_sec (session_steps / wall_seconds), envs, workers
//     (train.workers capped at envs), gomaxprocs, num_cpu, resumed and
//     interrupted.
//
// # Interruption and resume
//
// Cancellation of Run's context is acted on at iteration boundaries. The
// iteration in flight runs to its end (its rollout, its update, and its
// validation when one is due; the learner is handed a context without the
// cancellation, so one update, never more, finishes), then Run writes a
// checkpoint at that boundary and perf.json, and returns an error wrapping
// context.Canceled (or the context's other error). Run with
// Options.Resume over freshly built envs and learner continues from the
// checkpoint to the same final weights, metrics log and counters as an
// uninterrupted run. A checkpoint written by another configuration
// (Options.ConfigHash), learner, number of envs or format version is
// refused with an error wrapping ErrCheckpoint.
package train
