package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/eval"
)

// runTiny runs an experiment file quietly into dir.
func runTiny(t *testing.T, file, dir string, jobs int, sets ...string) *RunResult {
	t.Helper()
	c, err := Load(file, sets)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), c, RunOptions{Out: dir, Jobs: jobs, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRunAgentsReproducible runs the tiny experiment with both agent types
// and two seeds, sequentially and with two parallel jobs: the report JSON
// is byte-identical.
func TestRunAgentsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	base := t.TempDir()
	a := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(base, "seq"), 1, "experiment.seeds=2")
	b := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(base, "par"), 2, "experiment.seeds=2")
	ja, _ := os.ReadFile(filepath.Join(a.Dir, eval.ReportJSON))
	jb, _ := os.ReadFile(filepath.Join(b.Dir, eval.ReportJSON))
	if len(ja) == 0 || !bytes.Equal(ja, jb) {
		t.Fatal("report.json differs between --jobs 1 and --jobs 2")
	}
	rep := a.Report
	if len(rep.Seeds) != 2 {
		t.Fatalf("%d seeds in the report", len(rep.Seeds))
	}
	names := map[string]bool{}
	for _, s := range rep.Strategies {
		names[s.Name] = true
		if s.Kind == "agent" && len(s.PerSeed) != 2 {
			t.Errorf("%s: %d per-seed metrics", s.Name, len(s.PerSeed))
		}
	}
	for _, n := range []string{"ppo", "ddpg", "equal-weight", "risk-parity", "mean-variance"} {
		if !names[n] {
			t.Errorf("report lacks strategy %s", n)
		}
	}
	if len(rep.Comparisons) != 4 {
		t.Errorf("%d comparisons, want 4 (2 agents × 2 benchmarks)", len(rep.Comparisons))
	}
	// Training metrics logs exist for every fold and agent.
	logs, _ := filepath.Glob(filepath.Join(a.Dir, "seed-*", "fold-*", "*.train", "metrics.jsonl"))
	if len(logs) != 2*2*2 {
		t.Errorf("%d training logs, want 8", len(logs))
	}
}

// TestRunResume interrupts a run during training and resumes it: the
// report is byte-identical to an uninterrupted run's.
func TestRunResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	base := t.TempDir()
	full := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(base, "full"), 1)

	c, err := Load("testdata/tiny_agents.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "cut")
	ctx, cancel := context.WithCancel(context.Background())
	var status bytes.Buffer
	// Cancel as soon as the second training run starts: the first agent of
	// fold 0 is done, the second is interrupted.
	w := &cancelAfter{n: 2, cancel: cancel, w: &status}
	_, err = Run(ctx, c, RunOptions{Out: dir, Stderr: w})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	if !strings.Contains(err.Error(), "--resume") {
		t.Errorf("interruption message does not say how to resume: %v", err)
	}
	res, err := Run(context.Background(), c, RunOptions{Resume: dir, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := os.ReadFile(filepath.Join(full.Dir, eval.ReportJSON))
	j2, _ := os.ReadFile(filepath.Join(res.Dir, eval.ReportJSON))
	if len(j1) == 0 || !bytes.Equal(j1, j2) {
		t.Fatal("resumed run's report.json differs from the uninterrupted run's")
	}
	// Resuming with another configuration is refused.
	c2, _ := Load("testdata/tiny_agents.toml", []string{"costs.taker_bps=30"})
	if _, err := Run(context.Background(), c2, RunOptions{Resume: dir, Quiet: true}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("resume with another configuration: %v", err)
	}
}

// cancelAfter cancels when the n-th "training" status line is written.
type cancelAfter struct {
	n      int
	cancel func()
	w      *bytes.Buffer
	seen   int
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(": training ")) {
		c.seen++
		if c.seen == c.n {
			c.cancel()
		}
	}
	return c.w.Write(p)
}

// TestResumeCommand checks the command printed after an interruption: it
// repeats the --set overrides (a resume with other settings is refused)
// and quotes what a shell would split.
func TestResumeCommand(t *testing.T) {
	sets := []string{"costs.taker_bps=30", "experiment.description=my run"}
	c, err := Load("testdata/tiny_agents.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	got := resumeCommand(c, "/tmp/runs/it's here")
	want := `folio run testdata/tiny_agents.toml --set costs.taker_bps=30 --set 'experiment.description=my run' --resume '/tmp/runs/it'\''s here'`
	if got != want {
		t.Errorf("resume command\n got %s\nwant %s", got, want)
	}
	// Loading with the overrides the command names gives the configuration
	// the run was made with.
	c2, err := Load("testdata/tiny_agents.toml", sets)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Hash() != c.Hash() {
		t.Error("the same file and overrides hash differently")
	}
}

// TestOpenMetricsUnreadableCheckpoint checks that a checkpoint this build
// cannot read stops a resume before the metrics log is touched (it used to
// be truncated as if there were no checkpoint).
func TestOpenMetricsUnreadableCheckpoint(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, metricsFile)
	if err := os.WriteFile(log, []byte("{\"step\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint.bin"), []byte("FOLIOTRN\x01 an older format"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := openMetrics(log, dir); err == nil || !strings.Contains(err.Error(), "cannot read the checkpoint") {
		if f != nil {
			f.Close()
		}
		t.Fatalf("openMetrics with an unreadable checkpoint: %v", err)
	}
	if b, _ := os.ReadFile(log); string(b) != "{\"step\":1}\n" {
		t.Errorf("the metrics log was changed: %q", b)
	}
	// Without a checkpoint the log starts afresh.
	if err := os.Remove(filepath.Join(dir, "checkpoint.bin")); err != nil {
		t.Fatal(err)
	}
	f, err := openMetrics(log, dir)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(log); len(b) != 0 {
		t.Errorf("a fresh run kept an old log: %q", b)
	}
}
