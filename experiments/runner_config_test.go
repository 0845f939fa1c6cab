package experiments

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/synth"
)

// parseErr parses src as x.toml with the overrides and returns the error
// text ("" when the configuration is valid).
func parseErr(t *testing.T, src string, sets ...string) string {
	t.Helper()
	_, err := Parse("x.toml", []byte(src), sets)
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWalkForwardStepMustEqualTest: a step other than test (or 0) is a
// config error naming walkforward.step and the fix; expected messages
// written by hand from the rule.
func TestWalkForwardStepMustEqualTest(t *testing.T) {
	const head = "[experiment]\nseed = 1\n[walkforward]\ntest = 60\n"
	cases := []struct {
		name, step string
		want       string // "" = valid
	}{
		{"zero means test", "0", ""},
		{"equal to test", "60", ""},
		{"smaller: overlapping windows", "30", "x.toml:5: key walkforward.step = 30 differs from walkforward.test = 60: test windows would overlap, counting bars twice in the stitched returns and metrics (set step = 60 (= test) or 0, which means = test)"},
		{"larger: skipped bars", "90", "x.toml:5: key walkforward.step = 90 differs from walkforward.test = 60: 30 bars between test windows would go untested"},
		{"negative", "-1", "x.toml:5: key walkforward.step = -1: must be 0 (meaning = test) or equal to test (set step = 60 (= test) or 0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseErr(t, head+"step = "+c.step+"\n")
			if c.want == "" && got != "" {
				t.Fatalf("step %s: unexpected error %s", c.step, got)
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("step %s: error\n%s\nlacks\n%s", c.step, got, c.want)
			}
		})
	}
	// From --set the error names --set.
	if got := parseErr(t, head, "walkforward.step=30"); !strings.Contains(got, "--set: key walkforward.step = 30 differs") {
		t.Errorf("--set walkforward.step=30: %q", got)
	}
}

// TestNegativeSeed: a negative experiment.seed is an error naming the
// file, line and key (it used to wrap to 2⁶⁴ − 3), from the file and from
// --set; a --set seed replaces a bad one in the file.
func TestNegativeSeed(t *testing.T) {
	got := parseErr(t, "[experiment]\nname = \"x\"\nseed = -3\n")
	if !strings.Contains(got, "x.toml:3: key experiment.seed = -3: must be ≥ 0") {
		t.Errorf("negative seed in the file: %q", got)
	}
	got = parseErr(t, "[experiment]\nseed = 3\n", "experiment.seed=-1")
	if !strings.Contains(got, "--set: key experiment.seed = -1: must be ≥ 0") {
		t.Errorf("negative seed from --set: %q", got)
	}
	c, err := Parse("x.toml", []byte("[experiment]\nseed = -3\n"), []string{"experiment.seed=5"})
	if err != nil || c.Experiment.Seed != 5 {
		t.Fatalf("--set experiment.seed=5 over a negative file seed: %v", err)
	}
	// The largest TOML integer is a valid seed.
	c, err = Parse("x.toml", []byte("[experiment]\nseed = 9223372036854775807\n"), nil)
	if err != nil || c.Experiment.Seed != 1<<63-1 {
		t.Fatalf("seed 2⁶³ − 1: %v", err)
	}
}

// TestLayerWidthErrors: every bad layer-width list is reported under its
// own key at its own line, and a problem elsewhere in the agent's table
// is still reported (nets and ppo stop at the first problem).
func TestLayerWidthErrors(t *testing.T) {
	src := `[experiment]
seed = 1

[agents.a]
type = "ppo"
hidden = [16, 0]
trunk = "assets"
asset_hidden = [8, -1]
embedding = "dynamic"
decoder_hidden = [0]
learning_rate = -1
`
	got := parseErr(t, src)
	for _, w := range []string{
		"x.toml:6: key agents.a.hidden = [16, 0]: every layer width must be ≥ 1 (entry 2 is 0)",
		"x.toml:8: key agents.a.asset_hidden = [8, -1]: every layer width must be ≥ 1 (entry 2 is -1)",
		"x.toml:10: key agents.a.decoder_hidden = [0]: every layer width must be ≥ 1 (entry 1 is 0)",
		"x.toml:11: key agents.a.learning_rate",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("error\n%s\nlacks\n%s", got, w)
		}
	}
	if strings.Contains(got, ".layer") {
		t.Errorf("error names a key the schema does not have:\n%s", got)
	}
	// The same from --set names --set, not the table's line.
	got = parseErr(t, "[experiment]\nseed = 1\n[agents.a]\ntype = \"ppo\"\n", "agents.a.hidden=[16, 0]")
	if !strings.Contains(got, "--set: key agents.a.hidden = [16, 0]: every layer width must be ≥ 1") || strings.Contains(got, "x.toml") {
		t.Errorf("bad widths from --set: %q", got)
	}
}

