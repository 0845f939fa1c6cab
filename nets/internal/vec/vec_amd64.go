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

//go:noescape
func adam32AVX2(n int, theta, grad, m, v *float32, c *adamConsts32)

func adam32Fast(theta, grad, m, v []float32, c *adamConsts32) int {
	k := len(theta) &^ 7
	if !useAVX2 || k == 0 {
		return 0
	}
	adam32AVX2(k, &theta[0], &grad[0], &m[0], &v[0], c)
	return k
}

//go:noescape
func sumSquares32AVX2(n int, x *float32) float64

func sumSquares32Fast(x []float32) (float64, int) {
	k := len(x) &^ 15
	if !useAVX2 || k == 0 {
		return 0, 0
	}
	return sumSquares32AVX2(k, &x[0]), k
}

//go:noescape
func lerp32AVX2(n int, dst, src *float32, t, u float32)

func lerp32Fast(dst, src []float32, t, u float32) int {
	k := len(dst) &^ 7
	if !useAVX2 || k == 0 {
		return 0
	}
	lerp32AVX2(k, &dst[0], &src[0], t, u)
	return k
}

//go:noescape
func tanh32AVX2(n int, x *float32)

func tanh32Fast(x []float32) int {
	k := len(x) &^ 7
	if !useFMA || k == 0 {
		return 0
	}
	tanh32AVX2(k, &x[0])
	return k
}

//go:noescape
func tanhGrad32AVX2(n int, dy, y *float32)

func tanhGrad32Fast(dy, y []float32) int {
	k := len(dy) &^ 7
	if !useAVX2 || k == 0 {
		return 0
	}
	tanhGrad32AVX2(k, &dy[0], &y[0])
	return k
}

//go:noescape
func addTo32AVX2(n int, dst, src *float32)

//go:noescape
func addTo64AVX2(n int, dst, src *float64)

// lanes returns the number of leading elements the vector kernels take:
// a multiple of 8 (float32) or 4 (float64), or 0 without AVX2.
func lanes[T Float](n int) int {
	if !useAVX2 {
		return 0
	}
	var z T
	switch any(z).(type) {
	case float32:
		return n &^ 7
	}
	return n &^ 3
}

func addToFast[T Float](dst, src []T) int {
	k := lanes[T](len(dst))
	if k == 0 {
		return 0
	}
	_ = src[k-1]
	switch d := any(&dst[0]).(type) {
	case *float32:
		addTo32AVX2(k, d, any(&src[0]).(*float32))
	case *float64:
		addTo64AVX2(k, d, any(&src[0]).(*float64))
	}
	return k
}

//go:noescape
func addReLU32AVX2(n int, y, b *float32)

//go:noescape
func addReLU64AVX2(n int, y, b *float64)

func addReLUFast[T Float](y, b []T) int {
	k := lanes[T](len(y))
	if k == 0 {
		return 0
	}
	_ = b[k-1]
	switch d := any(&y[0]).(type) {
	case *float32:
		addReLU32AVX2(k, d, any(&b[0]).(*float32))
	case *float64:
		addReLU64AVX2(k, d, any(&b[0]).(*float64))
	}
	return k
}

//go:noescape
func reluGrad32AVX2(n int, dy, y *float32)

//go:noescape
func reluGrad64AVX2(n int, dy, y *float64)

func reluGradFast[T Float](dy, y []T) int {
	k := lanes[T](len(dy))
	if k == 0 {
		return 0
	}
	_ = y[k-1]
	switch d := any(&dy[0]).(type) {
	case *float32:
		reluGrad32AVX2(k, d, any(&y[0]).(*float32))
	case *float64:
		reluGrad64AVX2(k, d, any(&y[0]).(*float64))
	}
	return k
}

//go:noescape
func cvt64to32AVX2(n int, dst *float32, src *float64)

//go:noescape
func cvt32to64AVX2(n int, dst *float64, src *float32)

func convertFast[D, S Float](dst []D, src []S) int {
	k := len(dst) &^ 3
	if !useAVX2 || k == 0 {
		return 0
	}
	_ = src[k-1]
	switch d := any(&dst[0]).(type) {
	case *float32:
		if s, ok := any(&src[0]).(*float64); ok {
			cvt64to32AVX2(k, d, s)
			return k
		}
	case *float64:
		if s, ok := any(&src[0]).(*float32); ok {
			cvt32to64AVX2(k, d, s)
			return k
		}
	}
	return 0
}
