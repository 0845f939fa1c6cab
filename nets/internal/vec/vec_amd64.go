//go:build amd64 && !purego

package vec

var useAVX2 = hasAVX2()

func hasAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

//go:noescape
func adamAVX2(n int, theta, grad, m, v *float64, a *AdamArgs)

//go:noescape
func sumSquaresAVX2(n int, x *float64) float64

//go:noescape
func lerpAVX2(n int, dst, src *float64, t, u float64)

// adamFast processes the largest multiple of 4 elements and returns it.
func adamFast(theta, grad, m, v []float64, a *AdamArgs) int {
	k := len(theta) &^ 3
	if !useAVX2 || k == 0 {
		return 0
	}
	adamAVX2(k, &theta[0], &grad[0], &m[0], &v[0], a)
	return k
}

func sumSquaresFast(x []float64) (float64, int) {
	k := len(x) &^ 15
	if !useAVX2 || k == 0 {
		return 0, 0
	}
	return sumSquaresAVX2(k, &x[0]), k
}

func lerpFast(dst, src []float64, t float64) int {
	k := len(dst) &^ 3
	if !useAVX2 || k == 0 {
		return 0
	}
	lerpAVX2(k, &dst[0], &src[0], t, 1-t)
	return k
}

var useFMA = hasFMA()

func hasFMA() bool {
	_, _, ecx1, _ := cpuid(1, 0)
	return useAVX2 && ecx1&(1<<12) != 0
}

//go:noescape
func tanhAVX2(n int, x *float64)

func tanhFast(x []float64) int {
	k := len(x) &^ 3
	if !useFMA || k == 0 {
		return 0
	}
	tanhAVX2(k, &x[0])
	return k
}

//go:noescape
func tanhGradAVX2(n int, dy, y *float64)

func tanhGradFast(dy, y []float64) int {
	k := len(dy) &^ 3
	if !useAVX2 || k == 0 {
		return 0
	}
	tanhGradAVX2(k, &dy[0], &y[0])
	return k
}
