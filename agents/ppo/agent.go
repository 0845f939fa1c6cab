package ppo

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/obslayout"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/nets"
)

// Agent is a PPO learner (agents.Learner). It is not safe for concurrent
// use; its Policy may act while the agent is idle.
type Agent struct {
	cfg    Config
	arch   nets.Arch
	ac     *nets.ActorCritic
	n      int // risky assets
	adim   int // action dimensions, N+1
	obsDim int
	gate   bool
	id     nets.ConfigID // hyperparameters, for checkpoint headers

	// The trainable state in the configured precision: the embedded
	// float64 state or w32 (the other is nil); w is the one in use.
	*weights[float64]
	w32    *weights[float32]
	w      weightSet
	stdIdx []int     // action dimension → LogStd entry
	logStd []float64 // per action dimension (expanded)

	train nets.Engine         // minibatch-sized, with backward
	act   map[int]nets.Engine // forward-only, by batch size
	u     []float64           // scratch action row

	upd    updateScratch
	runner *nets.Runner // nil unless cfg.Parallel: shared by the engines and the optimiser step

	updates int64 // Update calls completed
	steps   int64 // transitions learned from
}

// New returns a PPO agent for an env with the given spec, its weights
// initialised from rng (use the run's seed.Init stream).
func New(spec env.Spec, cfg Config, rng *rand.Rand) (*Agent, error) {
	o, err := obslayout.Of(spec)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	return NewForLayout(o, cfg, rng)
}

// NewForLayout is New for an explicit observation layout.
func NewForLayout(o nets.ObsLayout, cfg Config, rng *rand.Rand) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cloneConfig(cfg)
	arch, err := cfg.Config.Arch(o)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	if cfg.VolTargetFeature >= o.Features {
		return nil, fmt.Errorf("ppo: vol_target_feature %d but the observation has %d per-asset features", cfg.VolTargetFeature, o.Features)
	}
	ac, err := nets.NewActorCritic(arch, cfg.LogStdInit)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	id, err := configID(cfg)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	a := &Agent{cfg: cfg, arch: arch, ac: ac, n: o.Assets, adim: o.Assets + 1, obsDim: o.Len,
		gate: arch.VolTiming, id: id, act: map[int]nets.Engine{}}
	if cfg.Float32() {
		a.w32 = newWeights[float32](a, rng)
		a.w = a.w32
	} else {
		a.weights = newWeights[float64](a, rng)
		a.w = a.weights
	}
	if cfg.Parallel {
		a.runner = nets.NewRunner()
	}
	a.stdIdx = make([]int, a.adim)
	for j := range a.stdIdx {
		a.stdIdx[j] = ac.StdIndex(j)
	}
	a.logStd = make([]float64, a.adim)
	a.u = make([]float64, a.adim)
	if a.train, err = a.w.engine(a, cfg.MinibatchSize(), true, a.runner); err != nil {
		a.runner.Close()
		return nil, fmt.Errorf("ppo: %w", err)
	}
	a.upd = newUpdateScratch(a)
	return a, nil
}

func cloneConfig(c Config) Config {
	c.Hidden = append([]int(nil), c.Hidden...)
	c.AssetHidden = append([]int(nil), c.AssetHidden...)
	c.HeadHidden = append([]int(nil), c.HeadHidden...)
	c.DecoderHidden = append([]int(nil), c.DecoderHidden...)
	c.VolFeatures = append([]int(nil), c.VolFeatures...)
	return c
}

// configID identifies every hyperparameter except the engine choices
// (backend, parallel), which do not change what is learned beyond
// rounding; the precision is part of it.
func configID(c Config) (nets.ConfigID, error) {
	c.Backend, c.Parallel = "", false
	return nets.NewConfigID(c)
}

// Name returns "ppo".
func (a *Agent) Name() string { return "ppo" }

// Config returns the agent's configuration.
func (a *Agent) Config() Config { return cloneConfig(a.cfg) }

// Arch returns the network architecture.
func (a *Agent) Arch() nets.Arch { return a.arch }

// NumParams returns the number of trainable parameters.
func (a *Agent) NumParams() int { return a.w.len() }

// Steps returns the number of transitions learned from so far.
func (a *Agent) Steps() int64 { return a.steps }

// Updates returns the number of completed updates.
func (a *Agent) Updates() int64 { return a.updates }

// Params returns the parameter vector: the agent's storage in float64
// precision (do not modify it while training), a widened copy in float32.
// Determinism tests compare it bitwise.
func (a *Agent) Params() []float64 { return a.w.params() }

// NewRollout allocates storage for num_envs × num_steps transitions.
func (a *Agent) NewRollout() *agents.Rollout {
	return agents.NewRollout(a.cfg.NumEnvs, a.cfg.NumSteps, a.obsDim, a.adim, a.adim)
}

