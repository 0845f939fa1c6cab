package eval

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/folio-rl/folio/env/market"
)

// DefaultCutoff is the tail probability of ValueAtRisk and
// ConditionalValueAtRisk when Options.Cutoff is zero (empyrical's default).
const DefaultCutoff = 0.05

// PeriodsPerYear returns the annualisation factor for bars of length
// interval on a 365-day crypto calendar: 365 for daily bars, 8760 for
// hourly bars, 2190 for 4-hour bars. It panics on a non-positive interval.
func PeriodsPerYear(interval time.Duration) float64 {
	if interval <= 0 {
		panic(fmt.Sprintf("eval: PeriodsPerYear of non-positive interval %v", interval))
	}
	return float64(market.Year) / float64(interval)
}

// Options holds the optional thresholds of ComputeMetrics. The zero value
// gives empyrical's defaults: risk-free rate 0, Sortino target 0, Omega
// threshold 0 and a 5 % tail for VaR and CVaR.
type Options struct {
	// RiskFree is the per-period risk-free return subtracted in Sharpe and
	// Omega (empyrical's risk_free).
	RiskFree float64
	// SortinoTarget is the per-period required return of Sortino and
	// DownsideRisk (empyrical's required_return).
	SortinoTarget float64
	// OmegaThreshold is the annual required return of Omega, converted to a
	// per-period threshold (1+x)^(1/periodsPerYear) − 1 as empyrical does.
	OmegaThreshold float64
	// Cutoff is the tail probability of ValueAtRisk and
	// ConditionalValueAtRisk, in (0, 1); 0 selects DefaultCutoff.
	Cutoff float64
}

// Book holds the per-period portfolio bookkeeping a backtester records,
// aligned with the returns passed to ComputeMetrics: element t describes
// the period that earned returns[t]. Each slice is either nil (not
// recorded: the aggregates built from it are NaN) or has len(returns)
// elements; any other length is a programmer error and panics.
type Book struct {
	// InitialCapital is the portfolio value in quote currency at the start of
	// the run; fees and slippage are also reported as fractions of it. A
	// non-positive value makes those fractions NaN.
	InitialCapital float64
	// Turnover is Σ|executed − drifted| over the risky weights traded at the
	// start of each period (a full switch from cash to one asset is 1).
	Turnover []float64
	// Fees are the fees paid in each period, quote currency.
	Fees []float64
	// Slippage is the slippage and impact paid in each period, quote currency.
	Slippage []float64
	// Exposure is the risky exposure held over each period: the sum of the
	// risky executed weights (1 − cash weight for a long-only portfolio).
	Exposure []float64
}

