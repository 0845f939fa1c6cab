package nets

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/folio-rl/folio/internal/seed"
)

// TestAdamMatchesGorgonia runs gorgonia's AdamSolver and nets.Adam side by
// side for several steps on an MLP trained by gorgonia and compares the
// weights after every step. Both perform the same float64 operations in
// the same order, so the tolerance is 1e-12 relative (they are in fact
// bit-identical on amd64; the margin covers fused multiply-adds elsewhere).
func TestAdamMatchesGorgonia(t *testing.T) {
	const tol = 1e-12
	rng := seed.New(3, seed.Test, 0)
	g := G.NewGraph()
	mk := func(name string, r, c int, v []float64) *G.Node {
		return G.NewMatrix(g, tensor.Float64, G.WithShape(r, c), G.WithName(name),
			G.WithValue(tensor.New(tensor.WithShape(r, c), tensor.WithBacking(v))))
	}
	xv := make([]float64, 8*5)
	w1v := make([]float64, 5*6)
	w2v := make([]float64, 6*2)
	yv := make([]float64, 8*2)
	randFill(rng, xv, w1v, w2v, yv)
	x, y := mk("x", 8, 5, xv), mk("y", 8, 2, yv)
	w1, w2 := mk("w1", 5, 6, w1v), mk("w2", 6, 2, w2v)
	pred := G.Must(G.Mul(G.Must(G.Tanh(G.Must(G.Mul(x, w1)))), w2))
	loss := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(pred, y))))))
	if _, err := G.Grad(loss, w1, w2); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g, G.BindDualValues(w1, w2))
	defer m.Close()
	const lr = 0.05
	solver := G.NewAdamSolver(G.WithLearnRate(lr), G.WithEps(1e-5))

	theta := append(append([]float64(nil), w1v...), w2v...)
	grad := make([]float64, len(theta))
	adam := NewAdam(len(theta), 0.9, 0.999, 1e-5)
	for step := 1; step <= 6; step++ {
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		gw1, _ := w1.Grad()
		gw2, _ := w2.Grad()
		copy(grad, gw1.Data().([]float64))
		copy(grad[len(w1v):], gw2.Data().([]float64))
		if err := solver.Step(G.NodesToValueGrads(G.Nodes{w1, w2})); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		adam.Update(theta, grad, lr)
		want := append(append([]float64(nil), w1.Value().Data().([]float64)...), w2.Value().Data().([]float64)...)
		for i := range want {
			if !scalar.EqualWithinAbsOrRel(theta[i], want[i], tol, tol) {
				t.Fatalf("step %d, θ[%d]: nets.Adam %v, gorgonia %v", step, i, theta[i], want[i])
			}
		}
	}
	if adam.Step != 6 {
		t.Errorf("Step = %d, want 6", adam.Step)
	}
}

// TestEffectiveLearningRate checks the whole path (mean loss through a
// Pass's backward, then Adam) on L(w) = mean_i ½(w·xᵢ − c)² over a batch
// of identical rows xᵢ = 1: the gradient must be the closed form w − c
// (a double 1/n scaling, pitfall 10, would give (w−c)/n), and each Adam
// step with a gradient of constant sign moves w by lr·|g|/(|g|+ε) exactly,
// since m̂ = g and v̂ = g² for a constant gradient.
func TestEffectiveLearningRate(t *testing.T) {
	const batch, c, lr, eps = 16, 3.0, 0.01, 1e-8
	b := NewBuilder()
	x := b.Input("x", 1, 1, false)
	y := b.Dense("lin", x, 1, Linear, Const(0))
	b.Output("y", y)
	net, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	theta := []float64{0.5, 0} // W, b
	grad := make([]float64, 2)
	ps := net.NewPass(batch, Params{theta, grad})
	for i := range ps.Input(x) {
		ps.Input(x)[i] = 1
	}
	adam := NewAdam(2, 0.9, 0.999, eps)
	var hist []float64
	for step := 0; step < 5; step++ {
		w0 := theta[0]
		ps.Forward()
		for i, v := range ps.Output(y) {
			ps.OutputGrad(y)[i] = (v - c) / batch // d/dy of the mean of ½(y−c)²
		}
		clear(grad)
		ps.Backward()
		if want := w0 + theta[1] - c; !scalar.EqualWithinAbsOrRel(grad[0], want, 1e-14, 1e-14) {
			t.Fatalf("step %d: dL/dW = %v, want %v (closed form)", step, grad[0], want)
		}
		// Step only W (bias frozen) so that the gradient stays the closed form.
		grad[1] = 0
		adam.Update(theta, grad, lr)
		// Expected step from the closed forms mₜ = (1−β₁)Σₖ β₁^{t−k} gₖ and
		// vₜ = (1−β₂)Σₖ β₂^{t−k} gₖ² over the gradient history (an
		// independent computation of Adam's recursion). On the first step
		// it is lr·|g|/(|g|+ε), i.e. the effective learning rate is lr.
		hist = append(hist, grad[0])
		var mt, vt float64
		for k, gk := range hist {
			age := float64(len(hist) - 1 - k)
			mt += 0.1 * math.Pow(0.9, age) * gk
			vt += 0.001 * math.Pow(0.999, age) * gk * gk
		}
		tt := float64(len(hist))
		want := lr * (mt / (1 - math.Pow(0.9, tt))) / (math.Sqrt(vt/(1-math.Pow(0.999, tt))) + eps)
		if step == 0 {
			if g0 := grad[0]; !scalar.EqualWithinRel(want, lr*g0/(math.Abs(g0)+eps), 1e-14) {
				t.Fatalf("closed form of the first step %v, want %v", want, lr*g0/(math.Abs(g0)+eps))
			}
		}
		const tol = 1e-12 // a handful of roundings on O(1) quantities
		if got := w0 - theta[0]; !scalar.EqualWithinRel(got, want, tol) {
			t.Fatalf("step %d: Δw = %v, want %v", step, got, want)
		}
	}
}

