package guard

import (
	"math"
	"slices"
)

// hugeAction bounds the finite components of a request before projecting.
// Shifting by the largest component (see projectBox) then cannot overflow,
// and requests whose components are this large are decided by which ones
// are huge, not by their exact size.
const hugeAction = 1e300

// projectBox writes into dst the Euclidean projection of v onto the capped
// simplex C = {x : Σx = 1, lo ≤ x ≤ hi}; it needs Σlo ≤ 1 ≤ Σhi, box widths
// hi_i − lo_i ≤ 1, finite v, and scratch bp of length ≥ 2·len(v) and idx of
// length ≥ len(v). dst may not alias v, lo or hi.
//
// The KKT conditions of min ½‖x − v‖² on C give x_i(λ) = clip(v_i − λ, lo_i,
// hi_i) with the multiplier λ chosen so that g(λ) = Σ x_i(λ) = 1. g is
// continuous, non-increasing and piecewise linear with breakpoints at
// v_i − hi_i and v_i − lo_i. After sorting the 2n breakpoints a binary search
// finds the segment [bp_a, bp_z] on which g crosses 1; there every
// coordinate is at hi, at lo or free, and λ solves the linear equation
// Σ_free (v_i − λ) + Σ_hi hi_i + Σ_lo lo_i = 1 exactly. O(n log n), no
// iteration tolerance.
//
// Numerics. The projection is unchanged by adding a constant to every v_i,
// so v is shifted by its largest component. When the components span more
// than 2^20, the shift and the breakpoints v_i − hi_i would lose digits to
// rounding, so instead the sorted gaps larger than 3 are compressed to 3
// (measured on the unshifted values) and the top is set to 0.
// This too leaves the projection unchanged: with λ the multiplier, every
// coordinate with v_i − λ ≤ −1 is at lo and every one with v_i − λ ≥ 2 is at
// hi (widths ≤ 1); the others lie in an interval of length 3, so no gap
// between them is compressed and they shift together, and compressed gaps
// of 3 keep the coordinates beyond them at least that far out. Requests
// such as (0, 1e300, 0) thus project exactly. Finite components are first
// clamped to ±1e300 so that no difference overflows.
func projectBox(dst, v, lo, hi, bp []float64, idx []int) {
	n := len(v)
	m, mn := math.Inf(-1), math.Inf(1)
	for i := range v {
		x := clamp(v[i], -hugeAction, hugeAction)
		m, mn = max(m, x), min(mn, x)
	}
	u := dst // holds the shifted request until the final clip
	if m-mn > 1<<20 {
		for i := range v {
			u[i] = clamp(v[i], -hugeAction, hugeAction)
		}
		compressGaps(u, idx[:n])
	} else {
		for i := range v {
			u[i] = clamp(v[i], -hugeAction, hugeAction) - m
		}
	}
	bp = bp[:2*n]
	for i := range n {
		bp[2*i] = u[i] - hi[i]
		bp[2*i+1] = u[i] - lo[i]
	}
	slices.Sort(bp)
	g := func(l float64) float64 {
		s := 0.0
		for i := range n {
			s += clamp(u[i]-l, lo[i], hi[i])
		}
		return s
	}
	var lambda float64
	switch a, z := 0, 2*n-1; {
	case g(bp[z]) >= 1: // Σlo ≥ 1: every coordinate at its lower bound
		lambda = bp[z]
	case g(bp[0]) < 1: // Σhi ≤ 1 up to rounding: every coordinate at its upper bound
		lambda = bp[0]
	default:
		for z-a > 1 { // invariant: g(bp[a]) ≥ 1 > g(bp[z])
			mid := (a + z) / 2
			if g(bp[mid]) >= 1 {
				a = mid
			} else {
				z = mid
			}
		}
		// No breakpoint lies strictly inside (bp[a], bp[z]), so each
		// coordinate keeps one status on it; classify by the breakpoints
		// themselves (exact comparisons, no midpoint rounding), then solve
		// Σ_free (u_i − λ) + Σ_fixed bound = 1 for λ.
		fixed, free, k := 0.0, 0.0, 0
		for i := range n {
			switch {
			case u[i]-hi[i] >= bp[z]:
				fixed += hi[i]
			case u[i]-lo[i] <= bp[a]:
				fixed += lo[i]
			default:
				free += u[i]
				k++
			}
		}
		lambda = bp[a]
		if k > 0 {
			lambda = (free + fixed - 1) / float64(k)
		}
	}
	for i := range n {
		dst[i] = clamp(u[i]-lambda, lo[i], hi[i])
	}
}

// compressGaps replaces every gap larger than 3 between consecutive sorted
// values of u by 3 and shifts the result so that its largest value is 0
// (see projectBox). Gaps are taken from the unshifted values, so clusters
// of nearby values keep their exact differences. idx is scratch; insertion
// sort, as this path is rare and n small.
func compressGaps(u []float64, idx []int) {
	for i := range idx {
		idx[i] = i
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && u[idx[j]] > u[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	// idx is in descending order of u; rebuild downward from 0.
	prev := u[idx[0]]
	u[idx[0]] = 0
	for k := 1; k < len(idx); k++ {
		i := idx[k]
		gap := prev - u[i]
		prev = u[i]
		u[i] = u[idx[k-1]] - min(gap, 3)
	}
}

// repair moves w, which must already be close to C = {Σw = 1, lo ≤ w ≤ hi},
// exactly onto it up to rounding: clamp to the box, then give the sum's
// residual to w[0] (cash) if its box allows, else spread it over the
// coordinates in proportion to their room in the needed direction. Each coordinate moves by at most its room, so the box holds;
// the sum is 1 to a few ulps. Needs Σlo ≤ 1 ≤ Σhi.
func repair(w, lo, hi []float64) {
	s := 0.0
	for i := range w {
		w[i] = clamp(w[i], lo[i], hi[i])
		s += w[i]
	}
	r := 1 - s
	if r == 0 {
		return
	}
	// Cash (index 0) absorbs the residual when it can, so risky weights that
	// should be exactly zero or at a bound stay there.
	if w0 := w[0] + r; w0 >= lo[0] && w0 <= hi[0] {
		w[0] = w0
		return
	}
	room := 0.0
	for i := range w {
		if r > 0 {
			room += hi[i] - w[i]
		} else {
			room += w[i] - lo[i]
		}
	}
	if room <= 0 {
		return
	}
	f := min(math.Abs(r)/room, 1)
	for i := range w {
		if r > 0 {
			w[i] = min(w[i]+f*(hi[i]-w[i]), hi[i])
		} else {
			w[i] = max(w[i]-f*(w[i]-lo[i]), lo[i])
		}
	}
}

// clamp returns x limited to [lo, hi] (lo ≤ hi).
func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
