package ddpg

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/obslayout"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/nets"
)

// Agent is a DDPG/TD3 learner (agents.Learner). It is not safe for
// concurrent use; its Policy may act while the agent is idle.
type Agent struct {
	cfg    Config
	arch   nets.Arch
	n      int // risky assets
	adim   int // N+1
	obsDim int
	gate   bool
	id     nets.ConfigID // hyperparameters, for checkpoint headers

	actor  *nets.Actor
	critic *nets.Critic // one or two Q towers
	q1     *nets.Critic // tower 1 alone: its parameters are the critic vector's prefix

	// The trainable state in the configured precision: w is the embedded
	// float64 state or w32 (the other is nil).
	*weights[float64]
	w32 *weights[float32]
	w   weightSet

	actTrain, actTarget nets.Engine // actor at batch size
	crTrain, crTarget   nets.Engine // critic at batch size
	q1Loss              nets.Engine // tower 1 at batch size, for dQ/da in the actor loss
	act                 map[int]nets.Engine

	replay *agents.Replay
	batch  *agents.Batch
	// bound: the training engines read their observation inputs straight
	// from the batch (flat trunk), which Sample fills in the engines'
	// precision; otherwise each transition is copied in with Feed.Fill.
	bound bool
	ou    []float64 // NumEnvs×(N+1) Ornstein–Uhlenbeck states

	runner *nets.Runner // nil unless cfg.Parallel: shared by every engine and optimiser step
	gather gatherTask

	steps     int64 // transitions collected (Update calls × rollout length)
	gradSteps int64 // gradient steps taken
	pending   int64 // gradient steps owed (interrupted updates resume them)

	s scratch
}

type scratch struct {
	u, w, du, dw []float64 // per row
	y            []float64 // TD targets, batch
	wNext, wCur  []float64 // batch×(N+1) target-policy and current-policy weights
	logits       []float64 // batch×(N+1)
	targets      []float64 // batch×2N prediction targets
}

// New returns a DDPG agent for an env with the given spec, its weights
// initialised from rng (use the run's seed.Init stream).
func New(spec env.Spec, cfg Config, rng *rand.Rand) (*Agent, error) {
	o, err := obslayout.Of(spec)
	if err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	return NewForLayout(o, cfg, rng)
}

// NewForLayout is New for an explicit observation layout.
func NewForLayout(o nets.ObsLayout, cfg Config, rng *rand.Rand) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cloneConfig(cfg)
	cfg.CriticAction = cfg.criticAction() // resolve "auto" before hashing
	arch, err := cfg.Config.Arch(o)
	if err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	if cfg.VolTargetFeature >= o.Features {
		return nil, fmt.Errorf("ddpg: vol_target_feature %d but the observation has %d per-asset features", cfg.VolTargetFeature, o.Features)
	}
	id, err := configID(cfg)
	if err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	a := &Agent{cfg: cfg, arch: arch, n: o.Assets, adim: o.Assets + 1, obsDim: o.Len, gate: arch.VolTiming, id: id,
		act: map[int]nets.Engine{}}
	if a.actor, err = nets.NewActor(arch); err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	if a.critic, err = nets.NewCritic(arch, cfg.TwinCritics); err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	if a.q1, err = nets.NewCritic(arch, false); err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	if cfg.Parallel {
		a.runner = nets.NewRunner()
	}
	if cfg.Float32() {
		a.w32 = newWeights[float32](a, rng)
		a.w = a.w32
	} else {
		a.weights = newWeights[float64](a, rng)
		a.w = a.weights
	}
	for i, s := range a.q1.Net.Layout().Segments {
		if c := a.critic.Net.Layout().Segments[i]; c.Name != s.Name || c.Offset != s.Offset || c.Len() != s.Len() {
			return nil, fmt.Errorf("ddpg: internal error: tower 1 is not the critic's prefix (%s vs %s)", s.Name, c.Name)
		}
	}
	if err := a.w.buildEngines(a); err != nil {
		a.Close()
		return nil, fmt.Errorf("ddpg: %w", err)
	}

	m := cfg.BatchSize
	a.replay = agents.NewReplay(cfg.BufferSize, o.Len, a.adim)
	a.batch, a.bound = a.w.newBatch(a)
	a.gather = gatherTask{a: a}
	a.ou = make([]float64, cfg.NumEnvs*a.adim)
	a.s = scratch{u: make([]float64, a.adim), w: make([]float64, a.adim), du: make([]float64, a.adim), dw: make([]float64, a.adim),
		y: make([]float64, m), wNext: make([]float64, m*a.adim), wCur: make([]float64, m*a.adim),
		logits: make([]float64, m*a.adim), targets: make([]float64, m*2*a.n)}
	return a, nil
}

