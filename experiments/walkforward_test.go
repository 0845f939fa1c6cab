package experiments

import (
	"context"
	"encoding/json"
	"github.com/folio-rl/folio/env"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/seed"
)

// ppoOnlyTiny writes testdata/tiny_agents.toml without its DDPG agent into
// a temporary directory and returns the file (one agent keeps the test
// short; the warm start is the same code for both types).
func ppoOnlyTiny(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("testdata/tiny_agents.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	i := strings.Index(text, "[agents.ddpg]")
	j := strings.Index(text, "[baselines]")
	if i < 0 || j < i {
		t.Fatal("testdata/tiny_agents.toml no longer has [agents.ddpg] before [baselines]; update this test")
	}
	file := filepath.Join(t.TempDir(), "tiny_ppo.toml")
	if err := os.WriteFile(file, []byte(text[:i]+text[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// foldPolicyOutputs loads the final model of every fold of the run's first
// seed for agent "ppo" and returns its deterministic actions on the same
// fixed observations (one row of weights per observation, all folds
// concatenated per fold).
func foldPolicyOutputs(t *testing.T, c *Config, dir string, folds int) [][]float64 {
	t.Helper()
	spec := testSpec(t, c)
	var a *Agent
	for _, x := range c.Agents {
		if x.Name == "ppo" {
			a = x
		}
	}
	if a == nil {
		t.Fatal("no agent ppo")
	}
	// Fixed observations: standard normal features, valid weights.
	rng := seed.New(5, seed.Test, 0)
	const nObs = 16
	n1 := len(spec.Assets) + 1
	obs := make([][]float64, nObs)
	for k := range obs {
		v := make([]float64, spec.Observation.Len())
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		w := v[spec.Layout.WeightsOffset : spec.Layout.WeightsOffset+n1]
		var s float64
		for i := range w {
			w[i] = rng.Float64()
			s += w[i]
		}
		for i := range w {
			w[i] /= s
		}
		obs[k] = v
	}
	out := make([][]float64, folds)
	for fi := range folds {
		l, err := newLearner(a, spec, seed.New(99, seed.Init, 0))
		if err != nil {
			t.Fatal(err)
		}
		model := filepath.Join(dir, "seed-0", "fold-"+strconv.Itoa(fi+1), "ppo.train", "final.model")
		if err := loadModel(l, model); err != nil {
			t.Fatalf("fold %d: %v", fi, err)
		}
		p := l.Policy()
		dst := make([]float64, n1)
		for _, v := range obs {
			o := &agents.Observation{Vector: v, Weights: v[spec.Layout.WeightsOffset : spec.Layout.WeightsOffset+n1]}
			if err := p.Act(dst, o, rng, agents.Deterministic); err != nil {
				t.Fatal(err)
			}
			out[fi] = append(out[fi], dst...)
		}
	}
	return out
}

func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestWalkForwardWarmStart: with walkforward.warm_start the second fold's
// agent starts from the first fold's final model (run.go trainAgent loads
// fold-1/ppo.train/final.model into the fresh learner). The learning rate
// is set to 1e-300, so training cannot move a weight by more than
// ~1e-300 (Adam's step is bounded by a small multiple of the learning
// rate) and a fold's final model is its initial model: warm-started, fold
// 2's final policy equals fold 1's (to 1e-12, far above the 1e-300 moves
// and far below the differences of two random initialisations); cold, it
// is the fold's own random initialisation and differs.
func TestWalkForwardWarmStart(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	file := ppoOnlyTiny(t)
	base := t.TempDir()
	sets := []string{"agents.ppo.learning_rate=1e-300", "agents.ppo.total_steps=256", "agents.ppo.eval_every=128"}
	outputs := map[bool][][]float64{}
	for _, warm := range []bool{true, false} {
		s := append([]string{"walkforward.warm_start=" + strconv.FormatBool(warm)}, sets...)
		c, err := Load(file, s)
		if err != nil {
			t.Fatal(err)
		}
		if c.WalkForward.WarmStart != warm || len(c.Agents) != 1 {
			t.Fatalf("config: warm_start %v, %d agents", c.WalkForward.WarmStart, len(c.Agents))
		}
		dir := filepath.Join(base, "warm-start-"+strconv.FormatBool(warm))
		res, err := Run(context.Background(), c, RunOptions{Out: dir, Jobs: 1, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		// Both folds really trained (two updates of 2 envs × 64 steps each).
		for _, s := range res.Report.Strategies {
			if s.Name == "ppo" && (len(s.Training) != 2 || s.Training[1].Steps != 256 || s.Training[1].Iterations != 2) {
				t.Fatalf("ppo training summaries %+v, want 2 folds of 256 steps in 2 iterations", s.Training)
			}
		}
		outputs[warm] = foldPolicyOutputs(t, c, dir, 2)
	}
	// same: deterministic float64 forward passes of equal weights, up to
	// 1e-300 perturbations. differ: the actor's output layer is initialised
	// with gain 0.01 (CleanRL), so a fresh policy is close to uniform and
	// two random initialisations differ by a few 1e-3 in weight (measured
	// 4.8e-3 here); 1e-4 separates that from equality with a wide margin.
	const same, differ = 1e-12, 1e-4
	warm, cold := outputs[true], outputs[false]
	dWarm, dCold := maxAbsDiff(warm[0], warm[1]), maxAbsDiff(cold[0], cold[1])
	t.Logf("max |fold 2 − fold 1| policy output: warm start %.3g, cold start %.3g", dWarm, dCold)
	if dWarm > same {
		t.Errorf("warm start: fold 2's policy differs from fold 1's final by %v (> %v): it did not start from fold 1's weights", dWarm, same)
	}
	if dCold < differ {
		t.Errorf("cold start: fold 2's policy equals fold 1's to %v: the test cannot tell a warm start from a cold one", dCold)
	}
	// Fold 1 is trained identically in both runs (nothing to warm-start from).
	if d := maxAbsDiff(warm[0], cold[0]); d > same {
		t.Errorf("fold 1 differs between the warm and cold runs by %v", d)
	}
}

// TestRunCPCV: with walkforward.cpcv_groups the runner runs combinatorial
// purged cross-validation and the report holds the CPCV section (φ paths
// per strategy) and the PBO.
func TestRunCPCV(t *testing.T) {
	const groups, testGroups = 6, 2
	c, err := Load("testdata/tiny.toml", []string{"walkforward.cpcv_groups=6", "walkforward.cpcv_test_groups=2"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), c, RunOptions{Out: filepath.Join(t.TempDir(), "run"), Jobs: 1, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	// C(6, 2) = 15 splits, each with a saved result per strategy; φ =
	// C(5, 1) = 5 backtest paths.
	const splits, paths = 15, 5
	if (eval.CPCV{Groups: groups, TestGroups: testGroups}).NumSplits() != splits {
		t.Fatal("C(6, 2) is not 15")
	}
	dirs, _ := filepath.Glob(filepath.Join(res.Dir, "seed-0", "cpcv", "split-*"))
	if len(dirs) != splits {
		t.Errorf("%d CPCV split directories, want C(%d, %d) = %d", len(dirs), groups, testGroups, splits)
	}
	for _, d := range dirs {
		for _, m := range c.Baselines.Methods {
			if _, err := os.Stat(filepath.Join(d, slugName(m)+".json")); err != nil {
				t.Errorf("split %s: %v", filepath.Base(d), err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, eval.ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		CPCV []struct {
			Name          string   `json:"name"`
			Paths         int      `json:"paths"`
			SharePositive *float64 `json:"share_positive"`
		} `json:"cpcv"`
		PBO *struct {
			PBO          *float64 `json:"pbo"`
			Combinations int      `json:"combinations"`
		} `json:"pbo"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	if len(js.CPCV) != len(c.Baselines.Methods) {
		t.Fatalf("report.json cpcv has %d strategies, want %d", len(js.CPCV), len(c.Baselines.Methods))
	}
	for i, s := range js.CPCV {
		if s.Name != c.Baselines.Methods[i] || s.Paths != paths || s.SharePositive == nil || *s.SharePositive < 0 || *s.SharePositive > 1 {
			t.Errorf("cpcv[%d] = %+v, want %s over φ = %d paths", i, s, c.Baselines.Methods[i], paths)
		}
	}
	if js.PBO == nil || js.PBO.PBO == nil || *js.PBO.PBO < 0 || *js.PBO.PBO > 1 || js.PBO.Combinations < 1 {
		t.Fatalf("report.json pbo = %+v, want a PBO in [0, 1]", js.PBO)
	}
	// The report's own CPCV section matches the results on disk.
	if len(res.Report.CPCV) != len(js.CPCV) || res.Report.PBO == nil {
		t.Errorf("RunResult report: %d CPCV entries, PBO %v", len(res.Report.CPCV), res.Report.PBO)
	}
	md, err := os.ReadFile(filepath.Join(res.Dir, eval.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"## Combinatorial purged cross-validation", "## Probability of backtest overfitting"} {
		if !strings.Contains(string(md), h) {
			t.Errorf("report.md lacks %q", h)
		}
	}
}

// testPlan loads c's data as a walk-forward run does and plans its folds.
func testPlan(t *testing.T, c *Config) (*dataset, []eval.Fold) {
	t.Helper()
	ds, err := loadData(c, c.firstTrainEnd)
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := c.plan(ds)
	if err != nil {
		t.Fatal(err)
	}
	return ds, plan
}

// testSpec returns the env spec of c's first fold, as agents see it.
func testSpec(t *testing.T, c *Config) env.Spec {
	t.Helper()
	ds, plan := testPlan(t, c)
	r := &seedRunner{cfg: c, ds: ds, folds: plan, seed: c.Experiment.Seed, st: &status{quiet: true}}
	spec, err := r.spec(plan[0])
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