// actEngine returns the forward-only engine for batch size b, building it
// on first use (one per distinct batch size; they share the weights).
func (a *Agent) actEngine(b int) (nets.Engine, error) {
	if e, ok := a.act[b]; ok {
		return e, nil
	}
	e, err := a.w.engine(a, b, false, a.runner)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	a.act[b] = e
	return e, nil
}

func (a *Agent) expandLogStd() { a.w.logStdTo(a.logStd, a.ac.LogStd, a.stdIdx) }

// forward runs engine e on the len(obs)/D observations of obs.
func (a *Agent) forward(e nets.Engine, obs []float64) error {
	d := a.obsDim
	for b := 0; b < len(obs)/d; b++ {
		a.ac.Feed.Fill(e, b, obs[b*d:(b+1)*d])
	}
	if a.ac.Action >= 0 {
		clear(e.Input(a.ac.Action)) // the decoder's output is not used when acting
	}
	return e.Forward()
}

// Act samples (mode Sample) or takes the mean (Deterministic) of the
// Gaussian over logits for each of the B = len(obs)/D observations, and
// writes the squashed weights, the raw logits, their log-probability and
// the value estimate into the non-nil slices of dst.
func (a *Agent) Act(dst agents.Actions, obs []float64, rng *rand.Rand, mode agents.Mode) error {
	d, na := a.obsDim, a.adim
	if len(obs) == 0 || len(obs)%d != 0 {
		panic("ppo: Act: observation length is not a positive multiple of the observation size")
	}
	bn := len(obs) / d
	if dst.Weights != nil && len(dst.Weights) != bn*na || dst.Raw != nil && len(dst.Raw) != bn*na ||
		dst.LogProb != nil && len(dst.LogProb) != bn || dst.Value != nil && len(dst.Value) != bn {
		panic("ppo: Act: destination length mismatch")
	}
	if mode == agents.Sample && rng == nil {
		panic("ppo: Act: sampling needs an rng")
	}
	e, err := a.actEngine(bn)
	if err != nil {
		return err
	}
	if err := a.forward(e, obs); err != nil {
		return fmt.Errorf("ppo: act: %w", err)
	}
	a.expandLogStd()
	mu, v := e.Output(a.ac.Logits), e.Output(a.ac.Value)
	for b := 0; b < bn; b++ {
		u := a.u
		if dst.Raw != nil {
			u = dst.Raw[b*na : (b+1)*na]
		}
		m := mu[b*na : (b+1)*na]
		for j := range u {
			u[j] = m[j]
			if mode == agents.Sample {
				u[j] += math.Exp(a.logStd[j]) * rng.NormFloat64()
			}
			if math.IsNaN(u[j]) || math.IsInf(u[j], 0) {
				return fmt.Errorf("ppo: act: %w", &agents.NonFiniteError{Quantity: "action logit", Value: u[j]})
			}
		}
		if dst.LogProb != nil {
			dst.LogProb[b] = logProb(u, m, a.logStd)
		}
		if dst.Value != nil {
			dst.Value[b] = v[b]
		}
		if dst.Weights != nil {
			nets.WeightsTo(dst.Weights[b*na:(b+1)*na], u, a.gate)
		}
	}
	return nil
}

// valuesTo writes V(s) for each of the len(dst) observations obs(i) into
// dst, in batches of the rollout's env count.
func (a *Agent) valuesTo(dst []float64, obs func(i int) []float64) error {
	bs := a.cfg.NumEnvs
	e, err := a.actEngine(bs)
	if err != nil {
		return err
	}
	for start := 0; start < len(dst); start += bs {
		n := min(bs, len(dst)-start)
		for b := 0; b < bs; b++ {
			o := obs(start + min(b, n-1)) // pad a short last batch by repetition
			a.ac.Feed.Fill(e, b, o)
		}
		if a.ac.Action >= 0 {
			clear(e.Input(a.ac.Action))
		}
		if err := e.Forward(); err != nil {
			return err
		}
		copy(dst[start:start+n], e.Output(a.ac.Value)[:n])
	}
	return nil
}

// Policy returns the agent's current policy for evaluation: weights from
// the Gaussian's mean (Deterministic) or a sample (Sample). It shares the
// agent's parameters and has its own batch-1 engine.
func (a *Agent) Policy() agents.Policy {
	return &policy{a: a, u: make([]float64, a.adim), logStd: make([]float64, a.adim)}
}

type policy struct {
	a         *Agent
	e         nets.Engine
	u, logStd []float64
}

func (p *policy) Name() string { return "ppo" }

