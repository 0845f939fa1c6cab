package ppo

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// toyMarket is a tiny self-contained market for learning tests: N assets
// with independent normal log returns whose mean and volatility depend on
// a two-state regime (0 calm, 1 turbulent). The regime of the next bar is
// drawn before each decision and revealed by per-asset feature 1 (a
// perfect volatility forecast); feature 0 is the log-return history. No
// costs; reward = log growth of the portfolio. The observation follows
// env.Layout: per asset [returns W][vol forecast W], then the weights.
type toyMarket struct {
	n, w, horizon int
	mu            [2][]float64 // per regime, per asset mean log return
	sigma         [2]float64   // per regime volatility of log returns
	pTurbulent    float64
	volFeat       [2]float64
	terminate     bool // episodes end by termination (bandit) instead of truncation

	rng    *rand.Rand
	t      int
	regime int
	ret    []float64 // n×w
	vol    []float64 // n×w
	wts    []float64 // n+1
}

func (m *toyMarket) spec() env.Spec {
	d := m.n*2*m.w + m.n + 1
	return env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{d}},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{m.n + 1}},
		Assets:      make([]string, m.n),
		Window:      m.w,
		Layout: env.Layout{Features: []string{"logret", "volforecast"}, AssetOffset: 0, GlobalOffset: m.n * 2 * m.w,
			WeightsOffset: m.n * 2 * m.w, Len: d},
	}
}

func (m *toyMarket) obsTo(dst []float64) {
	for i := 0; i < m.n; i++ {
		copy(dst[i*2*m.w:], m.ret[i*m.w:(i+1)*m.w])
		copy(dst[i*2*m.w+m.w:], m.vol[i*m.w:(i+1)*m.w])
	}
	copy(dst[m.n*2*m.w:], m.wts)
}

func (m *toyMarket) drawRegime() {
	m.regime = 0
	if m.rng.Float64() < m.pTurbulent {
		m.regime = 1
	}
	for i := 0; i < m.n; i++ {
		v := m.vol[i*m.w : (i+1)*m.w]
		copy(v, v[1:])
		v[m.w-1] = m.volFeat[m.regime]
	}
}

func (m *toyMarket) reset(dst []float64) {
	if m.ret == nil {
		m.ret, m.vol, m.wts = make([]float64, m.n*m.w), make([]float64, m.n*m.w), make([]float64, m.n+1)
	}
	m.t = 0
	for i := range m.wts {
		m.wts[i] = 1 / float64(m.n+1)
	}
	// a history drawn from the process itself, so that assets can be told
	// apart by their past returns (as an equivariant policy must)
	for range m.w {
		m.drawRegime()
		for i := 0; i < m.n; i++ {
			r := m.ret[i*m.w : (i+1)*m.w]
			copy(r, r[1:])
			r[m.w-1] = m.mu[m.regime][i] + m.sigma[m.regime]*m.rng.NormFloat64()
		}
	}
	m.obsTo(dst)
}

// step trades to weights w, lets the market move and writes the next
// observation into dst (the final one if the episode ended).
func (m *toyMarket) step(w, dst []float64) (reward float64, term, trunc bool) {
	growth := w[0]
	for i := 0; i < m.n; i++ {
		x := m.mu[m.regime][i] + m.sigma[m.regime]*m.rng.NormFloat64()
		r := m.ret[i*m.w : (i+1)*m.w]
		copy(r, r[1:])
		r[m.w-1] = x
		y := math.Exp(x)
		m.wts[i+1] = w[i+1] * y
		growth += m.wts[i+1]
	}
	m.wts[0] = w[0]
	for i := range m.wts {
		m.wts[i] /= growth
	}
	m.drawRegime()
	m.t++
	m.obsTo(dst)
	done := m.t >= m.horizon
	return math.Log(growth), done && m.terminate, done && !m.terminate
}

