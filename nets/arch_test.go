package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"

	"github.com/folio-rl/folio/internal/seed"
)

// testArch returns a small architecture: F = 2 per-asset features (0: log
// return, 1: a volatility forecast), G = 1 global feature, W = 4.
func testArch(trunk, emb string, vol bool, n int) Arch {
	const f, g, w = 2, 1, 4
	a := Arch{
		Assets: n, Features: f, Globals: g, Window: w,
		AssetOffset: 0, GlobalOffset: n * f * w, WeightsOffset: n*f*w + g*w, ObsLen: n*f*w + g*w + n + 1,
		Trunk: trunk, Hidden: []int{6, 5}, Activation: Tanh, AssetHidden: []int{4, 3}, HeadHidden: []int{4},
		Embedding: emb, Latent: 3, DecoderHidden: []int{4},
		VolTiming: vol, VolFeatures: []int{1}, GateHidden: 3, ReturnFeature: 0, Init: "orthogonal",
	}
	return a
}

// randObs draws an observation with simplex weights.
func randObs(rng *rand.Rand, a *Arch) []float64 {
	obs := make([]float64, a.ObsLen)
	for i := range obs {
		obs[i] = rng.NormFloat64()
	}
	w := obs[a.WeightsOffset : a.WeightsOffset+a.Assets+1]
	s := 0.0
	for i := range w {
		w[i] = rng.Float64()
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return obs
}

// permuteObs applies an asset permutation: new asset k is old asset p[k].
func permuteObs(obs []float64, a *Arch, p []int) []float64 {
	out := append([]float64(nil), obs...)
	fw := a.Features * a.Window
	for k, i := range p {
		copy(out[a.AssetOffset+k*fw:a.AssetOffset+(k+1)*fw], obs[a.AssetOffset+i*fw:a.AssetOffset+(i+1)*fw])
		out[a.WeightsOffset+1+k] = obs[a.WeightsOffset+1+i]
	}
	return out
}

func allArchs(n int) []Arch {
	var as []Arch
	for _, tr := range []string{TrunkFlat, TrunkAssets} {
		for _, emb := range []string{EmbeddingNone, EmbeddingDynamic} {
			for _, vol := range []bool{false, true} {
				as = append(as, testArch(tr, emb, vol, n))
			}
		}
	}
	return as
}

func archName(a Arch) string {
	return fmt.Sprintf("%s/%s/vol=%v", a.Trunk, a.Embedding, a.VolTiming)
}

// TestPermutationEquivariance: with the assets trunk, permuting the assets
// of an observation (their feature windows, current weights and, for the
// decoder and Q, their action weights) permutes the asset logits and the
// per-asset predictions the same way and leaves the cash/gate logit, V and
// Q unchanged. Tolerance 1e-12: only the order of the pooled sums changes.
func TestPermutationEquivariance(t *testing.T) {
	const tol = 1e-12
	perm := []int{2, 0, 3, 1}
	for _, a := range allArchs(4) {
		if a.Trunk != TrunkAssets {
			continue
		}
		t.Run(archName(a), func(t *testing.T) {
			rng := seed.New(4, seed.Test, 0)
			ac, err := NewActorCritic(a, 0)
			if err != nil {
				t.Fatal(err)
			}
			theta := make([]float64, ac.Net.NumParams())
			ac.Net.Layout().Init(theta, rng)
			randFill(rng, theta) // break the small-output-gain symmetry so outputs are O(1)
			ps := ac.Net.NewPass(2, Params{Value: theta})
			obs := randObs(rng, &a)
			ac.Feed.Fill(ps, 0, obs)
			ac.Feed.Fill(ps, 1, permuteObs(obs, &a, perm))
			act := []float64{0.1, 0.2, 0.3, 0.15, 0.25}
			if ac.Action >= 0 {
				in := ps.Input(ac.Action)
				copy(in, act)
				in[5] = act[0]
				for k, i := range perm {
					in[5+1+k] = act[1+i]
				}
			}
			ps.Forward()
			lg := ps.Output(ac.Logits)
			n := a.Assets
			check := func(what string, got, want float64) {
				t.Helper()
				if !scalar.EqualWithinAbsOrRel(got, want, tol, tol) {
					t.Errorf("%s: permuted %v, original %v", what, got, want)
				}
			}
			check("logit 0", lg[n+1], lg[0])
			for k, i := range perm {
				check(fmt.Sprintf("logit of asset %d", i), lg[n+1+1+k], lg[1+i])
			}
			v := ps.Output(ac.Value)
			check("value", v[1], v[0])
			if ac.Pred >= 0 {
				pr := ps.Output(ac.Pred)
				for k, i := range perm {
					check("pred return", pr[2*n+2*k], pr[2*i])
					check("pred vol", pr[2*n+2*k+1], pr[2*i+1])
				}
			}

			cr, err := NewCritic(a, false)
			if err != nil {
				t.Fatal(err)
			}
			th := make([]float64, cr.Net.NumParams())
			cr.Net.Layout().Init(th, rng)
			randFill(rng, th)
			cp := cr.Net.NewPass(2, Params{Value: th})
			cr.Feed.Fill(cp, 0, obs)
			cr.Feed.Fill(cp, 1, permuteObs(obs, &a, perm))
			in := cp.Input(cr.Action[0])
			copy(in, act)
			in[5] = act[0]
			for k, i := range perm {
				in[5+1+k] = act[1+i]
			}
			if cr.DecAct != nil {
				copy(cp.Input(cr.DecAct[0]), in)
			}
			cp.Forward()
			q := cp.Output(cr.Q[0])
			check("Q", q[1], q[0])
		})
	}
}

// TestAnyNumberOfAssets: the assets trunk's parameters do not depend on N,
// so weights trained on 3 assets run unchanged on 5 (and the logits have
// N+1 entries).
func TestAnyNumberOfAssets(t *testing.T) {
	for _, emb := range []string{EmbeddingNone, EmbeddingDynamic} {
		a3, a5 := testArch(TrunkAssets, emb, true, 3), testArch(TrunkAssets, emb, true, 5)
		n3, err := NewActorCritic(a3, 0)
		if err != nil {
			t.Fatal(err)
		}
		n5, err := NewActorCritic(a5, 0)
		if err != nil {
			t.Fatal(err)
		}
		s3, s5 := n3.Net.Layout().Segments, n5.Net.Layout().Segments
		if len(s3) != len(s5) {
			t.Fatalf("%s: %d segments for N=3, %d for N=5", emb, len(s3), len(s5))
		}
		for i := range s3 {
			if s3[i].Name == "logstd" {
				continue // one log-std per action dimension
			}
			if s3[i].Rows != s5[i].Rows || s3[i].Cols != s5[i].Cols {
				t.Errorf("%s: %s is %d×%d for N=3 but %d×%d for N=5", emb, s3[i].Name, s3[i].Rows, s3[i].Cols, s5[i].Rows, s5[i].Cols)
			}
		}
	}
}

func TestMarketStats(t *testing.T) {
	rng := seed.New(5, seed.Test, 0)
	a := testArch(TrunkAssets, EmbeddingNone, false, 4)
	a.Window = 7
	a.GlobalOffset = a.Assets * a.Features * a.Window
	a.WeightsOffset = a.GlobalOffset + a.Globals*a.Window
	a.ObsLen = a.WeightsOffset + a.Assets + 1
	obs := randObs(rng, &a)
	// make asset 2's return window constant: it has σ = 0 and no correlation
	for t := 0; t < a.Window; t++ {
		obs[a.AssetOffset+(2*a.Features)*a.Window+t] = 0.5
	}
	got := make([]float64, NumStats)
	MarketStatsTo(got, obs, &a)
	// Reference: gonum's stat over each window, pairwise correlations in
	// an O(N²) loop; a constant window counts as correlation 0.
	var sig, mu []float64
	var rs [][]float64
	for i := 0; i < a.Assets; i++ {
		r := obs[a.AssetOffset+(i*a.Features)*a.Window : a.AssetOffset+(i*a.Features+1)*a.Window]
		rs = append(rs, r)
		m, s := stat.PopMeanStdDev(r, nil)
		mu = append(mu, m)
		sig = append(sig, s)
	}
	var corr float64
	for i := range rs {
		for j := range rs {
			if i != j && sig[i] > 0 && sig[j] > 0 {
				corr += stat.Correlation(rs[i], rs[j], nil)
			}
		}
	}
	corr /= float64(a.Assets * (a.Assets - 1))
	want := []float64{stat.Mean(sig, nil), max(sig[0], sig[1], sig[2], sig[3]), corr, stat.Mean(mu, nil)}
	for k := range want {
		// different summation orders on O(1) sums of a few dozen terms
		if !scalar.EqualWithinAbsOrRel(got[k], want[k], 1e-13, 1e-13) {
			t.Errorf("stat %d = %v, want %v", k, got[k], want[k])
		}
	}
}

func TestFeedFill(t *testing.T) {
	a := testArch(TrunkAssets, EmbeddingNone, true, 3)
	ac, err := NewActorCritic(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float64, a.ObsLen)
	for i := range obs {
		obs[i] = float64(i)
	}
	ps := ac.Net.NewPass(2, Params{Value: make([]float64, ac.Net.NumParams())})
	ac.Feed.Fill(ps, 1, obs)
	// hand-computed from the layout: F=2, W=4, N=3, G=1
	assets := ps.Input(ac.Feed.assets)[3*8:]
	for i := range 3 * 8 {
		if assets[i] != float64(i) {
			t.Fatalf("assets[%d] = %v, want %d", i, assets[i], i)
		}
	}
	if g := ps.Input(ac.Feed.globals)[4:]; g[0] != 24 || g[3] != 27 {
		t.Errorf("globals = %v, want 24..27", g)
	}
	if w := ps.Input(ac.Feed.weights)[4:]; w[0] != 28 || w[3] != 31 {
		t.Errorf("weights = %v, want 28..31", w)
	}
	// vol feature 1 of asset i ends at (i·2+1)·4+3
	if v := ps.Input(ac.Feed.vol)[3:]; v[0] != 7 || v[1] != 15 || v[2] != 23 {
		t.Errorf("vol = %v, want [7 15 23]", v)
	}
}

// TestArchGradients checks every standard network end to end against
// central finite differences and against the gorgonia reference graph.
func TestArchGradients(t *testing.T) {
	type model struct {
		name string
		net  *Net
		fill func(ps Inputs, rng *rand.Rand)
	}
	const batch = 2
	for _, a := range allArchs(3) {
		var ms []model
		ac, err := NewActorCritic(a, -0.5)
		if err != nil {
			t.Fatal(err)
		}
		fillObs := func(feed *Feed, extra []Node) func(ps Inputs, rng *rand.Rand) {
			return func(ps Inputs, rng *rand.Rand) {
				for r := 0; r < batch; r++ {
					feed.Fill(ps, r, randObs(rng, &a))
				}
				for _, x := range extra {
					randFill(rng, ps.Input(x))
				}
			}
		}
		var acExtra []Node
		if ac.Action >= 0 {
			acExtra = append(acExtra, ac.Action)
		}
		ms = append(ms, model{"actorcritic", ac.Net, fillObs(ac.Feed, acExtra)})
		act, err := NewActor(a)
		if err != nil {
			t.Fatal(err)
		}
		var actExtra []Node
		if act.Action >= 0 {
			actExtra = append(actExtra, act.Action)
		}
		ms = append(ms, model{"actor", act.Net, fillObs(act.Feed, actExtra)})
		cr, err := NewCritic(a, true)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, model{"twincritic", cr.Net, fillObs(cr.Feed, append(append([]Node(nil), cr.Action...), cr.DecAct...))})
		for _, m := range ms {
			t.Run(archName(a)+"/"+m.name, func(t *testing.T) {
				rng := seed.New(6, seed.Test, 0)
				theta := make([]float64, m.net.NumParams())
				m.net.Layout().Init(theta, rng)
				for i := range theta {
					theta[i] += 0.3 * rng.NormFloat64() // move off the symmetric initial point
				}
				grad := make([]float64, len(theta))
				ggr := make([]float64, len(theta))
				ps := m.net.NewPass(batch, Params{theta, grad})
				gr, err := m.net.NewGraph(batch, Params{theta, ggr}, true)
				if err != nil {
					t.Fatal(err)
				}
				defer gr.Close()
				m.fill(ps, rng)
				for _, x := range m.net.Inputs() {
					copy(gr.Input(x), ps.Input(x))
				}
				r := map[Node][]float64{}
				for _, o := range m.net.Outputs() {
					r[o] = make([]float64, len(ps.Output(o)))
					randFill(rng, r[o])
					copy(gr.OutputGrad(o), r[o])
				}
				loss := func() float64 {
					ps.Forward()
					l := 0.0
					for o, ro := range r {
						for i, v := range ps.Output(o) {
							l += v * ro[i]
						}
					}
					return l
				}
				loss()
				for o, ro := range r {
					copy(ps.OutputGrad(o), ro)
				}
				ps.Backward()
				if err := gr.Run(); err != nil {
					t.Fatal(err)
				}
				for _, o := range m.net.Outputs() {
					for i, v := range gr.Output(o) {
						if !scalar.EqualWithinAbsOrRel(ps.Output(o)[i], v, tolParity, tolParity) {
							t.Fatalf("output %s[%d]: native %v, gorgonia %v", m.net.Name(o), i, ps.Output(o)[i], v)
						}
					}
				}
				want := fd.Gradient(nil, func(th []float64) float64 {
					copy(theta, th)
					return loss()
				}, append([]float64(nil), theta...), &fd.Settings{Formula: fd.Central, Step: fdStep})
				for _, s := range m.net.Layout().Segments {
					if s.Name == "logstd" {
						continue
					}
					for i := range s.View(want) {
						g, w, gg := s.View(grad)[i], s.View(want)[i], s.View(ggr)[i]
						if !scalar.EqualWithinAbsOrRel(g, w, tolFD, tolFD) {
							t.Errorf("%s[%d]: backward %v, finite differences %v", s.Name, i, g, w)
						}
						if !scalar.EqualWithinAbsOrRel(g, gg, tolGradParity, tolGradParity) {
							t.Errorf("%s[%d]: native %v, gorgonia %v", s.Name, i, g, gg)
						}
					}
				}
			})
		}
	}
}

func TestArchValidate(t *testing.T) {
	good := testArch(TrunkAssets, EmbeddingDynamic, true, 3)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(a *Arch)
	}{
		{"trunk", func(a *Arch) { a.Trunk = "cnn" }},
		{"embedding", func(a *Arch) { a.Embedding = "static" }},
		{"latent", func(a *Arch) { a.Latent = 0 }},
		{"vol feature", func(a *Arch) { a.VolFeatures = []int{2} }},
		{"no vol feature", func(a *Arch) { a.VolFeatures = nil }},
		{"return feature", func(a *Arch) { a.ReturnFeature = 5 }},
		{"width", func(a *Arch) { a.Hidden = []int{0} }},
		{"activation", func(a *Arch) { a.Activation = Linear }},
		{"layout", func(a *Arch) { a.ObsLen = 10 }},
		{"init", func(a *Arch) { a.Init = "glorot" }},
	}
	for _, tc := range tests {
		a := testArch(TrunkAssets, EmbeddingDynamic, true, 3)
		tc.mod(&a)
		if err := a.Validate(); err == nil {
			t.Errorf("%s: invalid arch accepted", tc.name)
		}
	}
	_ = math.Pi
}
