package features_test

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
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
// real data (../shared/data/real from the module root) on the calendar
// common to all of them, up to 2024-12-31 (later bars are held back). It
// skips the test when the data are absent.
func realDailyPanel(tb testing.TB, assets ...string) *market.Panel {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("module root not found")
		}
		dir = parent
	}
	base := filepath.Join(dir, "..", "shared", "data", "real", "daily")
	type bar struct{ o, h, l, c, v float64 }
	series := make([]map[int64]bar, len(assets))
	for a, name := range assets {
		f, err := os.Open(filepath.Join(base, name+".csv"))
		if err != nil {
			tb.Skipf("real data not available (%v)", err)
		}
		series[a] = map[int64]bar{}
		sc := bufio.NewScanner(f)
		sc.Scan()
		for sc.Scan() {
			fs := strings.Split(sc.Text(), ",")
			ts, err := time.Parse(time.RFC3339, fs[0])
			if err != nil {
				tb.Fatal(err)
			}
			if ts.Year() >= 2025 {
				break
			}
			var x [5]float64
			for j := range x {
				if x[j], err = strconv.ParseFloat(fs[j+1], 64); err != nil {
					tb.Fatal(err)
				}
			}
			series[a][ts.Unix()] = bar{x[0], x[1], x[2], x[3], x[4]}
		}
		f.Close()
	}
	var times []int64
	for ts := range series[0] {
		ok := true
		for _, s := range series[1:] {
			if _, in := s[ts]; !in {
				ok = false
			}
		}
		if ok {
			times = append(times, ts)
		}
	}
	slices.Sort(times)
	spec := market.PanelSpec{Assets: assets, Times: times, Interval: 24 * time.Hour}
	for _, ts := range times {
		for _, s := range series {
			b := s[ts]
			spec.Open = append(spec.Open, b.o)
			spec.High = append(spec.High, b.h)
			spec.Low = append(spec.Low, b.l)
			spec.Close = append(spec.Close, b.c)
			spec.Volume = append(spec.Volume, b.v)
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
