package vol

import "math"

// RiskMetricsLambda is the RiskMetrics (J.P. Morgan 1996) decay for daily
// data.
const RiskMetricsLambda = 0.94

// EWMATo writes the exponentially weighted moving average of squared
// returns into dst (length len(r)) and returns it:
//
//	dst[t] = λ·dst[t−1] + (1−λ)·r_t²,   dst[−1] = init.
//
// dst[t] uses returns ≤ t and is the variance forecast for r_{t+1} made at
// the end of bar t (zero mean, as RiskMetrics). arch's ewma_recursion
// writes the same recursion one step later, σ²_t = λσ²_{t−1} + (1−λ)r²_{t−1}
// (the variance of r_t given returns before t), started at σ²_0 = backcast:
// its σ²_{t+1} equals dst[t] here when init = σ²_0. dst may alias r.
// It panics unless 0 < λ < 1.
func EWMATo(dst, r []float64, lambda, init float64) []float64 {
	checkLambda(lambda)
	if len(dst) != len(r) {
		panic("vol: EWMATo destination length mismatch")
	}
	v := init
	for t, x := range r {
		v = lambda*v + (1-lambda)*x*x
		dst[t] = v
	}
	return dst
}

// EWMAAdjustedTo writes the EWMA of squared returns with weights
// renormalised over the available history into dst and returns it:
//
//	dst[t] = Σ_{k=0}^{t} λ^k r²_{t−k} / Σ_{k=0}^{t} λ^k
//
// (pandas' ewm(adjust=True)). It needs no initial value, so the series is
// causal from its first return: dst[t] uses returns ≤ t. It differs from
// EWMATo started at any init by a term of order λ^{t+1}, so after ~100
// bars (λ = 0.94) they agree to 0.2 %. dst may alias r. It panics unless
// 0 < λ < 1.
func EWMAAdjustedTo(dst, r []float64, lambda float64) []float64 {
	checkLambda(lambda)
	if len(dst) != len(r) {
		panic("vol: EWMAAdjustedTo destination length mismatch")
	}
	var num, den float64
	for t, x := range r {
		num = lambda*num + x*x
		den = lambda*den + 1
		dst[t] = num / den
	}
	return dst
}

func checkLambda(lambda float64) {
	if !(lambda > 0 && lambda < 1) {
		panic("vol: EWMA decay must be in (0, 1)")
	}
}

// RealizedVolTo writes the rolling sample standard deviation (divisor
// w−1) of x over the trailing window of w values into dst and returns it:
// dst[t] is the standard deviation of x[t−w+1..t], NaN for t < w−1. It is
// not annualised. dst must have length len(x) and must not alias x. It
// panics if w < 2.
//
// The window sums are updated in O(1) per value about a shift (the first
// value of the window at the last re-anchoring, which removes the
// cancellation of the textbook Σx² − (Σx)²/w form when the mean is large
// relative to the spread), and recomputed exactly every w values, so
// rounding errors cannot accumulate over long series.
func RealizedVolTo(dst, x []float64, w int) []float64 {
	if w < 2 {
		panic("vol: realised volatility window must be at least 2")
	}
	if len(dst) != len(x) {
		panic("vol: RealizedVolTo destination length mismatch")
	}
	var m Rolling
	for t := range x {
		if t < w-1 {
			dst[t] = math.NaN()
			continue
		}
		m.Update(x, t, w)
		dst[t] = math.Sqrt(m.Var())
	}
	return dst
}

// Rolling maintains the mean and sample variance of a sliding window of a
// series, with O(1) updates about a shift and exact recomputation every
// window length (see RealizedVolTo). The zero value is ready; Update must
// be called with t increasing by one each call (any start ≥ w−1) on the
// same series and window.
type Rolling struct {
	shift, s1, s2 float64
	peak          float64 // largest Σ(x−shift)² held since the last re-anchoring: the scale of the rounding noise
	w, since      int
}

