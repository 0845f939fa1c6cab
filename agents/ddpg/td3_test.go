package ddpg

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// TestPolicyDelay: with policy_delay = 3 the critic steps on every
// gradient step while the actor and both target networks change only on
// every third (counted by watching the parameter vectors and Adam's step
// counters, independently of what gradientStep reports), and a training
// run's Adam counters are G critic and ⌊G/3⌋ actor steps after G gradient
// steps.
func TestPolicyDelay(t *testing.T) {
	m := toymarket.VolRegimeMarket()
	cfg := tinyConfig()
	cfg.TwinCritics, cfg.PolicyDelay, cfg.TargetNoise = true, 3, 0.5
	a := newToyAgent(t, m, cfg, 21)
	fillReplay(t, a, m, 60, 21)
	rng := seed.New(22, seed.Replay, 0)
	const steps = 12
	actorMoves := 0
	for i := 1; i <= steps; i++ {
		actor, critic := slices.Clone(a.actorP), slices.Clone(a.criticP)
		actorT, criticT := slices.Clone(a.actorT), slices.Clone(a.criticT)
		_, stepped, err := a.gradientStep(rng)
		if err != nil {
			t.Fatal(err)
		}
		due := i%3 == 0
		if slices.Equal(critic, a.criticP) {
			t.Errorf("gradient step %d: the critic did not move", i)
		}
		for _, c := range []struct {
			name          string
			before, after []float64
		}{{"actor", actor, a.actorP}, {"actor target", actorT, a.actorT}, {"critic target", criticT, a.criticT}} {
			if moved := !slices.Equal(c.before, c.after); moved != due {
				t.Errorf("gradient step %d: %s moved = %v, want %v", i, c.name, moved, due)
			}
		}
		if stepped != due {
			t.Errorf("gradient step %d: reported actor step %v, want %v", i, stepped, due)
		}
		if !slices.Equal(actor, a.actorP) {
			actorMoves++
		}
	}
	if sa, sc := a.w.adamSteps(); actorMoves != steps/3 || sa != steps/3 || sc != steps {
		t.Errorf("after %d gradient steps: actor moved %d times, Adam steps actor %d critic %d; want %d, %d, %d", steps, actorMoves, sa, sc, steps/3, steps/3, steps)
	}

	b := newToyAgent(t, m, cfg, 23)
	toymarket.Train(t, b, m, 30, 23)
	g := int(b.GradientSteps())
	if sa, sc := b.w.adamSteps(); g == 0 || sc != g || sa != g/3 {
		t.Errorf("training: %d gradient steps, Adam steps actor %d critic %d; want %d and %d", g, sa, sc, g/3, g)
	}
}

// setConstantQ makes every target Q tower k output c[k] for any input:
// its output layer's weights are zeroed and its bias set to c[k].
func setConstantQ(t *testing.T, a *Agent, c []float64) {
	t.Helper()
	set := 0
	for _, s := range a.critic.Net.Layout().Segments {
		for k, ck := range c {
			p := "q" + string(rune('1'+k)) + "/q/"
			switch s.Name {
			case p + "W":
				clear(a.criticT[s.Offset : s.Offset+s.Len()])
				set++
			case p + "b":
				a.criticT[s.Offset] = ck
				set++
			}
		}
	}
	if set != 2*len(c) {
		t.Fatalf("found %d of the %d output segments of the target critic", set, 2*len(c))
	}
}

// TestTDTargetTwinMin: the TD target is y = r + γ·(1 − terminated)·
// min_k Q'_k(s', ·): with target towers made constant (Q'₁ = c₁, Q'₂ =
// c₂), y is checked against that closed form on every row of a sampled
// batch, some rows marked terminal, for both orders of the towers (the
// minimum, not tower 1, is used) and for a single critic (y uses Q'₁).
// Tolerance 1e-15 relative: one multiply-add.
func TestTDTargetTwinMin(t *testing.T) {
	m := toymarket.VolRegimeMarket()
	for _, tc := range []struct {
		name string
		twin bool
		c    []float64
		min  float64
	}{
		{"twin, Q'1 larger", true, []float64{0.7, -0.3}, -0.3},
		{"twin, Q'2 larger", true, []float64{-0.3, 0.7}, -0.3},
		{"single", false, []float64{0.7}, 0.7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.TwinCritics = tc.twin
			a := newToyAgent(t, m, cfg, 31)
			fillReplay(t, a, m, 60, 31)
			setConstantQ(t, a, tc.c)
			b := a.batch
			for i := range b.Terminated {
				b.Terminated[i] = i%3 == 0
			}
			if _, _, err := a.criticLoss(seed.New(1, seed.Noise, 0)); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < b.Size; i++ {
				want := b.Reward[i]
				if !b.Terminated[i] {
					want += cfg.Gamma * tc.min
				}
				if got := a.s.y[i]; math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
					t.Errorf("row %d (terminated %v, r = %v): y = %v, want %v", i, b.Terminated[i], b.Reward[i], got, want)
				}
			}
		})
	}
}

