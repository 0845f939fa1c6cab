package features_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/vol"
)

const testRoot = 77031 // root seed of every random stream in these tests

// synthPanel returns a panel of T bars × N assets whose log returns are a
// GARCH market factor plus GARCH idiosyncratic noise (so volatility
// clusters and assets correlate), with intrabar highs and lows, open at a
// small gap from the previous close, and lognormal volumes of which about
// 1 % are zero.
func synthPanel(tb testing.TB, T, N int, interval time.Duration, stream uint64) *market.Panel {
	tb.Helper()
	rng := seed.New(testRoot, seed.Test, stream)
	factor := make([]float64, T)
	g := vol.GARCH{Mu: 0.05, Omega: 0.2, Alpha: 0.1, Beta: 0.85}
	g.SimulateTo(factor, rng, g.LongRunVariance())
	spec := market.PanelSpec{Interval: interval, Times: make([]int64, T)}
	for i := range N {
		spec.Assets = append(spec.Assets, "A"+strconv.Itoa(i))
	}
	for t := range T {
		spec.Times[t] = 1_500_000_000 + int64(t)*int64(interval/time.Second)
	}
	for _, s := range []*[]float64{&spec.Open, &spec.High, &spec.Low, &spec.Close, &spec.Volume} {
		*s = make([]float64, T*N)
	}
	idio := make([]float64, T)
	for i := range N {
		gi := vol.GARCH{Omega: 0.1 + 0.05*float64(i), Alpha: 0.08, Beta: 0.88}
		gi.SimulateTo(idio, rng, gi.LongRunVariance())
		price := 100 * math.Exp(float64(i))
		for t := range T {
			k := t*N + i
			open := price * math.Exp(0.001*rng.NormFloat64())
			price *= math.Exp((0.7*factor[t] + 0.7*idio[t]) / 100)
			spec.Open[k], spec.Close[k] = open, price
			spec.High[k] = math.Max(open, price) * math.Exp(0.01*math.Abs(rng.NormFloat64()))
			spec.Low[k] = math.Min(open, price) * math.Exp(-0.01*math.Abs(rng.NormFloat64()))
			if rng.Float64() > 0.01 {
				spec.Volume[k] = 1000 * math.Exp(0.5*rng.NormFloat64())
			}
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// perturbAfter returns a copy of p in which every bar after t0 is changed:
// open, high, low and close multiplied by independent factors in
// [0.5, 2] (high and low then widened to keep OHLC consistent), volume
// multiplied by a factor in [0, 3] or set to 0.
func perturbAfter(tb testing.TB, p *market.Panel, t0 int, rng *rand.Rand) *market.Panel {
	tb.Helper()
	T, N := p.T(), p.N()
	spec := market.PanelSpec{Assets: p.Assets(), Interval: p.Interval(), Times: make([]int64, T)}
	for _, s := range []*[]float64{&spec.Open, &spec.High, &spec.Low, &spec.Close, &spec.Volume} {
		*s = make([]float64, T*N)
	}
	f := func() float64 { return math.Exp((2*rng.Float64() - 1) * math.Ln2) }
	for t := range T {
		spec.Times[t] = p.Unix(t)
		for i := range N {
			k := t*N + i
			o, h, l, c, v := p.Open(t, i), p.High(t, i), p.Low(t, i), p.Close(t, i), p.Volume(t, i)
			if t > t0 {
				o, c = o*f(), c*f()
				h = math.Max(h*f(), math.Max(o, c))
				l = math.Min(l*f(), math.Min(o, c))
				v *= 3 * rng.Float64()
				if rng.Float64() < 0.1 {
					v = 0
				}
			}
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = o, h, l, c, v
		}
	}
	q, err := market.NewPanel(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// realDailyPanel builds a panel of the named daily files from the shared
// real data on the calendar common to all of them, up to 2024-12-31 (later
// bars are held back). It skips the test when the data are absent.
func realDailyPanel(tb testing.TB, assets ...string) *market.Panel {
	tb.Helper()
	p, err := market.NewPanel(market.PanelSpec(*realdata.Daily(tb, assets, time.Time{}, time.Time{})))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
