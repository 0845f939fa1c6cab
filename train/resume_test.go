package train_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/wrap"
	"github.com/folio-rl/folio/train"
)

// rsLearner is a deterministic fake learner for the resume test. It acts
// with random allocations drawn from the caller's rng and tilted by the
// observation's weights block, and its "training" folds everything it is
// shown — every observation, action, reward, end flag, final and next
// observation of each rollout, and a draw from the update rng — into a
// checksum. Save/Load hold the update counter and the checksum, so two runs
// end in the same state only if they saw bit-identical rollouts.
type rsLearner struct {
	envs, steps, obsDim, n1, wOff int
	count                         uint64
	sum                           uint64
	// during, if set, runs in the middle of each Update with the update's
	// number (1-based); the update then observes ctx as a real learner
	// does between gradient steps, abandoning itself on cancellation.
	during func(n uint64)
}

func (l *rsLearner) Name() string { return "fake" }

func (l *rsLearner) NewRollout() *agents.Rollout {
	return agents.NewRollout(l.envs, l.steps, l.obsDim, l.n1, l.n1)
}

func (l *rsLearner) Act(dst agents.Actions, obs []float64, rng *rand.Rand, _ agents.Mode) error {
	for b := range l.envs {
		w := dst.Weights[b*l.n1 : (b+1)*l.n1]
		o := obs[b*l.obsDim+l.wOff : b*l.obsDim+l.wOff+l.n1]
		s := 0.0
		for i := range w {
			w[i] = rng.ExpFloat64() + o[i]
			s += w[i]
		}
		for i := range w {
			w[i] /= s
		}
		if dst.Raw != nil {
			copy(dst.Raw[b*l.n1:(b+1)*l.n1], w)
		}
	}
	return nil
}

type rsStats struct{ count, sum uint64 }

func (s rsStats) AppendMetrics(dst []agents.Metric) []agents.Metric {
	return append(dst, agents.Metric{Key: "train/updates", Value: float64(s.count)},
		agents.Metric{Key: "train/checksum", Value: float64(s.sum >> 11)}) // 53 bits: exact in a float64
}

func (l *rsLearner) Update(ctx context.Context, r *agents.Rollout, rng *rand.Rand) (agents.Stats, error) {
	h := fnv.New64a()
	var buf [8]byte
	put := func(x float64) {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(x))
		h.Write(buf[:])
	}
	binary.LittleEndian.PutUint64(buf[:], l.sum^rng.Uint64())
	h.Write(buf[:])
	for _, xs := range [][]float64{r.Obs, r.Weights, r.Raw, r.Reward, r.NextObs} {
		for _, x := range xs {
			put(x)
		}
	}
	for k := range r.Len() {
		var f float64
		if r.Terminated[k] {
			f += 1
		}
		if r.Truncated[k] {
			f += 2
		}
		put(f)
		if r.Done(k) {
			for _, x := range r.NextObsOf(k) {
				put(x)
			}
		}
	}
	if l.during != nil {
		l.during(l.count + 1)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fake: update: %w", err)
		}
	}
	l.count++
	l.sum = h.Sum64()
	return rsStats{l.count, l.sum}, nil
}

func (l *rsLearner) Policy() agents.Policy { return nil }

func (l *rsLearner) Save(w io.Writer) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], l.count)
	binary.LittleEndian.PutUint64(b[8:], l.sum)
	_, err := w.Write(b[:])
	return err
}

func (l *rsLearner) Load(r io.Reader) error {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	l.count, l.sum = binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
	return nil
}

// SaveWeights and LoadWeights treat the whole (tiny) state as weights.
func (l *rsLearner) SaveWeights(w io.Writer) error { return l.Save(w) }

func (l *rsLearner) LoadWeights(r io.Reader) error { return l.Load(r) }

// rsWorld is the data every run rebuilds its envs from.
type rsWorld struct {
	p  *market.Panel
	fs *features.Set
}

