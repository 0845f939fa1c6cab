package experiments

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/nets"
	"github.com/folio-rl/folio/train"
)

// Agent is one [agents.NAME] table: an RL agent trained per walk-forward
// fold. Several agents of one type with different settings make an
// ablation. The table is flat: the type, the training-loop keys
// (train.Config), the algorithm's hyperparameters and its network keys
// (nets.Config) sit side by side.
type Agent struct {
	// Name is the table name (agents.NAME); it names the strategy in the
	// report.
	Name string
	// Type is "ppo" or "ddpg".
	Type  string
	Train train.Config
	PPO   ppo.Config
	DDPG  ddpg.Config

	// explicit records the feature-index keys the file set itself; the
	// others are resolved from the observed feature names.
	explicit map[string]bool
}

// AgentTypes lists the agent types.
func AgentTypes() []string { return []string{"ppo", "ddpg"} }

// The aliases give the embedded settings distinct field names, so that one
// flat TOML table can hold the loop's and the algorithm's keys.
type (
	// TrainSettings is train.Config embedded in an agent table.
	TrainSettings = train.Config
	// PPOSettings is ppo.Config embedded in an agent table.
	PPOSettings = ppo.Config
	// DDPGSettings is ddpg.Config embedded in an agent table.
	DDPGSettings = ddpg.Config
)

// PPOTable is the flat TOML shape of an [agents.NAME] table with type = "ppo".
type PPOTable struct {
	// Type selects the algorithm: "ppo" or "ddpg".
	Type string `toml:"type"`
	TrainSettings
	PPOSettings
}

// DDPGTable is the flat TOML shape of an [agents.NAME] table with type = "ddpg".
type DDPGTable struct {
	// Type selects the algorithm: "ppo" or "ddpg".
	Type string `toml:"type"`
	TrainSettings
	DDPGSettings
}

// agentSchemaType returns the struct type of the table agents.NAME, for
// "did you mean" suggestions.
func agentSchemaType(path toml.Key) reflect.Type {
	if len(path) != 1 {
		return nil
	}
	return reflect.TypeOf(PPOTable{})
}

func defaultTrain(typ string) train.Config {
	t := train.Defaults()
	if typ == "ddpg" {
		t.TotalSteps = 20000
	}
	return t
}

// NewAgent returns an agent of the given type with every default.
func NewAgent(name, typ string) *Agent {
	return &Agent{Name: name, Type: typ, Train: defaultTrain(typ), PPO: ppo.Defaults(), DDPG: ddpg.Defaults(), explicit: map[string]bool{}}
}

// table returns the agent's flat table value (a pointer, for decoding).
func (a *Agent) table() any {
	if a.Type == "ddpg" {
		return &DDPGTable{Type: a.Type, TrainSettings: a.Train, DDPGSettings: a.DDPG}
	}
	return &PPOTable{Type: a.Type, TrainSettings: a.Train, PPOSettings: a.PPO}
}

// fromTable copies a decoded table back into the agent.
func (a *Agent) fromTable(t any) {
	switch t := t.(type) {
	case *PPOTable:
		a.Train, a.PPO = t.TrainSettings, t.PPOSettings
	case *DDPGTable:
		a.Train, a.DDPG = t.TrainSettings, t.DDPGSettings
	}
}

// decodeAgent decodes one [agents.NAME] table strictly.
func decodeAgent(md toml.MetaData, file string, lines map[string]int, name string, prim toml.Primitive) (*Agent, ConfigErrors) {
	prefix := "agents." + name
	var head struct {
		Type string `toml:"type"`
	}
	if err := md.PrimitiveDecode(prim, &head); err != nil {
		return nil, ConfigErrors{translateDecodeError(file, err)}
	}
	switch head.Type {
	case "ppo", "ddpg":
	default:
		e := &ConfigError{File: file, Line: lines[prefix+".type"], Key: prefix + ".type"}
		if head.Type == "" {
			e.Line = lines[prefix]
			e.Msg = "is missing"
			e.Fix = `add type = "ppo" or type = "ddpg"`
		} else {
			e.Msg = fmt.Sprintf("%q is not an agent type", head.Type)
			e.Fix = `use "ppo" or "ddpg"`
			if s := suggest(head.Type, AgentTypes()); s != "" {
				e.Fix = fmt.Sprintf("did you mean %q?", s)
			}
		}
		return nil, ConfigErrors{e}
	}
	a := NewAgent(name, head.Type)
	tab := a.table()
	if err := md.PrimitiveDecode(prim, tab); err != nil {
		return nil, ConfigErrors{translateDecodeError(file, err)}
	}
	a.fromTable(tab)
	a.explicit = map[string]bool{}
	for _, k := range []string{"vol_features", "return_feature"} {
		a.explicit[k] = md.IsDefined("agents", name, k)
	}
	valid := schemaKeys(reflect.TypeOf(tab))
	var errs ConfigErrors
	for _, k := range md.Undecoded() {
		if len(k) > 2 && k[0] == "agents" && k[1] == name {
			errs = append(errs, unknownKeyError(file, lines[k.String()], k, valid))
		}
	}
	return a, errs
}

