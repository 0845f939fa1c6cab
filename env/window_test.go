package env

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// checkCopyWindows compares copy (the function under test) with the obvious
// loop of built-in copies on random data for many shapes, including empty
// and odd window lengths, and checks that nothing outside the windows of
// dst is written (dst is pre-filled with NaN guards).
func checkCopyWindows(t *testing.T, name string, copyFn func(dst, src []float64, n, w, stride int)) {
	t.Helper()
	rng := seed.New(1, seed.Test, 80)
	for _, n := range []int{0, 1, 2, 3, 10, 17} {
		for _, w := range []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 30, 31, 33, 64} {
			for _, extra := range []int{0, 1, 5, 100} {
				stride := w + extra
				src := make([]float64, max(n*stride, 1)+3)
				for i := range src {
					src[i] = rng.NormFloat64()
				}
				off := rng.IntN(3)
				got := make([]float64, n*w+off+2)
				want := make([]float64, len(got))
				for i := range got {
					got[i], want[i] = math.NaN(), math.NaN()
				}
				for s := range n {
					copy(want[off+s*w:off+(s+1)*w], src[1+s*stride:1+s*stride+w])
				}
				copyFn(got[off:], src[1:], n, w, stride)
				for i := range got {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("%s: n=%d w=%d stride=%d: element %d = %v, want %v", name, n, w, stride, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestCopyWindows(t *testing.T) {
	checkCopyWindows(t, "copyWindows", copyWindows)
	defer func() {
		if recover() == nil {
			t.Error("copyWindows into a short dst did not panic")
		}
	}()
	copyWindows(make([]float64, 5), make([]float64, 100), 2, 3, 10)
}
