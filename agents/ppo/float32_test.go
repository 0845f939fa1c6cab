package ppo

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// The default precision is float32 (see Defaults); the algorithm's own
// tests run in float64 (smallConfig), whose arithmetic is checked against
// finite differences and gorgonia. These check what float32 adds.

func tiny32() Config {
	c := tinyConfig()
	c.Precision = nets.PrecisionFloat32
	return c
}

// TestFloat32Minibatch: from the same (float32-representable) parameters
// and rollout, one minibatch's losses and parameter gradient in float32
// agree with float64 to 1e-5 (norm-wise for the gradient; nets' tests
// measure 1e-7 to 2e-6 for the networks themselves; a plumbing error is
// O(1)).
func TestFloat32Minibatch(t *testing.T) {
	m := toymarket.TrendMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			c64 := tinyConfig()
			mod(&c64)
			c32 := c64
			c32.Precision = nets.PrecisionFloat32
			a64, a32 := newToyAgent(t, m, c64, 3), newToyAgent(t, m, c32, 3)
			for i, v := range a32.w32.theta {
				a32.w32.theta[i] = v + float32(0.05*math.Sin(float64(i)))
				a64.theta[i] = float64(a32.w32.theta[i])
			}
			r := a64.NewRollout()
			obs := make([]float64, r.Envs*r.ObsDim)
			envs := []*toymarket.Market{toymarket.Fresh(m, 1), toymarket.Fresh(m, 2)}
			for e, mk := range envs {
				mk.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
			}
			toymarket.Collect(t, a64, r, envs, obs, seed.New(1, seed.Action, 0))
			for i := range r.Obs {
				r.Obs[i] = float64(float32(r.Obs[i])) // what the float32 networks see
			}
			var losses [2]float64
			for k, a := range []*Agent{a64, a32} {
				agents.GAETo(a.upd.adv, a.upd.ret, r.Reward, r.Value, a.upd.done, make([]float64, r.Envs), r.Envs, 0.99, 0.95)
				idx := []int{0, 3, 5, 6, 9, 10, 12, 15}
				ls, _, err := a.minibatch(r, idx)
				if err != nil {
					t.Fatal(err)
				}
				losses[k] = ls.total
				a.w.clearGrad()
				if err := a.train.Backward(); err != nil {
					t.Fatal(err)
				}
				a.w.addLogStdGrad(a.ac.LogStd, a.stdIdx, a.upd.lg.logStd)
			}
			if math.Abs(losses[1]-losses[0]) > 1e-5*math.Max(math.Abs(losses[0]), 1e-3) {
				t.Errorf("loss: float32 %v, float64 %v", losses[1], losses[0])
			}
			var d, n float64
			for i, g := range a64.grad {
				d += (float64(a32.w32.grad[i]) - g) * (float64(a32.w32.grad[i]) - g)
				n += g * g
			}
			if n == 0 || math.Sqrt(d/n) > 1e-5 {
				t.Errorf("gradient: relative error %.3g (‖g‖ = %.3g)", math.Sqrt(d/n), math.Sqrt(n))
			}
			t.Logf("loss %.6g; gradient relative error %.3g", losses[0], math.Sqrt(d/n))
		})
	}
}

// TestFloat32Determinism: in float32 the same seeds give bit-identical
// parameters whether the towers and the optimiser step run on one
// goroutine or two; another seed does not.
func TestFloat32Determinism(t *testing.T) {
	m := toymarket.TrendMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			var thetas [][]float32
			for _, par := range []bool{false, true, true} {
				cfg := tiny32()
				mod(&cfg)
				cfg.Parallel = par
				a := newToyAgent(t, m, cfg, 11)
				toymarket.Train(t, a, m, 3, 11)
				thetas = append(thetas, append([]float32(nil), a.w32.theta...))
			}
			for k := 1; k < len(thetas); k++ {
				for i := range thetas[0] {
					if math.Float32bits(thetas[0][i]) != math.Float32bits(thetas[k][i]) {
						t.Fatalf("run %d: θ[%d] = %v, serial run %v", k, i, thetas[k][i], thetas[0][i])
					}
				}
			}
			cfg := tiny32()
			mod(&cfg)
			b := newToyAgent(t, m, cfg, 12)
			toymarket.Train(t, b, m, 3, 12)
			same := true
			for i := range thetas[0] {
				same = same && b.w32.theta[i] == thetas[0][i]
			}
			if same {
				t.Error("another seed gave the same parameters")
			}
		})
	}
}

