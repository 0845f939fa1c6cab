package guard

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/folio-rl/folio/internal/seed"
)

// bruteProject projects v onto {Σx = 1, lo ≤ x ≤ hi} by enumerating every
// assignment of each coordinate to {at lo, at hi, free}: for each, the free
// coordinates are v_i − λ with λ fixed by the sum; among the assignments that
// give a feasible point, the closest to v is the projection (the optimum
// has some active set, so it is among the candidates). 3^n candidates.
func bruteProject(v, lo, hi []float64) []float64 {
	n := len(v)
	best, bestD := []float64(nil), math.Inf(1)
	x := make([]float64, n)
	code := make([]int, n)
	total := 1
	for range n {
		total *= 3
	}
	for c := range total {
		r := c
		fixed, free, k := 0.0, 0.0, 0
		for i := range n {
			code[i] = r % 3
			r /= 3
			switch code[i] {
			case 0:
				fixed += lo[i]
			case 1:
				fixed += hi[i]
			default:
				free += v[i]
				k++
			}
		}
		lambda := 0.0
		if k > 0 {
			lambda = (free + fixed - 1) / float64(k)
		}
		ok := true
		s := 0.0
		for i := range n {
			switch code[i] {
			case 0:
				x[i] = lo[i]
			case 1:
				x[i] = hi[i]
			default:
				x[i] = v[i] - lambda
			}
			if x[i] < lo[i]-1e-13 || x[i] > hi[i]+1e-13 {
				ok = false
			}
			s += x[i]
		}
		if !ok || math.Abs(s-1) > 1e-12 {
			continue
		}
		d := 0.0
		for i := range n {
			d += (x[i] - v[i]) * (x[i] - v[i])
		}
		if d < bestD {
			bestD, best = d, append([]float64(nil), x...)
		}
	}
	return best
}

// randomBox draws lo ≤ hi with Σlo ≤ 1 ≤ Σhi, mixing degenerate boxes,
// zero caps and full [0, 1] boxes.
func randomBox(rng *rand.Rand, n int) (lo, hi []float64) {
	lo, hi = make([]float64, n), make([]float64, n)
	for {
		sl, sh := 0.0, 0.0
		for i := range n {
			switch rng.IntN(5) {
			case 0:
				lo[i], hi[i] = 0, 1
			case 1:
				x := rng.Float64() / float64(n)
				lo[i], hi[i] = x, x
			default:
				a, b := rng.Float64()*0.6, rng.Float64()
				lo[i], hi[i] = math.Min(a, b)/float64(n), math.Max(a, b)
			}
			sl += lo[i]
			sh += hi[i]
		}
		if sl <= 1 && sh >= 1 {
			return lo, hi
		}
	}
}

func TestProjectBoxMatchesEnumeration(t *testing.T) {
	// Both compute the same exact projection in float64; they differ only by
	// rounding in sums of ≤ 6 terms of order one, so 1e-12 absolute.
	const tol = 1e-12
	rng := seed.New(1, seed.Test, 1)
	for trial := range 3000 {
		n := 1 + rng.IntN(6)
		lo, hi := randomBox(rng, n)
		v := make([]float64, n)
		for i := range v {
			switch rng.IntN(4) {
			case 0:
				v[i] = rng.Float64()
			case 1:
				v[i] = 3 * rng.NormFloat64()
			case 2:
				v[i] = lo[i] // ties with breakpoints
			default:
				v[i] = math.Round(rng.NormFloat64()*4) / 4
			}
		}
		want := bruteProject(v, lo, hi)
		got := make([]float64, n)
		projectBox(got, v, lo, hi, make([]float64, 2*n), make([]int, n))
		if !floats.EqualApprox(got, want, tol) {
			t.Fatalf("trial %d: project(%v; lo %v hi %v) = %v, enumeration %v", trial, v, lo, hi, got, want)
		}
	}
}

