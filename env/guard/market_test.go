package guard

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// allLimits enables every limit at levels that bind on envtest panels.
func allLimits() Config {
	return with(func(c *Config) {
		c.MaxWeight, c.MinCash, c.MaxGross, c.MaxTurnover = 0.45, 0.05, 0.9, 0.6
		c.MaxParticipation = 0.05 // half the market env's liquidity_cap of 0.1
		c.DrawdownLimit, c.DrawdownGross, c.DrawdownCooldown = 0.08, 0.3, 5
		c.VolTarget, c.VolWindow = 0.5, 30
	})
}

func marketEnv(p *market.Panel) (*env.Market, error) {
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen = 10, 60
	return env.New(p, envtest.Features(p), nil, cfg)
}

func TestGuardConformsOverMarketEnv(t *testing.T) {
	p := envtest.RandomPanel(300, 3, 7)
	from := func(p *market.Panel) (env.Env, error) {
		m, err := marketEnv(p)
		if err != nil {
			return nil, err
		}
		return New(m, allLimits())
	}
	envtest.Check(t, func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from})
}

// TestGuardOverMarketEnvWithCosts drives the guard over the real market env
// (exact fees, sqrt slippage, its own liquidity cap) with adversarial
// actions. The guard's guarantee is on the allocation it sends, which the
// env reports as Info.Requested; every limit is checked there. The env
// executes exactly that allocation unless its own liquidity clip binds
// (fees shrink every position by μ, and a position on a bar without volume
// cannot shrink), so Executed must match Requested to within a fee-sized
// fraction, and exactly on every step without a reported partial fill
// (Info.LiquidityLimited = 0), which Totals.LiquidityLimited counts.
func TestGuardOverMarketEnvWithCosts(t *testing.T) {
	rng := seed.New(1, seed.Test, 60)
	for world := range 6 {
		p := envtest.RandomPanel(400, 2+world%3, uint64(100+world))
		m, err := marketEnv(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg := allLimits()
		g, err := New(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		chk := newLimitChecker(cfg, p.Assets())
		gen := &actionGen{rng: rng, flip: 0, flop: 1}
		spec := g.Spec()
		res := env.NewStepResult(spec)
		obs := make([]float64, spec.Observation.Len())
		req := make([]float64, len(spec.Assets)+1)
		steps, exact, limited, maxD := 0, 0, 0, 0.0
		for ep := range 10 {
			if _, err := g.Reset(obs, rng.Uint64()); err != nil {
				t.Fatal(err)
			}
			chk.reset()
			for done := false; !done; {
				s := pre{w: append([]float64(nil), m.Weights()...), value: m.Value(), peak: m.Peak(), bar: m.Bar(), p: p}
				kind := gen.next(req, s.w)
				r := append([]float64(nil), req...)
				if err := g.Step(res, req); err != nil {
					t.Fatalf("world %d ep %d: %v", world, ep, err)
				}
				on := chk.breaker(s.bar, s.value, s.peak)
				if msg := chk.check(s, r, res.Info.Requested, res.Info.Guard, g.LastReport(), on); msg != "" {
					t.Fatalf("world %d ep %d bar %d (%s): %s", world, ep, s.bar, kind, msg)
				}
				d := 0.0
				for i := range res.Info.Executed {
					d = math.Max(d, math.Abs(res.Info.Executed[i]-res.Info.Requested[i]))
				}
				if d > 1e-2 {
					t.Fatalf("world %d bar %d: executed %v differs from requested %v by %v", world, s.bar, res.Info.Executed, res.Info.Requested, d)
				}
				if d <= 1e-12 {
					exact++
				}
				if res.Info.LiquidityLimited > 0 {
					limited++
				} else if d != 0 {
					t.Fatalf("world %d bar %d: executed %v differs from requested %v without a reported partial fill", world, s.bar, res.Info.Executed, res.Info.Requested)
				}
				maxD = math.Max(maxD, d)
				steps++
				done = res.Terminated || res.Truncated
			}
		}
		tot := g.Totals()
		t.Logf("world %d: %d steps, executed = requested on %d (max gap %.2g), partial fills %d; %s trips %d",
			world, steps, exact, maxD, limited, flagCounts(tot), tot.Trips)
		if tot.LiquidityLimited != limited {
			t.Errorf("world %d: Totals.LiquidityLimited = %d, %d steps reported a partial fill", world, tot.LiquidityLimited, limited)
		}
		if exact < steps*9/10 {
			t.Errorf("world %d: executed = requested on only %d of %d steps", world, exact, steps)
		}
	}
}
