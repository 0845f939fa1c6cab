package envtest

import (
	"fmt"
	"math"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/internal/seed"
)

// RandomPanel returns a reproducible synthetic daily panel of T bars and N
// assets for tests: each asset follows a geometric random walk (daily
// log-return σ between 2% and 6%, opens gapping from the previous close by
// σ/4), highs and lows bracket open and close, and volumes are log-normal
// around 10⁶ quote units with about 2% zero-volume bars. Bars open at
// 2020-01-01T00:00:00Z + t days.
func RandomPanel(T, N int, seedv uint64) *market.Panel {
	rng := seed.New(seedv, seed.Test, 9000)
	spec := market.PanelSpec{
		Interval: 24 * time.Hour, Times: make([]int64, T),
		Open: make([]float64, T*N), High: make([]float64, T*N), Low: make([]float64, T*N),
		Close: make([]float64, T*N), Volume: make([]float64, T*N),
	}
	sigma := make([]float64, N)
	for i := range sigma {
		spec.Assets = append(spec.Assets, fmt.Sprintf("A%d", i))
		sigma[i] = 0.02 + 0.04*rng.Float64()
	}
	const epoch = 1577836800 // 2020-01-01T00:00:00Z
	for t := 0; t < T; t++ {
		spec.Times[t] = epoch + int64(t)*86400
		for i := 0; i < N; i++ {
			k := t*N + i
			var prev float64
			if t == 0 {
				prev = 100 * math.Exp(rng.NormFloat64())
			} else {
				prev = spec.Close[k-N]
			}
			o := prev * math.Exp(sigma[i]/4*rng.NormFloat64())
			c := o * math.Exp(sigma[i]*rng.NormFloat64())
			spec.Open[k], spec.Close[k] = o, c
			spec.High[k] = max(o, c) * math.Exp(math.Abs(sigma[i]/2*rng.NormFloat64()))
			spec.Low[k] = min(o, c) * math.Exp(-math.Abs(sigma[i]/2*rng.NormFloat64()))
			if rng.IntN(50) != 0 {
				spec.Volume[k] = 1e6 * math.Exp(rng.NormFloat64()) / c
			}
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		panic("envtest: RandomPanel: " + err.Error()) // unreachable: the construction is valid by design
	}
	return p
}

// Feature names of Features.
const (
	FeatLogReturn = "log_return" // log(close_t/close_{t−1}); NaN at bar 0
	FeatVol10     = "vol10"      // standard deviation of the last 10 log returns; NaN before bar 10
	FeatRange     = "range"      // log(high_t/low_t)
	GlobalMean    = "mean_return"
)

// Features returns a small causal feature set for p: per asset the log
// return, a 10-bar rolling volatility and the log high-low range, and the
// cross-sectional mean log return as a global feature. Every value at t
// uses bars ≤ t only, so an env built on it must pass the look-ahead probe.
func Features(p *market.Panel) *features.Set {
	T, N := p.T(), p.N()
	fs := features.NewSet(T, N, []string{FeatLogReturn, FeatVol10, FeatRange}, []string{GlobalMean})
	g := fs.GlobalSeries(0)
	for t := 1; t < T; t++ {
		g[t] = 0
	}
	for i := 0; i < N; i++ {
		lr, vol, rg := fs.Series(i, 0), fs.Series(i, 1), fs.Series(i, 2)
		for t := 0; t < T; t++ {
			rg[t] = math.Log(p.High(t, i) / p.Low(t, i))
			if t == 0 {
				continue
			}
			lr[t] = p.LogReturn(t, i)
			g[t] += lr[t] / float64(N)
			if t >= 10 {
				var m, s float64
				for _, x := range lr[t-9 : t+1] {
					m += x
				}
				m /= 10
				for _, x := range lr[t-9 : t+1] {
					s += (x - m) * (x - m)
				}
				vol[t] = math.Sqrt(s / 9)
			}
		}
	}
	return fs
}
