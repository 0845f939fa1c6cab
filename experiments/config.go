package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/market/synth"
)

// Config is a whole experiment: one TOML file. Every table has defaults;
// only experiment.seed is required.
type Config struct {
	Experiment ExperimentConfig `toml:"experiment"`
	Data       DataConfig       `toml:"data"`
	Market     MarketConfig     `toml:"market"`
	Features   features.Config  `toml:"features"`
	Env        env.Config       `toml:"env"`
	Costs      CostsConfig      `toml:"costs"`
	Guard      guard.Config     `toml:"guard"`
	// Agents are the [agents.NAME] tables, in name order.
	Agents      []*Agent          `toml:"-"`
	Baselines   BaselinesConfig   `toml:"baselines"`
	WalkForward WalkForwardConfig `toml:"walkforward"`
	Report      ReportConfig      `toml:"report"`

	// file is the experiment file the config came from ("" when built in
	// code); relative data paths resolve against its directory.
	file string
	// sets are the --set overrides applied, in order.
	sets []string
	// lines maps the key paths defined in the file to their lines, for
	// errors found after parsing (settings infeasible for the data).
	lines map[string]int
}

// MarketConfig is the [market] table.
type MarketConfig struct {
	// Synthetic configures the built-in synthetic market used when
	// data.source = "synthetic". Its bar interval is data.interval.
	Synthetic synth.Config `toml:"synthetic"`
}

// CostsConfig is the [costs] table: fees, slippage, liquidity and the
// capital they are measured against.
type CostsConfig struct {
	env.Costs
	// InitialCapital is the portfolio value at the start, in quote currency
	// (USDT for the real data). It sets the trade sizes that slippage
	// impact and the liquidity cap compare with bar dollar volume.
	// Default 100000; range > 0.
	InitialCapital float64 `toml:"initial_capital"`
}

// Defaults returns the configuration with every default filled in. The
// seed is 0 until a file sets it.
func Defaults() Config {
	e := env.Defaults()
	s := synth.Defaults()
	return Config{
		Experiment:  defaultExperiment(),
		Data:        defaultData(),
		Market:      MarketConfig{Synthetic: s},
		Features:    features.Defaults(),
		Env:         e,
		Costs:       CostsConfig{Costs: e.Costs, InitialCapital: e.InitialCapital},
		Guard:       guard.Defaults(),
		Baselines:   defaultBaselines(),
		WalkForward: defaultWalkForward(),
		Report:      defaultReport(),
	}
}

// File returns the experiment file the configuration was read from.
func (c *Config) File() string { return c.file }

// Load reads an experiment file, applies --set overrides (key.path=value)
// and validates the result. Every problem is reported with the file, the
// line where known, the key path and a fix.
func Load(path string, sets []string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: err.Error(), Fix: "check the path; shipped experiments are in experiments/"}
	}
	cfg, err := Parse(path, src, sets)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes experiment TOML text; name labels errors.
