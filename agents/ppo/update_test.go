package ppo

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// collectToy fills a fresh rollout of a's shape from fresh toy envs.
func collectToy(t *testing.T, a *Agent, m toymarket.Market) *agents.Rollout {
	t.Helper()
	r := a.NewRollout()
	obs := make([]float64, r.Envs*r.ObsDim)
	envs := make([]*toymarket.Market, r.Envs)
	for e := range envs {
		envs[e] = toymarket.Fresh(m, uint64(e+1))
		envs[e].Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
	}
	toymarket.Collect(t, a, r, envs, obs, seed.New(1, seed.Action, 0))
	return r
}

// TestTargetKLEarlyStop: with target_kl = 0 (disabled) or huge, an update
// runs all update_epochs × num_minibatches gradient steps; with a tiny
// target_kl it stops before the configured count, at a minibatch whose
// reported approx_kl exceeds 1.5·target_kl (SB3's rule), having taken
// exactly the Adam steps it reports. The first minibatch always steps: the
// policy has not moved yet, so its KL is zero up to rounding.
func TestTargetKLEarlyStop(t *testing.T) {
	m := toymarket.TrendMarket()
	base := tinyConfig()
	base.UpdateEpochs, base.NumMinibatches = 3, 4 // 12 minibatches of 8
	const configured = 12
	for _, tc := range []struct {
		name     string
		targetKL float64
		early    bool
	}{
		{"disabled", 0, false},
		{"huge", 1e9, false},
		{"tiny", 1e-9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.TargetKL = tc.targetKL
			a := newToyAgent(t, m, cfg, 3)
			r := collectToy(t, a, m)
			before := a.w.adamSteps()
			s, err := a.Update(context.Background(), r, seed.New(2, seed.Shuffle, 0))
			if err != nil {
				t.Fatal(err)
			}
			st := s.(Stats)
			taken := a.w.adamSteps() - before
			if st.Minibatches != taken {
				t.Errorf("reported %d minibatches, the optimiser took %d steps", st.Minibatches, taken)
			}
			if !tc.early {
				if st.EarlyStop || st.Minibatches != configured || st.Epochs != base.UpdateEpochs {
					t.Errorf("target_kl %v: early stop %v after %d minibatches in %d epochs; want all %d in %d", tc.targetKL, st.EarlyStop, st.Minibatches, st.Epochs, configured, base.UpdateEpochs)
				}
				return
			}
			if !st.EarlyStop || st.Minibatches < 1 || st.Minibatches >= configured {
				t.Fatalf("target_kl %v: early stop %v after %d of %d minibatches", tc.targetKL, st.EarlyStop, st.Minibatches, configured)
			}
			if !(st.ApproxKL > 1.5*tc.targetKL) {
				t.Errorf("stopped at approx_kl %v, not above 1.5·target_kl = %v", st.ApproxKL, 1.5*tc.targetKL)
			}
			t.Logf("stopped after %d of %d minibatches (epoch %d) at approx_kl %.3g", st.Minibatches, configured, st.Epochs, st.ApproxKL)
		})
	}
}

