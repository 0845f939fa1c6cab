package wrap

import (
	"errors"
	"fmt"
	"math"

	"github.com/folio-rl/folio/env"
)

// ObsNormConfig configures observation normalisation, mapped onto the
// [wrap.obs_norm] TOML table.
type ObsNormConfig struct {
	// Clip bounds every normalised element to [−Clip, Clip]. Range > 0;
	// default 10 (SB3 VecNormalize's clip_obs).
	Clip float64 `toml:"clip"`
	// Epsilon is added to the variance under the square root. Range > 0;
	// default 1e-8.
	Epsilon float64 `toml:"epsilon"`
	// NormalizeWeights also normalises the current-weights block of the
	// observation (Layout.WeightsOffset, N+1 values). Default false: the
	// weights are already in [0, 1], their exact values matter (a policy
	// must see "all cash" as such) and their statistics drift with the
	// policy itself, so they pass through unchanged.
	NormalizeWeights bool `toml:"normalize_weights"`
}

// ObsNormDefaults returns the default configuration.
func ObsNormDefaults() ObsNormConfig { return ObsNormConfig{Clip: 10, Epsilon: 1e-8} }

// Validate checks the ranges; messages name the TOML key.
func (c ObsNormConfig) Validate() error {
	var errs []error
	if !(c.Clip > 0) || math.IsInf(c.Clip, 0) {
		errs = append(errs, fmt.Errorf("wrap: obs_norm.clip = %v must be finite and > 0", c.Clip))
	}
	if !(c.Epsilon > 0) || math.IsInf(c.Epsilon, 0) {
		errs = append(errs, fmt.Errorf("wrap: obs_norm.epsilon = %v must be finite and > 0", c.Epsilon))
	}
	return errors.Join(errs...)
}

// ObsNorm normalises observations element by element with running
// statistics: x̂_k = clip((x_k − mean_k)/√(var_k + ε), ±Clip), mean and
// (population) variance over every observation seen so far — those of
// Reset and of Step — including the current one, which is added before it
// is normalised (SB3 VecNormalize's order). The first observation therefore
// normalises to 0. Frozen (SetFrozen(true), for evaluation) the statistics
// stop changing. The weights block passes through unless
// ObsNormConfig.NormalizeWeights. The statistics are the wrapper's
// checkpoint state (MarshalBinary/UnmarshalBinary); the frozen switch is a
// mode, not state.
type ObsNorm struct {
	env.Env
	cfg            ObsNormConfig
	spec           env.Spec
	stats          *MeanVar
	skipLo, skipHi int // the pass-through range [skipLo, skipHi)
	frozen         bool
}

