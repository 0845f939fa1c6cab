package market

import (
	"math"
	"time"
)

// AssetStats are descriptive statistics of one asset's bars, as shown by
// `folio data describe`. Returns are simple close-to-close returns of one bar
// (close_t / close_{t−1} − 1); annualisation uses a 365-day year. Values that
// need more data than there is (e.g. volatility of fewer than two returns)
// are NaN.
type AssetStats struct {
	Asset       string
	Bars        int
	First, Last time.Time // open times of the first and last bar
	Interval    time.Duration
	// Gaps and Missing count runs of missing bars and the bars they miss. For
	// a Series these are spacings longer than the interval; for a Panel
	// column they are runs of forward-filled bars.
	Gaps, Missing int
	ZeroVolume    int // bars with zero volume (filled bars included)
	// Returns is the number of one-bar returns behind Volatility, Skewness
	// and ExcessKurtosis. For a Series, a return across a gap spans several
	// bars and is left out; for a Panel every consecutive pair counts.
	Returns int
	// TotalReturn is last close / first close − 1.
	TotalReturn float64
	// CAGR is (last close / first close)^(1/years) − 1 with years = (last
	// open time − first open time) / 365 days, so gaps do not distort it.
	CAGR float64
	// Volatility is the sample standard deviation (n−1 denominator) of the
	// one-bar returns times √(bars per year).
	Volatility float64
	// Skewness is the population (biased) moment estimator
	// g1 = m3 / m2^{3/2}, with m_k = mean((r − mean r)^k): scipy.stats.skew
	// with its default bias=True.
	Skewness float64
	// ExcessKurtosis is g2 = m4 / m2² − 3 with the same moments:
	// scipy.stats.kurtosis with its defaults fisher=True, bias=True.
	ExcessKurtosis float64
	// MaxDrawdown is the largest fall of the close from its running peak,
	// max_t (1 − close_t / max_{s≤t} close_s), a fraction in [0, 1).
	MaxDrawdown float64
}

// Describe returns the statistics of a series.
func Describe(s *Series) AssetStats {
	st := AssetStats{Asset: s.Asset, Bars: s.Len(), Interval: s.Interval}
	if s.Len() == 0 {
		st.nan()
		return st
	}
	for _, g := range s.Gaps() {
		st.Gaps++
		st.Missing += g.Missing
	}
	step := int64(s.Interval / time.Second)
	st.fill(s.Times, s.Close, s.Volume, func(k int) bool { return s.Times[k]-s.Times[k-1] == step })
	return st
}

// DescribePanel returns the statistics of every asset of p, in panel order.
func DescribePanel(p *Panel) []AssetStats {
	out := make([]AssetStats, p.N())
	closes, vols := make([]float64, p.T()), make([]float64, p.T())
	for i := range out {
		st := AssetStats{Asset: p.Asset(i), Bars: p.T(), Interval: p.Interval()}
		inRun := false
		for t := 0; t < p.T(); t++ {
			closes[t], vols[t] = p.Close(t, i), p.Volume(t, i)
			f := p.Filled(t, i)
			if f {
				st.Missing++
				if !inRun {
					st.Gaps++
				}
			}
			inRun = f
		}
		st.fill(p.times, closes, vols, func(int) bool { return true })
		out[i] = st
	}
	return out
}

func (st *AssetStats) nan() {
	nan := math.NaN()
	st.TotalReturn, st.CAGR, st.Volatility, st.Skewness, st.ExcessKurtosis, st.MaxDrawdown = nan, nan, nan, nan, nan, nan
}

// fill computes the price statistics from times, closes and volumes (n ≥ 1);
// oneBar(k) says whether the return from bar k−1 to bar k spans one bar.
func (st *AssetStats) fill(times []int64, close, volume []float64, oneBar func(k int) bool) {
	n := len(times)
	st.First, st.Last = unixUTC(times[0]), unixUTC(times[n-1])
	for _, v := range volume {
		if v == 0 {
			st.ZeroVolume++
		}
	}
	st.nan()
	growth := close[n-1] / close[0]
	st.TotalReturn = growth - 1
	if years := float64(times[n-1]-times[0]) / Year.Seconds(); years > 0 {
		st.CAGR = math.Pow(growth, 1/years) - 1
	}
	peak, dd := close[0], 0.0
	for _, c := range close {
		peak = math.Max(peak, c)
		dd = math.Max(dd, 1-c/peak)
	}
	st.MaxDrawdown = dd

	// Two passes over the returns: the mean, then the central moments.
	var sum float64
	m := 0
	for k := 1; k < n; k++ {
		if oneBar(k) {
			sum += close[k]/close[k-1] - 1
			m++
		}
	}
	st.Returns = m
	if m < 2 {
		return
	}
	mean := sum / float64(m)
	var s2, s3, s4 float64
	for k := 1; k < n; k++ {
		if oneBar(k) {
			d := close[k]/close[k-1] - 1 - mean
			d2 := d * d
			s2 += d2
			s3 += d2 * d
			s4 += d2 * d2
		}
	}
	if st.Interval > 0 {
		st.Volatility = math.Sqrt(s2/float64(m-1)) * math.Sqrt(float64(Year)/float64(st.Interval))
	}
	if s2 > 0 {
		m2, m3, m4 := s2/float64(m), s3/float64(m), s4/float64(m)
		st.Skewness = m3 / math.Pow(m2, 1.5)
		st.ExcessKurtosis = m4/(m2*m2) - 3
	}
}