// unbound returns obs, or nil when the training engines read the batch's
// observations directly.
func (a *Agent) unbound(obs []float64) []float64 {
	if a.bound {
		return nil
	}
	return obs
}

func cloneConfig(c Config) Config {
	c.Hidden = append([]int(nil), c.Hidden...)
	c.AssetHidden = append([]int(nil), c.AssetHidden...)
	c.HeadHidden = append([]int(nil), c.HeadHidden...)
	c.DecoderHidden = append([]int(nil), c.DecoderHidden...)
	c.VolFeatures = append([]int(nil), c.VolFeatures...)
	return c
}

// configID identifies every hyperparameter except the engine choices that
// do not change what is learned beyond rounding (backend, parallel); the
// precision is part of it.
func configID(c Config) (nets.ConfigID, error) {
	c.Backend, c.Parallel = "", false
	return nets.NewConfigID(c)
}

// Name returns "ddpg" ("td3" with twin critics).
func (a *Agent) Name() string {
	if a.cfg.TwinCritics {
		return "td3"
	}
	return "ddpg"
}

// Config returns the agent's configuration.
func (a *Agent) Config() Config { return cloneConfig(a.cfg) }

// Arch returns the network architecture.
func (a *Agent) Arch() nets.Arch { return a.arch }

// Steps returns the number of transitions collected so far.
func (a *Agent) Steps() int64 { return a.steps }

// GradientSteps returns the number of gradient steps taken.
func (a *Agent) GradientSteps() int64 { return a.gradSteps }

// Replay returns the replay buffer (read-only use).
func (a *Agent) Replay() *agents.Replay { return a.replay }

// ActorParams and CriticParams return the online parameter vectors: the
// agent's storage in float64 precision, a widened copy in float32.
func (a *Agent) ActorParams() []float64 { return a.w.params(false) }

// CriticParams returns the critic's parameters (as ActorParams).
func (a *Agent) CriticParams() []float64 { return a.w.params(true) }

// NewRollout allocates storage for num_envs × train_freq transitions.
func (a *Agent) NewRollout() *agents.Rollout {
	return agents.NewRollout(a.cfg.NumEnvs, a.cfg.TrainFreq, a.obsDim, a.adim, a.adim)
}

func (a *Agent) actEngine(b int) (nets.Engine, error) {
	if e, ok := a.act[b]; ok {
		return e, nil
	}
	e, err := a.w.actorEngine(a, b, a.runner)
	if err != nil {
		return nil, fmt.Errorf("ddpg: %w", err)
	}
	a.act[b] = e
	return e, nil
}

// actorForward runs actor engine e on the rows of obs (nil: on the
// observations already in its inputs) and returns the logits A·tanh(·) in
// dst (rows×(N+1)).
func (a *Agent) actorForward(e nets.Engine, dst, obs []float64) error {
	d := a.obsDim
	for b := 0; b < len(obs)/d; b++ {
		a.actor.Feed.Fill(e, b, obs[b*d:(b+1)*d])
	}
	if a.actor.Action >= 0 {
		clear(e.Input(a.actor.Action))
	}
	if err := e.Forward(); err != nil {
		return err
	}
	t := e.Output(a.actor.Logits)
	for i := range dst {
		dst[i] = a.cfg.ActionScale * t[i]
	}
	return nil
}

