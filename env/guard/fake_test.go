package guard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
)

// fakeEnv is a frictionless market env over a panel, for testing the guard
// before (and independently of) the real market env. The decision at bar t
// executes at close t exactly at the requested weights and earns the move to
// close t+1: value ×= w·y, weights drift to w⊙y/(w·y). The observation is a
// window of log returns per asset followed by the drifted weights. It
// implements env.Env and env.Portfolio.
type fakeEnv struct {
	p       *market.Panel
	window  int
	capital float64

	bar, start  int
	w           []float64
	value, peak float64
	started     bool
	obs         []float64 // Reset's info slices
	info        env.Info
}

func newFakeEnv(p *market.Panel, window int, capital float64) *fakeEnv {
	n := p.N() + 1
	return &fakeEnv{
		p: p, window: window, capital: capital,
		w: make([]float64, n),
		info: env.Info{Requested: make([]float64, n), Executed: make([]float64, n),
			Weights: make([]float64, n)},
	}
}

func (e *fakeEnv) Spec() env.Spec {
	n := e.p.N()
	obsLen := n*e.window + n + 1
	lo, hi := make([]float64, obsLen), make([]float64, obsLen)
	for i := range lo {
		lo[i], hi[i] = math.Inf(-1), math.Inf(1)
	}
	for i := n * e.window; i < obsLen; i++ {
		lo[i], hi[i] = 0, 1
	}
	return env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{obsLen}, Low: lo, High: hi},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{n + 1}},
		Assets:      e.p.Assets(),
		Interval:    e.p.Interval(),
		Window:      e.window,
		Layout: env.Layout{Features: []string{"log_return"}, AssetOffset: 0,
			GlobalOffset: n * e.window, WeightsOffset: n * e.window, Len: obsLen},
	}
}

func (e *fakeEnv) observe(dst []float64) {
	n := e.p.N()
	for i := range n {
		for k := range e.window {
			dst[i*e.window+k] = e.p.LogReturn(e.bar-e.window+1+k, i)
		}
	}
	copy(dst[n*e.window:], e.w)
}

// Reset starts at bar window + seed mod (T − window − 1), all cash.
func (e *fakeEnv) Reset(dst []float64, seed uint64) (env.Info, error) {
	span := uint64(e.p.T() - e.window - 1)
	e.start = e.window + int(seed%span)
	e.bar = e.start
	clear(e.w)
	e.w[0] = 1
	e.value, e.peak = e.capital, e.capital
	e.started = true
	e.observe(dst)
	e.info.Bar, e.info.Time, e.info.Value = e.bar, e.p.Time(e.bar), e.value
	copy(e.info.Weights, e.w)
	return e.info, nil
}

func (e *fakeEnv) Step(dst *env.StepResult, action []float64) error {
	if !e.started {
		panic("fake: Step before Reset")
	}
	if e.bar >= e.p.T()-1 {
		panic("fake: Step after the end of data")
	}
	s := 0.0
	for i, a := range action {
		if math.IsNaN(a) || math.IsInf(a, 0) || a < -1e-12 {
			return fmt.Errorf("%w: component %d = %v", env.ErrInvalidAction, i, a)
		}
		s += a
	}
	if math.Abs(s-1) > 1e-9 {
		return fmt.Errorf("%w: sums to %v", env.ErrInvalidAction, s)
	}
	inf := &dst.Info
	copy(inf.Requested, action)
	copy(inf.Executed, action)
	turn := 0.0
	for i := 1; i < len(action); i++ {
		turn += math.Abs(action[i] - e.w[i])
	}
	cur, next := e.p.CloseRow(e.bar), e.p.CloseRow(e.bar+1)
	growth := action[0]
	for i := 1; i < len(action); i++ {
		growth += action[i] * next[i-1] / cur[i-1]
	}
	e.w[0] = action[0] / growth
	for i := 1; i < len(action); i++ {
		e.w[i] = action[i] * next[i-1] / cur[i-1] / growth
	}
	old := e.value
	e.value *= growth
	e.peak = math.Max(e.peak, e.value)
	e.bar++
	e.observe(dst.Obs)
	dst.Reward = math.Log(growth)
	dst.Terminated = false
	dst.Truncated = e.bar == e.p.T()-1
	inf.Bar, inf.Time, inf.Value = e.bar, e.p.Time(e.bar), e.value
	inf.Return = e.value/old - 1
	copy(inf.Weights, e.w)
	inf.Turnover, inf.Fees, inf.Slippage = turn, 0, 0
	inf.Guard = env.GuardInfo{}
	return nil
}

