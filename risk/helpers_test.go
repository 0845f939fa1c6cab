package risk

import (
	"bufio"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/seed"
)

var testSeed = flag.Uint64("seed", 1, "root seed of the randomised tests (0: random)")

func testRNG(t testing.TB, index uint64) *rand.Rand {
	t.Helper()
	root := *testSeed
	if root == 0 {
		root = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed=%d)", root, root)
	return seed.New(root, seed.Test, index)
}

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

// realReturns reads the daily closes of the named assets from
// ../shared/data/real/daily (relative to the module root), aligns them on
// common dates and returns the simple returns of the last `last` bars
// (all if last ≤ 0). It skips the test when the data are absent.
func realReturns(t *testing.T, assets []string, last int) *mat.Dense {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data", "real", "daily")
	closes := make([]map[string]float64, len(assets))
	var dates []string
	for a, name := range assets {
		f, err := os.Open(filepath.Join(data, name+".csv"))
		if os.IsNotExist(err) {
			t.Skipf("real data absent: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		closes[a] = map[string]float64{}
		sc := bufio.NewScanner(f)
		first := true
		for sc.Scan() {
			if first {
				first = false
				continue
			}
			fields := strings.Split(sc.Text(), ",")
			c, err := strconv.ParseFloat(fields[4], 64)
			if err != nil {
				t.Fatal(err)
			}
			closes[a][fields[0]] = c
			if a == 0 {
				dates = append(dates, fields[0])
			}
		}
		f.Close()
	}
	var common []string
	for _, d := range dates {
		ok := true
		for a := range assets {
			if _, has := closes[a][d]; !has {
				ok = false
			}
		}
		if ok {
			common = append(common, d)
		}
	}
	if last > 0 && len(common) > last+1 {
		common = common[len(common)-last-1:]
	}
	r := mat.NewDense(len(common)-1, len(assets), nil)
	for k := 1; k < len(common); k++ {
		for a := range assets {
			r.Set(k-1, a, closes[a][common[k]]/closes[a][common[k-1]]-1)
		}
	}
	return r
}