// Metrics are the performance statistics of one return series. Units:
// returns, volatilities, drawdowns, VaR and fractions are decimal fractions
// (0.1 = 10 %); ratios are dimensionless; FeesPaid and SlippagePaid are in
// quote currency; durations are in bars. Annualised quantities use
// PeriodsPerYear. A statistic that is undefined for the series (too few
// periods, zero dispersion, no drawdown) is NaN and encodes as JSON null;
// the rules are listed in the package documentation.
type Metrics struct {
	// Periods is the number of returns the metrics were computed from.
	Periods int `json:"periods"`
	// PeriodsPerYear is the annualisation factor used.
	PeriodsPerYear float64 `json:"periods_per_year"`

	// TotalReturn is Π(1+r) − 1 (empyrical cum_returns_final).
	TotalReturn float64 `json:"total_return"`
	// AnnualReturn is the CAGR (Π(1+r))^(PeriodsPerYear/n) − 1
	// (empyrical annual_return); −1 once the wealth reaches zero.
	AnnualReturn float64 `json:"annual_return"`
	// AnnualVolatility is the sample standard deviation (divisor n−1) of the
	// returns times √PeriodsPerYear (empyrical annual_volatility).
	AnnualVolatility float64 `json:"annual_volatility"`
	// Sharpe is mean(r − rf) / std(r − rf) · √PeriodsPerYear with the sample
	// standard deviation (empyrical sharpe_ratio).
	Sharpe float64 `json:"sharpe"`
	// Sortino is mean(r − target)·PeriodsPerYear / DownsideRisk
	// (empyrical sortino_ratio).
	Sortino float64 `json:"sortino"`
	// DownsideRisk is √(mean over all periods of min(r − target, 0)²) ·
	// √PeriodsPerYear (empyrical downside_risk: the mean runs over every
	// period, not only the losing ones).
	DownsideRisk float64 `json:"downside_risk"`
	// MaxDrawdown is min over t of (W_t − max_{s≤t} W_s)/max_{s≤t} W_s for the
	// wealth path W_0 = 1, W_t = Π_{s≤t}(1+r_s). It is ≤ 0 (empyrical's
	// sign: −0.25 is a 25 % drawdown); a loss in the first period counts
	// because the path starts at 1 before the first return.
	MaxDrawdown float64 `json:"max_drawdown"`
	// Calmar is AnnualReturn / |MaxDrawdown| (empyrical calmar_ratio); NaN
	// without a drawdown.
	Calmar float64 `json:"calmar"`
	// Omega is Σ(r − thr)⁺ / Σ(thr − r)⁺ with the per-period threshold
	// thr = rf + ((1+OmegaThreshold)^(1/PeriodsPerYear) − 1) (empyrical
	// omega_ratio); NaN when no period is below the threshold or
	// OmegaThreshold ≤ −1.
	Omega float64 `json:"omega"`
	// TailRatio is |P95| / |P5| of the returns, percentiles with linear
	// interpolation as numpy.percentile (empyrical tail_ratio).
	TailRatio float64 `json:"tail_ratio"`
	// ValueAtRisk is the Cutoff-quantile of the returns with linear
	// interpolation (empyrical value_at_risk); a loss is negative.
	ValueAtRisk float64 `json:"value_at_risk"`
	// ConditionalValueAtRisk is the mean of the ⌊(n−1)·Cutoff⌋+1 smallest
	// returns (empyrical conditional_value_at_risk): the mean of the returns
	// at or below ValueAtRisk, up to ties at the cut.
	ConditionalValueAtRisk float64 `json:"conditional_value_at_risk"`
	// Stability is the R² of the OLS fit of the cumulative log return
	// Σ_{s≤t} log(1+r_s) on t (empyrical stability_of_timeseries); 0 for a
	// flat curve, as scipy.stats.linregress reports r = 0 there.
	Stability float64 `json:"stability"`
	// Turnover is the mean per-period turnover (Book.Turnover).
	Turnover float64 `json:"turnover"`
	// FeesPaid is the total of Book.Fees, quote currency.
	FeesPaid float64 `json:"fees_paid"`
	// SlippagePaid is the total of Book.Slippage, quote currency.
	SlippagePaid float64 `json:"slippage_paid"`

	// MaxDrawdownDuration is the longest time in bars from a wealth peak to
	// the first bar at which the wealth is back at or above it, or to the
	// last bar if it never is; 0 for a path that never falls below a peak.
	MaxDrawdownDuration int `json:"max_drawdown_duration"`
	// HitRate is the share of periods with r > 0.
	HitRate float64 `json:"hit_rate"`
	// Skewness is the biased sample skewness m3/m2^1.5 (scipy.stats.skew,
	// listed by empyrical).
	Skewness float64 `json:"skewness"`
	// Kurtosis is the biased sample excess kurtosis m4/m2² − 3
	// (scipy.stats.kurtosis with fisher=True; a normal sample gives ≈ 0).
	Kurtosis float64 `json:"kurtosis"`
	// TurnoverTotal is the sum of Book.Turnover.
	TurnoverTotal float64 `json:"turnover_total"`
	// FeesFraction is FeesPaid / Book.InitialCapital.
	FeesFraction float64 `json:"fees_fraction"`
	// SlippageFraction is SlippagePaid / Book.InitialCapital.
	SlippageFraction float64 `json:"slippage_fraction"`
	// Exposure is the mean risky exposure (Book.Exposure).
	Exposure float64 `json:"exposure"`
}

// MarshalJSON encodes m with NaN and ±Inf as null.
func (m Metrics) MarshalJSON() ([]byte, error) { return marshalFinite(m) }

// UnmarshalJSON decodes m, reading null as NaN.
func (m *Metrics) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, m) }

// ErrNoReturns is returned where a computation needs at least one return
// (or more, as documented) and got fewer.
var ErrNoReturns = errors.New("eval: not enough returns")

// checkReturns reports the first return that is not finite or below −1
// (a loss of more than the whole portfolio).
func checkReturns(name string, r []float64) error {
	for i, x := range r {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < -1 {
			return fmt.Errorf("eval: %s[%d] = %v is not a simple return (want finite and ≥ −1)", name, i, x)
		}
	}
	return nil
}

