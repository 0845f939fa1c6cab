package train_test

// End-to-end training benchmarks on bench task v1 with the hyperparameters
// of the PyTorch references in ../shared/bench (ppo.py, ddpg.py; see its
// README), for the side-by-side comparison of training speed and learning
// quality. Run, for example,
//
//	go test ./train -run '^$' -bench BenchTask -benchtime 1x -timeout 60m
//	go test ./train -run '^$' -bench 'BenchTaskPPO/float32' -benchtime 1x -bt.ppo_steps 200704
//
// against
//
//	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 ppo.py --threads 1 --total-timesteps 40960
//	LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 ddpg.py --threads 2 --total-timesteps 3000
//
// Each iteration of b.Loop trains a fresh agent for the step budget
// through train.Run and reports:
//
//   - env-steps/s: env steps / wall seconds of train.Run (rollouts,
//     advantages and updates; the evaluations are outside, as in the
//     references' SPS);
//   - ep-return-first, ep-return-last: mean log return of the first and
//     last K training episodes (K = 40 for PPO, 5·num_envs as ppo.py; 8
//     for DDPG, as ddpg.py; the two sets overlap in runs of fewer than 2K
//     episodes, as the references' slices do), and bh-first, bh-last:
//     equal-weight buy-and-hold over the same episodes;
//   - eval-before, eval-after, eval-bh: mean episode log return of the
//     deterministic policy (the Gaussian's mean for PPO, the actor for
//     DDPG) on the 64 fixed starts of bench_env.evaluate, before and after
//     training, and of buy-and-hold on the same starts;
//   - cpu/wall: cores this process used; other-cores: cores used by other
//     processes during the run (from /proc/stat; our machines are shared,
//     and a busy neighbour slows two-goroutine training many-fold).
//
// The env is bench task v1 (env.BenchConfig) taking weights rather than
// logits: the learners send softmax(logits), which bench_env.py computes
// itself from the same logits. Configuration as the references: PPO does
// not bootstrap truncated
// episodes (bootstrap_truncated = false, CleanRL's simplification that
// ppo.py keeps) and, like ppo.py, normalises neither observations nor
// rewards (the bench env is used unwrapped); everything else is
// ppo.Defaults() and ddpg.Defaults(), which are the references'.

import (
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
	"github.com/folio-rl/folio/train"
)

var (
	btPPOSteps  = flag.Int("bt.ppo_steps", 40960, "BenchmarkBenchTaskPPO: env steps per training run (ppo.py default 200,000)")
	btDDPGSteps = flag.Int("bt.ddpg_steps", 3000, "BenchmarkBenchTaskDDPG: env steps per training run (ddpg.py default 20,000)")
	btSeed      = flag.Uint64("bt.seed", 1, "bench task benchmarks: root seed of the first training run (then +1 per run)")
)

// btEvalStarts are bench_env.evaluate's 64 fixed episode starts, in bench
// indices: numpy.random.default_rng(12345).integers(29, 19744, size=64)
// (W−1 = 29 to T−1−256 = 19743 inclusive), computed with numpy 1.24. The
// env's decision bar is the bench index + 1 (see env.NewBenchPanel). Their
// mean equal-weight buy-and-hold log return is 0.32850037 (numpy), which
// the benchmark checks.
var btEvalStarts = [64]int{13814, 4510, 15577, 6273, 4054, 15749, 12699, 13361, 19516, 7739, 16578, 6590, 11217, 11824,
	4231, 3710, 4546, 13292, 12123, 18596, 13950, 4923, 18066, 18736, 14468, 13183, 2604, 1919, 5279, 8739, 1456,
	17505, 9374, 13779, 4220, 6465, 2315, 14498, 15293, 4368, 14124, 1637, 7749, 3181, 14697, 6734, 9362, 9200,
	9404, 5281, 11030, 16112, 9860, 3839, 510, 2581, 1635, 1836, 2443, 11829, 15940, 16880, 12910, 11889}

const (
	btEvalBH     = 0.3285003722614664 // numpy: bench_env.evaluate(...)["bh"] on btEvalStarts
	btEpisodeLen = 256
	btFeeSlip    = 0.0025 + 0.001 // bench_env.py's buy-and-hold pays fee + slippage on turnover 1
)

// btTask is bench task v1's data: the panel and features for the env, and
// the price relatives (T×N) for buy-and-hold.
type btTask struct {
	dir   string
	rel   []float64
	n     int
	build func() (*env.Market, error)
}

