package vec

import (
	"fmt"
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func randSlice32(n int, scale float64, s uint64) []float32 {
	x := randSlice(n, scale, s)
	y := make([]float32, n)
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// sizes cover the empty case, fewer elements than a vector, exact vector
// multiples and ragged tails.
var sizes32 = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 100, 1003}

// TestAdam32BitIdentical: the vector kernel performs the portable loop's
// float32 operations in the same order (no fused multiply-adds; VSQRTPS
// and the float64 square root rounded to float32 are both correctly
// rounded), so results are equal bit for bit.
func TestAdam32BitIdentical(t *testing.T) {
	args := &AdamArgs{OneMinusB1: 0.1, B1: 0.9, OneMinusB2: 1 - 0.999, B2: 0.999, C1: 1 / (1 - math.Pow(0.9, 3)),
		NegLR: -3e-4, C2: 1 / (1 - math.Pow(0.999, 3)), Eps: 1e-8, Scale: 0.37}
	c := args.f32()
	for _, n := range sizes32 {
		g := randSlice32(n, 1, 1)
		th1, m1, v1 := randSlice32(n, 1, 2), randSlice32(n, 0.1, 3), randSlice32(n, 0.1, 4)
		for i := range v1 {
			v1[i] = float32(math.Abs(float64(v1[i])))
		}
		th2, m2, v2 := append([]float32(nil), th1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
		Adam32(th1, g, m1, v1, args)
		adam32Go(th2, g, m2, v2, &c)
		for i := range th1 {
			if math.Float32bits(th1[i]) != math.Float32bits(th2[i]) || m1[i] != m2[i] || v1[i] != v2[i] {
				t.Fatalf("n=%d, element %d: θ %v vs %v, m %v vs %v, v %v vs %v", n, i, th1[i], th2[i], m1[i], m2[i], v1[i], v2[i])
			}
		}
	}
}

// TestAdam32MatchesAdam: ten float32 steps agree with ten float64 steps
// from the same (float32-representable) start. Each float32 step rounds
// θ to float32 (≤ ½ ulp) and computes the step itself with a relative
// error of ~10 float32 roundings (< 1e-6); so after ten steps the
// difference is at most 10 ulps of θ plus 1e-5 of the distance moved. A
// wrong order or constant is off by O(1) of the distance moved.
func TestAdam32MatchesAdam(t *testing.T) {
	const n = 1003
	th32, m32, v32 := randSlice32(n, 1, 2), make([]float32, n), make([]float32, n)
	th64, m64, v64 := make([]float64, n), make([]float64, n), make([]float64, n)
	Convert(th64, th32)
	start := append([]float64(nil), th64...)
	for step := 1; step <= 10; step++ {
		g32 := randSlice32(n, 1, uint64(10+step))
		g64 := make([]float64, n)
		Convert(g64, g32)
		args := &AdamArgs{OneMinusB1: 0.1, B1: 0.9, OneMinusB2: 1 - 0.999, B2: 0.999, C1: 1 / (1 - math.Pow(0.9, float64(step))),
			NegLR: -1e-3, C2: 1 / (1 - math.Pow(0.999, float64(step))), Eps: 1e-8, Scale: 1}
		Adam32(th32, g32, m32, v32, args)
		Adam(th64, g64, m64, v64, args)
	}
	for i := range th64 {
		moved := math.Abs(th64[i] - start[i])
		if d := math.Abs(float64(th32[i]) - th64[i]); d > 1e-5*moved+10*0x1p-23*math.Abs(th64[i]) {
			t.Fatalf("θ[%d]: float32 %v, float64 %v (moved %v)", i, th32[i], th64[i], moved)
		}
	}
}

func TestLerp32BitIdentical(t *testing.T) {
	for _, n := range sizes32 {
		src := randSlice32(n, 1, 5)
		d1 := randSlice32(n, 1, 6)
		d2 := append([]float32(nil), d1...)
		Lerp32(d1, src, 0.005)
		t32, u32 := float32(0.005), float32(1-0.005)
		for i := range d2 {
			d2[i] = t32*src[i] + u32*d2[i]
		}
		for i := range d1 {
			if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
				t.Fatalf("n=%d, element %d: %v vs %v", n, i, d1[i], d2[i])
			}
		}
	}
}

// TestSumSquares32: against an in-order float64 sum of the exact squares;
// the vector sum reassociates n terms: n·ε₆₄·Σx².
func TestSumSquares32(t *testing.T) {
	for _, n := range sizes32 {
		x := randSlice32(n, 3, 7)
		var want float64
		for _, v := range x {
			want += float64(v) * float64(v)
		}
		if got := SumSquares32(x); math.Abs(got-want) > float64(n+1)*0x1p-52*want {
			t.Errorf("n=%d: %v, in-order sum %v", n, got, want)
		}
	}
}

// TestTanh32 compares both float32 tanh implementations with math.Tanh
// (float64) over ranges that exercise the tiny branch, the rational
// approximation, the clamp and saturation. Tolerance 7 float32 ulps of
// the result, and always ≤ 1e-6 absolute: the approximation itself errs
// by ≤ 1.3e-7 relative (≈ 2.2 ulps); its float32 evaluation adds rounding.
// Over every 51st float32 in [1e-6, 10] (3.8 million inputs) the worst
// errors measured were 4.5 ulps (vector, with FMA) and 6.2 ulps
// (portable, without).
func TestTanh32(t *testing.T) {
	rng := seed.New(19, seed.Test, 0)
	var xs []float32
	for _, scale := range []float64{1e-8, 1e-4, 1e-3, 0.3, 1, 3, 7.9, 10, 1000} {
		for i := 0; i < 2000; i++ {
			xs = append(xs, float32(scale*(2*rng.Float64()-1)*2))
		}
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 0.0004, -0.0004, 7.9053111, -7.9053111, 8, -8, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)))
	for _, impl := range []string{"vec", "go"} {
		got := append([]float32(nil), xs...)
		if impl == "vec" {
			Tanh32(got)
		} else {
			for i := range got {
				got[i] = tanh32(got[i])
			}
		}
		worst := 0.0
		for i, x := range xs {
			want := math.Tanh(float64(x))
			w32 := float32(want)
			ulp := float64(math.Nextafter32(w32, float32(math.Inf(1))) - w32)
			if w32 == 1 {
				ulp = float64(1 - math.Nextafter32(1, 0))
			}
			if w32 == 0 {
				ulp = math.SmallestNonzeroFloat32
			}
			d := math.Abs(float64(got[i])-want) / ulp
			worst = max(worst, d)
			if d > 7 || math.Abs(float64(got[i])-want) > 1e-6 || math.Signbit(float64(got[i])) != math.Signbit(want) {
				t.Fatalf("%s: tanh32(%v) = %v, math.Tanh %v (%.1f ulp)", impl, x, got[i], want, d)
			}
		}
		t.Logf("%s: worst error %.2f ulp over %d inputs", impl, worst, len(xs))
	}
	nan := []float32{float32(math.NaN()), 1, -1, 0.1, 2, 3, 4, 5, float32(math.NaN())}
	if Tanh32(nan); !math.IsNaN(float64(nan[0])) || !math.IsNaN(float64(nan[8])) {
		t.Fatalf("tanh32(NaN) = %v, %v, want NaN", nan[0], nan[8])
	}
}

