package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
)

// enumQP is the independent reference: it solves a small QP by trying every
// set of active inequalities and bounds (equalities always active) of size
// at most n − me, solving the KKT system
//
//	[P  −N] [x]   [−q]
//	[Nᵀ  0] [u] = [ b]
//
// for the normals N of that set (constraints written nᵀx ≥ b) with an LU
// factorisation, and keeping the solution that satisfies every constraint
// with non-negative inequality multipliers and the least objective. It
// shares no code with the solver. ok is false when no set qualifies, which
// for a positive definite P means the problem is infeasible. viol is the
// largest constraint violation of x and cond the condition number of its
// KKT system (how many digits the direct solve may lose).
func enumQP(p *QP) (x []float64, obj float64, ok bool) {
	x, obj, _, _, ok = enumQPCond(p)
	return x, obj, ok
}

func enumQPCond(p *QP) (x []float64, obj, viol, cond float64, ok bool) {
	n, me, mi := checkDims(p)
	type con struct {
		nrm []float64
		b   float64
	}
	var eqs, ineqs []con
	for k := range me {
		eqs = append(eqs, con{mat.Row(nil, k, p.A), p.B[k]})
	}
	for i := range mi {
		g := mat.Row(nil, i, p.G)
		for j := range g {
			g[j] = -g[j]
		}
		ineqs = append(ineqs, con{g, -p.H[i]})
	}
	for j := range n {
		if p.Lower != nil && !math.IsInf(p.Lower[j], -1) {
			e := make([]float64, n)
			e[j] = 1
			ineqs = append(ineqs, con{e, p.Lower[j]})
		}
		if p.Upper != nil && !math.IsInf(p.Upper[j], 1) {
			e := make([]float64, n)
			e[j] = -1
			ineqs = append(ineqs, con{e, -p.Upper[j]})
		}
	}
	const feasTol = 1e-9
	obj = math.Inf(1)
	m := len(ineqs)
	for mask := 0; mask < 1<<m; mask++ {
		act := append([]con(nil), eqs...)
		for i := range m {
			if mask&(1<<i) != 0 {
				act = append(act, ineqs[i])
			}
		}
		k := len(act)
		if k > n {
			continue
		}
		kkt := mat.NewDense(n+k, n+k, nil)
		rhs := mat.NewVecDense(n+k, nil)
		for i := range n {
			for j := range n {
				kkt.Set(i, j, p.P.At(i, j))
			}
			if p.Q != nil {
				rhs.SetVec(i, -p.Q[i])
			}
		}
		for c, a := range act {
			for j := range n {
				kkt.Set(j, n+c, -a.nrm[j])
				kkt.Set(n+c, j, a.nrm[j])
			}
			rhs.SetVec(n+c, a.b)
		}
		var lu mat.LU
		lu.Factorize(kkt)
		if lu.Cond() > 1e12 {
			continue
		}
		var sol mat.VecDense
		if err := lu.SolveVecTo(&sol, false, rhs); err != nil {
			continue
		}
		xs := sol.RawVector().Data[:n]
		valid := true
		for c := me; c < k; c++ {
			if sol.AtVec(n+c) < -feasTol {
				valid = false
			}
		}
		for _, a := range eqs {
			if math.Abs(dotPlain(a.nrm, xs)-a.b) > feasTol*(1+math.Abs(a.b)) {
				valid = false
			}
		}
		for _, a := range ineqs {
			if dotPlain(a.nrm, xs)-a.b < -feasTol*(1+math.Abs(a.b)) {
				valid = false
			}
		}
		if !valid {
			continue
		}
		if f := quadForm(p.P, p.Q, xs); f < obj {
			obj, x, ok, cond = f, append([]float64(nil), xs...), true, lu.Cond()
			viol = 0
			for _, a := range eqs {
				viol = math.Max(viol, math.Abs(dotPlain(a.nrm, xs)-a.b))
			}
			for _, a := range ineqs {
				viol = math.Max(viol, a.b-dotPlain(a.nrm, xs))
			}
		}
	}
	return x, obj, viol, cond, ok
}

