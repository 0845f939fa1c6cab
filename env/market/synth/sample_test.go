package synth

import (
	"math"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestTSampler compares the unit-variance t sampler with gonum's Student's t
// CDF (an independent implementation) by the Kolmogorov–Smirnov distance.
// With n = 50,000 the 0.1 % critical value is 1.95/√n = 0.0087.
func TestTSampler(t *testing.T) {
	const n = 50000
	for _, nu := range []float64{0, 2.5, 3.5, 5, 30} {
		s := newTSampler(nu)
		rng := seed.New(1, seed.Test, uint64(nu*10))
		x := make([]float64, n)
		for i := range x {
			x[i] = s.draw(rng)
		}
		slices.Sort(x)
		var cdf func(float64) float64
		if nu == 0 {
			cdf = distuv.UnitNormal.CDF
		} else {
			// Unit variance: t_ν scaled by √((ν−2)/ν).
			d := distuv.StudentsT{Mu: 0, Sigma: math.Sqrt((nu - 2) / nu), Nu: nu}
			cdf = d.CDF
		}
		var ks float64
		for i, v := range x {
			f := cdf(v)
			ks = math.Max(ks, math.Max(math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f)))
		}
		if ks > 1.95/math.Sqrt(n) {
			t.Errorf("nu %v: KS distance %.4f exceeds %.4f", nu, ks, 1.95/math.Sqrt(n))
		}
	}
}

// TestGammaAndPoisson checks sample moments against closed forms at 5
// standard errors: Gamma(a) has mean a and variance a; Poisson(λ) has mean
// and variance λ.
func TestGammaAndPoisson(t *testing.T) {
	const n = 200000
	rng := seed.New(2, seed.Test, 0)
	for _, a := range []float64{1, 1.25, 1.75, 15} {
		g := newGammaSampler(a)
		var m, m2 float64
		for range n {
			x := g.draw(rng)
			m += x
			m2 += x * x
		}
		m /= n
		v := m2/n - m*m
		// se of the mean √(a/n); of the variance √((μ4 − a²)/n) with
		// μ4 = 3a² + 6a for the gamma distribution.
		if math.Abs(m-a) > 5*math.Sqrt(a/n) || math.Abs(v-a) > 5*math.Sqrt((2*a*a+6*a)/n) {
			t.Errorf("gamma(%v): mean %.4f variance %.4f", a, m, v)
		}
	}
	for _, lambda := range []float64{0, 0.005, 0.3, 2, 7} {
		limit := math.Exp(-lambda)
		var m, m2 float64
		for range n {
			k := float64(poisson(rng, limit))
			m += k
			m2 += k * k
		}
		m /= n
		v := m2/n - m*m
		if lambda == 0 {
			if m != 0 {
				t.Errorf("poisson(0) drew %v on average", m)
			}
			continue
		}
		// se of the mean √(λ/n); of the variance √((λ + 2λ²)/n).
		if math.Abs(m-lambda) > 5*math.Sqrt(lambda/n) || math.Abs(v-lambda) > 5*math.Sqrt((lambda+2*lambda*lambda)/n) {
			t.Errorf("poisson(%v): mean %.5f variance %.5f", lambda, m, v)
		}
	}
}

func TestCategorical(t *testing.T) {
	const n = 200000
	p := []float64{0.5, 0.2, 0, 0.3}
	rng := seed.New(3, seed.Test, 0)
	var count [4]float64
	for range n {
		count[categorical(rng, p)]++
	}
	for k := range p {
		f := count[k] / n
		if math.Abs(f-p[k]) > 5*math.Sqrt(p[k]*(1-p[k])/n) {
			t.Errorf("category %d frequency %.4f, want %.2f", k, f, p[k])
		}
	}
}
