package optim

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// giWork is the workspace of the Goldfarb–Idnani solver. Constraints are
// numbered as in Solution.Active and written internally in the "≥" form
// nₖᵀx ≥ bₖ:
//
//	equality k:        n = σ·aₖ,  b = σ·bₖ  (σ = ±1 chosen when it is added)
//	inequality i:      n = −gᵢ,   b = −hᵢ
//	lower bound j:     n = eⱼ,    b = loⱼ
//	upper bound j:     n = −eⱼ,   b = −hiⱼ
//
// The slack of constraint k is sₖ = nₖᵀx − bₖ. Matrices are flat row-major.
type giWork struct {
	n, me, mi int

	tol      float64
	maxIter  int
	ridge    float64
	maxProx  int
	ridgeSet float64

	p      []float64 // P, n×n, both triangles
	q      []float64 // q
	qeff   []float64 // linear term of the current (proximal) subproblem
	a, b   []float64 // equalities, me×n and me
	g, h   []float64 // inequalities, mi×n and mi
	lo, hi []float64 // bounds, ±Inf when absent
	anorm  []float64 // row norms of A
	gnorm  []float64 // row norms of G

	l   []float64 // Cholesky factor of P (+ρI), lower triangle
	jt0 []float64 // L⁻¹, the starting Jᵀ
	jt  []float64 // Jᵀ: row k is column k of J, columns permuted by perm
	r   []float64 // R, upper triangular in the leading nact×nact block

	// Columns of jt are variables in the order perm (position → variable;
	// ipos is its inverse). Variables with an active bound sit in positions
	// nfree.. . Their entries in the rows of J₂ (jt rows nact..) are zero in
	// exact arithmetic, because J₂ᵀeⱼ = 0 for every active normal eⱼ, so the
	// O(n²) products with J₂ skip them: as bounds become active the work per
	// iteration falls from n·(n−nact) to about (n−nact)².
	perm, ipos []int
	nfree      int

	nact     int
	act      []int     // active constraint numbers, in R's column order
	u        []float64 // their multipliers
	sgn      []float64 // σ of active equalities (1 for inequalities)
	isActive []bool    // by constraint number
	eqState  []int8    // per equality: eqPending, eqActive, eqRedundant

	x, xprev, d, z, rv, v, wv, tmp, np, gx []float64
	iter                                   int
}

const (
	eqPending int8 = iota
	eqActive
	eqRedundant
)

func (w *giWork) setup(p *QP, n, me, mi int, set *Settings) {
	w.n, w.me, w.mi = n, me, mi
	w.tol = set.Tol
	if w.tol <= 0 {
		w.tol = 1e-12
	}
	w.maxIter = set.MaxIter
	if w.maxIter <= 0 {
		w.maxIter = 10*(3*n+me+mi) + 100
	}
	w.ridgeSet = set.Ridge
	w.maxProx = set.MaxProx
	if w.maxProx <= 0 {
		w.maxProx = 200
	}

	w.p = grow(w.p, n*n)
	copySym(w.p, p.P)
	w.q = grow(w.q, n)
	if p.Q != nil {
		copy(w.q, p.Q)
	} else {
		clear(w.q)
	}
	w.qeff = grow(w.qeff, n)
	w.a = grow(w.a, me*n)
	w.b = grow(w.b, me)
	w.anorm = grow(w.anorm, me)
	if me > 0 {
		copyDense(w.a, p.A)
		copy(w.b, p.B)
	}
	w.g = grow(w.g, mi*n)
	w.h = grow(w.h, mi)
	w.gnorm = grow(w.gnorm, mi)
	if mi > 0 {
		copyDense(w.g, p.G)
		copy(w.h, p.H)
	}
	for k := range me {
		w.anorm[k] = blas64.Implementation().Dnrm2(n, w.a[k*n:k*n+n], 1)
	}
	for i := range mi {
		w.gnorm[i] = blas64.Implementation().Dnrm2(n, w.g[i*n:i*n+n], 1)
	}
	w.lo = grow(w.lo, n)
	w.hi = grow(w.hi, n)
	for j := range n {
		w.lo[j], w.hi[j] = math.Inf(-1), math.Inf(1)
		if p.Lower != nil {
			w.lo[j] = p.Lower[j]
		}
		if p.Upper != nil {
			w.hi[j] = p.Upper[j]
		}
	}

	w.l = grow(w.l, n*n)
	w.jt0 = grow(w.jt0, n*n)
	w.jt = grow(w.jt, n*n)
	w.r = grow(w.r, n*n)
	w.act = growInt(w.act, n)
	w.u = grow(w.u, n)
	w.sgn = grow(w.sgn, n)
	mt := me + mi + 2*n
	if cap(w.isActive) < mt {
		w.isActive = make([]bool, mt)
	}
	w.isActive = w.isActive[:mt]
	if cap(w.eqState) < me {
		w.eqState = make([]int8, me)
	}
	w.eqState = w.eqState[:me]
	w.perm = growInt(w.perm, n)
	w.ipos = growInt(w.ipos, n)
	for _, s := range []*[]float64{&w.x, &w.xprev, &w.d, &w.z, &w.rv, &w.v, &w.wv, &w.tmp, &w.np} {
		*s = grow(*s, n)
	}
	w.gx = grow(w.gx, mi)
	w.iter = 0
	w.nact = 0
}

