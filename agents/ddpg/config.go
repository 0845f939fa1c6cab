package ddpg

import (
	"fmt"
	"math"

	"github.com/folio-rl/folio/nets"
)

// Critic action inputs (the TOML values of critic_action).
const (
	CriticAuto    = "auto"    // "logits" for a plain softmax action (no embedding, no gate), else "weights" (the default)
	CriticWeights = "weights" // the executed portfolio weights (softmax of the logits, or the gate's)
	CriticLogits  = "logits"  // the (noisy, clipped) logits themselves, as bench task v1's ddpg.py
)

// Exploration noise processes (the TOML values of noise).
const (
	NoiseGaussian = "gaussian" // independent N(0, noise_sigma²) per logit and step
	NoiseOU       = "ou"       // Ornstein–Uhlenbeck per env and logit
)

// Config holds DDPG's (and TD3's) hyperparameters; it maps 1:1 onto the
// TOML table [agents.ddpg] (the embedded nets.Config's keys sit in the
// same table). Defaults are bench task v1's reference
// (../shared/bench/ddpg.py, after CleanRL's ddpg_continuous_action.py).
type Config struct {
	// NumEnvs is the number of parallel envs. Default 1; ≥ 1.
	NumEnvs int `toml:"num_envs"`
	// TrainFreq is the number of steps per env collected between calls to
	// Update (the rollout length). Default 1; ≥ 1.
	TrainFreq int `toml:"train_freq"`
	// UpdatesPerStep is the number of gradient steps per transition
	// collected (once learning has started). Default 1; ≥ 1.
	UpdatesPerStep int `toml:"updates_per_step"`
	// BufferSize is the replay capacity in transitions. Default 1,000,000;
	// ≥ batch_size. Memory grows with use: (2·obs + action)·4 + 9 bytes per
	// transition stored.
	BufferSize int `toml:"buffer_size"`
	// BatchSize is the number of transitions per gradient step. Default
	// 256; ≥ 1.
	BatchSize int `toml:"batch_size"`
	// LearningStarts is the number of transitions collected with uniformly
	// random logits before acting with the actor and learning. Default
	// 1000 (bench; CleanRL uses 25,000); ≥ 0.
	LearningStarts int `toml:"learning_starts"`
	// ActorLR and CriticLR are Adam's step sizes. Default 3e-4 each (the
	// bench reference); > 0.
	ActorLR  float64 `toml:"actor_lr"`
	CriticLR float64 `toml:"critic_lr"`
	// AdamEps is Adam's ε. Default 1e-8 (PyTorch's default, used by the
	// reference); > 0.
	AdamEps float64 `toml:"adam_eps"`
	// MaxGradNorm clips each network's global gradient norm; 0 disables.
	// Default 0 (the reference does not clip).
	MaxGradNorm float64 `toml:"max_grad_norm"`
	// Gamma is the discount factor per step. Default 0.99; in [0, 1].
	Gamma float64 `toml:"gamma"`
	// Tau is the soft target-update rate θ' ← τθ + (1−τ)θ'. Default 0.005;
	// in (0, 1].
	Tau float64 `toml:"tau"`
	// ActionScale A bounds the logits: the actor outputs A·tanh(·) and
	// noisy logits are clipped to [−A, A]. Default 5; > 0.
	ActionScale float64 `toml:"action_scale"`
	// Noise is the exploration process added to the logits: "gaussian" or
	// "ou". Default "gaussian".
	Noise string `toml:"noise"`
	// NoiseSigma is the exploration noise scale in logit units (Gaussian
	// standard deviation, or the OU process's σ). Default 0.1; ≥ 0.
	NoiseSigma float64 `toml:"noise_sigma"`
	// OUTheta is the OU mean-reversion rate per unit time. Default 0.15; > 0.
	OUTheta float64 `toml:"ou_theta"`
	// OUDt is the OU time step. Default 0.01 (SB3's); > 0.
	OUDt float64 `toml:"ou_dt"`
	// PolicyDelay updates the actor and the targets every policy_delay
	// gradient steps (TD3: 2). Default 1 (the reference); ≥ 1.
	PolicyDelay int `toml:"policy_delay"`
	// TwinCritics learns two Q networks and bootstraps from the smaller
	// target (TD3's clipped double Q). Default false.
	TwinCritics bool `toml:"twin_critics"`
	// TargetNoise is the standard deviation of the Gaussian noise added to
	// the target policy's logits (TD3's target policy smoothing, in logit
	// units; A = action_scale); 0 disables. Default 0; TD3 uses 0.2·A;
	// range ≥ 0.
	TargetNoise float64 `toml:"target_noise"`
	// TargetNoiseClip bounds each draw of the target-policy noise to
	// ±target_noise_clip (logit units); used only when target_noise > 0.
	// Default 0.5; TD3 uses 0.5·A; range ≥ 0.
	TargetNoiseClip float64 `toml:"target_noise_clip"`
	// PredCoef weighs the dynamic embedding's prediction loss in both the
	// actor's and the critic's loss. Default 1; ≥ 0.
	PredCoef float64 `toml:"pred_coef"`
	// VolTargetFeature is the per-asset feature index whose latest value in
	// the next observation is the volatility target of the dynamic
	// embedding, or −1 for |next log return|. Default −1.
	VolTargetFeature int `toml:"vol_target_feature"`
	// CriticAction is what the critic sees as the action: "logits" (the
	// actor's noisy, clipped logits, as bench task v1's reference and
	// CleanRL, whose critic takes the raw action), "weights" (the executed
	// allocation) or "auto" (default: "logits" when embedding = "none" and
	// vol_timing = false, else "weights"). Measured: on bench task v1 a
	// weights critic learned high-turnover policies, while with the
	// volatility-timing gate a logits critic learned a weaker gate (see
	// the package documentation). "logits" needs embedding = "none" (the
	// decoder reads weights).
	CriticAction string `toml:"critic_action"`

	nets.Config
}

