package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/folio-rl/folio/internal/golden"
)

// runCLI calls the command's run function in-process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(context.Background(), err, &errb)
	return out.String(), errb.String(), code
}

func TestHelpGolden(t *testing.T) {
	out, _, code := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var all strings.Builder
	all.WriteString(out)
	for _, c := range commands() {
		o, _, code := runCLI(t, "help", c.name)
		if code != 0 {
			t.Fatalf("help %s: exit %d", c.name, code)
		}
		all.WriteString("\n=== folio help " + c.name + "\n" + o)
	}
	golden.Check(t, "help", []byte(all.String()))
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "no command given"},
		{"misspelt command", []string{"runn"}, 2, `did you mean "run"`},
		{"bad flag", []string{"run", "--bogus", "x.toml"}, 2, "flag provided but not defined"},
		{"missing file argument", []string{"run"}, 2, "expected one experiment file"},
		{"missing file", []string{"check", "does-not-exist.toml"}, 1, "does-not-exist.toml"},
		{"broken config", []string{"check", "../../experiments/testdata/broken/misspelt_key.toml"}, 1, `did you mean "taker_bps"`},
		{"help flag", []string{"check", "-h"}, 0, ""},
		{"version", []string{"version"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if c.msg != "" && !strings.Contains(errOut, c.msg) {
				t.Errorf("stderr %q lacks %q", errOut, c.msg)
			}
			if c.code == 0 && c.name == "version" && !strings.HasPrefix(out, "folio ") {
				t.Errorf("version prints %q", out)
			}
		})
	}
	var b bytes.Buffer
	if code := exitCode(context.Background(), context.Canceled, &b); code != 130 {
		t.Errorf("interrupted: exit %d, want 130", code)
	}
	if code := exitCode(context.Background(), errors.New("x"), &b); code != 1 {
		t.Errorf("failure: exit %d, want 1", code)
	}
}

