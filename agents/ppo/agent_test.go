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

var _ agents.Learner = (*Agent)(nil)

// tinyConfig: 2 envs × 16 steps, 2 epochs × 2 minibatches.
func tinyConfig() Config {
	c := smallConfig()
	c.NumEnvs, c.NumSteps, c.UpdateEpochs, c.NumMinibatches = 2, 16, 2, 2
	c.Hidden = []int{8, 8}
	c.AssetHidden = []int{6, 4}
	return c
}

func variants() map[string]func(*Config) {
	return map[string]func(*Config){
		"flat":         func(c *Config) {},
		"assets":       func(c *Config) { c.Trunk = nets.TrunkAssets },
		"flat/dynamic": func(c *Config) { c.Embedding = nets.EmbeddingDynamic },
		"assets/dyn/gate": func(c *Config) {
			c.Trunk, c.Embedding, c.VolTiming, c.VolFeatures = nets.TrunkAssets, nets.EmbeddingDynamic, true, []int{1}
		},
		"flat/gate/kl": func(c *Config) {
			c.VolTiming, c.VolFeatures, c.TargetKL, c.ClipValueLoss, c.EntCoef = true, []int{1}, 0.01, false, 0.01
		},
	}
}

// TestDeterminism: the same seeds give bit-identical parameters after
// three updates, with the towers run serially or concurrently.
func TestDeterminism(t *testing.T) {
	m := toymarket.TrendMarket()
	for name, mod := range variants() {
		t.Run(name, func(t *testing.T) {
			var thetas [][]float64
			for _, par := range []bool{false, true, true} {
				cfg := tinyConfig()
				mod(&cfg)
				cfg.Parallel = par
				a := newToyAgent(t, m, cfg, 11)
				toymarket.Train(t, a, m, 3, 11)
				thetas = append(thetas, append([]float64(nil), a.Params()...))
			}
			for k := 1; k < len(thetas); k++ {
				for i := range thetas[0] {
					if math.Float64bits(thetas[0][i]) != math.Float64bits(thetas[k][i]) {
						t.Fatalf("run %d: θ[%d] = %v, run 0: %v", k, i, thetas[k][i], thetas[0][i])
					}
				}
			}
			if s := seedDiffers(t, m, mod); !s {
				t.Error("a different seed gave the same parameters")
			}
		})
	}
}

func seedDiffers(t *testing.T, m toymarket.Market, mod func(*Config)) bool {
	cfg := tinyConfig()
	mod(&cfg)
	a, b := newToyAgent(t, m, cfg, 11), newToyAgent(t, m, cfg, 12)
	toymarket.Train(t, a, m, 1, 11)
	toymarket.Train(t, b, m, 1, 12)
	for i := range a.Params() {
		if a.Params()[i] != b.Params()[i] {
			return true
		}
	}
	return false
}

// TestBackendParity trains the same agent with the native engine and with
// the gorgonia graphs and compares the parameters after two updates.
// Per-minibatch gradients agree to ~1e-15 relative (nets' parity tests);
// Adam's normalisation, 8 steps and the clipping decisions keep the drift
// far below the 1e-9 tolerance unless an implementation differs.
func TestBackendParity(t *testing.T) {
	m := toymarket.TrendMarket()
	for _, name := range []string{"flat", "assets/dyn/gate"} {
		t.Run(name, func(t *testing.T) {
			var thetas [][]float64
			for _, backend := range []string{nets.BackendNative, nets.BackendGorgonia} {
				cfg := tinyConfig()
				variants()[name](&cfg)
				cfg.Backend = backend
				a := newToyAgent(t, m, cfg, 13)
				toymarket.Train(t, a, m, 2, 13)
				thetas = append(thetas, append([]float64(nil), a.Params()...))
			}
			maxDiff := 0.0
			for i := range thetas[0] {
				maxDiff = max(maxDiff, math.Abs(thetas[0][i]-thetas[1][i]))
				if !scalar.EqualWithinAbsOrRel(thetas[0][i], thetas[1][i], 1e-9, 1e-9) {
					t.Fatalf("θ[%d]: native %v, gorgonia %v", i, thetas[0][i], thetas[1][i])
				}
			}
			t.Logf("max |θ_native − θ_gorgonia| = %.3g", maxDiff)
		})
	}
}