// NewObsNorm wraps inner. The observation space becomes a Box of the same
// shape with bounds ±Clip (the weights block keeps the inner bounds when it
// passes through).
func NewObsNorm(inner env.Env, cfg ObsNormConfig) (*ObsNorm, error) {
	if inner == nil {
		panic("wrap: nil inner env")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec := inner.Spec()
	dim := spec.Observation.Len()
	o := &ObsNorm{Env: inner, cfg: cfg, stats: NewMeanVar(dim)}
	if !cfg.NormalizeWeights {
		o.skipLo = spec.Layout.WeightsOffset
		o.skipHi = o.skipLo + len(spec.Assets) + 1
		if spec.Layout.Len != dim || o.skipHi > dim || o.skipLo < 0 {
			return nil, fmt.Errorf("wrap: obs_norm: inner layout has no weights block at [%d, %d) in an observation of %d (layout length %d); set normalize_weights = true",
				o.skipLo, o.skipHi, dim, spec.Layout.Len)
		}
	}
	low, high := make([]float64, dim), make([]float64, dim)
	for k := range dim {
		if k >= o.skipLo && k < o.skipHi {
			low[k], high[k] = math.Inf(-1), math.Inf(1)
			if spec.Observation.Kind == env.Box && len(spec.Observation.Low) == dim {
				low[k], high[k] = spec.Observation.Low[k], spec.Observation.High[k]
			}
			continue
		}
		low[k], high[k] = -cfg.Clip, cfg.Clip
	}
	spec.Observation = env.Space{Kind: env.Box, Shape: append([]int(nil), spec.Observation.Shape...), Low: low, High: high}
	o.spec = spec
	return o, nil
}

// Spec returns the inner spec with the normalised observation space.
func (o *ObsNorm) Spec() env.Spec { return o.spec }

// Reset resets the inner env and normalises the first observation.
func (o *ObsNorm) Reset(dst []float64, seed uint64) (env.Info, error) {
	info, err := o.Env.Reset(dst, seed)
	if err != nil {
		return info, err
	}
	return info, o.apply(dst)
}

// Step steps the inner env and normalises the observation in place.
func (o *ObsNorm) Step(dst *env.StepResult, action []float64) error {
	if err := o.Env.Step(dst, action); err != nil {
		return err
	}
	return o.apply(dst.Obs)
}

// apply updates the statistics with x (unless frozen) and normalises x in
// place. A non-finite element is an error and leaves the statistics alone.
func (o *ObsNorm) apply(x []float64) error {
	for k, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return fmt.Errorf("wrap: obs_norm: observation element %d is %v; statistics not updated", k, v)
		}
	}
	if !o.frozen {
		o.stats.Add(x)
	}
	o.normalize(x, x)
	return nil
}

// normalize writes the normalisation of x into dst (which may alias x).
func (o *ObsNorm) normalize(dst, x []float64) {
	copy(dst[o.skipLo:o.skipHi], x[o.skipLo:o.skipHi])
	o.normalizeRange(dst, x, 0, o.skipLo)
	o.normalizeRange(dst, x, o.skipHi, len(x))
}

func (o *ObsNorm) normalizeRange(dst, x []float64, from, to int) {
	c, eps := o.cfg.Clip, o.cfg.Epsilon
	inv := 0.0 // 1/n; variances are 0 before any data
	if o.stats.n > 0 {
		inv = 1 / o.stats.n
	}
	mean, m2 := o.stats.mean[from:to], o.stats.m2[from:to]
	x, dst = x[from:to], dst[from:to]
	for k, v := range x {
		z := (v - mean[k]) / math.Sqrt(m2[k]*inv+eps)
		if z > c {
			z = c
		} else if z < -c {
			z = -c
		}
		dst[k] = z
	}
}

// NormalizeTo writes the normalisation of the raw observation x into dst
// with the current statistics, without updating them (for observations
// gathered outside Step, e.g. stored ones). dst may alias x.
func (o *ObsNorm) NormalizeTo(dst, x []float64) []float64 {
	if len(x) != o.stats.Dim() || len(dst) != len(x) {
		panic("wrap: obs_norm: NormalizeTo length mismatch")
	}
	o.normalize(dst, x)
	return dst
}

// SetFrozen stops (true) or resumes (false) updating the statistics.
func (o *ObsNorm) SetFrozen(frozen bool) { o.frozen = frozen }

// Frozen reports whether the statistics are frozen.
func (o *ObsNorm) Frozen() bool { return o.frozen }

// Stats returns the live statistics (e.g. to Merge those of several envs);
// changing them changes the normalisation.
func (o *ObsNorm) Stats() *MeanVar { return o.stats }

// Unwrap returns the inner env.
func (o *ObsNorm) Unwrap() env.Env { return o.Env }

// SetStats replaces the wrapper's statistics by a copy of s, e.g. to
// normalise an evaluation env with the statistics learnt in training
// (SetStats(trainNorm.Stats()), then SetFrozen(true)). It fails if s is
// of another observation length.
func (o *ObsNorm) SetStats(s *MeanVar) error {
	if s.Dim() != o.stats.Dim() {
		return fmt.Errorf("%w: ObsNorm statistics of observations of %d values, the wrapper has %d", ErrState, s.Dim(), o.stats.Dim())
	}
	*o.stats = *s.Clone()
	return nil
}
