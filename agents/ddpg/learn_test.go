package ddpg

import (
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
)

// learnUpdates is the training budget (Update calls) of the multi-step
// learning tests, for either critic action input.
var learnUpdates = 450

// TestLearnAllocationBandit: one-step episodes where asset 1 clearly
// dominates; DDPG must put most capital in it and beat equal weights
// (the optimum earns 0.02 per step, equal risky weights 0).
func TestLearnAllocationBandit(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	m := toymarket.AllocationBandit()
	for _, name := range []string{"ddpg", "td3"} {
		t.Run(name, func(t *testing.T) {
			cfg := smallConfig()
			if name == "td3" {
				variants()["td3"](&cfg)
			}
			a := newToyAgent(t, m, cfg, 1)
			toymarket.Train(t, a, m, 250, 1) // 1,000 transitions, 800 gradient steps
			p := a.Policy()
			pol, ew, _ := toymarket.Evaluate(t, p, m, []float64{0, 1. / 3, 1. / 3, 1. / 3}, 400, 2)
			w := make([]float64, 4)
			obs := make([]float64, m.Spec().Layout.Len)
			toymarket.Fresh(m, 9).Reset(obs)
			if err := p.Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
				t.Fatal(err)
			}
			t.Logf("weights %.3f; reward/step %.4f vs equal risky weights %.4f", w, pol, ew)
			if w[1] < 0.8 || pol < ew+0.012 {
				t.Errorf("weight of the dominant asset %.3f (want ≥ 0.8), reward/step %.4f (want ≥ %.4f)", w[1], pol, ew+0.012)
			}
		})
	}
}

// TestLearnTrendMarket: 16-step episodes ending by truncation; asset 2
// earns 2%/step. DDPG must reach 80% of the best fixed allocation's
// growth and beat equal weights by 1%/step.
func TestLearnTrendMarket(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	for _, ca := range []string{CriticLogits, CriticWeights} {
		t.Run(ca, func(t *testing.T) {
			m := toymarket.TrendMarket()
			cfg := smallConfig()
			cfg.CriticAction = ca
			a := newToyAgent(t, m, cfg, 3)
			toymarket.Train(t, a, m, learnUpdates, 3)
			pol, ew, _ := toymarket.Evaluate(t, a.Policy(), m, []float64{0.25, 0.25, 0.25, 0.25}, 800, 4)
			_, best, _ := toymarket.Evaluate(t, a.Policy(), m, []float64{0, 0, 1, 0}, 800, 4)
			t.Logf("reward/step %.4f; equal weights %.4f; all in asset 2 %.4f", pol, ew, best)
			if pol < ew+0.01 || pol < 0.8*best {
				t.Errorf("reward/step %.4f: want ≥ equal weights %.4f + 0.01 and ≥ 80%% of the best %.4f", pol, ew, best)
			}
		})
	}
}

// TestLearnVolatilityGate: with the gate, exposure is high when the
// volatility forecast is calm and low when it is turbulent. γ = 0.5: the
// market is exogenous and costless, so the myopic allocation is optimal,
// and a short horizon keeps the bootstrapped part of Q (which does not
// depend on the action) from drowning the critic's action signal. Flat
// trunk only: with the assets trunk DDPG's gate saturates at σ(±A) for
// some seeds on this toy (3 of 4 tried learn it), a known weakness of
// tanh-bounded DDPG actors that PPO does not share (its gate test covers
// both trunks).
func TestLearnVolatilityGate(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	for _, ca := range []string{CriticLogits, CriticWeights} {
		t.Run(ca, func(t *testing.T) {
			m := toymarket.VolRegimeMarket()
			cfg := smallConfig()
			cfg.VolTiming, cfg.VolFeatures, cfg.Gamma, cfg.CriticAction = true, []int{1}, 0.5, ca
			a := newToyAgent(t, m, cfg, 5)
			toymarket.Train(t, a, m, learnUpdates, 5)
			calm, turb := exposureByRegime(t, a.Policy(), m)
			t.Logf("exposure: calm %.3f, turbulent %.3f", calm, turb)
			// A logits critic learns a weaker gate on this toy (measured
			// calm 0.85–0.90, turbulent 0.35–0.36 at 300–600 updates;
			// weights: 0.99 / 0.02–0.20), which is why critic_action =
			// "auto" gives the gate a weights critic.
			maxTurb := 0.35
			if ca == CriticLogits {
				maxTurb = 0.45
			}
			if calm < 0.75 || turb > maxTurb {
				t.Errorf("exposure calm %.3f (want ≥ 0.75), turbulent %.3f (want ≤ %.2f)", calm, turb, maxTurb)
			}
		})
	}
}

func exposureByRegime(t testing.TB, p agents.Policy, m toymarket.Market) (calm, turb float64) {
	t.Helper()
	m.RNG = seed.New(77, seed.Eval, 0)
	m.Ret = nil
	d := m.Spec().Layout.Len
	obs, next, w := make([]float64, d), make([]float64, d), make([]float64, m.N+1)
	m.Reset(obs)
	var nc, nt int
	for s := 0; s < 400; s++ {
		if err := p.Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
			t.Fatal(err)
		}
		if m.Regime == 0 {
			calm += 1 - w[0]
			nc++
		} else {
			turb += 1 - w[0]
			nt++
		}
		_, term, trunc := m.Step(w, next)
		copy(obs, next)
		if term || trunc {
			m.Reset(obs)
		}
	}
	return calm / float64(nc), turb / float64(nt)
}
