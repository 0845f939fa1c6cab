package ppo

import (
	"errors"
	"fmt"
	"math"

	"github.com/folio-rl/folio/nets"
)

// Config holds PPO's hyperparameters; it maps 1:1 onto the TOML table
// [agents.ppo] (the embedded nets.Config's keys sit in the same table).
// Defaults are bench task v1's reference (../shared/bench/ppo.py, after
// CleanRL's ppo_continuous_action.py).
type Config struct {
	// NumEnvs is the number of parallel envs per rollout. Default 8; ≥ 1.
	NumEnvs int `toml:"num_envs"`
	// NumSteps is the number of steps per env per rollout. Default 256; ≥ 1.
	NumSteps int `toml:"num_steps"`
	// LearningRate is Adam's step size at the start of training. Default
	// 3e-4; > 0.
	LearningRate float64 `toml:"learning_rate"`
	// AnnealLR decays the learning rate linearly to 0 over the training
	// budget: lr = (1 − progress)·learning_rate (CleanRL). Default true.
	AnnealLR bool `toml:"anneal_lr"`
	// AdamEps is Adam's ε. Default 1e-5 (CleanRL; PyTorch's default 1e-8);
	// > 0.
	AdamEps float64 `toml:"adam_eps"`
	// UpdateEpochs is the number of passes over each rollout. Default 10; ≥ 1.
	UpdateEpochs int `toml:"update_epochs"`
	// NumMinibatches splits each rollout into this many minibatches; it
	// must divide num_envs·num_steps. Default 32 (minibatches of 64).
	NumMinibatches int `toml:"num_minibatches"`
	// Gamma is the discount factor per step. Default 0.99; in [0, 1].
	Gamma float64 `toml:"gamma"`
	// GAELambda is GAE's λ. Default 0.95; in [0, 1].
	GAELambda float64 `toml:"gae_lambda"`
	// ClipCoef is the surrogate clipping ε (and the value clipping range).
	// Default 0.2; > 0.
	ClipCoef float64 `toml:"clip_coef"`
	// ClipValueLoss clips the value update around the rollout's values
	// (CleanRL's clip_vloss). Default true.
	ClipValueLoss bool `toml:"clip_vloss"`
	// EntCoef weighs the entropy bonus. Default 0; ≥ 0.
	EntCoef float64 `toml:"ent_coef"`
	// VFCoef weighs the value loss. Default 0.5; ≥ 0.
	VFCoef float64 `toml:"vf_coef"`
	// MaxGradNorm clips the global gradient norm (all parameters); 0
	// disables. Default 0.5.
	MaxGradNorm float64 `toml:"max_grad_norm"`
	// NormAdv normalises advantages per minibatch (mean 0, std 1).
	// Default true.
	NormAdv bool `toml:"norm_adv"`
	// TargetKL stops the update early (before the step of the first
	// minibatch whose approximate KL exceeds 1.5·target_kl, SB3's rule);
	// 0 disables. Default 0; ≥ 0.
	TargetKL float64 `toml:"target_kl"`
	// BootstrapTruncated adds γ·V(final observation) to the reward of a
	// truncated step (SB3); false treats truncation as termination
	// (CleanRL's simplification). Default true.
	BootstrapTruncated bool `toml:"bootstrap_truncated"`
	// LogStdInit is the initial log standard deviation of the Gaussian
	// over logits (a learned, state-independent parameter). Default 0
	// (σ = 1); any finite number (e.g. −0.5 for σ ≈ 0.61).
	LogStdInit float64 `toml:"log_std_init"`
	// PredCoef weighs the dynamic embedding's prediction loss (mean squared
	// error of next-bar log return and volatility) in the total loss.
	// Default 1; ≥ 0. Ignored without the dynamic embedding.
	PredCoef float64 `toml:"pred_coef"`
	// VolTargetFeature is the per-asset feature index whose latest value
	// in the next observation is the volatility target of the dynamic
	// embedding, or −1 for |next log return|. Default −1.
	VolTargetFeature int `toml:"vol_target_feature"`

	nets.Config
}

