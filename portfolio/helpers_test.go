package portfolio

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/realdata"
)

// oneFactor returns μ and Σ of a one-factor model: Σ = σₘ²ββᵀ + diag(s²).
func oneFactor(rng *rand.Rand, n int, muScale float64) ([]float64, *mat.SymDense) {
	beta := make([]float64, n)
	s2 := make([]float64, n)
	mu := make([]float64, n)
	for i := range n {
		beta[i] = 0.5 + rng.Float64()
		s := 0.01 + 0.03*rng.Float64()
		s2[i] = s * s
		mu[i] = muScale * (0.5 + rng.Float64())
	}
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := 0.03 * 0.03 * beta[i] * beta[j]
			if i == j {
				v += s2[i]
			}
			cov.SetSym(i, j, v)
		}
	}
	return mu, cov
}

// returnsFrom draws T rows of Gaussian returns with mean mu and covariance cov.
func returnsFrom(rng *rand.Rand, t int, mu []float64, cov *mat.SymDense) *mat.Dense {
	n := len(mu)
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		panic("covariance not PD")
	}
	var l mat.TriDense
	ch.LTo(&l)
	r := mat.NewDense(t, n, nil)
	z := make([]float64, n)
	for k := range t {
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		for i := range n {
			v := mu[i]
			for j := 0; j <= i; j++ {
				v += l.At(i, j) * z[j]
			}
			r.Set(k, i, v)
		}
	}
	return r
}

// checkWeights asserts the Result invariants: length, finite, within
// [0, wmax], summing to 1, risk contributions summing to 1.
func checkWeights(t *testing.T, res Result, n int, wmax float64) {
	t.Helper()
	if len(res.Weights) != n || len(res.RiskContrib) != n {
		t.Fatalf("%s: %d weights and %d contributions, want %d", res.Method, len(res.Weights), len(res.RiskContrib), n)
	}
	sum, rc := 0.0, 0.0
	for i, w := range res.Weights {
		if math.IsNaN(w) || w < 0 || w > wmax+1e-12 {
			t.Fatalf("%s: weight %d = %v outside [0, %v]", res.Method, i, w, wmax)
		}
		sum += w
		rc += res.RiskContrib[i]
	}
	if math.Abs(sum-1) > 1e-12 || math.Abs(rc-1) > 1e-9 {
		t.Fatalf("%s: weights sum to %v, contributions to %v", res.Method, sum, rc)
	}
	if math.IsNaN(res.ExpReturn) || math.IsNaN(res.Vol) {
		t.Fatalf("%s: expected return %v, vol %v", res.Method, res.ExpReturn, res.Vol)
	}
}

func solveSym(t *testing.T, a mat.Symmetric, b []float64) []float64 {
	t.Helper()
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		t.Fatal("not PD")
	}
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, mat.NewVecDense(len(b), b)); err != nil {
		t.Fatal(err)
	}
	return x.RawVector().Data
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func normalise(v []float64) []float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / s
	}
	return out
}

// realReturns returns the aligned daily simple returns of the named assets
// from the shared real data between the dates (YYYY-MM-DD, both
// inclusive), skipping the test when the data are absent or cover fewer
// than 30 common dates.
func realReturns(t *testing.T, assets []string, from, to string) *mat.Dense {
	t.Helper()
	tab := realdata.Daily(t, assets, realdata.Date(from), realdata.Date(to).AddDate(0, 0, 1))
	if tab.T() < 30 {
		t.Skipf("only %d common dates in %s..%s", tab.T(), from, to)
	}
	return mat.NewDense(tab.T()-1, tab.N(), tab.Returns())
}
