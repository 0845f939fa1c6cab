package optim

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// RiskBudgetCapped solves with a fresh RiskBudgeter; see
// RiskBudgeter.SolveCapped.
func RiskBudgetCapped(dst []float64, cov mat.Symmetric, budgets, upper []float64, set *RiskBudgetSettings) (RiskBudgetResult, error) {
	var s RiskBudgeter
	if set != nil {
		s.Settings = *set
	}
	return s.SolveCapped(dst, cov, budgets, upper)
}

// SolveCapped writes into dst the constrained risk-budgeting portfolio of
// Richard and Roncalli (2019) for the long-only budget set with caps,
// Ω = {w : 0 ≤ wᵢ ≤ upperᵢ}: the weights
//
//	x*(λ) = argmin_{x ∈ Ω}  ½ xᵀΣx − λ Σᵢ bᵢ log xᵢ,   Σᵢ x*ᵢ(λ*) = 1,
//
// where the budget constraint is met by the choice of λ* > 0 and not by a
// constraint inside the minimisation. This is the paper's definition (and
// that of its authors' pyrb package): putting Σx = 1 inside the problem
// adds a multiplier to every asset and breaks the risk budgets of the
// assets that no cap touches. Here it does not: the optimality conditions
// are, with RCᵢ = wᵢ(Σw)ᵢ/wᵀΣw and θ = λ*/wᵀΣw ≥ 1,
//
//	RCᵢ = θbᵢ   for the assets below their cap,
//	RCᵢ ≤ θbᵢ   for the assets at it (wᵢ = upperᵢ),
//
// so the free assets keep contributions in the proportions of their
// budgets and the capped ones give up risk. With no binding cap θ = 1 and
// this is the unconstrained risk-budgeting portfolio. The variance ½xᵀΣx
// and the volatility √(xᵀΣx) as risk measure give the same portfolio (the
// conditions differ only by the positive factor √(xᵀΣx) in λ and in the
// multipliers).
//
// The solve first runs Solve; when its weights respect the caps they are
// returned unchanged (so with no binding cap SolveCapped and Solve agree
// bit for bit). Otherwise an outer safeguarded Newton iteration on log λ
// drives Σx*(λ) to 1, using dΣx/dλ from the implicit-function theorem on
// the current active set (one extra triangular solve), with bisection
// when a step leaves the bracket; each x*(λ) is found by a primal
// active-set Newton method (damped Newton on the free assets, a step
// blocked by a cap fixes that asset there, a capped asset whose multiplier
// turns negative is released), warm-started from the previous λ. Finally
// the capped weights are set to their caps exactly and the free ones
// rescaled so that Σw = 1.
//
// upper has length n; nil means no caps (Solve). A cap of +Inf or ≥ 1
// does not bind. Assets with a zero budget get zero weight, as in Solve.
// Errors: those of Solve, ErrInvalid for a NaN or negative cap or a zero
// cap on an asset with a positive budget, ErrInfeasible when the caps of
// the assets with positive budgets sum to less than 1 (within 1e-12), and
// ErrIterationLimit (dst holding the last iterate, normalised) when the
// Newton iterations of the capped phase exceed Settings.MaxIter or the
// final residual is above Settings.Tol. When the caps sum to 1 within
// 1e-12 the feasible set is the single point w = upper/Σupper, returned as
// is. It panics if the lengths disagree.
func (s *RiskBudgeter) SolveCapped(dst []float64, cov mat.Symmetric, budgets, upper []float64) (RiskBudgetResult, error) {
	if upper == nil {
		return s.Solve(dst, cov, budgets)
	}
	n := cov.SymmetricDim()
	if len(upper) != n || len(dst) != n || (budgets != nil && len(budgets) != n) {
		panic(fmt.Sprintf("optim: len(dst) = %d, len(budgets) = %d, len(upper) = %d, want %d", len(dst), len(budgets), len(upper), n))
	}
	binds := false
	for i, u := range upper {
		if math.IsNaN(u) || u < 0 {
			return RiskBudgetResult{}, fmt.Errorf("%w: cap %d is %v; caps must be non-negative", ErrInvalid, i, u)
		}
		positive := budgets == nil || budgets[i] > 0
		if u == 0 && positive {
			return RiskBudgetResult{}, fmt.Errorf("%w: cap %d is 0 but the asset's budget is positive; give it a zero budget to exclude it", ErrInvalid, i)
		}
		binds = binds || (positive && u < 1)
	}
	res, err := s.Solve(dst, cov, budgets)
	if !binds || errors.Is(err, ErrInvalid) || errors.Is(err, ErrDegenerate) {
		return res, err
	}
	w := &s.w
	m := len(w.idx)
	w.u = grow(w.u, m)
	w.q = grow(w.q, m)
	if cap(w.at) < m {
		w.at = make([]bool, m)
	}
	w.at = w.at[:m]
	w.fidx = growInt(w.fidx, m)[:0]
	capSum := 0.0
	for a, i := range w.idx {
		w.u[a] = upper[i]
		capSum += math.Min(upper[i], 1)
	}
	if capSum < 1-1e-12 {
		return RiskBudgetResult{}, fmt.Errorf("%w: the caps of the assets with positive budgets sum to %.17g < 1", ErrInfeasible, capSum)
	}
	if err == nil {
		within := true
		for i, v := range dst {
			within = within && v <= upper[i]
		}
		if within {
			return res, nil
		}
	}
	out := RiskBudgetResult{Sweeps: res.Sweeps, Iter: res.Iter}
	y := w.y[:m]
	if capSum <= 1+1e-12 {
		// The caps leave a single feasible point.
		for a := range m {
			y[a] = math.Min(w.u[a], 1) / capSum
			w.at[a] = true
		}
		w.place(dst, y)
		w.capResidual(&out, m)
		return out, nil
	}
	err = s.capSolve(&out, m)
	w.place(dst, y)
	w.capResidual(&out, m)
	if err != nil {
		return out, err
	}
	tol := s.Settings.Tol
	if tol <= 0 {
		tol = 1e-10
	}
	if out.RCError > tol {
		return out, fmt.Errorf("%w: capped risk budgeting: residual %g above the tolerance %g after %d Newton iterations", ErrIterationLimit, out.RCError, tol, out.Iter)
	}
	if out.KKT.Primal > 1e-9 {
		return out, fmt.Errorf("%w: capped risk budgeting: the weights sum to 1%+g after %d Newton iterations", ErrIterationLimit, out.KKT.Primal, out.Iter)
	}
	return out, nil
}

