package nets

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/seed"
)

// Tolerances of the float32 path against the float64 one, as norm-wise
// relative errors ‖x₃₂ − x₆₄‖/‖x₆₄‖ per output and per parameter tensor
// (element-wise relative errors are meaningless where a gradient element
// is a cancelling sum near zero). Each float32 product, activation and
// sum rounds with unit u = 2⁻²⁴ ≈ 6e-8; the errors of a few layers of
// sums over ≤ 322 terms (bench task v1's widest) and batches of ≤ 256
// grow like √(terms)·u per layer, so the measured worst cases are 1e-7 to
// 2e-6 (logged by the tests); 1e-5 leaves a margin of 5 while any wrong
// term (a missing bias, a transposed weight) is off by O(1).
const tol32 = 1e-5

// relErr returns ‖a − b‖/‖b‖ (‖a‖ if b is zero).
func relErr(a, b []float64) float64 {
	var d, n float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		n += b[i] * b[i]
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}

// twin32 returns float32 parameters and the same values widened to
// float64, from a float64 initialisation moved off its symmetric point.
func twin32(net *Net, rng *rand.Rand, jitter float64) (p64 []float64, p32 []float32) {
	p64 = make([]float64, net.NumParams())
	net.Layout().Init(p64, rng)
	p32 = make([]float32, len(p64))
	for i := range p64 {
		p32[i] = float32(p64[i] + jitter*rng.NormFloat64())
		p64[i] = float64(p32[i])
	}
	return p64, p32
}

