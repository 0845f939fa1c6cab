package experiments

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/testrng"
)

// perturbFrom returns a copy of p whose bars from bar first on are
// perturbed: every OHLC price of asset i at bar t ≥ first is multiplied by
// exp(x_{t,i}), where x is a Gaussian random walk per asset (steps of sd
// 0.05, starting at 0 before first, so bar first itself already moves),
// and every volume by an independent lognormal factor (sd 0.5). Scaling
// one bar's four prices by the same positive factor keeps it valid (low ≤
// open, close ≤ high; rounding is monotone), so the panel loads as any
// other. Bars before first are copied unchanged.
func perturbFrom(t *testing.T, p *market.Panel, first int, rng *rand.Rand) *market.Panel {
	t.Helper()
	T, n := p.T(), p.N()
	s := market.PanelSpec{Assets: p.Assets(), Times: make([]int64, T), Interval: p.Interval(),
		Open: make([]float64, T*n), High: make([]float64, T*n), Low: make([]float64, T*n), Close: make([]float64, T*n), Volume: make([]float64, T*n)}
	walk := make([]float64, n)
	for b := range T {
		s.Times[b] = p.Unix(b)
		for i := range n {
			f, v := 1.0, 1.0
			if b >= first {
				walk[i] += 0.05 * rng.NormFloat64()
				f, v = math.Exp(walk[i]), math.Exp(0.5*rng.NormFloat64())
			}
			k := b*n + i
			s.Open[k], s.High[k], s.Low[k], s.Close[k] = p.Open(b, i)*f, p.High(b, i)*f, p.Low(b, i)*f, p.Close(b, i)*f
			s.Volume[k] = p.Volume(b, i) * v
		}
	}
	q, err := market.NewPanel(s)
	if err != nil {
		t.Fatalf("perturbed panel: %v", err)
	}
	return q
}

// leakRun is one run of the leakage test: its directory and the dataset
// and folds the runner saw.
type leakRun struct {
	dir   string
	ds    *dataset
	folds []eval.Fold
}

// runOnFiles runs testdata/tiny_agents.toml on the folio CSVs in data and
// loads the dataset and walk-forward plan the runner used, as Run does.
// Training episodes start regime-balanced, so that the regime labels of
// the training bars (rule-based for files) shape training too.
func runOnFiles(t *testing.T, data, out string) leakRun {
	t.Helper()
	sets := []string{"data.path=" + data, "env.regime_sampling=balanced"}
	runTiny(t, "testdata/tiny_agents.toml", out, 1, sets...)
	c, err := Load("testdata/tiny_agents.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	ds, folds := testPlan(t, c)
	return leakRun{dir: out, ds: ds, folds: folds}
}

// leakFoldResult reads the saved result of strategy name in fold-N of
// seed 0.
func leakFoldResult(t *testing.T, dir string, fold int, name string) *eval.Path {
	t.Helper()
	var fr foldResult
	file := filepath.Join(dir, "seed-0", "fold-"+strconv.Itoa(fold), slugName(name)+".json")
	ok, err := readJSON(file, &fr)
	if err != nil || !ok || fr.Path == nil || fr.Path.Len() == 0 {
		t.Fatalf("%s: ok %v, %v", file, ok, err)
	}
	return fr.Path
}

// sameModel reports whether a model file is byte-identical in two runs.
func sameModel(t *testing.T, a, b string, fold int, agent, file string) bool {
	t.Helper()
	rel := filepath.Join("seed-0", "fold-"+strconv.Itoa(fold), slugName(agent)+".train", file)
	x, err := os.ReadFile(filepath.Join(a, rel))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(b, rel))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) == 0 {
		t.Fatalf("%s is empty", rel)
	}
	return bytes.Equal(x, y)
}