func TestProjectBoxCases(t *testing.T) {
	// Hand-computed: on the plain simplex (lo = 0, hi = 1) the projection is
	// max(v − λ, 0) with λ from the sum (Duchi et al. 2008). Capped cases
	// worked out in the comments.
	const tol = 1e-15 // exact binary fractions up to one rounding
	zero3, one3 := []float64{0, 0, 0}, []float64{1, 1, 1}
	cases := []struct {
		name   string
		v      []float64
		lo, hi []float64
		want   []float64
	}{
		{"already feasible", []float64{0.25, 0.5, 0.25}, zero3, one3, []float64{0.25, 0.5, 0.25}},
		{"zero vector is uniform", []float64{0, 0, 0}, zero3, one3, []float64{1. / 3, 1. / 3, 1. / 3}},
		{"scaled request", []float64{2, 2, 0}, zero3, one3, []float64{0.5, 0.5, 0}}, // λ = 1.5
		{"one dominates", []float64{3, 1, 0}, zero3, one3, []float64{1, 0, 0}},      // λ = 2
		{"negative", []float64{-1, 0.5, 0.5}, zero3, one3, []float64{0, 0.5, 0.5}},  // λ = 0
		// cap 0.5 on asset 1: it sits at 0.5, the rest share 0.5: λ = −0.25.
		{"capped all-in", []float64{0, 1, 0}, zero3, []float64{1, 0.5, 1}, []float64{0.25, 0.5, 0.25}},
		// huge component: the shift by the max keeps the answer exact.
		{"huge", []float64{0, 1e308, 0}, zero3, one3, []float64{0, 1, 0}},
		{"huge capped", []float64{0, 1e308, 0}, zero3, []float64{1, 0.5, 1}, []float64{0.25, 0.5, 0.25}},
		{"huge negative", []float64{-1e308, 0, -1e308}, zero3, one3, []float64{0, 1, 0}},
		{"max float spread", []float64{math.MaxFloat64, -math.MaxFloat64, 0}, zero3, one3, []float64{1, 0, 0}},
		// cash floor 0.6: x = (max(0.6, −λ), 0.8 − λ, max(0, 0.2 − λ)) sums to 1 at λ = 0.4.
		{"cash floor", []float64{0, 0.8, 0.2}, []float64{0.6, 0, 0}, one3, []float64{0.6, 0.4, 0}},
		{"point box", []float64{5, -5, 7}, []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := make([]float64, len(c.v))
			projectBox(got, c.v, c.lo, c.hi, make([]float64, 2*len(c.v)), make([]int, len(c.v)))
			if !floats.EqualApprox(got, c.want, tol) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRepairIsFeasible(t *testing.T) {
	// After repair the box holds exactly and the sum is within a few ulps.
	rng := seed.New(1, seed.Test, 2)
	for range 2000 {
		n := 1 + rng.IntN(8)
		lo, hi := randomBox(rng, n)
		w := make([]float64, n)
		for i := range w {
			w[i] = lo[i] + (hi[i]-lo[i])*rng.Float64() + 0.01*rng.NormFloat64()
		}
		repair(w, lo, hi)
		s := 0.0
		for i := range w {
			if w[i] < lo[i] || w[i] > hi[i] {
				t.Fatalf("w[%d] = %v outside [%v, %v]", i, w[i], lo[i], hi[i])
			}
			s += w[i]
		}
		if math.Abs(s-1) > 1e-14 {
			t.Fatalf("sum %v after repair", s)
		}
	}
}

func BenchmarkProjectBox(b *testing.B) {
	for _, n := range []int{4, 11, 33} {
		b.Run(benchName("n", n), func(b *testing.B) {
			rng := seed.New(1, seed.Test, 3)
			lo, hi := make([]float64, n), make([]float64, n)
			v, dst, bp, idx := make([]float64, n), make([]float64, n), make([]float64, 2*n), make([]int, n)
			for i := range n {
				hi[i] = 0.3
				v[i] = rng.NormFloat64()
			}
			hi[0] = 1
			b.ReportAllocs()
			for b.Loop() {
				projectBox(dst, v, lo, hi, bp, idx)
			}
		})
	}
}

func TestProjectBoxHugeSpreads(t *testing.T) {
	// The projection is invariant to moving whole clusters of components
	// apart once they are more than 3 apart (proof at projectBox). A request
	// made of O(1) clusters placed up to 1e300 apart must project exactly
	// like the same clusters placed 50 apart in the same order, which the
	// enumeration handles in plain arithmetic. Tolerance as in
	// TestProjectBoxMatchesEnumeration.
	const tol = 1e-12
	rng := seed.New(1, seed.Test, 4)
	pool := []float64{0, -1e200, 1e250, -1e300, 1e300, 1e17, -7e9, 1e3}
	for trial := range 2000 {
		n := 2 + rng.IntN(5)
		lo, hi := randomBox(rng, n)
		perm := rng.Perm(len(pool))
		off := []float64{pool[perm[0]], pool[perm[1]], pool[perm[2]]}
		huge, small := make([]float64, n), make([]float64, n)
		for i := range n {
			c := rng.IntN(3)
			base := rng.Float64()
			if rng.IntN(3) == 0 {
				base = 0.5 // exact ties inside a cluster
			}
			huge[i] = off[c] + base
			d := huge[i] - off[c] // what survives of base next to a huge offset (exact)
			rank := 0
			for _, o := range off {
				if o < off[c] {
					rank++
				}
			}
			small[i] = 50*float64(rank) + d
		}
		want := bruteProject(small, lo, hi)
		got := make([]float64, n)
		projectBox(got, huge, lo, hi, make([]float64, 2*n), make([]int, n))
		if !floats.EqualApprox(got, want, tol) {
			t.Fatalf("trial %d: project(%v) = %v, want %v (as %v; lo %v hi %v)", trial, huge, got, want, small, lo, hi)
		}
	}
}

func TestMixMatchesBisection(t *testing.T) {
	// θ* = sup{θ ∈ [0,1] : turnover(a + θ(b − a)) ≤ τ}. The independent
	// computation bisects on θ (the sublevel set of a convex function is an
	// interval containing 0) for 200 halvings, far below rounding, so the two
	// agree to the precision of θ's linear interpolation: 1e-12 where the
	// turnover's slope is of order one.
	rng := seed.New(1, seed.Test, 5)
	p := &Projector{}
	for trial := range 3000 {
		n := 2 + rng.IntN(8)
		*p = Projector{n: n, cur: make([]float64, n), bp: make([]float64, 2*n)}
		lo, hi := randomBox(rng, n)
		a, b := make([]float64, n), make([]float64, n)
		for i := range n {
			p.cur[i] = rng.ExpFloat64()
		}
		projectBox(a, p.cur, lo, hi, make([]float64, 2*n), make([]int, n)) // some point of C
		s := 0.0
		for _, x := range p.cur {
			s += x
		}
		for i := range p.cur {
			p.cur[i] /= s
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = 3 * rng.NormFloat64()
		}
		projectBox(b, v, lo, hi, make([]float64, 2*n), make([]int, n))
		f := func(th float64) float64 {
			s := 0.0
			for i := 1; i < n; i++ {
				s += math.Abs(a[i] + th*(b[i]-a[i]) - p.cur[i])
			}
			return s
		}
		fa, fb := f(0), f(1)
		tau := fa + (fb-fa)*rng.Float64()*1.2 // mostly between, sometimes above f(1)
		if fa > fb {
			tau = fa + rng.Float64()
		}
		dst := make([]float64, n)
		theta, conflict := p.mix(dst, a, b, tau)
		var want float64
		switch {
		case fb <= tau:
			want = 1
		case fa >= tau:
			want = 0
		default:
			l, h := 0.0, 1.0
			for range 200 {
				m := 0.5 * (l + h)
				if f(m) <= tau {
					l = m
				} else {
					h = m
				}
			}
			want = l
		}
		// Where f is flat to rounding the largest θ is ill-conditioned; there
		// the answer must still sit on the boundary f(θ) = τ (1e-13, a few
		// hundred ulps of turnovers of order one).
		onBoundary := math.Abs(f(theta)-tau) <= 1e-13
		if (math.Abs(theta-want) > 1e-12 && !(onBoundary && want < 1 && theta > 0)) || f(theta) > tau+1e-13 || conflict != (fa > tau+Tol) {
			t.Fatalf("trial %d: theta %v conflict %v, bisection %v (f(0) %v f(1) %v tau %v)", trial, theta, conflict, want, fa, fb, tau)
		}
		for i := range dst {
			if math.Abs(dst[i]-(a[i]+theta*(b[i]-a[i]))) > 1e-15 {
				t.Fatalf("dst not on the segment")
			}
		}
	}
}