// compare32 runs the same forward and backward pass through a float64
// Pass and a float32 engine from identical (float32-representable)
// parameters, inputs and output gradients, and checks outputs, parameter
// gradients and input gradients against tol32. fill writes the inputs of
// batch rows through an Inputs.
func compare32(t *testing.T, net *Net, batch int, rng *rand.Rand, fill func(Inputs)) (worst float64) {
	t.Helper()
	p64, p32 := twin32(net, rng, 0.1)
	g64, g32 := make([]float64, len(p64)), make([]float32, len(p32))
	ps := net.NewPass(batch, Params{p64, g64})
	e, err := NewEngineOf(BackendNative, net, batch, Params32{p32, g32}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fill(e)
	for _, x := range net.Inputs() {
		in := e.Input(x)
		for i := range in {
			in[i] = float64(float32(in[i])) // what the float32 engine sees
		}
		copy(ps.Input(x), in)
	}
	ps.Forward()
	if err := e.Forward(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want []float64) {
		t.Helper()
		r := relErr(got, want)
		worst = max(worst, r)
		if !(r <= tol32) {
			t.Fatalf("%s: relative error %.3g of float32 against float64", what, r)
		}
	}
	for _, o := range net.Outputs() {
		check("output "+net.Name(o), e.Output(o), ps.Output(o))
	}
	for _, o := range net.Outputs() {
		randFill(rng, ps.OutputGrad(o))
		for i, v := range ps.OutputGrad(o) {
			ps.OutputGrad(o)[i] = float64(float32(v))
		}
		copy(e.OutputGrad(o), ps.OutputGrad(o))
	}
	ps.Backward()
	if err := e.Backward(); err != nil {
		t.Fatal(err)
	}
	w32 := make([]float64, len(g32))
	for i, v := range g32 {
		w32[i] = float64(v)
	}
	for _, s := range net.Layout().Segments {
		if s.Name == "logstd" {
			continue // a free parameter: no gradient from the net
		}
		check("dθ "+s.Name, s.View(w32), s.View(g64))
	}
	for _, x := range net.Inputs() {
		if net.nodes[x].needGrad {
			check("d input "+net.Name(x), e.InputGrad(x), ps.InputGrad(x))
		}
	}
	return worst
}

// TestFloat32MatchesFloat64 compares the float32 engine with the float64
// Pass (itself checked against finite differences and gorgonia) on every
// operation (kitchenSink with each activation), every standard
// architecture (PPO's actor-critic, DDPG's actor and twin critic, flat
// and assets trunks, with and without the dynamic embedding and the
// volatility-timing gate) and bench task v1's sizes: forward outputs,
// parameter gradients and input gradients to tol32.
func TestFloat32MatchesFloat64(t *testing.T) {
	rng := seed.New(31, seed.Test, 0)
	worst := 0.0
	for _, act := range []Act{Tanh, ReLU, Sigmoid, Linear} {
		net, h := kitchenSink(t, act)
		worst = max(worst, compare32(t, net, 3, rng, func(e Inputs) {
			randFill(rng, e.Input(h["x"]), e.Input(h["g"]), e.Input(h["a"]))
		}))
	}
	const batch = 4
	for _, a := range allArchs(3) {
		ac, err := NewActorCritic(a, -0.5)
		if err != nil {
			t.Fatal(err)
		}
		act, err := NewActor(a)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := NewCritic(a, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			net   *Net
			feed  *Feed
			extra []Node
		}{
			{ac.Net, ac.Feed, []Node{ac.Action}},
			{act.Net, act.Feed, []Node{act.Action}},
			{cr.Net, cr.Feed, append(append([]Node(nil), cr.Action...), cr.DecAct...)},
		} {
			worst = max(worst, compare32(t, m.net, batch, rng, func(e Inputs) {
				for r := 0; r < batch; r++ {
					m.feed.Fill(e, r, randObs(rng, &a))
				}
				for _, x := range m.extra {
					if x >= 0 {
						randFill(rng, e.Input(x))
					}
				}
			}))
		}
	}
	// bench task v1: PPO's 64-64 tanh actor-critic on minibatches of 64,
	// DDPG's 256-256 ReLU actor and critic on batches of 256.
	ba := benchArch()
	ac, err := NewActorCritic(ba, 0)
	if err != nil {
		t.Fatal(err)
	}
	obs := func(e Inputs, feed *Feed, batch int, extra []Node) {
		for r := 0; r < batch; r++ {
			o := make([]float64, ba.ObsLen)
			for i := range o {
				o[i] = 0.02 * rng.NormFloat64()
			}
			feed.Fill(e, r, o)
		}
		for _, x := range extra {
			randFill(rng, e.Input(x))
		}
	}
	worst = max(worst, compare32(t, ac.Net, 64, rng, func(e Inputs) { obs(e, ac.Feed, 64, nil) }))
	ba.Hidden, ba.Activation, ba.Init = []int{256, 256}, ReLU, "uniform"
	actor, err := NewActor(ba)
	if err != nil {
		t.Fatal(err)
	}
	critic, err := NewCritic(ba, false)
	if err != nil {
		t.Fatal(err)
	}
	worst = max(worst, compare32(t, actor.Net, 256, rng, func(e Inputs) { obs(e, actor.Feed, 256, nil) }))
	worst = max(worst, compare32(t, critic.Net, 256, rng, func(e Inputs) { obs(e, critic.Feed, 256, critic.Action) }))
	t.Logf("worst norm-wise relative error of float32 against float64: %.3g", worst)
}

// TestFloat32GradientFD checks the float32 backward pass against central
// finite differences of the float32 forward pass itself (independently of
// the float64 path) on every operation: L = Σ out ⊙ r accumulated in
// float64. With steps of about 2⁻⁷, float32 rounding of L (≈ 1e-7
// relative) contributes ≈ 1e-5 and truncation h²·f”' ≈ 1e-4, so 2e-3
// absolute-or-relative separates them from a wrong term (≥ 1e-2).
// Steps are the exact float32 differences θ±h − θ.
func TestFloat32GradientFD(t *testing.T) {
	const h, tol = 0x1p-7, 2e-3
	for _, act := range []Act{Tanh, ReLU, Sigmoid, Linear} {
		t.Run(act.String(), func(t *testing.T) {
			net, nodes := kitchenSink(t, act)
			rng := seed.New(32, seed.Test, uint64(act))
			_, p32 := twin32(net, rng, 0.1)
			g32 := make([]float32, len(p32))
			ps := net.NewPass32(2, Params32{p32, g32})
			for _, x := range []Node{nodes["x"], nodes["g"], nodes["a"]} {
				for i := range ps.Input(x) {
					ps.Input(x)[i] = float32(rng.NormFloat64())
				}
			}
			r := map[Node][]float64{}
			for _, o := range net.Outputs() {
				r[o] = make([]float64, len(ps.Output(o)))
				randFill(rng, r[o])
			}
			loss := func() float64 {
				ps.Forward()
				l := 0.0
				for o, ro := range r {
					for i, v := range ps.Output(o) {
						l += float64(v) * ro[i]
					}
				}
				return l
			}
			loss()
			for o, ro := range r {
				for i, v := range ro {
					ps.OutputGrad(o)[i] = float32(v)
				}
			}
			ps.Backward()
			got := append([]float32(nil), g32...)
			checked := 0
			for _, s := range net.Layout().Segments {
				if s.Name == "logstd" {
					continue
				}
				v := view(s, p32)
				for i := range v {
					x0 := v[i]
					up, dn := x0+h, x0-h
					v[i] = up
					lu := loss()
					v[i] = dn
					ld := loss()
					v[i] = x0
					want := (lu - ld) / (float64(up) - float64(dn))
					if g := float64(view(s, got)[i]); !scalar.EqualWithinAbsOrRel(g, want, tol, tol) {
						t.Errorf("%s[%d]: float32 backward %v, finite differences %v", s.Name, i, g, want)
					}
					checked++
				}
			}
			if checked < 50 {
				t.Fatalf("only %d parameters checked", checked)
			}
		})
	}
}

// TestFloat32ParallelBitIdentical: with a shared Runner, the float32
// executor gives the same bits as serially, both when it runs towers
// concurrently (PPO's actor-critic) and when it splits the products of a
// single tower by columns (DDPG's 256-wide critic), without allocating.
func TestFloat32ParallelBitIdentical(t *testing.T) {
	r := NewRunner()
	defer r.Close()
	ba := benchArch()
	ac, err := NewActorCritic(ba, 0)
	if err != nil {
		t.Fatal(err)
	}
	ba.Hidden, ba.Activation, ba.Init = []int{256, 256}, ReLU, "uniform"
	cr, err := NewCritic(ba, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name  string
		net   *Net
		batch int
	}{{"towers", ac.Net, 64}, {"split", cr.Net, 256}} {
		_, p32 := twin32(m.net, seed.New(33, seed.Init, 0), 0.05)
		var outs, grads [2][]float32
		for k, run := range []*Runner{nil, r} {
			grads[k] = make([]float32, len(p32))
			ps := NewPassOf(m.net, m.batch, Params32{p32, grads[k]})
			ps.SetRunner(run)
			if ps.par != (run != nil && m.name == "towers") {
				t.Fatalf("%s: tower parallelism %v", m.name, ps.par)
			}
			rng := seed.New(33, seed.Test, 0)
			for _, x := range m.net.Inputs() {
				for i := range ps.Input(x) {
					ps.Input(x)[i] = float32(0.1 * rng.NormFloat64())
				}
			}
			ps.Forward()
			for _, o := range m.net.Outputs() {
				outs[k] = append(outs[k], ps.Output(o)...)
				for i := range ps.OutputGrad(o) {
					ps.OutputGrad(o)[i] = float32(rng.NormFloat64())
				}
			}
			ps.Backward()
			grads[k] = append([]float32(nil), grads[k]...) // before more passes accumulate
			if run != nil {
				if a := testing.AllocsPerRun(10, func() { ps.Forward(); ps.Backward() }); a != 0 {
					t.Errorf("%s: %v allocations per forward+backward, want 0", m.name, a)
				}
			}
			ps.Close()
		}
		for i := range outs[0] {
			if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) {
				t.Fatalf("%s: output %d: serial %v, parallel %v", m.name, i, outs[0][i], outs[1][i])
			}
		}
		for i := range grads[0] {
			if math.Float32bits(grads[0][i]) != math.Float32bits(grads[1][i]) {
				t.Fatalf("%s: grad %d: serial %v, parallel %v", m.name, i, grads[0][i], grads[1][i])
			}
		}
	}
}