// trainingLogsDiffer reports whether the metrics logs of an agent's
// training in fold-N differ between two runs outside the validation scores
// (keys eval/…): whether the training episodes themselves saw different
// bars. The logs hold no timings, so equal inputs give equal logs.
func trainingLogsDiffer(t *testing.T, a, b string, fold int, agent string) (train, validation bool) {
	t.Helper()
	dir := filepath.Join("seed-0", "fold-"+strconv.Itoa(fold))
	x, y := metricsLines(t, filepath.Join(a, dir), slugName(agent), 0), metricsLines(t, filepath.Join(b, dir), slugName(agent), 0)
	if len(x) == 0 {
		t.Fatalf("fold %d %s: empty training log", fold, agent)
	}
	if len(x) != len(y) {
		return true, true
	}
	for k := range x {
		for key, v := range x[k] {
			if v != y[k][key] {
				if strings.HasPrefix(key, "eval/") {
					validation = true
				} else {
					train = true
				}
			}
		}
	}
	return train, validation
}

// TestWalkForwardNoLookAhead checks that per fold, agents train on the
// training window only, and decide on the bars up to the decision bar
// only. testdata/tiny_agents.toml (PPO and DDPG; features logret,
// ewma_vol, garch_f1 and avg_ewma_vol; walkforward.validation = 40,
// embargo 1), with regime-balanced episode starts so that the rule-based
// regime labels (thresholds fitted on the first training window) shape
// training, runs on its synthetic market written as folio CSVs, and on
// copies whose bars from bar P on are perturbed (perturbFrom), all through
// the same file loader (--set data.path).
//
// A fold's training window is [Train.Start, Train.End)
// (eval.WalkForwardPlan) and trainLast = Train.End−1−V (V =
// walkforward.validation; run.go trainAgent): the training episodes
// decide at bars up to trainLast−1 and earn the close of trainLast, so
// final.model may depend on bars ≤ trainLast only; the validation that
// picks best.model decides at bars trainLast … Train.End−2 and earns up
// to the close of Train.End−1. A fold's test backtest decides at bars
// Test.Start−1 … Test.End−2, each on the bars up to the decision bar. So,
// comparing a perturbed run with the clean one (== on bytes and floats is
// the point):
//
//   - P > trainLast: the fold's final.model is byte-identical, and so is
//     its training log outside the validation scores;
//   - P ≥ Train.End: its best.model and validation scores too;
//   - every fold-1 test decision (Path.Target) of every agent and
//     baseline at a bar < P is identical.
//
// Any feature, GARCH refit, observation normaliser, regime label,
// validation score or baseline fit that read a later bar breaks these.
// The cases: P = fold 1's trainLast+1 (the first bar after its training
// part), P = fold 1's Train.End (the first bar after its training window,
// validation included), and P in the middle of fold 1's test window (26
// decisions before P).
//
// Controls, so that the test can fail: with P in the middle of fold 1's
// training part, both folds' models and the agents' fold-1 decisions
// differ; whenever P ≤ trainLast of a fold, its final.model differs
// exactly when its training log does (a short run's random 32-bar
// episodes may never reach a late P, and then the model must not change
// either); at P ≤ Train.End−1 the validation scores differ; and each
// agent's decisions at bars ≥ P differ somewhere. Three planted leaks
// each made it fail: a one-bar look-ahead in ewma_vol, 5 validation bars
// added to the training segment, and regime thresholds fitted on all
// bars.
func TestWalkForwardNoLookAhead(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	c, err := Load("testdata/tiny_agents.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := synth.Generate(c.synthConfig(), c.Experiment.Seed)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	cleanData := filepath.Join(base, "clean")
	if err := market.WriteCSV(cleanData, p); err != nil {
		t.Fatal(err)
	}
	clean := runOnFiles(t, cleanData, filepath.Join(base, "run-clean"))
	if len(clean.folds) != 2 {
		t.Fatalf("the test assumes 2 folds, the experiment has %d", len(clean.folds))
	}
	V := c.WalkForward.Validation
	trainLast := func(f eval.Fold) int { return f.Train.End - 1 - V }
	f1 := clean.folds[0]
	agentNames := []string{}
	for _, a := range c.Agents {
		agentNames = append(agentNames, a.Name)
	}
	if !slices.Equal(agentNames, []string{"ddpg", "ppo"}) || V == 0 {
		t.Fatalf("agents %v, validation %d: the test expects ddpg and ppo, and a validation window", agentNames, V)
	}
	strategies := slices.Concat(agentNames, c.Baselines.Methods)

	rng := testrng.New(t, 71)
	for _, tc := range []struct {
		name    string
		first   int  // first perturbed bar
		control bool // the perturbation reaches fold 1's training: everything must change
	}{
		{"inside-fold-1-training", (f1.Train.Start + trainLast(f1)) / 2, true},
		{"after-training-part", trainLast(f1) + 1, false},
		{"after-training-window", f1.Train.End, false},
		{"mid-test-window", f1.Test.Start + f1.Test.Len()/2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(base, tc.name)
			if err := market.WriteCSV(data, perturbFrom(t, p, tc.first, rng)); err != nil {
				t.Fatal(err)
			}
			pert := runOnFiles(t, data, filepath.Join(base, "run-"+tc.name))
			// The loader gave the same bars before P and other bars from P
			// on, and the same plan (the warm-up did not move).
			if !slices.Equal(pert.folds, clean.folds) || pert.ds.warmUp != clean.ds.warmUp {
				t.Fatalf("plan %v (warm-up %d) on the perturbed data, %v (warm-up %d) on the clean", pert.folds, pert.ds.warmUp, clean.folds, clean.ds.warmUp)
			}
			for b := range tc.first {
				if !slices.Equal(pert.ds.panel.CloseRow(b), clean.ds.panel.CloseRow(b)) || !slices.Equal(pert.ds.panel.VolumeRow(b), clean.ds.panel.VolumeRow(b)) {
					t.Fatalf("bar %d before the perturbation differs after loading", b)
				}
			}
			if slices.Equal(pert.ds.panel.CloseRow(tc.first), clean.ds.panel.CloseRow(tc.first)) {
				t.Fatalf("bar %d is not perturbed after loading", tc.first)
			}

			for _, f := range clean.folds {
				for _, a := range agentNames {
					final := sameModel(t, clean.dir, pert.dir, f.Index, a, "final.model")
					best := sameModel(t, clean.dir, pert.dir, f.Index, a, "best.model")
					trainDiff, valDiff := trainingLogsDiffer(t, clean.dir, pert.dir, f.Index, a)
					t.Logf("fold %d %s (train %v, last training bar %d, P %d): final.model same %v, best.model same %v, training log differs %v, validation scores differ %v",
						f.Index, a, f.Train, trainLast(f), tc.first, final, best, trainDiff, valDiff)
					switch {
					case tc.first > trainLast(f):
						if !final || trainDiff {
							t.Errorf("fold %d %s: final.model same %v, training log differs %v, when only bars ≥ %d (after its training bars, last %d) change: training saw later data",
								f.Index, a, final, trainDiff, tc.first, trainLast(f))
						}
					case final == trainDiff:
						t.Errorf("fold %d %s: final.model same %v although the training log differs %v (perturbation from bar %d, inside its training bars)",
							f.Index, a, final, trainDiff, tc.first)
					case tc.control && final:
						t.Errorf("control: fold %d %s: final.model unchanged by a perturbation from bar %d, the middle of fold 1's training bars", f.Index, a, tc.first)
					}
					if tc.first >= f.Train.End {
						if !best || valDiff {
							t.Errorf("fold %d %s: best.model same %v, validation scores differ %v, when only bars ≥ %d (after its training window %v) change: validation saw later data",
								f.Index, a, best, valDiff, tc.first, f.Train)
						}
					} else if !valDiff {
						t.Errorf("control: fold %d %s: validation scores unchanged by a perturbation from bar %d, inside its validation window", f.Index, a, tc.first)
					}
				}
			}
			for _, s := range strategies {
				cp, pp := leakFoldResult(t, clean.dir, 1, s), leakFoldResult(t, pert.dir, 1, s)
				if !slices.Equal(cp.Decision, pp.Decision) || cp.Decision[0] != f1.Test.Start-1 {
					t.Fatalf("%s: decision bars %v and %v, want them to start at %d", s, cp.Decision, pp.Decision, f1.Test.Start-1)
				}
				before, laterDiffer := 0, false
				for k, d := range cp.Decision {
					same := slices.Equal(cp.Target[k], pp.Target[k])
					if d < tc.first {
						before++
						if !same {
							t.Errorf("%s: fold 1 decision at bar %d (before the first perturbed bar %d) differs: %v vs %v", s, d, tc.first, cp.Target[k], pp.Target[k])
						}
					} else if !same {
						laterDiffer = true
					}
				}
				if want := max(0, tc.first-(f1.Test.Start-1)); before != want {
					t.Errorf("%s: %d fold-1 decisions before bar %d, want %d", s, before, tc.first, want)
				}
				if slices.Contains(agentNames, s) && !laterDiffer {
					t.Errorf("control: %s's fold 1 decisions at bars ≥ %d are all unchanged by the perturbation", s, tc.first)
				}
			}
		})
	}
}

