package baseline

import (
	"math"
	"math/rand/v2"
)

type fixedKind int

const (
	fixedEqual    fixedKind = iota // cash 0, 1/N each asset
	fixedCash                      // cash 1
	fixedConstant                  // Config.Weights, cash the rest
)

// fixed is a target that never changes: equal-weight, buy-and-hold (with
// the once schedule), cash and constant.
type fixed struct {
	kind    fixedKind
	weights []float64
}

func (f *fixed) reset() {}

func (f *fixed) target(dst []float64, s *step) error {
	switch f.kind {
	case fixedEqual:
		equalRisky(dst)
	case fixedCash:
		clear(dst)
		dst[0] = 1
	case fixedConstant:
		if len(f.weights) != s.n {
			return configErr("constant: %d weights for %d assets (give one weight per asset; cash takes the rest)", len(f.weights), s.n)
		}
		sum := 0.0
		for i, w := range f.weights {
			dst[i+1] = w
			sum += w
		}
		dst[0] = math.Max(0, 1-sum)
		if sum > 1 {
			// Within Validate's 1e-9 tolerance: renormalise the rounding away.
			for i := 1; i < len(dst); i++ {
				dst[i] /= sum
			}
		}
	}
	return nil
}

// dirichlet draws its target from Dirichlet(α, …, α) over cash and the N
// assets: Gamma(α) variates normalised by their sum.
type dirichlet struct {
	alpha float64
}

func (d *dirichlet) reset() {}

func (d *dirichlet) target(dst []float64, s *step) error {
	if s.rng == nil {
		panic("baseline: random-dirichlet needs an rng")
	}
	sum := 0.0
	for i := range dst {
		dst[i] = gamma(s.rng, d.alpha)
		sum += dst[i]
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		// Possible only for tiny α, where every variate underflows.
		s.fallback("degenerate draw → uniform", "every Gamma(%g) variate was %v; using the uniform portfolio", d.alpha, sum)
		for i := range dst {
			dst[i] = 1 / float64(len(dst))
		}
		return nil
	}
	for i := range dst {
		dst[i] /= sum
	}
	return nil
}

// gamma draws a Gamma(a, 1) variate: Exp(1) for a = 1, otherwise the
// squeeze method of Marsaglia and Tsang (2000), with the boost
// Gamma(a) = Gamma(a+1)·U^{1/a} for a < 1.
func gamma(rng *rand.Rand, a float64) float64 {
	if a == 1 {
		return rng.ExpFloat64()
	}
	boost := 1.0
	if a < 1 {
		boost = math.Pow(rng.Float64(), 1/a)
		a++
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return boost * d * v
		}
	}
}

// bsh is the best stock in hindsight: at its first decision it picks the
// asset whose close grows most from that bar to the horizon (the last bar
// of the traded segment, Policy.SetHorizon; by default the panel's last
// bar), reading the future through History.Panel(), and holds only it.
type bsh struct {
	best int
}

func (b *bsh) reset() {}

func (b *bsh) target(dst []float64, s *step) error {
	if s.first {
		// Deliberately reads past the decision bar: bsh is the
		// not-implementable reference of the online-portfolio literature.
		pan := s.h.Panel()
		end := s.horizon
		switch {
		case end < 0 || end >= pan.T():
			end = pan.T() - 1
		case end <= s.t:
			s.fallback("horizon not after the decision → panel end", "the horizon bar %d is not after the first decision at bar %d; ranking the assets by their growth to the panel's last bar %d", end, s.t, pan.T()-1)
			end = pan.T() - 1
		}
		b.best = 0
		bestGrowth := math.Inf(-1)
		for i := range s.n {
			if g := pan.Close(end, i) / pan.Close(s.t, i); g > bestGrowth {
				b.best, bestGrowth = i, g
			}
		}
	}
	clear(dst)
	dst[b.best+1] = 1
	return nil
}