func (w *giWork) validate() error {
	bad := func(what string, s []float64) error {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: %s[%d] = %v", ErrInvalid, what, i, v)
			}
		}
		return nil
	}
	for _, c := range []struct {
		name string
		s    []float64
	}{{"P", w.p}, {"Q", w.q}, {"A", w.a}, {"B", w.b}, {"G", w.g}, {"H", w.h}} {
		if err := bad(c.name, c.s); err != nil {
			return err
		}
	}
	for j := range w.n {
		lo, hi := w.lo[j], w.hi[j]
		if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || math.IsInf(lo, 1) || math.IsInf(hi, -1) {
			return fmt.Errorf("%w: bounds of x[%d] are [%v, %v]", ErrInvalid, j, lo, hi)
		}
	}
	return nil
}

// run factorises P and solves, with proximal iterations when P needed a
// ridge.
func (w *giWork) run(dst *Solution) (Status, error) {
	n := w.n
	maxDiag := 0.0
	sumDiag := 0.0
	for i := range n {
		maxDiag = math.Max(maxDiag, w.p[i*n+i])
		sumDiag += w.p[i*n+i]
	}
	// A pivot below 1e-12 of the largest diagonal entry means a condition
	// number beyond ~1e12 (numerically singular for the dual method, whose
	// first iterate −P⁻¹q would be dominated by rounding).
	minPivot := 1e-12 * maxDiag
	copy(w.l, w.p)
	w.ridge = 0
	if !cholesky(w.l, n, minPivot, w.tmp) {
		w.ridge = w.ridgeSet
		if w.ridge <= 0 {
			w.ridge = 1e-7 * sumDiag / float64(n)
			if w.ridge == 0 {
				w.ridge = 1e-7
			}
		}
		copy(w.l, w.p)
		for i := range n {
			w.l[i*n+i] += w.ridge
		}
		if !cholesky(w.l, n, 0, w.tmp) {
			clear(w.x)
			return NotConvex, fmt.Errorf("%w: Cholesky factorisation of P + %g·I failed", ErrNotConvex, w.ridge)
		}
	}
	dst.Ridge = w.ridge
	lowerInverse(w.jt0, w.l, n)

	if w.ridge == 0 {
		copy(w.qeff, w.q)
		st, err := w.dual()
		dst.Iter = w.iter
		return st, err
	}

	// Proximal point: x₊ = argmin ½xᵀPx + qᵀx + ½ρ‖x − xₖ‖². At a fixed
	// point the proximal term vanishes, so the stationarity residual of the
	// original problem is ρ‖x₊ − xₖ‖: stop when it is below 1e-13 of the
	// problem's scale.
	clear(w.xprev)
	for k := 1; k <= w.maxProx; k++ {
		for i := range n {
			w.qeff[i] = w.q[i] - w.ridge*w.xprev[i]
		}
		st, err := w.dual()
		dst.Iter = w.iter
		dst.Prox = k
		if err != nil {
			return st, fmt.Errorf("optim: proximal step %d: %w", k, err)
		}
		if w.polish(maxDiag) {
			return Optimal, nil
		}
		step := 0.0
		for i := range n {
			step = math.Max(step, math.Abs(w.x[i]-w.xprev[i]))
		}
		scale := math.Max(maxAbs(w.q), maxDiag*math.Max(1, maxAbs(w.x)))
		if scale == 0 {
			scale = 1
		}
		if w.ridge*step <= 1e-13*scale {
			return Optimal, nil
		}
		copy(w.xprev, w.x)
	}
	return IterationLimit, fmt.Errorf("%w: %d proximal steps (the problem may be unbounded)", ErrIterationLimit, w.maxProx)
}