func (e *fakeEnv) Close() error { return nil }

func (e *fakeEnv) Market() *market.Panel { return e.p }
func (e *fakeEnv) Bar() int              { return e.bar }
func (e *fakeEnv) Weights() []float64    { return e.w }
func (e *fakeEnv) Value() float64        { return e.value }
func (e *fakeEnv) Peak() float64         { return e.peak }

// panelOpts shapes a random panel.
type panelOpts struct {
	t, n       int
	crashes    bool    // insert one-bar crashes (−30..−70 %) and rallies (+50..+150 %)
	zeroVolP   float64 // probability that a bar of an asset has zero volume
	volScale   float64 // typical base-asset volume per bar
	fixedPrice bool    // all closes 1 (no drift): for tests that want w' = w
}

// randomPanel draws a daily panel of geometric random walks with per-asset
// volatility in [0.5 %, 8 %] per bar, optional jumps and zero-volume bars.
func randomPanel(rng *rand.Rand, o panelOpts) *market.Panel {
	names := make([]string, o.n)
	for i := range names {
		names[i] = fmt.Sprintf("A%d", i)
	}
	tn := o.t * o.n
	spec := market.PanelSpec{Assets: names, Times: make([]int64, o.t), Interval: 24 * time.Hour,
		Open: make([]float64, tn), High: make([]float64, tn), Low: make([]float64, tn),
		Close: make([]float64, tn), Volume: make([]float64, tn)}
	sig := make([]float64, o.n)
	price := make([]float64, o.n)
	for i := range sig {
		sig[i] = 0.005 + 0.075*rng.Float64()
		price[i] = math.Exp(rng.NormFloat64() * 3)
	}
	for t := range o.t {
		spec.Times[t] = 1_600_000_000 + int64(t)*86400
		for i := range o.n {
			k := t*o.n + i
			prev := price[i]
			if t > 0 && !o.fixedPrice {
				r := sig[i] * rng.NormFloat64()
				if o.crashes && rng.Float64() < 0.01 {
					r = math.Log(0.3 + 0.4*rng.Float64())
				} else if o.crashes && rng.Float64() < 0.01 {
					r = math.Log(1.5 + rng.Float64())
				}
				price[i] *= math.Exp(r)
			}
			spec.Open[k], spec.Close[k] = prev, price[i]
			spec.High[k] = math.Max(prev, price[i]) * 1.001
			spec.Low[k] = math.Min(prev, price[i]) * 0.999
			if rng.Float64() >= o.zeroVolP {
				spec.Volume[k] = o.volScale / price[i] * math.Exp(rng.NormFloat64())
			}
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		panic(err)
	}
	return p
}

// panelFromCloses builds a daily panel from closes (T×N, bar-major) with
// the given constant dollar volume per bar.
func panelFromCloses(closes [][]float64, dollarVol float64) *market.Panel {
	t, n := len(closes), len(closes[0])
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("A%d", i)
	}
	spec := market.PanelSpec{Assets: names, Times: make([]int64, t), Interval: 24 * time.Hour,
		Open: make([]float64, t*n), High: make([]float64, t*n), Low: make([]float64, t*n),
		Close: make([]float64, t*n), Volume: make([]float64, t*n)}
	for s := range t {
		spec.Times[s] = 1_600_000_000 + int64(s)*86400
		for i := range n {
			k := s*n + i
			c := closes[s][i]
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k] = c, c, c, c
			spec.Volume[k] = dollarVol / c
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		panic(err)
	}
	return p
}
