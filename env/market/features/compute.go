package features

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/vol"
)

// Report summarises the GARCH refits of one Compute call, summed over
// assets.
type Report struct {
	GarchFits         int // refits that produced parameters
	GarchFailed       int // refits that returned an error (e.g. a window of constant prices); the previous parameters, or the EWMA fallback, stayed in force
	GarchNotConverged int // refits that stopped without converging; their best feasible point was used
	GarchNearUnitRoot int // refits flagged vol.GARCHFit.NearUnitRoot (α+β within 1e-3 of 1)
}

func (r *Report) add(o Report) {
	r.GarchFits += o.GarchFits
	r.GarchFailed += o.GarchFailed
	r.GarchNotConverged += o.GarchNotConverged
	r.GarchNearUnitRoot += o.GarchNearUnitRoot
}

// Compute builds the features selected by c for every bar of p. See
// ComputeReport.
func Compute(p *market.Panel, c Config) (*Set, error) {
	s, _, err := ComputeReport(p, c)
	return s, err
}

// ComputeReport builds the features selected by c for every bar of p and
// reports on the GARCH refits. Value t of every series uses bars ≤ t of p
// only; values before a feature's warm-up are NaN (see the package
// documentation for each warm-up). Assets are processed concurrently, at
// most GOMAXPROCS at a time; the result does not depend on the
// scheduling.
//
// It returns an error for an invalid config or a panel the selection
// cannot be built on (avg_corr_W needs at least two assets).
func ComputeReport(p *market.Panel, c Config) (*Set, Report, error) {
	if p == nil {
		panic("features: nil panel")
	}
	if err := c.Validate(); err != nil {
		return nil, Report{}, err
	}
	asset := make([]spec, len(c.Asset))
	for f, name := range c.Asset {
		asset[f], _ = parse(name) // validated above
	}
	global := make([]spec, len(c.Global))
	needEWMA := false
	for g, name := range c.Global {
		global[g], _ = parse(name)
		switch global[g].kind {
		case kAvgCorr:
			if p.N() < 2 {
				return nil, Report{}, fmt.Errorf("features: %s needs at least two assets, the panel has %d", name, p.N())
			}
		case kAvgEWMAVol:
			needEWMA = true
		}
	}
	set := NewSet(p.T(), p.N(), c.Asset, c.Global)
	data := make([]*assetData, p.N())

	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), p.N()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := newAssetData(p, i)
				if needEWMA {
					d.ewmaVol(c)
				}
				for f, s := range asset {
					d.build(set.Series(i, f), s, c)
				}
				data[i] = d
			}
		}()
	}
	for i := range p.N() {
		next <- i
	}
	close(next)
	wg.Wait()

	var rep Report
	for _, d := range data {
		rep.add(d.report)
	}
	for g, s := range global {
		dst := set.GlobalSeries(g)
		switch s.kind {
		case kAvgCorr:
			avgCorrTo(dst, data, s.a)
		case kAvgEWMAVol:
			for t := range dst {
				var sum float64
				for _, d := range data {
					sum += d.ewma[t]
				}
				dst[t] = sum / float64(len(data))
			}
		case kIndexDrawdown:
			indexDrawdownTo(dst, p)
		default:
			return nil, Report{}, errors.New("features: internal error: unhandled global feature")
		}
	}
	return set, rep, nil
}

// assetData holds one asset's series and the intermediate results shared
// by several features.
type assetData struct {
	p      *market.Panel
	i      int
	close  []float64 // close_t
	ret    []float64 // ret[t] = log(close_t/close_{t−1}); ret[0] = NaN
	ewma   []float64 // ewma_vol; nil until computed
	rvol   map[int][]float64
	g      *garchRun // nil until a GARCH feature is built
	report Report
}

func newAssetData(p *market.Panel, i int) *assetData {
	d := &assetData{p: p, i: i, close: p.CloseSeriesTo(nil, i), rvol: map[int][]float64{}}
	d.ret = make([]float64, len(d.close))
	d.ret[0] = math.NaN()
	for t := 1; t < len(d.close); t++ {
		d.ret[t] = math.Log(d.close[t] / d.close[t-1])
	}
	return d
}