// dual runs the Goldfarb–Idnani iterations from the unconstrained minimiser
// of ½xᵀ(LLᵀ)x + qeffᵀx.
func (w *giWork) dual() (Status, error) {
	n := w.n
	impl := blas64.Implementation()
	copy(w.jt, w.jt0)
	// x = −P⁻¹q = −J(Jᵀq), with Jᵀ = L⁻¹ held in jt.
	impl.Dgemv(blas.NoTrans, n, n, 1, w.jt, n, w.qeff, 1, 0, w.tmp, 1)
	impl.Dgemv(blas.Trans, n, n, -1, w.jt, n, w.tmp, 1, 0, w.x, 1)
	w.nact = 0
	clear(w.isActive)
	for j := range n {
		w.perm[j], w.ipos[j] = j, j
	}
	w.nfree = n
	for k := range w.me {
		w.eqState[k] = eqPending
		if w.anorm[k] == 0 {
			if math.Abs(w.b[k]) > w.tol {
				return Infeasible, fmt.Errorf("%w: equality row %d is zero but its right-hand side is %g", ErrInfeasible, k, w.b[k])
			}
			w.eqState[k] = eqRedundant
		}
	}
	for i := range w.mi {
		if w.gnorm[i] == 0 && w.h[i] < -w.tol {
			return Infeasible, fmt.Errorf("%w: inequality row %d is zero but its right-hand side is %g", ErrInfeasible, i, w.h[i])
		}
	}

	it := 0 // MaxIter applies to each dual solve; w.iter is the total
	for {
		p, sign, sp := w.pick()
		if p < 0 {
			return Optimal, nil
		}
		uplus := 0.0
		for {
			if it >= w.maxIter {
				return IterationLimit, fmt.Errorf("%w: %d iterations", ErrIterationLimit, it)
			}
			it++
			w.iter++
			nact := w.nact
			w.normalTimesJt(p, sign)
			m := n - nact
			d := w.d
			dn := impl.Dnrm2(n, d, 1)
			nrm := 0.0
			if m > 0 {
				nrm = impl.Dnrm2(m, d[nact:], 1)
			}
			// z = 0 when the new normal is a combination of the active ones.
			zeroZ := !(nrm > 1e-12*dn)
			var alpha float64
			nf := w.nfree
			if !zeroZ {
				// Householder reflection H mapping d₂ onto αe₁, v = d₂ − αe₁.
				// One product wv = J₂v serves both the primal direction
				// z = J₂d₂ = wv + α·J₂e₁ and the update J₂ ← J₂H if p is added.
				alpha = -math.Copysign(nrm, d[nact])
				v := w.v[:m]
				copy(v, d[nact:])
				v[0] -= alpha
				impl.Dgemv(blas.Trans, m, nf, 1, w.jt[nact*n:], n, v, 1, 0, w.wv, 1)
				clear(w.z)
				row := w.jt[nact*n : nact*n+nf]
				for pos, j := range w.perm[:nf] {
					w.z[j] = w.wv[pos] + alpha*row[pos]
				}
			}
			// r = R⁻¹d₁.
			for i := nact - 1; i >= 0; i-- {
				s := d[i]
				if i+1 < nact {
					s -= dot(w.r[i*n+i+1:i*n+nact], w.rv[i+1:nact])
				}
				w.rv[i] = s / w.r[i*n+i]
			}
			// Partial step: largest dual step keeping the active
			// inequality multipliers non-negative.
			t1, l := math.Inf(1), -1
			for j := range nact {
				if w.act[j] >= w.me && w.rv[j] > 0 {
					if t := w.u[j] / w.rv[j]; t < t1 {
						t1, l = t, j
					}
				}
			}
			// Full step: the primal step that makes constraint p active.
			t2 := math.Inf(1)
			if !zeroZ {
				t2 = -sp / w.normalDot(p, sign, w.z)
			}
			if zeroZ && p < w.me && uplus == 0 && math.Abs(sp) <= w.tol*(1+math.Abs(w.b[p])) {
				// A satisfied equality whose normal is a combination of the
				// active ones: it adds nothing. (uplus is zero here unless dual
				// steps were taken for p, which needs |sp| > tol, and x does
				// not move in dual steps.)
				w.eqState[p] = eqRedundant
				break
			}
			if zeroZ && l < 0 {
				return Infeasible, fmt.Errorf("%w: constraint %d cannot be satisfied together with the active set", ErrInfeasible, p)
			}
			if zeroZ {
				for j := range nact {
					w.u[j] -= t1 * w.rv[j]
				}
				uplus += t1
				w.drop(l)
				continue
			}
			t := math.Min(t1, t2)
			impl.Daxpy(n, t, w.z, 1, w.x, 1)
			for j := range nact {
				w.u[j] -= t * w.rv[j]
			}
			uplus += t
			if t2 <= t1 {
				// Add p: J₂ ← J₂H (Jᵀ rows nact.. ← H·rows), R gains the column
				// (d₁, α).
				beta := 1 / (nrm*nrm + math.Abs(d[nact])*nrm) // 2/(vᵀv)
				impl.Dger(m, nf, -beta, w.v, 1, w.wv, 1, w.jt[nact*n:], n)
				for i := range nact {
					w.r[i*n+nact] = d[i]
				}
				w.r[nact*n+nact] = alpha
				w.act[nact] = p
				w.u[nact] = uplus
				w.sgn[nact] = sign
				w.isActive[p] = true
				if p < w.me {
					w.eqState[p] = eqActive
				}
				if j := w.boundVar(p); j >= 0 {
					w.swapColumns(w.ipos[j], w.nfree-1)
					w.nfree--
				}
				w.nact++
				break
			}
			w.drop(l)
			sp = w.slack(p, sign)
		}
	}
}

