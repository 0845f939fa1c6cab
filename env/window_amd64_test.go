//go:build !purego

package env

import "testing"

// TestCopyWindowsKernels runs both kernels, whichever copyWindows picks.
func TestCopyWindowsKernels(t *testing.T) {
	wrap := func(k func(dst, src *float64, n, w, stride int)) func(dst, src []float64, n, w, stride int) {
		return func(dst, src []float64, n, w, stride int) {
			if n > 0 && w > 0 {
				k(&dst[0], &src[0], n, w, stride)
			}
		}
	}
	checkCopyWindows(t, "SSE", wrap(copyWindowsSSE))
	if !useAVX {
		t.Skip("no AVX on this machine: the AVX kernel is not tested")
	}
	checkCopyWindows(t, "AVX", wrap(copyWindowsAVX))
}
