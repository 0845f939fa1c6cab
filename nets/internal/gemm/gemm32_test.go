package gemm

import (
	"fmt"
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// naive32 computes op(A)·op(B) + beta·C in float64 from float32 operands
// (every product exact, one rounding per addition in float64: the
// reference is ~2^29 times more accurate than the float32 kernels) and
// returns the exact result and Σ|aᵢbᵢ| (+|c|) per element.
func naive32(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, abs []float64) {
	want, abs = make([]float64, m*n), make([]float64, m*n)
	at := func(i, p int) float64 {
		if tA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	bt := func(p, j int) float64 {
		if tB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s, sa := 0.0, 0.0
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
				sa += math.Abs(at(i, p) * bt(p, j))
			}
			if beta == 1 {
				s += float64(c[i*ldc+j])
				sa += math.Abs(float64(c[i*ldc+j]))
			}
			want[i*n+j], abs[i*n+j] = s, sa
		}
	}
	return want, abs
}

// TestMul32 compares the float32 products (portable and AVX2 packed
// kernels, every in-place/packed combination of the strided path, and
// Mul32) with a float64 evaluation of the same float32 operands, over the
// edge shapes of TestMul (tile width 16 here: sizes around 6 and 16, the
// KC = 320 and MC = 72 block boundaries), all transposes, both betas and
// padded strides.
//
// Tolerance: a float32 dot product of k terms (plus β·c) computed with
// rounding unit u = 2⁻²⁴ in any order, with or without fused
// multiply-adds, errs by at most (k+1)·u·Σ|aᵢbᵢ| (Higham 2002, §3.1); we
// allow twice that. A bug (a wrong element, a dropped term) errs by O(1)
// relative.
func TestMul32(t *testing.T) {
	rng := seed.New(11, seed.Test, 0)
	kernels := map[string]kernelFunc32{"go": kernelGo32, "mul32": nil}
	if HasAVX2() {
		kernels["avx2"] = kernelAVX2Func32()
		for _, v := range []string{"strided00", "strided01", "strided10", "strided11"} {
			kernels[v] = nil
		}
	}
	sizes := [][3]int{{1, 1, 1}, {1, 16, 3}, {6, 16, 1}, {7, 17, 5}, {5, 3, 257}, {13, 33, 31}, {24, 32, 40}, {25, 15, 40}, {73, 9, 330}, {64, 64, 311}, {2, 300, 64}, {100, 11, 651}}
	for name, kern := range kernels {
		for _, s := range sizes {
			m, n, k := s[0], s[1], s[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, beta := range []float32{0, 1} {
						ar, ac := m, k
						if tA {
							ar, ac = k, m
						}
						br, bc := k, n
						if tB {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+2, bc+1, n+3
						a := make([]float32, ar*lda)
						b := make([]float32, br*ldb)
						c := make([]float32, m*ldc)
						for i := range a {
							a[i] = float32(rng.NormFloat64())
						}
						for i := range b {
							b[i] = float32(rng.NormFloat64())
						}
						for i := range c {
							c[i] = float32(rng.NormFloat64())
							if beta == 0 {
								c[i] = float32(math.NaN()) // must never be read
							}
						}
						orig := append([]float32(nil), c...)
						want, abs := naive32(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
						switch {
						case kern != nil:
							mulPacked(kern, nil, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
						case name == "mul32" || !HasAVX2():
							Mul32(nil, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
						default:
							da, db := name[len(name)-2] == '1', name[len(name)-1] == '1'
							mulStridedOf(da, db && !tB, new(Workspace32), tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
						}
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got, w := float64(c[i*ldc+j]), want[i*n+j]
								tol := 2 * float64(k+1) * 0x1p-24 * abs[i*n+j]
								if !(math.Abs(got-w) <= tol) {
									t.Fatalf("%s/%dx%dx%d/tA=%v/tB=%v/beta=%v: C[%d,%d] = %v, want %v (tolerance %g)", name, m, n, k, tA, tB, beta, i, j, got, w, tol)
								}
							}
							for j := n; j < ldc && i*ldc+j < len(c); j++ {
								if got, w := c[i*ldc+j], orig[i*ldc+j]; !(got == w || got != got && w != w) {
									t.Fatalf("%s: padding C[%d,%d] changed to %v", name, i, j, got)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestMul32MatchesGonum: Mul32 agrees with gonum's Sgemm (an independent
// float32 implementation) to the same bound as TestMul32, at bench task
// v1's DDPG shapes.
func TestMul32MatchesGonum(t *testing.T) {
	rng := seed.New(12, seed.Test, 0)
	for _, s := range []struct {
		tA, tB  bool
		m, n, k int
	}{{false, false, 256, 256, 322}, {true, false, 322, 256, 256}, {false, true, 256, 256, 256}} {
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		a, b := make([]float32, s.m*s.k), make([]float32, s.k*s.n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		got, ref := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
		Mul32(nil, s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, 0, got, s.n)
		Reference32(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, 0, ref, s.n)
		_, abs := naive32(s.tA, s.tB, s.m, s.n, s.k, a, lda, b, ldb, 0, got, s.n)
		for i := range got {
			// both err by ≤ (k+1)·u·Σ|ab| from the exact value
			if tol := 4 * float64(s.k+1) * 0x1p-24 * abs[i]; math.Abs(float64(got[i]-ref[i])) > tol {
				t.Fatalf("%+v: C[%d] = %v, gonum %v", s, i, got[i], ref[i])
			}
		}
	}
}

// TestMul32Parallel: splitting a product between two goroutines gives
// the same bits as computing it on one, without allocating.
func TestMul32Parallel(t *testing.T) {
	rng := seed.New(13, seed.Test, 0)
	var serial, par Workspace32
	par.SetParallel(true)
	defer par.SetParallel(false)
	// column splits, row splits of a transposed A, and row splits of a
	// narrow C (an output layer)
	for _, s := range [][3]int{{256, 256, 322}, {255, 67, 300}, {100, 33, 1000}, {322, 256, 256}, {256, 11, 256}, {257, 1, 2100}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				m, n, k := s[0], s[1], s[2]
				a, b := make([]float32, m*k), make([]float32, k*n)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				c1, c2 := make([]float32, m*n), make([]float32, m*n)
				for i := range c1 {
					c1[i] = float32(i % 7)
				}
				copy(c2, c1)
				for _, beta := range []float32{0, 1} {
					Mul32(&serial, tA, tB, m, n, k, a, lda, b, ldb, beta, c1, n)
					Mul32(&par, tA, tB, m, n, k, a, lda, b, ldb, beta, c2, n)
				}
				for i := range c1 {
					if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
						t.Fatalf("%v tA=%v tB=%v: C[%d] serial %v, parallel %v", s, tA, tB, i, c1[i], c2[i])
					}
				}
			}
		}
	}
	a, b, c := make([]float32, 256*256), make([]float32, 256*256), make([]float32, 256*256)
	if n := testing.AllocsPerRun(5, func() { Mul32(&par, false, false, 256, 256, 256, a, 256, b, 256, 0, c, 256) }); n != 0 {
		t.Errorf("%v allocations per parallel product, want 0", n)
	}
	var ws Workspace32
	Mul32(&ws, true, false, 311, 64, 64, a, 311, b, 64, 1, c, 64)
	if n := testing.AllocsPerRun(5, func() { Mul32(&ws, true, false, 311, 64, 64, a, 311, b, 64, 1, c, 64) }); n != 0 {
		t.Errorf("%v allocations per serial product with a warm workspace, want 0", n)
	}
}

// BenchmarkMul32 is BenchmarkMul in float32 (gonum's Sgemm as the
// comparison), serial and split between two goroutines.
func BenchmarkMul32(b *testing.B) {
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
		{"ddpg/fwd2/256x256x256", false, false, 256, 256, 256},
		{"ddpg/dW/322x256x256", true, false, 322, 256, 256},
		{"ddpg/dx/256x256x256", false, true, 256, 256, 256},
	}
	rng := seed.New(2, seed.Test, 0)
	for _, s := range shapes {
		a := make([]float32, s.m*s.k)
		bb := make([]float32, s.k*s.n)
		c := make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range bb {
			bb[i] = float32(rng.NormFloat64())
		}
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		flops := 2 * float64(s.m*s.n*s.k)
		for _, par := range []bool{false, true} {
			var ws Workspace32
			ws.SetParallel(par)
			b.Run(fmt.Sprintf("impl=folio/parallel=%v/%s", par, s.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					Mul32(&ws, s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, 0, c, s.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			ws.SetParallel(false)
		}
		b.Run("impl=gonum/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Reference32(s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