// pick returns the next constraint to add, its sign σ and its slack, or
// p = -1 when every constraint is satisfied. Pending equalities come first;
// then the inequality or bound with the most negative normalised slack.
func (w *giWork) pick() (p int, sign, slack float64) {
	n, me, mi := w.n, w.me, w.mi
	for k := range me {
		if w.eqState[k] != eqPending {
			continue
		}
		s := dot(w.a[k*n:k*n+n], w.x) - w.b[k]
		sign = 1
		if s > 0 {
			sign = -1
		}
		return k, sign, sign * s
	}
	p = -1
	best := 0.0
	if mi > 0 {
		blas64.Implementation().Dgemv(blas.NoTrans, mi, n, 1, w.g, n, w.x, 1, 0, w.gx, 1)
		for i := range mi {
			k := me + i
			if w.isActive[k] || w.gnorm[i] == 0 {
				continue
			}
			s := w.h[i] - w.gx[i]
			sn := s / w.gnorm[i]
			if sn < -w.tol*(1+math.Abs(w.h[i])/w.gnorm[i]) && sn < best {
				best, p, slack = sn, k, s
			}
		}
	}
	base := me + mi
	for j := range n {
		xj := w.x[j]
		if lo := w.lo[j]; !math.IsInf(lo, -1) && !w.isActive[base+j] {
			s := xj - lo
			if s < -w.tol*(1+math.Abs(lo)) && s < best {
				best, p, slack = s, base+j, s
			}
		}
		if hi := w.hi[j]; !math.IsInf(hi, 1) && !w.isActive[base+n+j] {
			s := hi - xj
			if s < -w.tol*(1+math.Abs(hi)) && s < best {
				best, p, slack = s, base+n+j, s
			}
		}
	}
	return p, 1, slack
}