// TestEvalDirPerOverrides: `folio eval` names its directory
// eval-<start>-<end> for the run's own configuration and appends the first
// 8 hex digits of the resolved configuration's hash when --set overrides
// change it, so an evaluation with other overrides no longer overwrites an
// earlier one; overrides with the same effect (respelled numbers, a key
// set to the value it has) share the directory; and a directory holding
// results of another configuration (as an older build left them) is
// refused, not overwritten.
func TestEvalDirPerOverrides(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an agent")
	}
	c, err := Load(ppoOnlyTiny(t), []string{"agents.ppo.total_steps=256", "agents.ppo.eval_every=128"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "train")
	if _, err := Train(context.Background(), c, RunOptions{Out: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	evalWith := func(sets ...string) (*RunResult, error) {
		return Eval(context.Background(), dir, EvalOptions{Sets: sets, Quiet: true, Stdout: io.Discard, Stderr: io.Discard})
	}
	configHash := func(resDir string) string {
		t.Helper()
		res, err := eval.ReadResults(filepath.Join(resDir, resultsFile))
		if err != nil {
			t.Fatal(err)
		}
		return res.Provenance.ConfigHash
	}
	plain, err := evalWith()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^eval-\d{8}-\d{8}$`).MatchString(filepath.Base(plain.Dir)) {
		t.Fatalf("evaluation without overrides in %s, want eval-<start>-<end>", plain.Dir)
	}
	plainResults, err := os.ReadFile(filepath.Join(plain.Dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}

	const lr = "agents.ppo.learning_rate=0.00123"
	other, err := evalWith(lr)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load(filepath.Join(dir, configFile), []string{lr})
	if err != nil {
		t.Fatal(err)
	}
	if h := want.Hash(); other.Dir != plain.Dir+"-"+h[:8] || configHash(other.Dir) != h {
		t.Errorf("evaluation with --set %s in %s (results hash %s), want %s-%s", lr, other.Dir, short(configHash(other.Dir)), plain.Dir, h[:8])
	}
	if b, err := os.ReadFile(filepath.Join(plain.Dir, resultsFile)); err != nil || !bytes.Equal(b, plainResults) {
		t.Errorf("the evaluation with --set %s changed %s (%v)", lr, plain.Dir, err)
	}

	same, err := evalWith("agents.ppo.learning_rate=1.23e-3")
	if err != nil || same.Dir != other.Dir {
		t.Errorf("learning rate respelled 1.23e-3: %v, %v; want the directory of 0.00123, %s", same, err, other.Dir)
	}
	noop, err := evalWith(fmt.Sprintf("report.bootstrap=%d", c.Report.Bootstrap))
	if err != nil || noop.Dir != plain.Dir {
		t.Errorf("a no-op override: %v, %v; want %s", noop, err, plain.Dir)
	}

	// An older build wrote every evaluation of a range into the plain
	// name: there, results of the overridden configuration are refused.
	if err := os.RemoveAll(plain.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other.Dir, plain.Dir); err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile(filepath.Join(plain.Dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = evalWith()
	if err == nil || !strings.Contains(err.Error(), plain.Dir+" holds an evaluation made with another configuration") || !strings.Contains(err.Error(), "rename or remove that directory") {
		t.Errorf("evaluation into a directory of another configuration: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(plain.Dir, resultsFile)); err != nil || !bytes.Equal(b, legacy) {
		t.Errorf("the refused evaluation changed %s (%v)", plain.Dir, err)
	}
}
