package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
	"github.com/folio-rl/folio/train"
)

// agAlgo is a tiny configuration of one learner with its training budget.
type agAlgo struct {
	name  string
	steps int // train.Config.TotalSteps
	iters int // iterations that budget makes with 4 envs
	new   func(t *testing.T, v *env.Vec) agents.Learner
	// params returns every trainable number (for DDPG: actor and critic).
	params func(l agents.Learner) []float64
}

func agAlgos() []agAlgo {
	return []agAlgo{
		{name: "ppo", steps: 4 * 16 * 4, iters: 4,
			new: func(t *testing.T, v *env.Vec) agents.Learner {
				t.Helper()
				c := ppo.Defaults()
				c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = v.Len(), 16, 2, 2
				c.Hidden = []int{8}
				a, err := ppo.New(v.Spec(), c, seed.New(1, seed.Init, 0))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close() })
				return a
			},
			params: func(l agents.Learner) []float64 { return append([]float64(nil), l.(*ppo.Agent).Params()...) }},
		{name: "ddpg", steps: 4 * 30, iters: 30,
			new: func(t *testing.T, v *env.Vec) agents.Learner {
				t.Helper()
				c := ddpg.TD3()
				c.NumEnvs, c.BatchSize, c.BufferSize, c.LearningStarts = v.Len(), 8, 1000, 40
				c.Hidden = []int{8}
				c.Precision = nets.PrecisionFloat64
				a, err := ddpg.New(v.Spec(), c, seed.New(1, seed.Init, 0))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close() })
				return a
			},
			params: func(l agents.Learner) []float64 {
				a := l.(*ddpg.Agent)
				return append(append([]float64(nil), a.ActorParams()...), a.CriticParams()...)
			}},
	}
}

