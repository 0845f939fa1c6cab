package env

import (
	"math"
	"math/big"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// TestExpNonPositive compares the fast exponential with math.Exp over
// [−745, 0], densely near 0 where softmax arguments usually fall, and at
// the reduction boundaries (multiples of ln2/128). Tolerance 2 ulp
// relative: the fast exponential is within 0.52 ulp of the exact value
// (TestExpAccuracy) and math.Exp within 1 ulp.
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
	for k := 0; k <= 20000; k++ {
		b := -float64(k) * math.Ln2 / 128
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
		if !softmaxTo(w, a) {
			t.Fatal("finite logits reported as non-finite")
		}
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
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for i := range a {
			a[i] = float64(i)
		}
		a[7] = bad
		if softmaxTo(w, a) {
			t.Errorf("softmax of logits holding %v reported finite", bad)
		}
	}
}

// bigExp returns e^x to about 200 bits: e^x = (e^(x/2^s))^(2^s) with
// |x/2^s| < 1/2, the inner exponential by 60 terms of its Taylor series
// (remainder < 0.5^61/61! < 1e-100), at 256 bits so that the s ≤ 11
// squarings lose at most 12 of them.
func bigExp(x float64) *big.Float {
	const prec = 256
	s := 0
	for y := math.Abs(x); y >= 0.5; y /= 2 {
		s++
	}
	y := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(x).SetPrec(prec), -s)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := 1; n <= 60; n++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
		sum.Add(sum, term)
	}
	for range s {
		sum.Mul(sum, sum)
	}
	return sum
}

// TestExpAccuracy measures the fast exponential against a 200-bit
// reference (bigExp, an independent computation) in units in the last
// place of the exact result: within 0.52 ulp by the error analysis in
// expShiftedTo's comment (one final rounding, 0.5 ulp, plus roundings of
// terms below 0.006 of the result); the bound checked is 0.55.
func TestExpAccuracy(t *testing.T) {
	rng := seed.New(2, seed.Test, 60)
	var worst, worstX float64
	for k := 0; k < 1500; k++ {
		var x float64
		switch k % 3 {
		case 0:
			x = -708 * rng.Float64()
		case 1:
			x = -3 * rng.Float64()
		default:
			x = -float64(rng.IntN(2000)) * math.Ln2 / 128 // table and reduction boundaries
		}
		ref := bigExp(x)
		got := new(big.Float).SetPrec(256).SetFloat64(expNonPositive(x))
		r, _ := ref.Float64()
		ulp := math.Nextafter(r, math.Inf(1)) - r
		d, _ := new(big.Float).Sub(got, ref).Float64()
		if e := math.Abs(d) / ulp; e > worst {
			worst, worstX = e, x
		}
	}
	if worst > 0.55 {
		t.Errorf("error %.3f ulp at x = %v, want < 0.55", worst, worstX)
	}
	t.Logf("largest error against the 200-bit reference: %.3f ulp (x = %v)", worst, worstX)
}

// TestExp2Table recomputes exp2Table with math/big: 2^(1/64) by six square
// roots of 2 at 256 bits, its powers by repeated multiplication; hi must
// be the nearest float64 and lo the nearest float64 to the remainder.
func TestExp2Table(t *testing.T) {
	const prec = 256
	base := new(big.Float).SetPrec(prec).SetInt64(2)
	for range 6 {
		base.Sqrt(base)
	}
	v := new(big.Float).SetPrec(prec).SetInt64(1)
	for j := range 64 {
		hi, _ := v.Float64()
		rest := new(big.Float).SetPrec(prec).Sub(v, new(big.Float).SetPrec(prec).SetFloat64(hi))
		lo, _ := rest.Float64()
		if exp2Table[j][0] != hi || exp2Table[j][1] != lo {
			t.Errorf("2^(%d/64): table %x + %x, math/big %x + %x", j, exp2Table[j][0], exp2Table[j][1], hi, lo)
		}
		v.Mul(v, base)
	}
}