func TestTanhGrad32BitIdentical(t *testing.T) {
	for _, n := range sizes32 {
		y := randSlice32(n, 0.5, 8)
		d1 := randSlice32(n, 1, 9)
		d2 := append([]float32(nil), d1...)
		TanhGrad32(d1, y)
		for i := range d2 {
			d2[i] *= 1 - y[i]*y[i]
		}
		for i := range d1 {
			if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
				t.Fatalf("n=%d, element %d: %v vs %v", n, i, d1[i], d2[i])
			}
		}
	}
}

// checkRowOps compares AddTo, AddReLU and ReLUGrad with plain loops (one
// IEEE operation per element, so equal except for the sign of zero, which
// MAXPS takes from its second operand), including NaN propagation.
func checkRowOps[T Float](t *testing.T) {
	nan := T(math.NaN())
	for _, n := range sizes32 {
		x := randSlice(n, 1, 20)
		y := randSlice(n, 1, 21)
		a, b := make([]T, n), make([]T, n)
		Convert(a, x)
		Convert(b, y)
		if n > 5 {
			a[5] = nan
		}
		same := func(op string, got, want []T) {
			t.Helper()
			for i := range got {
				if !(got[i] == want[i] || got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%T %s n=%d, element %d: %v, want %v", got[0], op, n, i, got[i], want[i])
				}
			}
		}
		got, want := append([]T(nil), a...), append([]T(nil), a...)
		AddTo(got, b)
		for i := range want {
			want[i] += b[i]
		}
		same("AddTo", got, want)
		got, want = append([]T(nil), a...), append([]T(nil), a...)
		AddReLU(got, b)
		for i := range want {
			want[i] = max(want[i]+b[i], 0)
		}
		same("AddReLU", got, want)
		got, want = append([]T(nil), b...), append([]T(nil), b...)
		ReLUGrad(got, a)
		for i := range want {
			if a[i] <= 0 {
				want[i] = 0
			}
		}
		same("ReLUGrad", got, want)
	}
}

