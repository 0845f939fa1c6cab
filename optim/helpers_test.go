package optim

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/realdata"
)

// readCSV reads a file of comma-separated floats (%.17g), one row a line.
func readCSV(path string) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var row []float64
		for _, s := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", path, len(rows)+1, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// benchProblem loads ../shared/bench/opt_data/{cov,mu}_N<n>.csv, skipping
// the test or benchmark when the files are absent.
func benchProblem(t testing.TB, n int) (*mat.SymDense, []float64) {
	t.Helper()
	dir := realdata.Shared(t, "bench", "opt_data")
	covRows, err := readCSV(filepath.Join(dir, fmt.Sprintf("cov_N%d.csv", n)))
	if os.IsNotExist(err) {
		t.Skipf("bench data absent: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	muRows, err := readCSV(filepath.Join(dir, fmt.Sprintf("mu_N%d.csv", n)))
	if err != nil {
		t.Fatal(err)
	}
	if len(covRows) != n || len(muRows) != 1 || len(muRows[0]) != n {
		t.Fatalf("bench data N=%d has the wrong shape", n)
	}
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		if len(covRows[i]) != n {
			t.Fatalf("cov_N%d.csv row %d has %d values", n, i, len(covRows[i]))
		}
		for j := i; j < n; j++ {
			cov.SetSym(i, j, covRows[i][j])
		}
	}
	return cov, muRows[0]
}

// randSPD returns a random n×n symmetric positive definite matrix M Mᵀ/k +
// ridge·I with M n×k standard normal.
func randSPD(rng *rand.Rand, n, k int, ridge float64) *mat.SymDense {
	m := mat.NewDense(n, k, nil)
	for i := range n {
		for j := range k {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	s := mat.NewSymDense(n, nil)
	s.SymOuterK(1/float64(k), m)
	for i := range n {
		s.SetSym(i, i, s.At(i, i)+ridge)
	}
	return s
}

// randCov returns a covariance matrix of a one-factor model like the bench
// data: βᵢβⱼσₘ² + δᵢⱼσᵢ², perturbed by sampling noise of T = 4n
// observations so it is not exactly structured.
func randCov(rng *rand.Rand, n int) *mat.SymDense {
	t := 4 * n
	r := mat.NewDense(t, n, nil)
	beta := make([]float64, n)
	ivol := make([]float64, n)
	for i := range n {
		beta[i] = 0.5 + rng.Float64()
		ivol[i] = 0.02 + 0.04*rng.Float64()
	}
	for k := range t {
		m := 0.03 * rng.NormFloat64()
		for i := range n {
			r.Set(k, i, m*beta[i]+ivol[i]*rng.NormFloat64())
		}
	}
	s := mat.NewSymDense(n, nil)
	s.SymOuterK(1/float64(t-1), r.T())
	return s
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func constant(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// quadForm returns ½xᵀPx + qᵀx.
func quadForm(p mat.Symmetric, q, x []float64) float64 {
	n := p.SymmetricDim()
	f := 0.0
	for i := range n {
		for j := range n {
			f += 0.5 * x[i] * p.At(i, j) * x[j]
		}
		if q != nil {
			f += q[i] * x[i]
		}
	}
	return f
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