func checkPeriodsPerYear(ppy float64) error {
	if !(ppy > 0) || math.IsInf(ppy, 0) {
		return fmt.Errorf("eval: periods per year %v must be positive and finite", ppy)
	}
	return nil
}

// ComputeMetrics computes every field of Metrics for per-period simple
// returns after costs. periodsPerYear is the annualisation factor (see
// PeriodsPerYear). book may be nil; its slices must be nil or aligned with
// returns. It returns an error for a non-finite return or one below −1, a
// non-finite book entry, a non-positive periodsPerYear or a cutoff outside
// (0, 1). An empty series is not an error: every statistic is NaN.
//
// It runs in O(n): one pass for the path statistics, two for the moments,
// and linear-time selection (no sort) of the few order statistics that VaR,
// CVaR and the tail ratio need. It allocates one copy of returns.
func ComputeMetrics(returns []float64, periodsPerYear float64, book *Book, opt Options) (Metrics, error) {
	if err := checkReturns("returns", returns); err != nil {
		return Metrics{}, err
	}
	if err := checkPeriodsPerYear(periodsPerYear); err != nil {
		return Metrics{}, err
	}
	cutoff := opt.Cutoff
	if cutoff == 0 {
		cutoff = DefaultCutoff
	}
	if !(cutoff > 0 && cutoff < 1) {
		return Metrics{}, fmt.Errorf("eval: VaR cutoff %v outside (0, 1)", opt.Cutoff)
	}
	for _, v := range []float64{opt.RiskFree, opt.SortinoTarget, opt.OmegaThreshold} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Metrics{}, fmt.Errorf("eval: metric options must be finite, got %+v", opt)
		}
	}
	m := nanMetrics()
	m.Periods = len(returns)
	m.PeriodsPerYear = periodsPerYear
	if err := m.fillBook(book, len(returns)); err != nil {
		return Metrics{}, err
	}
	if len(returns) == 0 {
		return m, nil
	}
	m.fillPath(returns, periodsPerYear, opt)
	m.fillMoments(returns, periodsPerYear, opt)
	m.fillQuantiles(returns, cutoff)
	return m, nil
}

// nanMetrics returns Metrics with every float field NaN.
func nanMetrics() Metrics {
	var m Metrics
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Float64 {
			f.SetFloat(math.NaN())
		}
	}
	return m
}

// fillPath computes the statistics of the compounded wealth path and of the
// cumulative log-return curve in one pass.
func (m *Metrics) fillPath(r []float64, ppy float64, opt Options) {
	n := len(r)
	omegaThr := math.NaN()
	if opt.OmegaThreshold > -1 {
		omegaThr = opt.RiskFree + math.Pow(1+opt.OmegaThreshold, 1/ppy) - 1
	}
	var (
		hits             int
		down2            float64 // Σ min(r − target, 0)²
		omegaUp, omegaDn float64
		wealth, peak     = 1.0, 1.0
		peakAt           int // wealth index of the running peak (0 = before the first return)
		under            bool
		maxDD            float64
		maxDur           int
		// cumulative log return y_t regressed on t = 0..n−1: Welford for
		// Σ(y−ȳ)², and Σ(t−t̄)·y which equals Σ(t−t̄)(y−ȳ) because Σ(t−t̄) = 0.
		y, yMean, yM2, sty float64
		tMean              = float64(n-1) / 2
		ruined             bool
	)
	for i, x := range r {
		if x > 0 {
			hits++
		}
		if d := x - opt.SortinoTarget; d < 0 {
			down2 += d * d
		}
		if d := x - omegaThr; d > 0 {
			omegaUp += d
		} else if d < 0 {
			omegaDn -= d
		}
		wealth *= 1 + x
		if t := i + 1; wealth >= peak {
			if under {
				maxDur = max(maxDur, t-peakAt)
				under = false
			}
			peak, peakAt = wealth, t
		} else {
			under = true
			maxDD = min(maxDD, (wealth-peak)/peak)
		}
		if x == -1 {
			ruined = true
		}
		y += math.Log1p(x)
		k := float64(i + 1)
		dy := y - yMean
		yMean += dy / k
		yM2 += dy * (y - yMean)
		sty += (float64(i) - tMean) * y
	}
	if under {
		maxDur = max(maxDur, n-peakAt)
	}
	fn := float64(n)
	m.TotalReturn = wealth - 1
	if wealth <= 0 {
		m.AnnualReturn = -1
	} else {
		m.AnnualReturn = math.Pow(wealth, ppy/fn) - 1
	}
	m.MaxDrawdown = maxDD
	m.MaxDrawdownDuration = maxDur
	if maxDD < 0 {
		if c := m.AnnualReturn / -maxDD; !math.IsInf(c, 0) {
			m.Calmar = c
		}
	}
	m.HitRate = float64(hits) / fn
	dd := math.Sqrt(down2 / fn)
	m.DownsideRisk = dd * math.Sqrt(ppy)
	if n < 2 {
		return
	}
	if omegaDn > 0 {
		m.Omega = omegaUp / omegaDn
	}
	switch {
	case ruined:
		// log(0): the curve is not defined past a total loss.
	case yM2 == 0:
		m.Stability = 0
	default:
		stt := fn * (fn*fn - 1) / 12 // Σ(t − t̄)² for t = 0..n−1
		rr := sty * sty / (stt * yM2)
		m.Stability = min(rr, 1)
	}
}

