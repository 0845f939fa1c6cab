package env

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// TestExpNonPositive compares the fast exponential with math.Exp over
// [−745, 0], densely near 0 where softmax arguments usually fall, and at
// the reduction boundaries (half-integer multiples of ln2). Tolerance 2 ulp
// relative: the degree-13 polynomial's truncation error is below 5e-18, so
// the rest is rounding in the evaluation (≈1 ulp) plus math.Exp's own
// (< 1 ulp).
func TestExpNonPositive(t *testing.T) {
	const tol = 2 * 0x1p-52
	var worst float64
	check := func(x float64) {
		got, want := expNonPositive(x), math.Exp(x)
		if want == 0 {
			if got != 0 {
				t.Fatalf("exp(%v) = %v, want 0", x, got)
			}
			return
		}
		e := math.Abs(got-want) / want
		worst = max(worst, e)
		if e > tol {
			t.Fatalf("exp(%.17g) = %.17g, math.Exp %.17g (relative error %.3g)", x, got, want, e)
		}
	}
	rng := seed.New(1, seed.Test, 60)
	for k := 0; k < 200000; k++ {
		check(-745 * rng.Float64())
		check(-2 * rng.Float64())
		check(-1e-6 * rng.Float64())
	}
	for k := 0; k <= 2000; k++ {
		b := -float64(k) * math.Ln2 / 2
		check(b)
		check(math.Nextafter(b, 0))
		check(math.Nextafter(b, -1000))
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -708, -708.5, -744, -746, math.Inf(-1)} {
		check(x)
	}
	if got := expNonPositive(0); got != 1 {
		t.Errorf("exp(0) = %v, want exactly 1", got)
	}
	t.Logf("largest relative deviation from math.Exp: %.3g (%.2f ulp)", worst, worst/0x1p-52)
}

// TestSoftmax: weights are positive, sum to one within 4 ulp, and match the
// definition computed with math.Exp to 4 ulp relative, including extreme
// logits.
func TestSoftmax(t *testing.T) {
	rng := seed.New(1, seed.Test, 61)
	a, w := make([]float64, 11), make([]float64, 11)
	for trial := 0; trial < 2000; trial++ {
		scale := []float64{0.1, 3, 100, 1000}[trial%4]
		for i := range a {
			a[i] = scale * rng.NormFloat64()
		}
		softmaxTo(w, a)
		mx := a[0]
		for _, x := range a {
			mx = max(mx, x)
		}
		var z, sum float64
		for _, x := range a {
			z += math.Exp(x - mx)
		}
		for i, x := range a {
			want := math.Exp(x-mx) / z
			if !(w[i] >= 0) || math.Abs(w[i]-want) > 4*0x1p-52*want {
				t.Fatalf("softmax(%v)[%d] = %v, want %v", a, i, w[i], want)
			}
			sum += w[i]
		}
		if math.Abs(sum-1) > 4*0x1p-52 {
			t.Fatalf("softmax sums to %v", sum)
		}
	}
}