// Defaults returns bench task v1's reference: one env, one gradient step
// per env step, batch 256, buffer 1e6, τ 0.005, γ 0.99, Adam 3e-4 for
// actor and critic, Gaussian noise 0.1 on logits scaled to ±5, 1000
// warm-up steps, 256-256 ReLU networks with PyTorch's default init, in
// float32 (the reference's precision; a gradient step takes about half
// the time of float64's, see the package documentation) on the native
// engine with two goroutines.
func Defaults() Config {
	return Config{
		NumEnvs: 1, TrainFreq: 1, UpdatesPerStep: 1, BufferSize: 1_000_000, BatchSize: 256, LearningStarts: 1000,
		ActorLR: 3e-4, CriticLR: 3e-4, AdamEps: 1e-8, MaxGradNorm: 0, Gamma: 0.99, Tau: 0.005, ActionScale: 5,
		Noise: NoiseGaussian, NoiseSigma: 0.1, OUTheta: 0.15, OUDt: 0.01, PolicyDelay: 1,
		TwinCritics: false, TargetNoise: 0, TargetNoiseClip: 0.5, PredCoef: 1, VolTargetFeature: -1,
		CriticAction: CriticAuto,
		Config: nets.Config{
			Trunk: nets.TrunkFlat, Hidden: []int{256, 256}, Activation: "relu",
			AssetHidden: []int{32, 16}, Init: "uniform",
			Embedding: nets.EmbeddingNone, Latent: 8, DecoderHidden: []int{32},
			GateHidden: 16, ReturnFeature: 0, Backend: nets.BackendNative, Parallel: true,
			Precision: nets.PrecisionFloat32,
		},
	}
}