// fillMoments computes the mean-based statistics with the corrected
// two-pass algorithm (Chan, Golub & LeVeque 1983), which returns exactly
// zero variance for a constant series.
func (m *Metrics) fillMoments(r []float64, ppy float64, opt Options) {
	n := len(r)
	fn := float64(n)
	mean := floatsSum(r) / fn
	var s1, s2, s3, s4 float64
	lo, hi := r[0], r[0]
	for _, x := range r {
		lo, hi = min(lo, x), max(hi, x)
		d := x - mean
		d2 := d * d
		s1 += d
		s2 += d2
		s3 += d2 * d
		s4 += d2 * d2
	}
	if n < 2 {
		return
	}
	std := math.Sqrt(max(s2-s1*s1/fn, 0) / (fn - 1))
	if lo == hi {
		// A constant series has no dispersion; rounding in the mean must not
		// turn that into a tiny positive deviation and a huge Sharpe ratio.
		std = 0
	}
	m.AnnualVolatility = std * math.Sqrt(ppy)
	m.Sharpe = (mean - opt.RiskFree) / std * math.Sqrt(ppy)
	m.Sortino = (mean - opt.SortinoTarget) * ppy / m.DownsideRisk
	if m2 := s2 / fn; std > 0 && m2 > 0 {
		m.Skewness = s3 / fn / math.Pow(m2, 1.5)
		m.Kurtosis = s4/fn/(m2*m2) - 3
	}
}

// fillQuantiles computes VaR, CVaR and the tail ratio from order statistics
// found by selection on a copy of r.
func (m *Metrics) fillQuantiles(r []float64, cutoff float64) {
	n := len(r)
	a := slices.Clone(r)
	kc := int(float64(n-1) * cutoff) // empyrical's cutoff_index
	ranks := []int{kc, kc + 1}
	for _, q := range []float64{cutoff, 0.05, 0.95} {
		lo := int(math.Floor(float64(n-1) * q))
		ranks = append(ranks, lo, lo+1)
	}
	slices.Sort(ranks)
	orderStats(a, ranks)
	m.ValueAtRisk = quantileRanked(a, cutoff)
	m.ConditionalValueAtRisk = floatsSum(a[:kc+1]) / float64(kc+1)
	m.TailRatio = math.Abs(quantileRanked(a, 0.95)) / math.Abs(quantileRanked(a, 0.05))
}

// fillBook computes the bookkeeping aggregates.
func (m *Metrics) fillBook(b *Book, n int) error {
	if b == nil {
		return nil
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"Turnover", b.Turnover}, {"Fees", b.Fees}, {"Slippage", b.Slippage}, {"Exposure", b.Exposure}} {
		if s.v == nil {
			continue
		}
		if len(s.v) != n {
			panic(fmt.Sprintf("eval: Book.%s has %d elements for %d returns", s.name, len(s.v), n))
		}
		for i, x := range s.v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("eval: Book.%s[%d] = %v is not finite", s.name, i, x)
			}
		}
	}
	if b.Turnover != nil {
		m.TurnoverTotal = floatsSum(b.Turnover)
		m.Turnover = m.TurnoverTotal / float64(n) // NaN for n = 0
	}
	if b.Fees != nil {
		m.FeesPaid = floatsSum(b.Fees)
		if b.InitialCapital > 0 {
			m.FeesFraction = m.FeesPaid / b.InitialCapital
		}
	}
	if b.Slippage != nil {
		m.SlippagePaid = floatsSum(b.Slippage)
		if b.InitialCapital > 0 {
			m.SlippageFraction = m.SlippagePaid / b.InitialCapital
		}
	}
	if b.Exposure != nil {
		m.Exposure = floatsSum(b.Exposure) / float64(n)
	}
	return nil
}