// Update moves the window to x[t−w+1..t].
func (m *Rolling) Update(x []float64, t, w int) {
	if m.w != w || m.since >= w || m.since == 0 {
		m.w, m.since = w, 0
		m.shift = x[t-w+1]
		m.s1, m.s2 = 0, 0
		for _, v := range x[t-w+1 : t+1] {
			d := v - m.shift
			m.s1 += d
			m.s2 += d * d
		}
		m.since = 1
		m.peak = m.s2
		return
	}
	in, out := x[t]-m.shift, x[t-w]-m.shift
	m.s1 += in - out
	m.s2 += in*in - out*out
	m.peak = math.Max(m.peak, m.s2+out*out)
	m.since++
}

// Mean returns the window mean.
func (m *Rolling) Mean() float64 { return m.shift + m.s1/float64(m.w) }

// Var returns the window sample variance (divisor w−1), never negative.
// Values that moved through the window since the last re-anchoring leave
// rounding noise of at most ~w·ε times the largest sum of squared
// deviations held meanwhile; a centred sum of squares below 1e-15·w times
// that sum (≈ 4.5·w·ε) is reported as exactly 0, so a window of equal
// values gives 0, not noise. A real variance is zeroed only if its
// standard deviation is below ~3e-8·√w of the deviations that passed
// through the window within the last 2w values.
func (m *Rolling) Var() float64 {
	w := float64(m.w)
	c := m.s2 - m.s1*m.s1/w
	if c <= 1e-15*w*m.peak {
		return 0
	}
	return c / (w - 1)
}

// ParkinsonTo writes the Parkinson (1980) range volatility over the
// trailing window of w bars into dst and returns it:
//
//	dst[t] = √( Σ_{s=t−w+1}^{t} ln(H_s/L_s)² / (4 ln 2 · w) ),
//
// per bar, not annualised; NaN for t < w−1. It is unbiased for the
// per-bar variance of a driftless Brownian log-price observed continuously.
// It panics if w < 1 or lengths differ.
func ParkinsonTo(dst, high, low []float64, w int) []float64 {
	if w < 1 || len(high) != len(low) || len(dst) != len(high) {
		panic("vol: ParkinsonTo bad window or length mismatch")
	}
	k := 1 / (4 * math.Ln2 * float64(w))
	return rangeVol(dst, w, func(t int) float64 {
		u := math.Log(high[t] / low[t])
		return u * u * k
	})
}

// GarmanKlassTo writes the Garman–Klass (1980) range volatility over the
// trailing window of w bars into dst and returns it:
//
//	dst[t] = √( Σ_s [½ ln(H_s/L_s)² − (2 ln 2 − 1) ln(C_s/O_s)²] / w ),
//
// per bar, not annualised; NaN for t < w−1. It ignores overnight gaps
// (crypto bars open at the previous close) and is unbiased for driftless
// Brownian log-prices. The window sum is recomputed per bar (w terms), so
// a negative single-bar term (possible when |ln C/O| is close to the range)
// is kept exactly; a negative window sum gives 0.
func GarmanKlassTo(dst, open, high, low, close []float64, w int) []float64 {
	n := len(open)
	if w < 1 || len(high) != n || len(low) != n || len(close) != n || len(dst) != n {
		panic("vol: GarmanKlassTo bad window or length mismatch")
	}
	c := 2*math.Ln2 - 1
	k := 1 / float64(w)
	return rangeVol(dst, w, func(t int) float64 {
		u, v := math.Log(high[t]/low[t]), math.Log(close[t]/open[t])
		return (0.5*u*u - c*v*v) * k
	})
}

// rangeVol writes √(Σ_{window} term(s)) into dst, recomputing each window
// sum from its terms (w is small and the terms are cheap), NaN before the
// first full window.
func rangeVol(dst []float64, w int, term func(t int) float64) []float64 {
	for t := range dst {
		if t < w-1 {
			dst[t] = math.NaN()
			continue
		}
		var s float64
		for j := t - w + 1; j <= t; j++ {
			s += term(j)
		}
		dst[t] = math.Sqrt(math.Max(s, 0))
	}
	return dst
}