func TestRowOps(t *testing.T) {
	checkRowOps[float32](t)
	checkRowOps[float64](t)
}

// TestConvert: float64 → float32 rounds to nearest exactly as Go's
// conversion; float32 → float64 is exact.
func TestConvert(t *testing.T) {
	for _, n := range sizes32 {
		x := randSlice(n, 1e3, 22)
		if n > 2 {
			x[1], x[2] = math.NaN(), 1e300 // NaN stays NaN; overflow becomes +Inf
		}
		y := make([]float32, n)
		Convert(y, x)
		for i := range y {
			if w := float32(x[i]); !(math.Float32bits(y[i]) == math.Float32bits(w) || y[i] != y[i] && w != w) {
				t.Fatalf("n=%d: float32(%v) = %v, want %v", n, x[i], y[i], w)
			}
		}
		z := make([]float64, n)
		Convert(z, y)
		for i := range z {
			if !(z[i] == float64(y[i]) || z[i] != z[i] && y[i] != y[i]) {
				t.Fatalf("n=%d: float64(%v) = %v", n, y[i], z[i])
			}
		}
	}
}

// TestGenericAllocs: the generic loops dispatch to the vector kernels
// without allocating.
func TestGenericAllocs(t *testing.T) {
	a32, b32 := randSlice32(256, 1, 1), randSlice32(256, 1, 2)
	a64, b64 := randSlice(256, 1, 3), randSlice(256, 1, 4)
	if n := testing.AllocsPerRun(10, func() {
		AddTo(a32, b32)
		AddReLU(a32, b32)
		ReLUGrad(a32, b32)
		AddTo(a64, b64)
		AddReLU(a64, b64)
		ReLUGrad(a64, b64)
		Convert(a32, a64)
		Convert(a64, a32)
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func BenchmarkElementwise(b *testing.B) {
	const n = 256 * 256
	x32, y32 := randSlice32(n, 1, 1), randSlice32(n, 1, 2)
	x64, y64 := randSlice(n, 1, 3), randSlice(n, 1, 4)
	th, m, v := randSlice32(n, 1, 5), make([]float32, n), make([]float32, n)
	args := &AdamArgs{OneMinusB1: 0.1, B1: 0.9, OneMinusB2: 0.001, B2: 0.999, C1: 1, NegLR: -1e-3, C2: 1, Eps: 1e-8, Scale: 1}
	for _, bc := range []struct {
		name string
		f    func()
	}{
		{"AddReLU/float32", func() { AddReLU(x32, y32) }},
		{"AddReLU/float64", func() { AddReLU(x64, y64) }},
		{"ReLUGrad/float32", func() { ReLUGrad(x32, y32) }},
		{"Tanh32", func() { copy(x32, y32); Tanh32(x32) }},
		{"Adam32", func() { Adam32(th, y32, m, v, args) }},
		{"Convert/64to32", func() { Convert(x32, x64) }},
	} {
		b.Run(fmt.Sprintf("%s/n=%d", bc.name, n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.f()
			}
		})
	}
}
