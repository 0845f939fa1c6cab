// Package vec holds the element-wise loops of nets' native engine: over
// whole parameter vectors (Adam, the sum of squares for gradient norms,
// Polyak averaging) and over activations (bias and ReLU, tanh, their
// derivatives, row sums for bias gradients, precision conversions). On
// amd64 with AVX2 they run four float64 or eight float32 lanes at a time;
// the portable versions are the reference they are tested against. Each
// float64 function has a float32 twin (suffix 32) or is generic over
// Float.
//
// Adam, Lerp, TanhGrad and the row operations perform exactly the same
// IEEE operations in the same order in both versions (no fused
// multiply-adds), so their results are bit-identical; SumSquares
// reassociates the sum and agrees to rounding; Tanh and Tanh32 are
// approximations tested against math.Tanh (a few ulps).
//
// The package must not import gorgonia.
package vec

import "math"

// AdamArgs are Adam's per-step constants: with c₁ = 1/(1−β₁ᵗ) and
// c₂ = 1/(1−β₂ᵗ), one step is, for g = Scale·gradient (unscaled if Scale
// is 1),
//
//	m ← g·(1−β₁) + m·β₁,  v ← g·g·(1−β₂) + v·β₂,
//	θ ← θ + (m·c₁·(−lr)) / (√(v·c₂) + ε)
//
// (gorgonia's AdamSolver's order of operations).
type AdamArgs struct {
	OneMinusB1, B1, OneMinusB2, B2, C1, NegLR, C2, Eps float64
	// Scale multiplies the gradient first (gradient clipping); 1 is exact.
	Scale float64
}

// Adam applies one Adam step to theta given grad, updating m and v.
// All slices must have the same length.
func Adam(theta, grad, m, v []float64, a *AdamArgs) {
	n := len(theta)
	if len(grad) != n || len(m) != n || len(v) != n {
		panic("vec: Adam: length mismatch")
	}
	k := adamFast(theta, grad, m, v, a)
	adamGo(theta[k:], grad[k:], m[k:], v[k:], a)
}

func adamGo(theta, grad, m, v []float64, a *AdamArgs) {
	m, v, grad = m[:len(theta)], v[:len(theta)], grad[:len(theta)]
	for i, g := range grad {
		if a.Scale != 1 {
			g *= a.Scale
		}
		mi := g*a.OneMinusB1 + m[i]*a.B1
		vi := g*g*a.OneMinusB2 + v[i]*a.B2
		m[i], v[i] = mi, vi
		theta[i] += mi * a.C1 * a.NegLR / (math.Sqrt(vi*a.C2) + a.Eps)
	}
}

// SumSquares returns Σ xᵢ².
func SumSquares(x []float64) float64 {
	s, k := sumSquaresFast(x)
	return s + sumSquaresGo(x[k:])
}

func sumSquaresGo(x []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * x[i]
		s1 += x[i+1] * x[i+1]
		s2 += x[i+2] * x[i+2]
		s3 += x[i+3] * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Lerp sets dst ← t·src + (1−t)·dst element-wise (Polyak averaging of
// target networks).
func Lerp(dst, src []float64, t float64) {
	if len(src) != len(dst) {
		panic("vec: Lerp: length mismatch")
	}
	k := lerpFast(dst, src, t)
	lerpGo(dst[k:], src[k:], t)
}

func lerpGo(dst, src []float64, t float64) {
	u := 1 - t
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = t*v + u*dst[i]
	}
}

// Scale multiplies x by c in place.
func Scale(x []float64, c float64) {
	for i := range x {
		x[i] *= c
	}
}

// Tanh replaces every element of x by its hyperbolic tangent. The vector
// kernel follows math.Tanh's algorithm (Cephes: a rational function for
// |x| < 0.625, 1 − 2/(e^{2|x|}+1) above) with its own vectorised exp, and
// agrees with math.Tanh to a few ulps (tested); results are deterministic
// but not bit-identical to math.Tanh.
func Tanh(x []float64) {
	k := tanhFast(x)
	for i := k; i < len(x); i++ {
		x[i] = math.Tanh(x[i])
	}
}

// TanhGrad multiplies dy in place by 1 − y² (the derivative of tanh
// expressed through its output y).
func TanhGrad(dy, y []float64) {
	if len(y) != len(dy) {
		panic("vec: TanhGrad: length mismatch")
	}
	k := tanhGradFast(dy, y)
	y = y[:len(dy)]
	for i := k; i < len(dy); i++ {
		dy[i] *= 1 - y[i]*y[i]
	}
}