func sameBits(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestWorkersBitIdentical: PPO and DDPG (TD3 variant: twin critics,
// policy delay, target noise) trained with the same seed and 1 or 2 env
// workers end with bit-identical parameters and metrics logs.
func TestWorkersBitIdentical(t *testing.T) {
	for _, alg := range agAlgos() {
		t.Run(alg.name, func(t *testing.T) {
			var params [][]float64
			var logs []string
			for _, workers := range []int{1, 2} {
				v := agVec(t, 4, workers)
				l := alg.new(t, v)
				cfg := train.Defaults()
				cfg.TotalSteps, cfg.LogEvery, cfg.Workers = alg.steps, 1, workers
				var log bytes.Buffer
				res, err := train.Run(context.Background(), l, v, cfg, train.Options{Seed: 5, Metrics: train.NewJSONLines(&log, true)})
				if err != nil {
					t.Fatal(err)
				}
				if res.Iterations != alg.iters || res.Episodes == 0 {
					t.Fatalf("workers %d: %d iterations, %d episodes; want %d iterations and some episodes", workers, res.Iterations, res.Episodes, alg.iters)
				}
				params = append(params, alg.params(l))
				logs = append(logs, log.String())
			}
			if i := sameBits(params[0], params[1]); i >= 0 {
				t.Errorf("parameter %d differs between 1 and 2 workers", i)
			}
			if logs[0] != logs[1] {
				t.Errorf("metrics logs differ:\n1 worker\n%s\n2 workers\n%s", logs[0], logs[1])
			}
		})
	}
}

// agCancelIn wraps a learner and cancels the run's context at the start of
// its at-th update, as a Ctrl-C arriving mid-update would; the wrapped
// learner then runs its update with the context it is given, checking it
// between gradient steps (PPO between minibatches, DDPG between steps).
type agCancelIn struct {
	agents.Learner
	at, n  int
	cancel context.CancelFunc
}

func (c *agCancelIn) Update(ctx context.Context, r *agents.Rollout, rng *rand.Rand) (agents.Stats, error) {
	c.n++
	if c.n == c.at {
		c.cancel()
	}
	return c.Learner.Update(ctx, r, rng)
}

// TestInterruptedUpdateResumes: cancelling the context during PPO's or
// DDPG's update lets that update finish; the run returns an error
// wrapping context.Canceled with a checkpoint at the end of that
// iteration (and perf.json marked interrupted), and resuming from it ends
// with bit-identical parameters, metrics log and counters to an
// uninterrupted run.
func TestInterruptedUpdateResumes(t *testing.T) {
	for _, alg := range agAlgos() {
		t.Run(alg.name, func(t *testing.T) {
			at := alg.iters/2 + 1 // for DDPG, past the warm-up
			cfg := train.Defaults()
			cfg.TotalSteps, cfg.LogEvery, cfg.CheckpointSeconds = alg.steps, 1, 0
			run := func(ctx context.Context, dir string, resume bool, cancel context.CancelFunc) (agents.Learner, *train.Result, string, error) {
				v := agVec(t, 4, 1)
				l := alg.new(t, v)
				var run agents.Learner = l
				if cancel != nil {
					run = &agCancelIn{Learner: l, at: at, cancel: cancel}
				}
				var log bytes.Buffer
				res, err := train.Run(ctx, run, v, cfg, train.Options{Seed: 8, Dir: dir, Resume: resume, ConfigHash: "h",
					Metrics: train.NewJSONLines(&log, true)})
				return l, res, log.String(), err
			}
			lw, rw, want, err := run(context.Background(), t.TempDir(), false, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, _, first, err := run(ctx, dir, false, cancel)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run returned %v, want an error wrapping context.Canceled", err)
			}
			perIter := alg.steps / alg.iters
			if steps, ok, _ := train.CheckpointState(dir); !ok || steps != at*perIter {
				t.Fatalf("checkpoint at %d env steps (%v), want %d (the end of the interrupted update's iteration)", steps, ok, at*perIter)
			}
			if p := readPerf(t, dir); !p.Interrupted || p.Steps != at*perIter || p.Iterations != at {
				t.Errorf("perf.json after the interruption: %+v", p)
			}
			lr, rr, second, err := run(context.Background(), dir, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i := sameBits(alg.params(lr), alg.params(lw)); i >= 0 {
				t.Errorf("parameter %d after resuming differs from the uninterrupted run's", i)
			}
			if first+second != want {
				t.Errorf("metrics differ:\ninterrupted + resumed\n%s\nuninterrupted\n%s", first+second, want)
			}
			if rr.Iterations != rw.Iterations || rr.Steps != rw.Steps || rr.Episodes != rw.Episodes {
				t.Errorf("resumed result %+v, uninterrupted %+v", rr, rw)
			}
			if p := readPerf(t, dir); !p.Resumed || p.Interrupted || p.SessionSteps != alg.steps-at*perIter {
				t.Errorf("perf.json after resuming: %+v", p)
			}
		})
	}
}

// agPerf mirrors perf.json.
type agPerf struct {
	Steps        int     `json:"steps"`
	Iterations   int     `json:"iterations"`
	Episodes     int     `json:"episodes"`
	SessionSteps int     `json:"session_steps"`
	WallSeconds  float64 `json:"wall_seconds"`
	StepsPerSec  float64 `json:"steps_per_sec"`
	Envs         int     `json:"envs"`
	Workers      int     `json:"workers"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	NumCPU       int     `json:"num_cpu"`
	Resumed      bool    `json:"resumed"`
	Interrupted  bool    `json:"interrupted"`
}

func readPerf(t *testing.T, dir string) agPerf {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "perf.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p agPerf
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("perf.json: %v\n%s", err, b)
	}
	return p
}

// TestPerfJSON: a run with a directory leaves perf.json with the run's
// counts (equal to the Result's), a speed consistent with them
// (steps_per_sec = session_steps / wall_seconds, to rounding), the
// configured workers capped at the number of envs, and this process's
// GOMAXPROCS; a run without a directory writes nothing.
func TestPerfJSON(t *testing.T) {
	v := agVec(t, 2, 2)
	l := ttPPO(t, v, 3)
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.Workers = 3*2*16, 4
	dir := t.TempDir()
	res, err := train.Run(context.Background(), l, v, cfg, train.Options{Seed: 1, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p := readPerf(t, dir)
	if p.Steps != res.Steps || p.Iterations != res.Iterations || p.Episodes != res.Episodes || p.SessionSteps != res.Steps {
		t.Errorf("perf.json counts %+v, result %+v", p, res)
	}
	if p.Envs != 2 || p.Workers != 2 || p.GOMAXPROCS != runtime.GOMAXPROCS(0) || p.NumCPU != runtime.NumCPU() || p.Resumed || p.Interrupted {
		t.Errorf("perf.json settings %+v: want 2 envs, 2 workers (4 capped at 2), GOMAXPROCS %d", p, runtime.GOMAXPROCS(0))
	}
	// Both numbers are printed with Go's shortest round-trip formatting,
	// so the ratio is exact to a few ulps.
	if !(p.WallSeconds > 0) || !scalar.EqualWithinRel(p.StepsPerSec, float64(p.SessionSteps)/p.WallSeconds, 1e-12) {
		t.Errorf("steps_per_sec %v, session_steps / wall_seconds = %v / %v", p.StepsPerSec, p.SessionSteps, p.WallSeconds)
	}
	if !scalar.EqualWithinRel(p.StepsPerSec, res.StepsPerS, 1e-12) {
		t.Errorf("steps_per_sec %v, Result.StepsPerS %v", p.StepsPerSec, res.StepsPerS)
	}

	v2 := agVec(t, 2, 1)
	if _, err := train.Run(context.Background(), ttPPO(t, v2, 3), v2, cfg, train.Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("perf.json"); err == nil {
		t.Error("a run without a directory wrote perf.json into the working directory")
	}
}

// TestLearningRateAnnealed: through train.Run, PPO's update of iteration
// k (1-based) of K runs at learning_rate·(1 − (k−1)/K): the rollout's
// progress is the fraction of the budget spent before it. The logged
// train/learning_rate is compared with that closed form to 1e-12
// (one multiplication and one division apart). agents/ppo's
// TestAnnealedStepScales checks the optimiser applies that rate.
func TestLearningRateAnnealed(t *testing.T) {
	v := agVec(t, 2, 1)
	c := ppo.Defaults()
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 2, 16, 2, 1
	c.Hidden, c.LearningRate = []int{8}, 1e-3
	a, err := ppo.New(v.Spec(), c, seed.New(1, seed.Init, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const K = 5
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.LogEvery = K*2*16, 1
	var log bytes.Buffer
	if _, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 2, Metrics: train.NewJSONLines(&log, true)}); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&log)
	for k := 1; k <= K; k++ {
		var m map[string]float64
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line %d: %v", k, err)
		}
		want := 1e-3 * (1 - float64(k-1)/K)
		if got := m["train/learning_rate"]; !scalar.EqualWithinAbsOrRel(got, want, 1e-12, 1e-12) {
			t.Errorf("iteration %d: learning rate %v, want %v", k, got, want)
		}
	}
}
