package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBLASSelection checks that the build's BLAS is the one gonum (both
// precisions), gorgonia and tensor use: gonum's pure-Go implementation by
// default, OpenBLAS (netlib's cgo binding) with -tags openblas. Run both
// builds:
//
//	go test ./nets -run BLAS
//	go test -tags openblas ./nets -run BLAS
func TestBLASSelection(t *testing.T) {
	want := "gonum.Implementation"
	if BLAS == "openblas" {
		want = "netlib.Implementation"
	}
	for name, impl := range map[string]any{
		"blas64":   blas64.Implementation(),
		"blas32":   blas32.Implementation(),
		"gorgonia": G.WhichBLAS(),
		"tensor":   tensor.WhichBLAS(),
	} {
		if got := fmt.Sprintf("%T", impl); got != want {
			t.Errorf("%s uses %s, want %s (BLAS = %q)", name, got, want, BLAS)
		}
	}
}

// TestBLASProduct checks a dgemm and an sgemm through the selected BLAS
// against a naive triple loop (relative error 1e-12 in float64, 1e-5 in
// float32), so a miswired cgo build fails here rather than in training.
func TestBLASProduct(t *testing.T) {
	const m, k, n = 37, 53, 29
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float64, m*k), make([]float64, k*n)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	want := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			want[i*n+j] = s
		}
	}
	c := make([]float64, m*n)
	blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
	a32, b32, c32 := make([]float32, len(a)), make([]float32, len(b)), make([]float32, m*n)
	for i := range a {
		a32[i] = float32(a[i])
	}
	for i := range b {
		b32[i] = float32(b[i])
	}
	blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a32, k, b32, n, 0, c32, n)
	var e64, e32, norm float64
	for i := range want {
		e64 += (c[i] - want[i]) * (c[i] - want[i])
		e32 += (float64(c32[i]) - want[i]) * (float64(c32[i]) - want[i])
		norm += want[i] * want[i]
	}
	if r := math.Sqrt(e64 / norm); r > 1e-12 {
		t.Errorf("%s dgemm: relative error %.3g > 1e-12", BLAS, r)
	}
	if r := math.Sqrt(e32 / norm); r > 1e-5 {
		t.Errorf("%s sgemm: relative error %.3g > 1e-5", BLAS, r)
	}
}
