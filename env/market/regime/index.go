package regime

import (
	"math"

	"github.com/folio-rl/folio/env/market"
)

// IndexReturnsTo writes the log return of the panel's equal-weight index
// into dst (length T; allocated when nil or too short) and returns it:
// dst[t] = (1/N) Σ_i log(close_{t,i} / close_{t−1,i}) for t ≥ 1, the log of
// the geometric-mean price relative, and dst[0] = 0 (no previous close).
// It uses bars t−1 and t only.
func IndexReturnsTo(dst []float64, p *market.Panel) []float64 {
	return indexReturns(dst, p, p.T())
}

// indexReturns is IndexReturnsTo over bars 0..to−1 only (len(dst) = to).
func indexReturns(dst []float64, p *market.Panel, to int) []float64 {
	dst = resize(dst, to)
	if to == 0 {
		return dst
	}
	dst[0] = 0
	inv := 1 / float64(p.N())
	for s := 1; s < to; s++ {
		cur, prev := p.CloseRow(s), p.CloseRow(s-1)
		var m float64
		for i := range cur {
			m += math.Log(cur[i] / prev[i])
		}
		dst[s] = m * inv
	}
	return dst
}

// trailing computes, for every bar t ≥ w, the sum of r over the w bars
// t−w+1..t and the root mean square of r over the same bars; earlier bars
// get NaN. Both are causal. Sums are recomputed per bar (no running sums),
// so a value does not depend on data before its window through rounding.
func trailing(sum, rms, r []float64, w int) {
	for t := range r {
		if t < w {
			sum[t], rms[t] = math.NaN(), math.NaN()
			continue
		}
		var s, q float64
		for _, v := range r[t-w+1 : t+1] {
			s += v
			q += v * v
		}
		sum[t], rms[t] = s, math.Sqrt(q/float64(w))
	}
}
