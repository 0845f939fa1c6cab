package guard

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
)

// loadDaily builds a panel of the daily bars in [from, to) (YYYY-MM-DD)
// that every asset has, from internal/realdata's reader (not the market
// loaders, which keeps this test independent of them), skipping the test
// when the data are absent.
func loadDaily(t *testing.T, assets []string, from, to string) *market.Panel {
	t.Helper()
	p, err := market.NewPanel(market.PanelSpec(*realdata.Daily(t, assets, realdata.Date(from), realdata.Date(to))))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRealDataAdversarial(t *testing.T) {
	// Binance daily BTC, ETH, LTC, XRP through the 2020 crash with every
	// limit on; 1e8 of capital makes the participation cap bind on thin days.
	pan := loadDaily(t, []string{"BTC", "ETH", "LTC", "XRP"}, "2019-06-01", "2020-12-31")
	cfg := with(func(c *Config) {
		c.MaxWeight, c.MinCash, c.MaxTurnover, c.MaxParticipation = 0.5, 0.05, 0.3, 0.002
		c.DrawdownLimit, c.DrawdownGross, c.DrawdownCooldown = 0.25, 0.2, 10
		c.VolTarget = 0.5
	})
	fe := newFakeEnv(pan, 5, 1e8)
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chk := newLimitChecker(cfg, pan.Assets())
	rng := seed.New(1, seed.Test, 40)
	gen := &actionGen{rng: rng, flip: 1, flop: 2}
	res := env.NewStepResult(g.Spec())
	obs := make([]float64, g.Spec().Observation.Len())
	req := make([]float64, 5)
	for ep := range 5 {
		if _, err := g.Reset(obs, uint64(ep*40)); err != nil {
			t.Fatal(err)
		}
		chk.reset()
		for !res.Truncated {
			s := pre{w: append([]float64(nil), fe.Weights()...), value: fe.Value(), peak: fe.Peak(), bar: fe.Bar(), p: pan}
			kind := gen.next(req, s.w)
			r := append([]float64(nil), req...)
			if err := g.Step(res, req); err != nil {
				t.Fatal(err)
			}
			on := chk.breaker(s.bar, s.value, s.peak)
			if msg := chk.check(s, r, res.Info.Executed, res.Info.Guard, g.LastReport(), on); msg != "" {
				t.Fatalf("ep %d bar %d %s (%s): %s", ep, s.bar, pan.Time(s.bar).Format(time.DateOnly), kind, msg)
			}
		}
		res.Truncated = false
	}
	tot := g.Totals()
	t.Logf("%d steps: %s trips %d", tot.Steps, flagCounts(tot), tot.Trips)
	if tot.Count(FlagLiquidity) == 0 || tot.Count(FlagVolTarget) == 0 || tot.Trips == 0 {
		t.Errorf("limits never bound on real data: %+v", tot)
	}
}

func TestRealDataBreakerMarch2020(t *testing.T) {
	// All-in BTC from 2020-01-01 with a 25 % breaker. Binance daily closes:
	// peak 10,344.36 on 2020-02-14; 7,894.56 on 2020-03-10 (23.7 % below:
	// no trip); 4,800.00 on 2020-03-12 (53.6 % below): the breaker must trip
	// at the decision of 2020-03-12 exactly and hold BTC at the cut level
	// of 0.3 for the 14-bar cooldown.
	pan := loadDaily(t, []string{"BTC"}, "2019-12-01", "2020-06-30")
	cfg := with(func(c *Config) { c.DrawdownLimit, c.DrawdownGross, c.DrawdownCooldown = 0.25, 0.3, 14 })
	start := pan.Index(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	fe := newFakeEnv(pan, 1, 1)
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := env.NewStepResult(g.Spec())
	if _, err := g.Reset(make([]float64, g.Spec().Observation.Len()), uint64(start-1)); err != nil {
		t.Fatal(err)
	}
	if fe.Bar() != start {
		t.Fatalf("start bar %d, want %d", fe.Bar(), start)
	}
	trip := -1
	for !res.Truncated {
		bar := fe.Bar()
		if err := g.Step(res, []float64{0, 1}); err != nil {
			t.Fatal(err)
		}
		if rep := g.LastReport(); rep.BreakerTripped && trip < 0 {
			trip = bar
		}
		if trip >= 0 && bar < trip+14 && math.Abs(res.Info.Executed[1]-0.3) > 1e-12 {
			t.Fatalf("%s: BTC weight %v during cooldown", pan.Time(bar).Format(time.DateOnly), res.Info.Executed[1])
		}
	}
	if trip < 0 {
		t.Fatal("breaker never tripped in March 2020")
	}
	day := pan.Time(trip)
	if !day.Equal(time.Date(2020, 3, 12, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("breaker tripped on %s, want 2020-03-12", day.Format(time.DateOnly))
	}
	t.Logf("tripped on %s (close %.2f, %.1f %% below the peak)", day.Format(time.DateOnly), pan.Close(trip, 0), 100*(1-pan.Close(trip, 0)/10344.36))
}