// TestAnnealedStepScales: the learning rate an update applies is
// learning_rate·(1 − progress). On an agent's first update with a single
// minibatch, Adam's step is lr·ĝ/(|ĝ| + ε) elementwise (m̂ = ĝ, v̂ = ĝ²),
// so from the same parameters, rollout and shuffle, the parameter change
// at progress p is exactly (1 − p) times the change at progress 0. The
// reported learning rate is checked against the closed form too.
//
// Tolerance: the change is recovered as θ₁ − θ₀, exact except for the
// rounding of θ₀ + Δ, at most half an ulp of θ₁; 4 ulps of θ₀ bound it
// with room, plus 1e-12 relative for the step's own arithmetic.
func TestAnnealedStepScales(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.UpdateEpochs, cfg.NumMinibatches, cfg.AnnealLR, cfg.LearningRate = 1, 1, true, 3e-3
	step := func(p float64) ([]float64, []float64, Stats) {
		a := newToyAgent(t, m, cfg, 4)
		r := collectToy(t, a, m)
		r.Progress = p
		theta0 := append([]float64(nil), a.Params()...)
		s, err := a.Update(context.Background(), r, seed.New(5, seed.Shuffle, 0))
		if err != nil {
			t.Fatal(err)
		}
		delta := make([]float64, len(theta0))
		for i, v := range a.Params() {
			delta[i] = v - theta0[i]
		}
		return theta0, delta, s.(Stats)
	}
	theta0, d0, s0 := step(0)
	moved := 0
	for _, v := range d0 {
		if math.Abs(v) > 1e-6 {
			moved++
		}
	}
	if moved < len(d0)/2 {
		t.Fatalf("only %d of %d parameters moved: the check is vacuous", moved, len(d0))
	}
	if s0.LearningRate != cfg.LearningRate {
		t.Errorf("progress 0: learning rate %v, want %v", s0.LearningRate, cfg.LearningRate)
	}
	for _, p := range []float64{0.25, 0.7, 0.96875} {
		_, d, s := step(p)
		if want := cfg.LearningRate * (1 - p); !scalar.EqualWithinAbsOrRel(s.LearningRate, want, 1e-12, 1e-12) {
			t.Errorf("progress %v: reported learning rate %v, want %v", p, s.LearningRate, want)
		}
		for i := range d {
			ulp := math.Nextafter(math.Abs(theta0[i]), math.Inf(1)) - math.Abs(theta0[i])
			want := (1 - p) * d0[i]
			if math.Abs(d[i]-want) > 4*ulp+1e-12*math.Abs(want) {
				t.Fatalf("progress %v: Δθ[%d] = %v, (1 − p)·Δθ at progress 0 = %v", p, i, d[i], want)
			}
		}
	}
	off := cfg
	off.AnnealLR = false
	a := newToyAgent(t, m, off, 4)
	r := collectToy(t, a, m)
	r.Progress = 0.5
	s, err := a.Update(context.Background(), r, seed.New(5, seed.Shuffle, 0))
	if err != nil {
		t.Fatal(err)
	}
	if lr := s.(Stats).LearningRate; lr != off.LearningRate {
		t.Errorf("anneal_lr = false at progress 0.5: learning rate %v, want %v", lr, off.LearningRate)
	}
}

// TestLoadBadFiles: a model file that is not a checkpoint, is cut short,
// or holds another kind of learner is refused with an error saying so,
// and the agent is left unchanged. (TestLoadMismatch covers another
// architecture, configuration and format version.)
func TestLoadBadFiles(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tinyConfig(), 1)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	c, err := nets.ReadCheckpoint(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	c.Kind = "ddpg"
	var other bytes.Buffer
	if err := nets.WriteCheckpoint(&other, c); err != nil {
		t.Fatal(err)
	}
	b := newToyAgent(t, m, tinyConfig(), 2)
	before := append([]float64(nil), b.Params()...)
	var me *nets.MismatchError
	for _, tc := range []struct {
		name string
		data []byte
		ok   func(error) bool
		word string
	}{
		{"text file", []byte("params = [1, 2, 3]\n"), func(err error) bool { return errors.Is(err, nets.ErrNotCheckpoint) }, "not a folio checkpoint"},
		{"empty", nil, func(err error) bool { return errors.Is(err, nets.ErrNotCheckpoint) }, "not a folio checkpoint"},
		{"truncated", good[:len(good)/2], func(err error) bool { return err != nil }, "truncated"},
		{"checksum", flipLast(good), func(err error) bool { return err != nil }, "corrupt"},
		{"kind", other.Bytes(), func(err error) bool { return errors.As(err, &me) && me.What == "kind" }, `file has "ddpg", this agent has "ppo"`},
	} {
		err := b.Load(bytes.NewReader(tc.data))
		if !tc.ok(err) || !strings.Contains(err.Error(), tc.word) || !strings.HasPrefix(err.Error(), "ppo: load: ") {
			t.Errorf("%s: %v (want an error mentioning %q)", tc.name, err, tc.word)
		}
		for i := range before {
			if b.Params()[i] != before[i] {
				t.Fatalf("%s: a failed load changed the parameters", tc.name)
			}
		}
	}
}

// flipLast returns a copy of b with its last byte (in the checksum) changed.
func flipLast(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-1] ^= 0xff
	return c
}