// capSolve runs the outer iteration on λ from the (possibly failed)
// unconstrained iterate in w.y, leaving the unnormalised x*(λ*) in w.y.
func (s *RiskBudgeter) capSolve(res *RiskBudgetResult, m int) error {
	w := &s.w
	tol, maxIter := s.Settings.Tol, s.Settings.MaxIter
	if tol <= 0 {
		tol = 1e-10
	}
	if maxIter <= 0 {
		maxIter = 100
	}
	// The inner solves and the sum are driven well below tol, so that the
	// final rescaling of the free weights (by 1 + O(sumTol)) and the
	// inner residual together stay below it.
	innerTol, sumTol := tol/20, tol/20
	y, sy, u, at := w.y[:m], w.sy[:m], w.u[:m], w.at[:m]
	// Start from the unconstrained weights w⁰ scaled by c and clipped,
	// xᵢ = min(c·w⁰ᵢ, uᵢ) with c ≥ 1 such that Σx = 1 (cap-and-redistribute
	// in proportion to the weights), at λ = c²·w⁰ᵀΣw⁰: without caps the
	// solution at that λ is c·w⁰.
	scale := 1 / sum(y)
	for a := range m {
		y[a] *= scale
	}
	symMulVec(sy, w.s, m, y)
	v0 := dot(y, sy)
	clo, chi := 1.0, 1.0
	for a := range m {
		chi = math.Max(chi, math.Min(u[a], 1)/y[a])
	}
	for range 100 {
		c := 0.5 * (clo + chi)
		t := 0.0
		for a := range m {
			t += math.Min(c*y[a], u[a])
		}
		if t < 1 {
			clo = c
		} else {
			chi = c
		}
		if chi-clo <= 1e-12*chi {
			break
		}
	}
	lam := chi * chi * v0
	for a := range m {
		y[a] *= chi
		at[a] = y[a] >= u[a]
		if at[a] {
			y[a] = u[a]
		}
	}
	iter := 0
	lo, hi := math.Inf(-1), math.Inf(1) // bracket on log λ: Σx < 1 at lo, > 1 at hi
	for {
		res.Lambdas++
		fresh, err := w.capNewton(m, lam, innerTol, &iter, maxIter)
		res.Iter += iter
		iter = 0
		if err != nil {
			return err
		}
		total := sum(y)
		if math.Abs(total-1) <= sumTol {
			return nil
		}
		ls := math.Log(lam)
		if total < 1 {
			lo = ls
		} else {
			hi = ls
		}
		if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) && hi-lo <= 1e-15*math.Max(1, math.Abs(ls)) {
			// The bracket cannot shrink further: Σx*(λ) jumps across 1
			// (it cannot for a continuous x*, so this is rounding); the
			// caller's residual check decides.
			return nil
		}
		k := len(w.fidx)
		if !fresh {
			if !w.factorFree(m, lam) {
				return fmt.Errorf("%w: capped risk budgeting: Newton matrix not positive definite", ErrNotConvex)
			}
			k = len(w.fidx)
		}
		// dx_F/dλ = H_FF⁻¹ (b_F/x_F), from differentiating the free
		// assets' stationarity (Σx)_F = λ b_F/x_F on the current active set.
		q := w.q[:k]
		for r, a := range w.fidx {
			q[r] = w.b[a] / y[a]
		}
		if k > 0 { // with every asset capped Σx does not depend on λ
			cholSolve(w.h[:k*k], k, q)
		}
		// Newton on G(log λ) = log Σx, which is linear (slope ½) when no
		// cap binds.
		slope := lam * sum(q) / total
		next := ls - math.Log(total)/slope
		// While one end of the bracket is still open, a step may at most
		// double or halve λ: a flat Σx*(λ) (most assets at their caps)
		// would otherwise send λ to ±Inf.
		open := math.IsInf(lo, 0) || math.IsInf(hi, 0)
		if open && math.Abs(next-ls) > math.Ln2 {
			next = ls + math.Copysign(math.Ln2, next-ls)
		}
		if !(slope > 0) || !(next > lo && next < hi) || math.IsNaN(next) {
			switch {
			case !math.IsInf(lo, 0) && !math.IsInf(hi, 0):
				next = 0.5 * (lo + hi)
			case total < 1:
				next = ls + math.Ln2
			default:
				next = ls - math.Ln2
			}
		}
		nl := math.Exp(next)
		if !(nl > 0) || math.IsInf(nl, 0) {
			return fmt.Errorf("%w: capped risk budgeting: λ left the finite range (Σx = %g at λ = %g)", ErrIterationLimit, total, lam)
		}
		dl := nl - lam
		// Predict x*(nl) on the current active set, kept inside (½x, 2x]
		// and the caps; the inner Newton corrects the rest.
		for r, a := range w.fidx {
			x := math.Min(math.Max(y[a]+dl*q[r], 0.5*y[a]), 2*y[a])
			if x >= u[a] {
				x = u[a]
				at[a] = true
			}
			y[a] = x
		}
		lam = nl
		if res.Lambdas >= 4*maxIter {
			return fmt.Errorf("%w: capped risk budgeting: %d values of λ, Σx = %.17g", ErrIterationLimit, res.Lambdas, total)
		}
	}
}

