// Package toymarket is a test fixture for the gradient agents' learning
// tests (agents/ppo and agents/ddpg): a tiny self-contained market, the
// rollout and training loops that drive an agents.Learner on it, and an
// evaluator that compares a policy with fixed weights. It is not an env
// and is not meant for anything but tests; it lives in a non-test package
// only so that both agents share one copy.
//
// Conventions:
//
//   - Market is a value type holding its configuration; Train, Evaluate
//     and Fresh copy it and give each copy its own RNG stream (from
//     internal/seed: seed.Env per env, seed.Eval for evaluation) and a nil
//     Ret, which makes Reset allocate fresh state. A Market built by
//     AllocationBandit, TrendMarket or VolRegimeMarket has no RNG yet;
//     tests that drive one by hand set RNG and Ret = nil themselves (or
//     use Fresh).
//   - The observation follows env.Layout: per asset [log returns W][vol
//     forecast W], then the N+1 portfolio weights (cash first). Actions
//     are N+1 weights on the simplex, cash first.
//   - Reward is the log growth of the portfolio; there are no costs.
//   - Everything is deterministic given the seeds: the order in which the
//     RNG is consumed is part of the fixture, since the tests' logged
//     numbers and thresholds depend on it.
//   - Helpers take a testing.TB and fail the test on a learner error.
package toymarket

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// Market is a tiny self-contained market for learning tests: N assets
// with independent normal log returns whose mean and volatility depend on
// a two-state regime (0 calm, 1 turbulent). The regime of the next bar is
// drawn before each decision and revealed by per-asset feature 1 (a
// perfect volatility forecast); feature 0 is the log-return history. No
// costs; reward = log growth of the portfolio. The observation follows
// env.Layout: per asset [returns W][vol forecast W], then the weights.
type Market struct {
	N, W, Horizon int
	Mu            [2][]float64 // per regime, per asset mean log return
	Sigma         [2]float64   // per regime volatility of log returns
	PTurbulent    float64
	VolFeat       [2]float64
	Terminate     bool // episodes end by termination (bandit) instead of truncation

	RNG    *rand.Rand
	t      int
	Regime int       // regime of the next bar (revealed by the vol feature)
	Ret    []float64 // N×W log-return history; nil makes Reset allocate fresh state
	vol    []float64 // N×W
	wts    []float64 // N+1
}

// Spec returns the env.Spec of the market.
func (m *Market) Spec() env.Spec {
	d := m.N*2*m.W + m.N + 1
	return env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{d}},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{m.N + 1}},
		Assets:      make([]string, m.N),
		Window:      m.W,
		Layout: env.Layout{Features: []string{"logret", "volforecast"}, AssetOffset: 0, GlobalOffset: m.N * 2 * m.W,
			WeightsOffset: m.N * 2 * m.W, Len: d},
	}
}

func (m *Market) obsTo(dst []float64) {
	for i := 0; i < m.N; i++ {
		copy(dst[i*2*m.W:], m.Ret[i*m.W:(i+1)*m.W])
		copy(dst[i*2*m.W+m.W:], m.vol[i*m.W:(i+1)*m.W])
	}
	copy(dst[m.N*2*m.W:], m.wts)
}

func (m *Market) drawRegime() {
	m.Regime = 0
	if m.RNG.Float64() < m.PTurbulent {
		m.Regime = 1
	}
	for i := 0; i < m.N; i++ {
		v := m.vol[i*m.W : (i+1)*m.W]
		copy(v, v[1:])
		v[m.W-1] = m.VolFeat[m.Regime]
	}
}

// Reset starts an episode and writes the first observation into dst.
func (m *Market) Reset(dst []float64) {
	if m.Ret == nil {
		m.Ret, m.vol, m.wts = make([]float64, m.N*m.W), make([]float64, m.N*m.W), make([]float64, m.N+1)
	}
	m.t = 0
	for i := range m.wts {
		m.wts[i] = 1 / float64(m.N+1)
	}
	// a history drawn from the process itself, so that assets can be told
	// apart by their past returns (as an equivariant policy must)
	for range m.W {
		m.drawRegime()
		for i := 0; i < m.N; i++ {
			r := m.Ret[i*m.W : (i+1)*m.W]
			copy(r, r[1:])
			r[m.W-1] = m.Mu[m.Regime][i] + m.Sigma[m.Regime]*m.RNG.NormFloat64()
		}
	}
	m.obsTo(dst)
}

