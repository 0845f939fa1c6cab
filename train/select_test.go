package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/nets"
	"github.com/folio-rl/folio/train"
)

// scoreByUpdate returns a validator scoring the policy after update k
// (1-based, PPO's update counter, which checkpoints restore) as scores[k-1],
// and records the parameters it saw at each update.
func scoreByUpdate(a *ppo.Agent, scores []float64, seen map[int64][]float64) train.Validator {
	return func(ctx context.Context, p agents.Policy) (float64, error) {
		k := a.Updates()
		if seen != nil {
			seen[k] = append([]float64(nil), a.Params()...)
		}
		return scores[k-1], nil
	}
}

// TestValidationSkipsNonFinite: a NaN or infinite validation score is
// never selected (they are what eval.Sharpe returns for a window too
// short or too flat to measure); the highest finite score is, and with no
// finite score the final model is kept.
func TestValidationSkipsNonFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name     string
		scores   []float64
		bestIter int // 0: none, the final model is kept
	}{
		{"all NaN", []float64{nan, nan, nan, nan}, 0},
		{"+Inf among finite", []float64{1, inf, 2, nan}, 3},
		{"NaN first", []float64{nan, 2, -inf, 1}, 2},
		{"-Inf only then finite", []float64{-inf, -inf, -5, -6}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ttVec(t, 2)
			a := ttPPO(t, v, 2)
			seen := map[int64][]float64{}
			cfg := train.Defaults()
			cfg.TotalSteps, cfg.EvalEvery = 4*2*16, 2*16
			dir := t.TempDir()
			res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Validate: scoreByUpdate(a, tc.scores, seen), Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(filepath.Join(dir, "best.model"))
			if tc.bestIter == 0 {
				if res.Selected != "final" || res.BestIter != 0 || !math.IsNaN(res.BestScore) || statErr == nil {
					t.Fatalf("selected %s, best iteration %d (%v), best.model exists %v; want the final model, no best", res.Selected, res.BestIter, res.BestScore, statErr == nil)
				}
				return
			}
			if res.Selected != "best" || res.BestIter != tc.bestIter || res.BestScore != tc.scores[tc.bestIter-1] || statErr != nil {
				t.Fatalf("selected %s, best iteration %d (%v), best.model: %v; want best, %d (%v)", res.Selected, res.BestIter, res.BestScore, statErr, tc.bestIter, tc.scores[tc.bestIter-1])
			}
			want := seen[int64(tc.bestIter)]
			for i, x := range a.Params() {
				if math.Float64bits(x) != math.Float64bits(want[i]) {
					t.Fatalf("the learner holds another model than iteration %d's (θ[%d])", tc.bestIter, i)
				}
			}
		})
	}
}

// TestValidationAlwaysLogged: with log_every far beyond the budget only
// the last iteration is a log boundary, yet every iteration that ran the
// validation (every second one) has a log line with its eval/score, and
// every finished episode is still counted in exactly one line.
func TestValidationAlwaysLogged(t *testing.T) {
	v := ttVec(t, 2)
	a := ttPPO(t, v, 2)
	scores := []float64{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.EvalEvery, cfg.LogEvery = 6*2*16, 2*2*16, 1_000_000
	var log bytes.Buffer
	res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Validate: scoreByUpdate(a, scores, nil),
		Metrics: train.NewJSONLines(&log, true)})
	if err != nil {
		t.Fatal(err)
	}
	// Validations at iterations 2, 4 and 6 (steps 64, 128, 192); 6 is also the last.
	wantSteps := []float64{64, 128, 192}
	wantScores := []float64{1.5, 3.5, 5.5}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != len(wantSteps) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(wantSteps), log.String())
	}
	episodes := 0.0
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["step"] != wantSteps[i] || m["eval/score"] != wantScores[i] {
			t.Errorf("line %d: step %v, eval/score %v; want %v, %v", i, m["step"], m["eval/score"], wantSteps[i], wantScores[i])
		}
		episodes += m["rollout/episodes"].(float64)
	}
	if int(episodes) != res.Episodes {
		t.Errorf("the log counts %v episodes, the run finished %d", episodes, res.Episodes)
	}
}

