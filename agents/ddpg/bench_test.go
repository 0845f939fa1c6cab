package ddpg

import (
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

func benchLayout() nets.ObsLayout {
	return nets.ObsLayout{Assets: 10, Features: 1, Window: 30, AssetOffset: 0, GlobalOffset: 300, WeightsOffset: 300, Len: 311}
}

// BenchmarkGradientStep measures one DDPG update at bench task v1's sizes
// (256-256 ReLU actor and critic on 311 inputs, 11 actions, batch 256):
// replay sampling, target actor and critic, critic step, actor step
// through the critic, soft target updates. The reference takes one per
// env step, so the implied throughput bound is 1/t env-steps/s.
func BenchmarkGradientStep(b *testing.B) {
	for _, bc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"ddpg/float64/parallel", func(c *Config) { c.Precision = nets.PrecisionFloat64 }},
		{"ddpg/float64/serial", func(c *Config) { c.Precision, c.Parallel = nets.PrecisionFloat64, false }},
		{"ddpg/float32/parallel", func(c *Config) { c.Precision = nets.PrecisionFloat32 }},
		{"ddpg/float32/serial", func(c *Config) { c.Precision, c.Parallel = nets.PrecisionFloat32, false }},
		{"td3/float32/parallel", func(c *Config) { *c = TD3(); c.Precision = nets.PrecisionFloat32 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Defaults()
			bc.mod(&cfg)
			a, err := NewForLayout(benchLayout(), cfg, seed.New(1, seed.Init, 0))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			rng := seed.New(1, seed.Test, 0)
			obs, next, w := make([]float64, 311), make([]float64, 311), make([]float64, 11)
			for i := 0; i < 2000; i++ {
				for j := range next {
					next[j] = 0.01 * rng.NormFloat64()
				}
				for j := range w {
					w[j] = rng.Float64()
				}
				a.replay.Add(obs, w, 0.01*rng.NormFloat64(), next, false)
				copy(obs, next)
			}
			rngU := seed.New(2, seed.Replay, 0)
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if _, _, err := a.gradientStep(rngU); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(per*1e3, "ms/update")
			b.ReportMetric(1/per, "env-steps/s")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N)*1e3, "cpu-ms/update")
		})
	}
}
