package experiments

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/seed"
)

// onlyAgent writes testdata/tiny_agents.toml with only the named agent
// table ("ppo" or "ddpg") into a temporary directory and returns the file.
func onlyAgent(t *testing.T, name string) string {
	t.Helper()
	if name == "ppo" {
		return ppoOnlyTiny(t)
	}
	src, err := os.ReadFile("testdata/tiny_agents.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	i, j := strings.Index(text, "[agents.ppo]"), strings.Index(text, "[agents.ddpg]")
	if i < 0 || j < i {
		t.Fatal("testdata/tiny_agents.toml no longer has [agents.ppo] before [agents.ddpg]; update this test")
	}
	file := filepath.Join(t.TempDir(), "tiny_"+name+".toml")
	if err := os.WriteFile(file, []byte(text[:i]+text[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// metricsLines returns the JSON lines of the metrics log of the one
// training directory NAME.train under dir (nth, in walk order, when there
// are several: one per fold).
func metricsLines(t *testing.T, dir, agent string, nth int) []map[string]any {
	t.Helper()
	var logs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == metricsFile && filepath.Base(filepath.Dir(path)) == agent+".train" {
			logs = append(logs, path)
		}
		return err
	})
	if err != nil || len(logs) <= nth {
		t.Fatalf("metrics logs of %s under %s: %v (%v)", agent, dir, logs, err)
	}
	f, err := os.Open(logs[nth])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// agentReturns returns the returns of strategy name in the results.json of
// an evaluation directory, and the periods per year.
func agentReturns(t *testing.T, dir, name string) ([]float64, float64) {
	t.Helper()
	res, err := eval.ReadResults(filepath.Join(dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Seeds[0].Strategies {
		if s.Name == name {
			return s.Path.Return, res.PeriodsPerYear
		}
	}
	t.Fatalf("no strategy %s in %s", name, dir)
	return nil, 0
}

// TestBestModelKeepsItsObsStats: with normalize_obs, `folio train` keeps
// the best validation model together with the observation statistics it
// was validated through (not those at the end of training), so `folio
// eval` over the validation bars reproduces the best validation score bit
// for bit. The best score is read from the training's metrics log (every
// validation is logged); the run is set up so that the best model is not
// the last one, where end-of-training statistics would differ.
func TestBestModelKeepsItsObsStats(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an agent")
	}
	c, err := Load(onlyAgent(t, "ppo"), []string{"agents.ppo.normalize_obs=true", "agents.ppo.total_steps=1024", "agents.ppo.eval_every=128"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "train")
	if _, err := Train(context.Background(), c, RunOptions{Out: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	best, bestAt, lastAt := math.Inf(-1), -1.0, -1.0
	for _, m := range metricsLines(t, dir, "ppo", 0) {
		s, ok := m["eval/score"].(float64)
		if !ok {
			continue
		}
		if s > best {
			best, bestAt = s, m["step"].(float64)
		}
		lastAt = m["step"].(float64)
	}
	if bestAt < 0 || bestAt == lastAt {
		t.Fatalf("best validation score %v at step %v, last validation at step %v: the test needs a best model before the last validation", best, bestAt, lastAt)
	}
	// The statistics saved with the model are those kept with the best model.
	kept, err1 := os.ReadFile(filepath.Join(dir, "models", "ppo.obsstats"))
	withBest, err2 := filepath.Glob(filepath.Join(dir, "*", "ppo.train", "best.obsstats"))
	if err1 != nil || err2 != nil || len(withBest) != 1 {
		t.Fatalf("statistics files: %v %v %v", err1, err2, withBest)
	}
	if b, err := os.ReadFile(withBest[0]); err != nil || !bytes.Equal(b, kept) {
		t.Errorf("models/ppo.obsstats differs from the training's best.obsstats (%v)", err)
	}

	var ti trainInfo
	if ok, err := readJSON(filepath.Join(dir, "train.json"), &ti); !ok || err != nil {
		t.Fatalf("train.json: %v", err)
	}
	ds, err := loadData(c, c.trainOnlyEnd)
	if err != nil {
		t.Fatal(err)
	}
	start := ds.panel.Time(ti.TrainEnd - c.WalkForward.Validation).Format("2006-01-02")
	end := ds.panel.Time(ti.TrainEnd - 1).Format("2006-01-02")
	res, err := Eval(context.Background(), dir, EvalOptions{Start: start, End: end, Quiet: true, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rets, ppy := agentReturns(t, res.Dir, "ppo")
	if len(rets) != c.WalkForward.Validation {
		t.Fatalf("evaluation over %s – %s has %d returns, the validation has %d bars", start, end, len(rets), c.WalkForward.Validation)
	}
	// Same weights, statistics, bars, costs and seed: the same bits.
	if got := eval.Sharpe(rets, ppy); got != best {
		t.Errorf("evaluating the kept model on the validation bars: Sharpe ratio %v, best validation score %v", got, best)
	}
}

// TestEvalAfterSet: `folio eval` loads the models' weights only, so it
// accepts a run whose hyperparameters were changed by --set (learning rate,
// precision): acting does not depend on the learning rate, so the returns
// are bit-identical; in float32 they agree to 1e-5 relative per bar
// (float32 acting, STYLE.md's tolerance for float32 results).
func TestEvalAfterSet(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an agent")
	}
	c, err := Load(onlyAgent(t, "ppo"), []string{"agents.ppo.total_steps=256", "agents.ppo.eval_every=128"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "train")
	if _, err := Train(context.Background(), c, RunOptions{Out: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	returns := map[string][]float64{}
	for _, set := range []string{"", "agents.ppo.learning_rate=0.00123", "agents.ppo.precision=float32"} {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		res, err := Eval(context.Background(), dir, EvalOptions{Sets: sets, Quiet: true, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatalf("eval --set %q: %v", set, err)
		}
		returns[set], _ = agentReturns(t, res.Dir, "ppo")
	}
	base := returns[""]
	for i, r := range returns["agents.ppo.learning_rate=0.00123"] {
		if math.Float64bits(r) != math.Float64bits(base[i]) {
			t.Fatalf("with another learning rate, return %d = %v, want %v", i, r, base[i])
		}
	}
	for i, r := range returns["agents.ppo.precision=float32"] {
		if math.Abs(r-base[i]) > 1e-5*math.Max(math.Abs(base[i]), 1e-3) {
			t.Fatalf("in float32, return %d = %v, float64 %v", i, r, base[i])
		}
	}
}

// TestDDPGWarmStartLoadsWeightsOnly: with walkforward.warm_start a DDPG
// fold starts from the previous fold's final weights but with an empty
// replay buffer and no gradient steps: with learning_starts = 300 of 400
// steps, the second fold's validation at step 200 logs a buffer of its own
// 200 transitions and no gradient step (had it inherited the first fold's
// buffer and counters, it would log 600 transitions and learn at once).
// With learning rates of 1e-300 the weights cannot move (Adam's step is
// bounded by a small multiple of the rate), so both folds' final actors
// are the first fold's initial one.
func TestDDPGWarmStartLoadsWeightsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	c, err := Load(onlyAgent(t, "ddpg"), []string{"walkforward.warm_start=true", "agents.ddpg.learning_starts=300",
		"agents.ddpg.actor_lr=1e-300", "agents.ddpg.critic_lr=1e-300"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Agents[0].Train.TotalSteps != 400 || c.Agents[0].Train.EvalEvery != 200 {
		t.Fatalf("testdata/tiny_agents.toml changed: ddpg total_steps %d, eval_every %d; want 400, 200", c.Agents[0].Train.TotalSteps, c.Agents[0].Train.EvalEvery)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), c, RunOptions{Out: dir, Jobs: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for fold := range 2 {
		lines := metricsLines(t, dir, "ddpg", fold)
		if len(lines) == 0 || lines[0]["step"] != 200.0 {
			t.Fatalf("fold %d: first log line %v, want one at step 200", fold, lines)
		}
		if lines[0]["train/buffer_size"] != 200.0 || lines[0]["train/gradient_steps"] != 0.0 {
			t.Errorf("fold %d at step 200: buffer %v, gradient steps %v; want 200 and 0", fold, lines[0]["train/buffer_size"], lines[0]["train/gradient_steps"])
		}
	}
	// The final actors of both folds equal.
	spec := testSpec(t, c)
	var actors [][]float64
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "final.model" || filepath.Base(filepath.Dir(path)) != "ddpg.train" {
			return err
		}
		l, err := newLearner(c.Agents[0], spec, seed.New(77, seed.Init, uint64(len(actors))))
		if err != nil {
			return err
		}
		if err := loadModel(l, path); err != nil {
			return err
		}
		actors = append(actors, l.(*ddpg.Agent).ActorParams())
		return nil
	})
	if err != nil || len(actors) != 2 {
		t.Fatalf("final models: %d (%v)", len(actors), err)
	}
	if d := maxAbsDiff(actors[0], actors[1]); d > 1e-12 {
		t.Errorf("warm-started fold's final actor differs from the first fold's by %v", d)
	}
}
