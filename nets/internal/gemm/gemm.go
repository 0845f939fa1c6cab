// Package gemm is the matrix-multiply kernel of nets' native engine:
// row-major C = op(A)·op(B) + β·C with β ∈ {0, 1}, in float64 (Mul) or
// float32 (Mul32).
//
// It exists because gonum's pure-Go Dgemm runs at about 5 GFLOP/s on the
// small matrices of our networks (64×311·311×64 measured at 5.3–5.6) and
// allocates per call. This package packs A and B into contiguous panels
// (the BLIS scheme: KC-deep blocks of MR-row and NR-column panels) and
// runs an MR×NR micro-kernel over them: an AVX2/FMA assembly kernel where
// the CPU and OS support it (6×8 in float64, 6×16 in float32: twelve
// accumulator registers of four doubles or eight singles), a portable Go
// kernel otherwise. Both are tested against a naive triple loop and gonum.
// One generic driver serves both precisions; only the micro-kernels and
// the tile width NR differ.
//
// Results differ from gonum's in the last bits: the FMA kernel rounds once
// per multiply-add and sums in another order. They are deterministic for a
// given machine and shape.
//
// The only package-level state is the CPU feature flag detected at
// start-up, read-only afterwards. The package must not import gorgonia.
package gemm

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/folio-rl/folio/nets/internal/par"
)

// Float is the element type of a product.
type Float interface{ float32 | float64 }

// Block sizes: a KC×NR panel of B (20 KiB in either precision) and an
// MR×KC panel of A (15 KiB in float64) stay in L1 while an MR×NR tile of C
// is computed; KC = 320 covers the 311- and 322-deep products of bench
// task v1 in one block; an MC×KC block of A (180 KiB) stays in L2.
const (
	mr   = 6
	nr   = 8  // float64 tile width
	nr32 = 16 // float32 tile width
	kc   = 320
	mc   = 72
	nc   = 1024
	// mcStrided is the row block of the strided path (a multiple of mr).
	mcStrided = 72
)

// nrOf is the tile width for element type T.
func nrOf[T Float]() int {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return nr32
	}
	return nr
}

// Workspace holds float64 packing buffers (Workspace32: float32). It
// grows on first use and never shrinks; a Workspace must not be used by
// two goroutines at once. With SetParallel or SetRunner, large products
// are split by columns between the caller and one helper goroutine.
type Workspace = WorkspaceOf[float64]

// Workspace32 is the float32 workspace.
type Workspace32 = WorkspaceOf[float32]

// WorkspaceOf is a workspace for products of element type T.
type WorkspaceOf[T Float] struct {
	a, b []T
	tile [mr * nr32]T
	par  *split[T]
}

// minParallel is the number of multiply-adds above which a product is
// split between two goroutines (the hand-off costs about a microsecond
// when the helper is spinning, tens when it sleeps; 2^19 multiply-adds
// take about 20 µs per core in float64).
const minParallel = 1 << 19

