package train_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/train"
)

// epEnv is a fake env whose episodes are known: each Reset draws the
// episode length minLen + seed%5 and a reward bias from the reset seed;
// the reward of step k of an episode is bias + 0.01·k + 0.1·w₁ (w₁ the
// requested risky weight, so the learner's actions matter). Every episode
// that ends is appended to *log with the env's Step count at its end,
// which tells the iteration it ended in. One risky asset; the observation
// is [k/10, w₀, w₁].
type epEnv struct {
	id, minLen int
	k, length  int
	bias, ret  float64
	steps      int // Step calls over all episodes
	log        *[]epRecord
}

type epRecord struct {
	env, endStep, length int
	ret                  float64
}

func (e *epEnv) Spec() env.Spec {
	return env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{3}},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{2}},
		Assets:      []string{"X"},
		Window:      1,
		Layout:      env.Layout{Features: []string{"k"}, WeightsOffset: 1, GlobalOffset: 1, Len: 3},
	}
}

func (e *epEnv) Reset(dst []float64, seed uint64) (env.Info, error) {
	e.k, e.ret = 0, 0
	e.length = e.minLen + int(seed%5)
	e.bias = float64(seed%11)/8 - 0.6
	dst[0], dst[1], dst[2] = 0, 0.5, 0.5
	return env.Info{}, nil
}

func (e *epEnv) Step(dst *env.StepResult, action []float64) error {
	e.k++
	e.steps++
	r := e.bias + 0.01*float64(e.k) + 0.1*action[1]
	e.ret += r
	dst.Obs[0], dst.Obs[1], dst.Obs[2] = float64(e.k)/10, action[0], action[1]
	dst.Reward, dst.Terminated, dst.Truncated = r, false, e.k >= e.length
	if dst.Truncated && e.log != nil {
		*e.log = append(*e.log, epRecord{env: e.id, endStep: e.steps, length: e.k, ret: e.ret})
	}
	return nil
}

func (e *epEnv) Close() error { return nil }

func (e *epEnv) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 40)
	for _, v := range []uint64{uint64(e.k), uint64(e.length), math.Float64bits(e.bias), math.Float64bits(e.ret), uint64(e.steps)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b, nil
}

func (e *epEnv) UnmarshalBinary(b []byte) error {
	if len(b) != 40 {
		return fmt.Errorf("epEnv: state of %d bytes, want 40", len(b))
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	e.k, e.length, e.bias, e.ret, e.steps = int(u(0)), int(u(1)), math.Float64frombits(u(2)), math.Float64frombits(u(3)), int(u(4))
	return nil
}

// epVec builds a Vec of n epEnvs recording into log (nil: not recorded).
func epVec(t *testing.T, n, minLen, workers int, log *[]epRecord) *env.Vec {
	t.Helper()
	envs := make([]env.Env, n)
	for i := range envs {
		envs[i] = &epEnv{id: i, minLen: minLen, log: log}
	}
	v, err := env.NewVec(envs, workers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// epLine is one parsed metrics log line.
type epLine struct {
	step                int
	episodes            float64
	retMean, lenMean    float64 // NaN for null
	retNull, lenNull    bool
	updates             float64
	hasEpisodes, hasLen bool
}

func parseEpLog(t *testing.T, log string) []epLine {
	t.Helper()
	var out []epLine
	for _, s := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		num := func(k string) (float64, bool) {
			v, ok := m[k]
			if !ok {
				t.Fatalf("log line without %s: %s", k, s)
			}
			if v == nil {
				return math.NaN(), true
			}
			return v.(float64), false
		}
		var l epLine
		l.step = int(m["step"].(float64))
		l.episodes, _ = num("rollout/episodes")
		l.retMean, l.retNull = num("rollout/ep_return_mean")
		l.lenMean, l.lenNull = num("rollout/ep_len_mean")
		l.updates, _ = num("train/updates")
		out = append(out, l)
	}
	return out
}

// TestEpisodeWindow: every log line reports the count, mean return and
// mean length of exactly the episodes that ended since the previous log
// line, hand-computed from the env's own record of each episode (its
// return, length and the Step call it ended on); the counts add up to all
// episodes, so none is dropped or counted twice. With one-step
// iterations, a log line per iteration and long episodes (DDPG's
// situation) most windows are empty and log null means, and the next
// non-empty window still carries its episodes.
func TestEpisodeWindow(t *testing.T) {
	const tol = 1e-12 // sums of a few dozen float64 rewards in the same order
	for _, tc := range []struct {
		name                  string
		envs, steps, minLen   int
		totalSteps, logEvery  int
		wantSteps             []int // log-line steps, by hand from crossed()
		wantEmpty, wantFilled bool  // some window empty / some window with ≥ 2 episodes
	}{
		// 3 envs × 4 steps = 12 steps per iteration, 10 iterations; logs at
		// the first boundary past each multiple of 30 (36, 60, 96) and at
		// the end (120).
		{name: "ppo-like", envs: 3, steps: 4, minLen: 2, totalSteps: 120, logEvery: 30,
			wantSteps: []int{36, 60, 96, 120}, wantFilled: true},
		// 2 envs × 1 step, a log line per iteration, episodes of 6–10 steps.
		{name: "ddpg-like", envs: 2, steps: 1, minLen: 6, totalSteps: 100, logEvery: 1,
			wantSteps: seq(2, 100, 2), wantEmpty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var eps []epRecord
			v := epVec(t, tc.envs, tc.minLen, 1, &eps)
			spec := v.Spec()
			l := &rsLearner{envs: tc.envs, steps: tc.steps, obsDim: 3, n1: 2, wOff: spec.Layout.WeightsOffset}
			cfg := train.Defaults()
			cfg.TotalSteps, cfg.LogEvery = tc.totalSteps, tc.logEvery
			var log bytes.Buffer
			res, err := train.Run(context.Background(), l, v, cfg, train.Options{Seed: 7, Metrics: train.NewJSONLines(&log, true)})
			if err != nil {
				t.Fatal(err)
			}
			lines := parseEpLog(t, log.String())
			if len(lines) != len(tc.wantSteps) {
				t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(tc.wantSteps), log.String())
			}
			perIter := tc.envs * tc.steps
			counted, prevIter, empty, filled := 0, 0, false, false
			for i, ln := range lines {
				if ln.step != tc.wantSteps[i] {
					t.Fatalf("log line %d at step %d, want %d", i, ln.step, tc.wantSteps[i])
				}
				iter := ln.step / perIter
				// The window: episodes whose last Step call was in
				// iterations prevIter+1 … iter (env Step k is in iteration ⌈k/steps⌉).
				var n int
				var sumRet, sumLen float64
				for _, e := range eps {
					if it := (e.endStep + tc.steps - 1) / tc.steps; it > prevIter && it <= iter {
						n++
						sumRet += e.ret
						sumLen += float64(e.length)
					}
				}
				if ln.episodes != float64(n) {
					t.Errorf("step %d: rollout/episodes = %v, the envs ended %d episodes in iterations %d–%d", ln.step, ln.episodes, n, prevIter+1, iter)
				}
				if n == 0 {
					empty = true
					if !ln.retNull || !ln.lenNull {
						t.Errorf("step %d: no episode ended but the means are %v, %v (want null)", ln.step, ln.retMean, ln.lenMean)
					}
				} else {
					filled = filled || n >= 2
					wantRet, wantLen := sumRet/float64(n), sumLen/float64(n)
					if ln.retNull || !scalar.EqualWithinAbsOrRel(ln.retMean, wantRet, tol, tol) {
						t.Errorf("step %d: ep_return_mean = %v, hand-computed %v over %d episodes", ln.step, ln.retMean, wantRet, n)
					}
					if ln.lenNull || !scalar.EqualWithinAbsOrRel(ln.lenMean, wantLen, tol, tol) {
						t.Errorf("step %d: ep_len_mean = %v, hand-computed %v", ln.step, ln.lenMean, wantLen)
					}
				}
				counted += n
				prevIter = iter
			}
			var logged float64
			for _, ln := range lines {
				logged += ln.episodes
			}
			if int(logged) != len(eps) || counted != len(eps) || res.Episodes != len(eps) {
				t.Errorf("episodes: %v logged, %d in the windows, %d in the result, %d ended in the envs", logged, counted, res.Episodes, len(eps))
			}
			if len(eps) < 8 || (tc.wantFilled && !filled) || (tc.wantEmpty && !empty) {
				t.Fatalf("vacuous case: %d episodes, a window with ≥ 2: %v, an empty window: %v", len(eps), filled, empty)
			}
		})
	}
}