// TestEngine32Allocs: a float32 engine's forward and backward passes,
// including the float64 views, allocate nothing.
func TestEngine32Allocs(t *testing.T) {
	r := NewRunner()
	defer r.Close()
	ac, err := NewActorCritic(benchArch(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, p32 := twin32(ac.Net, seed.New(34, seed.Init, 0), 0)
	e, err := NewEngineOf(BackendNative, ac.Net, 16, Params32{p32, make([]float32, len(p32))}, true, r)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	randFill(seed.New(34, seed.Test, 0), e.Input(ac.Feed.obs))
	if a := testing.AllocsPerRun(20, func() {
		e.Forward()
		e.ZeroOutputGrads()
		e.Backward()
		e.BackwardInputs()
	}); a != 0 {
		t.Errorf("%v allocations per forward+backward, want 0", a)
	}
}

// TestEngineOfErrors: gorgonia has no float32 graphs; precision is
// validated by Config.
func TestEngineOfErrors(t *testing.T) {
	ac, err := NewActorCritic(benchArch(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float32, ac.Net.NumParams())
	if _, err := NewEngineOf(BackendGorgonia, ac.Net, 2, Params32{Value: p}, false, nil); err == nil {
		t.Error("a float32 gorgonia engine was built")
	}
	c := Config{Trunk: TrunkFlat, Hidden: []int{4}, Activation: "tanh", Init: "orthogonal", Embedding: EmbeddingNone,
		Backend: BackendGorgonia, Precision: PrecisionFloat32}
	if err := c.Validate(); err == nil {
		t.Error("float32 with the gorgonia backend validated")
	}
	c.Backend = BackendNative
	if err := c.Validate(); err != nil || !c.Float32() {
		t.Errorf("float32 native: %v", err)
	}
	c.Precision = "float16"
	if err := c.Validate(); err == nil {
		t.Error("float16 validated")
	}
}

// TestAdam32ConstantGradient: with a constant gradient, m̂ = g and
// v̂ = g² after every step, so each step moves θ by −lr·g/(|g|+ε); in
// float32 each step is within a few roundings of that (k steps: k·4u
// relative to the distance moved, plus the rounding of θ).
func TestAdam32ConstantGradient(t *testing.T) {
	const lr, eps = 3e-4, 1e-5
	g := []float32{2, -0.5, 1e-3, 0}
	theta := make([]float32, len(g))
	adam := NewAdamOf[float32](len(g), 0.9, 0.999, eps)
	for k := 1; k <= 10; k++ {
		adam.Update(theta, g, lr)
		for i, gi := range g {
			want := -float64(k) * lr * float64(gi) / (math.Abs(float64(gi)) + eps)
			if tol := float64(k) * 8 * 0x1p-24 * math.Abs(want); math.Abs(float64(theta[i])-want) > tol {
				t.Fatalf("step %d θ[%d] = %v, want %v", k, i, theta[i], want)
			}
		}
	}
	if adam.Step != 10 {
		t.Errorf("step count %d", adam.Step)
	}
}

// TestGradNorm32: the float32 norm is accumulated in float64, so it equals
// the float64 norm of the widened vector to a few float64 ulps; Clip and
// SoftUpdate act in float32.
func TestGradNorm32(t *testing.T) {
	rng := seed.New(35, seed.Test, 0)
	g32 := make([]float32, 1001)
	g64 := make([]float64, len(g32))
	for i := range g32 {
		g32[i] = float32(rng.NormFloat64())
		g64[i] = float64(g32[i])
	}
	if a, b := GradNorm(g32), GradNorm(g64); !scalar.EqualWithinRel(a, b, 1e-13) {
		t.Errorf("GradNorm float32 %v, float64 %v", a, b)
	}
	norm := ClipGradNorm(g32, 0.5)
	if after := GradNorm(g32); math.Abs(after-0.5*norm/(norm+1e-6)) > 1e-6 {
		t.Errorf("clipped norm %v, want 0.5", after)
	}
	target, online := []float32{1, 2}, []float32{3, -2}
	SoftUpdate(target, online, 0.25) // hand-computed: [1.5, 1], exact in float32
	if target[0] != 1.5 || target[1] != 1 {
		t.Errorf("soft update = %v, want [1.5 1]", target)
	}
}