// TestAdamConstantGradient: with a constant gradient, m̂ = g and v̂ = g²
// after every step, so each step moves θ by exactly −lr·g/(|g|+ε).
func TestAdamConstantGradient(t *testing.T) {
	const lr, eps = 3e-4, 1e-5
	g := []float64{2, -0.5, 1e-3, 0}
	theta := make([]float64, len(g))
	adam := NewAdam(len(g), 0.9, 0.999, eps)
	for k := 1; k <= 10; k++ {
		adam.Update(theta, g, lr)
		for i, gi := range g {
			want := -float64(k) * lr * gi / (math.Abs(gi) + eps)
			if !scalar.EqualWithinAbsOrRel(theta[i], want, 1e-15, 1e-12) {
				t.Fatalf("step %d θ[%d] = %v, want %v", k, i, theta[i], want)
			}
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	tests := []struct {
		name     string
		g        []float64
		max      float64
		wantNorm float64
		want     []float64 // hand-computed: g·max/(norm+1e-6) when norm > max
	}{
		{"below", []float64{0.3, 0.4}, 1, 0.5, []float64{0.3, 0.4}},
		{"above", []float64{3, 4}, 0.5, 5, []float64{3 * 0.5 / (5 + 1e-6), 4 * 0.5 / (5 + 1e-6)}},
		{"disabled", []float64{3, 4}, 0, 5, []float64{3, 4}},
		{"huge", []float64{3e200, 4e200}, 1, 5e200, []float64{3e200 / 5e200, 4e200 / 5e200}},
		{"tiny", []float64{3e-200, 4e-200}, 1, 5e-200, []float64{3e-200, 4e-200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := append([]float64(nil), tc.g...)
			n := ClipGradNorm(g, tc.max)
			if !scalar.EqualWithinRel(n, tc.wantNorm, 1e-15) {
				t.Errorf("norm = %v, want %v", n, tc.wantNorm)
			}
			for i := range g {
				if !scalar.EqualWithinRel(g[i], tc.want[i], 1e-15) {
					t.Errorf("g[%d] = %v, want %v", i, g[i], tc.want[i])
				}
			}
		})
	}
	if n := ClipGradNorm([]float64{1, math.NaN()}, 1); !math.IsNaN(n) {
		t.Errorf("NaN gradient: norm %v, want NaN", n)
	}
}

func TestAdamAllocs(t *testing.T) {
	theta := make([]float64, 1000)
	g := make([]float64, 1000)
	adam := NewAdam(1000, 0.9, 0.999, 1e-5)
	if a := testing.AllocsPerRun(10, func() { adam.Update(theta, g, 1e-3); ClipGradNorm(g, 0.5) }); a != 0 {
		t.Errorf("allocations per step = %v, want 0", a)
	}
}

// TestAdamScaledAndSplit: folding the clip factor into the step, and
// applying a step in two ranges on two goroutines, give the same bits as
// clipping first and updating in one piece.
func TestAdamScaledAndSplit(t *testing.T) {
	rng := seed.New(4, seed.Test, 0)
	n := 1001
	g := make([]float64, n)
	th1 := make([]float64, n)
	randFill(rng, g, th1)
	th2 := append([]float64(nil), th1...)
	a1, a2 := NewAdam(n, 0.9, 0.999, 1e-5), NewAdam(n, 0.9, 0.999, 1e-5)
	r := NewRunner()
	defer r.Close()
	for step := 0; step < 3; step++ {
		gc := append([]float64(nil), g...)
		norm := ClipGradNorm(gc, 0.5)
		a1.Update(th1, gc, 1e-3)
		s := a2.Begin(1e-3, 0.5/(norm+1e-6))
		r.Run(&splitAdam{s: &s, theta: th2, grad: g, mid: 500})
	}
	for i := range th1 {
		if math.Float64bits(th1[i]) != math.Float64bits(th2[i]) {
			t.Fatalf("θ[%d]: %v (clip then update) vs %v (scaled, split)", i, th1[i], th2[i])
		}
	}
}

type splitAdam struct {
	s           *AdamStep
	theta, grad []float64
	mid         int
}

func (t *splitAdam) Run(part int) {
	if part == 0 {
		t.s.Apply(t.theta, t.grad, 0, t.mid)
	} else {
		t.s.Apply(t.theta, t.grad, t.mid, len(t.theta))
	}
}