// TestTargetPolicySmoothing: the target action is the target actor's
// logits plus N(0, target_noise²) noise clipped to ±target_noise_clip,
// then clipped to ±action_scale. Over 9,600 draws every perturbation is
// within the clip bound and every logit within the action bounds; the
// fraction of perturbations at the bound matches P(|N(0,1)| > clip/σ)
// within 5 standard errors (±0.022 at this n); the critic's action input
// is the noisy logits'. With target_noise = 0 the target action equals
// the target actor's output bit for bit and no noise is drawn.
func TestTargetPolicySmoothing(t *testing.T) {
	m := toymarket.VolRegimeMarket()
	const sigma, clip = 1.0, 0.3
	cfg := tinyConfig()
	cfg.TwinCritics, cfg.TargetNoise, cfg.TargetNoiseClip = true, sigma, clip
	a := newToyAgent(t, m, cfg, 41)
	fillReplay(t, a, m, 60, 41)
	n := len(a.s.logits)
	ref := make([]float64, n)
	if err := a.actorForward(a.actTarget, ref, a.unbound(a.batch.Next)); err != nil {
		t.Fatal(err)
	}
	rng := seed.New(42, seed.Noise, 0)
	w := make([]float64, a.adim)
	const calls = 300
	atBound, draws := 0, 0
	for c := 0; c < calls; c++ {
		if _, _, err := a.criticLoss(rng); err != nil {
			t.Fatal(err)
		}
		for i, v := range a.s.logits {
			d := v - ref[i]
			if math.Abs(d) > clip*(1+1e-12) || math.Abs(v) > cfg.ActionScale {
				t.Fatalf("draw %d: target logit %v, target actor %v: perturbation %v beyond ±%v or logit beyond ±%v", c, v, ref[i], d, clip, cfg.ActionScale)
			}
			if math.Abs(math.Abs(d)-clip) < 1e-12 {
				atBound++
			}
			draws++
		}
		for r := 0; r < a.batch.Size; r++ {
			a.criticActionTo(w, a.s.logits[r*a.adim:(r+1)*a.adim])
			if !slices.Equal(w, a.s.wNext[r*a.adim:(r+1)*a.adim]) {
				t.Fatalf("row %d: the critic's target action is not that of the noisy logits", r)
			}
		}
	}
	// P(|Z| > 0.3) = 2·(1 − Φ(0.3)) = 0.764177 (closed form via erfc).
	p := math.Erfc(clip / sigma / math.Sqrt2)
	se := math.Sqrt(p * (1 - p) / float64(draws))
	if frac := float64(atBound) / float64(draws); math.Abs(frac-p) > 5*se {
		t.Errorf("%.4f of %d perturbations at the clip bound, want %.4f ± %.4f", frac, draws, p, 5*se)
	}

	cfg.TargetNoise = 0
	z := newToyAgent(t, m, cfg, 41)
	fillReplay(t, z, m, 60, 41)
	if err := z.actorForward(z.actTarget, ref, z.unbound(z.batch.Next)); err != nil {
		t.Fatal(err)
	}
	rng, probe := seed.New(43, seed.Noise, 0), seed.New(43, seed.Noise, 0)
	if _, _, err := z.criticLoss(rng); err != nil {
		t.Fatal(err)
	}
	for i, v := range z.s.logits {
		if math.Float64bits(v) != math.Float64bits(ref[i]) {
			t.Fatalf("target_noise = 0: target logit %d = %v, target actor %v", i, v, ref[i])
		}
	}
	if rng.Uint64() != probe.Uint64() {
		t.Error("target_noise = 0 still drew from the rng")
	}
}

