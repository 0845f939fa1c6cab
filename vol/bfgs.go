package vol

import "math"

// minimise is the package's own BFGS, FitGARCH's fast path for refits
// (FitOptions.Prev). It exists because it can start from a given
// inverse-Hessian approximation h0 — the final one of the previous fit of
// an overlapping window — which gonum/optimize's BFGS cannot: gonum always
// starts from a scaled identity and rebuilds the curvature, which made a
// refit 63 bars later on 3,000 returns take 21 passes over the data
// instead of 7, and the refit-heavy feature computation 2.7–4× slower
// (measured; see the package documentation). minimiseGonum is the
// reference, and the tests require both to reach the same optimum.
//
// fg returns f(x) and writes ∇f(x) into grad; it must not retain x.
// Points where f is not finite are rejected by the line search, so fg may
// return +Inf outside its domain. The coordinates should be scaled so that
// the minimiser is O(1) away from the start: no iteration moves a
// coordinate by more than maxStep.
//
// The stopping rule matches minimiseGonum's: ‖∇f‖∞ < gtol, or f changed by
// less than flatTol·(1+|f|) in each of flatIters consecutive iterations, or no
// step along the quasi-Newton (or, after a reset, steepest-descent)
// direction decreases f, or maxIter iterations. The line search is a
// backtracking Armijo search with quadratic interpolation that also
// accepts steps satisfying the approximate Wolfe conditions (see
// lineSearch for why). The inverse-Hessian approximation starts as h0 if
// non-nil (length n², symmetric positive definite), otherwise as the
// identity rescaled by sᵀy/yᵀy after the first step (Nocedal & Wright,
// Numerical Optimization, eq. 6.20); it is only updated when sᵀy > 0, which
// keeps it positive definite without a Wolfe line search.
func minimise(fg func(x, grad []float64) float64, x0, h0 []float64, gtol float64, maxIter int) minResult {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	f := fg(x, g)
	res := minResult{x: x, f: f, evals: 1}
	if !finite(f) || !allFinite(g) {
		res.status = statusNonFinite
		return res
	}
	h := identity(n)
	rescale := true
	if h0 != nil {
		copy(h, h0)
		rescale = false
	}
	d, xn, gn, s, y, hy := make([]float64, n), make([]float64, n), make([]float64, n),
		make([]float64, n), make([]float64, n), make([]float64, n)
	flat := 0
	for res.iters = 0; ; res.iters++ {
		if normInf(g) < gtol {
			res.status = statusGradient
			break
		}
		if res.iters >= maxIter {
			res.status = statusIterations
			break
		}
		// d = −H g; fall back to steepest descent if it is not a descent direction.
		slope := 0.0
		for i := range n {
			var v float64
			for j := range n {
				v -= h[i*n+j] * g[j]
			}
			d[i] = v
			slope += v * g[i]
		}
		if !(slope < 0) {
			h = identity(n)
			slope = 0
			for i := range n {
				d[i] = -g[i]
				slope -= g[i] * g[i]
			}
		}
		// Cap the trial step at maxStep in every coordinate.
		if m := normInf(d); m > maxStep {
			for i := range d {
				d[i] *= maxStep / m
			}
			slope *= maxStep / m
		}
		// Backtracking Armijo search, quadratic interpolation, step ≥ 1e-20.
		const c1 = 1e-4
		step, fn, ok := 1.0, 0.0, false
		for k := 0; k < 60 && step > 1e-20; k++ {
			for i := range n {
				xn[i] = x[i] + step*d[i]
			}
			fn = fg(xn, gn)
			res.evals++
			if finite(fn) && allFinite(gn) {
				if fn <= f+c1*step*slope {
					ok = true
					break
				}
				// Near the minimum f changes by less than its rounding error
				// and Armijo fails on noise; accept the step if f did not rise
				// beyond that noise and the directional derivative shrank
				// (Hager & Zhang's approximate Wolfe conditions, δ = 0.1,
				// σ = 0.9), which uses the accurate gradient instead.
				if fn <= f+lsNoise*(1+math.Abs(f)) {
					var dd float64
					for i := range n {
						dd += gn[i] * d[i]
					}
					if dd >= 0.9*slope && dd <= -0.8*slope {
						ok = true
						break
					}
				}
			}
			next := 0.5 * step
			if finite(fn) {
				// Minimiser of the quadratic through f, slope and fn.
				q := -slope * step * step / (2 * (fn - f - slope*step))
				next = clamp(q, 0.1*step, 0.5*step)
			}
			step = next
		}
		if !ok {
			res.status = statusLineSearch
			break
		}
		var sy, yhy float64
		for i := range n {
			s[i] = xn[i] - x[i]
			y[i] = gn[i] - g[i]
			sy += s[i] * y[i]
		}
		if math.Abs(fn-f) <= flatTol*(1+math.Abs(f)) {
			flat++
		} else {
			flat = 0
		}
		copy(x, xn)
		copy(g, gn)
		f = fn
		if flat >= flatIters {
			res.iters++
			res.status = statusFunction
			break
		}
		if sy <= 1e-300 {
			continue
		}
		if rescale {
			rescale = false
			var yy float64
			for i := range n {
				yy += y[i] * y[i]
			}
			for i := range h {
				h[i] *= sy / yy
			}
		}
		// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/sᵀy.
		for i := range n {
			var v float64
			for j := range n {
				v += h[i*n+j] * y[j]
			}
			hy[i] = v
			yhy += y[i] * v
		}
		rho := 1 / sy
		for i := range n {
			for j := range n {
				h[i*n+j] += rho * ((1+rho*yhy)*s[i]*s[j] - hy[i]*s[j] - s[i]*hy[j])
			}
		}
	}
	res.x, res.f, res.h = x, f, h
	return res
}

// maxStep caps the trial step in every coordinate: FitGARCH's coordinates
// are O(1), and an uncapped first step along −∇f from a poor start can
// land in a far, flat region and stall there.
const maxStep = 2

func identity(n int) []float64 {
	h := make([]float64, n*n)
	for i := range n {
		h[i*n+i] = 1
	}
	return h
}

func normInf(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
