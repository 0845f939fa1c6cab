package optim

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// This file holds the dense kernels shared by the solvers. Matrices are
// flat row-major n×n slices (element (i, j) at i*n+j); triangular factors
// use the lower triangle. They are written against blas64 so the inner
// products and rank-1 updates run on gonum's assembly kernels, which for
// the sizes here (n ≤ a few hundred) are several times faster than
// lapack64.Potrf's blocked path (measured 0.59 ms for Potrf against about
// 0.3 ms for cholesky below at n = 200).

// cholesky overwrites the lower triangle of the row-major n×n matrix a with
// its Cholesky factor L (a = L Lᵀ), reading only the lower triangle. It
// returns false, leaving a partly overwritten, when a pivot is not larger
// than minPivot (the matrix is not numerically positive definite). The
// strict upper triangle is not touched.
//
// It is the left-looking column algorithm: column j of L is the column of a
// minus L[j:, :j]·L[j, :j]ᵀ, one matrix-vector product per column.
func cholesky(a []float64, n int, minPivot float64, tmp []float64) bool {
	for j := 0; j < n; j++ {
		m := n - j
		y := tmp[:m]
		for i := range m {
			y[i] = a[(j+i)*n+j]
		}
		if j > 0 {
			blas64.Implementation().Dgemv(blas.NoTrans, m, j, -1, a[j*n:], n, a[j*n:j*n+j], 1, 1, y, 1)
		}
		d := y[0]
		if !(d > minPivot) { // also catches NaN
			return false
		}
		d = math.Sqrt(d)
		a[j*n+j] = d
		inv := 1 / d
		for i := 1; i < m; i++ {
			a[(j+i)*n+j] = y[i] * inv
		}
	}
	return true
}

// lowerInverse writes into dst (row-major n×n) the inverse of the lower
// triangular factor held in the lower triangle of l. The strict upper
// triangle of dst is set to zero.
//
// Row i of X = L⁻¹ is (e_i − L[i, :i]·X[:i, :])/L[i][i]. X[:i, :] is lower
// triangular, so the product runs over blocks of invBlock rows, each
// touching only the columns up to its last row: this skips most of the
// zero upper triangle (which a single i×i product would multiply through,
// doubling the work) while keeping the products long enough for the
// assembly kernels.
func lowerInverse(dst, l []float64, n int) {
	const invBlock = 16
	clear(dst[:n*n])
	impl := blas64.Implementation()
	for i := 0; i < n; i++ {
		row := dst[i*n : i*n+n]
		li := l[i*n : i*n+i]
		for b0 := 0; b0 < i; b0 += invBlock {
			b1 := min(b0+invBlock, i)
			// row[:b1] -= X[b0:b1, :b1]ᵀ · L[i, b0:b1]
			impl.Dgemv(blas.Trans, b1-b0, b1, -1, dst[b0*n:], n, li[b0:b1], 1, 1, row[:b1], 1)
		}
		row[i] = 1
		inv := 1 / l[i*n+i]
		for k := 0; k <= i; k++ {
			row[k] *= inv
		}
	}
}

// cholSolve solves (L Lᵀ) x = b in place (x holds b on entry), with L in
// the lower triangle of the row-major n×n slice l.
func cholSolve(l []float64, n int, x []float64) {
	t := blas64.Triangular{N: n, Stride: n, Data: l, Uplo: blas.Lower, Diag: blas.NonUnit}
	v := blas64.Vector{N: n, Inc: 1, Data: x}
	blas64.Trsv(blas.NoTrans, t, v)
	blas64.Trsv(blas.Trans, t, v)
}

// symMulVec sets y = a·x for the row-major n×n symmetric matrix a stored in
// full (both triangles).
func symMulVec(y, a []float64, n int, x []float64) {
	blas64.Implementation().Dgemv(blas.NoTrans, n, n, 1, a, n, x, 1, 0, y, 1)
}

// copySym copies the symmetric matrix s into the row-major n×n slice dst,
// filling both triangles. It uses the raw storage of *mat.SymDense when it
// can, since element access through the interface costs about as much as a
// small solve.
func copySym(dst []float64, s mat.Symmetric) {
	n := s.SymmetricDim()
	if sd, ok := s.(mat.RawSymmetricer); ok {
		raw := sd.RawSymmetric()
		if raw.Uplo == blas.Upper {
			for i := 0; i < n; i++ {
				src := raw.Data[i*raw.Stride+i : i*raw.Stride+n]
				copy(dst[i*n+i:i*n+n], src)
				for j := i + 1; j < n; j++ {
					dst[j*n+i] = src[j-i]
				}
			}
			return
		}
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := s.At(i, j)
			dst[i*n+j] = v
			dst[j*n+i] = v
		}
	}
}

// copyDense copies the r×c matrix m into the row-major slice dst.
func copyDense(dst []float64, m mat.Matrix) {
	r, c := m.Dims()
	if rm, ok := m.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		for i := 0; i < r; i++ {
			copy(dst[i*c:i*c+c], raw.Data[i*raw.Stride:i*raw.Stride+c])
		}
		return
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			dst[i*c+j] = m.At(i, j)
		}
	}
}

// grow returns s resliced to length n, reallocating only when its capacity
// is too small. The contents are unspecified.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func growInt(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func dot(x, y []float64) float64 {
	return blas64.Implementation().Ddot(len(x), x, 1, y, 1)
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