// TestBestObsStats: the observation statistics returned by
// Options.ObsStats when the best model is kept travel with it: they are
// best.obsstats, Result.ObsStats when the best model is selected, and
// they survive an interruption and resume; final.obsstats holds those of
// the end. The fake statistics name the update they were taken after.
func TestBestObsStats(t *testing.T) {
	scores := []float64{1, 3, 2, 0}
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.EvalEvery, cfg.CheckpointSeconds = 4*2*16, 2*16, 0
	stats := func(a *ppo.Agent) func() ([]byte, error) {
		return func() ([]byte, error) { return fmt.Appendf(nil, "stats after update %d", a.Updates()), nil }
	}
	run := func(dir string, resume bool, hooks []train.Hook) *train.Result {
		t.Helper()
		v := ttVec(t, 2)
		a := ttPPO(t, v, 2)
		res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Validate: scoreByUpdate(a, scores, nil),
			Dir: dir, Resume: resume, ObsStats: stats(a), Hooks: hooks})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	check := func(name, dir string, res *train.Result) {
		t.Helper()
		if res.Selected != "best" || res.BestIter != 2 || string(res.ObsStats) != "stats after update 2" {
			t.Errorf("%s: selected %s at %d with statistics %q; want best at 2 with those after update 2", name, res.Selected, res.BestIter, res.ObsStats)
		}
		for file, want := range map[string]string{"best.obsstats": "stats after update 2", "final.obsstats": "stats after update 4"} {
			if b, err := os.ReadFile(filepath.Join(dir, file)); err != nil || string(b) != want {
				t.Errorf("%s: %s = %q (%v), want %q", name, file, b, err, want)
			}
		}
	}
	dir := t.TempDir()
	check("uninterrupted", dir, run(dir, false, nil))

	dir = t.TempDir()
	if res := run(dir, false, []train.Hook{&ttStopAfter{3}}); res.Iterations != 3 || string(res.ObsStats) != "stats after update 2" {
		t.Fatalf("stopped run: %d iterations, statistics %q", res.Iterations, res.ObsStats)
	}
	check("resumed", dir, run(dir, true, nil))

	// Without validation the final statistics are the selected ones.
	v := ttVec(t, 2)
	a := ttPPO(t, v, 2)
	res, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, ObsStats: stats(a)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != "final" || string(res.ObsStats) != "stats after update 4" {
		t.Errorf("without validation: selected %s with statistics %q", res.Selected, res.ObsStats)
	}
}

// TestModelFilesHoldWeights: best.model and final.model are weights-only
// model files; LoadWeights of final.model into a fresh agent reproduces
// the final parameters bit for bit, and a full Load refuses it.
func TestModelFilesHoldWeights(t *testing.T) {
	v := ttVec(t, 2)
	a := ttPPO(t, v, 2)
	cfg := train.Defaults()
	cfg.TotalSteps, cfg.EvalEvery = 3*2*16, 2*16
	dir := t.TempDir()
	if _, err := train.Run(context.Background(), a, v, cfg, train.Options{Seed: 3, Validate: scoreByUpdate(a, []float64{1, 2, 3}, nil), Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"best.model", "final.model"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		c, err := nets.ReadCheckpoint(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !c.WeightsOnly || len(c.Blocks) != 1 {
			t.Errorf("%s: weights only %v, %d blocks", f, c.WeightsOnly, len(c.Blocks))
		}
		fresh := ttPPO(t, v, 9)
		if err := fresh.Load(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: a full Load succeeded", f)
		}
		if err := fresh.LoadWeights(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		for i, x := range a.Params() { // the best model is the last: both files hold the final weights
			if math.Float64bits(fresh.Params()[i]) != math.Float64bits(x) {
				t.Fatalf("%s: θ[%d] = %v, learner %v", f, i, fresh.Params()[i], x)
			}
		}
	}
}
