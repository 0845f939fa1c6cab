package baseline

import (
	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/optim"
)

// ons is the online Newton step of Agarwal, Hazan, Kale and Schapire
// (2006, "Algorithms for portfolio management based on the Newton
// method", ICML), with parameters η, β, δ. With the played portfolio b and
// the period's relatives x:
//
//	∇ = x/(b·x),  A ← A + ∇∇ᵀ (A₀ = I),  g ← g + ∇,
//	p̃ = Π_A(δ(1 + 1/β) A⁻¹ g),  b ← (1 − η)p̃ + η/N,
//
// where Π_A(y) = argmin_{p ∈ Δ} (p − y)ᵀA(p − y) is the projection onto the
// simplex in the norm of A. Expanding the square, Π_A(y) minimises
// ½pᵀAp − (Ay)ᵀp and Ay = δ(1 + 1/β)g, so the projection is the QP
//
//	minimise ½pᵀAp − δ(1 + 1/β)gᵀp  subject to 1ᵀp = 1, p ≥ 0,
//
// solved exactly by optim's dual active-set method without forming A⁻¹.
type ons struct {
	eta, beta, delta float64

	n     int
	a     *mat.SymDense // A
	g     []float64     // Σ∇
	grad  []float64
	q     []float64
	qp    optim.QP
	sol   optim.Solution
	solve optim.QPSolver
}

func (o *ons) start(n int) {
	if o.n != n || o.a == nil {
		o.n = n
		o.a = mat.NewSymDense(n, nil)
		ones := make([]float64, n)
		for i := range ones {
			ones[i] = 1
		}
		o.qp = optim.QP{
			P:     o.a,
			A:     mat.NewDense(1, n, ones),
			B:     []float64{1},
			Lower: make([]float64, n),
		}
		o.g = make([]float64, n)
		o.grad = make([]float64, n)
		o.q = make([]float64, n)
		o.qp.Q = o.q
	}
	for i := range n {
		for j := i; j < n; j++ {
			v := 0.0
			if i == j {
				v = 1
			}
			o.a.SetSym(i, j, v)
		}
	}
	clear(o.g)
}

func (o *ons) update(b, x []float64, _ *clock, g int, s *step) {
	bx := dot(b, x)
	for i := range o.grad {
		o.grad[i] = x[i] / bx
		o.g[i] += o.grad[i]
	}
	raw := o.a.RawSymmetric()
	for i := range o.n {
		gi := o.grad[i]
		row := raw.Data[i*raw.Stride : i*raw.Stride+o.n]
		for j := i; j < o.n; j++ {
			row[j] += gi * o.grad[j]
		}
	}
	c := o.delta * (1 + 1/o.beta)
	for i := range o.q {
		o.q[i] = -c * o.g[i]
	}
	if err := o.solve.Solve(&o.sol, &o.qp); err != nil {
		s.fallback("ons projection failed → previous portfolio", "ons: A-norm projection at bar %d: %v; keeping the previous portfolio", g, err)
		return
	}
	u := o.eta / float64(o.n)
	sum := 0.0
	for i := range b {
		b[i] = max(0, (1-o.eta)*o.sol.X[i]+u)
		sum += b[i]
	}
	for i := range b {
		b[i] /= sum
	}
}
