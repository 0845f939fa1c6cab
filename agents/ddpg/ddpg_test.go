package ddpg

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

var _ agents.Learner = (*Agent)(nil)

// smallConfig is a fast configuration for tests: 4 envs, batch 64, a 32-32
// ReLU network, 200 warm-up transitions, lr 1e-3.
func smallConfig() Config {
	c := Defaults()
	c.Precision = nets.PrecisionFloat64 // the reference arithmetic; float32_test.go covers float32
	c.NumEnvs = 4
	c.BatchSize = 64
	c.BufferSize = 20000
	c.LearningStarts = 200
	c.ActorLR, c.CriticLR = 1e-3, 1e-3
	c.Hidden = []int{32, 32}
	c.NoiseSigma = 0.3
	return c
}

func tinyConfig() Config {
	c := smallConfig()
	c.NumEnvs, c.BatchSize, c.LearningStarts = 2, 8, 10
	c.Hidden, c.AssetHidden = []int{8, 8}, []int{6, 4}
	return c
}

func newToyAgent(t testing.TB, m toymarket.Market, cfg Config, root uint64) *Agent {
	t.Helper()
	a, err := New(m.Spec(), cfg, seed.New(root, seed.Init, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func variants() map[string]func(*Config) {
	return map[string]func(*Config){
		"flat":   func(c *Config) {},
		"td3":    func(c *Config) { c.TwinCritics, c.PolicyDelay, c.TargetNoise, c.TargetNoiseClip = true, 2, 1, 2.5 },
		"ou":     func(c *Config) { c.Noise = NoiseOU },
		"assets": func(c *Config) { c.Trunk = nets.TrunkAssets },
		"assets/dyn/gate/td3": func(c *Config) {
			c.Trunk, c.Embedding, c.VolTiming, c.VolFeatures = nets.TrunkAssets, nets.EmbeddingDynamic, true, []int{1}
			c.TwinCritics, c.TargetNoise = true, 0.5
		},
		"flat/dyn":    func(c *Config) { c.Embedding = nets.EmbeddingDynamic },
		"flat/logits": func(c *Config) { c.CriticAction = CriticLogits },
	}
}

// fillReplay stores n random transitions and samples a batch.
func fillReplay(t testing.TB, a *Agent, m toymarket.Market, n int, root uint64) {
	t.Helper()
	mk := m
	mk.RNG = seed.New(root, seed.Env, 0)
	mk.Ret = nil
	d := a.obsDim
	obs, next := make([]float64, d), make([]float64, d)
	mk.Reset(obs)
	rng := seed.New(root, seed.Action, 0)
	u, w := make([]float64, a.adim), make([]float64, a.adim)
	for i := 0; i < n; i++ {
		for j := range u {
			u[j] = 3 * rng.NormFloat64()
		}
		nets.WeightsTo(w, u, a.gate)
		r, term, trunc := mk.Step(w, next)
		a.replay.Add(obs, w, r, next, term)
		copy(obs, next)
		if term || trunc {
			mk.Reset(obs)
		}
	}
	a.replay.Sample(a.batch, seed.New(root, seed.Replay, 0))
}

// TestLossGradients checks the critic and actor gradients the agent
// computes (backward passes through nets, the softmax/gate Jacobian, the
// A·tanh scaling and the prediction losses) against central finite
// differences of the same losses. TD3's target noise is drawn from a
// reseeded rng so the loss is a deterministic function of the parameters.
// Tolerance as nets' TestGradientFD (1e-7), relaxed to 1e-6 relative for
// the actor: its loss goes through two networks, a softmax and a tanh.
func TestLossGradients(t *testing.T) {
	m := toymarket.VolRegimeMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			cfg := tinyConfig()
			mod(&cfg)
			cfg.Activation = "tanh" // ReLU kinks make finite differences unreliable
			a := newToyAgent(t, m, cfg, 1)
			// move the targets and critic away from the initial point
			for i := range a.criticP {
				a.criticP[i] += 0.2 * math.Sin(float64(i))
				a.criticT[i] += 0.1 * math.Cos(float64(i))
			}
			fillReplay(t, a, m, 50, 1)

			criticLoss := func() float64 {
				_, total, err := a.criticLoss(seed.New(5, seed.Noise, 0))
				if err != nil {
					t.Fatal(err)
				}
				return total
			}
			criticLoss()
			got := append([]float64(nil), a.criticG...)
			want := fd.Gradient(nil, func(p []float64) float64 {
				saved := append([]float64(nil), a.criticP...)
				copy(a.criticP, p)
				l := criticLoss()
				copy(a.criticP, saved)
				return l
			}, append([]float64(nil), a.criticP...), &fd.Settings{Formula: fd.Central, Step: 1e-6})
			for i := range want {
				if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-7, 1e-7) {
					t.Fatalf("critic dθ[%d] = %v, finite differences %v", i, got[i], want[i])
				}
			}

			actorLoss := func() float64 {
				_, total, err := a.actorLoss()
				if err != nil {
					t.Fatal(err)
				}
				return total
			}
			actorLoss()
			got = append([]float64(nil), a.actorG...)
			want = fd.Gradient(nil, func(p []float64) float64 {
				saved := append([]float64(nil), a.actorP...)
				copy(a.actorP, p)
				l := actorLoss()
				copy(a.actorP, saved)
				return l
			}, append([]float64(nil), a.actorP...), &fd.Settings{Formula: fd.Central, Step: 1e-6})
			nonzero := 0
			for i := range want {
				if !scalar.EqualWithinAbsOrRel(got[i], want[i], 1e-7, 1e-6) {
					t.Fatalf("actor dθ[%d] = %v, finite differences %v", i, got[i], want[i])
				}
				if math.Abs(want[i]) > 1e-6 {
					nonzero++
				}
			}
			if nonzero < len(want)/4 {
				t.Fatalf("only %d of %d actor gradients are non-zero: the check is vacuous", nonzero, len(want))
			}
		})
	}
}