// Act writes, for each of the B = len(obs)/D observations, the logits
// (Raw) and weights. In mode Sample it acts uniformly at random in
// [−A, A] until learning_starts transitions have been collected, then adds
// exploration noise to the actor's logits and clips them to [−A, A]; in
// mode Deterministic it uses the actor's logits. LogProb and Value are
// left untouched.
func (a *Agent) Act(dst agents.Actions, obs []float64, rng *rand.Rand, mode agents.Mode) error {
	d, na, sc := a.obsDim, a.adim, a.cfg.ActionScale
	if len(obs) == 0 || len(obs)%d != 0 {
		panic("ddpg: Act: observation length is not a positive multiple of the observation size")
	}
	bn := len(obs) / d
	if dst.Weights != nil && len(dst.Weights) != bn*na || dst.Raw != nil && len(dst.Raw) != bn*na {
		panic("ddpg: Act: destination length mismatch")
	}
	if mode == agents.Sample && rng == nil {
		panic("ddpg: Act: sampling needs an rng")
	}
	if mode == agents.Sample && a.cfg.Noise == NoiseOU && bn != a.cfg.NumEnvs {
		panic("ddpg: Act: Ornstein–Uhlenbeck noise needs a batch of num_envs observations")
	}
	raw := dst.Raw
	if raw == nil {
		if len(a.s.logits) < bn*na {
			a.s.logits = make([]float64, bn*na)
		}
		raw = a.s.logits[:bn*na]
	}
	if mode == agents.Sample && a.steps < int64(a.cfg.LearningStarts) {
		for i := range raw {
			raw[i] = sc * (2*rng.Float64() - 1)
		}
	} else {
		e, err := a.actEngine(bn)
		if err != nil {
			return err
		}
		if err := a.actorForward(e, raw, obs); err != nil {
			return fmt.Errorf("ddpg: act: %w", err)
		}
		if mode == agents.Sample {
			a.addNoise(raw, rng)
		}
	}
	for i, v := range raw {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("ddpg: act: %w", &agents.NonFiniteError{Quantity: "action logit", Value: raw[i]})
		}
	}
	if dst.Weights != nil {
		for b := 0; b < bn; b++ {
			nets.WeightsTo(dst.Weights[b*na:(b+1)*na], raw[b*na:(b+1)*na], a.gate)
		}
	}
	return nil
}

// addNoise adds exploration noise to logits (rows×(N+1)) and clips them
// to [−A, A] (CleanRL: actions + N(0, σ), clipped to the action bounds).
func (a *Agent) addNoise(raw []float64, rng *rand.Rand) {
	c, sc := &a.cfg, a.cfg.ActionScale
	for i := range raw {
		var eps float64
		switch c.Noise {
		case NoiseGaussian:
			eps = c.NoiseSigma * rng.NormFloat64()
		case NoiseOU:
			x := a.ou[i]
			x += c.OUTheta*(0-x)*c.OUDt + c.NoiseSigma*math.Sqrt(c.OUDt)*rng.NormFloat64()
			a.ou[i] = x
			eps = x
		}
		raw[i] = math.Min(math.Max(raw[i]+eps, -sc), sc)
	}
}

// Policy returns the deterministic actor (Deterministic) or the actor with
// Gaussian exploration noise (Sample) for evaluation; it shares the
// agent's parameters and has its own batch-1 engine.
func (a *Agent) Policy() agents.Policy { return &policy{a: a, u: make([]float64, a.adim)} }

type policy struct {
	a *Agent
	e nets.Engine
	u []float64
}

func (p *policy) Name() string { return p.a.Name() }

