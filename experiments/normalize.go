package experiments

import (
	"fmt"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/wrap"
	"github.com/folio-rl/folio/train"
)

// normalizer wraps a training env in running reward scaling and running
// observation normalisation when the agent asks for them. ObsNorm is the
// outer layer: mergedStats looks for it there.
func normalizer(e env.Env, a *Agent) (env.Env, error) {
	if a.Train.NormalizeReward {
		cfg := wrap.RewardScaleDefaults()
		cfg.Gamma = a.gamma()
		rs, err := wrap.NewRewardScale(e, cfg)
		if err != nil {
			return nil, err
		}
		e = rs
	}
	if !a.Train.NormalizeObs {
		return e, nil
	}
	return wrap.NewObsNorm(e, wrap.ObsNormDefaults())
}

// mergedStats merges the observation statistics of every normalised env of
// a training Vec (nil when the envs are not normalised).
func mergedStats(v *env.Vec) *wrap.MeanVar {
	var m *wrap.MeanVar
	for b := 0; b < v.Len(); b++ {
		o, ok := v.Env(b).(*wrap.ObsNorm)
		if !ok {
			return nil
		}
		if m == nil {
			m = wrap.NewMeanVar(o.Stats().Dim())
		}
		m.Merge(o.Stats())
	}
	return m
}

// obsStatsOf returns train.Options.ObsStats for a training Vec: its
// merged statistics, serialised, at the moment of the call (nil when the
// envs are not normalised). train.Run takes them with every model it
// keeps, so the best model is tested, and saved, with the statistics it
// was validated through rather than those at the end of training.
func obsStatsOf(v *env.Vec) func() ([]byte, error) {
	return func() ([]byte, error) {
		m := mergedStats(v)
		if m == nil {
			return nil, nil
		}
		return m.MarshalBinary()
	}
}

// selected returns the learner train.Run left holding the selected model
// (best or final) together with that model's observation statistics
// (tr.ObsStats, from obsStatsOf).
func selected(l agents.Learner, tr *train.Result) (agents.Learner, *train.Result, error) {
	t := &trained{Learner: l}
	if tr.ObsStats != nil {
		t.stats = &wrap.MeanVar{}
		if err := t.stats.UnmarshalBinary(tr.ObsStats); err != nil {
			return nil, nil, fmt.Errorf("experiments: observation statistics of the %s model: %w", tr.Selected, err)
		}
	}
	return t, tr, nil
}

// trained is a learner together with the observation statistics its
// policy must see observations through.
type trained struct {
	agents.Learner
	stats *wrap.MeanVar
}

// policy returns the learner's policy, behind the frozen normalisation.
func (t *trained) policy() (agents.Policy, error) { return normalized(t.Learner.Policy(), t.stats) }

// normalized returns p carrying the observation statistics it was trained
// with (or p itself when stats is nil): backtests put the env behind a
// frozen ObsNorm with these statistics before p sees an observation.
func normalized(p agents.Policy, stats *wrap.MeanVar) (agents.Policy, error) {
	if stats == nil {
		return p, nil
	}
	return &statPolicy{Policy: p, stats: stats}, nil
}

// statPolicy is a policy with the observation statistics it expects.
type statPolicy struct {
	agents.Policy
	stats *wrap.MeanVar
}

// ObsStats returns the statistics the policy's observations are
// standardised with.
func (s *statPolicy) ObsStats() *wrap.MeanVar { return s.stats }

// withFrozenNorm puts e behind a frozen ObsNorm with p's statistics when p
// carries them.
func withFrozenNorm(e env.Env, p agents.Policy) (env.Env, error) {
	sp, ok := p.(interface{ ObsStats() *wrap.MeanVar })
	if !ok || sp.ObsStats() == nil {
		return e, nil
	}
	o, err := wrap.NewObsNorm(e, wrap.ObsNormDefaults())
	if err != nil {
		return nil, err
	}
	if err := o.SetStats(sp.ObsStats()); err != nil {
		return nil, fmt.Errorf("experiments: observation statistics do not fit the env: %w", err)
	}
	o.SetFrozen(true)
	return o, nil
}