// TestFloat32CheckpointResume: float32 training state resumes bit for
// bit; a float64 agent refuses it but LoadWeights converts the
// parameters exactly.
func TestFloat32CheckpointResume(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tiny32()
	variants()["assets/dyn/gate"](&cfg)
	a := newToyAgent(t, m, cfg, 21)
	toymarket.Train(t, a, m, 1, 21)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	b := newToyAgent(t, m, cfg, 99)
	if err := b.Load(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if b.w32.adam.Step != a.w32.adam.Step || b.Updates() != 1 {
		t.Fatalf("adam step %d/%d, updates %d", b.w32.adam.Step, a.w32.adam.Step, b.Updates())
	}
	toymarket.Train(t, a, m, 1, 22)
	toymarket.Train(t, b, m, 1, 22)
	for i := range a.w32.theta {
		if math.Float32bits(a.w32.theta[i]) != math.Float32bits(b.w32.theta[i]) {
			t.Fatalf("after resuming, θ[%d] = %v, uninterrupted %v", i, b.w32.theta[i], a.w32.theta[i])
		}
	}
	c64 := cfg
	c64.Precision = nets.PrecisionFloat64
	c := newToyAgent(t, m, c64, 1)
	buf.Reset()
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	var me *nets.MismatchError
	if err := c.Load(bytes.NewReader(buf.Bytes())); !errors.As(err, &me) {
		t.Fatalf("a float64 agent loading float32 training state: %v", err)
	}
	if err := c.LoadWeights(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i, v := range a.w32.theta {
		if c.theta[i] != float64(v) {
			t.Fatalf("converted θ[%d] = %v, want %v", i, c.theta[i], v)
		}
	}
}

// TestFloat32UpdateAtomic: a cancelled float32 update leaves the
// parameters and the optimiser state untouched.
func TestFloat32UpdateAtomic(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tiny32(), 31)
	toymarket.Train(t, a, m, 1, 31)
	theta := append([]float32(nil), a.w32.theta...)
	mom := append([]float32(nil), a.w32.adam.M...)
	step := a.w32.adam.Step
	r := a.NewRollout()
	obs := make([]float64, r.Envs*r.ObsDim)
	envs := []*toymarket.Market{toymarket.Fresh(m, 1), toymarket.Fresh(m, 2)}
	for e, mk := range envs {
		mk.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
	}
	toymarket.Collect(t, a, r, envs, obs, seed.New(1, seed.Action, 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Update(ctx, r, seed.New(1, seed.Shuffle, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled update returned %v", err)
	}
	for i := range theta {
		if a.w32.theta[i] != theta[i] || a.w32.adam.M[i] != mom[i] {
			t.Fatal("cancelled update changed the parameters or the moments")
		}
	}
	if a.w32.adam.Step != step {
		t.Fatal("cancelled update changed the optimiser step")
	}
}

// TestFloat32Allocs: acting and minibatch steps allocate nothing in
// float32 either.
func TestFloat32Allocs(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tiny32(), 41)
	r := a.NewRollout()
	rng := seed.New(1, seed.Action, 0)
	a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample)
	if n := testing.AllocsPerRun(20, func() { a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample) }); n != 0 {
		t.Errorf("%v allocations per Act, want 0", n)
	}
	toymarket.Train(t, a, m, 1, 41)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	a.step(r, idx, 1e-3)
	if n := testing.AllocsPerRun(20, func() { a.step(r, idx, 1e-3) }); n != 0 {
		t.Errorf("%v allocations per minibatch step, want 0", n)
	}
}

// TestFloat32Learns: the learning tests' allocation bandit and trend
// market with their thresholds, in float32.
func TestFloat32Learns(t *testing.T) {
	if raceEnabled {
		t.Skip("learning test skipped under the race detector")
	}
	cfg := smallConfig()
	cfg.Precision = nets.PrecisionFloat32
	m := toymarket.AllocationBandit()
	a := newToyAgent(t, m, cfg, 1)
	toymarket.Train(t, a, m, 40, 1)
	p := a.Policy()
	w := make([]float64, 4)
	obs := make([]float64, m.Spec().Layout.Len)
	toymarket.Fresh(m, 9).Reset(obs)
	if err := p.Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	pol, ew, _ := toymarket.Evaluate(t, p, m, []float64{0, 1. / 3, 1. / 3, 1. / 3}, 400, 2)
	t.Logf("bandit: weights %.3f; reward/step %.4f vs equal risky weights %.4f", w, pol, ew)
	if w[1] < 0.8 || pol < ew+0.012 {
		t.Errorf("bandit: weight of the dominant asset %.3f (want ≥ 0.8), reward/step %.4f (want ≥ %.4f)", w[1], pol, ew+0.012)
	}
	tm := toymarket.TrendMarket()
	a = newToyAgent(t, tm, cfg, 3)
	toymarket.Train(t, a, tm, 40, 3)
	pol, ew, _ = toymarket.Evaluate(t, a.Policy(), tm, []float64{0.25, 0.25, 0.25, 0.25}, 800, 4)
	_, best, _ := toymarket.Evaluate(t, a.Policy(), tm, []float64{0, 0, 1, 0}, 800, 4)
	t.Logf("trend: reward/step %.4f; equal weights %.4f; all in asset 2 %.4f", pol, ew, best)
	if pol < ew+0.01 || pol < 0.8*best {
		t.Errorf("trend: reward/step %.4f: want ≥ equal weights %.4f + 0.01 and ≥ 80%% of the best %.4f", pol, ew, best)
	}
}

// TestFloat32Config: float32 is the default and needs the native backend.
func TestFloat32Config(t *testing.T) {
	c := Defaults()
	if !c.Float32() {
		t.Fatalf("default precision %q, want float32", c.Precision)
	}
	c.Backend = nets.BackendGorgonia
	if err := c.Validate(); err == nil {
		t.Error("float32 with the gorgonia backend validated")
	}
}
