package ppo

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// smallConfig is a fast configuration for learning tests: 8 envs × 32
// steps, 4 epochs of 4 minibatches, a 32-32 network, lr 3e-3.
func smallConfig() Config {
	c := Defaults()
	c.Precision = nets.PrecisionFloat64 // the reference arithmetic; float32_test.go covers float32
	c.NumSteps = 32
	c.UpdateEpochs = 4
	c.NumMinibatches = 4
	c.LearningRate = 3e-3
	c.Hidden = []int{32, 32}
	return c
}

func newToyAgent(t testing.TB, m toymarket.Market, cfg Config, root uint64) *Agent {
	t.Helper()
	a, err := New(m.Spec(), cfg, seed.New(root, seed.Init, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestLearnAllocationBandit: on one-step episodes where asset 1 clearly
// dominates, PPO puts most of the capital in it and beats equal weights.
// Thresholds: the optimum earns 0.02 per step with weight 1; equal risky
// weights earn 0, equal weights with cash ≈ 0.
func TestLearnAllocationBandit(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	start := time.Now()
	m := toymarket.AllocationBandit()
	for _, trunk := range []string{nets.TrunkFlat, nets.TrunkAssets} {
		t.Run(trunk, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Trunk = trunk
			a := newToyAgent(t, m, cfg, 1)
			toymarket.Train(t, a, m, 40, 1)
			p := a.Policy()
			w := make([]float64, 4)
			obs := make([]float64, m.Spec().Layout.Len)
			mm := m
			mm.RNG = seed.New(9, seed.Eval, 0)
			mm.Reset(obs)
			if err := p.Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
				t.Fatal(err)
			}
			pol, ew, _ := toymarket.Evaluate(t, p, m, []float64{0, 1. / 3, 1. / 3, 1. / 3}, 400, 2)
			t.Logf("weights %.3f; reward/step %.4f vs equal risky weights %.4f", w, pol, ew)
			if w[1] < 0.8 {
				t.Errorf("weight of the dominant asset %.3f, want ≥ 0.8", w[1])
			}
			if pol < ew+0.012 {
				t.Errorf("reward/step %.4f does not beat equal weights %.4f by 0.012", pol, ew)
			}
		})
	}
	t.Logf("elapsed %v", time.Since(start))
}

// TestLearnTrendMarket: 16-step episodes ending by truncation (exercising
// the truncation bootstrap); asset 2 earns 2%/step. PPO must hold mostly
// asset 2 (80% of the best fixed allocation's growth) and beat equal
// weights (≈ 0.5%/step) by 1%/step.
func TestLearnTrendMarket(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, smallConfig(), 3)
	toymarket.Train(t, a, m, 40, 3)
	pol, ew, _ := toymarket.Evaluate(t, a.Policy(), m, []float64{0.25, 0.25, 0.25, 0.25}, 800, 4)
	_, best, _ := toymarket.Evaluate(t, a.Policy(), m, []float64{0, 0, 1, 0}, 800, 4)
	t.Logf("reward/step %.4f; equal weights %.4f; all in asset 2 %.4f", pol, ew, best)
	if pol < ew+0.01 || pol < 0.8*best {
		t.Errorf("reward/step %.4f: want ≥ equal weights %.4f + 0.01 and ≥ 80%% of the best %.4f", pol, ew, best)
	}
}

// TestLearnVolatilityGate: with the gate on and volatility regimes
// forecast by feature 1, exposure falls when forecast volatility rises.
func TestLearnVolatilityGate(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	m := toymarket.VolRegimeMarket()
	for _, trunk := range []string{nets.TrunkFlat, nets.TrunkAssets} {
		t.Run(trunk, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Trunk = trunk
			cfg.VolTiming = true
			cfg.VolFeatures = []int{1}
			a := newToyAgent(t, m, cfg, 5)
			toymarket.Train(t, a, m, 40, 5)
			calm, turb := exposureByRegime(t, a, m)
			t.Logf("exposure: calm %.3f, turbulent %.3f", calm, turb)
			if calm < 0.75 || turb > 0.35 {
				t.Errorf("exposure calm %.3f (want ≥ 0.75), turbulent %.3f (want ≤ 0.35)", calm, turb)
			}
		})
	}
}

// exposureByRegime returns the deterministic policy's mean exposure over
// observations whose forecast is calm and turbulent.
func exposureByRegime(t testing.TB, a *Agent, m toymarket.Market) (calm, turb float64) {
	t.Helper()
	p := a.Policy()
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

// TestDynamicEmbeddingPredicts: with the dynamic embedding, the decoder
// learns to predict the next bar's log return and |log return| from the
// latent: after training its MSE is below that of the best constant
// predictor (the targets' variance, estimated by Monte Carlo below), which
// requires the latent to carry the volatility forecast; and the policy
// still learns the allocation.
func TestDynamicEmbeddingPredicts(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	m := toymarket.VolRegimeMarket()
	// Variance of the targets (log return and |log return| of one asset,
	// regimes as in the market: calm w.p. 0.6) from 200,000 draws; its
	// standard error is below 1%.
	rng := seed.New(1, seed.Test, 0)
	var s1, s2, a1, a2 float64
	const draws = 200000
	for i := 0; i < draws; i++ {
		r := m.Mu[0][0] + m.Sigma[0]*rng.NormFloat64()
		if rng.Float64() < m.PTurbulent {
			r = m.Mu[1][0] + m.Sigma[1]*rng.NormFloat64()
		}
		s1, s2, a1, a2 = s1+r, s2+r*r, a1+math.Abs(r), a2+r*r
	}
	constMSE := ((s2/draws - (s1/draws)*(s1/draws)) + (a2/draws - (a1/draws)*(a1/draws))) / 2
	for _, trunk := range []string{nets.TrunkFlat, nets.TrunkAssets} {
		t.Run(trunk, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Trunk, cfg.Embedding = trunk, nets.EmbeddingDynamic
			a := newToyAgent(t, m, cfg, 6)
			first := toymarket.Train(t, a, m, 1, 6).(Stats).PredLoss
			last := toymarket.Train(t, a, m, 40, 7).(Stats).PredLoss
			t.Logf("prediction MSE: first update %.5f, last %.5f, best constant %.5f", first, last, constMSE)
			if last > 0.9*constMSE {
				t.Errorf("prediction MSE %.5f, want < 0.9 × the best constant predictor's %.5f", last, constMSE)
			}
		})
	}
}