// TestCheckpointResume: saving after one update and loading into an agent
// initialised from another seed, then updating both on the same data and
// rng state, gives bit-identical parameters (the full training state is
// in the file).
func TestCheckpointResume(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
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
	if b.Steps() != a.Steps() || b.Updates() != 1 || b.adam.Step != a.adam.Step {
		t.Fatalf("counters: steps %d/%d, updates %d, adam step %d/%d", b.Steps(), a.Steps(), b.Updates(), b.adam.Step, a.adam.Step)
	}
	toymarket.Train(t, a, m, 1, 22)
	toymarket.Train(t, b, m, 1, 22)
	for i := range a.Params() {
		if math.Float64bits(a.Params()[i]) != math.Float64bits(b.Params()[i]) {
			t.Fatalf("after resuming, θ[%d] = %v, uninterrupted %v", i, b.Params()[i], a.Params()[i])
		}
	}
}

func TestLoadMismatch(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tinyConfig(), 1)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	other := tinyConfig()
	other.Hidden = []int{8, 6}
	b := newToyAgent(t, m, other, 1)
	before := append([]float64(nil), b.Params()...)
	err := b.Load(bytes.NewReader(buf.Bytes()))
	var me *nets.MismatchError
	if !errors.As(err, &me) || me.What != "architecture" || !strings.Contains(err.Error(), "8×8") || !strings.Contains(err.Error(), "8×6") {
		t.Errorf("loading another architecture: %v", err)
	}
	for i := range before {
		if b.Params()[i] != before[i] {
			t.Fatal("a failed load changed the parameters")
		}
	}
	lr := tinyConfig()
	lr.LearningRate = 1e-4
	c := newToyAgent(t, m, lr, 1)
	if err := c.Load(bytes.NewReader(buf.Bytes())); !errors.As(err, &me) || me.What != "config" {
		t.Errorf("loading another configuration: %v", err)
	}
	if err := c.LoadWeights(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("LoadWeights across hyperparameters: %v", err)
	}
	raw := buf.Bytes()
	raw[8] = 9 // format version 9
	var ve *nets.VersionError
	if err := a.Load(bytes.NewReader(raw)); !errors.As(err, &ve) {
		t.Errorf("loading another format version: %v", err)
	}
}

// TestUpdateAtomic: a cancelled update leaves every parameter and the
// optimiser state untouched.
func TestUpdateAtomic(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tinyConfig(), 31)
	toymarket.Train(t, a, m, 1, 31)
	theta := append([]float64(nil), a.Params()...)
	step := a.adam.Step
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
		if a.Params()[i] != theta[i] {
			t.Fatal("cancelled update changed the parameters")
		}
	}
	if a.adam.Step != step {
		t.Fatal("cancelled update changed the optimiser step")
	}
	// a NaN reward makes the loss non-finite: the update fails and is undone
	r.Reward[3] = math.NaN()
	_, err := a.Update(context.Background(), r, seed.New(1, seed.Shuffle, 0))
	var nf *agents.NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("NaN reward: %v", err)
	}
	for i := range theta {
		if a.Params()[i] != theta[i] {
			t.Fatal("diverged update changed the parameters")
		}
	}
}

