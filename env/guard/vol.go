package guard

import (
	"math"

	"github.com/folio-rl/folio/env/market"
)

// forecast makes p.cov the EWMA covariance forecast for decision bar t of
// pan and reports whether one exists. It reads the simple close-to-close
// returns r_k = close_k/close_{k−1} − 1 of bars k = t, t−1, …, down to
// max(1, t − VolWindow + 1) — bars ≤ t only — and weights the return j bars
// back by λ^j:
//
//	Σ_t = S_t / Σ_j λ^j,   S_t = Σ_j λ^j r_{t−j} r_{t−j}ᵀ
//
// This is the RiskMetrics estimator (zero mean, the standard and less noisy
// choice at bar frequencies) truncated to the window and renormalised.
// Simple returns make the portfolio's bar return exactly wᵀr, so wᵀΣw is
// its variance forecast; cash has zero variance. At least two returns are
// needed (t ≥ 2); with fewer the cap does not apply.
//
// Cost: stepping from bar t−1 to t updates S in O(N²) with
// S_t = λS_{t−1} + r_t r_tᵀ − λ^W r_{t−W} r_{t−W}ᵀ (the last term only once
// the window is full); any other jump, and every W bars to shed rounding,
// recomputes S from its definition in O(W·N²). The recursion contracts by
// λ, so rounding stays at a few ulps relative to Σ. The result is cached per
// (panel, bar).
func (p *Projector) forecast(pan *market.Panel, t int) bool {
	if p.covOK && p.covPanel == pan && p.covBar == t {
		return p.covHave
	}
	W, lam := p.cfg.VolWindow, p.cfg.VolLambda
	step := p.covOK && p.covHave && p.covPanel == pan && t == p.covBar+1 && p.covAge < W
	p.covOK, p.covPanel, p.covBar = true, pan, t
	first := max(1, t-W+1)
	p.covHave = t-first+1 >= 2
	if !p.covHave {
		return false
	}
	m := p.n - 1
	if step {
		p.covAge++
		for i := range p.raw {
			p.raw[i] *= lam
		}
		p.addOuter(pan, t, 1)
		if t-W >= 1 { // the return W bars back leaves the window
			p.addOuter(pan, t-W, -p.lamW)
		} else {
			p.sw = lam*p.sw + 1
		}
	} else {
		p.covAge = 0
		clear(p.raw)
		w := 1.0
		p.sw = 0
		for k := t; k >= first; k-- {
			p.addOuter(pan, k, w)
			p.sw += w
			w *= lam
		}
	}
	for i := range m {
		for j := 0; j <= i; j++ {
			v := p.raw[i*m+j] / p.sw
			p.cov[i*m+j], p.cov[j*m+i] = v, v
		}
	}
	return true
}

// addOuter adds c·r_k r_kᵀ to the lower triangle of p.raw, r_k the simple
// returns of bar k ≥ 1.
func (p *Projector) addOuter(pan *market.Panel, k int, c float64) {
	m := p.n - 1
	cur, prev := pan.CloseRow(k), pan.CloseRow(k-1)
	for i := range m {
		p.ret[i] = cur[i]/prev[i] - 1
	}
	for i := range m {
		cr := c * p.ret[i]
		row := p.raw[i*m : i*m+i+1]
		for j := range row {
			row[j] += cr * p.ret[j]
		}
	}
}

// quad returns the forecast bar variance wᵀΣw of allocation w (cash first;
// cash does not enter).
func (p *Projector) quad(w []float64) float64 {
	m := p.n - 1
	r := w[1:]
	s := 0.0
	for i := range m {
		row := p.cov[i*m : (i+1)*m]
		t := 0.0
		for j, c := range row {
			t += c * r[j]
		}
		s += r[i] * t
	}
	return max(s, 0)
}

// volScale scales the risky part of the allocation w (in p's box) down into
// cash until its forecast variance is at most varMax: the risky weights
// become x_i(s) = max(lo_i, s·w_i) with the largest s ∈ [0, 1] found, cash
// 1 − Σx. Risky weights only fall and stay ≥ lo_i, and cash only rises, so
// w stays in the box. It reports whether it changed w and whether the cap
// could not be met because liquidity keeps too much risk (x(0) = lo already
// breaches it; then w becomes x(0)).
//
// Without a binding lower bound the variance is s²·wᵀΣw, so s =
// √(varMax/wᵀΣw) exactly; when some lo_i binds, bisection keeps the
// invariant "x(s_lo) meets the cap" (σ need not be monotone in s when
// assets are negatively correlated, but the invariant is all we need).
func (p *Projector) volScale(w []float64, varMax float64) (changed, conflict bool) {
	v := p.quad(w)
	if v <= varMax {
		return false, false
	}
	x := p.tmp
	at := func(s float64) float64 {
		for i := 1; i < p.n; i++ {
			x[i] = max(p.lo[i], s*w[i])
		}
		return p.quad(x)
	}
	s := math.Sqrt(varMax / v)
	exact := true
	for i := 1; i < p.n; i++ {
		if s*w[i] < p.lo[i] {
			exact = false
			break
		}
	}
	switch {
	case exact:
		// s·w already meets the cap; shave the last ulps of rounding.
		for at(s) > varMax && s > 0 {
			s = math.Nextafter(s, 0) * (1 - 1e-15)
		}
	case at(0) > varMax:
		s, conflict = 0, true
	default:
		sLo, sHi := 0.0, s
		for range 64 {
			mid := 0.5 * (sLo + sHi)
			if mid <= sLo || mid >= sHi {
				break
			}
			if at(mid) <= varMax {
				sLo = mid
			} else {
				sHi = mid
			}
		}
		s = sLo
	}
	at(s)
	sum := 0.0
	for i := 1; i < p.n; i++ {
		w[i] = x[i]
		sum += x[i]
	}
	w[0] = 1 - sum
	return true, conflict
}
