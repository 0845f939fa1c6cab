package ppo

import (
	"context"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// benchLayout is bench task v1's observation: N = 10 assets, the last
// W = 30 log returns of each (F = 1), then the 11 weights: 311 values.
func benchLayout() nets.ObsLayout {
	return nets.ObsLayout{Assets: 10, Features: 1, Window: 30, AssetOffset: 0, GlobalOffset: 300, WeightsOffset: 300, Len: 311}
}

// benchRollout returns a rollout of the agent's shape filled by acting on
// random observations, so that minibatch updates see realistic ratios.
func benchRollout(b testing.TB, a *Agent) *agents.Rollout {
	r := a.NewRollout()
	rng := seed.New(1, seed.Test, 0)
	for i := range r.Obs {
		r.Obs[i] = 0.01 * rng.NormFloat64()
	}
	for t := 0; t < r.Steps; t++ {
		if err := a.Act(r.ActionsAt(t), r.ObsAt(t), rng, agents.Sample); err != nil {
			b.Fatal(err)
		}
		for e := 0; e < r.Envs; e++ {
			r.Reward[t*r.Envs+e] = 0.01 * rng.NormFloat64()
		}
	}
	copy(r.NextObs, r.ObsAt(r.Steps-1))
	return r
}

// BenchmarkMinibatchUpdate measures one PPO gradient step at bench task
// v1's sizes: a minibatch of 64, 64-64 tanh actor and critic on 311
// inputs, 11 actions — forward, losses, backward, clipping and Adam.
// A PPO iteration takes 320 of them per 2,048 env steps, so the implied
// upper bound on training throughput is 2048/(320·t) env-steps/s.
func BenchmarkMinibatchUpdate(b *testing.B) {
	for _, bc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"backend=native/float64/parallel", func(c *Config) { c.Precision = nets.PrecisionFloat64 }},
		{"backend=native/float64/serial", func(c *Config) { c.Precision, c.Parallel = nets.PrecisionFloat64, false }},
		{"backend=native/float32/parallel", func(c *Config) { c.Precision = nets.PrecisionFloat32 }},
		{"backend=native/float32/serial", func(c *Config) { c.Precision, c.Parallel = nets.PrecisionFloat32, false }},
		{"backend=gorgonia", func(c *Config) { c.Backend, c.Precision = nets.BackendGorgonia, nets.PrecisionFloat64 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Defaults()
			bc.mod(&cfg)
			a, err := NewForLayout(benchLayout(), cfg, seed.New(1, seed.Init, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			r := benchRollout(b, a)
			// GAE as Update does, so advantages are set
			agents.GAETo(a.upd.adv, a.upd.ret, r.Reward, r.Value, a.upd.done, make([]float64, r.Envs), r.Envs, 0.99, 0.95)
			idx := make([]int, cfg.MinibatchSize())
			rng := seed.New(2, seed.Shuffle, 0)
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for b.Loop() {
				for i := range idx {
					idx[i] = rng.IntN(r.Len())
				}
				if _, _, _, _, err := a.step(r, idx, 3e-4); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(per*1e6, "µs/update")
			b.ReportMetric(2048/(320*per), "env-steps/s")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N)*1e6, "cpu-µs/update")
		})
	}
}

// BenchmarkUpdate measures a whole Update of bench task v1 (GAE and 10
// epochs × 32 minibatches over 8 × 256 transitions).
func BenchmarkUpdate(b *testing.B) {
	for _, prec := range []string{nets.PrecisionFloat64, nets.PrecisionFloat32} {
		b.Run(prec, func(b *testing.B) {
			cfg := Defaults()
			cfg.Precision = prec
			a, err := NewForLayout(benchLayout(), cfg, seed.New(1, seed.Init, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			r := benchRollout(b, a)
			rng := seed.New(2, seed.Shuffle, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Update(context.Background(), r, rng); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2048/(b.Elapsed().Seconds()/float64(b.N)), "env-steps/s")
		})
	}
}

// BenchmarkAct measures batched acting for 8 envs (sampling, values,
// log-probabilities, squashing).
func BenchmarkAct(b *testing.B) {
	for _, prec := range []string{nets.PrecisionFloat64, nets.PrecisionFloat32} {
		b.Run(prec, func(b *testing.B) {
			cfg := Defaults()
			cfg.Precision = prec
			a, err := NewForLayout(benchLayout(), cfg, seed.New(1, seed.Init, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			r := benchRollout(b, a)
			rng := seed.New(3, seed.Action, 0)
			b.ReportAllocs()
			for b.Loop() {
				if err := a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
