// Package gemm is the matrix-multiply kernel of nets' native engine:
// row-major C = op(A)·op(B) + β·C with β ∈ {0, 1}, in float64.
//
// It exists because gonum's pure-Go Dgemm runs at about 5 GFLOP/s on the
// small matrices of our networks (64×311·311×64 measured at 5.3–5.6) and
// allocates per call. This package packs A and B into contiguous panels
// (the BLIS scheme: KC-deep blocks of MR-row and NR-column panels) and
// runs an MR×NR micro-kernel over them: an AVX2/FMA assembly kernel where
// the CPU and OS support it, a portable Go kernel otherwise. Both are
// tested against a naive triple loop and gonum.
//
// Results differ from gonum's in the last bits: the FMA kernel rounds once
// per multiply-add and sums in another order. They are deterministic for a
// given machine and shape.
//
// The only package-level state is the CPU feature flag detected at
// start-up, read-only afterwards. The package must not import gorgonia.
package gemm

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Block sizes: a KC×NR panel of B (20 KiB) and an MR×KC panel of A
// (15 KiB) stay in L1 while an MR×NR tile of C is computed; KC = 320
// covers the 311- and 322-deep products of bench task v1 in one block; an
// MC×KC block of A (180 KiB) stays in L2.
const (
	mr = 6
	nr = 8
	kc = 320
	mc = 72
	nc = 1024
)

// Workspace holds packing buffers. It grows on first use and never
// shrinks; a Workspace must not be used by two goroutines at once.
// With SetParallel, large products are split by columns between the
// caller and one helper goroutine.
type Workspace struct {
	a, b []float64
	tile [mr * nr]float64
	par  *splitter
}

// minParallel is the number of multiply-adds above which a product is
// split between two goroutines (the hand-off costs a few microseconds;
// 2^19 multiply-adds take about 20 µs per core).
const minParallel = 1 << 19