func (p *policy) Act(dst []float64, obs *agents.Observation, rng *rand.Rand, mode agents.Mode) error {
	a := p.a
	if len(obs.Vector) != a.obsDim || len(dst) != a.adim {
		panic("ppo: policy: observation or destination length mismatch")
	}
	if p.e == nil {
		e, err := a.w.engine(a, 1, false, nil)
		if err != nil {
			return fmt.Errorf("ppo: %w", err)
		}
		p.e = e
	}
	if err := a.forward(p.e, obs.Vector); err != nil {
		return fmt.Errorf("ppo: policy: %w", err)
	}
	mu := p.e.Output(a.ac.Logits)
	a.w.logStdTo(p.logStd, a.ac.LogStd, a.stdIdx)
	for j := range p.u {
		p.u[j] = mu[j]
		if mode == agents.Sample {
			p.u[j] += math.Exp(p.logStd[j]) * rng.NormFloat64()
		}
		if math.IsNaN(p.u[j]) || math.IsInf(p.u[j], 0) {
			return fmt.Errorf("ppo: policy: %w", &agents.NonFiniteError{Quantity: "action logit", Value: p.u[j]})
		}
	}
	nets.WeightsTo(dst, p.u, a.gate)
	return nil
}

// Checkpoint blocks and counters.
const (
	kind        = "ppo"
	blockParams = "params"
	blockAdamM  = "adam.m"
	blockAdamV  = "adam.v"
)

// Save writes the full training state: parameters, Adam moments and step
// count, and the update and transition counters, with the architecture
// and the hyperparameters (hash and values).
func (a *Agent) Save(w io.Writer) error {
	c := a.header(false)
	c.Ints = map[string]int64{"adam.step": int64(a.w.adamSteps()), "updates": a.updates, "steps": a.steps}
	c.Blocks = a.w.blocks()
	if err := nets.WriteCheckpoint(w, c); err != nil {
		return fmt.Errorf("ppo: save: %w", err)
	}
	return nil
}

// SaveWeights writes a model file: the parameters alone (in the agent's
// precision), with the architecture and the hyperparameters.
func (a *Agent) SaveWeights(w io.Writer) error {
	c := a.header(true)
	c.Blocks = a.w.blocks()[:1]
	if err := nets.WriteCheckpoint(w, c); err != nil {
		return fmt.Errorf("ppo: save: %w", err)
	}
	return nil
}

func (a *Agent) header(weightsOnly bool) *nets.Checkpoint {
	return &nets.Checkpoint{Kind: kind, WeightsOnly: weightsOnly, Net: a.arch.String(), ConfigHash: a.id.Hash, Config: a.id.Keys,
		Arch: nets.ArchOf("", a.ac.Net.Layout())}
}

// Load restores a state written by Save into the agent's existing
// buffers. The file must have the same architecture and hyperparameters
// (a mismatch names the keys that differ) and hold a training state, not
// weights only; nothing is changed if it does not.
func (a *Agent) Load(r io.Reader) error {
	c, err := a.read(r, true)
	if err != nil {
		return err
	}
	if err := a.w.load(c.Blocks, false); err != nil {
		return err
	}
	a.w.setAdamSteps(int(c.Ints["adam.step"]))
	a.updates, a.steps = c.Ints["updates"], c.Ints["steps"]
	return nil
}

// LoadWeights restores only the parameters of a model file or a full
// state with the same architecture (any hyperparameters, either
// precision: values are converted): for evaluation or warm starts. The
// optimiser state and counters are left as they are.
func (a *Agent) LoadWeights(r io.Reader) error {
	c, err := a.read(r, false)
	if err != nil {
		return err
	}
	return a.w.load(c.Blocks, true)
}

// read reads and checks a checkpoint and returns it with its blocks in
// load order: params, adam.m, adam.v (full) or params alone.
func (a *Agent) read(r io.Reader, full bool) (*nets.Checkpoint, error) {
	c, err := nets.ReadCheckpoint(r)
	if err != nil {
		return nil, fmt.Errorf("ppo: load: %w", err)
	}
	var want *nets.ConfigID
	names := []string{blockParams}
	if full {
		if err := c.RequireState(); err != nil {
			return nil, fmt.Errorf("ppo: load: %w", err)
		}
		want = &a.id
		names = append(names, blockAdamM, blockAdamV)
	}
	if err := c.Check(kind, nets.ArchOf("", a.ac.Net.Layout()), a.arch.String(), want); err != nil {
		return nil, fmt.Errorf("ppo: load: %w", err)
	}
	blocks := make([]nets.Block, len(names))
	for i, name := range names {
		b, ok := c.Block(name)
		if !ok || len(b.F64)+len(b.F32) != a.w.len() {
			return nil, fmt.Errorf("ppo: load: block %q missing or of the wrong length", name)
		}
		blocks[i] = b
	}
	if full {
		for _, k := range []string{"adam.step", "updates", "steps"} {
			if v, ok := c.Ints[k]; !ok || v < 0 {
				return nil, fmt.Errorf("ppo: load: counter %q missing or negative", k)
			}
		}
	}
	c.Blocks = blocks
	return c, nil
}

// Close releases the engines (gorgonia machines, helper goroutines).
func (a *Agent) Close() error {
	a.runner.Close()
	a.runner = nil
	err := a.train.Close()
	for _, e := range a.act {
		if err2 := e.Close(); err == nil {
			err = err2
		}
	}
	return err
}