func dotPlain(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// randQP draws a small random QP. When feasible is true the constraints
// are built around a random point x0 so the problem is feasible; otherwise
// the right-hand sides are random and the problem may be infeasible.
func randQP(rng *rand.Rand, feasible bool) *QP {
	n := 1 + rng.IntN(6)
	me := rng.IntN(min(n, 3))
	mi := rng.IntN(4)
	x0 := make([]float64, n)
	for i := range x0 {
		x0[i] = rng.NormFloat64()
	}
	p := &QP{P: randSPD(rng, n, n+1, 0.05), Q: make([]float64, n)}
	for i := range p.Q {
		p.Q[i] = 2 * rng.NormFloat64()
	}
	if me > 0 {
		a := mat.NewDense(me, n, nil)
		p.B = make([]float64, me)
		for k := range me {
			for j := range n {
				a.Set(k, j, rng.NormFloat64())
			}
			p.B[k] = dotPlain(a.RawRowView(k), x0)
			if !feasible {
				p.B[k] += rng.NormFloat64()
			}
		}
		p.A = a
	}
	if mi > 0 {
		g := mat.NewDense(mi, n, nil)
		p.H = make([]float64, mi)
		for i := range mi {
			for j := range n {
				g.Set(i, j, rng.NormFloat64())
			}
			slack := 0.0
			if rng.IntN(3) > 0 {
				slack = rng.Float64()
			}
			p.H[i] = dotPlain(g.RawRowView(i), x0) + slack
			if !feasible {
				p.H[i] = rng.NormFloat64()
			}
		}
		p.G = g
	}
	if rng.IntN(4) > 0 {
		p.Lower = make([]float64, n)
		p.Upper = make([]float64, n)
		for j := range n {
			p.Lower[j], p.Upper[j] = math.Inf(-1), math.Inf(1)
			if rng.IntN(2) == 0 {
				p.Lower[j] = x0[j] - rng.Float64()
			}
			if rng.IntN(2) == 0 {
				p.Upper[j] = x0[j] + rng.Float64()
			}
			if !feasible && rng.IntN(3) == 0 {
				p.Lower[j], p.Upper[j] = -rng.Float64(), rng.Float64()
			}
		}
	}
	return p
}

// TestQPAgainstEnumeration compares the solver with exhaustive active-set
// enumeration on random problems with n ≤ 6.
func TestQPAgainstEnumeration(t *testing.T) {
	// Both are direct methods in float64 on problems with cond(P) ≤ ~1e3
	// (eigenvalues of MMᵀ/(n+1) + 0.05I), but random constraints can be
	// nearly parallel, making the KKT system of the active set
	// ill-conditioned (multipliers up to ~1e5 were seen). So x may differ by
	// ~cond·ε·(1+|x|): allowed 1e-8 or 1e-13·cond relative, whichever is
	// larger. The objectives differ at first order by the multipliers
	// times the constraint residuals (∇f = Σλn at the optimum): allowed
	// 1e-10 relative plus ‖λ‖₁ times both points' violations.
	const tolX, tolObj = 1e-8, 1e-10
	rng := testrng.New(t, 1)
	var s QPSolver
	var sol Solution
	nInfeasible, nDrops := 0, 0
	for trial := range 400 {
		p := randQP(rng, trial%4 != 3)
		ref, refObj, refViol, cond, feasible := enumQPCond(p)
		err := s.Solve(&sol, p)
		if !feasible {
			nInfeasible++
			if !errors.Is(err, ErrInfeasible) || sol.Status != Infeasible {
				t.Fatalf("trial %d: enumeration finds no feasible point but solver returned %v (status %v, x %v)", trial, err, sol.Status, sol.X)
			}
			continue
		}
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if d := maxAbsDiff(sol.X, ref); d > math.Max(tolX, 1e-13*cond)*(1+maxAbs(ref)) {
			t.Fatalf("trial %d: x = %v, enumeration %v (diff %g, cond %g)", trial, sol.X, ref, d, cond)
		}
		lam := 0.0
		for _, m := range [][]float64{sol.Eq, sol.Ineq, sol.Lower, sol.Upper} {
			for _, v := range m {
				lam += math.Abs(v)
			}
		}
		if d := math.Abs(sol.Objective - refObj); d > tolObj*(1+math.Abs(refObj))+lam*(refViol+sol.KKT.Primal) {
			t.Fatalf("trial %d: objective %v, enumeration %v (‖λ‖₁ %g, violations %g, %g)", trial, sol.Objective, refObj, lam, refViol, sol.KKT.Primal)
		}
		// Residuals are rounding errors in products of multipliers and
		// primal values: scale the bound by their size (multipliers reach
		// ~1e3 when constraints are nearly parallel).
		scale := 1 + maxAbs(sol.X) + maxAbs(sol.Eq) + maxAbs(sol.Ineq) + maxAbs(sol.Lower) + maxAbs(sol.Upper)
		if k := sol.KKT.Max(); k > 1e-12*scale*scale {
			t.Fatalf("trial %d: KKT residuals %+v (scale %g)", trial, sol.KKT, scale)
		}
		if sol.Iter < len(sol.Active) {
			t.Fatalf("trial %d: %d iterations for %d active constraints", trial, sol.Iter, len(sol.Active))
		}
		if sol.Iter > len(sol.Active) {
			nDrops++ // some constraint was dropped on the way
		}
	}
	if nDrops < 5 { // about 38 expected
		t.Fatalf("only %d problems needed a drop; the drop path is not exercised", nDrops)
	}
	t.Logf("%d problems needed drops", nDrops)
	if nInfeasible < 5 { // about 26 expected
		t.Fatalf("only %d infeasible problems drawn; the infeasibility branch is not exercised", nInfeasible)
	}
	t.Logf("%d infeasible problems detected as such", nInfeasible)
}

// TestQPClosedForms checks problems whose solution is known in closed form.
func TestQPClosedForms(t *testing.T) {
	// Direct solves of well-conditioned systems: agreement to 1e-12 (a few
	// hundred ulps of values of order 1).
	const tol = 1e-12
	rng := testrng.New(t, 2)
	n := 5
	pm := randSPD(rng, n, n+2, 0.1)
	q := make([]float64, n)
	for i := range q {
		q[i] = rng.NormFloat64()
	}

	t.Run("unconstrained", func(t *testing.T) {
		// x = −P⁻¹q.
		var ch mat.Cholesky
		if !ch.Factorize(pm) {
			t.Fatal("P not PD")
		}
		var want mat.VecDense
		if err := ch.SolveVecTo(&want, mat.NewVecDense(n, q)); err != nil {
			t.Fatal(err)
		}
		want.ScaleVec(-1, &want)
		sol, err := SolveQP(&QP{P: pm, Q: q}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(sol.X, want.RawVector().Data); d > tol {
			t.Fatalf("x differs from −P⁻¹q by %g", d)
		}
		if sol.Iter != 0 || len(sol.Active) != 0 {
			t.Fatalf("iterations %d, active %v; want none", sol.Iter, sol.Active)
		}
	})

	t.Run("equality", func(t *testing.T) {
		// [P Aᵀ; A 0][x; ν] = [−q; b] solved by LU.
		me := 2
		a := mat.NewDense(me, n, nil)
		b := []float64{1, -0.5}
		for i := range me {
			for j := range n {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		kkt := mat.NewDense(n+me, n+me, nil)
		rhs := mat.NewVecDense(n+me, nil)
		for i := range n {
			for j := range n {
				kkt.Set(i, j, pm.At(i, j))
			}
			rhs.SetVec(i, -q[i])
		}
		for k := range me {
			for j := range n {
				kkt.Set(n+k, j, a.At(k, j))
				kkt.Set(j, n+k, a.At(k, j))
			}
			rhs.SetVec(n+k, b[k])
		}
		var want mat.VecDense
		if err := want.SolveVec(kkt, rhs); err != nil {
			t.Fatal(err)
		}
		sol, err := SolveQP(&QP{P: pm, Q: q, A: a, B: b}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(sol.X, want.RawVector().Data[:n]); d > tol {
			t.Fatalf("x differs from the KKT solve by %g", d)
		}
		if d := maxAbsDiff(sol.Eq, want.RawVector().Data[n:]); d > tol {
			t.Fatalf("ν differs from the KKT solve by %g: %v vs %v", d, sol.Eq, want.RawVector().Data[n:])
		}
	})

	t.Run("diagonal box", func(t *testing.T) {
		// Separable: xᵢ = clamp(−qᵢ/Pᵢᵢ, loᵢ, hiᵢ); multipliers are the
		// gradient components at the clamped bounds.
		d := mat.NewSymDense(n, nil)
		lo := []float64{-1, 0, math.Inf(-1), -0.2, 0.3}
		hi := []float64{1, 0.1, 0.5, math.Inf(1), 0.3}
		for i := range n {
			d.SetSym(i, i, 0.5+float64(i))
		}
		qq := []float64{3, 0.05, -2, 1, 0.7}
		sol, err := SolveQP(&QP{P: d, Q: qq, Lower: lo, Upper: hi}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			want := math.Max(lo[i], math.Min(hi[i], -qq[i]/d.At(i, i)))
			if math.Abs(sol.X[i]-want) > tol {
				t.Errorf("x[%d] = %v, want %v", i, sol.X[i], want)
			}
			g := d.At(i, i)*sol.X[i] + qq[i]
			if math.Abs(g-(sol.Lower[i]-sol.Upper[i])) > tol {
				t.Errorf("bound multipliers of x[%d]: lower %v upper %v, gradient %v", i, sol.Lower[i], sol.Upper[i], g)
			}
		}
	})

	t.Run("simplex projection", func(t *testing.T) {
		// Projection of v onto the probability simplex (P = I, q = −v):
		// xᵢ = max(vᵢ − θ, 0) with θ from the sort-based algorithm of
		// Held, Wolfe and Crowder (1974).
		v := []float64{0.9, -0.3, 0.4, 1.2, 0.05}
		want := projectSimplex(v)
		id := mat.NewSymDense(n, nil)
		for i := range n {
			id.SetSym(i, i, 1)
		}
		qq := make([]float64, n)
		for i := range v {
			qq[i] = -v[i]
		}
		sol, err := SolveQP(&QP{P: id, Q: qq, A: mat.NewDense(1, n, ones(n)), B: []float64{1}, Lower: make([]float64, n)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(sol.X, want); d > tol {
			t.Fatalf("x = %v, want %v", sol.X, want)
		}
	})
}

// projectSimplex is the sort-based Euclidean projection onto the simplex.
func projectSimplex(v []float64) []float64 {
	u := append([]float64(nil), v...)
	for i := 1; i < len(u); i++ { // insertion sort, descending
		for j := i; j > 0 && u[j] > u[j-1]; j-- {
			u[j], u[j-1] = u[j-1], u[j]
		}
	}
	css, theta := 0.0, 0.0
	for i, ui := range u {
		css += ui
		if t := (css - 1) / float64(i+1); ui-t > 0 {
			theta = t
		}
	}
	x := make([]float64, len(v))
	for i := range v {
		x[i] = math.Max(v[i]-theta, 0)
	}
	return x
}

func TestQPInfeasibleAndInvalid(t *testing.T) {
	n := 3
	id := mat.NewSymDense(n, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1})
	budget := mat.NewDense(1, n, ones(n))
	cases := []struct {
		name string
		p    *QP
		want error
	}{
		{"budget above caps", &QP{P: id, A: budget, B: []float64{2}, Lower: make([]float64, n), Upper: constant(n, 0.5)}, ErrInfeasible},
		{"contradictory inequalities", &QP{P: id, G: mat.NewDense(2, n, []float64{1, 0, 0, -1, 0, 0}), H: []float64{-1, -1}}, ErrInfeasible},
		{"inconsistent equalities", &QP{P: id, A: mat.NewDense(2, n, []float64{1, 1, 0, 2, 2, 0}), B: []float64{1, 3}}, ErrInfeasible},
		{"zero equality row", &QP{P: id, A: mat.NewDense(1, n, nil), B: []float64{1}}, ErrInfeasible},
		{"zero inequality row", &QP{P: id, G: mat.NewDense(1, n, nil), H: []float64{-1}}, ErrInfeasible},
		{"lower above upper", &QP{P: id, Lower: []float64{0, 1, 0}, Upper: []float64{1, 0.5, 1}}, ErrInvalid},
		{"NaN in q", &QP{P: id, Q: []float64{0, math.NaN(), 0}}, ErrInvalid},
		{"Inf in P", &QP{P: mat.NewSymDense(n, []float64{1, 0, 0, 0, math.Inf(1), 0, 0, 0, 1})}, ErrInvalid},
		{"indefinite P", &QP{P: mat.NewSymDense(n, []float64{1, 0, 0, 0, -1, 0, 0, 0, 1})}, ErrNotConvex},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sol, err := SolveQP(c.p, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if c.want == ErrInfeasible && sol.Status != Infeasible {
				t.Fatalf("status %v, want infeasible", sol.Status)
			}
		})
	}

	t.Run("dimension mismatch panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic for len(Q) ≠ n")
			}
		}()
		SolveQP(&QP{P: id, Q: []float64{1}}, nil)
	})

	t.Run("redundant equality", func(t *testing.T) {
		// The same budget row twice is consistent: the duplicate adds nothing.
		a := mat.NewDense(2, n, []float64{1, 1, 1, 2, 2, 2})
		sol, err := SolveQP(&QP{P: id, A: a, B: []float64{1, 2}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range sol.X {
			if math.Abs(x-1.0/3) > 1e-14 {
				t.Fatalf("x = %v, want 1/3 each", sol.X)
			}
		}
		if sol.KKT.Max() > 1e-14 {
			t.Fatalf("KKT %+v", sol.KKT)
		}
	})

	t.Run("iteration limit", func(t *testing.T) {
		p := &QP{P: id, A: budget, B: []float64{1}, Lower: make([]float64, n), Q: []float64{-1, 0, 1}}
		_, err := SolveQP(p, &Settings{MaxIter: 1})
		if !errors.Is(err, ErrIterationLimit) {
			t.Fatalf("error %v, want iteration limit", err)
		}
	})
}

// TestQPSingular checks the ridge and proximal iterations on positive
// semidefinite but singular P.
func TestQPSingular(t *testing.T) {
	t.Run("linear programme", func(t *testing.T) {
		// P = 0: minimise cᵀx over the capped simplex. The greedy solution
		// fills the cheapest coordinates up to the cap 0.4: x = (0.4 on c=-3,
		// 0.4 on c=-2, 0.2 on c=-1, 0, 0).
		n := 5
		c := []float64{-1, 2, -3, 0.5, -2}
		want := []float64{0.2, 0, 0.4, 0, 0.4}
		sol, err := SolveQP(&QP{P: mat.NewSymDense(n, nil), Q: c, A: mat.NewDense(1, n, ones(n)), B: []float64{1}, Lower: make([]float64, n), Upper: constant(n, 0.4)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sol.Ridge <= 0 || sol.Prox < 1 {
			t.Fatalf("ridge %v, prox %d: want a ridge reported", sol.Ridge, sol.Prox)
		}
		// The proximal fixed point is exact up to the stopping rule
		// ρ‖Δx‖ ≤ 1e-13·scale; 1e-9 on x is ample.
		if d := maxAbsDiff(sol.X, want); d > 1e-9 {
			t.Fatalf("x = %v, want %v", sol.X, want)
		}
		if sol.KKT.Max() > 1e-9 {
			t.Fatalf("KKT %+v", sol.KKT)
		}
	})

	t.Run("rank-deficient covariance", func(t *testing.T) {
		// Σ of rank 2 in dimension 5 (T < N): minimum variance over the
		// capped simplex, against enumeration. The minimiser need not be
		// unique, so only the objective is compared.
		rng := testrng.New(t, 3)
		for trial := range 20 {
			n := 5
			p := &QP{P: randSPD(rng, n, 2, 0), Q: make([]float64, n), A: mat.NewDense(1, n, ones(n)), B: []float64{1}, Lower: make([]float64, n), Upper: constant(n, 0.6)}
			for i := range p.Q {
				p.Q[i] = 0.1 * rng.NormFloat64()
			}
			_, refObj, ok := enumQP(p)
			if !ok {
				continue
			}
			sol, err := SolveQP(p, nil)
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if sol.Ridge <= 0 {
				t.Fatalf("trial %d: no ridge reported for a singular P", trial)
			}
			// Objective values are O(0.1); the proximal stopping rule bounds the
			// stationarity residual by 1e-13 of the scale.
			if !scalar.EqualWithinAbsOrRel(sol.Objective, refObj, 1e-10, 1e-9) {
				t.Fatalf("trial %d: objective %v, enumeration %v", trial, sol.Objective, refObj)
			}
			if sol.KKT.Max() > 1e-9 {
				t.Fatalf("trial %d: KKT %+v", trial, sol.KKT)
			}
		}
	})
}