// TestBrokenConfigs checks that each crafted broken file produces its clear
// error naming the file, line, key and fix; a file with several problems
// lists each (one expectation per line of the message).
func TestBrokenConfigs(t *testing.T) {
	want := map[string]string{
		"misspelt_key.toml":            `misspelt_key.toml:6: key costs.taker_bsp: unknown key (did you mean "taker_bps"?)`,
		"misspelt_table.toml":          `misspelt_table.toml:1: key experimnt: unknown key (did you mean "experiment"?)`,
		"wrong_type.toml":              `wrong_type.toml:6: key env.window: wrong type: the file gives a string, the key expects an integer`,
		"out_of_range.toml":            `out_of_range.toml:6: key env.window = 0: must be ≥ 1`,
		"missing_seed.toml":            `missing_seed.toml:1: key experiment.seed: is required`,
		"bad_agent_type.toml":          `bad_agent_type.toml:6: key agents.a.type: "ppoo" is not an agent type (did you mean "ppo"?)`,
		"agent_misspelt.toml":          `agent_misspelt.toml:7: key agents.a.learnng_rate: unknown key (did you mean "learning_rate"?)`,
		"files_without_paths.toml":     `files_without_paths.toml:5: key data.paths: source = "files" needs at least one path (add paths`,
		"unknown_baseline.toml":        `unknown_baseline.toml:6: key baselines.methods: "risk-party" is not allowed (did you mean "risk-parity"?`,
		"syntax.toml":                  `syntax.toml:5: TOML syntax:`,
		"guard_range.toml":             `guard_range.toml:6: key guard.max_weight = 1.5 out of range [0, 1]`,
		"negative_fee.toml":            `negative_fee.toml:6: key costs.taker_bps = -5: must be in [0, 1000] bps`,
		"balanced_without_labels.toml": `balanced_without_labels.toml:9: key env.regime_sampling: "balanced" needs regime labels, but data.regimes = "none"`,
		"unknown_fee_asset.toml":       `unknown_fee_asset.toml:5: key costs.asset: entry 1 names asset "SYN1", which is not in the data (SYN01, SYN02,`,
		"agent_names_clash.toml":       `agent_names_clash.toml:8: key agents.ppo: writes to the same files as agent "PPO"`,
		"misspelt_value.toml":          `misspelt_value.toml:6: key env.reward = "log_grwth": want one of log_growth, differential_sharpe, drawdown_penalised, turnover_penalised, vol_scaled (did you mean "log_growth"?)`,
		"vol_feature_range.toml":       `vol_feature_range.toml:8: key agents.a.vol_features: index 40 is not an observed per-asset feature (there are 13) (use indices of forecast-volatility features among 0=logret,`,
		"return_feature_range.toml":    `return_feature_range.toml:7: key agents.a.return_feature: 20 is not an observed per-asset feature index (there are 13) (use -1 (no cross-asset statistics) or one of 0=logret,`,
		"negative_seed.toml":           `negative_seed.toml:4: key experiment.seed = -3: must be ≥ 0 (use a non-negative integer, e.g. seed = 3)`,
		"bad_widths.toml": `bad_widths.toml:8: key agents.a.hidden = [16, 0]: every layer width must be ≥ 1 (entry 2 is 0)` + "\n" +
			`bad_widths.toml:10: key agents.a.decoder_hidden = [0]: every layer width must be ≥ 1 (entry 1 is 0)`,
		"step_not_test.toml":         `step_not_test.toml:8: key walkforward.step = 30 differs from walkforward.test = 60: test windows would overlap, counting bars twice in the stitched returns and metrics (set step = 60 (= test) or 0, which means = test)`,
		"max_weight_infeasible.toml": `max_weight_infeasible.toml:11: key baselines.max_weight = 0.2 is infeasible for 3 assets: 3 × 0.2 < 1, so risk-parity, mean-variance cannot be fully invested (use max_weight ≥ 1/3 = 0.3333)`,
		"budgets_length.toml":        `budgets_length.toml:11: key baselines.budgets: has 2 entries but the data has 3 assets (risk-budget needs one per asset, in asset order) (give 3 entries)`,
		"unknown_feature.toml":       `unknown_feature.toml:7: key features.asset: unknown feature: "ewma_vl"`,
	}
	files, _ := filepath.Glob("../../experiments/testdata/broken/*.toml")
	if len(files) != len(want) {
		t.Fatalf("%d broken files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, errOut, code := runCLI(t, "check", f)
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			w, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatalf("no expectation for %s", filepath.Base(f))
			}
			for _, line := range strings.Split(w, "\n") {
				if !strings.Contains(errOut, line) {
					t.Errorf("error\n%s\nlacks\n%s", errOut, line)
				}
			}
			// No message names a key the schema does not have (the
			// network's width lists used to come out as "key agents.a.layer").
			if strings.Contains(errOut, ".layer:") {
				t.Errorf("error names a non-existent key: %s", errOut)
			}
		})
	}
}