// capNewton minimises h(x) = ½xᵀΣx − λ Σᵢ bᵢ log xᵢ over 0 < x ≤ u by a
// primal active-set Newton method, from the feasible x in w.y with w.at
// marking the assets held at their caps. It stops when every free asset
// has |xᵢ(Σx)ᵢ/λ − bᵢ| ≤ tol (the stationarity residual in units of the
// budgets) and no capped asset has a multiplier below −tol in the same
// units; a capped asset with the most negative multiplier is released
// first. fresh reports whether w.h holds the Cholesky factor of the free
// block of the Newton matrix for the final active set (computed at the
// point before the last step), with w.fidx the free indices. iter counts
// Newton iterations; more than maxIter is an error.
func (w *rbWork) capNewton(m int, lam, tol float64, iter *int, maxIter int) (fresh bool, err error) {
	y, sy, b, u, at := w.y[:m], w.sy[:m], w.b[:m], w.u[:m], w.at[:m]
	sd, yt := w.sd[:m], w.yt[:m]
	impl := blas64.Implementation()
	for {
		symMulVec(sy, w.s, m, y)
		e, rel, relAt := 0.0, tol, -1
		for a := range m {
			r := y[a]*sy[a]/lam - b[a]
			if !at[a] {
				e = math.Max(e, math.Abs(r))
			} else if r > rel {
				// At the cap the multiplier is −r (in units of budgets):
				// r > 0 means the asset wants to go below its cap.
				rel, relAt = r, a
			}
		}
		if math.IsNaN(e) {
			return false, fmt.Errorf("%w: capped risk budgeting: non-finite iterate", ErrNotConvex)
		}
		// Release the capped assets whose multipliers have the wrong sign,
		// all at once, as soon as the free assets are close enough to
		// stationarity (1e-6) for the multipliers to be trusted in sign;
		// a wrong release is undone by a later blocked step.
		if relAt >= 0 && e <= math.Max(tol, 1e-6) {
			for a := range m {
				if at[a] && y[a]*sy[a]/lam-b[a] > tol {
					at[a] = false
				}
			}
			fresh = false
			continue
		}
		if e <= tol {
			return fresh, nil
		}
		if *iter >= maxIter {
			return false, fmt.Errorf("%w: capped risk budgeting: %d Newton iterations, residual %g", ErrIterationLimit, *iter, e)
		}
		*iter++
		if !w.factorFree(m, lam) {
			return false, fmt.Errorf("%w: capped risk budgeting: Newton matrix not positive definite", ErrNotConvex)
		}
		fresh = true
		k := len(w.fidx)
		g, d := w.g[:k], w.d[:k]
		for r := range k {
			d[r] = -g[r]
		}
		cholSolve(w.h[:k*k], k, d)
		slope := dot(g, d)
		// The longest step keeps x ≤ u (the first cap met blocks) and
		// x > 0 (0.99 of the way to zero).
		amax, block := 1.0, -1
		for r, a := range w.fidx {
			if d[r] > 0 && y[a]+d[r] > u[a] {
				if t := (u[a] - y[a]) / d[r]; t < amax {
					amax, block = t, r
				}
			} else if d[r] < 0 {
				if t := -0.99 * y[a] / d[r]; t < amax {
					amax, block = t, -1
				}
			}
		}
		// A step blocked by a cap first tries the projected step
		// min(x + αd, u), α as far as positivity allows, which fixes every
		// asset it takes past its cap at once (Bertsekas' projected Newton
		// idea); it is kept only if it decreases h enough. Otherwise the
		// step stops at the first cap, fixing one asset per iteration.
		if block >= 0 && w.projectedStep(m, lam, d) {
			fresh = false
			continue
		}
		// h/(λ b_min) is self-concordant; with Newton decrement below 1/4
		// the full step converges quadratically (see Solve).
		if block < 0 && amax == 1 && -slope < 0.0625*lam*w.bmin {
			for r, a := range w.fidx {
				y[a] += d[r]
			}
		} else {
			// h along the ray, with Σ(x+αd) = Σx + αΣd.
			clear(sd)
			for r, a := range w.fidx {
				impl.Daxpy(m, d[r], w.s[a*m:a*m+m], 1, sd, 1)
			}
			f0 := 0.5 * dot(y, sy)
			for a := range m {
				f0 -= lam * b[a] * math.Log(y[a])
			}
			alpha := amax
			for {
				copy(yt, y)
				for r, a := range w.fidx {
					yt[a] = y[a] + alpha*d[r]
				}
				ft := 0.0
				for a := range m {
					ft += 0.5*yt[a]*(sy[a]+alpha*sd[a]) - lam*b[a]*math.Log(yt[a])
				}
				if ft <= f0+1e-4*alpha*slope || alpha < 1e-12 {
					break
				}
				alpha *= 0.5
				block = -1
			}
			copy(y, yt)
			if block >= 0 {
				a := w.fidx[block]
				y[a] = u[a]
				at[a] = true
				fresh = false
			}
		}
		for _, a := range w.fidx {
			if y[a] >= u[a] { // rounding past the cap
				y[a] = u[a]
				if !at[a] {
					at[a] = true
					fresh = false
				}
			}
		}
	}
}

