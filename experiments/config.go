package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	for _, s := range sets {
		if err := cfg.Set(s); err != nil {
			return nil, err
		}
	}
	cfg.sets = append([]string(nil), sets...)
	for _, a := range cfg.Agents {
		a.resolveFeatures(cfg.observedFeatures())
	}
	if verrs := cfg.validate(); len(verrs) > 0 {
		for _, e := range verrs {
			if e.File == "" {
				e.File = name
				e.Line = lineOf(lines, e.Key)
				if fromSet(e.Key, sets) {
					e.File = "--set"
					e.Line = 0
				}
			}
		}
		return nil, verrs
	}
	return &cfg, nil
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
	if err := c.Features.Validate(); err != nil {
		errs = append(errs, wrapSectionErr("features", err))
	}
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
	for _, a := range c.Agents {
		errs = append(errs, a.validate(c)...)
	}
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

// suggestValue returns the allowed value nearest to v: the only one that
// starts with v, else the nearest by edit distance when it is close.
func suggestValue(v string, allowed []string) string {
	lv := strings.ToLower(v)
	var prefixed []string
	for _, a := range allowed {
		if lv != "" && strings.HasPrefix(strings.ToLower(a), lv) {
			prefixed = append(prefixed, a)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	if s := suggest(v, allowed); s != "" && levenshtein(lv, strings.ToLower(s)) <= max(2, len(v)/3) {
		return s
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