func TestSetOverrides(t *testing.T) {
	f := "../../experiments/testdata/tiny.toml"
	out, errOut, code := runCLI(t, "check", f, "--set", "costs.taker_bps=25", "--set", "baselines.methods=hrp,min-variance", "--set", "walkforward.mode=expanding")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"taker_bps = 25.0", `methods = ["hrp", "min-variance"]`, `mode = "expanding"`} {
		if !strings.Contains(out, w) {
			t.Errorf("resolved config lacks %q", w)
		}
	}
	_, errOut, code = runCLI(t, "check", f, "--set", "costs.taker_bsp=25")
	if code != 1 || !strings.Contains(errOut, `--set: key costs.taker_bsp: unknown key (did you mean "costs.taker_bps"?)`) {
		t.Errorf("misspelt --set: exit %d, %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "check", f, "--set", "env.window=-3")
	if code != 1 || !strings.Contains(errOut, "--set: key env.window = -3") {
		t.Errorf("out-of-range --set: exit %d, %q", code, errOut)
	}
	// A value of the wrong type names what the key expects, not the TOML
	// parser's internals.
	_, errOut, code = runCLI(t, "check", f, "--set", "env.window=abc")
	if code != 1 || !strings.Contains(errOut, "--set: key env.window: cannot use abc here: the key expects an integer (e.g. 64)") || strings.Contains(errOut, `last key`) {
		t.Errorf("wrong-type --set: exit %d, %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "check", f, "--set", "costs.slippage=sqr")
	if code != 1 || !strings.Contains(errOut, `(did you mean "sqrt"?)`) {
		t.Errorf("misspelt enum --set: exit %d, %q", code, errOut)
	}
	// A bad value given with --set is attributed to --set, not to a line
	// of the file (features.asset is on line 10 of tiny.toml).
	_, errOut, code = runCLI(t, "check", f, "--set", `features.asset=["logret","ewma_vl"]`)
	if code != 1 || !strings.Contains(errOut, `--set: key features.asset: unknown feature: "ewma_vl"`) || strings.Contains(errOut, "tiny.toml:") {
		t.Errorf("bad feature list from --set: exit %d, %q", code, errOut)
	}
	// So is an error the override causes in another key: without
	// risk-parity among the baselines, the default report.benchmarks
	// names a baseline that does not run.
	_, errOut, code = runCLI(t, "check", "../../experiments/testdata/tiny_agents.toml", "--set", "baselines.methods=equal-weight,mean-variance")
	if code != 1 || !strings.Contains(errOut, `--set: key report.benchmarks: benchmark "risk-parity" is not among baselines.methods`) {
		t.Errorf("--set baselines.methods: exit %d, %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "check", f, "--set", "walkforward.step=30")
	if code != 1 || !strings.Contains(errOut, "--set: key walkforward.step = 30 differs from walkforward.test = 60") {
		t.Errorf("--set walkforward.step=30: exit %d, %q", code, errOut)
	}
	// Baseline settings infeasible for the 3 assets of the synthetic market.
	_, errOut, code = runCLI(t, "check", f, "--set", "baselines.max_weight=0.2")
	if code != 1 || !strings.Contains(errOut, "--set: key baselines.max_weight = 0.2 is infeasible for 3 assets") {
		t.Errorf("--set baselines.max_weight=0.2: exit %d, %q", code, errOut)
	}
	// A negative seed does not wrap around.
	_, errOut, code = runCLI(t, "check", f, "--set", "experiment.seed=-3")
	if code != 1 || !strings.Contains(errOut, "--set: key experiment.seed = -3: must be ≥ 0") {
		t.Errorf("--set experiment.seed=-3: exit %d, %q", code, errOut)
	}
}

// TestRunFlagErrors checks the flag combinations run and train refuse
// with a usage error (exit 2) before doing any work.
func TestRunFlagErrors(t *testing.T) {
	tiny := "../../experiments/testdata/tiny.toml"
	agents := "../../experiments/testdata/tiny_agents.toml"
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"run with --jobs 0", []string{"run", tiny, "--jobs", "0", "--quiet"}, "--jobs 0: must be ≥ 1"},
		{"run with --jobs -2", []string{"run", tiny, "--jobs=-2", "--quiet"}, "--jobs -2: must be ≥ 1"},
		{"run with --out and --resume", []string{"run", tiny, "--out", filepath.Join(dir, "a"), "--resume", filepath.Join(dir, "b")}, "--out and --resume together"},
		{"train with --out and --resume", []string{"train", agents, "--out", filepath.Join(dir, "a"), "--resume", filepath.Join(dir, "b")}, "--out and --resume together"},
		{"train with --jobs", []string{"train", agents, "--jobs", "2"}, "flag provided but not defined: -jobs"},
		{"train with several seeds", []string{"train", agents, "--set", "experiment.seeds=3"}, "experiment.seeds = 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, c.args...)
			if code != 2 || !strings.Contains(errOut, c.msg) {
				t.Errorf("exit %d, want 2; stderr %q lacks %q", code, errOut, c.msg)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("refused commands created %v (%v)", entries, err)
	}
}

// TestResumeOtherCommand: a run directory is resumed only by the command
// that made it (run.json records it).
func TestResumeOtherCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, errOut, code := runCLI(t, "run", "../../experiments/testdata/tiny.toml", "--out", dir, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ri struct {
		Command string `json:"command"`
	}
	if err := json.Unmarshal(b, &ri); err != nil || ri.Command != "run" {
		t.Fatalf("run.json command %q (%v), want run", ri.Command, err)
	}
	_, errOut, code := runCLI(t, "train", "../../experiments/testdata/tiny_agents.toml", "--resume", dir, "--quiet")
	if code != 1 || !strings.Contains(errOut, "made by 'folio run', not 'folio train'") {
		t.Errorf("train --resume of a run directory: exit %d, %q", code, errOut)
	}
	// A directory of folio train (recognised by its train.json) is not
	// resumed by folio run.
	tdir := t.TempDir()
	tb := []byte(`{"experiment":"tiny","config_hash":"x","status":"training"}`)
	if err := os.WriteFile(filepath.Join(tdir, "run.json"), tb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "train.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "run", "../../experiments/testdata/tiny.toml", "--resume", tdir, "--quiet")
	if code != 1 || !strings.Contains(errOut, "made by 'folio train', not 'folio run'") {
		t.Errorf("run --resume of a train directory: exit %d, %q", code, errOut)
	}
}

func TestCheckGolden(t *testing.T) {
	out, errOut, code := runCLI(t, "check", "../../experiments/testdata/tiny.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden.Check(t, "check_tiny", []byte(out))
}

func TestConfigDoc(t *testing.T) {
	out, _, code := runCLI(t, "config", "--doc")
	if code != 0 || !strings.Contains(out, "# folio configuration reference") || !strings.Contains(out, "`taker_bps`") {
		t.Fatalf("config --doc: exit %d, %d bytes", code, len(out))
	}
}

// TestRunAndReport runs the tiny experiment end to end in-process, then
// regenerates the report and checks it is byte-identical.
func TestRunAndReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, code := runCLI(t, "run", "../../experiments/testdata/tiny.toml", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("--quiet run wrote to stderr: %q", errOut)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), filepath.Join(dir, "report.html")) {
		t.Errorf("last line is not the report path: %q", out)
	}
	for _, f := range []string{"config.toml", "run.json", "results.json", "report.html", "report.md", "report.json", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	beforeHTML, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	// Delete the report so that "regenerated" cannot mean "left alone".
	for _, f := range []string{"report.html", "report.md", "report.json", "summary.csv"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := runCLI(t, "report", dir); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	afterHTML, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if len(before) == 0 || !bytes.Equal(before, after) || !bytes.Equal(beforeHTML, afterHTML) {
		t.Error("folio report did not regenerate a byte-identical report")
	}
	var ri map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	if err := json.Unmarshal(b, &ri); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"config_hash", "root_seed", "data_fingerprint", "code", "seeds"} {
		if _, ok := ri[k]; !ok {
			t.Errorf("run.json lacks %s", k)
		}
	}
	// The same file and seed give a byte-identical report JSON.
	dir2 := filepath.Join(t.TempDir(), "run2")
	if _, errOut, code := runCLI(t, "run", "../../experiments/testdata/tiny.toml", "--out", dir2, "--quiet"); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	again, _ := os.ReadFile(filepath.Join(dir2, "report.json"))
	if !bytes.Equal(before, again) {
		t.Error("two runs of the same file and seed give different report.json")
	}
	// A run directory is not overwritten.
	if _, errOut, code := runCLI(t, "run", "../../experiments/testdata/tiny.toml", "--out", dir, "--quiet"); code != 1 || !strings.Contains(errOut, "already holds a run") {
		t.Errorf("rerun into an existing run directory: exit %d, %q", code, errOut)
	}
}

var floatRE = regexp.MustCompile(`"(weights|risk_contributions)": \[`)

func TestOptimizeJSON(t *testing.T) {
	dir := t.TempDir()
	csv := "timestamp,AAA,BBB,CCC\n"
	rows := []string{"0.01,0.02,-0.01", "-0.02,0.01,0.00", "0.015,-0.01,0.02", "0.00,0.03,-0.02", "0.01,-0.02,0.01", "-0.01,0.00,0.005"}
	for i, r := range rows {
		csv += "2024-01-0" + string(rune('1'+i)) + "," + r + "\n"
	}
	path := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"equal-weight", "inverse-vol", "risk-parity", "min-variance", "mean-variance", "max-sharpe", "hrp", "black-litterman"} {
		out, errOut, code := runCLI(t, "optimize", "--returns", path, "--method", m, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", m, code, errOut)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v\n%s", m, err, out)
		}
		for _, k := range []string{"method", "assets", "weights", "expected_return", "volatility", "risk_contributions", "fallback", "kkt_residual"} {
			if _, ok := res[k]; !ok {
				t.Errorf("%s: JSON lacks %s", m, k)
			}
		}
		sum := 0.0
		for _, w := range res["weights"].([]any) {
			sum += w.(float64)
		}
		if sum < 1-1e-9 || sum > 1+1e-9 {
			t.Errorf("%s: weights sum to %v", m, sum)
		}
	}
	_ = floatRE
	if _, errOut, code := runCLI(t, "optimize", "--returns", path, "--method", "risk-party"); code == 0 || !strings.Contains(errOut, "risk-party") {
		t.Errorf("unknown method: exit %d %q", code, errOut)
	}
}

func TestBacktestAndDataCommands(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, "data", "synth", "--assets", "3", "--bars", "300", "--seed", "5", "--out", dir); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "backtest", "--data", dir, "--strategy", "weights=0.3,0.3,0.3", "--fee-bps", "10", "--json")
	if code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, errOut)
	}
	var res struct {
		Strategy       string             `json:"strategy"`
		Assets         []string           `json:"assets"`
		Bars           int                `json:"bars"`
		PeriodsPerYear float64            `json:"periods_per_year"`
		FinalValue     float64            `json:"final_value"`
		Metrics        map[string]any     `json:"metrics"`
		Returns        []float64          `json:"returns"`
		Extra          map[string]float64 `json:"-"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Bars != 300 || len(res.Returns) != 299 || res.PeriodsPerYear != 365 || len(res.Assets) != 3 {
		t.Errorf("backtest JSON: bars %d, returns %d, ppy %v, assets %v", res.Bars, len(res.Returns), res.PeriodsPerYear, res.Assets)
	}
	for _, k := range []string{"total_return", "annual_return", "annual_volatility", "sharpe", "sortino", "downside_risk", "max_drawdown", "calmar",
		"omega", "tail_ratio", "value_at_risk", "conditional_value_at_risk", "stability", "turnover", "fees_paid", "slippage_paid"} {
		if _, ok := res.Metrics[k]; !ok {
			t.Errorf("backtest metrics lack %s", k)
		}
	}
	out, errOut, code = runCLI(t, "data", "describe", dir, "--json")
	if code != 0 {
		t.Fatalf("describe: exit %d: %s", code, errOut)
	}
	var desc struct {
		Assets []map[string]any `json:"assets"`
	}
	if err := json.Unmarshal([]byte(out), &desc); err != nil || len(desc.Assets) != 3 {
		t.Fatalf("describe JSON: %v %s", err, out)
	}
	for _, k := range []string{"name", "bars", "first", "last", "interval", "ann_return", "ann_vol", "skew", "excess_kurtosis", "max_drawdown", "garch"} {
		if _, ok := desc.Assets[0][k]; !ok {
			t.Errorf("describe JSON lacks %s", k)
		}
	}
	if g, ok := desc.Assets[0]["garch"].(map[string]any); ok {
		for _, k := range []string{"mu", "omega", "alpha", "beta", "loglik", "next_variance"} {
			if _, ok := g[k]; !ok {
				t.Errorf("describe GARCH lacks %s", k)
			}
		}
	}
	if _, errOut, code := runCLI(t, "data", "validate", dir); code != 0 {
		t.Errorf("validate synthetic: exit %d: %s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "BAD.csv")
	os.WriteFile(bad, []byte("timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-02T00:00:00Z,1.5,1.4,1.2,1.3,10\n"), 0o644)
	out, _, code = runCLI(t, "data", "validate", bad)
	if code != 1 || !strings.Contains(out, "BAD.csv:3") {
		t.Errorf("validate bad file: exit %d, %q", code, out)
	}
}

// TestTrainAndEval trains the tiny agents with `folio train`, evaluates the
// saved models with `folio eval`, and checks the run directory, the
// evaluation report, its reproducibility and the errors for bad input.
func TestTrainAndEval(t *testing.T) {
	if testing.Short() {
		t.Skip("trains agents")
	}
	dir := filepath.Join(t.TempDir(), "train")
	out, errOut, code := runCLI(t, "train", "../../experiments/testdata/tiny_agents.toml", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"config.toml", "run.json", "train.json", "models/ppo.model", "models/ddpg.model",
		"fold-1/ppo.train/metrics.jsonl", "fold-1/ddpg.train/metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(out, filepath.Join(dir, "models", "ppo.model")) {
		t.Errorf("train output does not name the model files: %q", out)
	}
	var tr struct {
		From, To string
	}
	b, _ := os.ReadFile(filepath.Join(dir, "train.json"))
	if err := json.Unmarshal(b, &tr); err != nil || tr.From == "" || tr.To <= tr.From {
		t.Fatalf("train.json: %v %+v", err, tr)
	}

	out, errOut, code = runCLI(t, "eval", dir, "--quiet")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	reports, _ := filepath.Glob(filepath.Join(dir, "eval-*", "report.json"))
	if len(reports) != 1 || !strings.Contains(out, "report.html") {
		t.Fatalf("eval wrote %v, printed %q", reports, out)
	}
	first, _ := os.ReadFile(reports[0])
	var rep struct {
		OOSStart   string `json:"oos_start"`
		Strategies []struct {
			Name string `json:"name"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal(first, &rep); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range rep.Strategies {
		names[s.Name] = true
	}
	for _, n := range []string{"ppo", "ddpg", "equal-weight", "risk-parity", "mean-variance"} {
		if !names[n] {
			t.Errorf("eval report lacks %s (has %v)", n, names)
		}
	}
	// By default the evaluation starts after the training range: no bar the
	// agents trained on is scored.
	if rep.OOSStart <= tr.To {
		t.Errorf("evaluation starts %s, inside the training range ending %s", rep.OOSStart, tr.To)
	}
	// Evaluating again gives a byte-identical report.
	if err := os.RemoveAll(filepath.Dir(reports[0])); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "eval", dir, "--quiet"); code != 0 {
		t.Fatalf("second eval: exit %d: %s", code, errOut)
	}
	again, _ := os.ReadFile(reports[0])
	if !bytes.Equal(first, again) {
		t.Error("two evaluations of the same models give different report.json")
	}

	// Evaluating over the training range is labelled in sample.
	if _, errOut, code := runCLI(t, "eval", dir, "--start", tr.From[:10], "--end", tr.To[:10], "--quiet"); code != 0 {
		t.Fatalf("in-sample eval: exit %d: %s", code, errOut)
	}
	var ins []string
	all, _ := filepath.Glob(filepath.Join(dir, "eval-*", "report.json"))
	for _, f := range all {
		if f != reports[0] {
			ins = append(ins, f)
		}
	}
	if len(ins) != 1 {
		t.Fatalf("in-sample eval wrote %v", all)
	}
	var insRep struct {
		InSample bool   `json:"in_sample"`
		Title    string `json:"title"`
	}
	b, _ = os.ReadFile(ins[0])
	if err := json.Unmarshal(b, &insRep); err != nil || !insRep.InSample || !strings.Contains(insRep.Title, "in sample") {
		t.Errorf("an evaluation over the training range is not labelled in sample: %v %+v", err, insRep)
	}

	// Bad input: a date range outside the data, a directory without models,
	// a corrupted model file.
	if _, errOut, code := runCLI(t, "eval", dir, "--start", "2031-01-01", "--quiet"); code == 0 || !strings.Contains(errOut, "2031-01-01") {
		t.Errorf("eval after the data: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "eval", dir, "--start", "2019-13-01", "--quiet"); code != 2 || !strings.Contains(errOut, "--start") {
		t.Errorf("eval with an unreadable date: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "eval", t.TempDir(), "--quiet"); code == 0 || !strings.Contains(errOut, "folio train") {
		t.Errorf("eval of a directory without a training run: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(dir, "models", "ppo.model")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "eval", dir, "--quiet"); code != 1 || !strings.Contains(errOut, "ppo.model") {
		t.Errorf("eval with a corrupted model: exit %d, %q", code, errOut)
	}
}