func btLoad(b *testing.B) *btTask {
	b.Helper()
	dir := btSharedBench(b)
	path := filepath.Join(dir, "bench_prices.csv")
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	rel, names, err := env.ReadBenchPrices(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	p, fs, err := env.LoadBench(path)
	if err != nil {
		b.Fatal(err)
	}
	// train.Run sends the learner's weights (Actions.Weights, the softmax
	// of its logits) to the env, so the env takes weights; with the bench
	// config's logits the softmax would be applied twice. The task is the
	// same: bench_env.py's env softmaxes the same logits.
	cfg := env.BenchConfig()
	cfg.Action = env.ActionWeights
	return &btTask{dir: dir, rel: rel, n: len(names), build: func() (*env.Market, error) {
		return env.New(p, fs, nil, cfg)
	}}
}

// btSharedBench locates ../shared/bench from the module root, skipping the
// benchmark when it is absent.
func btSharedBench(b *testing.B) string {
	b.Helper()
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			b.Skip("bench task v1: module root not found")
		}
		dir = parent
	}
	bench := filepath.Join(dir, "..", "shared", "bench")
	if _, err := os.Stat(filepath.Join(bench, "bench_prices.csv")); err != nil {
		b.Skipf("bench task v1 data not available (%v): skipping", err)
	}
	return bench
}

// bh returns the equal-weight buy-and-hold log return of the episode that
// starts at bench index t0: log(1 − fee − slip) + log(mean_i Π_{s=t0+1}^{t0+256} X[s,i]).
func (t *btTask) bh(t0 int) float64 {
	var g float64
	for i := 0; i < t.n; i++ {
		p := 1.0
		for s := t0 + 1; s <= t0+btEpisodeLen; s++ {
			p *= t.rel[s*t.n+i]
		}
		g += p
	}
	return math.Log(1-btFeeSlip) + math.Log(g/float64(t.n))
}

// btEpisodes records every finished training episode of one env: its
// start (bench index) and return.
type btEpisodes struct {
	env.Env
	start int
	ret   float64
	log   *[]btEpisode
}

type btEpisode struct {
	start int
	ret   float64
}

func (e *btEpisodes) Reset(dst []float64, s uint64) (env.Info, error) {
	in, err := e.Env.Reset(dst, s)
	e.start, e.ret = in.Bar-1, 0
	return in, err
}

func (e *btEpisodes) Step(dst *env.StepResult, action []float64) error {
	if err := e.Env.Step(dst, action); err != nil {
		return err
	}
	e.ret += dst.Reward
	if dst.Terminated || dst.Truncated {
		*e.log = append(*e.log, btEpisode{e.start, e.ret})
	}
	return nil
}

// btEvaluate runs act deterministically on the 64 fixed starts for one
// episode each and returns the mean episode log return.
func (t *btTask) btEvaluate(b *testing.B, l agents.Learner) float64 {
	b.Helper()
	envs := make([]*env.Market, len(btEvalStarts))
	spec := env.Spec{}
	for i := range envs {
		m, err := t.build()
		if err != nil {
			b.Fatal(err)
		}
		envs[i] = m
		spec = m.Spec()
	}
	d, na := spec.Observation.Len(), spec.Action.Len()
	obs := make([]float64, len(envs)*d)
	for i, m := range envs {
		if _, err := m.ResetAt(obs[i*d:(i+1)*d], btEvalStarts[i]+1); err != nil {
			b.Fatal(err)
		}
	}
	w := make([]float64, len(envs)*na)
	res := env.NewStepResult(spec)
	var total float64
	for k := 0; k < btEpisodeLen; k++ {
		if err := l.Act(agents.Actions{Weights: w}, obs, nil, agents.Deterministic); err != nil {
			b.Fatal(err)
		}
		for i, m := range envs {
			if err := m.Step(res, w[i*na:(i+1)*na]); err != nil {
				b.Fatal(err)
			}
			total += res.Reward
			copy(obs[i*d:(i+1)*d], res.Obs)
			if done := res.Terminated || res.Truncated; done != (k == btEpisodeLen-1) {
				b.Fatalf("episode from %d ended at step %d", btEvalStarts[i], k)
			}
		}
	}
	return total / float64(len(envs))
}

// btUsage returns the CPU seconds of this process and the busy seconds of
// the whole machine (from /proc/stat; NaN where unavailable).
func btUsage() (own, busy float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	busy = math.NaN()
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return own, busy
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return own, busy
	}
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return own, busy
		}
		ticks += v
	}
	return own, ticks / 100 // USER_HZ is 100 on Linux
}

