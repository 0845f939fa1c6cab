package experiments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFinishedFoldsDropCheckpoints checks that a fold whose agent result is
// written keeps its model files but not its checkpoint (the full training
// state, for DDPG mostly the replay buffer).
func TestFinishedFoldsDropCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	res := runTiny(t, "testdata/tiny_agents.toml", filepath.Join(t.TempDir(), "run"), 1)
	dirs, _ := filepath.Glob(filepath.Join(res.Dir, "seed-0", "fold-*", "*.train"))
	if len(dirs) != 4 {
		t.Fatalf("%d training directories, want 2 folds × 2 agents", len(dirs))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "checkpoint.bin")); !os.IsNotExist(err) {
			t.Errorf("%s: the checkpoint of a finished fold is still there (%v)", d, err)
		}
		for _, f := range []string{"final.model", "best.model", "metrics.jsonl"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestValidationTooShort checks that a validation window too short to
// score a model is a configuration error naming the key.
func TestValidationTooShort(t *testing.T) {
	_, err := Load("testdata/tiny_agents.toml", []string{"walkforward.validation=2"})
	if err == nil || !strings.Contains(err.Error(), "walkforward.validation") || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("validation = 2: %v", err)
	}
	if _, err := Load("testdata/tiny_agents.toml", []string{"walkforward.validation=10"}); err != nil {
		t.Errorf("validation = 10: %v", err)
	}
}

// TestCheckAssetNames checks costs.asset overrides against the data's
// asset names (for files, once the data is loaded).
func TestCheckAssetNames(t *testing.T) {
	src := "[experiment]\nname = \"x\"\nseed = 1\n[data]\nsource = \"files\"\npaths = [\"d\"]\n[[costs.asset]]\nasset = \"ETHH\"\nbuy_bps = 5\nsell_bps = 5\n"
	c, err := Parse("f.toml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckAssets([]string{"BTC", "ETH"})
	if err == nil || !strings.Contains(err.Error(), `f.toml:7: key costs.asset: entry 1 names asset "ETHH"`) || !strings.Contains(err.Error(), `did you mean "ETH"?`) {
		t.Errorf("unknown fee asset: %v", err)
	}
	if err := c.CheckAssets([]string{"BTC", "ETHH"}); err != nil {
		t.Errorf("known fee asset: %v", err)
	}
}

// TestCPCVTrainsOnTheFirstGroup runs CPCV with three groups and one test
// group: the splits that test group 1 or 2 must train on group 0, which
// starts at the first usable bar (it used to be dropped, and the split
// failed with "no training block … long enough").
func TestCPCVTrainsOnTheFirstGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	runTiny(t, "testdata/tiny_agents.toml", filepath.Join(t.TempDir(), "run"), 1,
		"walkforward.cpcv_groups=3", "walkforward.cpcv_test_groups=1", "report.bootstrap=0")
}