// TD3 returns Defaults with Fujimoto et al.'s (2018) refinements: twin
// critics, target policy smoothing (0.2·A clipped at 0.5·A in logit units)
// and actor updates every second step.
func TD3() Config {
	c := Defaults()
	c.TwinCritics = true
	c.TargetNoise = 0.2 * c.ActionScale
	c.TargetNoiseClip = 0.5 * c.ActionScale
	c.PolicyDelay = 2
	return c
}

// Validate checks ranges and consistency.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error { return fmt.Errorf("ddpg: config: "+format, args...) }
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	nonneg := func(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
	switch {
	case c.NumEnvs < 1:
		return bad("num_envs %d must be ≥ 1", c.NumEnvs)
	case c.TrainFreq < 1:
		return bad("train_freq %d must be ≥ 1", c.TrainFreq)
	case c.UpdatesPerStep < 1:
		return bad("updates_per_step %d must be ≥ 1", c.UpdatesPerStep)
	case c.BatchSize < 1:
		return bad("batch_size %d must be ≥ 1", c.BatchSize)
	case c.BufferSize < c.BatchSize:
		return bad("buffer_size %d must be ≥ batch_size %d", c.BufferSize, c.BatchSize)
	case c.LearningStarts < 0:
		return bad("learning_starts %d must be ≥ 0", c.LearningStarts)
	case !pos(c.ActorLR) || !pos(c.CriticLR):
		return bad("actor_lr %v and critic_lr %v must be > 0", c.ActorLR, c.CriticLR)
	case !pos(c.AdamEps):
		return bad("adam_eps %v must be > 0", c.AdamEps)
	case !nonneg(c.MaxGradNorm):
		return bad("max_grad_norm %v must be ≥ 0", c.MaxGradNorm)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return bad("gamma %v must be in [0, 1]", c.Gamma)
	case !(c.Tau > 0 && c.Tau <= 1):
		return bad("tau %v must be in (0, 1]", c.Tau)
	case !pos(c.ActionScale):
		return bad("action_scale %v must be > 0", c.ActionScale)
	case c.Noise != NoiseGaussian && c.Noise != NoiseOU:
		return bad("noise %q (want %q or %q)", c.Noise, NoiseGaussian, NoiseOU)
	case !nonneg(c.NoiseSigma):
		return bad("noise_sigma %v must be ≥ 0", c.NoiseSigma)
	case c.Noise == NoiseOU && (!pos(c.OUTheta) || !pos(c.OUDt)):
		return bad("ou_theta %v and ou_dt %v must be > 0", c.OUTheta, c.OUDt)
	case c.PolicyDelay < 1:
		return bad("policy_delay %d must be ≥ 1", c.PolicyDelay)
	case !nonneg(c.TargetNoise) || !nonneg(c.TargetNoiseClip):
		return bad("target_noise %v and target_noise_clip %v must be ≥ 0", c.TargetNoise, c.TargetNoiseClip)
	case !nonneg(c.PredCoef):
		return bad("pred_coef %v must be ≥ 0", c.PredCoef)
	case c.VolTargetFeature < -1:
		return bad("vol_target_feature %d must be ≥ −1", c.VolTargetFeature)
	case c.CriticAction != CriticAuto && c.CriticAction != CriticWeights && c.CriticAction != CriticLogits:
		return bad("critic_action %q (want %q, %q or %q)", c.CriticAction, CriticAuto, CriticLogits, CriticWeights)
	case c.CriticAction == CriticLogits && c.Embedding != nets.EmbeddingNone:
		return bad("critic_action %q needs embedding %q (the decoder reads weights)", c.CriticAction, nets.EmbeddingNone)
	}
	if err := c.Config.Validate(); err != nil {
		return bad("%v", err)
	}
	return nil
}

// criticAction resolves "auto" to the critic action input the agent uses.
func (c *Config) criticAction() string {
	if c.CriticAction != CriticAuto {
		return c.CriticAction
	}
	if c.Embedding == nets.EmbeddingNone && !c.VolTiming {
		return CriticLogits
	}
	return CriticWeights
}