// TestLoadBadFiles: a model file that is not a checkpoint, is cut short or
// corrupt, was written in another format version, holds another kind of
// learner, or another configuration is refused with an error saying so,
// and the agent's parameters are unchanged. (TestCheckpointResume covers
// another architecture.)
func TestLoadBadFiles(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	a := newToyAgent(t, m, cfg, 51)
	toymarket.Train(t, a, m, 8, 51)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	version := slices.Clone(good)
	version[8] = 9 // the uint32 format version after the 8-byte magic
	c, err := nets.ReadCheckpoint(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	c.Kind = "ppo"
	var kind bytes.Buffer
	if err := nets.WriteCheckpoint(&kind, c); err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)-1] ^= 0xff

	other := cfg
	other.Tau = 0.01
	for _, tc := range []struct {
		name string
		cfg  Config
		data []byte
		ok   func(error) bool
		word string
	}{
		{"text file", cfg, []byte("actor = [1, 2]\n"), func(err error) bool { return errors.Is(err, nets.ErrNotCheckpoint) }, "not a folio checkpoint"},
		{"truncated", cfg, good[:len(good)/2], func(err error) bool { return err != nil }, "truncated"},
		{"checksum", cfg, corrupt, func(err error) bool { return err != nil }, "corrupt"},
		{"version", cfg, version, func(err error) bool { var ve *nets.VersionError; return errors.As(err, &ve) && ve.File == 9 }, "version 9, this build reads versions 1 to 2"},
		{"kind", cfg, kind.Bytes(), func(err error) bool { var me *nets.MismatchError; return errors.As(err, &me) && me.What == "kind" }, `file has "ppo", this agent has "ddpg"`},
		{"config", other, good, func(err error) bool {
			var me *nets.MismatchError
			return errors.As(err, &me) && me.What == "config" && len(me.Keys) == 1
		}, "config mismatch: tau: file has "},
	} {
		b := newToyAgent(t, m, tc.cfg, 52)
		actor, critic := slices.Clone(b.actorP), slices.Clone(b.criticT)
		err := b.Load(bytes.NewReader(tc.data))
		if !tc.ok(err) || !strings.Contains(err.Error(), tc.word) || !strings.HasPrefix(err.Error(), "ddpg: load: ") {
			t.Errorf("%s: %v (want an error mentioning %q)", tc.name, err, tc.word)
			continue
		}
		if !slices.Equal(actor, b.actorP) || !slices.Equal(critic, b.criticT) || b.Replay().Len() != 0 {
			t.Errorf("%s: a failed load changed the agent", tc.name)
		}
	}
}

// TestGradientStepsPerEnvStep: after the warm-up DDPG takes
// updates_per_step gradient steps per env step collected, in the Update
// call that follows the step: with 2 envs, one step per Update and
// learning_starts = 11, the total after the Update of env step k (2k
// transitions) is updates_per_step·max(0, 2k − 11).
func TestGradientStepsPerEnvStep(t *testing.T) {
	m := toymarket.TrendMarket()
	for _, ups := range []int{1, 2} {
		cfg := tinyConfig()
		cfg.TrainFreq, cfg.LearningStarts, cfg.UpdatesPerStep = 1, 11, ups
		a := newToyAgent(t, m, cfg, 61)
		r := a.NewRollout()
		obs := make([]float64, r.Envs*r.ObsDim)
		envs := []*toymarket.Market{toymarket.Fresh(m, 1), toymarket.Fresh(m, 2)}
		for e, mk := range envs {
			mk.Reset(obs[e*r.ObsDim : (e+1)*r.ObsDim])
		}
		rngAct, rngUpd := seed.New(1, seed.Action, 0), seed.New(1, seed.Replay, 0)
		for k := 1; k <= 12; k++ {
			toymarket.Collect(t, a, r, envs, obs, rngAct)
			s, err := a.Update(context.Background(), r, rngUpd)
			if err != nil {
				t.Fatal(err)
			}
			want := ups * max(0, 2*k-11)
			if got := a.GradientSteps(); got != int64(want) {
				t.Fatalf("updates_per_step %d, after env step %d: %d gradient steps, want %d", ups, k, got, want)
			}
			if k > 6 && s.(Stats).GradientSteps != 2*ups {
				t.Fatalf("updates_per_step %d, env step %d: this Update took %d gradient steps, want %d", ups, k, s.(Stats).GradientSteps, 2*ups)
			}
		}
	}
}