func Parse(name string, src []byte, sets []string) (*Config, error) {
	cfg := Defaults()
	cfg.file = name
	lines := keyLines(string(src))
	var raw struct {
		Config
		Agents map[string]toml.Primitive `toml:"agents"`
	}
	raw.Config = cfg
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&raw)
	if err != nil {
		return nil, translateDecodeError(name, err)
	}
	cfg = raw.Config
	cfg.file = name
	var errs ConfigErrors
	agentNames := make([]string, 0, len(raw.Agents))
	for n := range raw.Agents {
		agentNames = append(agentNames, n)
	}
	sort.Strings(agentNames)
	for _, n := range agentNames {
		a, aerrs := decodeAgent(md, name, lines, n, raw.Agents[n])
		errs = append(errs, aerrs...)
		if a != nil {
			cfg.Agents = append(cfg.Agents, a)
		}
	}
	for _, k := range md.Undecoded() {
		if isAgentKey(k) {
			continue // reported by decodeAgent
		}
		errs = append(errs, unknownKeyError(name, lines[k.String()], k, validKeysAt(k[:len(k)-1])))
	}
	if !md.IsDefined("experiment", "seed") {
		errs = append(errs, &ConfigError{File: name, Line: lines["experiment"], Key: "experiment.seed",
			Msg: "is required (there is no clock-based default)", Fix: "add seed = 1 (any integer ≥ 0) under [experiment]"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	cfg.lines = lines
	for _, s := range sets {
		if err := cfg.Set(s); err != nil {
			return nil, err
		}
	}
	cfg.sets = append([]string(nil), sets...)
	for _, a := range cfg.Agents {
		a.resolveFeatures(cfg.observedFeatures())
	}
	verrs := cfg.validate()
	if s := signedSeed(src); s < 0 && !fromSet("experiment.seed", sets) {
		// The decoder wraps a negative integer into the unsigned field.
		verrs = append(ConfigErrors{negativeSeedError(name, lines["experiment.seed"], s)}, verrs...)
	}
	if len(verrs) > 0 {
		var fileErrs map[string]bool
		if len(sets) > 0 {
			// An error the file alone does not have comes from --set.
			fileErrs = map[string]bool{}
			if _, err := Parse(name, src, nil); err != nil {
				var fe ConfigErrors
				if errors.As(err, &fe) {
					for _, e := range fe {
						fileErrs[e.Key+"\x00"+e.Msg] = true
					}
				}
			}
		}
		cfg.locate(verrs, fileErrs)
		return nil, verrs
	}
	return &cfg, nil
}

// signedSeed returns experiment.seed of a document that decoded, read as
// the signed integer TOML has (0 when it cannot be read so).
func signedSeed(src []byte) int64 {
	var probe struct {
		Experiment struct {
			Seed int64 `toml:"seed"`
		} `toml:"experiment"`
	}
	if _, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&probe); err != nil {
		return 0
	}
	return probe.Experiment.Seed
}

func negativeSeedError(file string, line int, s int64) *ConfigError {
	return &ConfigError{File: file, Line: line, Key: "experiment.seed", Msg: fmt.Sprintf("= %d: must be ≥ 0", s),
		Fix: fmt.Sprintf("use a non-negative integer, e.g. seed = %d", -s)}
}

// locate fills in where each error without a file comes from: "--set"
// when the key was overridden on the command line or when the file alone
// does not produce the error (fileErrs, keyed by key and message; nil when
// there were no overrides), otherwise the file and the line of the key, or
// of its nearest enclosing table in the file.
func (c *Config) locate(errs ConfigErrors, fileErrs map[string]bool) {
	for _, e := range errs {
		if e.File != "" {
			continue
		}
		if fromSet(e.Key, c.sets) || (fileErrs != nil && !fileErrs[e.Key+"\x00"+e.Msg]) {
			e.File, e.Line = "--set", 0
			continue
		}
		e.File = c.file
		if e.File == "" {
			e.File = "(built in code)"
		}
		e.Line = lineOf(c.lines, e.Key)
	}
}

// lineOf returns the line of a key, or of its nearest enclosing table
// present in the file, or 0.
func lineOf(lines map[string]int, key string) int {
	for k := key; k != ""; {
		if l, ok := lines[k]; ok {
			return l
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

func fromSet(key string, sets []string) bool {
	for _, s := range sets {
		k, _, _ := strings.Cut(s, "=")
		if strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}

func isAgentKey(k toml.Key) bool { return len(k) >= 2 && k[0] == "agents" }

// validKeysAt lists the keys the schema accepts under the table at path.
func validKeysAt(path toml.Key) []string {
	t := reflectTypeAt(path)
	if t == nil {
		return nil
	}
	return schemaKeys(t)
}

// validate checks every section and returns all problems.
func (c *Config) validate() ConfigErrors {
	var errs ConfigErrors
	errs = append(errs, c.Experiment.validate()...)
	errs = append(errs, c.Data.validate()...)
	errs = append(errs, c.Baselines.validate()...)
	errs = append(errs, c.WalkForward.validate()...)
	errs = append(errs, c.Report.validate()...)
	if c.Data.Source == "synthetic" {
		s := c.synthConfig()
		if err := s.Validate(); err != nil {
			errs = append(errs, wrapSectionErr("market.synthetic", err))
		}
	}
	errs = append(errs, c.validateFeatures()...)
	ec := c.envConfig()
	if err := ec.Validate(); err != nil {
		errs = append(errs, wrapSectionErr("env", err))
	}
	if err := c.Guard.Validate(); err != nil {
		errs = append(errs, wrapSectionErr("guard", err))
	}
	if !(c.Costs.InitialCapital > 0) {
		errs = append(errs, fieldErr("costs.initial_capital", "%v must be > 0", c.Costs.InitialCapital))
	}
	files := map[string]string{} // file name of a strategy's outputs → its name
	for _, a := range c.Agents {
		errs = append(errs, a.validate(c)...)
		if other, ok := files[slugName(a.Name)]; ok {
			errs = append(errs, &ConfigError{Key: "agents." + a.Name,
				Msg: fmt.Sprintf("writes to the same files as agent %q (names are compared case-insensitively)", other),
				Fix: "rename one of the two agents"})
		}
		files[slugName(a.Name)] = a.Name
	}
	if c.Data.Source == "synthetic" && c.Market.Synthetic.Assets >= 1 {
		errs = append(errs, c.checkAssets(c.Market.Synthetic.Assets)...)
		errs = append(errs, c.checkAssetNames(synth.AssetNames(c.Market.Synthetic.Assets))...)
	}
	errs = append(errs, c.checkRegimeUse()...)
	if len(c.Agents) == 0 && len(c.Baselines.Methods) == 0 {
		errs = append(errs, &ConfigError{Key: "baselines.methods", Msg: "the experiment has no agents and no baselines", Fix: "add an [agents.NAME] table or baseline methods"})
	}
	for _, b := range c.Report.Benchmarks {
		found := false
		for _, m := range c.Baselines.Methods {
			found = found || m == b
		}
		if !found && len(c.Agents) > 0 {
			errs = append(errs, &ConfigError{Key: "report.benchmarks", Msg: fmt.Sprintf("benchmark %q is not among baselines.methods", b), Fix: "add it to baselines.methods or remove it from report.benchmarks"})
		}
	}
	return errs
}

// validateFeatures checks [features] key by key: every bad or repeated
// name is reported under the list that holds it (features.Config.Validate
// stops at the first problem and names no key), then the other keys.
func (c *Config) validateFeatures() ConfigErrors {
	f := c.Features
	var errs ConfigErrors
	if len(f.Asset) == 0 {
		e := fieldErr("features.asset", "is empty: the observation needs at least one per-asset feature")
		e.Fix = `e.g. asset = ["logret", "ewma_vol"]`
		errs = append(errs, e)
	}
	seen := map[string]bool{}
	for _, l := range []struct {
		key    string
		names  []string
		global bool
	}{{"features.asset", f.Asset, false}, {"features.global", f.Global, true}} {
		for _, n := range l.names {
			if seen[n] {
				e := fieldErr(l.key, "%q is selected twice", n)
				e.Fix = "list each feature once, in features.asset or features.global"
				errs = append(errs, e)
				continue
			}
			seen[n] = true
			// Check the name alone, in its list, next to a valid other list.
			probe := features.Defaults()
			probe.Asset, probe.Global = []string{n}, nil
			if l.global {
				probe.Asset, probe.Global = []string{"logret"}, []string{n}
				if n == "logret" {
					probe.Asset = []string{"ewma_vol"}
				}
			}
			if err := probe.Validate(); err != nil {
				seen[n] = false // a bad name is reported here, not again as a repeat
				msg := strings.TrimPrefix(err.Error(), "features: ")
				msg = strings.Replace(msg, "is not a asset feature", "is not a per-asset feature", 1)
				e := fieldErr(l.key, "%s", msg)
				if errors.Is(err, features.ErrUnknownFeature) {
					if s := suggest(n, features.Available()); s != "" {
						e.Fix = fmt.Sprintf("did you mean %q?", s)
					}
				}
				errs = append(errs, e)
			}
		}
	}
	rest := f
	rest.Asset, rest.Global = []string{"logret"}, nil
	if err := rest.Validate(); err != nil {
		errs = append(errs, wrapSectionErr("features", err))
	}
	return errs
}

// allocationMethods are the baselines that solve an allocation with the
// box constraint max_weight (agents/baseline: newAllocation).
var allocationMethods = map[string]bool{"inverse-vol": true, "risk-parity": true, "risk-budget": true, "min-variance": true,
	"mean-variance": true, "max-sharpe": true, "efficient-return": true, "hrp": true, "black-litterman": true}

// checkAssets checks the settings whose feasibility depends on the number
// of assets n: the baselines' max_weight and per-asset lists. The baseline
// package checks the same at a strategy's first decision, which is after
// every agent has trained; checking here fails the run before any work.
// The errors carry no file; locate (or Parse) fills it in.
func (c *Config) checkAssets(n int) ConfigErrors {
	b := c.Baselines
	var errs ConfigErrors
	used := map[string]bool{}
	alloc := []string{}
	for _, m := range b.Methods {
		used[m] = true
		if allocationMethods[m] {
			alloc = append(alloc, m)
		}
	}
	if len(alloc) > 0 && b.MaxWeight > 0 && float64(n)*b.MaxWeight < 1-1e-12 {
		e := fieldErr("baselines.max_weight", "= %v is infeasible for %d assets: %d × %v < 1, so %s cannot be fully invested",
			b.MaxWeight, n, n, b.MaxWeight, strings.Join(alloc, ", "))
		e.Fix = fmt.Sprintf("use max_weight ≥ 1/%d = %.4g", n, 1/float64(n))
		errs = append(errs, e)
	}
	perAsset := func(key, method string, got int) {
		e := fieldErr(key, "has %d entries but the data has %d assets (%s needs one per asset, in asset order)", got, n, method)
		e.Fix = fmt.Sprintf("give %d entries", n)
		errs = append(errs, e)
	}
	if used["risk-budget"] && len(b.Budgets) > 0 && len(b.Budgets) != n {
		perAsset("baselines.budgets", "risk-budget", len(b.Budgets))
	}
	if used["constant"] && len(b.Weights) > 0 && len(b.Weights) != n {
		perAsset("baselines.weights", "constant", len(b.Weights))
	}
	if bl := b.BlackLitterman; used["black-litterman"] {
		if len(bl.MarketWeights) > 0 && len(bl.MarketWeights) != n {
			perAsset("baselines.black_litterman.market_weights", "black-litterman", len(bl.MarketWeights))
		}
		if bl.Views == "explicit" {
			for k, row := range bl.P {
				if len(row) != n {
					e := fieldErr("baselines.black_litterman.p", "row %d has %d entries but the data has %d assets (each view is a portfolio over the assets)", k+1, len(row), n)
					e.Fix = fmt.Sprintf("give %d entries per row", n)
					errs = append(errs, e)
					break
				}
			}
		}
	}
	return errs
}

// CheckAssets checks the settings that depend on the number of assets
// (see checkAssets) once the data is loaded, and returns the problems as
// ConfigErrors naming the file, line and key (or --set).
func (c *Config) CheckAssets(names []string) error {
	errs := append(c.checkAssets(len(names)), c.checkAssetNames(names)...)
	if len(errs) == 0 {
		return nil
	}
	c.locate(errs, nil)
	return errs
}

// checkAssetNames checks the settings that name assets (costs.asset
// overrides) against the assets of the data.
func (c *Config) checkAssetNames(names []string) ConfigErrors {
	var errs ConfigErrors
	for i, f := range c.Costs.Asset {
		if slices.Contains(names, f.Asset) {
			continue
		}
		e := fieldErr("costs.asset", "entry %d names asset %q, which is not in the data (%s)", i+1, f.Asset, strings.Join(names, ", "))
		if s := suggestValue(f.Asset, names); s != "" {
			e.Fix = fmt.Sprintf("did you mean %q?", s)
		} else {
			e.Fix = "use one of the data's asset names"
		}
		errs = append(errs, e)
	}
	return errs
}

// checkRegimeUse checks that settings which sample episodes by regime have
// regime labels to sample by.
func (c *Config) checkRegimeUse() ConfigErrors {
	if c.Data.Regimes != "none" {
		return nil
	}
	var errs ConfigErrors
	if c.Env.RegimeSampling == env.SampleBalanced {
		e := fieldErr("env.regime_sampling", "%q needs regime labels, but data.regimes = \"none\"", c.Env.RegimeSampling)
		e.Fix = `set data.regimes (e.g. "auto") or regime_sampling = "uniform"`
		errs = append(errs, e)
	}
	if len(c.Env.Regimes) > 0 {
		e := fieldErr("env.regimes", "%v restricts episodes to regimes, but data.regimes = \"none\" labels none", c.Env.Regimes)
		e.Fix = `set data.regimes (e.g. "auto") or remove env.regimes`
		errs = append(errs, e)
	}
	if c.Env.RegimeTruncate {
		e := fieldErr("env.regime_truncate", "needs regime labels, but data.regimes = \"none\"")
		e.Fix = `set data.regimes (e.g. "auto") or regime_truncate = false`
		errs = append(errs, e)
	}
	return errs
}

// keyInMsgRE finds a TOML key named in a sub-package's validation message
// ("env: window = 0: …", "features: garch_refit 0 must …", "guard:
// max_weight …").
var keyInMsgRE = regexp.MustCompile(`^[a-z]+: ((?:[a-z_]+\.)?[a-z_]+)(?:\[\d+\])?(?:\.[a-z_]+)?(?: =|:| )`)

// wrapSectionErr turns a section's Validate error into a ConfigError with a
// key path when the message names one.
func wrapSectionErr(section string, err error) *ConfigError {
	msg := err.Error()
	key := section
	if m := keyInMsgRE.FindStringSubmatch(msg); m != nil {
		k := m[1]
		if section == "env" && strings.HasPrefix(k, "costs.") {
			key = k
		} else if t := reflectTypeAt(toml.Key(strings.Split(section, "."))); t != nil {
			for _, valid := range schemaKeys(t) {
				if valid == k {
					key = section + "." + k
				}
			}
		}
	}
	if i := strings.Index(msg, ": "); i > 0 && i < 12 {
		msg = msg[i+2:]
	}
	// "window = 0: must be ≥ 1" → "= 0: must be ≥ 1" after the key.
	last := key[strings.LastIndex(key, ".")+1:]
	for _, p := range []string{key + " = ", key[strings.Index(key, ".")+1:] + " = ", last + " = "} {
		if strings.HasPrefix(msg, p) {
			msg = "= " + strings.TrimPrefix(msg, p)
			break
		}
	}
	e := &ConfigError{Key: key, Msg: msg}
	// Enumerated values from the packages read `"logg": want one of a, b, c`:
	// suggest the nearest allowed value.
	if m := enumRE.FindStringSubmatch(msg); m != nil {
		allowed := strings.Split(m[2], ", ")
		if s := suggestValue(m[1], allowed); s != "" {
			e.Fix = fmt.Sprintf("did you mean %q?", s)
		}
	}
	return e
}

// suggestValue returns the allowed value nearest to v: the nearest by edit
// distance when it is close, else the only one that starts with v.
func suggestValue(v string, allowed []string) string {
	lv := strings.ToLower(v)
	var prefixed []string
	for _, a := range allowed {
		if lv != "" && strings.HasPrefix(strings.ToLower(a), lv) {
			prefixed = append(prefixed, a)
		}
	}
	if s := suggest(v, allowed); s != "" && levenshtein(lv, strings.ToLower(s)) <= max(2, len(v)/3) {
		return s
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// enumRE matches the packages' message for a value outside an enumeration.
var enumRE = regexp.MustCompile(`"([^"]*)"\)?:? \(?want one of ([a-z0-9_\-]+(?:, [a-z0-9_\-]+)*)`)

// observedFeatures returns the per-asset feature names in the
// observation, in layout order.
func (c *Config) observedFeatures() []string {
	if len(c.Env.Features) > 0 {
		return c.Env.Features
	}
	return c.Features.Asset
}

// envConfig returns the env configuration with the [costs] table and the
// capital folded in.
func (c *Config) envConfig() env.Config {
	e := c.Env
	e.Costs = c.Costs.Costs
	e.InitialCapital = c.Costs.InitialCapital
	return e
}

// synthConfig returns the synthetic market configuration with the bar
// interval of [data].
func (c *Config) synthConfig() synth.Config {
	s := c.Market.Synthetic
	if c.Data.Interval != 0 {
		s.Interval = timeDuration(c.Data.Interval)
	}
	return s
}

// WriteTOML writes the resolved configuration, every default filled in.
func (c *Config) WriteTOML(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Resolved configuration of %s", displayName(c.file))
	if len(c.sets) > 0 {
		fmt.Fprintf(&b, " with --set %s", strings.Join(c.sets, " --set "))
	}
	b.WriteString("\n# Every default is filled in; `folio config --doc` explains each key.\n\n")
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("experiments: encoding the configuration: %w", err)
	}
	if len(c.Agents) > 0 {
		tables := map[string]any{}
		for _, a := range c.Agents {
			tables[a.Name] = a.table()
		}
		b.WriteString("\n")
		enc := toml.NewEncoder(&b)
		enc.Indent = ""
		if err := enc.Encode(map[string]any{"agents": tables}); err != nil {
			return fmt.Errorf("experiments: encoding the agents: %w", err)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func displayName(f string) string {
	if f == "" {
		return "(built in code)"
	}
	return filepath.Base(f)
}

// Hash returns a SHA-256 of the resolved configuration: runs and
// checkpoints made under different hashes are not mixed.
func (c *Config) Hash() string {
	var b bytes.Buffer
	saved := c.sets
	c.sets = nil
	err := c.WriteTOML(&b)
	c.sets = saved
	if err != nil {
		return ""
	}
	// The header names the file; hash only the content.
	body := b.Bytes()
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		body = body[i+2:]
	}
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}