// collect runs learner l on envs for one rollout, continuing from obs
// (B×D, updated in place).
func collect(t testing.TB, l agents.Learner, r *agents.Rollout, envs []*toyMarket, obs []float64, rng *rand.Rand) {
	t.Helper()
	d := r.ObsDim
	rew := make([]float64, r.Envs)
	term, trunc := make([]bool, r.Envs), make([]bool, r.Envs)
	finals := make([]float64, r.Envs*d)
	next := make([]float64, d)
	for s := 0; s < r.Steps; s++ {
		copy(r.ObsAt(s), obs)
		act := r.ActionsAt(s)
		if err := l.Act(act, r.ObsAt(s), rng, agents.Sample); err != nil {
			t.Fatal(err)
		}
		na := r.WeightDim
		for e, m := range envs {
			rew[e], term[e], trunc[e] = m.step(act.Weights[e*na:(e+1)*na], next)
			copy(obs[e*d:(e+1)*d], next)
			if term[e] || trunc[e] {
				copy(finals[e*d:(e+1)*d], next)
				m.reset(obs[e*d : (e+1)*d])
			}
		}
		r.Record(s, rew, term, trunc, finals)
	}
	copy(r.NextObs, obs)
}

// trainToy trains l for updates rollouts on fresh copies of market (one
// per env, independent seeds) and returns the last update's stats.
func trainToy(t testing.TB, l agents.Learner, market toyMarket, updates int, root uint64) agents.Stats {
	t.Helper()
	r := l.NewRollout()
	envs := make([]*toyMarket, r.Envs)
	obs := make([]float64, r.Envs*r.ObsDim)
	for e := range envs {
		m := market
		m.rng = seed.New(root, seed.Env, uint64(e))
		m.ret = nil
		envs[e] = &m
		m.reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
	}
	rngAct, rngUpd := seed.New(root, seed.Action, 0), seed.New(root, seed.Shuffle, 0)
	var st agents.Stats
	for u := 0; u < updates; u++ {
		collect(t, l, r, envs, obs, rngAct)
		r.Progress = float64(u) / float64(updates)
		var err error
		if st, err = l.Update(context.Background(), r, rngUpd); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// evaluate returns the mean per-step reward of a deterministic policy and
// of fixed weights over the same market draws (common random numbers),
// and the policy's mean exposure (1 − cash weight).
func evaluate(t testing.TB, p agents.Policy, market toyMarket, fixed []float64, steps int, root uint64) (policy, baseline, exposure float64) {
	t.Helper()
	run := func(act func(dst, obs []float64)) (mean, exp float64) {
		m := market
		m.rng = seed.New(root, seed.Eval, 0)
		m.ret = nil
		d := m.spec().Layout.Len
		obs, next, w := make([]float64, d), make([]float64, d), make([]float64, m.n+1)
		m.reset(obs)
		for s := 0; s < steps; s++ {
			act(w, obs)
			exp += 1 - w[0]
			r, term, trunc := m.step(w, next)
			mean += r
			copy(obs, next)
			if term || trunc {
				m.reset(obs)
			}
		}
		return mean / float64(steps), exp / float64(steps)
	}
	policy, exposure = run(func(dst, obs []float64) {
		if err := p.Act(dst, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
			t.Fatal(err)
		}
	})
	baseline, _ = run(func(dst, _ []float64) { copy(dst, fixed) })
	return policy, baseline, exposure
}

// allocationBandit: one-step episodes, asset 1 of 3 earns 2%/step, the
// others lose 1%, all with 1% volatility, in every regime.
func allocationBandit() toyMarket {
	mu := []float64{0.02, -0.01, -0.01}
	return toyMarket{n: 3, w: 4, horizon: 1, terminate: true,
		mu: [2][]float64{mu, mu}, sigma: [2]float64{0.01, 0.01}, pTurbulent: 0.5, volFeat: [2]float64{0, 1}}
}

// trendMarket: 16-step episodes ending by truncation, asset 2 of 3 earns
// 2%/step, the others 0, all with 2% volatility.
func trendMarket() toyMarket {
	mu := []float64{0, 0.02, 0}
	return toyMarket{n: 3, w: 4, horizon: 16, mu: [2][]float64{mu, mu}, sigma: [2]float64{0.02, 0.02},
		pTurbulent: 0.5, volFeat: [2]float64{0, 1}}
}

// volRegimeMarket: 2 assets; calm bars (σ = 1%) earn +2%, turbulent bars
// (σ = 10%, forecast by the volatility feature) lose 4%: the log-growth
// optimal exposure is 1 when calm and 0 when turbulent (Kelly: μ/σ² is
// 200 and −4, clipped to [0, 1]).
func volRegimeMarket() toyMarket {
	return toyMarket{n: 2, w: 4, horizon: 8, mu: [2][]float64{{0.02, 0.02}, {-0.04, -0.04}},
		sigma: [2]float64{0.01, 0.1}, pTurbulent: 0.4, volFeat: [2]float64{0, 1}}
}
