package ddpg

import (
	"bytes"
	"math"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// The default precision is float32 (see Defaults); the tests of the
// algorithm itself run in float64 (smallConfig), whose arithmetic is
// checked against finite differences and gorgonia. These check what
// float32 adds: the losses and gradients agree with float64, runs are
// reproducible bit for bit, checkpoints resume exactly, and it learns.

func small32() Config {
	c := smallConfig()
	c.Precision = nets.PrecisionFloat32
	return c
}

func tiny32() Config {
	c := tinyConfig()
	c.Precision = nets.PrecisionFloat32
	return c
}

// TestFloat32Losses: from the same (float32-representable) weights and
// batch, the float32 agent's critic and actor losses and gradients agree
// with the float64 agent's (itself checked against finite differences)
// to 1e-5, norm-wise for the gradients: float32 rounding through two
// networks, the softmax and the tanh leaves ~1e-6 (nets' tests measure
// 1e-7 to 2e-6 for each network), while any error in the float32 plumbing
// (a gradient not accumulated, a stale input) is O(1).
func TestFloat32Losses(t *testing.T) {
	m := toymarket.VolRegimeMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			c64 := tinyConfig()
			mod(&c64)
			c32 := c64
			c32.Precision = nets.PrecisionFloat32
			a64, a32 := newToyAgent(t, m, c64, 1), newToyAgent(t, m, c32, 1)
			// identical weights: the float32 ones, moved off the initial point
			for i := range a32.w32.criticP {
				a32.w32.criticP[i] += float32(0.2 * math.Sin(float64(i)))
				a32.w32.criticT[i] += float32(0.1 * math.Cos(float64(i)))
			}
			widen := func(dst []float64, src []float32) {
				for i, v := range src {
					dst[i] = float64(v)
				}
			}
			widen(a64.actorP, a32.w32.actorP)
			widen(a64.actorT, a32.w32.actorT)
			widen(a64.criticP, a32.w32.criticP)
			widen(a64.criticT, a32.w32.criticT)
			fillReplay(t, a64, m, 50, 1)
			fillReplay(t, a32, m, 50, 1)
			check := func(what string, got, want float64, tol float64) {
				t.Helper()
				if math.Abs(got-want) > tol*math.Max(math.Abs(want), 1e-3) {
					t.Errorf("%s: float32 %v, float64 %v", what, got, want)
				}
			}
			rel := func(what string, g32 []float32, g64 []float64) {
				t.Helper()
				var d, n float64
				for i := range g64 {
					d += (float64(g32[i]) - g64[i]) * (float64(g32[i]) - g64[i])
					n += g64[i] * g64[i]
				}
				if math.Sqrt(d/n) > 1e-5 || n == 0 {
					t.Errorf("%s: relative error %.3g (‖g‖ = %.3g)", what, math.Sqrt(d/n), math.Sqrt(n))
				}
				t.Logf("%s: relative error %.3g", what, math.Sqrt(d/n))
			}
			_, l64, err := a64.criticLoss(seed.New(5, seed.Noise, 0))
			if err != nil {
				t.Fatal(err)
			}
			_, l32, err := a32.criticLoss(seed.New(5, seed.Noise, 0))
			if err != nil {
				t.Fatal(err)
			}
			check("critic loss", l32, l64, 1e-5)
			rel("critic gradient", a32.w32.criticG, a64.criticG)
			_, l64, err = a64.actorLoss()
			if err != nil {
				t.Fatal(err)
			}
			_, l32, err = a32.actorLoss()
			if err != nil {
				t.Fatal(err)
			}
			check("actor loss", l32, l64, 1e-5)
			rel("actor gradient", a32.w32.actorG, a64.actorG)
		})
	}
}

// TestFloat32Determinism: in float32 the same seeds give bit-identical
// parameters (online and target), whether the networks' products and the
// optimiser steps run on one goroutine or are split over two; another
// seed does not.
func TestFloat32Determinism(t *testing.T) {
	m := toymarket.TrendMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			var ps [][]float32
			for _, par := range []bool{false, true, true} {
				cfg := tiny32()
				mod(&cfg)
				cfg.Parallel = par
				a := newToyAgent(t, m, cfg, 7)
				toymarket.Train(t, a, m, 20, 7)
				if a.GradientSteps() == 0 {
					t.Fatal("no gradient steps taken")
				}
				ps = append(ps, append(append(append([]float32(nil), a.w32.actorP...), a.w32.criticP...), a.w32.criticT...))
			}
			for k := 1; k < len(ps); k++ {
				for i := range ps[0] {
					if math.Float32bits(ps[0][i]) != math.Float32bits(ps[k][i]) {
						t.Fatalf("run %d: θ[%d] = %v, run 0 (serial) %v", k, i, ps[k][i], ps[0][i])
					}
				}
			}
			cfg := tiny32()
			mod(&cfg)
			b := newToyAgent(t, m, cfg, 8)
			toymarket.Train(t, b, m, 20, 8)
			if b.w32.actorP[0] == ps[0][0] && b.w32.actorP[1] == ps[0][1] {
				t.Error("another seed gave the same parameters")
			}
		})
	}
}

