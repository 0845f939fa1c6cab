package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/wrap"
	"github.com/folio-rl/folio/eval"
)

// TestNormalizerStack checks the wrappers normalize_obs and
// normalize_reward put around a training env: ObsNorm outside (where
// mergedStats finds it), RewardScale inside with the agent's γ. The scaled
// rewards are compared with an independently built RewardScale.
func TestNormalizerStack(t *testing.T) {
	p := envtest.RandomPanel(400, 3, 5)
	fs := envtest.Features(p)
	newMarket := func() env.Env {
		m, err := env.New(p, fs, nil, env.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := NewAgent("a", "ddpg")
	a.DDPG.Gamma = 0.9
	a.Train.NormalizeReward, a.Train.NormalizeObs = true, true
	got, err := normalizer(newMarket(), a)
	if err != nil {
		t.Fatal(err)
	}
	on, ok := got.(*wrap.ObsNorm)
	if !ok {
		t.Fatalf("outer wrapper %T, want *wrap.ObsNorm", got)
	}
	if _, ok := on.Unwrap().(*wrap.RewardScale); !ok {
		t.Fatalf("inner wrapper %T, want *wrap.RewardScale", on.Unwrap())
	}
	cfg := wrap.RewardScaleDefaults()
	cfg.Gamma = 0.9
	want, err := wrap.NewRewardScale(newMarket(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Gamma = 0.99
	other, err := wrap.NewRewardScale(newMarket(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := got.Spec()
	obs := make([]float64, spec.Observation.Len())
	// Two allocations, alternated: cash plus the three assets.
	acts := [][]float64{{0.1, 0.5, 0.2, 0.2}, {0.4, 0.1, 0.3, 0.2}}
	for _, e := range []env.Env{got, want, other} {
		if _, err := e.Reset(obs, 3); err != nil {
			t.Fatal(err)
		}
	}
	r1, r2, r3 := env.NewStepResult(spec), env.NewStepResult(spec), env.NewStepResult(spec)
	differs := false
	for k := 0; k < 60; k++ {
		act := acts[k%2]
		if err := got.Step(r1, act); err != nil {
			t.Fatal(err)
		}
		if err := want.Step(r2, act); err != nil {
			t.Fatal(err)
		}
		if err := other.Step(r3, act); err != nil {
			t.Fatal(err)
		}
		if r1.Reward != r2.Reward {
			t.Fatalf("step %d: reward %v, an independent RewardScale with γ = 0.9 gives %v", k, r1.Reward, r2.Reward)
		}
		differs = differs || r1.Reward != r3.Reward
		if r1.Terminated || r1.Truncated {
			break
		}
	}
	if !differs {
		t.Error("γ = 0.9 and γ = 0.99 scale rewards identically: the agent's γ is not used")
	}
	// Neither option: the env itself.
	a.Train.NormalizeReward, a.Train.NormalizeObs = false, false
	if e, _ := normalizer(newMarket(), a); e == nil {
		t.Fatal("nil env")
	} else if _, ok := e.(*env.Market); !ok {
		t.Errorf("no normalisation gives %T", e)
	}
}

// TestNormalizeRewardRun trains both agent types with normalize_reward and
// normalize_obs: the training logs differ from unscaled training, and an
// interrupted, resumed run gives the uninterrupted run's report and logs.
func TestNormalizeRewardRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	sets := []string{"agents.ppo.normalize_reward=true", "agents.ddpg.normalize_reward=true", "agents.ppo.normalize_obs=true"}
	base := t.TempDir()
	full := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(base, "full"), 1, sets...)
	plain := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(base, "plain"), 1)
	log := filepath.Join("seed-0", "fold-1", "ppo.train", metricsFile)
	scaled, _ := os.ReadFile(filepath.Join(full.Dir, log))
	raw, _ := os.ReadFile(filepath.Join(plain.Dir, log))
	if len(scaled) == 0 || bytes.Equal(scaled, raw) {
		t.Fatal("normalize_reward did not change what the learner saw")
	}

	c, err := Load("testdata/tiny_agents.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "cut")
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{n: 2, cancel: cancel, w: &bytes.Buffer{}}
	if _, err := Run(ctx, c, RunOptions{Out: dir, Stderr: w}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	res, err := Run(context.Background(), c, RunOptions{Resume: dir, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{eval.ReportJSON, filepath.Join("seed-0", "fold-1", "ddpg.train", metricsFile), log} {
		a, _ := os.ReadFile(filepath.Join(full.Dir, f))
		b, _ := os.ReadFile(filepath.Join(res.Dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the resumed run differs from the uninterrupted one", f)
		}
	}
}