func (w *Workspace) buffers(m, n, k int) (ap, bp []float64) {
	na := min(mc, roundUp(m, mr)) * min(kc, k)
	nb := min(nc, roundUp(n, nr)) * min(kc, k)
	if cap(w.a) < na {
		w.a = make([]float64, max(na, mc*kc))
	}
	if cap(w.b) < nb {
		w.b = make([]float64, nb)
	}
	return w.a[:cap(w.a)], w.b[:cap(w.b)]
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func (w *Workspace) aBuf(n int) []float64 {
	if cap(w.a) < n {
		w.a = make([]float64, n)
	}
	return w.a[:n]
}

func (w *Workspace) bBuf(n int) []float64 {
	if cap(w.b) < n {
		w.b = make([]float64, n)
	}
	return w.b[:n]
}

// mulStrided is the AVX2 path. The strided kernel reads operands where
// they lie when that is cheap (choices from interleaved A/B timings of
// bench task v1's shapes):
//
//   - a row-major A is always read in place, as six sequential row streams;
//   - a row-major B is read in place (stepping by its leading dimension per
//     k) unless that stride is a multiple of 2 KiB and the product is not
//     small: then every access maps to a few cache sets (a 256-wide B ran
//     ~10-25% slower in place) and B is packed once per k-block for all
//     row panels; acting-size products (m ≤ 24) never pack it (2× faster);
//   - a transposed A is read in place for up to 64 columns of C (8 column
//     panels re-read it; 10% faster at 311×64·64×64), packed beyond
//     (25% faster at 322×256·256×256).
//
// Partial edge panels are packed with zero padding; full tiles go straight
// into C.
func mulStrided(ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	const alias = 2048 / 8 // leading dimensions that are multiples of this alias in cache
	directB := !tB && (m <= 4*mr || ldb%alias != 0)
	directA := !tA || n <= 8*nr
	mulStridedWith(directA, directB, ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func mulStridedWith(directA, directB bool, ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	tile := ws.tile[:]
	mEdge, nEdge := m-m%mr, n-n%nr // first row / column of the partial panels
	for pc := 0; pc < k; pc += kc {
		kcb := min(kc, k-pc)
		acc := pc > 0 || beta == 1
		var bp, ap []float64
		switch {
		case !directB:
			bp = ws.bBuf(roundUp(n, nr) * kcb)
			packB(bp, tB, b, ldb, pc, kcb, 0, n)
		case nEdge < n:
			bp = ws.bBuf(nr * kcb)
			packB(bp, false, b, ldb, pc, kcb, nEdge, n-nEdge)
		}
		switch {
		case !directA:
			ap = ws.aBuf(roundUp(m, mr) * kcb)
			packA(ap, tA, a, lda, 0, m, pc, kcb)
		case mEdge < m:
			ap = ws.aBuf(mr * kcb)
			packA(ap, tA, a, lda, mEdge, m-mEdge, pc, kcb)
		}
		for jr := 0; jr < n; jr += nr {
			nn := min(nr, n-jr)
			var bptr *float64
			var sb int
			switch {
			case !directB:
				bptr, sb = &bp[jr*kcb], 8*nr
			case nn < nr:
				bptr, sb = &bp[0], 8*nr
			default:
				bptr, sb = &b[pc*ldb+jr], 8*ldb
			}
			for ir := 0; ir < m; ir += mr {
				mm := min(mr, m-ir)
				var aptr *float64
				var rs, ps int
				switch {
				case !directA:
					aptr, rs, ps = &ap[ir*kcb], 8, 8*mr
				case mm < mr:
					aptr, rs, ps = &ap[0], 8, 8*mr
				case tA:
					aptr, rs, ps = &a[pc*lda+ir], 8, 8*lda
				default:
					aptr, rs, ps = &a[ir*lda+pc], 8*lda, 8
				}
				if mm == mr && nn == nr {
					kern6x8s(kcb, aptr, rs, ps, bptr, sb, &c[ir*ldc+jr], ldc, acc)
					continue
				}
				kern6x8s(kcb, aptr, rs, ps, bptr, sb, &tile[0], nr, false)
				for i := 0; i < mm; i++ {
					row := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+nn]
					t := tile[i*nr : i*nr+nn]
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

// kernelFunc computes the mr×nr tile Σ_p a[p·mr+i]·b[p·nr+j] over kc
// packed steps into out (row-major, mr×nr), overwriting it.
type kernelFunc func(k int, a, b, out []float64)

// Mul computes C = op(A)·op(B) + beta·C for row-major matrices, where op(X)
// is X or Xᵀ as tA and tB say. C is m×n, op(A) is m×k and op(B) is k×n;
// lda, ldb and ldc are the row strides of A, B and C as stored. beta is 0
// (C is overwritten; its old contents are never read, so stale NaNs do not
// leak) or 1 (C is accumulated into); other values panic. ws may be nil
// (a temporary workspace is allocated).
func Mul(ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !validate(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if ws != nil && ws.par != nil && m*n*k >= minParallel && n >= 2*nr {
		// Columns [0, n1) here, [n1, n) on the helper. n1 is a multiple of
		// nr, so every tile is computed exactly as without the split and
		// the result is bit-identical.
		n1 := roundUp((n+1)/2, nr)
		bOff := n1
		if tB {
			bOff = n1 * ldb
		}
		ws.par.in <- splitJob{tA: tA, tB: tB, m: m, n: n - n1, k: k, a: a, lda: lda, b: b[bOff:], ldb: ldb, beta: beta, c: c[n1:], ldc: ldc}
		mulAuto(ws, tA, tB, m, n1, k, a, lda, b, ldb, beta, c, ldc)
		<-ws.par.done
		return
	}
	mulAuto(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// mulAuto uses the strided assembly path where available, else the
// packed portable one.
func mulAuto(ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if ws == nil {
		ws = new(Workspace)
	}
	if useAVX2 {
		mulStrided(ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	mul(kernelGo, ws, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

type splitJob struct {
	tA, tB  bool
	m, n, k int
	a       []float64
	lda     int
	b       []float64
	ldb     int
	beta    float64
	c       []float64
	ldc     int
}

type splitter struct {
	ws   Workspace
	in   chan splitJob
	done chan struct{}
	once sync.Once
}

func (s *splitter) loop() {
	for j := range s.in {
		mulAuto(&s.ws, j.tA, j.tB, j.m, j.n, j.k, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
		j = splitJob{} // keep no references while idle
		s.done <- struct{}{}
	}
}

func (s *splitter) stop() { s.once.Do(func() { close(s.in) }) }

// SetParallel starts (on) or stops (off) the helper goroutine that takes
// half of each large product. The helper also stops when the Workspace
// is garbage collected.
func (w *Workspace) SetParallel(on bool) {
	switch {
	case on && w.par == nil:
		s := &splitter{in: make(chan splitJob), done: make(chan struct{})}
		go s.loop()
		w.par = s
		runtime.AddCleanup(w, func(s *splitter) { s.stop() }, s)
	case !on && w.par != nil:
		w.par.stop()
		w.par = nil
	}
}

// validate checks the arguments and handles the empty cases, reporting
// whether there is a product to compute.
func validate(tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) bool {
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

// mul is the packed (BLIS-style) product with an explicit micro-kernel:
// the portable path, and a reference for the strided one.
func mul(kern kernelFunc, ws *Workspace, tA, tB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !validate(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if ws == nil {
		ws = new(Workspace)
	}
	ap, bp := ws.buffers(m, n, k)
	tile := ws.tile[:]

	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			packB(bp, tB, b, ldb, pc, kcb, jc, ncb)
			first := pc == 0 && beta == 0
			for ic := 0; ic < m; ic += mc {
				mcb := min(mc, m-ic)
				packA(ap, tA, a, lda, ic, mcb, pc, kcb)
				for jr := 0; jr < ncb; jr += nr {
					nn := min(nr, ncb-jr)
					bpan := bp[jr*kcb : (jr+nr)*kcb]
					for ir := 0; ir < mcb; ir += mr {
						mm := min(mr, mcb-ir)
						apan := ap[ir*kcb : (ir+mr)*kcb]
						ci := (ic+ir)*ldc + jc + jr
						kern(kcb, apan, bpan, tile)
						for i := 0; i < mm; i++ {
							row := c[ci+i*ldc : ci+i*ldc+nn]
							t := tile[i*nr : i*nr+nn]
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

func checkLen(trans bool, rows, cols int, x []float64, ld int) {
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
func packA(dst []float64, tA bool, a []float64, lda, i0, m, p0, k int) {
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

// packB copies op(B)[p0:p0+k, j0:j0+n] into panels of nr columns, each
// k-major: dst[(jr/nr)·nr·k + p·nr + c] = op(B)[p0+p, j0+jr+c], with
// columns beyond n zero.
func packB(dst []float64, tB bool, b []float64, ldb, p0, k, j0, n int) {
	full := n - n%nr
	if !tB {
		// Row p of B is contiguous: read it once and scatter it into all
		// panels, rather than striding by ldb once per panel.
		for p := 0; p < k; p++ {
			src := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+n]
			for jr := 0; jr < full; jr += nr {
				s := src[jr : jr+nr : jr+nr]
				d := dst[jr*k+p*nr : jr*k+p*nr+nr : jr*k+p*nr+nr]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
			}
			if full < n {
				d := dst[full*k+p*nr : full*k+p*nr+nr]
				copy(d, src[full:])
				clear(d[n-full:])
			}
		}
		return
	}
	for jr := 0; jr < n; jr += nr {
		pan := dst[jr*k : (jr+nr)*k]
		cols := min(nr, n-jr)
		if cols == nr {
			// eight row streams of B (columns of op(B)), written sequentially
			base := (j0+jr)*ldb + p0
			s0, s1 := b[base:base+k], b[base+ldb:base+ldb+k]
			s2, s3 := b[base+2*ldb:base+2*ldb+k], b[base+3*ldb:base+3*ldb+k]
			s4, s5 := b[base+4*ldb:base+4*ldb+k], b[base+5*ldb:base+5*ldb+k]
			s6, s7 := b[base+6*ldb:base+6*ldb+k], b[base+7*ldb:base+7*ldb+k]
			for p := 0; p < k; p++ {
				d := pan[p*nr : p*nr+nr : p*nr+nr]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p], s6[p], s7[p]
			}
			continue
		}
		for c := 0; c < cols; c++ {
			src := b[(j0+jr+c)*ldb+p0 : (j0+jr+c)*ldb+p0+k]
			for p, v := range src {
				pan[p*nr+c] = v
			}
		}
		for p := 0; p < k; p++ {
			clear(pan[p*nr+cols : p*nr+nr])
		}
	}
}

// kernelGo is the portable micro-kernel.
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