func TestSoftUpdate(t *testing.T) {
	target, online := []float64{1, 2}, []float64{3, -2}
	softUpdate(target, online, 0.25)
	// hand-computed: 0.25·3 + 0.75·1 = 1.5; 0.25·(−2) + 0.75·2 = 1
	if target[0] != 1.5 || target[1] != 1 {
		t.Errorf("soft update = %v, want [1.5 1]", target)
	}
}

// TestOUNoise: the OU recursion x ← x − θx·dt + σ√dt·ε matches its closed
// form; states reset when an env's episode ends.
func TestOUNoise(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.Noise, cfg.NoiseSigma, cfg.OUTheta, cfg.OUDt, cfg.LearningStarts = NoiseOU, 0.5, 2, 0.1, 0
	a := newToyAgent(t, m, cfg, 2)
	raw := make([]float64, 2*a.adim)
	rngA, rngB := seed.New(3, seed.Noise, 0), seed.New(3, seed.Noise, 0)
	x := make([]float64, len(raw))
	for step := 0; step < 5; step++ {
		clear(raw)
		a.addNoise(raw, rngA)
		for i := range x {
			x[i] = x[i] - 2*x[i]*0.1 + 0.5*math.Sqrt(0.1)*rngB.NormFloat64()
			if !scalar.EqualWithinAbsOrRel(raw[i], x[i], 1e-15, 1e-15) {
				t.Fatalf("step %d: noise %v, closed form %v", step, raw[i], x[i])
			}
		}
	}
	r := a.NewRollout()
	r.Record(0, []float64{0, 0}, []bool{false, true}, []bool{false, false}, make([]float64, 2*a.obsDim))
	if _, err := a.Update(context.Background(), r, seed.New(1, seed.Replay, 0)); err != nil {
		t.Fatal(err)
	}
	for i := a.adim; i < 2*a.adim; i++ {
		if a.ou[i] != 0 {
			t.Fatalf("OU state of the env whose episode ended is %v, want 0", a.ou[i])
		}
	}
	if a.ou[0] == 0 {
		t.Error("OU state of the running env was reset")
	}
}

// TestDeterminism: the same seeds give bit-identical parameters (serial
// or concurrent towers); another seed does not.
func TestDeterminism(t *testing.T) {
	m := toymarket.TrendMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			var ps [][]float64
			for _, par := range []bool{false, true} {
				cfg := tinyConfig()
				mod(&cfg)
				cfg.Parallel = par
				a := newToyAgent(t, m, cfg, 7)
				toymarket.Train(t, a, m, 20, 7)
				ps = append(ps, append(append([]float64(nil), a.actorP...), a.criticT...))
			}
			for i := range ps[0] {
				if math.Float64bits(ps[0][i]) != math.Float64bits(ps[1][i]) {
					t.Fatalf("θ[%d]: %v vs %v", i, ps[0][i], ps[1][i])
				}
			}
			cfg := tinyConfig()
			mod(&cfg)
			b := newToyAgent(t, m, cfg, 8)
			toymarket.Train(t, b, m, 20, 8)
			if b.actorP[0] == ps[0][0] && b.actorP[1] == ps[0][1] {
				t.Error("another seed gave the same parameters")
			}
		})
	}
}