// net returns the agent's network configuration.
func (a *Agent) net() *nets.Config {
	if a.Type == "ddpg" {
		return &a.DDPG.Config
	}
	return &a.PPO.Config
}

// gamma returns the agent's discount factor.
func (a *Agent) gamma() float64 {
	if a.Type == "ddpg" {
		return a.DDPG.Gamma
	}
	return a.PPO.Gamma
}

// volFeatureNames are the per-asset features the volatility-timing gate
// reads when vol_features is not given, in order of preference.
var volFeatureNames = []string{"garch_f1", "ewma_vol", "garch_vol", "rvol_21"}

// resolveFeatures fills return_feature and vol_features from the names of
// the observed per-asset features, unless the file set them.
func (a *Agent) resolveFeatures(observed []string) {
	n := a.net()
	idx := func(name string) int {
		for i, f := range observed {
			if f == name {
				return i
			}
		}
		return -1
	}
	if !a.explicit["return_feature"] {
		n.ReturnFeature = idx("logret")
	}
	if !a.explicit["vol_features"] && n.VolTiming {
		n.VolFeatures = nil
		for _, name := range volFeatureNames {
			if i := idx(name); i >= 0 {
				n.VolFeatures = append(n.VolFeatures, i)
			}
		}
	}
}

// set applies an override to the agent's table.
func (a *Agent) set(key string, path []string, val string) error {
	if len(path) == 1 && path[0] == "type" {
		return &ConfigError{File: "--set", Key: key, Msg: "an agent's type cannot be overridden", Fix: "define another [agents.NAME] table"}
	}
	tab := a.table()
	if err := setPath(reflect.ValueOf(tab).Elem(), key, path, val); err != nil {
		return err
	}
	a.fromTable(tab)
	if len(path) == 1 && (path[0] == "vol_features" || path[0] == "return_feature") {
		a.explicit[path[0]] = true
	}
	return nil
}

// validate checks the agent's settings.
func (a *Agent) validate(c *Config) ConfigErrors {
	prefix := "agents." + a.Name
	var errs ConfigErrors
	if a.Name == "" || strings.Trim(a.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		errs = append(errs, fieldErr(prefix, "agent names must be letters, digits, '-' or '_'"))
	}
	for _, m := range c.Baselines.Methods {
		if m == a.Name {
			errs = append(errs, fieldErr(prefix, "the agent has the same name as baseline %q", m))
		}
	}
	if err := a.Train.Validate(); err != nil {
		errs = append(errs, wrapAgentErr(prefix, err))
	}
	switch v := c.WalkForward.Validation; {
	case v > 0 && a.Train.EvalEvery == 0:
		errs = append(errs, &ConfigError{Key: prefix + ".eval_every", Msg: fmt.Sprintf("is 0 but walkforward.validation holds out %d bars for model selection", v),
			Fix: fmt.Sprintf("set eval_every (env steps between validations, e.g. %d) or walkforward.validation = 0", max(1, a.Train.TotalSteps/8))})
	case v == 0 && a.Train.EvalEvery > 0:
		errs = append(errs, &ConfigError{Key: prefix + ".eval_every", Msg: "needs a validation segment",
			Fix: "set walkforward.validation (bars held out at the end of each training window) or eval_every = 0"})
	}
	// The network's layer-width lists are checked here, each under its own
	// key (nets reports only the first bad list, naming none); the
	// algorithm's Validate then runs with valid stand-ins for them, so that
	// a problem elsewhere in the table is reported too.
	net, netErrs := validateWidths(prefix, *a.net())
	errs = append(errs, netErrs...)
	var err error
	if a.Type == "ddpg" {
		d := a.DDPG
		d.Config = net
		err = d.Validate()
	} else {
		p := a.PPO
		p.Config = net
		err = p.Validate()
	}
	if err != nil {
		errs = append(errs, wrapAgentErr(prefix, err))
	}
	return append(errs, a.validateFeatures(prefix, c.observedFeatures())...)
}