// Sharpe returns the annualised Sharpe ratio of returns with a zero
// risk-free rate, as Metrics.Sharpe: NaN for fewer than two returns, ±Inf or
// NaN (0/0) for zero dispersion. Returns are not validated.
func Sharpe(returns []float64, periodsPerYear float64) float64 {
	n := len(returns)
	if n < 2 {
		return math.NaN()
	}
	mean, sd := meanStd(returns)
	return mean / sd * math.Sqrt(periodsPerYear)
}

// MaxDrawdown returns the maximum drawdown of returns as Metrics.MaxDrawdown
// (≤ 0, the path starting at 1 before the first return); NaN for no
// returns. Returns are not validated.
func MaxDrawdown(returns []float64) float64 {
	if len(returns) == 0 {
		return math.NaN()
	}
	wealth, peak, dd := 1.0, 1.0, 0.0
	for _, x := range returns {
		wealth *= 1 + x
		if wealth >= peak {
			peak = wealth
		} else {
			dd = min(dd, (wealth-peak)/peak)
		}
	}
	return dd
}

// meanStd returns the mean and the sample standard deviation (divisor n−1)
// by the corrected two-pass algorithm; len(x) ≥ 2.
func meanStd(x []float64) (mean, sd float64) {
	fn := float64(len(x))
	mean = floatsSum(x) / fn
	var s1, s2 float64
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
		d := v - mean
		s1 += d
		s2 += d * d
	}
	if lo == hi {
		return mean, 0
	}
	return mean, math.Sqrt(max(s2-s1*s1/fn, 0) / (fn - 1))
}

func floatsSum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

// Segment holds the metrics of the bars that carry one label.
type Segment[L cmp.Ordered] struct {
	Label   L       `json:"label"`
	Metrics Metrics `json:"metrics"`
}

// MetricsBySegment computes Metrics over the subsets of bars that share a
// label (a regime, a fold number, a month), one Segment per distinct label
// in increasing label order. labels[t] labels returns[t] and book element
// t. The bars of a label keep their time order and are treated as one
// series, as if the strategy had been invested only during them: the
// drawdown and stability of a label describe that concatenated path. Fees
// and slippage fractions stay relative to book.InitialCapital, so they add
// up across labels. labels must have len(returns) elements (a programmer
// error otherwise: it panics). Errors are those of ComputeMetrics.
func MetricsBySegment[L cmp.Ordered](returns []float64, labels []L, periodsPerYear float64, book *Book, opt Options) ([]Segment[L], error) {
	if len(labels) != len(returns) {
		panic(fmt.Sprintf("eval: %d labels for %d returns", len(labels), len(returns)))
	}
	counts := make(map[L]int)
	for _, l := range labels {
		counts[l]++
	}
	keys := make([]L, 0, len(counts))
	for l := range counts {
		keys = append(keys, l)
	}
	slices.Sort(keys)
	out := make([]Segment[L], 0, len(keys))
	for _, l := range keys {
		k := counts[l]
		var sub *Book
		if book != nil {
			sub = &Book{InitialCapital: book.InitialCapital}
		}
		pick := func(src []float64) []float64 {
			if src == nil {
				return nil
			}
			if len(src) != len(returns) {
				panic(fmt.Sprintf("eval: Book slice has %d elements for %d returns", len(src), len(returns)))
			}
			dst := make([]float64, 0, k)
			for t, lt := range labels {
				if lt == l {
					dst = append(dst, src[t])
				}
			}
			return dst
		}
		r := pick(returns)
		if book != nil {
			sub.Turnover = pick(book.Turnover)
			sub.Fees = pick(book.Fees)
			sub.Slippage = pick(book.Slippage)
			sub.Exposure = pick(book.Exposure)
		}
		m, err := ComputeMetrics(r, periodsPerYear, sub, opt)
		if err != nil {
			return nil, fmt.Errorf("eval: segment %v: %w", l, err)
		}
		out = append(out, Segment[L]{Label: l, Metrics: m})
	}
	return out, nil
}

