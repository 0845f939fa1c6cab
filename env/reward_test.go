package env_test

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/internal/seed"
)

type stepRec struct {
	reward, ret, value, turnover float64
}

// rollRewards runs one episode of random allocations from a fixed start
// and records what the reward tests need.
func rollRewards(t *testing.T, cfg env.Config) (float64, []stepRec) {
	t.Helper()
	p := envtest.RandomPanel(260, 3, 30)
	m := mustNew(t, p, nil, nil, cfg)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	info, err := m.ResetAt(obs, 20)
	if err != nil {
		t.Fatal(err)
	}
	rng := seed.New(1, seed.Test, 30)
	a := make([]float64, p.N()+1)
	var recs []stepRec
	for {
		randWeights(rng, a)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, stepRec{res.Reward, res.Info.Return, res.Info.Value, res.Info.Turnover})
		if res.Terminated || res.Truncated {
			return info.Value, recs
		}
	}
}

func rewardCfg(name string) env.Config {
	c := smallCfg()
	c.Reward = name
	c.EpisodeLen = 200
	c.RewardKappa = 0.7
	c.RewardEta = 0.05
	return c
}

// TestLogGrowthReward: r = log(V_{t+1}/V_t), after costs.
func TestLogGrowthReward(t *testing.T) {
	v0, recs := rollRewards(t, rewardCfg(env.RewardLogGrowth))
	prev := v0
	for k, r := range recs {
		// 1 + (g − 1) = g exactly for g in [0.5, 2] (Sterbenz), so the
		// comparison with the reported return is exact; the value ratio
		// carries two roundings of ~1e-16.
		if r.reward != math.Log(1+r.ret) || math.Abs(r.reward-math.Log(r.value/prev)) > 1e-15 {
			t.Fatalf("step %d: reward %v, log growth %v", k, r.reward, math.Log(r.value/prev))
		}
		prev = r.value
	}
}

// TestDifferentialSharpe checks the differential Sharpe ratio against its
// definition as the sensitivity of the exponential-moving-average Sharpe
// ratio S = A/√(B − A²) to the adaptation rate, D_t = dS_t/dη at η = 0
// (Moody & Saffell 2001), computed here by central differences of S over a
// perturbation of the last update only. Step h = 1e-6: the truncation
// error is O(h²) times S's third derivative (≈ 1e-12) and the rounding
// error ε·|S|/h ≈ 1e-10·|S|, so 1e-6 relative (plus 1e-8 absolute) is a
// safe tolerance that a wrong formula (a sign, a missing ½ or a wrong
// power) fails by orders of magnitude.
func TestDifferentialSharpe(t *testing.T) {
	cfg := rewardCfg(env.RewardDifferentialSharpe)
	_, recs := rollRewards(t, cfg)
	eta := cfg.RewardEta
	var a, b float64
	checked := 0
	for k, r := range recs {
		R := r.ret
		s := func(e float64) float64 {
			ae, be := a+e*(R-a), b+e*(R*R-b)
			return ae / math.Sqrt(be-ae*ae)
		}
		if b-a*a > 1e-12 {
			const h = 1e-6
			d := (s(h) - s(-h)) / (2 * h)
			if math.Abs(r.reward-d) > 1e-6*math.Abs(d)+1e-8 {
				t.Fatalf("step %d: differential Sharpe %v, dS/dη %v", k, r.reward, d)
			}
			checked++
		} else if k == 0 && r.reward != 0 {
			t.Fatalf("first step: reward %v, want 0 (variance undefined)", r.reward)
		}
		a += eta * (R - a)
		b += eta * (R*R - b)
	}
	if checked < len(recs)-1 {
		t.Errorf("checked %d of %d steps", checked, len(recs))
	}
}

// TestPenalisedRewards: drawdown_penalised is log growth − κ·(increase of
// the drawdown 1 − V/peak), turnover_penalised log growth − κ·turnover,
// vol_scaled log growth / max(σ̂, floor) with σ̂² the EMA (rate η) of past
// squared log growth started at floor². Tolerance 1e-14: the same
// operations as the env, from the reported values.
func TestPenalisedRewards(t *testing.T) {
	for _, name := range []string{env.RewardDrawdownPenalised, env.RewardTurnoverPenalised, env.RewardVolScaled} {
		cfg := rewardCfg(name)
		cfg.RewardVolFloor = 0.005
		v0, recs := rollRewards(t, cfg)
		peak, dd := v0, 0.0
		varEst := cfg.RewardVolFloor * cfg.RewardVolFloor
		penalised := 0
		for k, r := range recs {
			lg := math.Log(1 + r.ret)
			var want float64
			switch name {
			case env.RewardDrawdownPenalised:
				peak = math.Max(peak, r.value)
				ndd := 1 - r.value/peak
				want = lg - cfg.RewardKappa*math.Max(ndd-dd, 0)
				if ndd > dd {
					penalised++
				}
				dd = ndd
			case env.RewardTurnoverPenalised:
				want = lg - cfg.RewardKappa*r.turnover
				penalised++
			case env.RewardVolScaled:
				want = lg / math.Max(math.Sqrt(varEst), cfg.RewardVolFloor)
				varEst += cfg.RewardEta * (lg*lg - varEst)
				penalised++
			}
			if math.Abs(r.reward-want) > 1e-14*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s step %d: reward %.17g, want %.17g", name, k, r.reward, want)
			}
		}
		if penalised == 0 {
			t.Errorf("%s: no step exercised the penalty", name)
		}
	}
}
