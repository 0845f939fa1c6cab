package features

import (
	"math"

	"github.com/folio-rl/folio/env/market"
)

// avgCorrTo writes avg_corr_W into dst: at bar t ≥ w, the mean over asset
// pairs i < j of the Pearson correlation of log returns over bars
// t−w+1..t; NaN before. Pairs in which an asset did not move over the
// window (zero variance) have no correlation and are left out of the
// mean; if no pair is left the value is 0.
//
// The window sums of each return and of each pairwise product are updated
// in O(N²) per bar about per-asset shifts and recomputed exactly every w
// bars (as vol.Rolling does for one series), so a bar costs O(N²), not
// O(N²·w).
func avgCorrTo(dst []float64, data []*assetData, w int) {
	n := len(data)
	shift := make([]float64, n)
	s1 := make([]float64, n)
	s2 := make([]float64, n*n) // upper triangle used, s2[i*n+j], i ≤ j
	d := make([]float64, n)
	dOut := make([]float64, n)
	varOK := make([]bool, n)
	cv := make([]float64, n)   // centred sum of squares per asset
	peak := make([]float64, n) // largest raw sum of squares since re-anchoring (noise scale, see vol.Rolling.Var)
	since := 0
	for t := range dst {
		if t < w {
			dst[t] = math.NaN()
			continue
		}
		if since == 0 || since >= w {
			for i := range n {
				shift[i] = data[i].ret[t-w+1]
				s1[i] = 0
			}
			clear(s2)
			for s := t - w + 1; s <= t; s++ {
				for i := range n {
					d[i] = data[i].ret[s] - shift[i]
					s1[i] += d[i]
				}
				for i := range n {
					for j := i; j < n; j++ {
						s2[i*n+j] += d[i] * d[j]
					}
				}
			}
			for i := range n {
				peak[i] = s2[i*n+i]
			}
			since = 1
		} else {
			for i := range n {
				d[i] = data[i].ret[t] - shift[i]
				dOut[i] = data[i].ret[t-w] - shift[i]
				s1[i] += d[i] - dOut[i]
			}
			for i := range n {
				for j := i; j < n; j++ {
					s2[i*n+j] += d[i]*d[j] - dOut[i]*dOut[j]
				}
				peak[i] = math.Max(peak[i], s2[i*n+i]+dOut[i]*dOut[i])
			}
			since++
		}
		fw := float64(w)
		for i := range n {
			cv[i] = s2[i*n+i] - s1[i]*s1[i]/fw
			// Below this the centred sum is rounding noise of a window
			// that did not move (the floor of vol.Rolling.Var).
			varOK[i] = cv[i] > 1e-15*fw*peak[i]
		}
		var sum float64
		pairs := 0
		for i := range n {
			if !varOK[i] {
				continue
			}
			for j := i + 1; j < n; j++ {
				if !varOK[j] {
					continue
				}
				c := (s2[i*n+j] - s1[i]*s1[j]/fw) / math.Sqrt(cv[i]*cv[j])
				sum += math.Max(-1, math.Min(1, c))
				pairs++
			}
		}
		if pairs == 0 {
			dst[t] = 0
		} else {
			dst[t] = sum / float64(pairs)
		}
	}
}

// indexDrawdownTo writes index_drawdown into dst: the drawdown from its
// running peak of the equal-weight index rebalanced every bar,
// I_0 = 1, I_t = I_{t−1} · (1/N) Σ_i close_{i,t}/close_{i,t−1}.
func indexDrawdownTo(dst []float64, p *market.Panel) {
	level, peak := 1.0, 1.0
	n := float64(p.N())
	for t := range dst {
		if t > 0 {
			cur, prev := p.CloseRow(t), p.CloseRow(t-1)
			var g float64
			for i := range cur {
				g += cur[i] / prev[i]
			}
			level *= g / n
		}
		peak = math.Max(peak, level)
		dst[t] = level/peak - 1
	}
}