// normalTimesJt sets d = Jᵀn for the normal n of constraint p with sign σ.
func (w *giWork) normalTimesJt(p int, sign float64) {
	n, me, mi := w.n, w.me, w.mi
	impl := blas64.Implementation()
	switch {
	case p < me+mi:
		var row []float64
		alpha := sign
		if p < me {
			row = w.a[p*n : p*n+n]
		} else {
			i := p - me
			row, alpha = w.g[i*n:i*n+n], -1
		}
		for pos, j := range w.perm {
			w.np[pos] = row[j]
		}
		impl.Dgemv(blas.NoTrans, n, n, alpha, w.jt, n, w.np, 1, 0, w.d, 1)
	case p < me+mi+n:
		c := w.ipos[p-me-mi]
		for i := range n {
			w.d[i] = w.jt[i*n+c]
		}
	default:
		c := w.ipos[p-me-mi-n]
		for i := range n {
			w.d[i] = -w.jt[i*n+c]
		}
	}
}

// boundVar returns the variable of bound constraint p, or -1 if p is not a
// bound.
func (w *giWork) boundVar(p int) int {
	k := p - w.me - w.mi
	switch {
	case k < 0:
		return -1
	case k < w.n:
		return k
	default:
		return k - w.n
	}
}

// swapColumns exchanges column positions a and b of Jᵀ.
func (w *giWork) swapColumns(a, b int) {
	if a == b {
		return
	}
	n := w.n
	for i := range n {
		w.jt[i*n+a], w.jt[i*n+b] = w.jt[i*n+b], w.jt[i*n+a]
	}
	ja, jb := w.perm[a], w.perm[b]
	w.perm[a], w.perm[b] = jb, ja
	w.ipos[ja], w.ipos[jb] = b, a
}

// normalDot returns nₚᵀv.
func (w *giWork) normalDot(p int, sign float64, v []float64) float64 {
	n, me, mi := w.n, w.me, w.mi
	switch {
	case p < me:
		return sign * dot(w.a[p*n:p*n+n], v)
	case p < me+mi:
		i := p - me
		return -dot(w.g[i*n:i*n+n], v)
	case p < me+mi+n:
		return v[p-me-mi]
	default:
		return -v[p-me-mi-n]
	}
}

// slack returns nₚᵀx − bₚ at the current x.
func (w *giWork) slack(p int, sign float64) float64 {
	n, me, mi := w.n, w.me, w.mi
	switch {
	case p < me:
		return sign * (dot(w.a[p*n:p*n+n], w.x) - w.b[p])
	case p < me+mi:
		i := p - me
		return w.h[i] - dot(w.g[i*n:i*n+n], w.x)
	case p < me+mi+n:
		j := p - me - mi
		return w.x[j] - w.lo[j]
	default:
		j := p - me - mi - n
		return w.hi[j] - w.x[j]
	}
}

