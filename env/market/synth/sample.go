package synth

import (
	"math"
	"math/rand/v2"
)

// tSampler draws unit-variance Student-t variates with nu degrees of
// freedom (nu == 0: standard normal). A t variate is Z/√(χ²_ν/ν) with
// χ²_ν = 2·Gamma(ν/2); scaled to unit variance it is Z·√((ν−2)/(2G)).
type tSampler struct {
	nu    float64
	scale float64 // √((ν−2)/2)
	gamma gammaSampler
}

func newTSampler(nu float64) tSampler {
	if nu == 0 {
		return tSampler{}
	}
	return tSampler{nu: nu, scale: math.Sqrt((nu - 2) / 2), gamma: newGammaSampler(nu / 2)}
}

func (s *tSampler) draw(rng *rand.Rand) float64 {
	z := rng.NormFloat64()
	if s.nu == 0 {
		return z
	}
	return z * s.scale / math.Sqrt(s.gamma.draw(rng))
}

// gammaSampler draws Gamma(shape, 1) variates for shape ≥ 1 by the
// squeeze-rejection method of Marsaglia & Tsang (2000), "A simple method for
// generating gamma variables", ACM TOMS 26(3).
type gammaSampler struct {
	d, c float64
}

func newGammaSampler(shape float64) gammaSampler {
	if shape < 1 {
		panic("synth: gamma sampler needs shape ≥ 1")
	}
	d := shape - 1.0/3
	return gammaSampler{d: d, c: 1 / math.Sqrt(9*d)}
}

func (g *gammaSampler) draw(rng *rand.Rand) float64 {
	for {
		x := rng.NormFloat64()
		v := 1 + g.c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return g.d * v
		}
		if math.Log(u) < 0.5*x2+g.d*(1-v+math.Log(v)) {
			return g.d * v
		}
	}
}

// poisson draws a Poisson(λ) count by Knuth's product of uniforms, given
// limit = exp(−λ) (precomputed: it is constant per regime). λ is at most 7
// here (1 per day × a 7-day bar), where this is exact and cheap; it costs
// one uniform when the count is 0. limit == 1 (λ = 0) draws nothing.
func poisson(rng *rand.Rand, limit float64) int {
	if limit >= 1 {
		return 0
	}
	k := 0
	p := rng.Float64()
	for p > limit {
		k++
		p *= rng.Float64()
	}
	return k
}

// categorical draws an index with probabilities p (summing to 1).
func categorical(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	for k, q := range p[:len(p)-1] {
		if u < q {
			return k
		}
		u -= q
	}
	return len(p) - 1
}

// uniformOpen0 returns a uniform variate on (0, 1], safe for math.Log.
func uniformOpen0(rng *rand.Rand) float64 { return 1 - rng.Float64() }
