//go:build !amd64 || purego

package env

// copyWindows copies n windows of w values: src[s·stride : s·stride+w] to
// dst[s·w : (s+1)·w] for s < n (see window_amd64.go).
func copyWindows(dst, src []float64, n, w, stride int) {
	for s := range max(n, 0) {
		copy(dst[s*w:(s+1)*w], src[s*stride:s*stride+w])
	}
}