// vec builds, from scratch, a Vec of 4 full training stacks (market →
// guard with breaker, vol cap and turnover limit → time limit → monitor →
// reward scaling → observation normalisation) stepped by 2 workers.
func (w rsWorld) vec(t *testing.T) *env.Vec {
	t.Helper()
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen = 5, 0
	cfg.Reward = env.RewardDifferentialSharpe
	gcfg := guard.Defaults()
	gcfg.MaxWeight, gcfg.MaxTurnover = 0.6, 0.7
	gcfg.DrawdownLimit, gcfg.DrawdownGross, gcfg.DrawdownCooldown = 0.05, 0.3, 4
	gcfg.VolTarget, gcfg.VolWindow = 0.6, 20
	envs := make([]env.Env, 4)
	for b := range envs {
		m, err := env.New(w.p, w.fs, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		g, err := guard.New(m, gcfg)
		if err != nil {
			t.Fatal(err)
		}
		tl, _ := wrap.NewTimeLimit(g, 13)
		mon, _ := wrap.NewMonitor(tl, 4)
		rs, _ := wrap.NewRewardScale(mon, wrap.RewardScaleDefaults())
		on, err := wrap.NewObsNorm(rs, wrap.ObsNormDefaults())
		if err != nil {
			t.Fatal(err)
		}
		envs[b] = on
	}
	v, err := env.NewVec(envs, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func (w rsWorld) learner(v *env.Vec) *rsLearner {
	spec := v.Spec()
	return &rsLearner{envs: v.Len(), steps: 10, obsDim: spec.Observation.Len(), n1: len(spec.Assets) + 1, wOff: spec.Layout.WeightsOffset}
}

// rsHook cancels the run's context, or asks it to stop, after iteration at.
type rsHook struct {
	at     int
	cancel context.CancelFunc // nil: return train.ErrStop
}

func (h *rsHook) Iteration(it train.Iteration) error {
	if it.Index != h.at {
		return nil
	}
	if h.cancel != nil {
		h.cancel()
		return nil
	}
	return train.ErrStop
}

// rsOutcome is what must be equal between an uninterrupted run and an
// interrupted-then-resumed one.
type rsOutcome struct {
	count, sum uint64
	vec        []byte
	log        string
	res        train.Result
}

// TestResumeMatchesUninterrupted: train.Run interrupted after a few
// iterations — by cancelling its context, or by a hook's ErrStop — and run
// again with Options.Resume over freshly built envs and a fresh learner ends
// in exactly the state of an uninterrupted run: learner state, the Vec's
// saved state (every env of every stack, the reset streams), the metrics
// log (which holds the per-iteration checksum of the rollouts) and the
// counters. The checkpoint is taken mid-episode (episodes of 13 steps,
// iterations of 10). Cancelling in the middle of an update (the fake
// learner abandons an update whose context is cancelled, as PPO and DDPG
// do) still ends at that update's iteration boundary with a checkpoint.
func TestResumeMatchesUninterrupted(t *testing.T) {
	p := envtest.RandomPanel(400, 3, 31)
	w := rsWorld{p: p, fs: envtest.Features(p)}
	cfg := train.Defaults()
	cfg.TotalSteps = 9 * 4 * 10
	cfg.CheckpointSeconds, cfg.LogEvery = 0, 1 // checkpoints only on interruption; a log line per iteration
	const seedv = 2024

	run := func(ctx context.Context, dir string, resume bool, hooks []train.Hook, log *bytes.Buffer, during func(uint64)) (*train.Result, *rsLearner, *env.Vec, error) {
		v := w.vec(t)
		l := w.learner(v)
		l.during = during
		res, err := train.Run(ctx, l, v, cfg, train.Options{Seed: seedv, Dir: dir, Resume: resume, ConfigHash: "h",
			Metrics: train.NewJSONLines(log, true), Hooks: hooks})
		return res, l, v, err
	}
	outcome := func(res *train.Result, l *rsLearner, v *env.Vec, log string) rsOutcome {
		b, err := v.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		r := *res
		r.Duration, r.StepsPerS = 0, 0 // wall clock
		if math.IsNaN(r.BestScore) {
			r.BestScore = -1 // no validation; NaN would never compare equal
		}
		return rsOutcome{count: l.count, sum: l.sum, vec: b, log: log, res: r}
	}

	var full bytes.Buffer
	res, l, v, err := run(context.Background(), t.TempDir(), false, nil, &full, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := outcome(res, l, v, full.String())
	if want.res.Iterations != 9 || want.count != 9 || want.res.Episodes == 0 {
		t.Fatalf("uninterrupted run: %+v, %d updates", want.res, want.count)
	}

	for _, how := range []string{"cancel", "cancel-in-update", "stop"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			var first, second bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var hooks []train.Hook
			var during func(uint64)
			switch how {
			case "cancel":
				hooks = []train.Hook{&rsHook{at: 5, cancel: cancel}}
			case "cancel-in-update":
				// Ctrl-C arrives in the middle of update 5: it must still
				// finish, and the checkpoint must be at its end.
				during = func(n uint64) {
					if n == 5 {
						cancel()
					}
				}
			case "stop":
				hooks = []train.Hook{&rsHook{at: 5}}
			}
			res, l, _, err := run(ctx, dir, false, hooks, &first, during)
			switch how {
			case "cancel", "cancel-in-update":
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("interrupted run returned %v, want context.Canceled", err)
				}
			case "stop":
				if err != nil || res.Iterations != 5 {
					t.Fatalf("stopped run: %v, %+v", err, res)
				}
			}
			if l.count != 5 {
				t.Fatalf("interrupted after %d updates, want 5", l.count)
			}
			if steps, ok, _ := train.CheckpointState(dir); !ok || steps != 5*4*10 {
				t.Fatalf("checkpoint at %d steps (%v), want %d", steps, ok, 5*4*10)
			}
			res, l, v, err = run(context.Background(), dir, true, nil, &second, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := outcome(res, l, v, first.String()+second.String())
			if got.count != want.count || got.sum != want.sum {
				t.Errorf("learner after resuming: %d updates, checksum %x; uninterrupted: %d, %x", got.count, got.sum, want.count, want.sum)
			}
			if got.log != want.log {
				t.Errorf("metrics differ:\nresumed\n%s\nuninterrupted\n%s", got.log, want.log)
			}
			if !bytes.Equal(got.vec, want.vec) {
				t.Error("the Vec's state differs from the uninterrupted run's")
			}
			if !reflect.DeepEqual(got.res, want.res) {
				t.Errorf("result %+v, uninterrupted %+v", got.res, want.res)
			}
		})
	}
}

// TestResumeRefusesOtherEnvs: a checkpoint restores only into envs built
// the same way; a Vec over another panel is refused with env.ErrState.
func TestResumeRefusesOtherEnvs(t *testing.T) {
	p := envtest.RandomPanel(400, 3, 31)
	w := rsWorld{p: p, fs: envtest.Features(p)}
	cfg := train.Defaults()
	cfg.TotalSteps = 2 * 4 * 10
	dir := t.TempDir()
	v := w.vec(t)
	if _, err := train.Run(context.Background(), w.learner(v), v, cfg, train.Options{Seed: 1, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	q := envtest.RandomPanel(400, 3, 32)
	other := rsWorld{p: q, fs: envtest.Features(q)}
	cfg.TotalSteps = 4 * 4 * 10
	v2 := other.vec(t)
	_, err := train.Run(context.Background(), other.learner(v2), v2, cfg, train.Options{Seed: 1, Dir: dir, Resume: true})
	if !errors.Is(err, env.ErrState) || !errors.Is(err, train.ErrCheckpoint) {
		t.Fatalf("resuming over another panel: %v, want train.ErrCheckpoint wrapping env.ErrState", err)
	}
	t.Log(fmt.Sprint(err))
}
