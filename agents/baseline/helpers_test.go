package baseline

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// testSeed is the root seed of every randomised test here; the stream
// index distinguishes the tests.
const testSeed = 20240611

func testRNG(index uint64) *rand.Rand { return seed.New(testSeed, seed.Test, index) }

// panelFromCloses builds a daily panel whose every OHLC field is the close
// (closes[t][i]: bar t, asset i) and whose volume is 1.
func panelFromCloses(tb testing.TB, closes [][]float64) *market.Panel {
	tb.Helper()
	T, n := len(closes), len(closes[0])
	spec := market.PanelSpec{
		Interval: 24 * time.Hour,
		Times:    make([]int64, T),
		Open:     make([]float64, T*n),
		High:     make([]float64, T*n),
		Low:      make([]float64, T*n),
		Close:    make([]float64, T*n),
		Volume:   make([]float64, T*n),
	}
	for i := range n {
		spec.Assets = append(spec.Assets, string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for t, row := range closes {
		spec.Times[t] = start + int64(t)*86400
		for i, c := range row {
			k := t*n + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = c, c, c, c, 1
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// randomCloses returns a T×n geometric random walk starting at 100 with
// per-bar log drift mu and volatility sigma.
func randomCloses(rng *rand.Rand, T, n int, mu, sigma float64) [][]float64 {
	c := make([][]float64, T)
	c[0] = make([]float64, n)
	for i := range n {
		c[0][i] = 100
	}
	for t := 1; t < T; t++ {
		c[t] = make([]float64, n)
		for i := range n {
			c[t][i] = c[t-1][i] * math.Exp(mu+sigma*rng.NormFloat64())
		}
	}
	return c
}

// run is the record of a frictionless backtest.
type run struct {
	from      int
	decisions [][]float64 // decision at bar from+j, cash first
	pre       [][]float64 // drifted weights held before decision j (obs.Weights)
	wealth    []float64   // wealth after each decision's bar-to-bar move; wealth before the first decision is 1
	turnover  []float64   // Σ|decision − pre| over the risky assets
}

// simulate runs p over decision bars [from, to) of pan without costs,
// starting all in cash: the decision at t earns close_{t+1}/close_t and the
// weights then drift, w' = w⊙y/(w·y). History is pan.View(histFrom, t+1).
// When noWeights is set obs.Weights is left empty.
func simulate(tb testing.TB, p agents.Policy, pan *market.Panel, histFrom, from, to int, rng *rand.Rand, noWeights bool) run {
	tb.Helper()
	n := pan.N()
	w := make([]float64, n+1)
	w[0] = 1
	r := run{from: from}
	wealth := 1.0
	for t := from; t < to; t++ {
		obs := &agents.Observation{Bar: t, History: pan.View(histFrom, t+1)}
		if !noWeights {
			obs.Weights = w
		}
		dst := make([]float64, n+1)
		if err := p.Act(dst, obs, rng, agents.Deterministic); err != nil {
			tb.Fatalf("%s: Act at bar %d: %v", p.Name(), t, err)
		}
		to := 0.0
		for i := 1; i <= n; i++ {
			to += math.Abs(dst[i] - w[i])
		}
		r.pre = append(r.pre, append([]float64(nil), w...))
		r.decisions = append(r.decisions, dst)
		r.turnover = append(r.turnover, to)
		if t+1 >= pan.T() {
			break
		}
		growth := dst[0]
		next := make([]float64, n+1)
		next[0] = dst[0]
		for i := range n {
			y := pan.Close(t+1, i) / pan.Close(t, i)
			next[i+1] = dst[i+1] * y
			growth += next[i+1]
		}
		for i := range next {
			next[i] /= growth
		}
		wealth *= growth
		r.wealth = append(r.wealth, wealth)
		w = next
	}
	return r
}

// mustNew builds a policy or fails the test.
func mustNew(tb testing.TB, method string, cfg Config) *Policy {
	tb.Helper()
	p, err := New(method, cfg)
	if err != nil {
		tb.Fatalf("New(%q): %v", method, err)
	}
	return p
}

// configFor returns cfg with the settings every method needs to be
// constructible on n assets (constant weights, risk budgets).
func configFor(cfg Config, n int) Config {
	cfg.Weights = make([]float64, n)
	cfg.Budgets = make([]float64, n)
	for i := range n {
		cfg.Weights[i] = 0.8 / float64(n)
		cfg.Budgets[i] = float64(i + 1)
	}
	return cfg
}

// checkSimplex fails unless w is finite, non-negative and sums to 1.
func checkSimplex(tb testing.TB, what string, w []float64) {
	tb.Helper()
	sum := 0.0
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			tb.Fatalf("%s: weight %d is %v (%v)", what, i, v, w)
		}
		sum += v
	}
	// Weights are normalised once by the producing method: a few ulps.
	if math.Abs(sum-1) > 1e-12 {
		tb.Fatalf("%s: weights sum to %v (%v)", what, sum, w)
	}
}
