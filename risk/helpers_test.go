package risk

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/realdata"
)

// randReturns draws T×N returns from a one-factor model with crypto-like
// magnitudes: market vol 3%, betas U(0.5, 1.5), idiosyncratic vol
// U(1%, 4%), plus a per-asset drift.
func randReturns(rng *rand.Rand, t, n int) *mat.Dense {
	beta := make([]float64, n)
	ivol := make([]float64, n)
	drift := make([]float64, n)
	for i := range n {
		beta[i] = 0.5 + rng.Float64()
		ivol[i] = 0.01 + 0.03*rng.Float64()
		drift[i] = 0.002 * rng.NormFloat64()
	}
	r := mat.NewDense(t, n, nil)
	for k := range t {
		m := 0.03 * rng.NormFloat64()
		for i := range n {
			r.Set(k, i, drift[i]+beta[i]*m+ivol[i]*rng.NormFloat64())
		}
	}
	return r
}

// minEigen returns the smallest eigenvalue of s.
func minEigen(t *testing.T, s mat.Symmetric) float64 {
	t.Helper()
	var e mat.EigenSym
	if !e.Factorize(s, false) {
		t.Fatal("eigendecomposition failed")
	}
	v := e.Values(nil)
	return v[0]
}

func maxAbsDiffSym(a, b mat.Symmetric) float64 {
	n := a.SymmetricDim()
	d := 0.0
	for i := range n {
		for j := range n {
			d = math.Max(d, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return d
}

func maxAbsSym(a mat.Symmetric) float64 {
	n := a.SymmetricDim()
	d := 0.0
	for i := range n {
		for j := range n {
			d = math.Max(d, math.Abs(a.At(i, j)))
		}
	}
	return d
}

// realReturns returns the simple returns of the daily closes of the named
// assets from the shared real data, aligned on their common dates, over the
// last `last` returns (all if last ≤ 0). It skips the test when the data
// are absent.
func realReturns(t *testing.T, assets []string, last int) *mat.Dense {
	t.Helper()
	tab := realdata.Daily(t, assets, time.Time{}, time.Time{})
	r, n := tab.Returns(), tab.N()
	if rows := len(r) / n; last > 0 && rows > last {
		r = r[(rows-last)*n:]
	}
	return mat.NewDense(len(r)/n, n, r)
}
