package env_test

import (
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// zeroCosts returns costs that charge nothing.
func zeroCosts() env.Costs {
	c := env.Defaults().Costs
	c.TakerBps, c.MakerBps, c.Slippage, c.LiquidityCap = 0, 0, env.SlipNone, 0
	return c
}

// smallCfg is a configuration sized for the synthetic test panels.
func smallCfg() env.Config {
	c := env.Defaults()
	c.Window = 8
	c.EpisodeLen = 40
	return c
}

func mustNew(t testing.TB, p *market.Panel, fs *features.Set, reg []market.Regime, cfg env.Config) *env.Market {
	t.Helper()
	m, err := env.New(p, fs, reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randWeights writes a random allocation (sometimes a vertex or with zeros).
func randWeights(rng *rand.Rand, w []float64) {
	var s float64
	for i := range w {
		w[i] = rng.ExpFloat64()
		if rng.IntN(5) == 0 {
			w[i] = 0
		}
		s += w[i]
	}
	if s == 0 {
		w[0], s = 1, 1
	}
	for i := range w {
		w[i] /= s
	}
}

// relClose is close_t/close_{t−1} of asset i, computed from the panel.
func relClose(p *market.Panel, t, i int) float64 { return p.Close(t, i) / p.Close(t-1, i) }

// ohlcv is one asset's open, high, low, close and volume in one bar.
type ohlcv struct{ o, h, l, c, v float64 }

// mapPanel returns a copy of p in which bar s of asset i is f(s, i, b), b
// being p's bar.
func mapPanel(t testing.TB, p *market.Panel, f func(s, i int, b ohlcv) ohlcv) *market.Panel {
	t.Helper()
	T, n := p.T(), p.N()
	spec := market.PanelSpec{Assets: p.Assets(), Interval: p.Interval(), Times: make([]int64, T),
		Open: make([]float64, T*n), High: make([]float64, T*n), Low: make([]float64, T*n),
		Close: make([]float64, T*n), Volume: make([]float64, T*n)}
	for s := range T {
		spec.Times[s] = p.Unix(s)
		for i := range n {
			b := f(s, i, ohlcv{p.Open(s, i), p.High(s, i), p.Low(s, i), p.Close(s, i), p.Volume(s, i)})
			k := s*n + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = b.o, b.h, b.l, b.c, b.v
		}
	}
	q, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// liquid returns a copy of p in which every bar has volume (zero-volume
// bars cannot be traded, which would make executed weights differ from the
// target in tests about frictionless accounting).
func liquid(t testing.TB, p *market.Panel) *market.Panel {
	t.Helper()
	return mapPanel(t, p, func(_, _ int, b ohlcv) ohlcv { b.v += 1e9; return b })
}