// validateFeatures checks return_feature and vol_features against the
// per-asset features the env observes, so that an index out of range is a
// config error naming the key instead of a failure when the network is built.
func (a *Agent) validateFeatures(prefix string, observed []string) ConfigErrors {
	n := a.net()
	list := func() string {
		parts := make([]string, len(observed))
		for i, f := range observed {
			parts[i] = fmt.Sprintf("%d=%s", i, f)
		}
		return strings.Join(parts, ", ")
	}
	var errs ConfigErrors
	if n.ReturnFeature < -1 || n.ReturnFeature >= len(observed) {
		errs = append(errs, &ConfigError{Key: prefix + ".return_feature",
			Msg: fmt.Sprintf("%d is not an observed per-asset feature index (there are %d)", n.ReturnFeature, len(observed)),
			Fix: fmt.Sprintf("use -1 (no cross-asset statistics) or one of %s", list())})
	}
	seen := map[int]bool{}
	for _, f := range n.VolFeatures {
		switch {
		case f < 0 || f >= len(observed):
			errs = append(errs, &ConfigError{Key: prefix + ".vol_features",
				Msg: fmt.Sprintf("index %d is not an observed per-asset feature (there are %d)", f, len(observed)),
				Fix: fmt.Sprintf("use indices of forecast-volatility features among %s", list())})
		case seen[f]:
			errs = append(errs, &ConfigError{Key: prefix + ".vol_features",
				Msg: fmt.Sprintf("index %d (%s) is listed twice", f, observed[f]), Fix: "list each feature once"})
		}
		seen[f] = true
	}
	if n.VolTiming && len(n.VolFeatures) == 0 && len(errs) == 0 {
		errs = append(errs, &ConfigError{Key: prefix + ".vol_features",
			Msg: fmt.Sprintf("vol_timing = true needs forecast-volatility features, and the env observes none of %s", strings.Join(volFeatureNames, ", ")),
			Fix: fmt.Sprintf("add one of them to env.features, set vol_features to indices among %s, or set vol_timing = false", list())})
	}
	return errs
}

// validateWidths checks every layer-width list of a network and returns
// the configuration with each bad list replaced by a valid stand-in, and
// one error per bad list under its key.
func validateWidths(prefix string, n nets.Config) (nets.Config, ConfigErrors) {
	var errs ConfigErrors
	for _, l := range []struct {
		key string
		ws  *[]int
	}{{"hidden", &n.Hidden}, {"asset_hidden", &n.AssetHidden}, {"head_hidden", &n.HeadHidden}, {"decoder_hidden", &n.DecoderHidden}} {
		for i, w := range *l.ws {
			if w < 1 {
				parts := make([]string, len(*l.ws))
				for j, x := range *l.ws {
					parts[j] = fmt.Sprint(x)
				}
				errs = append(errs, &ConfigError{Key: prefix + "." + l.key,
					Msg: fmt.Sprintf("= [%s]: every layer width must be ≥ 1 (entry %d is %d)", strings.Join(parts, ", "), i+1, w),
					Fix: "give the number of units of each hidden layer, e.g. [64, 64]"})
				*l.ws = []int{1}
				break
			}
		}
	}
	return n, errs
}

func wrapAgentErr(prefix string, err error) *ConfigError {
	e := wrapSectionErr(prefix, err)
	msg := err.Error()
	// Messages read "ppo: config: learning_rate 0 must be > 0" or
	// "train: total_steps = 0: …": point at the key they name.
	for _, p := range []string{"ppo: config: ", "ddpg: config: ", "train: ", "nets: config: ", "nets: "} {
		if strings.HasPrefix(msg, p) {
			rest := strings.TrimPrefix(msg, p)
			k := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '=' || r == ':' })
			if len(k) > 0 {
				e.Key = prefix + "." + k[0]
			}
			e.Msg = rest
		}
	}
	return e
}
