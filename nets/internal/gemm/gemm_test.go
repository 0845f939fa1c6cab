package gemm

import (
	"fmt"
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// naive computes op(A)·op(B) + beta·C with a triple loop, summing
// products in order.
func naive(tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) (abs []float64) {
	abs = make([]float64, m*n)
	at := func(i, p int) float64 {
		if tA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if tB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, sa := 0.0, 0.0
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
				sa += math.Abs(at(i, p) * bt(p, j))
			}
			if beta == 1 {
				sa += math.Abs(c[i*ldc+j])
				s += c[i*ldc+j]
			}
			c[i*ldc+j] = s
			abs[i*n+j] = sa
		}
	}
	return abs
}

// TestMul compares both micro-kernels with the naive loop over shapes
// that exercise every edge (sizes around mr = 6, nr = 8, the KC = 256 and
// MC = 72 block boundaries), all transposes, both betas and padded strides.
// Tolerance: a float64 dot product of k terms, summed in any order with or
// without fused multiply-adds, errs by at most k·ε·Σ|aᵢbᵢ| (Higham 2002,
// §3.1); we allow 2k·ε·Σ|aᵢbᵢ|.
func TestMul(t *testing.T) {
	rng := seed.New(1, seed.Test, 0)
	// "go" and "avx2" run the packed path with each micro-kernel;
	// "strided" is Mul itself (the strided path where AVX2 is available).
	kernels := map[string]kernelFunc{"go": kernelGo, "strided": nil}
	if HasAVX2() {
		kernels["avx2"] = kernelAVX2Func()
		for _, v := range []string{"strided00", "strided01", "strided10", "strided11"} {
			kernels[v] = nil
		}
	}
	sizes := [][3]int{{1, 1, 1}, {1, 8, 3}, {6, 8, 1}, {7, 9, 5}, {5, 3, 257}, {13, 17, 31}, {24, 16, 40}, {25, 16, 40}, {73, 9, 300}, {64, 64, 311}, {2, 300, 64}, {100, 11, 513}}
	for name, kern := range kernels {
		for _, s := range sizes {
			m, n, k := s[0], s[1], s[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, beta := range []float64{0, 1} {
						t.Run(fmt.Sprintf("%s/%dx%dx%d/tA=%v/tB=%v/beta=%v", name, m, n, k, tA, tB, beta), func(t *testing.T) {
							ar, ac := m, k
							if tA {
								ar, ac = k, m
							}
							br, bc := k, n
							if tB {
								br, bc = n, k
							}
							lda, ldb, ldc := ac+2, bc+1, n+3
							a := make([]float64, ar*lda)
							b := make([]float64, br*ldb)
							c := make([]float64, m*ldc)
							for i := range a {
								a[i] = rng.NormFloat64()
							}
							for i := range b {
								b[i] = rng.NormFloat64()
							}
							for i := range c {
								c[i] = rng.NormFloat64()
							}
							if beta == 0 {
								for i := range c {
									c[i] = math.NaN() // must never be read
								}
							}
							want := append([]float64(nil), c...)
							abs := naive(tA, tB, m, n, k, a, lda, b, ldb, beta, want, ldc)
							switch {
							case kern != nil:
								mul(kern, nil, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
							case name == "strided" || !HasAVX2():
								Mul(nil, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
							default:
								// every in-place/packed combination of the strided path
								da, db := name[len(name)-2] == '1', name[len(name)-1] == '1'
								mulStridedWith(da, db && !tB, new(Workspace), tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
							}
							for i := 0; i < m; i++ {
								for j := 0; j < n; j++ {
									got, w := c[i*ldc+j], want[i*ldc+j]
									tol := 2 * float64(k+1) * 0x1p-52 * abs[i*n+j]
									if !(math.Abs(got-w) <= tol) {
										t.Fatalf("C[%d,%d] = %v, want %v (tolerance %g)", i, j, got, w, tol)
									}
								}
								// padding columns are untouched
								for j := n; j < ldc && i*ldc+j < len(c); j++ {
									if got, w := c[i*ldc+j], want[i*ldc+j]; !(got == w || math.IsNaN(got) && math.IsNaN(w)) {
										t.Fatalf("padding C[%d,%d] changed to %v", i, j, got)
									}
								}
							}
						})
					}
				}
			}
		}
	}
}

func TestMulAllocs(t *testing.T) {
	var ws Workspace
	a := make([]float64, 64*311)
	b := make([]float64, 311*64)
	c := make([]float64, 64*64)
	Mul(&ws, false, false, 64, 64, 311, a, 311, b, 64, 0, c, 64)
	if n := testing.AllocsPerRun(10, func() { Mul(&ws, false, false, 64, 64, 311, a, 311, b, 64, 0, c, 64) }); n != 0 {
		t.Errorf("%v allocations per call with a warm workspace, want 0", n)
	}
}

// BenchmarkMul measures the shapes of bench task v1's networks: PPO's
// 64-row minibatches through 311-64-64 layers (forward x·W, weight
// gradient xᵀ·dy, input gradient dy·Wᵀ) and DDPG's 256-row batches
// through 322-256-256 layers, for this package and gonum's Dgemm.
func BenchmarkMul(b *testing.B) {
	type shape struct {
		name    string
		tA, tB  bool
		m, n, k int
	}
	shapes := []shape{
		{"ppo/fwd/64x64x311", false, false, 64, 64, 311},
		{"ppo/dW/311x64x64", true, false, 311, 64, 64},
		{"ppo/dx/64x64x64", false, true, 64, 64, 64},
		{"act/fwd/8x64x311", false, false, 8, 64, 311},
		{"ddpg/fwd/256x256x322", false, false, 256, 256, 322},
		{"ddpg/dW/322x256x256", true, false, 322, 256, 256},
		{"ddpg/dx/256x256x256", false, true, 256, 256, 256},
	}
	rng := seed.New(2, seed.Test, 0)
	for _, s := range shapes {
		a := make([]float64, s.m*s.k)
		bb := make([]float64, s.k*s.n)
		c := make([]float64, s.m*s.n)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for i := range bb {
			bb[i] = rng.NormFloat64()
		}
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		flops := 2 * float64(s.m*s.n*s.k)
		var ws Workspace
		b.Run("impl=folio/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Mul(&ws, s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("impl=gonum/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Reference(s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestMulParallel: splitting a product between two goroutines gives the
// same bits as computing it on one.
func TestMulParallel(t *testing.T) {
	rng := seed.New(3, seed.Test, 0)
	var serial, par Workspace
	par.SetParallel(true)
	defer par.SetParallel(false)
	for _, s := range [][3]int{{256, 256, 322}, {255, 67, 300}, {100, 33, 1000}} {
		for _, tB := range []bool{false, true} {
			m, n, k := s[0], s[1], s[2]
			a := make([]float64, m*k)
			b := make([]float64, k*n)
			for i := range a {
				a[i] = rng.NormFloat64()
			}
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			ldb := n
			if tB {
				ldb = k
			}
			c1, c2 := make([]float64, m*n), make([]float64, m*n)
			Mul(&serial, false, tB, m, n, k, a, k, b, ldb, 0, c1, n)
			Mul(&par, false, tB, m, n, k, a, k, b, ldb, 0, c2, n)
			for i := range c1 {
				if c1[i] != c2[i] {
					t.Fatalf("%v tB=%v: C[%d] serial %v, parallel %v", s, tB, i, c1[i], c2[i])
				}
			}
		}
	}
	a, b, c := make([]float64, 256*256), make([]float64, 256*256), make([]float64, 256*256)
	if n := testing.AllocsPerRun(5, func() { Mul(&par, false, false, 256, 256, 256, a, 256, b, 256, 0, c, 256) }); n != 0 {
		t.Errorf("%v allocations per parallel product, want 0", n)
	}
}