// Defaults returns bench task v1's reference hyperparameters: 8 envs ×
// 256 steps, 10 epochs of 32 minibatches, Adam 3e-4 (ε 1e-5) annealed,
// γ 0.99, λ 0.95, clip 0.2 with value clipping, vf 0.5, ent 0, grad-norm
// 0.5, a 64-64 tanh MLP for actor and critic, orthogonal init, no
// embedding, no volatility timing; float32 networks on the native engine
// with two goroutines (about twice as fast as float64, see the package
// documentation). The reference's PPO does not bootstrap truncated
// episodes; folio's default does (bootstrap_truncated = true).
func Defaults() Config {
	return Config{
		NumEnvs: 8, NumSteps: 256, LearningRate: 3e-4, AnnealLR: true, AdamEps: 1e-5,
		UpdateEpochs: 10, NumMinibatches: 32, Gamma: 0.99, GAELambda: 0.95, ClipCoef: 0.2,
		ClipValueLoss: true, EntCoef: 0, VFCoef: 0.5, MaxGradNorm: 0.5, NormAdv: true,
		TargetKL: 0, BootstrapTruncated: true, LogStdInit: 0, PredCoef: 1, VolTargetFeature: -1,
		Config: nets.Config{
			Trunk: nets.TrunkFlat, Hidden: []int{64, 64}, Activation: "tanh",
			AssetHidden: []int{32, 16}, Init: "orthogonal",
			Embedding: nets.EmbeddingNone, Latent: 8, DecoderHidden: []int{32},
			GateHidden: 16, ReturnFeature: 0, Backend: nets.BackendNative, Parallel: true,
			Precision: nets.PrecisionFloat32,
		},
	}
}

// MinibatchSize returns num_envs·num_steps / num_minibatches.
func (c *Config) MinibatchSize() int { return c.NumEnvs * c.NumSteps / c.NumMinibatches }

// Validate checks ranges and consistency.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error { return fmt.Errorf("ppo: config: "+format, args...) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.NumEnvs < 1:
		return bad("num_envs %d must be ≥ 1", c.NumEnvs)
	case c.NumSteps < 1:
		return bad("num_steps %d must be ≥ 1", c.NumSteps)
	case !(c.LearningRate > 0) || !finite(c.LearningRate):
		return bad("learning_rate %v must be > 0", c.LearningRate)
	case !(c.AdamEps > 0) || !finite(c.AdamEps):
		return bad("adam_eps %v must be > 0", c.AdamEps)
	case c.UpdateEpochs < 1:
		return bad("update_epochs %d must be ≥ 1", c.UpdateEpochs)
	case c.NumMinibatches < 1 || (c.NumEnvs*c.NumSteps)%c.NumMinibatches != 0:
		return bad("num_minibatches %d must divide num_envs·num_steps = %d", c.NumMinibatches, c.NumEnvs*c.NumSteps)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return bad("gamma %v must be in [0, 1]", c.Gamma)
	case !(c.GAELambda >= 0 && c.GAELambda <= 1):
		return bad("gae_lambda %v must be in [0, 1]", c.GAELambda)
	case !(c.ClipCoef > 0) || !finite(c.ClipCoef):
		return bad("clip_coef %v must be > 0", c.ClipCoef)
	case !(c.EntCoef >= 0) || !finite(c.EntCoef):
		return bad("ent_coef %v must be ≥ 0", c.EntCoef)
	case !(c.VFCoef >= 0) || !finite(c.VFCoef):
		return bad("vf_coef %v must be ≥ 0", c.VFCoef)
	case !(c.MaxGradNorm >= 0) || !finite(c.MaxGradNorm):
		return bad("max_grad_norm %v must be ≥ 0", c.MaxGradNorm)
	case !(c.TargetKL >= 0) || !finite(c.TargetKL):
		return bad("target_kl %v must be ≥ 0", c.TargetKL)
	case !finite(c.LogStdInit):
		return bad("log_std_init %v must be finite", c.LogStdInit)
	case !(c.PredCoef >= 0) || !finite(c.PredCoef):
		return bad("pred_coef %v must be ≥ 0", c.PredCoef)
	case c.VolTargetFeature < -1:
		return bad("vol_target_feature %d must be ≥ −1", c.VolTargetFeature)
	case c.MinibatchSize() < 2 && c.NormAdv:
		return errors.New("ppo: config: norm_adv needs minibatches of at least 2 transitions")
	}
	if err := c.Config.Validate(); err != nil {
		return bad("%v", err)
	}
	return nil
}
