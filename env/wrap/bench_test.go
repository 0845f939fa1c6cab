package wrap

import (
	"fmt"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/internal/seed"
)

// BenchmarkStep measures one Step of the market env bare, under each
// wrapper alone, and under the full recommended stack (guard with position
// limits, turnover, liquidity and breaker; no vol cap).
func BenchmarkStep(b *testing.B) {
	for _, n := range []int{4, 16} {
		p := envtest.RandomPanel(3000, n, 5)
		build := []struct {
			name string
			f    func(env.Env) (env.Env, error)
		}{
			{"env", func(e env.Env) (env.Env, error) { return e, nil }},
			{"obs_norm", func(e env.Env) (env.Env, error) { return NewObsNorm(e, ObsNormDefaults()) }},
			{"reward_scale", func(e env.Env) (env.Env, error) { return NewRewardScale(e, RewardScaleDefaults()) }},
			{"time_limit", func(e env.Env) (env.Env, error) { return NewTimeLimit(e, 256) }},
			{"monitor", func(e env.Env) (env.Env, error) { return NewMonitor(e, 100) }},
			{"guard", func(e env.Env) (env.Env, error) { return guard.New(e, benchGuard()) }},
			{"full_stack", func(e env.Env) (env.Env, error) {
				g, err := guard.New(e, benchGuard())
				if err != nil {
					return nil, err
				}
				tl, _ := NewTimeLimit(g, 256)
				mon, _ := NewMonitor(tl, 100)
				rs, _ := NewRewardScale(mon, RewardScaleDefaults())
				return NewObsNorm(rs, ObsNormDefaults())
			}},
		}
		for _, c := range build {
			b.Run(fmt.Sprintf("assets=%d/%s", n, c.name), func(b *testing.B) {
				m, err := marketEnv(p, 0)
				if err != nil {
					b.Fatal(err)
				}
				e, err := c.f(m)
				if err != nil {
					b.Fatal(err)
				}
				spec := e.Spec()
				obs := make([]float64, spec.Observation.Len())
				res := env.NewStepResult(spec)
				rng := seed.New(1, seed.Test, 80)
				acts := make([][]float64, 64)
				for k := range acts {
					acts[k] = make([]float64, n+1)
					s := 0.0
					for i := range acts[k] {
						acts[k][i] = rng.ExpFloat64()
						s += acts[k][i]
					}
					for i := range acts[k] {
						acts[k][i] /= s
					}
				}
				e.Reset(obs, 1)
				k := uint64(0)
				b.ReportAllocs()
				for b.Loop() {
					if err := e.Step(res, acts[k&63]); err != nil {
						b.Fatal(err)
					}
					k++
					if res.Terminated || res.Truncated {
						e.Reset(obs, k)
					}
				}
			})
		}
	}
}

func benchGuard() guard.Config {
	c := guard.Defaults()
	c.MaxWeight, c.MinCash, c.MaxTurnover, c.MaxParticipation = 0.4, 0.05, 0.5, 0.05
	c.DrawdownLimit = 0.2
	return c
}