// TestBackendParity: native and gorgonia engines give the same parameters
// after 10 gradient steps, to 1e-9 (their gradients agree to ~1e-15).
func TestBackendParity(t *testing.T) {
	m := toymarket.TrendMarket()
	for _, name := range []string{"flat", "assets/dyn/gate/td3"} {
		t.Run(name, func(t *testing.T) {
			var ps [][]float64
			for _, be := range []string{nets.BackendNative, nets.BackendGorgonia} {
				cfg := tinyConfig()
				variants()[name](&cfg)
				cfg.Backend = be
				a := newToyAgent(t, m, cfg, 9)
				toymarket.Train(t, a, m, 10, 9)
				if a.GradientSteps() == 0 {
					t.Fatal("no gradient steps taken")
				}
				ps = append(ps, append(append([]float64(nil), a.actorP...), a.criticP...))
			}
			worst := 0.0
			for i := range ps[0] {
				worst = max(worst, math.Abs(ps[0][i]-ps[1][i]))
				if !scalar.EqualWithinAbsOrRel(ps[0][i], ps[1][i], 1e-9, 1e-9) {
					t.Fatalf("θ[%d]: native %v, gorgonia %v", i, ps[0][i], ps[1][i])
				}
			}
			t.Logf("max |θ_native − θ_gorgonia| = %.3g", worst)
		})
	}
}

// TestCheckpointResume: save mid-training (replay included), load into an
// agent built from another seed, continue both: bit-identical.
func TestCheckpointResume(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	variants()["assets/dyn/gate/td3"](&cfg)
	cfg.Noise = NoiseOU
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
	if b.Replay().Len() != a.Replay().Len() || b.Steps() != a.Steps() || b.GradientSteps() != a.GradientSteps() {
		t.Fatalf("restored replay %d/%d, steps %d/%d", b.Replay().Len(), a.Replay().Len(), b.Steps(), a.Steps())
	}
	toymarket.Train(t, a, m, 5, 13)
	toymarket.Train(t, b, m, 5, 13)
	for i := range a.actorP {
		if math.Float64bits(a.actorP[i]) != math.Float64bits(b.actorP[i]) {
			t.Fatalf("resumed actor θ[%d] = %v, uninterrupted %v", i, b.actorP[i], a.actorP[i])
		}
	}
	for i := range a.criticT {
		if math.Float64bits(a.criticT[i]) != math.Float64bits(b.criticT[i]) {
			t.Fatalf("resumed target critic θ[%d] = %v, uninterrupted %v", i, b.criticT[i], a.criticT[i])
		}
	}

	other := tinyConfig()
	other.Hidden = []int{8, 4}
	c := newToyAgent(t, m, other, 1)
	var me *nets.MismatchError
	if err := c.Load(bytes.NewReader(buf.Bytes())); !errors.As(err, &me) || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("loading another architecture: %v", err)
	}
}

// TestUpdateCancelled: gradient steps not taken because of cancellation
// stay owed (and are checkpointed); the next Update takes them, so the
// run takes as many gradient steps as an uninterrupted one.
func TestUpdateCancelled(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.TrainFreq, cfg.LearningStarts = 4, 0
	run := func(cancel bool) int64 {
		a := newToyAgent(t, m, cfg, 14)
		r := a.NewRollout()
		obs := make([]float64, r.Envs*r.ObsDim)
		envs := []*toymarket.Market{toymarket.Fresh(m, 1), toymarket.Fresh(m, 2)}
		for e, mk := range envs {
			mk.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
		}
		rngAct, rngUpd := seed.New(1, seed.Action, 0), seed.New(1, seed.Replay, 0)
		for u := 0; u < 3; u++ {
			toymarket.Collect(t, a, r, envs, obs, rngAct)
			ctx, stop := context.WithCancel(context.Background())
			if cancel && u == 1 {
				stop()
				if _, err := a.Update(ctx, r, rngUpd); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled update: %v", err)
				}
				if a.pending != 8 || a.Replay().Len() != 16 {
					t.Fatalf("after a cancelled update: pending %d (want 8), replay %d (want 16)", a.pending, a.Replay().Len())
				}
				var buf bytes.Buffer
				if err := a.Save(&buf); err != nil {
					t.Fatal(err)
				}
				b := newToyAgent(t, m, cfg, 99)
				if err := b.Load(&buf); err != nil || b.pending != 8 {
					t.Fatalf("owed steps not checkpointed: %d, %v", b.pending, err)
				}
				continue
			}
			if _, err := a.Update(ctx, r, rngUpd); err != nil {
				t.Fatal(err)
			}
			stop()
		}
		return a.GradientSteps()
	}
	if full, cut := run(false), run(true); full != 24 || cut != 24 {
		t.Errorf("gradient steps: uninterrupted %d, interrupted %d, want 24", full, cut)
	}
}

