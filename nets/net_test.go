package nets

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/seed"
)

// Tolerances.
const (
	// Native and gorgonia forward passes run the same float64 operations
	// (gonum's Dgemm in both) up to the order of a few additions, so they
	// agree to within a few ulps of the largest partial sums.
	tolParity = 1e-12
	// Gradients: gorgonia's symbolic backward pass orders its sums
	// differently from the hand-written one (e.g. bias gradients summed
	// over the batch); values are O(1) sums of O(100) terms, so a few
	// ulps times 100 stays far below 1e-12 too.
	tolGradParity = 1e-12
	// Central differences with step h = 1e-6 on O(1) functions: truncation
	// error O(h²·f''') ≈ 1e-12 and rounding error O(ε·|f|/h) ≈ 1e-10, so
	// 1e-7 absolute-or-relative leaves two orders of margin while still
	// catching any wrong term (those are O(1e-2) or larger).
	tolFD  = 1e-7
	fdStep = 1e-6
)

// kitchenSink builds a net using every operation, with a second
// independent tower, a differentiated input and free parameters.
func kitchenSink(t testing.TB, act Act) (*Net, map[string]Node) {
	t.Helper()
	const n = 3
	b := NewBuilder()
	x := b.Input("x", n, 4, false)
	g := b.Input("g", 1, 2, false)
	a := b.Input("a", 1, n+1, true)
	e := b.Dense("enc", x, 5, act, Ortho(math.Sqrt2))
	m1 := b.PoolMean("mean", e, n)
	m2 := b.PoolMax("max", e, n)
	gm := b.Dense("glob", g, 3, ReLU, Uniform())
	mk := b.Concat("market", m1, m2, gm)
	h := b.Dense("h", mk, 4, Sigmoid, Ortho(1))
	hb := b.Broadcast("hb", h, n)
	ar := b.Reshape("ar", b.Slice("arisky", a, 1, n), n, 1)
	c := b.Concat("ctx", e, hb, ar)
	s := b.Dense("score", c, 1, Linear, Ortho(0.5))
	scores := b.Reshape("scores", s, 1, n)
	cash := b.Dense("cash", b.Concat("cashin", h, b.Slice("acash", a, 0, 1)), 1, Tanh, Ortho(1))
	v := b.Dense("v2", b.Dense("v1", g, 4, Tanh, Ortho(math.Sqrt2)), 1, Linear, Ortho(1))
	b.Param("logstd", 1, n+1, Const(-0.5))
	b.Output("scores", scores)
	b.Output("cash", cash)
	b.Output("v", v)
	b.Output("e", e)       // an output that is also consumed downstream
	b.Output("market", mk) // keeps a concatenation alive (Dense reads concatenations directly)
	net, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return net, map[string]Node{"x": x, "g": g, "a": a, "scores": scores, "cash": cash, "v": v, "e": e}
}

func randFill(rng *rand.Rand, xs ...[]float64) {
	for _, x := range xs {
		for i := range x {
			x[i] = rng.NormFloat64()
		}
	}
}

func TestComponents(t *testing.T) {
	net, _ := kitchenSink(t, Tanh)
	if got := net.Components(); got != 2 {
		t.Fatalf("components = %d, want 2 (main tower and the independent v tower)\n%s", got, net.Describe())
	}
}