// TestFeatureListErrors: [features] problems name the list holding the
// bad name, each one, and --set values are attributed to --set.
func TestFeatureListErrors(t *testing.T) {
	src := "[experiment]\nseed = 1\n[features]\nasset = [\"logret\", \"ewma_vl\", \"avg_ewma_vol\"]\nglobal = [\"logret\"]\n"
	got := parseErr(t, src)
	for _, w := range []string{
		`x.toml:4: key features.asset: unknown feature: "ewma_vl"`, `(did you mean "ewma_vol"?)`,
		`x.toml:4: key features.asset: "avg_ewma_vol" is not a per-asset feature`,
		`x.toml:5: key features.global: "logret" is selected twice`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("error\n%s\nlacks\n%s", got, w)
		}
	}
	got = parseErr(t, "[experiment]\nseed = 1\n[features]\nasset = [\"logret\"]\n", "features.asset=[]")
	if !strings.Contains(got, "--set: key features.asset: is empty") || strings.Contains(got, "x.toml") {
		t.Errorf("empty features.asset from --set: %q", got)
	}
	// An error the file alone has stays attributed to the file even with
	// an unrelated --set.
	got = parseErr(t, src, "costs.taker_bps=20")
	if !strings.Contains(got, `x.toml:4: key features.asset: unknown feature: "ewma_vl"`) {
		t.Errorf("file error with an unrelated --set: %q", got)
	}
}

// TestBaselineSettingsForAssetCount: settings infeasible for the number
// of assets are config errors at load time for the synthetic market
// (whose asset count is in the config) and before any training for
// files (after the data is loaded).
func TestBaselineSettingsForAssetCount(t *testing.T) {
	const synthSrc = "[experiment]\nseed = 1\n[market.synthetic]\nassets = 3\n[baselines]\nmethods = [\"equal-weight\", \"risk-budget\", \"min-variance\"]\nmax_weight = 0.2\nbudgets = [1, 1]\n[report]\nbenchmarks = []\n"
	got := parseErr(t, synthSrc)
	for _, w := range []string{
		"x.toml:7: key baselines.max_weight = 0.2 is infeasible for 3 assets: 3 × 0.2 < 1, so risk-budget, min-variance cannot be fully invested (use max_weight ≥ 1/3 = 0.3333)",
		"x.toml:8: key baselines.budgets: has 2 entries but the data has 3 assets",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("error\n%s\nlacks\n%s", got, w)
		}
	}
	// max_weight = 1/3 is feasible for 3 assets; equal-weight alone does
	// not use max_weight.
	if got := parseErr(t, "[experiment]\nseed = 1\n[market.synthetic]\nassets = 3\n[baselines]\nmethods = [\"min-variance\"]\nmax_weight = 0.3333333333333333\n[report]\nbenchmarks = []\n"); got != "" {
		t.Errorf("max_weight 1/3 with 3 assets: %s", got)
	}
	if got := parseErr(t, "[experiment]\nseed = 1\n[market.synthetic]\nassets = 3\n[baselines]\nmethods = [\"equal-weight\"]\nmax_weight = 0.2\n[report]\nbenchmarks = []\n"); got != "" {
		t.Errorf("max_weight 0.2 with equal-weight only: %s", got)
	}

	// Files: 3 assets written from the synthetic market; the experiment
	// has an agent, which must not start training.
	dataDir := t.TempDir()
	sc := synth.Defaults()
	sc.Assets, sc.Bars = 3, 400
	p, _, err := synth.Generate(sc, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := market.WriteCSV(dataDir, p); err != nil {
		t.Fatal(err)
	}
	src := `[experiment]
seed = 1

[data]
source = "files"
paths = ["` + filepath.ToSlash(dataDir) + `"]

[agents.ppo]
type = "ppo"
total_steps = 256

[baselines]
methods = ["equal-weight", "risk-parity", "mean-variance"]
max_weight = 0.25

[walkforward]
train = 200
test = 50
`
	c, err := Parse("files.toml", []byte(src), nil)
	if err != nil {
		t.Fatalf("the asset count of files is unknown at load time, so the file must load: %v", err)
	}
	out := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), c, RunOptions{Out: out, Quiet: true})
	var ce ConfigErrors
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "files.toml:14: key baselines.max_weight = 0.25 is infeasible for 3 assets") {
		t.Fatalf("run with max_weight 0.25 on 3 assets: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "seed-0")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run started before the check (seed-0: %v)", err)
	}
	// From --set the error names --set.
	c, err = Parse("files.toml", []byte(src), []string{"baselines.max_weight=0.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAssets([]string{"A", "B", "C"}); err == nil || !strings.Contains(err.Error(), "--set: key baselines.max_weight = 0.3 is infeasible for 3 assets") {
		t.Errorf("CheckAssets with --set max_weight: %v", err)
	}
}

// TestReferenceSeedRequired: the reference shows experiment.seed as
// required, not with the zero default.
func TestReferenceSeedRequired(t *testing.T) {
	var b strings.Builder
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| `seed` | integer | required |") {
		i := strings.Index(b.String(), "| `seed`")
		t.Errorf("reference row of experiment.seed: %q", b.String()[i:min(len(b.String()), i+60)])
	}
}
