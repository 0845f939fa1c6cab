package optim

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// polish solves the KKT system of the original problem (P without the
// ridge) for the active set found by the last dual solve:
//
//	[P_FF  N_Fᵀ] [x_F]   [−q_F − P_FB x_B]
//	[N_F   0   ] [−u ] = [b_W − N_B x_B  ]
//
// where B are the variables at an active bound (fixed there), F the others
// and W the active equalities and inequalities with normals N. When the
// system is well conditioned and its solution is feasible with
// non-negative inequality multipliers, it satisfies the KKT conditions of
// the original problem exactly (up to rounding) and replaces w.x and the
// active multipliers; polish then reports true. This is the "solution
// polishing" of OSQP (Stellato et al. 2020, §5) applied to the proximal
// iterates, which removes the rounding error the ridge's large first
// iterates leave (−P⁻¹q is of order ‖q‖/ρ in the null space of P).
func (w *giWork) polish(maxDiag float64) bool {
	n, me, mi := w.n, w.me, w.mi
	fixed := make([]bool, n)
	xb := make([]float64, n)
	var gen []int // active general constraints, in w.act order
	var genSlot []int
	for s := range w.nact {
		k := w.act[s]
		if j := w.boundVar(k); j >= 0 {
			fixed[j] = true
			if k < me+mi+n {
				xb[j] = w.lo[j]
			} else {
				xb[j] = w.hi[j]
			}
			continue
		}
		gen = append(gen, k)
		genSlot = append(genSlot, s)
	}
	var free []int
	for j := range n {
		if !fixed[j] {
			free = append(free, j)
		}
	}
	nf, ng := len(free), len(gen)
	if nf+ng == 0 {
		return false
	}
	// Row of the general constraint k in "≥" form, with its sign.
	normal := func(k int, sign float64) ([]float64, float64, float64) {
		if k < me {
			return w.a[k*n : k*n+n], sign, sign * w.b[k]
		}
		i := k - me
		return w.g[i*n : i*n+n], -1, -w.h[i]
	}
	kkt := mat.NewDense(nf+ng, nf+ng, nil)
	rhs := mat.NewVecDense(nf+ng, nil)
	for a, i := range free {
		for b, j := range free {
			kkt.Set(a, b, w.p[i*n+j])
		}
		v := -w.q[i]
		for j := range n {
			if fixed[j] {
				v -= w.p[i*n+j] * xb[j]
			}
		}
		rhs.SetVec(a, v)
	}
	for c, k := range gen {
		row, sg, b := normal(k, w.sgn[genSlot[c]])
		v := b
		for j := range n {
			if fixed[j] {
				v -= sg * row[j] * xb[j]
			}
		}
		for a, i := range free {
			kkt.Set(nf+c, a, sg*row[i])
			kkt.Set(a, nf+c, sg*row[i])
		}
		rhs.SetVec(nf+c, v)
	}
	var lu mat.LU
	lu.Factorize(kkt)
	if lu.Cond() > 1e12 {
		return false
	}
	var sol mat.VecDense
	if err := lu.SolveVecTo(&sol, false, rhs); err != nil {
		return false
	}
	x := make([]float64, n)
	copy(x, xb)
	for a, i := range free {
		x[i] = sol.AtVec(a)
	}
	// The system has [N_F] in both blocks, so its last ng unknowns are −u
	// with the sign convention Px + q = Σ u n.
	u := make([]float64, w.nact)
	for c := range gen {
		u[genSlot[c]] = -sol.AtVec(nf + c)
	}
	// Bound multipliers from the gradient: Px + q − Σ_W u n = Σ_B u e (±).
	grad := make([]float64, n)
	symMulVec(grad, w.p, n, x)
	for j := range n {
		grad[j] += w.q[j]
	}
	for c, k := range gen {
		row, sg, _ := normal(k, w.sgn[genSlot[c]])
		for j := range n {
			grad[j] -= u[genSlot[c]] * sg * row[j]
		}
	}
	for s := range w.nact {
		k := w.act[s]
		if j := w.boundVar(k); j >= 0 {
			if k < me+mi+n {
				u[s] = grad[j]
			} else {
				u[s] = -grad[j]
			}
		}
	}
	gscale := math.Max(maxAbs(w.q), maxDiag*math.Max(1, maxAbs(x)))
	if gscale == 0 {
		gscale = 1
	}
	for s := range w.nact {
		if w.act[s] >= me && u[s] < -1e-9*gscale {
			return false
		}
	}
	// Every constraint must hold at the polished point.
	copy(w.tmp, w.x)
	copy(w.x, x)
	ok := true
	for k := me; k < me+mi+2*n && ok; k++ {
		if w.isActive[k] {
			continue
		}
		j := w.boundVar(k)
		var b float64
		switch {
		case j < 0:
			b = -w.h[k-me]
		case k < me+mi+n:
			b = w.lo[j]
		default:
			b = -w.hi[j]
		}
		if math.IsInf(b, 0) {
			continue
		}
		if w.slack(k, 1) < -w.tol*(1+math.Abs(b)) {
			ok = false
		}
	}
	if !ok {
		copy(w.x, w.tmp)
		return false
	}
	for s := range w.nact {
		w.u[s] = math.Max(u[s], 0)
		if w.act[s] < me {
			w.u[s] = u[s]
		}
	}
	return true
}