func (p *policy) Act(dst []float64, obs *agents.Observation, rng *rand.Rand, mode agents.Mode) error {
	a := p.a
	if len(obs.Vector) != a.obsDim || len(dst) != a.adim {
		panic("ddpg: policy: observation or destination length mismatch")
	}
	if p.e == nil {
		e, err := a.w.actorEngine(a, 1, nil)
		if err != nil {
			return fmt.Errorf("ddpg: %w", err)
		}
		p.e = e
	}
	if err := a.actorForward(p.e, p.u, obs.Vector); err != nil {
		return fmt.Errorf("ddpg: policy: %w", err)
	}
	if mode == agents.Sample {
		sc := a.cfg.ActionScale
		for i := range p.u {
			p.u[i] = math.Min(math.Max(p.u[i]+a.cfg.NoiseSigma*rng.NormFloat64(), -sc), sc)
		}
	}
	for _, v := range p.u {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("ddpg: policy: %w", &agents.NonFiniteError{Quantity: "action logit", Value: v})
		}
	}
	nets.WeightsTo(dst, p.u, a.gate)
	return nil
}

// Close releases the engines.
func (a *Agent) Close() error {
	a.runner.Close()
	a.runner = nil
	var err error
	for _, e := range []nets.Engine{a.actTrain, a.actTarget, a.crTrain, a.crTarget, a.q1Loss} {
		if e == nil {
			continue
		}
		if err2 := e.Close(); err == nil {
			err = err2
		}
	}
	for _, e := range a.act {
		if err2 := e.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// Checkpoint names.
const kind = "ddpg"

// f64Blocks name the checkpoint blocks of the weights (in the agent's
// precision) and, last, the OU state (float64).
var f64Blocks = []string{"actor", "critic", "actor.target", "critic.target", "adam.actor.m", "adam.actor.v", "adam.critic.m", "adam.critic.v", "ou"}

// weightBlocks are the blocks of a model file: f64Blocks' first four.
var weightBlocks = f64Blocks[:4]

func (a *Agent) shapes() []nets.Shape {
	return append(nets.ArchOf("actor/", a.actor.Net.Layout()), nets.ArchOf("critic/", a.critic.Net.Layout())...)
}

// Save writes the full training state: online and target parameters of
// actor and critic, both Adam states, the OU noise state, counters and the
// replay buffer's content.
func (a *Agent) Save(w io.Writer) error {
	sa, sc := a.w.adamSteps()
	c := a.header(false)
	c.Ints = map[string]int64{"adam.actor.step": int64(sa), "adam.critic.step": int64(sc),
		"steps": a.steps, "grad_steps": a.gradSteps, "pending": a.pending}
	c.Blocks = append(a.w.blocks(), nets.Block{Name: "ou", F64: a.ou})
	rs := a.replay.State()
	term := make([]float64, len(rs.Terminated))
	for i, t := range rs.Terminated {
		if t {
			term[i] = 1
		}
	}
	c.Ints["replay.pos"], c.Ints["replay.size"] = int64(rs.Pos), int64(rs.Size)
	c.Blocks = append(c.Blocks,
		nets.Block{Name: "replay.obs", F32: nonNil32(rs.Obs)}, nets.Block{Name: "replay.next", F32: nonNil32(rs.Next)},
		nets.Block{Name: "replay.action", F32: nonNil32(rs.Action)}, nets.Block{Name: "replay.reward", F64: rs.Reward},
		nets.Block{Name: "replay.terminated", F64: term})
	if err := nets.WriteCheckpoint(w, c); err != nil {
		return fmt.Errorf("ddpg: save: %w", err)
	}
	return nil
}

// SaveWeights writes a model file: the online and target parameters of
// actor and critic (in the agent's precision), with the architecture and
// the hyperparameters; no optimiser state, noise state, counters or
// replay buffer.
func (a *Agent) SaveWeights(w io.Writer) error {
	c := a.header(true)
	c.Blocks = a.w.blocks()[:len(weightBlocks)]
	if err := nets.WriteCheckpoint(w, c); err != nil {
		return fmt.Errorf("ddpg: save: %w", err)
	}
	return nil
}

func (a *Agent) header(weightsOnly bool) *nets.Checkpoint {
	return &nets.Checkpoint{Kind: kind, WeightsOnly: weightsOnly, Net: a.arch.String(), ConfigHash: a.id.Hash, Config: a.id.Keys,
		Arch: a.shapes()}
}

func nonNil32(s []float32) []float32 {
	if s == nil {
		return []float32{}
	}
	return s
}

// Load restores a state written by Save into the agent's existing
// buffers. The file must have the same architecture and hyperparameters
// (a mismatch names the keys that differ) and hold a training state, not
// weights only; nothing is changed if it does not.
func (a *Agent) Load(r io.Reader) error {
	c, err := nets.ReadCheckpoint(r)
	if err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	if err := c.RequireState(); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	if err := c.Check(kind, a.shapes(), a.arch.String(), &a.id); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	bs, err := blocksOf(c, f64Blocks)
	if err != nil {
		return err
	}
	if len(bs[8].F64) != len(a.ou) {
		return errors.New("ddpg: load: block \"ou\" of the wrong length")
	}
	for _, k := range []string{"adam.actor.step", "adam.critic.step", "steps", "grad_steps", "pending", "replay.pos", "replay.size"} {
		if v, ok := c.Ints[k]; !ok || v < 0 {
			return fmt.Errorf("ddpg: load: counter %q missing or negative", k)
		}
	}
	rs := agents.ReplayState{Pos: int(c.Ints["replay.pos"]), Size: int(c.Ints["replay.size"])}
	if b, ok := c.Block("replay.obs"); ok {
		rs.Obs = b.F32
	}
	if b, ok := c.Block("replay.next"); ok {
		rs.Next = b.F32
	}
	if b, ok := c.Block("replay.action"); ok {
		rs.Action = b.F32
	}
	if b, ok := c.Block("replay.reward"); ok {
		rs.Reward = b.F64
	}
	if b, ok := c.Block("replay.terminated"); ok {
		rs.Terminated = make([]bool, len(b.F64))
		for i, v := range b.F64 {
			rs.Terminated[i] = v != 0
		}
	}
	// Validate the replay before touching anything.
	probe := agents.NewReplay(a.cfg.BufferSize, a.obsDim, a.adim)
	if err := probe.Restore(rs); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	if err := a.w.load(bs, false); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	a.replay = probe
	copy(a.ou, bs[8].F64)
	a.w.setAdamSteps(int(c.Ints["adam.actor.step"]), int(c.Ints["adam.critic.step"]))
	a.steps, a.gradSteps, a.pending = c.Ints["steps"], c.Ints["grad_steps"], c.Ints["pending"]
	return nil
}

// LoadWeights restores only the online and target parameters of a model
// file or a full state with the same architecture (any hyperparameters,
// either precision: values are converted), for evaluation or warm starts.
// The optimiser states, noise state, counters and replay buffer are left
// as they are (a fresh agent keeps its empty buffer and its warm-up).
func (a *Agent) LoadWeights(r io.Reader) error {
	c, err := nets.ReadCheckpoint(r)
	if err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	if err := c.Check(kind, a.shapes(), a.arch.String(), nil); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	bs, err := blocksOf(c, weightBlocks)
	if err != nil {
		return err
	}
	if err := a.w.load(bs, true); err != nil {
		return fmt.Errorf("ddpg: load: %w", err)
	}
	return nil
}

// blocksOf returns c's blocks of the given names, in order.
func blocksOf(c *nets.Checkpoint, names []string) ([]nets.Block, error) {
	bs := make([]nets.Block, len(names))
	for i, name := range names {
		b, ok := c.Block(name)
		if !ok {
			return nil, fmt.Errorf("ddpg: load: block %q missing", name)
		}
		bs[i] = b
	}
	return bs, nil
}