// TestActModes: Deterministic acting returns softmax(mean) with the
// Gaussian's log-density at its mean; Sample draws around it; the policy
// and the batched Act agree.
func TestActModes(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tinyConfig(), 41)
	toymarket.Train(t, a, m, 1, 41)
	d := a.obsDim
	obs := make([]float64, 2*d)
	toymarket.Fresh(m, 3).Reset(obs[:d])
	toymarket.Fresh(m, 4).Reset(obs[d:])
	dst := agents.Actions{Weights: make([]float64, 8), Raw: make([]float64, 8), LogProb: make([]float64, 2), Value: make([]float64, 2)}
	if err := a.Act(dst, obs, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	a.expandLogStd()
	var want float64
	for _, s := range a.logStd {
		want -= s + lnSqrt2Pi
	}
	w := make([]float64, 4)
	for b := 0; b < 2; b++ {
		if !scalar.EqualWithinAbsOrRel(dst.LogProb[b], want, 1e-12, 1e-12) {
			t.Errorf("log-density at the mean %v, want %v", dst.LogProb[b], want)
		}
		nets.WeightsTo(w, dst.Raw[b*4:(b+1)*4], false)
		pw := make([]float64, 4)
		if err := a.Policy().Act(pw, &agents.Observation{Vector: obs[b*d : (b+1)*d]}, nil, agents.Deterministic); err != nil {
			t.Fatal(err)
		}
		for j := range w {
			if !scalar.EqualWithinAbsOrRel(dst.Weights[b*4+j], w[j], 1e-15, 1e-15) || !scalar.EqualWithinAbsOrRel(pw[j], w[j], 1e-12, 1e-12) {
				t.Fatalf("weights %v, softmax(mean) %v, policy %v", dst.Weights[b*4:(b+1)*4], w, pw)
			}
		}
	}
	mean := append([]float64(nil), dst.Raw...)
	if err := a.Act(dst, obs, seed.New(1, seed.Action, 0), agents.Sample); err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range mean {
		if dst.Raw[i] == mean[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d sampled logits equal the mean", same)
	}
}

func TestActAllocs(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	a := newToyAgent(t, m, cfg, 51)
	r := a.NewRollout()
	for e := 0; e < r.Envs; e++ {
		toymarket.Fresh(m, uint64(e)).Reset(r.ObsAt(0)[e*r.ObsDim : (e+1)*r.ObsDim])
	}
	rng := seed.New(1, seed.Action, 0)
	if err := a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { a.Act(r.ActionsAt(0), r.ObsAt(0), rng, agents.Sample) }); n != 0 {
		t.Errorf("%v allocations per batched Act, want 0", n)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := func() *Config { c := Defaults(); return &c }().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"minibatches do not divide", func(c *Config) { c.NumMinibatches = 30 }},
		{"negative lr", func(c *Config) { c.LearningRate = -1 }},
		{"gamma > 1", func(c *Config) { c.Gamma = 1.5 }},
		{"NaN clip", func(c *Config) { c.ClipCoef = math.NaN() }},
		{"zero epochs", func(c *Config) { c.UpdateEpochs = 0 }},
		{"unknown trunk", func(c *Config) { c.Trunk = "cnn" }},
		{"gate without features", func(c *Config) { c.VolTiming = true }},
		{"dynamic without return feature", func(c *Config) { c.Embedding, c.ReturnFeature = nets.EmbeddingDynamic, -1 }},
		{"unknown backend", func(c *Config) { c.Backend = "cuda" }},
		{"negative target kl", func(c *Config) { c.TargetKL = -0.1 }},
	}
	for _, tc := range tests {
		c := Defaults()
		tc.mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// bench reference defaults
	c := Defaults()
	if c.NumEnvs*c.NumSteps != 2048 || c.MinibatchSize() != 64 || c.LearningRate != 3e-4 || c.Hidden[0] != 64 || c.Activation != "tanh" {
		t.Errorf("defaults are not bench task v1's: %+v", c)
	}
	m := toymarket.TrendMarket()
	bad := tinyConfig()
	bad.VolTargetFeature = 7
	if _, err := New(m.Spec(), bad, seed.New(1, seed.Init, 0)); err == nil {
		t.Error("vol_target_feature beyond the observation's features accepted")
	}
}

// TestTruncationBootstrap: after Update, the reward used for GAE at a
// truncated step is r + γ·V(final observation) (V evaluated with the
// parameters before the update), at a terminated step it is r, and with
// bootstrap_truncated off it is r everywhere.
func TestTruncationBootstrap(t *testing.T) {
	m := toymarket.TrendMarket()
	for _, on := range []bool{true, false} {
		cfg := tinyConfig()
		cfg.BootstrapTruncated = on
		a := newToyAgent(t, m, cfg, 61)
		r := a.NewRollout()
		obs := make([]float64, r.Envs*r.ObsDim)
		envs := []*toymarket.Market{toymarket.Fresh(m, 1), toymarket.Fresh(m, 2)}
		for e, mk := range envs {
			mk.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
		}
		toymarket.Collect(t, a, r, envs, obs, seed.New(1, seed.Action, 0))
		kTrunc, kTerm := 5, 8
		r.Truncated[kTrunc], r.Terminated[kTrunc] = true, false
		r.Terminated[kTerm], r.Truncated[kTerm] = true, false
		for i := range r.ObsDim {
			r.FinalObs[kTrunc*r.ObsDim+i] = 0.01 * float64(i%7)
		}
		v := make([]float64, 1)
		if err := a.valuesTo(v, func(int) []float64 { return r.FinalObs[kTrunc*r.ObsDim : (kTrunc+1)*r.ObsDim] }); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Update(context.Background(), r, seed.New(1, seed.Shuffle, 0)); err != nil {
			t.Fatal(err)
		}
		want := r.Reward[kTrunc]
		if on {
			want += cfg.Gamma * v[0]
		}
		if got := a.upd.rew[kTrunc]; !scalar.EqualWithinAbsOrRel(got, want, 1e-15, 1e-15) || (on && v[0] == 0) {
			t.Errorf("bootstrap=%v: truncated reward %v, want %v (V = %v)", on, got, want, v[0])
		}
		if a.upd.rew[kTerm] != r.Reward[kTerm] {
			t.Errorf("bootstrap=%v: terminated reward changed to %v", on, a.upd.rew[kTerm])
		}
	}
}