func seq(from, to, by int) []int {
	var s []int
	for v := from; v <= to; v += by {
		s = append(s, v)
	}
	return s
}

// TestEpisodeWindowResume: interrupting inside a log window — by a
// cancel between iterations or during an update — and resuming gives the
// metrics log of an uninterrupted run byte for byte: the episodes of the
// window before the interruption are neither lost nor counted twice, and
// episodes running across the checkpoint keep their return and length.
func TestEpisodeWindowResume(t *testing.T) {
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.LogEvery, cfg.CheckpointSeconds = 120, 30, 0 // windows: iterations 1–3, 4–5, 6–8, 9–10
	run := func(ctx context.Context, dir string, resume bool, hooks []train.Hook, during func(uint64)) (string, *rsLearner, error) {
		v := epVec(t, 3, 2, 1, nil)
		l := &rsLearner{envs: 3, steps: 4, obsDim: 3, n1: 2, wOff: 1, during: during}
		var log bytes.Buffer
		_, err := train.Run(ctx, l, v, cfg, train.Options{Seed: 9, Dir: dir, Resume: resume, ConfigHash: "h",
			Metrics: train.NewJSONLines(&log, true), Hooks: hooks})
		return log.String(), l, err
	}
	want, wl, err := run(context.Background(), t.TempDir(), false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   int // iteration after which the run stops (inside a window)
	}{{"cancel", 4}, {"cancel-in-update", 7}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var hooks []train.Hook
			var during func(uint64)
			if tc.name == "cancel" {
				hooks = []train.Hook{&rsHook{at: tc.at, cancel: cancel}}
			} else {
				during = func(n uint64) {
					if int(n) == tc.at {
						cancel()
					}
				}
			}
			first, _, err := run(ctx, dir, false, hooks, during)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v", err)
			}
			if steps, ok, _ := train.CheckpointState(dir); !ok || steps != tc.at*12 {
				t.Fatalf("checkpoint at %d steps (%v), want %d", steps, ok, tc.at*12)
			}
			second, l, err := run(context.Background(), dir, true, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := first + second; got != want {
				t.Errorf("metrics differ:\ninterrupted + resumed\n%s\nuninterrupted\n%s", got, want)
			}
			if l.sum != wl.sum {
				t.Error("the learner saw other rollouts after resuming")
			}
		})
	}
}