// TestFloat32BenchSizeParallel: at bench task v1's sizes (256-256 ReLU,
// batch 256) the large products are split between two goroutines; twenty
// gradient steps give the same bits as serially, and take no allocations.
func TestFloat32BenchSizeParallel(t *testing.T) {
	var ps [2][]float64
	for k, par := range []bool{false, true} {
		cfg := Defaults()
		cfg.Parallel = par
		a, err := NewForLayout(benchLayout(), cfg, seed.New(3, seed.Init, 0))
		if err != nil {
			t.Fatal(err)
		}
		rng := seed.New(3, seed.Test, 0)
		obs, next, w := make([]float64, 311), make([]float64, 311), make([]float64, 11)
		for i := 0; i < 400; i++ {
			for j := range next {
				next[j] = 0.01 * rng.NormFloat64()
			}
			for j := range w {
				w[j] = rng.Float64() / 5.5
			}
			a.replay.Add(obs, w, 0.01*rng.NormFloat64(), next, false)
			copy(obs, next)
		}
		rngU := seed.New(3, seed.Replay, 0)
		for i := 0; i < 20; i++ {
			if _, _, err := a.gradientStep(rngU); err != nil {
				t.Fatal(err)
			}
		}
		ps[k] = append(a.ActorParams(), a.CriticParams()...)
		if par {
			if n := testing.AllocsPerRun(3, func() { a.gradientStep(rngU) }); n != 0 {
				t.Errorf("%v allocations per gradient step, want 0", n)
			}
		}
		a.Close()
	}
	for i := range ps[0] {
		if math.Float64bits(ps[0][i]) != math.Float64bits(ps[1][i]) {
			t.Fatalf("θ[%d]: serial %v, parallel %v", i, ps[0][i], ps[1][i])
		}
	}
}

// TestFloat32CheckpointResume: a float32 checkpoint (float32 blocks)
// resumes bit for bit; a float64 agent refuses it (another configuration)
// but LoadWeights converts it, after which both act alike to float32
// rounding.
func TestFloat32CheckpointResume(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tiny32()
	variants()["assets/dyn/gate/td3"](&cfg)
	a := newToyAgent(t, m, cfg, 11)
	toymarket.Train(t, a, m, 15, 11)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	b := newToyAgent(t, m, cfg, 12)
	if err := b.Load(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	toymarket.Train(t, a, m, 5, 13)
	toymarket.Train(t, b, m, 5, 13)
	for i := range a.w32.actorP {
		if math.Float32bits(a.w32.actorP[i]) != math.Float32bits(b.w32.actorP[i]) {
			t.Fatalf("resumed actor θ[%d] = %v, uninterrupted %v", i, b.w32.actorP[i], a.w32.actorP[i])
		}
	}
	for i := range a.w32.criticT {
		if math.Float32bits(a.w32.criticT[i]) != math.Float32bits(b.w32.criticT[i]) {
			t.Fatalf("resumed target critic θ[%d] = %v, uninterrupted %v", i, b.w32.criticT[i], a.w32.criticT[i])
		}
	}

	c64 := cfg
	c64.Precision = nets.PrecisionFloat64
	c := newToyAgent(t, m, c64, 1)
	buf.Reset()
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(bytes.NewReader(buf.Bytes())); err == nil {
		t.Fatal("a float64 agent loaded a float32 training state")
	}
	if err := c.LoadWeights(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i, v := range a.w32.actorT {
		if c.actorT[i] != float64(v) {
			t.Fatalf("converted target θ[%d] = %v, want %v", i, c.actorT[i], v)
		}
	}
	obs := make([]float64, a.obsDim)
	toymarket.Fresh(m, 9).Reset(obs)
	w32, w64 := make([]float64, a.adim), make([]float64, a.adim)
	if err := a.Policy().Act(w32, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	if err := c.Policy().Act(w64, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	for i := range w32 {
		if math.Abs(w32[i]-w64[i]) > 1e-5 {
			t.Errorf("weight %d: float32 agent %v, float64 agent with its weights %v", i, w32[i], w64[i])
		}
	}
}

// TestFloat32Allocs: acting and gradient steps allocate nothing in
// float32 either.
func TestFloat32Allocs(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tiny32()
	cfg.LearningStarts = 0
	a := newToyAgent(t, m, cfg, 16)
	toymarket.Train(t, a, m, 5, 16)
	r := a.NewRollout()
	rng := seed.New(1, seed.Action, 0)
	if n := testing.AllocsPerRun(20, func() { a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample) }); n != 0 {
		t.Errorf("%v allocations per Act, want 0", n)
	}
	if n := testing.AllocsPerRun(20, func() { a.gradientStep(rng) }); n != 0 {
		t.Errorf("%v allocations per gradient step, want 0", n)
	}
}

// TestFloat32Learns: the learning tests' allocation bandit, in float32
// with its thresholds: DDPG puts most capital in the dominant asset and
// beats equal weights.
func TestFloat32Learns(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	m := toymarket.AllocationBandit()
	a := newToyAgent(t, m, small32(), 1)
	toymarket.Train(t, a, m, 250, 1)
	p := a.Policy()
	pol, ew, _ := toymarket.Evaluate(t, p, m, []float64{0, 1. / 3, 1. / 3, 1. / 3}, 400, 2)
	w := make([]float64, 4)
	obs := make([]float64, m.Spec().Layout.Len)
	toymarket.Fresh(m, 9).Reset(obs)
	if err := p.Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	t.Logf("weights %.3f; reward/step %.4f vs equal risky weights %.4f", w, pol, ew)
	if w[1] < 0.8 || pol < ew+0.012 {
		t.Errorf("weight of the dominant asset %.3f (want ≥ 0.8), reward/step %.4f (want ≥ %.4f)", w[1], pol, ew+0.012)
	}
}

// TestFloat32Config: float32 needs the native backend.
func TestFloat32Config(t *testing.T) {
	c := Defaults()
	if !c.Float32() {
		t.Fatalf("default precision %q, want float32", c.Precision)
	}
	c.Backend = nets.BackendGorgonia
	if err := c.Validate(); err == nil {
		t.Error("float32 with the gorgonia backend validated")
	}
	c.Precision = nets.PrecisionFloat64
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
