package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// asset is the state of one synthetic asset while a panel is generated.
type asset struct {
	rng     *rand.Rand
	volMult float64             // volmult_i
	loading float64             // loading_i
	load    [numRegimes]float64 // loading_i·√ρ_r: weight of the market factor
	idio    [numRegimes]float64 // √(1 − loading_i²·ρ_r): weight of the own shock
	alpha   float64             // per-bar drift offset (log return)
	price   float64             // last close
	h       float64             // idiosyncratic GARCH variance multiplier for the current bar
	logDV   float64             // log median dollar volume per bar
	noise   float64             // AR(1) log-volume noise
	noiseSD float64             // its innovation standard deviation
	tdist   tSampler
}

// Generate draws a synthetic market from c, fully determined by root: the
// same (c, root) gives a bit-identical panel. It returns the panel (assets
// SYN01…, bars Start + t·Interval) and the true regime of every bar, the
// regime that drove that bar's move from the previous close to its close.
//
// Random streams come from internal/seed with purpose seed.Synth: index 0
// drives the regime chain, the market factor and market-wide jumps; index
// 1+i drives asset i (its parameters, idiosyncratic shocks, jumps, bar
// ranges and volume). Hence asset i's path does not depend on how many
// assets are generated, and extending Bars leaves earlier bars unchanged.
func Generate(c Config, root uint64) (*market.Panel, []market.Regime, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	bp := c.barParams()
	nA, nT := c.Assets, c.Bars
	names := AssetNames(nA)
	spec := market.PanelSpec{
		Assets:   make([]string, nA),
		Times:    make([]int64, nT),
		Interval: c.Interval,
		Open:     make([]float64, nT*nA),
		High:     make([]float64, nT*nA),
		Low:      make([]float64, nT*nA),
		Close:    make([]float64, nT*nA),
		Volume:   make([]float64, nT*nA),
	}
	step := int64(c.Interval.Seconds())
	start := c.Start.Unix()
	for t := range spec.Times {
		spec.Times[t] = start + int64(t)*step
	}

	assets := make([]asset, nA)
	for i := range assets {
		spec.Assets[i] = names[i]
		assets[i] = newAsset(seed.New(root, seed.Synth, uint64(i)+1), c, bp)
	}

	mrng := seed.New(root, seed.Synth, 0)
	mt := newTSampler(c.TailDOF)
	regimes := make([]market.Regime, nT)
	labels := market.Regimes()
	omega := 1 - bp.alpha - bp.beta
	state := categorical(mrng, bp.stationary[:])
	hm := 1.0 // market-factor GARCH variance multiplier, started at its mean
	for t := 0; t < nT; t++ {
		if t > 0 {
			state = categorical(mrng, bp.trans[state][:])
		}
		regimes[t] = labels[state]
		ef := mt.draw(mrng)
		var jump float64
		for range poisson(mrng, bp.jumpLimit[state]) {
			jump += bp.jumpMean[state] + bp.jumpVol*mrng.NormFloat64()
		}
		sig, mu := bp.vol[state], bp.drift[state]
		sqrtHm := math.Sqrt(hm)
		row := t * nA
		for i := range assets {
			a := &assets[i]
			ei := a.tdist.draw(a.rng)
			load, idio := a.load[state], a.idio[state]
			s := sig * a.volMult
			sqrtHi := math.Sqrt(a.h)
			diff := s * (load*sqrtHm*ef + idio*sqrtHi*ei)
			condVar := s * s * (load*load*hm + idio*idio*a.h)
			drift := mu*a.loading*a.volMult + a.alpha
			r := drift + diff + a.loading*a.volMult*jump
			for range poisson(a.rng, bp.idioLimit) {
				r += a.volMult * (c.IdioJumpMean + c.IdioJumpVol*a.rng.NormFloat64())
			}

			o := a.price
			cl := o * math.Exp(r)
			// High and low: extremes of a Brownian bridge from 0 to r with
			// volatility sb over the bar. P(max ≥ m) = exp(−2m(m−r)/sb²)
			// for m ≥ max(0, r), inverted with a uniform; likewise the min.
			// The two are drawn independently: their marginals are exact,
			// and against the joint law this raises E[ln²(H/L)] by ~3 %.
			sb := c.RangeScale * math.Sqrt(condVar)
			v2 := 2 * sb * sb
			up := 0.5 * (r + math.Sqrt(r*r-v2*math.Log(uniformOpen0(a.rng))))
			dn := 0.5 * (r - math.Sqrt(r*r-v2*math.Log(uniformOpen0(a.rng))))
			hi := math.Max(o*math.Exp(up), math.Max(o, cl))
			lo := math.Min(o*math.Exp(dn), math.Min(o, cl))

			// Dollar volume: elasticity to a blend of the conditional and the
			// realised squared move, relative to the asset's typical variance,
			// times a persistent log-normal noise.
			a.noise = bp.volumePersist*a.noise + a.noiseSD*a.rng.NormFloat64()
			dev := r - drift
			blend := 0.5 * (condVar + dev*dev)
			typical := a.volMult * bp.typicalVol
			logDV := a.logDV + 0.5*c.VolumeVolElasticity*math.Log(blend/(typical*typical)) + a.noise
			k := row + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k] = o, hi, lo, cl
			spec.Volume[k] = math.Exp(logDV) / cl
			a.price = cl
			a.h = omega + bp.alpha*a.h*ei*ei + bp.beta*a.h
		}
		hm = omega + bp.alpha*hm*ef*ef + bp.beta*hm
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		// Every price is a positive finite product of exponentials unless
		// the parameters overflow float64 over a very long sample.
		return nil, nil, fmt.Errorf("synth: generated panel is invalid (parameters too extreme for %d bars?): %w", nT, err)
	}
	return p, regimes, nil
}

// newAsset draws asset parameters from the asset's own stream, in a fixed
// order: volatility multiplier, loading, drift offset, initial price
// (log-uniform on [1, 1000)), median dollar volume, initial volume noise.
func newAsset(rng *rand.Rand, c Config, bp barParams) asset {
	a := asset{rng: rng, h: 1, tdist: newTSampler(c.TailDOF)}
	a.volMult = math.Exp(c.VolDispersion * rng.NormFloat64())
	a.loading = c.LoadingMin + (1-c.LoadingMin)*rng.Float64()
	for r := range numRegimes {
		a.load[r] = a.loading * math.Sqrt(bp.corr[r])
		a.idio[r] = math.Sqrt(1 - a.loading*a.loading*bp.corr[r])
	}
	a.alpha = bp.driftDisp * rng.NormFloat64()
	a.price = math.Pow(10, 3*rng.Float64())
	a.logDV = math.Log(c.VolumeUSD*bp.dt) + c.VolumeDispersion*rng.NormFloat64()
	a.noiseSD = c.VolumeNoise * math.Sqrt(1-bp.volumePersist*bp.volumePersist)
	a.noise = c.VolumeNoise * rng.NormFloat64()
	return a
}

// AssetNames returns the names of the synthetic market's n assets: SYN01,
// SYN02, … (zero-padded to the width of n, at least two digits).
func AssetNames(n int) []string {
	width := max(2, len(fmt.Sprint(n)))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SYN%0*d", width, i+1)
	}
	return out
}
