package wrap

import (
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

func marketEnv(p *market.Panel, episodeLen int) (*env.Market, error) {
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen = 10, episodeLen
	return env.New(p, envtest.Features(p), nil, cfg)
}

// stack is the recommended wrapper stack over the market env.
type stack struct {
	top env.Env
	on  *ObsNorm
	rs  *RewardScale
	mon *Monitor
}

func newStack(p *market.Panel) (*stack, error) {
	m, err := marketEnv(p, 0) // the time limit decides the length
	if err != nil {
		return nil, err
	}
	gcfg := guard.Defaults()
	gcfg.MaxWeight, gcfg.MaxTurnover, gcfg.DrawdownLimit = 0.6, 0.8, 0.1
	g, err := guard.New(m, gcfg)
	if err != nil {
		return nil, err
	}
	tl, err := NewTimeLimit(g, 40)
	if err != nil {
		return nil, err
	}
	mon, err := NewMonitor(tl, 8)
	if err != nil {
		return nil, err
	}
	rs, err := NewRewardScale(mon, RewardScaleDefaults())
	if err != nil {
		return nil, err
	}
	on, err := NewObsNorm(rs, ObsNormDefaults())
	if err != nil {
		return nil, err
	}
	return &stack{top: on, on: on, rs: rs, mon: mon}, nil
}

// warmState trains a stack on another panel and returns its normalisers'
// statistics, so that frozen stacks under test have realistic statistics
// that do not depend on the panel under test (which would leak its future
// into the look-ahead probe). Statistics move between envs of different
// panels with Stats and SetStats; MarshalBinary saves a whole stack, which
// only restores into a stack over the same panel.
func warmState(t *testing.T) (obs, rew *MeanVar) {
	t.Helper()
	s, err := newStack(envtest.RandomPanel(300, 3, 99))
	if err != nil {
		t.Fatal(err)
	}
	spec := s.top.Spec()
	o := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	rng := seed.New(1, seed.Test, 70)
	a := make([]float64, len(spec.Assets)+1)
	s.top.Reset(o, 1)
	for range 300 {
		sum := 0.0
		for i := range a {
			a[i] = rng.ExpFloat64()
			sum += a[i]
		}
		for i := range a {
			a[i] /= sum
		}
		if err := s.top.Step(res, a); err != nil {
			t.Fatal(err)
		}
		if res.Terminated || res.Truncated {
			s.top.Reset(o, rng.Uint64())
		}
	}
	return s.on.Stats().Clone(), s.rs.Stats().Clone()
}

func TestWrappersConformOverMarketEnv(t *testing.T) {
	p := envtest.RandomPanel(300, 3, 7)
	obsState, rewState := warmState(t)
	frozen := func(s *stack) error {
		if err := s.on.SetStats(obsState); err != nil {
			return err
		}
		if err := s.rs.SetStats(rewState); err != nil {
			return err
		}
		s.on.SetFrozen(true)
		s.rs.SetFrozen(true)
		return nil
	}
	builders := map[string]envtest.PanelFactory{
		"time_limit": func(p *market.Panel) (env.Env, error) {
			m, err := marketEnv(p, 0)
			if err != nil {
				return nil, err
			}
			return NewTimeLimit(m, 25)
		},
		"monitor": func(p *market.Panel) (env.Env, error) {
			m, err := marketEnv(p, 30)
			if err != nil {
				return nil, err
			}
			return NewMonitor(m, 4)
		},
		"obs_norm_frozen": func(p *market.Panel) (env.Env, error) {
			m, err := marketEnv(p, 30)
			if err != nil {
				return nil, err
			}
			on, err := NewObsNorm(m, ObsNormDefaults())
			if err != nil {
				return nil, err
			}
			if err := on.SetStats(obsState); err != nil { // statistics of another panel
				return nil, err
			}
			on.SetFrozen(true)
			return on, nil
		},
		"reward_scale_frozen": func(p *market.Panel) (env.Env, error) {
			m, err := marketEnv(p, 30)
			if err != nil {
				return nil, err
			}
			rs, err := NewRewardScale(m, RewardScaleDefaults())
			if err != nil {
				return nil, err
			}
			if err := rs.SetStats(rewState); err != nil {
				return nil, err
			}
			rs.SetFrozen(true)
			return rs, nil
		},
		"full_stack_frozen": func(p *market.Panel) (env.Env, error) {
			s, err := newStack(p)
			if err != nil {
				return nil, err
			}
			return s.top, frozen(s)
		},
	}
	for name, from := range builders {
		t.Run(name, func(t *testing.T) {
			envtest.Check(t, func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from})
		})
	}
}

func TestUnfrozenNormalisersOnlyFailReuse(t *testing.T) {
	// Learning normalisers carry statistics across episodes by design, so
	// envtest's "same env, same seeds" determinism check must fail — and
	// nothing else may: fresh envs are deterministic, and the statistics only
	// ever see past observations (the look-ahead probe passes).
	p := envtest.RandomPanel(300, 3, 7)
	from := func(p *market.Panel) (env.Env, error) {
		s, err := newStack(p)
		if err != nil {
			return nil, err
		}
		return s.top, nil
	}
	probs := envtest.Run(func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from})
	if len(probs) != 1 || probs[0].Check != envtest.CheckDeterminism {
		t.Fatalf("problems %v, want exactly the reused-env determinism failure", probs)
	}
	t.Logf("expected: %v", probs[0])
}

func TestFindPortfolioThroughStack(t *testing.T) {
	s, err := newStack(envtest.RandomPanel(100, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	port, ok := env.FindPortfolio(s.top)
	if !ok {
		t.Fatal("no Portfolio below the stack")
	}
	if _, isMarket := port.(*env.Market); !isMarket {
		t.Errorf("found %T", port)
	}
}
