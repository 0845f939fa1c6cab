package vec

import (
	"fmt"
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func randSlice(n int, scale float64, s uint64) []float64 {
	rng := seed.New(s, seed.Test, uint64(n))
	x := make([]float64, n)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

// TestAdamBitIdentical: the vector kernel performs the portable loop's
// IEEE operations in the same order, so results are equal bit for bit.
func TestAdamBitIdentical(t *testing.T) {
	args := &AdamArgs{OneMinusB1: 0.1, B1: 0.9, OneMinusB2: 1 - 0.999, B2: 0.999, C1: 1 / (1 - math.Pow(0.9, 3)),
		NegLR: -3e-4, C2: 1 / (1 - math.Pow(0.999, 3)), Eps: 1e-5, Scale: 0.37}
	for _, n := range []int{1, 3, 4, 5, 17, 1000, 1003} {
		g := randSlice(n, 1, 1)
		th1, m1, v1 := randSlice(n, 1, 2), randSlice(n, 0.1, 3), randSlice(n, 0.1, 4)
		for i := range v1 {
			v1[i] = math.Abs(v1[i])
		}
		th2, m2, v2 := append([]float64(nil), th1...), append([]float64(nil), m1...), append([]float64(nil), v1...)
		Adam(th1, g, m1, v1, args)
		adamGo(th2, g, m2, v2, args)
		for i := range th1 {
			if math.Float64bits(th1[i]) != math.Float64bits(th2[i]) || m1[i] != m2[i] || v1[i] != v2[i] {
				t.Fatalf("n=%d, element %d: θ %v vs %v, m %v vs %v, v %v vs %v", n, i, th1[i], th2[i], m1[i], m2[i], v1[i], v2[i])
			}
		}
	}
}

func TestLerpBitIdentical(t *testing.T) {
	for _, n := range []int{1, 4, 7, 1001} {
		src := randSlice(n, 1, 5)
		d1 := randSlice(n, 1, 6)
		d2 := append([]float64(nil), d1...)
		Lerp(d1, src, 0.005)
		lerpGo(d2, src, 0.005)
		for i := range d1 {
			if math.Float64bits(d1[i]) != math.Float64bits(d2[i]) {
				t.Fatalf("n=%d, element %d: %v vs %v", n, i, d1[i], d2[i])
			}
		}
	}
}

// TestSumSquares: against a plain in-order loop; the vector sum
// reassociates n terms, so it errs by at most n·ε·Σx² (Higham §4.2).
func TestSumSquares(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 100, 10001} {
		x := randSlice(n, 3, 7)
		var want float64
		for _, v := range x {
			want += v * v
		}
		got := SumSquares(x)
		if math.Abs(got-want) > float64(n+1)*0x1p-52*want {
			t.Errorf("n=%d: %v, in-order sum %v", n, got, want)
		}
	}
}

func BenchmarkAdam(b *testing.B) {
	for _, n := range []int{49000, 300000} {
		g, th, m, v := randSlice(n, 1, 1), randSlice(n, 1, 2), make([]float64, n), make([]float64, n)
		args := &AdamArgs{OneMinusB1: 0.1, B1: 0.9, OneMinusB2: 0.001, B2: 0.999, C1: 1, NegLR: -1e-3, C2: 1, Eps: 1e-8, Scale: 1}
		b.Run(fmt.Sprintf("n=%d/impl=vec", n), func(b *testing.B) {
			for b.Loop() {
				Adam(th, g, m, v, args)
			}
		})
		b.Run(fmt.Sprintf("n=%d/impl=go", n), func(b *testing.B) {
			for b.Loop() {
				adamGo(th, g, m, v, args)
			}
		})
	}
}

// TestTanh compares the vector tanh with math.Tanh over ranges that
// exercise both branches, their boundary, saturation, signs and zeros.
// Tolerance 4 ulps of the result: the exp-based branch rounds a few
// times more than math.Tanh (which uses the same formulas).
func TestTanh(t *testing.T) {
	rng := seed.New(9, seed.Test, 0)
	var xs []float64
	for _, scale := range []float64{1e-8, 1e-3, 0.3, 0.625, 1, 3, 10, 30, 1000} {
		for i := 0; i < 2000; i++ {
			xs = append(xs, scale*(2*rng.Float64()-1)*2)
		}
	}
	xs = append(xs, 0, math.Copysign(0, -1), 0.625, -0.625, math.Nextafter(0.625, 0), 22, -22, 1e300, -1e300, math.Inf(1), math.Inf(-1))
	for len(xs)%4 != 0 {
		xs = append(xs, 0.1)
	}
	got := append([]float64(nil), xs...)
	Tanh(got)
	nan := []float64{math.NaN(), 1, -1, 0.1}
	if Tanh(nan); !math.IsNaN(nan[0]) {
		t.Fatalf("tanh(NaN) = %v, want NaN", nan[0])
	}
	worst := 0.0
	for i, x := range xs {
		want := math.Tanh(x)
		ulp := math.Abs(math.Nextafter(want, math.Inf(1)) - want)
		if want == 0 {
			ulp = math.SmallestNonzeroFloat64
		}
		d := math.Abs(got[i]-want) / ulp
		worst = max(worst, d)
		if d > 4 || math.Signbit(got[i]) != math.Signbit(want) {
			t.Fatalf("tanh(%v) = %v, math.Tanh %v (%.1f ulp)", x, got[i], want, d)
		}
	}
	t.Logf("worst error %.1f ulp over %d inputs", worst, len(xs))
}

func BenchmarkTanh(b *testing.B) {
	x := randSlice(4096, 1, 3)
	y := make([]float64, len(x))
	b.Run("impl=vec", func(b *testing.B) {
		for b.Loop() {
			copy(y, x)
			Tanh(y)
		}
	})
	b.Run("impl=math", func(b *testing.B) {
		for b.Loop() {
			copy(y, x)
			for i := range y {
				y[i] = math.Tanh(y[i])
			}
		}
	})
}

func TestTanhGradBitIdentical(t *testing.T) {
	for _, n := range []int{1, 4, 7, 1001} {
		y := randSlice(n, 0.5, 8)
		d1 := randSlice(n, 1, 9)
		d2 := append([]float64(nil), d1...)
		TanhGrad(d1, y)
		for i := range d2 {
			d2[i] *= 1 - y[i]*y[i]
		}
		for i := range d1 {
			if math.Float64bits(d1[i]) != math.Float64bits(d2[i]) {
				t.Fatalf("n=%d, element %d: %v vs %v", n, i, d1[i], d2[i])
			}
		}
	}
}
