package baseline

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env/market"
)

// benchPanel is a 20-asset, 2,555-bar (7 years of daily bars) geometric
// random walk with crypto-like volatility (4% a day).
func benchPanel(tb testing.TB) *market.Panel {
	return panelFromCloses(tb, randomCloses(testRNG(50), 2555, 20, 0.0005, 0.04))
}

// fullPass runs p over every bar from `from` on, as a backtest does: one
// Act per bar on the causal view, feeding back the previous decision as the
// held weights (holding methods return them). It returns the number of
// decisions.
func fullPass(tb testing.TB, p *Policy, pan *market.Panel, from int, obs *agents.Observation, dst, w []float64, rng *rand.Rand) int {
	p.Reset()
	n := 0
	for t := from; t < pan.T(); t++ {
		obs.Bar, obs.History, obs.Weights = t, pan.View(0, t+1), w
		if err := p.Act(dst, obs, rng, agents.Deterministic); err != nil {
			tb.Fatal(err)
		}
		copy(w, dst)
		n++
	}
	return n
}

// BenchmarkFullPass measures a full walk of every method over 20 assets ×
// 2,555 daily bars with lookback 90, rebalancing every bar (decisions at
// bars 90 … 2554, each estimating on the trailing 90 returns).
//
//	go test -run '^$' -bench FullPass -benchmem ./agents/baseline/
func BenchmarkFullPass(b *testing.B) {
	pan := benchPanel(b)
	cfg := configFor(Defaults(), pan.N())
	for _, m := range Methods() {
		b.Run(fmt.Sprintf("method=%s/assets=20/bars=2555", m), func(b *testing.B) {
			p := mustNew(b, m, cfg)
			obs := &agents.Observation{}
			dst, w := make([]float64, pan.N()+1), make([]float64, pan.N()+1)
			w[0] = 1
			rng := testRNG(53)
			b.ReportAllocs()
			decisions := 0
			for b.Loop() {
				decisions = fullPass(b, p, pan, cfg.Lookback, obs, dst, w, rng)
			}
			b.ReportMetric(float64(decisions), "decisions/op")
		})
	}
}

// TestActDoesNotAllocate: after the first decision the simple and online
// methods allocate nothing per Act call (ONS included: its QP solver reuses
// its workspace).
func TestActDoesNotAllocate(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(51), 400, 8, 0, 0.04))
	cfg := configFor(Defaults(), 8)
	cfg.Online.AnticorWindow = 10
	for _, m := range []string{EqualWeight, BuyAndHold, Cash, Constant, RandomDirichlet, UBAH, UCRP, BSH, EG, ONS, OLMAR, PAMR, Anticor} {
		for _, k := range []int{1, 3} {
			cfg.RebalanceEvery = k
			cfg.DriftBand = 0.01
			p := mustNew(t, m, cfg)
			rng := testRNG(52)
			obs := &agents.Observation{}
			dst, w := make([]float64, 9), make([]float64, 9)
			w[0] = 1
			bar := 100
			act := func() {
				obs.Bar, obs.History, obs.Weights = bar, pan.View(0, bar+1), w
				if err := p.Act(dst, obs, rng, agents.Deterministic); err != nil {
					t.Fatal(err)
				}
				copy(w, dst)
				bar++
			}
			act() // first decision: sizes the buffers
			if allocs := testing.AllocsPerRun(200, act); allocs != 0 {
				t.Errorf("%s (k=%d): %v allocations per Act, want 0", m, k, allocs)
			}
		}
	}
}