// btRun trains l on n envs for steps and reports the metrics listed at
// the top of the file; k is the number of first and last training
// episodes compared.
func (t *btTask) btRun(b *testing.B, name string, steps, k int, newLearner func(spec env.Spec, s uint64) (agents.Learner, error)) {
	b.Helper()
	runs := 0
	for b.Loop() {
		s := *btSeed + uint64(runs)
		runs++
		probe, err := t.build()
		if err != nil {
			b.Fatal(err)
		}
		l, err := newLearner(probe.Spec(), s)
		if err != nil {
			b.Fatal(err)
		}
		r := l.NewRollout()
		var episodes []btEpisode
		envs := make([]env.Env, r.Envs)
		for i := range envs {
			m, err := t.build()
			if err != nil {
				b.Fatal(err)
			}
			envs[i] = &btEpisodes{Env: m, log: &episodes}
		}
		vec, err := env.NewVec(envs, 1)
		if err != nil {
			b.Fatal(err)
		}
		before := t.btEvaluate(b, l)
		cfg := train.Defaults()
		cfg.TotalSteps = steps
		runtime.GC()
		own0, busy0 := btUsage()
		start := time.Now()
		res, err := train.Run(context.Background(), l, vec, cfg, train.Options{Seed: s})
		wall := time.Since(start).Seconds()
		own1, busy1 := btUsage()
		if err != nil {
			b.Fatal(err)
		}
		after := t.btEvaluate(b, l)
		if c, ok := l.(interface{ Close() error }); ok {
			c.Close()
		}
		vec.Close()
		if len(episodes) == 0 {
			b.Fatal("no training episode finished")
		}
		k := min(k, len(episodes)) // as numpy's episodes[:k], episodes[-k:] (they overlap when short)
		mean := func(es []btEpisode) (ret, bh float64) {
			for _, e := range es {
				ret += e.ret / float64(len(es))
				bh += t.bh(e.start) / float64(len(es))
			}
			return ret, bh
		}
		first, firstBH := mean(episodes[:k])
		last, lastBH := mean(episodes[len(episodes)-k:])
		var evalBH float64
		for _, s := range btEvalStarts {
			evalBH += t.bh(s) / float64(len(btEvalStarts))
		}
		if math.Abs(evalBH-btEvalBH) > 1e-12 {
			b.Fatalf("buy-and-hold on the evaluation starts %.15g, numpy %.15g", evalBH, btEvalBH)
		}
		b.ReportMetric(float64(res.Steps)/wall, "env-steps/s")
		b.ReportMetric(first, "ep-return-first")
		b.ReportMetric(last, "ep-return-last")
		b.ReportMetric(firstBH, "bh-first")
		b.ReportMetric(lastBH, "bh-last")
		b.ReportMetric(before, "eval-before")
		b.ReportMetric(after, "eval-after")
		b.ReportMetric(evalBH, "eval-bh")
		b.ReportMetric((own1-own0)/wall, "cpu/wall")
		b.ReportMetric(math.Max(0, (busy1-busy0-(own1-own0))/wall), "other-cores")
		b.Logf("%s seed %d: %d steps in %.1f s (%.0f env-steps/s); train episodes first %d %.4f (B&H %.4f), last %d %.4f (B&H %.4f); eval before %.4f after %.4f (B&H %.4f)",
			name, s, res.Steps, wall, float64(res.Steps)/wall, k, first, firstBH, k, last, lastBH, before, after, evalBH)
	}
}

// BenchmarkBenchTaskPPO trains PPO on bench task v1 with ppo.py's
// hyperparameters (ppo.Defaults: 8 envs × 256 steps, 10 epochs, 32
// minibatches of 64, 64-64 tanh actor and critic, Adam 3e-4 annealed,
// γ 0.99, λ 0.95, clip 0.2, vf 0.5, grad-norm 0.5) and no bootstrap at
// truncation, in each precision.
func BenchmarkBenchTaskPPO(b *testing.B) {
	t := btLoad(b)
	for _, prec := range []string{nets.PrecisionFloat64, nets.PrecisionFloat32} {
		b.Run(prec, func(b *testing.B) {
			t.btRun(b, "ppo/"+prec, *btPPOSteps, 40, func(spec env.Spec, s uint64) (agents.Learner, error) {
				c := ppo.Defaults()
				c.BootstrapTruncated = false
				c.Precision = prec
				return ppo.New(spec, c, seed.New(s, seed.Init, 0))
			})
		})
	}
}

// BenchmarkBenchTaskDDPG trains DDPG on bench task v1 with ddpg.py's
// hyperparameters (ddpg.Defaults: 256-256 ReLU actor and critic, batch
// 256, buffer 1e6, τ 0.005, Gaussian noise 0.1 on logits bounded by 5,
// 1000 warm-up steps, one update per env step), in each precision and
// with each critic action input: folio's default, the executed weights,
// and the reference's, the logits (critic_action = "logits").
func BenchmarkBenchTaskDDPG(b *testing.B) {
	t := btLoad(b)
	for _, prec := range []string{nets.PrecisionFloat64, nets.PrecisionFloat32} {
		for _, ca := range []string{ddpg.CriticWeights, ddpg.CriticLogits} {
			name := prec + "-" + ca
			b.Run(name, func(b *testing.B) {
				t.btRun(b, "ddpg/"+name, *btDDPGSteps, 8, func(spec env.Spec, s uint64) (agents.Learner, error) {
					c := ddpg.Defaults()
					c.Precision, c.CriticAction = prec, ca
					return ddpg.New(spec, c, seed.New(s, seed.Init, 0))
				})
			})
		}
	}
}
