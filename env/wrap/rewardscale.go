package wrap

import (
	"errors"
	"fmt"
	"math"

	"github.com/folio-rl/folio/env"
)

// RewardScaleConfig configures reward scaling, mapped onto the
// [wrap.reward_scale] TOML table.
type RewardScaleConfig struct {
	// Gamma is the discount of the running return whose standard deviation
	// scales the rewards; use the learner's γ. Range [0, 1]; default 0.99.
	Gamma float64 `toml:"gamma"`
	// Clip bounds the scaled reward to [−Clip, Clip]. Range > 0; default 10.
	Clip float64 `toml:"clip"`
	// Epsilon is added to the variance under the square root. Range > 0;
	// default 1e-8.
	Epsilon float64 `toml:"epsilon"`
}

// RewardScaleDefaults returns the default configuration (SB3 VecNormalize's).
func RewardScaleDefaults() RewardScaleConfig {
	return RewardScaleConfig{Gamma: 0.99, Clip: 10, Epsilon: 1e-8}
}

// Validate checks the ranges; messages name the TOML key.
func (c RewardScaleConfig) Validate() error {
	var errs []error
	if !(c.Gamma >= 0 && c.Gamma <= 1) {
		errs = append(errs, fmt.Errorf("wrap: reward_scale.gamma = %v out of range [0, 1]", c.Gamma))
	}
	if !(c.Clip > 0) || math.IsInf(c.Clip, 0) {
		errs = append(errs, fmt.Errorf("wrap: reward_scale.clip = %v must be finite and > 0", c.Clip))
	}
	if !(c.Epsilon > 0) || math.IsInf(c.Epsilon, 0) {
		errs = append(errs, fmt.Errorf("wrap: reward_scale.epsilon = %v must be finite and > 0", c.Epsilon))
	}
	return errors.Join(errs...)
}

// rewardPrior is SB3's RunningMeanStd initial state: a pseudo-count of 1e-4
// with mean 0 and variance 1. It keeps the first scaled rewards finite and
// sane (with no prior the first return has variance 0).
const rewardPrior = 1e-4

// RewardScale divides each reward by the running standard deviation of the
// discounted return, as SB3's VecNormalize(norm_reward=True) does:
//
//	R ← γ·R + r;  update the statistics with R;  r̂ = clip(r/√(var(R) + ε), ±Clip)
//
// and R ← 0 when the episode ends (terminated or truncated) or at Reset.
// The statistics start from SB3's prior (count 1e-4, mean 0, variance 1).
// Frozen (SetFrozen(true)) neither R nor the statistics change and rewards
// are scaled with the frozen variance. The rewards are not centred: a
// shifted reward would change which policies are optimal. The statistics
// and R are the checkpoint state (MarshalBinary/UnmarshalBinary).
type RewardScale struct {
	env.Env
	cfg    RewardScaleConfig
	stats  *MeanVar // of the discounted return, dimension 1
	ret    float64  // running discounted return R
	raw    float64  // the last unscaled reward
	frozen bool
	buf    [1]float64
}

// NewRewardScale wraps inner.
func NewRewardScale(inner env.Env, cfg RewardScaleConfig) (*RewardScale, error) {
	if inner == nil {
		panic("wrap: nil inner env")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &RewardScale{Env: inner, cfg: cfg, stats: NewMeanVar(1)}
	r.stats.MergeMoments(rewardPrior, []float64{0}, []float64{rewardPrior})
	return r, nil
}

// Reset resets the inner env and the running return.
func (r *RewardScale) Reset(dst []float64, seed uint64) (env.Info, error) {
	r.ret = 0
	return r.Env.Reset(dst, seed)
}

// Step steps the inner env and scales dst.Reward. A non-finite reward is an
// error and leaves the statistics alone.
func (r *RewardScale) Step(dst *env.StepResult, action []float64) error {
	if err := r.Env.Step(dst, action); err != nil {
		return err
	}
	x := dst.Reward
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("wrap: reward_scale: reward %v is not finite; statistics not updated", x)
	}
	r.raw = x
	if !r.frozen {
		r.ret = r.cfg.Gamma*r.ret + x
		r.buf[0] = r.ret
		r.stats.Add(r.buf[:])
	}
	c := r.cfg.Clip
	dst.Reward = max(-c, min(c, x/math.Sqrt(r.stats.Var(0)+r.cfg.Epsilon)))
	if dst.Terminated || dst.Truncated {
		r.ret = 0
	}
	return nil
}

// Raw returns the unscaled reward of the last Step.
func (r *RewardScale) Raw() float64 { return r.raw }

// Scale returns the divisor √(var(R) + ε) the next reward would be divided by
// if the statistics did not change.
func (r *RewardScale) Scale() float64 { return math.Sqrt(r.stats.Var(0) + r.cfg.Epsilon) }

// SetFrozen stops (true) or resumes (false) updating the statistics.
func (r *RewardScale) SetFrozen(frozen bool) { r.frozen = frozen }

// Frozen reports whether the statistics are frozen.
func (r *RewardScale) Frozen() bool { return r.frozen }

// Stats returns the live statistics of the discounted return.
func (r *RewardScale) Stats() *MeanVar { return r.stats }

// Unwrap returns the inner env.
func (r *RewardScale) Unwrap() env.Env { return r.Env }

// SetStats replaces the statistics of the discounted return by a copy of s
// (dimension 1), e.g. to scale evaluation rewards as in training. The
// running return is not changed.
func (r *RewardScale) SetStats(s *MeanVar) error {
	if s.Dim() != 1 {
		return fmt.Errorf("%w: RewardScale statistics have dimension %d, want 1", ErrState, s.Dim())
	}
	*r.stats = *s.Clone()
	return nil
}