// TestParityWithGorgonia checks the native pass against the gorgonia
// reference graph: forward values, parameter gradients and input
// gradients, for tanh and relu encoders and two batch sizes.
func TestParityWithGorgonia(t *testing.T) {
	for _, act := range []Act{Tanh, ReLU} {
		for _, batch := range []int{1, 5} {
			t.Run(act.String()+"/batch="+string(rune('0'+batch)), func(t *testing.T) {
				net, h := kitchenSink(t, act)
				rng := seed.New(1, seed.Test, uint64(batch))
				theta := make([]float64, net.NumParams())
				net.Layout().Init(theta, rng)
				gNative := make([]float64, len(theta))
				gGraph := make([]float64, len(theta))
				ps := net.NewPass(batch, Params{theta, gNative})
				gr, err := net.NewGraph(batch, Params{theta, gGraph}, true)
				if err != nil {
					t.Fatal(err)
				}
				defer gr.Close()
				for _, in := range []string{"x", "g", "a"} {
					randFill(rng, ps.Input(h[in]))
					copy(gr.Input(h[in]), ps.Input(h[in]))
				}
				for _, o := range net.Outputs() {
					randFill(rng, gr.OutputGrad(o))
					copy(ps.OutputGrad(o), gr.OutputGrad(o))
				}
				ps.Forward()
				ps.Backward()
				if err := gr.Run(); err != nil {
					t.Fatal(err)
				}
				for _, o := range net.Outputs() {
					want, got := gr.Output(o), ps.Output(o)
					for i := range want {
						if !scalar.EqualWithinAbsOrRel(got[i], want[i], tolParity, tolParity) {
							t.Fatalf("output %s[%d]: native %v, gorgonia %v", net.Name(o), i, got[i], want[i])
						}
					}
				}
				for _, s := range net.Layout().Segments {
					if s.Name == "logstd" {
						continue
					}
					want, got := s.View(gGraph), s.View(gNative)
					for i := range want {
						if !scalar.EqualWithinAbsOrRel(got[i], want[i], tolGradParity, tolGradParity) {
							t.Fatalf("grad %s[%d]: native %v, gorgonia %v", s.Name, i, got[i], want[i])
						}
					}
				}
				want, got := gr.InputGrad(h["a"]), ps.InputGrad(h["a"])
				for i := range want {
					if !scalar.EqualWithinAbsOrRel(got[i], want[i], tolGradParity, tolGradParity) {
						t.Fatalf("input grad a[%d]: native %v, gorgonia %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestGradientFD checks the native backward pass against central finite
// differences of L(θ, a) = Σ_outputs Σ out ⊙ r for fixed random r: every
// parameter and every element of the differentiated input.
func TestGradientFD(t *testing.T) {
	for _, act := range []Act{Tanh, ReLU, Sigmoid, Linear} {
		t.Run(act.String(), func(t *testing.T) {
			net, h := kitchenSink(t, act)
			const batch = 2
			rng := seed.New(2, seed.Test, uint64(act))
			theta := make([]float64, net.NumParams())
			net.Layout().Init(theta, rng)
			grad := make([]float64, len(theta))
			ps := net.NewPass(batch, Params{theta, grad})
			randFill(rng, ps.Input(h["x"]), ps.Input(h["g"]), ps.Input(h["a"]))
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
			aIn := ps.Input(h["a"])
			gotA := append([]float64(nil), ps.InputGrad(h["a"])...)

			// parameters (the free logstd has no gradient from the net)
			want := fd.Gradient(nil, func(th []float64) float64 {
				copy(theta, th)
				return loss()
			}, append([]float64(nil), theta...), &fd.Settings{Formula: fd.Central, Step: fdStep})
			for _, s := range net.Layout().Segments {
				w, g := s.View(want), s.View(grad)
				for i := range w {
					if !scalar.EqualWithinAbsOrRel(g[i], w[i], tolFD, tolFD) {
						t.Errorf("%s[%d]: backward %v, finite differences %v", s.Name, i, g[i], w[i])
					}
				}
			}
			a0 := append([]float64(nil), aIn...)
			wantA := fd.Gradient(nil, func(a []float64) float64 {
				copy(aIn, a)
				return loss()
			}, a0, &fd.Settings{Formula: fd.Central, Step: fdStep})
			for i := range wantA {
				if !scalar.EqualWithinAbsOrRel(gotA[i], wantA[i], tolFD, tolFD) {
					t.Errorf("input a[%d]: backward %v, finite differences %v", i, gotA[i], wantA[i])
				}
			}
		})
	}
}