func (w *WorkspaceOf[T]) buffers(m, n, k int) (ap, bp []T) {
	nrT := nrOf[T]()
	na := min(mc, roundUp(m, mr)) * min(kc, k)
	nb := min(nc, roundUp(n, nrT)) * min(kc, k)
	if cap(w.a) < na {
		w.a = make([]T, max(na, mc*kc))
	}
	if cap(w.b) < nb {
		w.b = make([]T, nb)
	}
	return w.a[:cap(w.a)], w.b[:cap(w.b)]
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func (w *WorkspaceOf[T]) aBuf(n int) []T {
	if cap(w.a) < n {
		w.a = make([]T, n)
	}
	return w.a[:n]
}

func (w *WorkspaceOf[T]) bBuf(n int) []T {
	if cap(w.b) < n {
		w.b = make([]T, n)
	}
	return w.b[:n]
}

// mulStrided is the AVX2 path. The strided kernel reads operands where
// they lie when that is cheap (choices from interleaved A/B timings of
// bench task v1's shapes):
//
//   - a row-major A is always read in place, as six sequential row streams;
//   - a row-major B is read in place (stepping by its leading dimension per
//     k). In float64, when that stride is a multiple of 2 KiB and the
//     product is not small, every access maps to a few cache sets (a
//     256-wide B ran ~10-25% slower in place) and B is packed once per
//     k-block for all row panels; acting-size products (m ≤ 24) never pack
//     it (2× faster). In float32 a 16-wide tile row is one cache line and
//     in-place B measured as fast as packed or faster (256×256·256 and
//     256×322·322×256: 75–88 against 74–82 GFLOP/s), so it is never packed;
//   - a transposed A is read in place for up to 64 columns of C (8 column
//     panels re-read it; 10% faster at 311×64·64×64), packed beyond
//     (25% faster at 322×256·256×256).
//
// Partial edge panels are packed with zero padding; full tiles go straight
// into C.
func mulStrided[T Float](ws *WorkspaceOf[T], tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var z T
	const alias = 2048 / 8 // float64 leading dimensions that are multiples of this alias in cache
	directB := !tB && (m <= 4*mr || ldb%alias != 0 || unsafe.Sizeof(z) == 4)
	directA := !packsA(tA, n)
	mulStridedOf(directA, directB, ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// packsA reports whether the strided path packs A: a transposed A feeding
// more than 64 columns of C.
func packsA(tA bool, n int) bool { return tA && n > 64 }

// mulStridedWith is mulStridedOf in float64 (for tests).
func mulStridedWith(directA, directB bool, ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	mulStridedOf(directA, directB, ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func mulStridedOf[T Float](directA, directB bool, ws *WorkspaceOf[T], tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	nrT := nrOf[T]()
	var z T
	esz := int(unsafe.Sizeof(z))
	tile := ws.tile[:mr*nrT]
	mEdge, nEdge := m-m%mr, n-n%nrT // first row / column of the partial panels
	for pc := 0; pc < k; pc += kc {
		kcb := min(kc, k-pc)
		acc := pc > 0 || beta == 1
		var bp, ap []T
		switch {
		case !directB:
			bp = ws.bBuf(roundUp(n, nrT) * kcb)
			packB(bp, nrT, tB, b, ldb, pc, kcb, 0, n)
		case nEdge < n:
			bp = ws.bBuf(nrT * kcb)
			packB(bp, nrT, false, b, ldb, pc, kcb, nEdge, n-nEdge)
		}
		switch {
		case !directA:
			ap = ws.aBuf(roundUp(m, mr) * kcb)
			packA(ap, tA, a, lda, 0, m, pc, kcb)
		case mEdge < m:
			ap = ws.aBuf(mr * kcb)
			packA(ap, tA, a, lda, mEdge, m-mEdge, pc, kcb)
		}
		// Blocks of mcStrided rows: an A block (≤ 184 KiB) stays in L2
		// while every column panel of B passes over it, instead of all of
		// A (330 KiB for 256×322 in float32) competing with B for L2.
		for ic := 0; ic < m; ic += mcStrided {
			iEnd := min(ic+mcStrided, m)
			for jr := 0; jr < n; jr += nrT {
				nn := min(nrT, n-jr)
				var bptr *T
				var sb int
				switch {
				case !directB:
					bptr, sb = &bp[jr*kcb], esz*nrT
				case nn < nrT:
					bptr, sb = &bp[0], esz*nrT
				default:
					bptr, sb = &b[pc*ldb+jr], esz*ldb
				}
				for ir := ic; ir < iEnd; ir += mr {
					mm := min(mr, m-ir)
					var aptr *T
					var rs, ps int
					switch {
					case !directA:
						aptr, rs, ps = &ap[ir*kcb], esz, esz*mr
					case mm < mr:
						aptr, rs, ps = &ap[0], esz, esz*mr
					case tA:
						aptr, rs, ps = &a[pc*lda+ir], esz, esz*lda
					default:
						aptr, rs, ps = &a[ir*lda+pc], esz*lda, esz
					}
					if mm == mr && nn == nrT {
						kernStrided(kcb, aptr, rs, ps, bptr, sb, &c[ir*ldc+jr], ldc, acc)
						continue
					}
					kernStrided(kcb, aptr, rs, ps, bptr, sb, &tile[0], nrT, false)
					for i := 0; i < mm; i++ {
						row := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+nn]
						t := tile[i*nrT : i*nrT+nn]
						if acc {
							for j, v := range t {
								row[j] += v
							}
						} else {
							copy(row, t)
						}
					}
				}
			}
		}
	}
}

// kernStrided calls the assembly micro-kernel of T's precision.
func kernStrided[T Float](k int, a *T, rs, ps int, b *T, sb int, c *T, ldc int, acc bool) {
	switch ap := any(a).(type) {
	case *float64:
		kern6x8s(k, ap, rs, ps, any(b).(*float64), sb, any(c).(*float64), ldc, acc)
	case *float32:
		kern6x16s(k, ap, rs, ps, any(b).(*float32), sb, any(c).(*float32), ldc, acc)
	}
}

// kernelFunc computes the mr×nr tile Σ_p a[p·mr+i]·b[p·nr+j] over kc
// packed steps into out (row-major, mr×nr), overwriting it.
type kernelFunc func(k int, a, b, out []float64)

// kernelFunc32 is kernelFunc in float32 (mr×nr32 tiles).
type kernelFunc32 func(k int, a, b, out []float32)

// Mul computes C = op(A)·op(B) + beta·C for row-major matrices, where op(X)
// is X or Xᵀ as tA and tB say. C is m×n, op(A) is m×k and op(B) is k×n;
// lda, ldb and ldc are the row strides of A, B and C as stored. beta is 0
// (C is overwritten; its old contents are never read, so stale NaNs do not
// leak) or 1 (C is accumulated into); other values panic. ws may be nil
// (a temporary workspace is allocated).
func Mul(ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	MulOf(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// Mul32 is Mul in float32: products and sums are rounded to float32 (the
// FMA kernel rounds once per multiply-add).
func Mul32(ws *Workspace32, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	MulOf(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// MulOf is Mul for element type T.
func MulOf[T Float](ws *WorkspaceOf[T], tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if !validate(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if ws != nil && ws.par != nil && m*n*k >= minParallel {
		// Split by rows when A is packed (a transposed A, see mulStrided),
		// so that each half packs only its own rows, or when C has fewer
		// than two column panels (a network's output layer); by columns
		// otherwise (then B, when packed, is packed by column panels: each
		// half packs its own).
		nrT := nrOf[T]()
		m1, n1 := m, n
		if packsA(tA, n) || n < 2*nrT {
			m1 = roundUp((m+1)/2, mr) // also when C is too narrow for two column panels
		} else {
			n1 = roundUp((n+1)/2, nrT)
		}
		if m1 < m || n1 < n {
			s := ws.par
			s.job = splitJob[T]{ws: ws, hws: &s.hws, tA: tA, tB: tB, m: m, n: n, k: k, m1: m1, n1: n1,
				a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
			s.r.Run(&s.job)
			s.job = splitJob[T]{} // keep no references while idle
			return
		}
	}
	mulAuto(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// mulAuto uses the strided assembly path where available, else the
// packed portable one.
func mulAuto[T Float](ws *WorkspaceOf[T], tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if ws == nil {
		ws = new(WorkspaceOf[T])
	}
	if useAVX2 {
		mulStrided(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	switch cp := any(c).(type) {
	case []float64:
		mulPacked(kernelGo, any(ws).(*Workspace), tA, tB, m, n, k, any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), cp, ldc)
	case []float32:
		mulPacked(kernelGo32, any(ws).(*Workspace32), tA, tB, m, n, k, any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), cp, ldc)
	}
}

// split is the state for splitting products between the caller and the
// Runner's helper: the helper's workspace and the posted job.
type split[T Float] struct {
	r     *par.Runner
	owned bool // created by SetParallel (closed by it), not by SetRunner
	hws   WorkspaceOf[T]
	job   splitJob[T]
}

// splitJob is one product split in two: part 0 computes rows [0, m1) or
// columns [0, n1) of C with the caller's workspace, part 1 the rest with
// the helper's. Both boundaries fall on tile boundaries (multiples of MR
// rows or NR columns), so every tile is computed exactly as without the
// split and the result is bit-identical.
type splitJob[T Float] struct {
	ws      *WorkspaceOf[T]
	hws     *WorkspaceOf[T]
	tA, tB  bool
	m, n, k int
	m1, n1  int // rows (m1 < m) or columns (n1 < n) of part 0
	a       []T
	lda     int
	b       []T
	ldb     int
	beta    T
	c       []T
	ldc     int
}

func (j *splitJob[T]) Run(part int) {
	switch {
	case part == 0 && j.m1 < j.m:
		mulAuto(j.ws, j.tA, j.tB, j.m1, j.n, j.k, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
	case part == 0:
		mulAuto(j.ws, j.tA, j.tB, j.m, j.n1, j.k, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
	case j.m1 < j.m:
		aOff := j.m1 * j.lda
		if j.tA {
			aOff = j.m1
		}
		mulAuto(j.hws, j.tA, j.tB, j.m-j.m1, j.n, j.k, j.a[aOff:], j.lda, j.b, j.ldb, j.beta, j.c[j.m1*j.ldc:], j.ldc)
	default:
		bOff := j.n1
		if j.tB {
			bOff = j.n1 * j.ldb
		}
		mulAuto(j.hws, j.tA, j.tB, j.m, j.n-j.n1, j.k, j.a, j.lda, j.b[bOff:], j.ldb, j.beta, j.c[j.n1:], j.ldc)
	}
}

// SetRunner splits large products between the caller and r's helper
// goroutine (nil: serial). The Runner may be shared by any number of
// workspaces that are not used concurrently.
func (w *WorkspaceOf[T]) SetRunner(r *par.Runner) {
	w.SetParallel(false)
	if r != nil {
		w.par = &split[T]{r: r}
	}
}

// SetParallel starts (on) or stops (off) a helper goroutine of the
// workspace's own that takes half of each large product. The helper also
// stops when the Workspace is garbage collected.
func (w *WorkspaceOf[T]) SetParallel(on bool) {
	switch {
	case on && w.par == nil:
		r := par.New()
		w.par = &split[T]{r: r, owned: true}
	case !on && w.par != nil:
		if w.par.owned {
			w.par.r.Close()
		}
		w.par = nil
	}
}

// validate checks the arguments and handles the empty cases, reporting
// whether there is a product to compute.
func validate[T Float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	if beta != 0 && beta != 1 {
		panic("gemm: beta must be 0 or 1")
	}
	if m < 0 || n < 0 || k < 0 {
		panic("gemm: negative dimension")
	}
	if m == 0 || n == 0 {
		return false
	}
	if len(c) < (m-1)*ldc+n || ldc < n {
		panic("gemm: C too short")
	}
	if k == 0 {
		if beta == 0 {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return false
	}
	checkLen(tA, m, k, a, lda)
	checkLen(tB, k, n, b, ldb)
	return true
}

// mul is the packed float64 product with an explicit micro-kernel (for
// tests).
func mul(kern kernelFunc, ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	mulPacked(kern, ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// mulPacked is the packed (BLIS-style) product with an explicit
// micro-kernel: the portable path, and a reference for the strided one.
func mulPacked[T Float, K ~func(int, []T, []T, []T)](kern K, ws *WorkspaceOf[T], tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if !validate(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if ws == nil {
		ws = new(WorkspaceOf[T])
	}
	nrT := nrOf[T]()
	ap, bp := ws.buffers(m, n, k)
	tile := ws.tile[:mr*nrT]

	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			packB(bp, nrT, tB, b, ldb, pc, kcb, jc, ncb)
			first := pc == 0 && beta == 0
			for ic := 0; ic < m; ic += mc {
				mcb := min(mc, m-ic)
				packA(ap, tA, a, lda, ic, mcb, pc, kcb)
				for jr := 0; jr < ncb; jr += nrT {
					nn := min(nrT, ncb-jr)
					bpan := bp[jr*kcb : (jr+nrT)*kcb]
					for ir := 0; ir < mcb; ir += mr {
						mm := min(mr, mcb-ir)
						apan := ap[ir*kcb : (ir+mr)*kcb]
						ci := (ic+ir)*ldc + jc + jr
						kern(kcb, apan, bpan, tile)
						for i := 0; i < mm; i++ {
							row := c[ci+i*ldc : ci+i*ldc+nn]
							t := tile[i*nrT : i*nrT+nn]
							if first {
								copy(row, t)
							} else {
								for j, v := range t {
									row[j] += v
								}
							}
						}
					}
				}
			}
		}
	}
}

func checkLen[T Float](trans bool, rows, cols int, x []T, ld int) {
	r, c := rows, cols
	if trans {
		r, c = cols, rows
	}
	if ld < c || len(x) < (r-1)*ld+c {
		panic("gemm: operand too short")
	}
}

// packA copies op(A)[i0:i0+m, p0:p0+k] into panels of mr rows, each
// k-major: dst[(ir/mr)·mr·k + p·mr + r] = op(A)[i0+ir+r, p0+p], with rows
// beyond m zero.
func packA[T Float](dst []T, tA bool, a []T, lda, i0, m, p0, k int) {
	full := m - m%mr
	if tA {
		// op(A) = Aᵀ: row p of the stored matrix holds column p of op(A)
		// contiguously; read it once (sequentially) and scatter it into
		// all panels, rather than striding by lda once per panel.
		for p := 0; p < k; p++ {
			src := a[(p0+p)*lda+i0 : (p0+p)*lda+i0+m]
			for ir := 0; ir < full; ir += mr {
				s := src[ir : ir+mr : ir+mr]
				d := dst[ir*k+p*mr : ir*k+p*mr+mr : ir*k+p*mr+mr]
				d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
			}
			if full < m {
				d := dst[full*k+p*mr : full*k+p*mr+mr]
				copy(d, src[full:])
				clear(d[m-full:])
			}
		}
		return
	}
	for ir := 0; ir < m; ir += mr {
		pan := dst[ir*k : (ir+mr)*k]
		rows := min(mr, m-ir)
		if rows == mr {
			// six row streams, written sequentially
			base := (i0+ir)*lda + p0
			r0 := a[base : base+k]
			r1 := a[base+lda : base+lda+k]
			r2 := a[base+2*lda : base+2*lda+k]
			r3 := a[base+3*lda : base+3*lda+k]
			r4 := a[base+4*lda : base+4*lda+k]
			r5 := a[base+5*lda : base+5*lda+k]
			for p := 0; p < k; p++ {
				d := pan[p*mr : p*mr+mr : p*mr+mr]
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(i0+ir+r)*lda+p0 : (i0+ir+r)*lda+p0+k]
			for p, v := range src {
				pan[p*mr+r] = v
			}
		}
		for p := 0; p < k; p++ {
			clear(pan[p*mr+rows : p*mr+mr])
		}
	}
}

// packB copies op(B)[p0:p0+k, j0:j0+n] into panels of w columns (the
// tile width), each k-major: dst[(jr/w)·w·k + p·w + c] =
// op(B)[p0+p, j0+jr+c], with columns beyond n zero.
func packB[T Float](dst []T, w int, tB bool, b []T, ldb, p0, k, j0, n int) {
	full := n - n%w
	if !tB {
		// Row p of B is contiguous: read it once and scatter it into all
		// panels, rather than striding by ldb once per panel.
		for p := 0; p < k; p++ {
			src := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+n]
			for jr := 0; jr < full; jr += w {
				copy(dst[jr*k+p*w:jr*k+p*w+w], src[jr:jr+w])
			}
			if full < n {
				d := dst[full*k+p*w : full*k+p*w+w]
				copy(d, src[full:])
				clear(d[n-full:])
			}
		}
		return
	}
	for jr := 0; jr < n; jr += w {
		pan := dst[jr*k : (jr+w)*k]
		cols := min(w, n-jr)
		if cols == w {
			// groups of eight row streams of B (columns of op(B)), each
			// written into its eight slots of every k-step
			for g := 0; g < w; g += 8 {
				base := (j0+jr+g)*ldb + p0
				s0, s1 := b[base:base+k], b[base+ldb:base+ldb+k]
				s2, s3 := b[base+2*ldb:base+2*ldb+k], b[base+3*ldb:base+3*ldb+k]
				s4, s5 := b[base+4*ldb:base+4*ldb+k], b[base+5*ldb:base+5*ldb+k]
				s6, s7 := b[base+6*ldb:base+6*ldb+k], b[base+7*ldb:base+7*ldb+k]
				for p := 0; p < k; p++ {
					d := pan[p*w+g : p*w+g+8 : p*w+g+8]
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]
				}
			}
			continue
		}
		for c := 0; c < cols; c++ {
			src := b[(j0+jr+c)*ldb+p0 : (j0+jr+c)*ldb+p0+k]
			for p, v := range src {
				pan[p*w+c] = v
			}
		}
		for p := 0; p < k; p++ {
			clear(pan[p*w+cols : p*w+w])
		}
	}
}

// kernelGo is the portable float64 micro-kernel.
func kernelGo(k int, a, b, out []float64) {
	var c [mr * nr]float64
	a = a[:k*mr]
	b = b[:k*nr]
	for p := 0; p < k; p++ {
		bp := b[p*nr : p*nr+nr : p*nr+nr]
		ap := a[p*mr : p*mr+mr : p*mr+mr]
		for i, av := range ap {
			ci := c[i*nr : i*nr+nr : i*nr+nr]
			ci[0] += av * bp[0]
			ci[1] += av * bp[1]
			ci[2] += av * bp[2]
			ci[3] += av * bp[3]
			ci[4] += av * bp[4]
			ci[5] += av * bp[5]
			ci[6] += av * bp[6]
			ci[7] += av * bp[7]
		}
	}
	copy(out, c[:])
}

// kernelGo32 is the portable float32 micro-kernel (6×16 tiles).
func kernelGo32(k int, a, b, out []float32) {
	var c [mr * nr32]float32
	a = a[:k*mr]
	b = b[:k*nr32]
	for p := 0; p < k; p++ {
		bp := b[p*nr32 : p*nr32+nr32 : p*nr32+nr32]
		ap := a[p*mr : p*mr+mr : p*mr+mr]
		for i, av := range ap {
			ci := c[i*nr32 : i*nr32+nr32 : i*nr32+nr32]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
	copy(out, c[:])
}

// Reference is Mul through gonum's pure-Go Dgemm (for tests and
// benchmarks).
func Reference(tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if beta == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	}
	gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// Reference32 is Mul32 through gonum's pure-Go Sgemm.
func Reference32(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if beta == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}