// drop removes the active constraint in position l and restores R to
// upper triangular form with Givens rotations, applied to Jᵀ as well.
func (w *giWork) drop(l int) {
	n := w.n
	nact := w.nact
	w.isActive[w.act[l]] = false
	if j := w.boundVar(w.act[l]); j >= 0 {
		w.swapColumns(w.ipos[j], w.nfree)
		w.nfree++
	}
	for j := l; j < nact-1; j++ {
		w.act[j] = w.act[j+1]
		w.u[j] = w.u[j+1]
		w.sgn[j] = w.sgn[j+1]
		for i := 0; i <= j+1; i++ {
			w.r[i*n+j] = w.r[i*n+j+1]
		}
	}
	impl := blas64.Implementation()
	for j := l; j < nact-1; j++ {
		a, b := w.r[j*n+j], w.r[(j+1)*n+j]
		h := math.Hypot(a, b)
		if h == 0 {
			continue
		}
		c, s := a/h, b/h
		w.r[j*n+j] = h
		w.r[(j+1)*n+j] = 0
		for k := j + 1; k < nact-1; k++ {
			x1, x2 := w.r[j*n+k], w.r[(j+1)*n+k]
			w.r[j*n+k] = c*x1 + s*x2
			w.r[(j+1)*n+k] = c*x2 - s*x1
		}
		impl.Drot(n, w.jt[j*n:j*n+n], 1, w.jt[(j+1)*n:(j+1)*n+n], 1, c, s)
	}
	w.nact--
}

// multipliers maps the active multipliers to the Lagrangian of KKT.
func (w *giWork) multipliers(dst *Solution) {
	clear(dst.Eq)
	clear(dst.Ineq)
	clear(dst.Lower)
	clear(dst.Upper)
	n, me, mi := w.n, w.me, w.mi
	for j := range w.nact {
		k, u := w.act[j], w.u[j]
		dst.Active = append(dst.Active, k)
		switch {
		case k < me:
			dst.Eq[k] = -w.sgn[j] * u
		case k < me+mi:
			dst.Ineq[k-me] = u
		case k < me+mi+n:
			dst.Lower[k-me-mi] = u
		default:
			dst.Upper[k-me-mi-n] = u
		}
	}
}

func (w *giWork) objective(x []float64) float64 {
	symMulVec(w.tmp, w.p, w.n, x)
	return 0.5*dot(x, w.tmp) + dot(w.q, x)
}

// kkt evaluates the residuals of KKT at dst.
func (w *giWork) kkt(dst *Solution) KKT {
	n, me, mi := w.n, w.me, w.mi
	x := dst.X
	impl := blas64.Implementation()
	var k KKT
	res := w.tmp
	symMulVec(res, w.p, n, x)
	for i := range n {
		res[i] += w.q[i] - dst.Lower[i] + dst.Upper[i]
	}
	if me > 0 {
		impl.Dgemv(blas.Trans, me, n, 1, w.a, n, dst.Eq, 1, 1, res, 1)
		for e := range me {
			k.Primal = math.Max(k.Primal, math.Abs(dot(w.a[e*n:e*n+n], x)-w.b[e]))
		}
	}
	if mi > 0 {
		impl.Dgemv(blas.Trans, mi, n, 1, w.g, n, dst.Ineq, 1, 1, res, 1)
		for i := range mi {
			s := w.h[i] - dot(w.g[i*n:i*n+n], x)
			k.Primal = math.Max(k.Primal, -s)
			k.Dual = math.Max(k.Dual, -dst.Ineq[i])
			k.Complementarity = math.Max(k.Complementarity, math.Abs(dst.Ineq[i]*s))
		}
	}
	for j := range n {
		if lo := w.lo[j]; !math.IsInf(lo, -1) {
			s := x[j] - lo
			k.Primal = math.Max(k.Primal, -s)
			k.Complementarity = math.Max(k.Complementarity, math.Abs(dst.Lower[j]*s))
		}
		if hi := w.hi[j]; !math.IsInf(hi, 1) {
			s := hi - x[j]
			k.Primal = math.Max(k.Primal, -s)
			k.Complementarity = math.Max(k.Complementarity, math.Abs(dst.Upper[j]*s))
		}
		k.Dual = math.Max(k.Dual, math.Max(-dst.Lower[j], -dst.Upper[j]))
	}
	k.Stationarity = maxAbs(res)
	return k
}