// Step trades to weights w, lets the market move and writes the next
// observation into dst (the final one if the episode ended).
func (m *Market) Step(w, dst []float64) (reward float64, term, trunc bool) {
	growth := w[0]
	for i := 0; i < m.N; i++ {
		x := m.Mu[m.Regime][i] + m.Sigma[m.Regime]*m.RNG.NormFloat64()
		r := m.Ret[i*m.W : (i+1)*m.W]
		copy(r, r[1:])
		r[m.W-1] = x
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
	done := m.t >= m.Horizon
	return math.Log(growth), done && m.Terminate, done && !m.Terminate
}

// Fresh returns a copy of m with its own RNG (stream seed.Env 0 of root
// s) and a fresh history, ready for Reset.
func Fresh(m Market, s uint64) *Market {
	m.RNG = seed.New(s, seed.Env, 0)
	m.Ret = nil
	return &m
}

// Collect runs learner l on envs for one rollout, continuing from obs
// (B×D, updated in place).
func Collect(t testing.TB, l agents.Learner, r *agents.Rollout, envs []*Market, obs []float64, rng *rand.Rand) {
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
			rew[e], term[e], trunc[e] = m.Step(act.Weights[e*na:(e+1)*na], next)
			copy(obs[e*d:(e+1)*d], next)
			if term[e] || trunc[e] {
				copy(finals[e*d:(e+1)*d], next)
				m.Reset(obs[e*d : (e+1)*d])
			}
		}
		r.Record(s, rew, term, trunc, finals)
	}
	copy(r.NextObs, obs)
}

// Train trains l for updates rollouts on fresh copies of market (one per
// env, independent seeds) and returns the last update's stats.
func Train(t testing.TB, l agents.Learner, market Market, updates int, root uint64) agents.Stats {
	t.Helper()
	r := l.NewRollout()
	envs := make([]*Market, r.Envs)
	obs := make([]float64, r.Envs*r.ObsDim)
	for e := range envs {
		m := market
		m.RNG = seed.New(root, seed.Env, uint64(e))
		m.Ret = nil
		envs[e] = &m
		m.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
	}
	rngAct, rngUpd := seed.New(root, seed.Action, 0), seed.New(root, seed.Shuffle, 0)
	var st agents.Stats
	for u := 0; u < updates; u++ {
		Collect(t, l, r, envs, obs, rngAct)
		r.Progress = float64(u) / float64(updates)
		var err error
		if st, err = l.Update(context.Background(), r, rngUpd); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// Evaluate returns the mean per-step reward of a deterministic policy and
// of fixed weights over the same market draws (common random numbers),
// and the policy's mean exposure (1 − cash weight).
func Evaluate(t testing.TB, p agents.Policy, market Market, fixed []float64, steps int, root uint64) (policy, baseline, exposure float64) {
	t.Helper()
	run := func(act func(dst, obs []float64)) (mean, exp float64) {
		m := market
		m.RNG = seed.New(root, seed.Eval, 0)
		m.Ret = nil
		d := m.Spec().Layout.Len
		obs, next, w := make([]float64, d), make([]float64, d), make([]float64, m.N+1)
		m.Reset(obs)
		for s := 0; s < steps; s++ {
			act(w, obs)
			exp += 1 - w[0]
			r, term, trunc := m.Step(w, next)
			mean += r
			copy(obs, next)
			if term || trunc {
				m.Reset(obs)
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

// AllocationBandit: one-step episodes, asset 1 of 3 earns 2%/step, the
// others lose 1%, all with 1% volatility, in every regime.
func AllocationBandit() Market {
	mu := []float64{0.02, -0.01, -0.01}
	return Market{N: 3, W: 4, Horizon: 1, Terminate: true,
		Mu: [2][]float64{mu, mu}, Sigma: [2]float64{0.01, 0.01}, PTurbulent: 0.5, VolFeat: [2]float64{0, 1}}
}

// TrendMarket: 16-step episodes ending by truncation, asset 2 of 3 earns
// 2%/step, the others 0, all with 2% volatility.
func TrendMarket() Market {
	mu := []float64{0, 0.02, 0}
	return Market{N: 3, W: 4, Horizon: 16, Mu: [2][]float64{mu, mu}, Sigma: [2]float64{0.02, 0.02},
		PTurbulent: 0.5, VolFeat: [2]float64{0, 1}}
}

// VolRegimeMarket: 2 assets; calm bars (σ = 1%) earn +2%, turbulent bars
// (σ = 10%, forecast by the volatility feature) lose 4%: the log-growth
// optimal exposure is 1 when calm and 0 when turbulent (Kelly: μ/σ² is
// 200 and −4, clipped to [0, 1]).
func VolRegimeMarket() Market {
	return Market{N: 2, W: 4, Horizon: 8, Mu: [2][]float64{{0.02, 0.02}, {-0.04, -0.04}},
		Sigma: [2]float64{0.01, 0.1}, PTurbulent: 0.4, VolFeat: [2]float64{0, 1}}
}