// ---- order statistics and quantiles ----

// quantileRanked returns the q-quantile of a with numpy's default "linear"
// method (Hyndman & Fan type 7): position h = q·(n−1), value
// a(⌊h⌋) + (h−⌊h⌋)·(a(⌊h⌋+1) − a(⌊h⌋)), where a(k) is the k-th smallest.
// a must be sorted, or partially ordered by orderStats with both ranks.
func quantileRanked(a []float64, q float64) float64 {
	n := len(a)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * q
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return a[n-1]
	}
	return lerp(a[lo], a[lo+1], h-float64(lo))
}

// lerp is numpy's _lerp, which switches end points at t = 0.5 so that
// t = 1 returns b exactly.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// orderStats partially orders a so that for every rank k in ks (ascending;
// ranks ≥ len(a) are ignored) a[k] is the k-th smallest element and a[:k]
// holds the k smallest. Each selection works on the suffix the previous one
// left, so the total cost is linear in len(a) for a fixed number of ranks.
func orderStats(a []float64, ks []int) {
	start := 0
	for _, k := range ks {
		if k < start || k >= len(a) {
			continue
		}
		if k == start {
			// The next rank right after a selected one is the minimum of
			// the rest: one scan, no partitioning.
			m := k
			for i := k + 1; i < len(a); i++ {
				if a[i] < a[m] {
					m = i
				}
			}
			a[k], a[m] = a[m], a[k]
		} else {
			selectRank(a[start:], k-start)
		}
		start = k + 1
	}
}

// selectRank is introselect: Hoare-partition quickselect with a
// median-of-three pivot, switching to a sort of the remaining range when the
// partitions stop shrinking, so the worst case is O(n log n). a must not
// contain NaN.
func selectRank(a []float64, k int) {
	lo, hi := 0, len(a)-1
	budget := 2 * bits.Len(uint(len(a)))
	for hi-lo > 24 {
		if budget == 0 {
			slices.Sort(a[lo : hi+1])
			return
		}
		budget--
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// a[lo..j] ≤ pivot ≤ a[i..hi]; anything strictly between equals pivot.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
	slices.Sort(a[lo : hi+1])
}

// ---- JSON with non-finite floats ----

// marshalFinite encodes a struct (recursively: nested structs, slices,
// arrays, pointers) like encoding/json with the fields' json names, except
// that NaN and ±Inf floats become null instead of an error.
func marshalFinite(v any) ([]byte, error) {
	return appendFinite(nil, reflect.ValueOf(v))
}

func appendFinite(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(b, "null"...), nil
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool()), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return appendFinite(b, v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		fallthrough
	case reflect.Array:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendFinite(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case reflect.Struct:
		b = append(b, '{')
		t := v.Type()
		first := true
		for i := range t.NumField() {
			name, ok := jsonName(t.Field(i))
			if !ok {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = strconv.AppendQuote(b, name)
			b = append(b, ':')
			var err error
			if b, err = appendFinite(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	default:
		enc, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		return append(b, enc...), nil
	}
}

// jsonName returns the JSON key of an exported field (its json tag name or
// its Go name) and false for unexported or json:"-" fields.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name, true
	}
	return f.Name, true
}

// unmarshalFinite is the inverse of marshalFinite for a pointer to a
// struct: null decodes to NaN in float fields and elements.
func unmarshalFinite(data []byte, dst any) error {
	return decodeFinite(data, reflect.ValueOf(dst).Elem())
}

var jsonNull = []byte("null")

func decodeFinite(raw []byte, v reflect.Value) error {
	raw = bytes.TrimSpace(raw)
	isNull := bytes.Equal(raw, jsonNull)
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		if isNull {
			v.SetFloat(math.NaN())
			return nil
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	case reflect.Struct:
		if isNull {
			return nil
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return err
		}
		t := v.Type()
		for i := range t.NumField() {
			name, ok := jsonName(t.Field(i))
			if !ok {
				continue
			}
			if fr, ok := fields[name]; ok {
				if err := decodeFinite(fr, v.Field(i)); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
		}
		return nil
	case reflect.Slice:
		if isNull {
			v.SetZero()
			return nil
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
		for i, e := range elems {
			if err := decodeFinite(e, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	default:
		return json.Unmarshal(raw, v.Addr().Interface())
	}
}
