package wrap

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/folio-rl/folio/env"
)

// runEpisodes resets e with seeds 1..k and steps each episode to its end
// with the uniform allocation, returning every observation e emitted.
func runEpisodes(t *testing.T, e env.Env, k int) [][]float64 {
	t.Helper()
	spec := e.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	act := []float64{1. / 3, 1. / 3, 1. / 3}
	var out [][]float64
	for s := 1; s <= k; s++ {
		if _, err := e.Reset(obs, uint64(s)); err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]float64(nil), obs...))
		for {
			if err := e.Step(res, act); err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]float64(nil), res.Obs...))
			if res.Terminated || res.Truncated {
				break
			}
		}
	}
	return out
}

func TestObsNormMatchesDirectComputation(t *testing.T) {
	// Expected: x̂ = clip((x − mean)/√(var + ε), ±c) with mean and population
	// variance computed by two passes over all raw observations recorded up
	// to and including the current one. Raw values are ~100k ± 5, so the
	// centring loses ~log10(100·k/5) ≈ 2.5 digits: Welford and two-pass
	// agree to ~1e-13 on x̂; 1e-10 absolute is a safe bound.
	const tol = 1e-10
	in := newScriptEnv(7)
	in.record = true
	cfg := ObsNormDefaults()
	cfg.Clip = 1.5 // small enough that some elements clip
	o, err := NewObsNorm(in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := runEpisodes(t, o, 3)
	if len(got) != 24 || len(in.obs) != 24 {
		t.Fatalf("%d normalised and %d raw observations, want 24", len(got), len(in.obs))
	}
	w := o.Spec().Layout.WeightsOffset
	clipped := 0
	for j := range got {
		mean, variance := twoPass(in.obs[:j+1])
		for k, x := range in.obs[j] {
			if k >= w {
				if got[j][k] != x {
					t.Fatalf("obs %d: weight element %d changed: %v → %v", j, k, x, got[j][k])
				}
				continue
			}
			z := (x - mean[k]) / math.Sqrt(variance[k]+cfg.Epsilon)
			if math.Abs(z) > cfg.Clip {
				clipped++
				z = math.Copysign(cfg.Clip, z)
			}
			if math.Abs(got[j][k]-z) > tol {
				t.Fatalf("obs %d element %d: %v, direct %v", j, k, got[j][k], z)
			}
		}
	}
	if got[0][0] != 0 {
		t.Errorf("first observation normalises to %v, want 0", got[0][0])
	}
	if clipped == 0 {
		t.Error("no element clipped: the clip path is untested")
	}
	if o.Stats().Count() != 24 {
		t.Errorf("count %v", o.Stats().Count())
	}
}

func TestObsNormFrozen(t *testing.T) {
	in := newScriptEnv(5)
	o, err := NewObsNorm(in, ObsNormDefaults())
	if err != nil {
		t.Fatal(err)
	}
	runEpisodes(t, o, 2)
	before, _ := o.MarshalBinary()
	o.SetFrozen(true)
	if !o.Frozen() {
		t.Fatal("Frozen")
	}
	in.record = true
	got := runEpisodes(t, o, 2)
	after, _ := o.MarshalBinary()
	if !bytes.Equal(before, after) {
		t.Fatal("frozen statistics changed")
	}
	want := make([]float64, len(in.obs[0]))
	for j, raw := range in.obs {
		o.NormalizeTo(want, raw)
		for k := range want {
			if got[j][k] != want[k] {
				t.Fatalf("obs %d element %d: %v, frozen normalisation %v", j, k, got[j][k], want[k])
			}
		}
	}
}

func TestObsNormCheckpoint(t *testing.T) {
	a, _ := NewObsNorm(newScriptEnv(6), ObsNormDefaults())
	runEpisodes(t, a, 3)
	// Stop mid-episode: the inner env's state is part of the wrapper's.
	spec := a.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	act := []float64{0.2, 0.3, 0.5}
	a.Reset(obs, 9)
	for range 2 {
		a.Step(res, act)
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewObsNorm(newScriptEnv(6), ObsNormDefaults())
	if err := b.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if again, _ := b.MarshalBinary(); !bytes.Equal(again, data) {
		t.Fatal("restored state encodes differently")
	}
	// Continuing unfrozen from the same state is bitwise equal: first the
	// rest of the open episode, then new ones.
	resB := env.NewStepResult(spec)
	for k := 0; ; k++ {
		a.Step(res, act)
		b.Step(resB, act)
		for i := range res.Obs {
			if res.Obs[i] != resB.Obs[i] {
				t.Fatalf("step %d after restore, element %d: %v vs %v", k, i, res.Obs[i], resB.Obs[i])
			}
		}
		if res.Truncated != resB.Truncated || res.Reward != resB.Reward {
			t.Fatalf("step %d after restore: flags or rewards differ", k)
		}
		if res.Truncated {
			break
		}
	}
	ga, gb := runEpisodes(t, a, 2), runEpisodes(t, b, 2)
	for j := range ga {
		for k := range ga[j] {
			if ga[j][k] != gb[j][k] {
				t.Fatalf("obs %d element %d: %v vs restored %v", j, k, ga[j][k], gb[j][k])
			}
		}
	}
	// Bad states are rejected and leave the statistics and the inner env alone.
	wide := newScriptEnv(6)
	wide.window = 4
	w, _ := NewObsNorm(wide, ObsNormDefaults())
	wrongDim, _ := w.MarshalBinary()
	badInner := append([]byte(nil), data...)
	copy(badInner[len(badInner)-49:], "XXXX") // the script env's magic, at the end
	for name, d := range map[string][]byte{
		"magic":     append([]byte("FORS"), data[4:]...),
		"version 1": append(append([]byte("FOON"), 1, 0), data[6:]...),
		"dim":       wrongDim,
		"short":     data[:10],
		"truncated": data[:len(data)-1],
		"trailing":  append(append([]byte(nil), data...), 0),
		"inner":     badInner,
	} {
		c, _ := NewObsNorm(newScriptEnv(6), ObsNormDefaults())
		if err := c.UnmarshalBinary(d); !errors.Is(err, ErrState) {
			t.Errorf("%s: err %v, want ErrState", name, err)
		}
		if c.Stats().Count() != 0 || c.Env.(*scriptEnv).started {
			t.Errorf("%s: state changed on error", name)
		}
	}
	// An inner env that cannot save its state is an error, not a silently
	// partial checkpoint.
	o, _ := NewObsNorm(stateless{newScriptEnv(3)}, ObsNormDefaults())
	if _, err := o.MarshalBinary(); err == nil {
		t.Error("MarshalBinary over an env without state encoding succeeded")
	}
	if err := o.UnmarshalBinary(data); err == nil {
		t.Error("UnmarshalBinary over an env without state encoding succeeded")
	}
	// SetStats moves statistics alone, checking the dimension.
	c, _ := NewObsNorm(newScriptEnv(6), ObsNormDefaults())
	if err := c.SetStats(a.Stats()); err != nil || c.Stats().Count() != a.Stats().Count() || c.Stats() == a.Stats() {
		t.Errorf("SetStats: %v (count %v, want %v, a copy)", err, c.Stats().Count(), a.Stats().Count())
	}
	if err := c.SetStats(NewMeanVar(3)); !errors.Is(err, ErrState) {
		t.Errorf("SetStats of another dimension: %v", err)
	}
}

// stateless hides the state encoding of the env it holds.
type stateless struct{ env.Env }

func TestObsNormSpec(t *testing.T) {
	in := newScriptEnv(5)
	cfg := ObsNormDefaults()
	o, _ := NewObsNorm(in, cfg)
	s, inner := o.Spec(), in.Spec()
	w := inner.Layout.WeightsOffset
	for k := range s.Observation.Low {
		lo, hi := -cfg.Clip, cfg.Clip
		if k >= w {
			lo, hi = inner.Observation.Low[k], inner.Observation.High[k]
		}
		if s.Observation.Low[k] != lo || s.Observation.High[k] != hi {
			t.Fatalf("bound %d: [%v, %v], want [%v, %v]", k, s.Observation.Low[k], s.Observation.High[k], lo, hi)
		}
	}
	cfg.NormalizeWeights = true
	o2, _ := NewObsNorm(in, cfg)
	if o2.Spec().Observation.High[w] != cfg.Clip {
		t.Error("normalised weights keep their bounds")
	}
	if o.Unwrap() != env.Env(in) {
		t.Error("Unwrap")
	}
	for _, bad := range []ObsNormConfig{{Clip: 0, Epsilon: 1e-8}, {Clip: 1, Epsilon: 0}, {Clip: math.Inf(1), Epsilon: 1}} {
		if _, err := NewObsNorm(in, bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// nanEnv emits a NaN observation element on every step.
type nanEnv struct{ *scriptEnv }

func (n nanEnv) Step(dst *env.StepResult, a []float64) error {
	err := n.scriptEnv.Step(dst, a)
	dst.Obs[1] = math.NaN()
	return err
}

func TestObsNormRejectsNonFinite(t *testing.T) {
	o, _ := NewObsNorm(nanEnv{newScriptEnv(5)}, ObsNormDefaults())
	obs := make([]float64, o.Spec().Observation.Len())
	o.Reset(obs, 1)
	if err := o.Step(env.NewStepResult(o.Spec()), []float64{1, 0, 0}); err == nil {
		t.Fatal("NaN observation accepted")
	}
	if o.Stats().Count() != 1 {
		t.Errorf("statistics updated with a NaN: count %v", o.Stats().Count())
	}
}

func TestConfigsTOML(t *testing.T) {
	const doc = `
[obs_norm]
clip = 5
epsilon = 1e-6
normalize_weights = true

[reward_scale]
gamma = 0.95
clip = 3
epsilon = 1e-7
`
	var got struct {
		ObsNorm     ObsNormConfig     `toml:"obs_norm"`
		RewardScale RewardScaleConfig `toml:"reward_scale"`
	}
	md, err := toml.Decode(doc, &got)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	if got.ObsNorm != (ObsNormConfig{Clip: 5, Epsilon: 1e-6, NormalizeWeights: true}) ||
		got.RewardScale != (RewardScaleConfig{Gamma: 0.95, Clip: 3, Epsilon: 1e-7}) {
		t.Fatalf("decoded %+v", got)
	}
}
