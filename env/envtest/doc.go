// Package envtest checks that an env.Env keeps the env contract, like
// Gymnasium's env checker or testing/fstest: call Check from any package's
// tests with a factory that builds a fresh env.
//
//	func TestMyWrapperConforms(t *testing.T) {
//		envtest.Check(t, func() (env.Env, error) { return wrap.New(base(), cfg) }, envtest.Options{
//			Panel:     p,
//			FromPanel: func(p *market.Panel) (env.Env, error) { return buildFrom(p) },
//		})
//	}
//
// Check runs one subtest per property (Run returns the same findings as
// values, for tests of the checker itself):
//
//   - spec: spaces have consistent shapes and bounds; the layout length is
//     the observation length.
//   - step-before-reset: Step on a fresh env panics or returns an error
//     (env.Env documents a panic).
//   - spaces: over a random rollout with resets, every observation lies in
//     the observation space and is finite; rewards are finite; Info values
//     are finite with a positive portfolio value and weights on the simplex;
//     turnover, fees and slippage are non-negative.
//   - determinism: the same seeds and actions give bitwise-identical
//     observations, rewards, flags and infos, on a fresh env and on a reused
//     one (Reset must clear all episode state).
//   - seeds: different seeds give different trajectories (skip with
//     Options.SeedInsensitive for an env that ignores its seed).
//   - action-retention: scribbling over an action slice after Step does not
//     change later steps (the env copies what it needs).
//   - obs-aliasing: scribbling over the observation and info buffers after
//     Reset or Step does not change later steps (the env keeps no state in
//     caller buffers).
//   - allocs: Step allocates nothing (measured around Step calls only, with
//     GOMAXPROCS 1 like testing.AllocsPerRun; the best of three measurements
//     counts, since the counters are process-wide).
//   - close: Close twice returns nil both times.
//   - state: for envs implementing encoding.BinaryMarshaler and
//     BinaryUnmarshaler (unless Options.NoState), a state saved mid-episode
//     after several autoresets, restored into a fresh env and into one with
//     a history of its own, continues bit for bit under the same actions
//     and reset seeds; a restored state re-encodes to the same bytes; and
//     truncated, empty or mis-tagged data is refused without changing the
//     env.
//   - lookahead: for envs built from a panel (Options.Panel and FromPanel),
//     a reference rollout is compared with rollouts on copies of the panel
//     whose bars after a cut bar c are replaced by a different random path
//     (prices, ranges and volumes of every asset). Every observation, info,
//     reward and flag up to and including the observation of the decision at
//     c must be bitwise identical; the reward of the decision at c itself may
//     change, since it earns the move to c+1. Cuts are taken at the start
//     bar and across the episode. A leak of any field of any later bar into
//     an observation, info or reward up to c makes the probe fail (see the
//     tests with deliberately leaky envs). The env's start must not depend on
//     data after the start: build the probe's envs with random starts that
//     depend only on the seed (e.g. no regime restriction computed from the
//     panel), or the probe reports the changed start.
//
// RandomPanel and Features build reproducible synthetic panels and causal
// feature sets for tests (of this package, of env, of wrappers and
// guards), so tests need no data files.
//
// Actions are drawn at random from the action space (Simplex: vertices,
// the centre and Dirichlet(1) points; Box: uniform within finite bounds,
// normal with scale 2 otherwise) unless Options.Action supplies a policy.
// All randomness derives from Options.Seed through internal/seed.
//
// envtest imports env, env/market and internal/seed; it must not import
// agents, nets, train or eval.
package envtest
