package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/train"
)

// ttVec builds a Vec of n market envs over a small random panel.
func ttVec(t *testing.T, n int) *env.Vec {
	t.Helper()
	return agVec(t, n, 1)
}

// agVec builds a Vec of n market envs over a small random panel, stepped
// by workers goroutines.
func agVec(t *testing.T, n, workers int) *env.Vec {
	t.Helper()
	p := envtest.RandomPanel(300, 3, 11)
	fs := envtest.Features(p)
	cfg := env.Defaults()
	cfg.Window = 4
	cfg.EpisodeLen = 24
	cfg.Costs.Slippage = env.SlipSpread
	envs := make([]env.Env, n)
	for i := range envs {
		m, err := env.New(p, fs, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		envs[i] = m
	}
	v, err := env.NewVec(envs, workers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func ttPPO(t *testing.T, v *env.Vec, s uint64) *ppo.Agent {
	t.Helper()
	c := ppo.Defaults()
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = v.Len(), 16, 2, 2
	c.Hidden = []int{8}
	a, err := ppo.New(v.Spec(), c, seed.New(s, seed.Init, 0))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*train.Config)
		key  string
	}{
		{"steps", func(c *train.Config) { c.TotalSteps = 0 }, "total_steps"},
		{"eval", func(c *train.Config) { c.EvalEvery = -1 }, "eval_every"},
		{"checkpoint", func(c *train.Config) { c.CheckpointSeconds = -2 }, "checkpoint_seconds"},
		{"log", func(c *train.Config) { c.LogEvery = 0 }, "log_every"},
		{"workers", func(c *train.Config) { c.Workers = 0 }, "workers"},
	} {
		cfg := train.Defaults()
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: error %v does not name %s", c.name, err, c.key)
		}
	}
	d := train.Defaults()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestRunDeterministic: the same seed gives bit-identical weights and
// metrics; another seed gives different weights.
func TestRunDeterministic(t *testing.T) {
	run := func(s uint64) ([]float64, string) {
		v := ttVec(t, 2)
		a := ttPPO(t, v, 1)
		var log bytes.Buffer
		sink := train.NewJSONLines(&log, true)
		cfg := train.Defaults()
		cfg.TotalSteps, cfg.LogEvery = 4*2*16, 1
		res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: s, Metrics: sink})
		if err != nil {
			t.Fatal(err)
		}
		if res.Iterations != 4 || res.Steps != 128 {
			t.Fatalf("ran %d iterations, %d steps; want 4, 128", res.Iterations, res.Steps)
		}
		return append([]float64(nil), a.Params()...), log.String()
	}
	w1, l1 := run(5)
	w2, l2 := run(5)
	w3, _ := run(6)
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatalf("weights differ at %d with the same seed", i)
		}
	}
	if l1 != l2 {
		t.Error("metrics logs differ with the same seed")
	}
	same := true
	for i := range w1 {
		same = same && w1[i] == w3[i]
	}
	if same {
		t.Error("another seed gave identical weights")
	}
	// Every line is a JSON object with a step and namespaced keys; the
	// reproducible log has no wall-clock keys.
	for _, line := range strings.Split(strings.TrimSpace(l1), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if _, ok := m["step"]; !ok {
			t.Errorf("line without step: %s", line)
		}
		for k := range m {
			if strings.HasPrefix(k, "perf/") {
				t.Errorf("reproducible log has %s", k)
			}
		}
		if _, ok := m["train/policy_loss"]; !ok {
			t.Errorf("line without train/policy_loss: %s", line)
		}
	}
}

// TestValidationKeepsBest: with a validator that scores iterations 1..4 as
// 1, 3, 2, 0, training ends holding iteration 2's model.
func TestValidationKeepsBest(t *testing.T) {
	v := ttVec(t, 2)
	a := ttPPO(t, v, 2)
	scores := []float64{1, 3, 2, 0}
	var snapshots [][]float64
	calls := 0
	validate := func(ctx context.Context, p agents.Policy) (float64, error) {
		snapshots = append(snapshots, append([]float64(nil), a.Params()...))
		s := scores[calls]
		calls++
		return s, nil
	}
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.EvalEvery = 4*2*16, 2*16
	dir := t.TempDir()
	res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Validate: validate, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.BestIter != 2 || res.BestScore != 3 || res.Selected != "best" {
		t.Fatalf("best %d (%v), selected %s; want iteration 2, score 3, best", res.BestIter, res.BestScore, res.Selected)
	}
	got := a.Params()
	for i := range got {
		if got[i] != snapshots[1][i] {
			t.Fatalf("learner holds another model than iteration 2's (index %d)", i)
		}
	}
	for _, f := range []string{"best.model", "final.model"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

type ttStopAfter struct{ n int }

func (s *ttStopAfter) Iteration(it train.Iteration) error {
	if it.Index >= s.n {
		return train.ErrStop
	}
	return nil
}

func TestHookStops(t *testing.T) {
	v := ttVec(t, 2)
	a := ttPPO(t, v, 2)
	cfg := train.Defaults()
	cfg.TotalSteps = 10 * 2 * 16
	res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Hooks: []train.Hook{&ttStopAfter{3}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 3 {
		t.Errorf("stopped after %d iterations, want 3", res.Iterations)
	}
}

func TestMismatchedLearner(t *testing.T) {
	v := ttVec(t, 2)
	other := ttVec(t, 3)
	a := ttPPO(t, other, 2)
	_, err := train.Run(context.Background(), a, v, train.Defaults(), train.Options{Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "envs") {
		t.Errorf("learner for 3 envs on a vec of 2: %v", err)
	}
}

func TestTruncateJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.jsonl")
	os.WriteFile(path, []byte(`{"step":10,"a":1}`+"\n"+`{"step":20,"a":2}`+"\n"+`{"step":30,"a":3}`+"\n"+`{"step":40,"a`), 0o644)
	if err := train.TruncateJSONLines(path, 20); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != `{"step":10,"a":1}`+"\n"+`{"step":20,"a":2}`+"\n" {
		t.Errorf("truncated log %q", b)
	}
	if err := train.TruncateJSONLines(filepath.Join(t.TempDir(), "none"), 5); err != nil {
		t.Errorf("missing file: %v", err)
	}
}

func TestJSONLinesNonFinite(t *testing.T) {
	var b bytes.Buffer
	s := train.NewJSONLines(&b, false)
	s.Record(5, "b", math.NaN())
	s.Record(5, "a", 1.5)
	s.Record(5, "perf/steps_per_sec", 100)
	s.Record(7, "a", math.Inf(1))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{"step":5,"a":1.5,"b":null,"perf/steps_per_sec":100}` + "\n" + `{"step":7,"a":null}` + "\n"
	if b.String() != want {
		t.Errorf("log\n%s\nwant\n%s", b.String(), want)
	}
}

func TestDivergedError(t *testing.T) {
	e := &train.DivergedError{Iteration: 3, Metric: "policy loss", Value: math.NaN()}
	var de *train.DivergedError
	if !errors.As(error(e), &de) || !strings.Contains(e.Error(), "iteration 3") {
		t.Errorf("DivergedError: %v", e)
	}
}
