package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/folio-rl/folio/eval"
)

// TestAgentStreamIndependentOfOtherAgents: an agent's random streams
// derive from its name, not its position among the agents, so the PPO
// agent trained next to a DDPG agent and trained alone gives bit-identical
// final models and backtest paths (== on floats is the point here). It also
// checks the fold numbering of the run (1-based everywhere: directories,
// status lines, report).
func TestAgentStreamIndependentOfOtherAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	base := t.TempDir()
	// Few steps: the models must be trained (and differ from their
	// initialisation), not good.
	sets := []string{"agents.ppo.total_steps=256", "agents.ppo.eval_every=128", "agents.ddpg.total_steps=200", "agents.ddpg.eval_every=100", "agents.ddpg.learning_starts=64"}
	both, err := Load("testdata/tiny_agents.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	if len(both.Agents) != 2 || both.Agents[0].Name != "ddpg" || both.Agents[1].Name != "ppo" {
		t.Fatalf("agents %v: the test needs ppo after ddpg, so that its position differs from the one-agent run", both.Agents)
	}
	alone, err := Load(ppoOnlyTiny(t), sets[:2])
	if err != nil {
		t.Fatal(err)
	}
	var status bytes.Buffer
	dirBoth := filepath.Join(base, "both")
	if _, err := Run(context.Background(), both, RunOptions{Out: dirBoth, Jobs: 1, Stderr: &status}); err != nil {
		t.Fatal(err)
	}
	dirAlone := filepath.Join(base, "alone")
	if _, err := Run(context.Background(), alone, RunOptions{Out: dirAlone, Jobs: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for _, fold := range []string{"fold-1", "fold-2"} {
		a, err := os.ReadFile(filepath.Join(dirBoth, "seed-0", fold, "ppo.train", "final.model"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirAlone, "seed-0", fold, "ppo.train", "final.model"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: ppo's final.model differs between the runs with and without ddpg", fold)
		}
		pa, pb := foldPath(t, dirBoth, fold), foldPath(t, dirAlone, fold)
		if len(pa.Return) == 0 || len(pa.Return) != len(pb.Return) {
			t.Fatalf("%s: %d and %d returns", fold, len(pa.Return), len(pb.Return))
		}
		for k := range pa.Return {
			if pa.Return[k] != pb.Return[k] || pa.Value[k] != pb.Value[k] {
				t.Fatalf("%s: ppo's backtest differs at step %d: return %v vs %v", fold, k, pa.Return[k], pb.Return[k])
			}
		}
	}
	// Fold numbering: fold-1 and fold-2 only, "fold 1/2" and "fold 2/2" on
	// stderr, folds 1 and 2 in the report.
	dirs, _ := filepath.Glob(filepath.Join(dirBoth, "seed-0", "fold-*"))
	if len(dirs) != 2 || filepath.Base(dirs[0]) != "fold-1" || filepath.Base(dirs[1]) != "fold-2" {
		t.Errorf("fold directories %v, want fold-1 and fold-2", dirs)
	}
	for _, w := range []string{"fold 1/2: training ddpg", "fold 1/2: training ppo", "fold 2/2: training ppo"} {
		if !strings.Contains(status.String(), w) {
			t.Errorf("status lines lack %q:\n%s", w, status.String())
		}
	}
	if strings.Contains(status.String(), "fold 0") || strings.Contains(status.String(), "fold 3") {
		t.Errorf("status lines number folds outside 1–2:\n%s", status.String())
	}
	checkReportFolds(t, dirBoth, 2)
}

// foldPath reads the saved test-window path of ppo in a fold.
func foldPath(t *testing.T, dir, fold string) *eval.Path {
	t.Helper()
	var fr foldResult
	ok, err := readJSON(filepath.Join(dir, "seed-0", fold, "ppo.json"), &fr)
	if err != nil || !ok || fr.Path == nil {
		t.Fatalf("%s/ppo.json: ok %v, %v", fold, ok, err)
	}
	return fr.Path
}

// checkReportFolds checks that report.json and report.md number the folds
// 1..n.
func checkReportFolds(t *testing.T, dir string, n int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, eval.ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Folds []struct {
			Index int `json:"index"`
		} `json:"folds"`
		Strategies []struct {
			Name    string `json:"name"`
			PerFold []struct {
				Label int `json:"label"`
			} `json:"per_fold"`
			Training []struct {
				Fold int `json:"fold"`
			} `json:"training"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Folds) != n {
		t.Fatalf("report has %d folds, want %d", len(rep.Folds), n)
	}
	for i, f := range rep.Folds {
		if f.Index != i+1 {
			t.Errorf("report fold %d has index %d, want %d", i, f.Index, i+1)
		}
	}
	for _, s := range rep.Strategies {
		for i, seg := range s.PerFold {
			if seg.Label != i+1 {
				t.Errorf("%s: per-fold segment %d labelled %d, want %d", s.Name, i, seg.Label, i+1)
			}
		}
		for i, tr := range s.Training {
			if tr.Fold != i+1 {
				t.Errorf("%s: training summary %d for fold %d, want %d", s.Name, i, tr.Fold, i+1)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, eval.ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \| \d{4}-\d\d-\d\d – `).FindAllStringSubmatch(string(md), -1)
	if len(rows) != n {
		t.Fatalf("report.md has %d fold rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		if r[1] != fmt.Sprint(i+1) {
			t.Errorf("report.md fold row %d is numbered %s, want %d", i, r[1], i+1)
		}
	}
}

// TestFoldNumbering: a run keeping the last 2 of more folds
// (walkforward.folds = 2) numbers them 1 and 2 in its directories and
// report (the report used to show the plan's 0-based indices 2 and 3 and
// the directories fold-0 and fold-1).
func TestFoldNumbering(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	runTiny(t, "testdata/tiny.toml", dir, 1)
	dirs, _ := filepath.Glob(filepath.Join(dir, "seed-0", "fold-*"))
	if len(dirs) != 2 || filepath.Base(dirs[0]) != "fold-1" || filepath.Base(dirs[1]) != "fold-2" {
		t.Errorf("fold directories %v, want fold-1 and fold-2", dirs)
	}
	checkReportFolds(t, dir, 2)
}