// TestWarmUp: before learning_starts transitions, Sample acting is
// uniform in [−A, A] (no network), and no gradient step is taken.
func TestWarmUp(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.LearningStarts = 1000
	a := newToyAgent(t, m, cfg, 15)
	st := toymarket.Train(t, a, m, 5, 15)
	if a.GradientSteps() != 0 || st.(Stats).GradientSteps != 0 {
		t.Errorf("%d gradient steps during warm-up", a.GradientSteps())
	}
	r := a.NewRollout()
	dst := r.ActionsAt(0)
	rng := seed.New(2, seed.Action, 0)
	if err := a.Act(dst, r.ObsAt(0), rng, agents.Sample); err != nil {
		t.Fatal(err)
	}
	check := seed.New(2, seed.Action, 0)
	for i, v := range dst.Raw {
		if want := 5 * (2*check.Float64() - 1); v != want {
			t.Fatalf("warm-up logit %d = %v, want uniform draw %v", i, v, want)
		}
	}
}

func TestActAllocs(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.LearningStarts = 0
	a := newToyAgent(t, m, cfg, 16)
	r := a.NewRollout()
	rng := seed.New(1, seed.Action, 0)
	a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample)
	if n := testing.AllocsPerRun(20, func() { a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample) }); n != 0 {
		t.Errorf("%v allocations per Act, want 0", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{Defaults(), TD3()} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"buffer < batch", func(c *Config) { c.BufferSize = 10 }},
		{"tau 0", func(c *Config) { c.Tau = 0 }},
		{"noise", func(c *Config) { c.Noise = "pink" }},
		{"negative sigma", func(c *Config) { c.NoiseSigma = -1 }},
		{"policy delay 0", func(c *Config) { c.PolicyDelay = 0 }},
		{"scale", func(c *Config) { c.ActionScale = 0 }},
		{"lr", func(c *Config) { c.CriticLR = math.Inf(1) }},
		{"net", func(c *Config) { c.Activation = "swish" }},
	}
	for _, tc := range tests {
		c := Defaults()
		tc.mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	d := Defaults()
	if d.Hidden[0] != 256 || d.BatchSize != 256 || d.BufferSize != 1_000_000 || d.Tau != 0.005 || d.NoiseSigma != 0.1 || d.ActorLR != 3e-4 {
		t.Errorf("defaults are not bench task v1's: %+v", d)
	}
}

// TestCriticActionAuto checks how critic_action = "auto" resolves: logits
// for a plain softmax action, weights with the gate or the dynamic
// embedding; explicit choices are kept, and logits with the dynamic
// embedding is refused.
func TestCriticActionAuto(t *testing.T) {
	m := toymarket.TrendMarket()
	for _, tc := range []struct {
		name, ca, emb string
		gate          bool
		want          string
	}{
		{"plain", CriticAuto, nets.EmbeddingNone, false, CriticLogits},
		{"gate", CriticAuto, nets.EmbeddingNone, true, CriticWeights},
		{"dynamic", CriticAuto, nets.EmbeddingDynamic, false, CriticWeights},
		{"explicit weights", CriticWeights, nets.EmbeddingNone, false, CriticWeights},
		{"explicit logits with gate", CriticLogits, nets.EmbeddingNone, true, CriticLogits},
		{"logits with dynamic", CriticLogits, nets.EmbeddingDynamic, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.CriticAction, cfg.Embedding, cfg.VolTiming = tc.ca, tc.emb, tc.gate
			if tc.gate {
				cfg.VolFeatures = []int{1}
			}
			a, err := New(m.Spec(), cfg, seed.New(1, seed.Init, 0))
			if tc.want == "" {
				if err == nil {
					t.Fatal("accepted critic_action = \"logits\" with the dynamic embedding")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Config().CriticAction; got != tc.want {
				t.Errorf("critic_action resolved to %q, want %q", got, tc.want)
			}
		})
	}
}