// rvolOf returns the realised volatility series of window w: at bar t the
// sample standard deviation of ret[t−w+1..t], NaN for t < w.
func (d *assetData) rvolOf(w int) []float64 {
	if s, ok := d.rvol[w]; ok {
		return s
	}
	s := make([]float64, len(d.ret))
	s[0] = math.NaN()
	if len(s) > 1 {
		vol.RealizedVolTo(s[1:], d.ret[1:], w)
	}
	d.rvol[w] = s
	return s
}

// ewmaVol returns the EWMA volatility: at bar t the square root of the
// renormalised EWMA of ret[1..t]², NaN while fewer than EWMAMinBars
// returns are available.
func (d *assetData) ewmaVol(c Config) []float64 {
	if d.ewma != nil {
		return d.ewma
	}
	e := make([]float64, len(d.ret))
	e[0] = math.NaN()
	if len(e) > 1 {
		vol.EWMAAdjustedTo(e[1:], d.ret[1:], c.EWMALambda)
	}
	for t := range e {
		if t < c.EWMAMinBars {
			e[t] = math.NaN()
		} else {
			e[t] = math.Sqrt(e[t])
		}
	}
	d.ewma = e
	return e
}

// build writes feature s into dst.
func (d *assetData) build(dst []float64, s spec, c Config) {
	T := len(dst)
	switch s.kind {
	case kLogRet:
		copy(dst, d.ret)
	case kRVol:
		copy(dst, d.rvolOf(s.a))
	case kEWMAVol:
		copy(dst, d.ewmaVol(c))
	case kGarchVol, kGarchF:
		d.garch(dst, s, c)
	case kVolRatio:
		short, long := d.rvolOf(s.a), d.rvolOf(s.b)
		for t := range dst {
			switch {
			case math.IsNaN(long[t]):
				dst[t] = math.NaN()
			case long[t] == 0:
				dst[t] = 1 // no movement over the long window, hence none over the short one
			default:
				dst[t] = short[t] / long[t]
			}
		}
	case kVolumeZ:
		x := make([]float64, T)
		for t := range x {
			x[t] = math.Log1p(d.p.DollarVolume(t, d.i))
		}
		w := s.a
		var m vol.Rolling
		for t := range dst {
			if t < w {
				dst[t] = math.NaN()
				continue
			}
			m.Update(x, t-1, w)
			sd := math.Sqrt(m.Var())
			if sd == 0 {
				dst[t] = 0
			} else {
				dst[t] = (x[t] - m.Mean()) / sd
			}
		}
	case kDrawdown:
		peak := math.Inf(-1)
		for t, c := range d.close {
			peak = math.Max(peak, c)
			dst[t] = c/peak - 1
		}
	case kMom:
		for t := range dst {
			if t < s.a {
				dst[t] = math.NaN()
			} else {
				dst[t] = math.Log(d.close[t] / d.close[t-s.a])
			}
		}
	case kPKVol, kGKVol:
		o, h, l := make([]float64, T), make([]float64, T), make([]float64, T)
		for t := range T {
			o[t], h[t], l[t] = d.p.Open(t, d.i), d.p.High(t, d.i), d.p.Low(t, d.i)
		}
		if s.kind == kPKVol {
			vol.ParkinsonTo(dst, h, l, s.a)
		} else {
			vol.GarmanKlassTo(dst, o, h, l, d.close, s.a)
		}
	default:
		panic("features: internal error: unhandled asset feature")
	}
}

// garch writes garch_vol (s.kind == kGarchVol) or garch_fH (H = s.a) into
// dst from the asset's refit schedule, run once per asset.
func (d *assetData) garch(dst []float64, s spec, c Config) {
	if d.g == nil {
		var rep Report
		d.g, rep = runGarch(d.ret, c)
		d.report.add(rep)
	}
	g, ewma := d.g, d.ewmaVol(c)
	for t := range dst {
		switch {
		case t == 0:
			dst[t] = math.NaN()
		case g.regime[t] < 0:
			// EWMA fallback: RiskMetrics is GARCH(1,1) with ω = 0, α = 1−λ,
			// β = λ, whose forecasts at every horizon equal the next-bar
			// variance; the conditional variance of bar t is the forecast
			// made at t−1.
			if s.kind == kGarchVol {
				dst[t] = ewma[t-1]
			} else {
				dst[t] = ewma[t]
			}
		case s.kind == kGarchVol:
			dst[t] = math.Sqrt(g.cond[t]) / 100
		default:
			dst[t] = math.Sqrt(g.params[g.regime[t]].Forecast(g.next[t], s.a)) / 100
		}
	}
}
