package wrap

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/internal/statebin"
)

// priorVar is the variance of SB3's prior (pseudo-count a = 1e-4, mean 0,
// variance 1) merged with the returns rs, computed directly:
// total count a + m, pooled M2 = a·1 + Σ(R − R̄)² + R̄²·a·m/(a + m).
func priorVar(rs []float64) float64 {
	const a = 1e-4
	m := float64(len(rs))
	mean := 0.0
	for _, r := range rs {
		mean += r
	}
	mean /= m
	m2 := 0.0
	for _, r := range rs {
		m2 += (r - mean) * (r - mean)
	}
	return (a + m2 + mean*mean*a*m/(a+m)) / (a + m)
}

func TestRewardScaleMatchesDirectComputation(t *testing.T) {
	// Expected: R_t = γR_{t−1} + r_t (R = 0 at each episode start), and
	// r̂_t = clip(r_t/√(var + ε), ±c) with var the prior-pooled variance of
	// R_1..R_t computed directly. Rewards are ~1e-2 and the pooled variance
	// is a sum of ≤ 30 terms: 1e-12 relative covers the rounding.
	const rel = 1e-12
	in := newScriptEnv(6)
	in.termAt = 4 // episodes end by termination at step 4: R must restart too
	in.record = true
	cfg := RewardScaleDefaults()
	cfg.Clip = 2
	r, err := NewRewardScale(in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float64, r.Spec().Observation.Len())
	res := env.NewStepResult(r.Spec())
	var rets []float64
	R, clipped := 0.0, 0
	for ep := range 6 {
		r.Reset(obs, uint64(ep+1))
		R = 0
		for {
			if err := r.Step(res, []float64{1, 0, 0}); err != nil {
				t.Fatal(err)
			}
			raw := in.rew[len(in.rew)-1]
			if r.Raw() != raw {
				t.Fatalf("Raw %v, want %v", r.Raw(), raw)
			}
			R = cfg.Gamma*R + raw
			rets = append(rets, R)
			want := raw / math.Sqrt(priorVar(rets)+cfg.Epsilon)
			if math.Abs(want) > cfg.Clip {
				want = math.Copysign(cfg.Clip, want)
				clipped++
			}
			if !near(res.Reward, want, rel) {
				t.Fatalf("episode %d step %d: scaled %v, direct %v", ep, len(rets), res.Reward, want)
			}
			if res.Terminated || res.Truncated {
				if r.ret != 0 {
					t.Fatalf("running return %v not reset at the episode end", r.ret)
				}
				break
			}
		}
	}
	if len(rets) != 24 {
		t.Fatalf("%d steps, want 24", len(rets))
	}
	if clipped == 0 {
		t.Error("no reward clipped: the clip path is untested")
	}
}

func TestRewardScaleFrozenAndCheckpoint(t *testing.T) {
	a, _ := NewRewardScale(newScriptEnv(8), RewardScaleDefaults())
	obs := make([]float64, a.Spec().Observation.Len())
	res := env.NewStepResult(a.Spec())
	act := []float64{1, 0, 0}
	a.Reset(obs, 1)
	for range 8 {
		a.Step(res, act)
	}
	a.Reset(obs, 2)
	for range 3 { // stop mid-episode: the running return is part of the state
		a.Step(res, act)
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}

	// Restore into a fresh wrapper: the inner env comes back with it.
	b, _ := NewRewardScale(newScriptEnv(8), RewardScaleDefaults())
	resB := env.NewStepResult(b.Spec())
	if err := b.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if b.Raw() != a.Raw() {
		t.Fatalf("raw reward %v, want %v", b.Raw(), a.Raw())
	}
	for k := range 5 {
		a.Step(res, act)
		b.Step(resB, act)
		if res.Reward != resB.Reward || res.Truncated != resB.Truncated {
			t.Fatalf("step %d after restore: %v vs %v", k, res.Reward, resB.Reward)
		}
	}

	// Frozen: neither the statistics nor R change; rewards are r/Scale().
	b.SetFrozen(true)
	frozen, _ := b.Stats().MarshalBinary()
	frozenR := b.ret
	b.Reset(obs, 3)
	for range 8 {
		scale := b.Scale()
		b.Step(resB, act)
		if resB.Reward != math.Max(-10, math.Min(10, b.Raw()/scale)) {
			t.Fatalf("frozen reward %v, raw %v / %v", resB.Reward, b.Raw(), scale)
		}
	}
	if now, _ := b.Stats().MarshalBinary(); !bytes.Equal(now, frozen) || b.ret != frozenR || !b.Frozen() {
		t.Fatal("frozen statistics changed")
	}

	for name, d := range map[string][]byte{
		"magic":     append([]byte("FOON"), data[4:]...),
		"version 1": append(append([]byte("FORS"), 1, 0), data[6:]...),
		"short":     data[:12],
		"truncated": data[:len(data)-3],
		"dim":       rewardState(t, NewMeanVar(2), data),
	} {
		c, _ := NewRewardScale(newScriptEnv(8), RewardScaleDefaults())
		if err := c.UnmarshalBinary(d); !errors.Is(err, ErrState) {
			t.Errorf("%s: err %v, want ErrState", name, err)
		}
		if c.Stats().Count() != rewardPrior || c.Env.(*scriptEnv).started {
			t.Errorf("%s: state changed on error", name)
		}
	}
	if err := b.SetStats(NewMeanVar(2)); !errors.Is(err, ErrState) {
		t.Errorf("SetStats of dimension 2: %v", err)
	}
	for _, bad := range []RewardScaleConfig{{Gamma: 1.5, Clip: 1, Epsilon: 1}, {Gamma: 0.9, Clip: -1, Epsilon: 1}, {Gamma: 0.9, Clip: 1}} {
		if _, err := NewRewardScale(newScriptEnv(3), bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// rewardState returns the RewardScale state data with its statistics
// replaced by s (to build states that decode but do not fit).
func rewardState(t *testing.T, s *MeanVar, data []byte) []byte {
	t.Helper()
	d := statebin.NewDecoder(data, statebin.MagicRewardScale, rewardScaleStateVersion, "test")
	e := statebin.NewEncoder(statebin.MagicRewardScale, rewardScaleStateVersion)
	e.Float64(d.Float64())
	e.Float64(d.Float64())
	d.Bytes()
	e.Bytes(mustMarshal(s))
	e.Bytes(d.Bytes())
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
	return e.Data()
}

func mustMarshal(s *MeanVar) []byte {
	b, err := s.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}