// projectedStep tries x ← min(x + αd, u) on the free assets, with α ≤ 1
// the largest step keeping 0.99 of the distance to zero, and accepts it
// when h decreases by at least 1e-4 of the linear prediction gᵀΔx (w.g
// holding the free gradient), fixing the assets it puts at their caps. It
// reports whether the step was taken.
func (w *rbWork) projectedStep(m int, lam float64, d []float64) bool {
	y, sy, b, u, yt, sd := w.y[:m], w.sy[:m], w.b[:m], w.u[:m], w.yt[:m], w.sd[:m]
	alpha := 1.0
	for r, a := range w.fidx {
		if d[r] < 0 {
			alpha = math.Min(alpha, -0.99*y[a]/d[r])
		}
	}
	copy(yt, y)
	pred := 0.0
	for r, a := range w.fidx {
		yt[a] = math.Min(y[a]+alpha*d[r], u[a])
		pred += w.g[r] * (yt[a] - y[a])
	}
	if !(pred < 0) {
		return false
	}
	symMulVec(sd, w.s, m, yt)
	f0, ft := 0.5*dot(y, sy), 0.5*dot(yt, sd)
	for a := range m {
		f0 -= lam * b[a] * math.Log(y[a])
		ft -= lam * b[a] * math.Log(yt[a])
	}
	if !(ft <= f0+1e-4*pred) {
		return false
	}
	for _, a := range w.fidx {
		if yt[a] == u[a] {
			w.at[a] = true
		}
	}
	copy(y, yt)
	return true
}

