package vec

import "math"

// Float is the element type of the generic loops.
type Float interface{ float32 | float64 }

// adamConsts32 are AdamArgs rounded to float32, in the order the vector
// kernel reads them.
type adamConsts32 [9]float32

func (a *AdamArgs) f32() adamConsts32 {
	return adamConsts32{float32(a.OneMinusB1), float32(a.B1), float32(a.OneMinusB2), float32(a.B2),
		float32(a.C1), float32(a.NegLR), float32(a.C2), float32(a.Eps), float32(a.Scale)}
}

// Adam32 is Adam in float32 (PyTorch's single-precision Adam): the
// constants are rounded to float32 and every operation is a float32
// operation, in Adam's order. The vector and portable versions are
// bit-identical.
func Adam32(theta, grad, m, v []float32, a *AdamArgs) {
	n := len(theta)
	if len(grad) != n || len(m) != n || len(v) != n {
		panic("vec: Adam32: length mismatch")
	}
	c := a.f32()
	k := adam32Fast(theta, grad, m, v, &c)
	adam32Go(theta[k:], grad[k:], m[k:], v[k:], &c)
}

func adam32Go(theta, grad, m, v []float32, c *adamConsts32) {
	m, v, grad = m[:len(theta)], v[:len(theta)], grad[:len(theta)]
	oneMinusB1, b1, oneMinusB2, b2, c1, negLR, c2, eps, scale := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	for i, g := range grad {
		g *= scale
		mi := g*oneMinusB1 + m[i]*b1
		vi := g*g*oneMinusB2 + v[i]*b2
		m[i], v[i] = mi, vi
		num := mi * c1 * negLR
		den := float32(math.Sqrt(float64(vi*c2))) + eps // exact: √ of a float32, rounded once
		theta[i] += num / den
	}
}

// SumSquares32 returns Σ xᵢ², accumulated in float64 (each square is exact
// in float64).
func SumSquares32(x []float32) float64 {
	s, k := sumSquares32Fast(x)
	var s0, s1 float64
	x = x[k:]
	i := 0
	for ; i+2 <= len(x); i += 2 {
		a, b := float64(x[i]), float64(x[i+1])
		s0 += a * a
		s1 += b * b
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return s + (s0 + s1)
}

// Lerp32 is Lerp in float32: dst ← t·src + (1−t)·dst with t and 1−t
// rounded to float32 (as PyTorch's target update in single precision).
// Vector and portable versions are bit-identical.
func Lerp32(dst, src []float32, t float64) {
	if len(src) != len(dst) {
		panic("vec: Lerp32: length mismatch")
	}
	t32, u32 := float32(t), float32(1-t)
	k := lerp32Fast(dst, src, t32, u32)
	src, dst = src[k:], dst[k:]
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = t32*v + u32*dst[i]
	}
}

// Tanh32 replaces every element of x by its hyperbolic tangent, computed
// in float32 by Eigen's rational approximation (odd degree-13 over even
// degree-6 polynomial on x clamped to ±7.9053, x itself for |x| < 0.0004).
// The approximation errs by at most 1.3e-7 relative; in float32
// arithmetic the result is within a few ulps of tanh (tested). The
// portable version evaluates the same polynomials without fused
// multiply-adds, so the two agree to rounding, not bitwise.
func Tanh32(x []float32) {
	k := tanh32Fast(x)
	for i := k; i < len(x); i++ {
		x[i] = tanh32(x[i])
	}
}

func tanh32(x float32) float32 {
	const (
		clamp = 7.90531110763549805
		a1    = 4.89352455891786e-03
		a3    = 6.37261928875436e-04
		a5    = 1.48572235717979e-05
		a7    = 5.12229709037114e-08
		a9    = -8.60467152213735e-11
		a11   = 2.00018790482477e-13
		a13   = -2.76076847742355e-16
		b0    = 4.89352518554385e-03
		b2    = 2.26843463243900e-03
		b4    = 1.18534705686654e-04
		b6    = 1.19825839466702e-06
	)
	if x != x {
		return x
	}
	if abs := float32(math.Abs(float64(x))); abs < 0.0004 {
		return x
	}
	xc := min(max(x, -clamp), clamp)
	x2 := xc * xc
	p := ((((((a13*x2+a11)*x2+a9)*x2+a7)*x2+a5)*x2+a3)*x2 + a1) * xc
	q := ((b6*x2+b4)*x2+b2)*x2 + b0
	return p / q
}

// TanhGrad32 multiplies dy in place by 1 − y² (bit-identical in both
// versions).
func TanhGrad32(dy, y []float32) {
	if len(y) != len(dy) {
		panic("vec: TanhGrad32: length mismatch")
	}
	k := tanhGrad32Fast(dy, y)
	y = y[:len(dy)]
	for i := k; i < len(dy); i++ {
		dy[i] *= 1 - y[i]*y[i]
	}
}

// AddTo sets dst[i] += src[i] (bias gradients, concatenation backward).
func AddTo[T Float](dst, src []T) {
	if len(src) != len(dst) {
		panic("vec: AddTo: length mismatch")
	}
	k := addToFast(dst, src)
	src = src[:len(dst)]
	for i := k; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// AddReLU sets y[i] = max(y[i] + b[i], 0) (a dense layer's bias and
// ReLU, one row); NaN propagates.
func AddReLU[T Float](y, b []T) {
	if len(b) != len(y) {
		panic("vec: AddReLU: length mismatch")
	}
	k := addReLUFast(y, b)
	b = b[:len(y)]
	for i := k; i < len(y); i++ {
		y[i] = max(y[i]+b[i], 0)
	}
}

// ReLUGrad zeroes dy[i] where y[i] ≤ 0 (the ReLU derivative expressed
// through its output y).
func ReLUGrad[T Float](dy, y []T) {
	if len(y) != len(dy) {
		panic("vec: ReLUGrad: length mismatch")
	}
	k := reluGradFast(dy, y)
	y = y[:len(dy)]
	for i := k; i < len(dy); i++ {
		if y[i] <= 0 {
			dy[i] = 0
		}
	}
}

// Convert copies src into dst, converting the element type (rounding to
// nearest for float64 → float32; float32 → float64 is exact).
func Convert[D, S Float](dst []D, src []S) {
	if len(src) != len(dst) {
		panic("vec: Convert: length mismatch")
	}
	k := convertFast(dst, src)
	src = src[:len(dst)]
	for i := k; i < len(dst); i++ {
		dst[i] = D(src[i])
	}
}
