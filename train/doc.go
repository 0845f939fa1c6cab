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
// # Metrics
//
// At each log boundary (the first iteration boundary past each multiple of
// Config.LogEvery env steps, and the last iteration) Run records, at the
// global env-step count, the learner's "train/…" metrics of that
// iteration's update and:
//
//   - rollout/episodes: the number of episodes that finished since the
//     previous log boundary;
//   - rollout/ep_return_mean, rollout/ep_len_mean: the mean return (sum of
//     the env's rewards, after any reward wrappers) and mean length in env
//     steps of those episodes, null if none finished. Every finished
//     episode is counted in exactly one log line; the running window is
//     part of the checkpoint, so a resumed run logs what an uninterrupted
//     one would;
//   - rollout/reward_mean: the mean reward of the iteration's rollout;
//   - eval/score, when validation ran in the iteration;
//   - perf/steps_per_sec: env steps per wall second since Run started (a
//     reproducible JSONLines sink drops it, and every other "perf/" key).
//
// # Run directory
//
// With Options.Dir set, Run writes there, each file atomically:
//
//   - checkpoint.bin: the full training state (loop counters, RNG streams,
//     running episodes and log window, current observations, best model,
//     learner state, env state), at the end, on a hook's ErrStop, on
//     interruption and every Config.CheckpointSeconds of wall time;
//   - best.model and final.model: the learner's state (agents' model
//     format) of the best validation score and at the end;
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