// factorFree collects the free assets in w.fidx, their gradient of h in
// w.g and the Cholesky factor of the free block of the Newton matrix
// Σ + λ diag(b/x²) in w.h, at x = w.y with w.sy = Σx. It reports whether
// the matrix is numerically positive definite.
func (w *rbWork) factorFree(m int, lam float64) bool {
	y, sy, b := w.y[:m], w.sy[:m], w.b[:m]
	w.fidx = w.fidx[:0]
	for a := range m {
		if !w.at[a] {
			w.fidx = append(w.fidx, a)
		}
	}
	k := len(w.fidx)
	h := w.h[:k*k]
	for r, a := range w.fidx {
		row := w.s[a*m : a*m+m]
		for c, a2 := range w.fidx {
			h[r*k+c] = row[a2]
		}
		h[r*k+r] += lam * b[a] / (y[a] * y[a])
		w.g[r] = sy[a] - lam*b[a]/y[a]
	}
	return cholesky(h, k, 0, w.tmp)
}

// place sets the capped weights to their caps exactly, rescales the free
// ones so that the weights sum to 1 (capping any that rounding pushes past
// its cap) and writes them into dst at the kept indices, zero elsewhere.
func (w *rbWork) place(dst, y []float64) {
	m := len(y)
	for range m {
		capped, free := 0.0, 0.0
		for a := range m {
			if w.at[a] {
				capped += y[a]
			} else {
				free += y[a]
			}
		}
		if free == 0 {
			break
		}
		c := (1 - capped) / free
		over := false
		for a := range m {
			if !w.at[a] {
				y[a] *= c
				if y[a] > w.u[a] {
					y[a], w.at[a], over = w.u[a], true, true
				}
			}
		}
		if !over {
			break
		}
	}
	clear(dst)
	for a, i := range w.idx {
		dst[i] = y[a]
	}
}

// capResidual fills res's Scale, Capped, KKT and RCError for the weights in
// w.y (normalised, zero-budget assets left out), with w.at marking the
// capped assets.
func (w *rbWork) capResidual(res *RiskBudgetResult, m int) {
	y, sy, b, u, at := w.y[:m], w.sy[:m], w.b[:m], w.u[:m], w.at[:m]
	symMulVec(sy, w.s, m, y)
	v := dot(y, sy)
	rcFree, bFree := 0.0, 0.0
	res.Capped = 0
	for a := range m {
		if at[a] {
			res.Capped++
		} else {
			rcFree += y[a] * sy[a] / v
			bFree += b[a]
		}
	}
	theta := 0.0
	if bFree > 0 {
		theta = rcFree / bFree
	} else {
		// Every asset is capped: the smallest θ for which the capped
		// conditions hold.
		for a := range m {
			theta = math.Max(theta, y[a]*sy[a]/v/b[a])
		}
	}
	var k KKT
	k.Primal = math.Abs(sum(y) - 1)
	for a := range m {
		k.Primal = math.Max(k.Primal, math.Max(y[a]-u[a], -y[a]))
		r := y[a]*sy[a]/v - theta*b[a]
		if at[a] {
			k.Dual = math.Max(k.Dual, r)
		} else {
			k.Stationarity = math.Max(k.Stationarity, math.Abs(r))
		}
	}
	if !(v > 0) {
		k.Stationarity = math.Inf(1)
	}
	res.Scale, res.KKT = theta, k
	res.RCError = math.Max(k.Stationarity, k.Dual)
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}
