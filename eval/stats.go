package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Bootstrap defaults.
const (
	DefaultResamples = 1000
	DefaultLevel     = 0.95
)

// BootstrapOptions configures the stationary block bootstrap. The zero
// value selects DefaultResamples, DefaultLevel and the Politis–White
// automatic block length.
type BootstrapOptions struct {
	// Resamples is the number of bootstrap resamples; 0 selects
	// DefaultResamples.
	Resamples int
	// Level is the confidence level of the interval, in (0, 1); 0 selects
	// DefaultLevel.
	Level float64
	// BlockLength is the expected block length in bars (≥ 1); 0 selects
	// OptimalBlockLength of the data.
	BlockLength float64
}

func (o BootstrapOptions) resolve() (BootstrapOptions, error) {
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	switch {
	case o.Resamples < 2:
		return o, fmt.Errorf("eval: bootstrap needs at least 2 resamples, got %d", o.Resamples)
	case !(o.Level > 0 && o.Level < 1):
		return o, fmt.Errorf("eval: bootstrap level %v outside (0, 1)", o.Level)
	case o.BlockLength != 0 && !(o.BlockLength >= 1) || math.IsInf(o.BlockLength, 0):
		return o, fmt.Errorf("eval: expected block length %v must be ≥ 1 (or 0 for automatic)", o.BlockLength)
	}
	return o, nil
}

// Interval is a bootstrap confidence interval.
type Interval struct {
	// Estimate is the statistic on the original sample.
	Estimate float64 `json:"estimate"`
	// Lo and Hi are the percentile interval: the (1−Level)/2 and
	// (1+Level)/2 quantiles of the bootstrap replicates (numpy's linear
	// quantile definition).
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// SE is the standard deviation of the replicates (divisor R−1).
	SE float64 `json:"se"`
	// PValue is the two-sided bootstrap p-value of "the statistic is zero":
	// min(1, 2·(min(#{θ* ≤ 0}, #{θ* ≥ 0}) + 1)/(R + 1)), the smallest
	// α whose percentile interval excludes zero, with the +1 correction of
	// Davison & Hinkley (1997, §4.4) so it is never exactly 0.
	PValue float64 `json:"p_value"`
	// Level is the confidence level.
	Level float64 `json:"level"`
	// BlockLength is the expected block length used, in bars.
	BlockLength float64 `json:"block_length"`
	// Resamples is the number of finite replicates the interval uses
	// (replicates of a resample with zero dispersion are dropped).
	Resamples int `json:"resamples"`
}

// MarshalJSON encodes iv with NaN and ±Inf as null.
func (iv Interval) MarshalJSON() ([]byte, error) { return marshalFinite(iv) }

// UnmarshalJSON decodes iv, reading null as NaN.
func (iv *Interval) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, iv) }

// BootstrapSharpe returns a stationary-bootstrap (Politis & Romano 1994)
// percentile interval for the annualised Sharpe ratio of returns (as
// Metrics.Sharpe, risk-free 0). Resampled series have the original length;
// blocks start at uniform positions, have geometric lengths with mean
// opt.BlockLength, and wrap around the end. The result is a deterministic
// function of the inputs and the state of rng. It needs at least 4 finite
// returns with non-zero dispersion.
func BootstrapSharpe(returns []float64, periodsPerYear float64, opt BootstrapOptions, rng *rand.Rand) (Interval, error) {
	return bootstrapSharpe(returns, nil, periodsPerYear, opt, rng)
}

// BootstrapSharpeDiff returns a stationary-bootstrap percentile interval
// for Sharpe(a) − Sharpe(b) (annualised) of two aligned return series
// (a[t] and b[t] earned over the same bar). Both series are resampled with
// the same indices, so their correlation is kept. With automatic block
// length the larger of the Politis–White lengths of a and b is used.
// PValue then tests equal Sharpe ratios.
func BootstrapSharpeDiff(a, b []float64, periodsPerYear float64, opt BootstrapOptions, rng *rand.Rand) (Interval, error) {
	if len(a) != len(b) {
		return Interval{}, fmt.Errorf("eval: Sharpe difference of series of lengths %d and %d (want aligned series)", len(a), len(b))
	}
	return bootstrapSharpe(a, b, periodsPerYear, opt, rng)
}

// sharpeSums holds prefix sums of a centred series and its square, so the
// sum over any block is two subtractions: a resample costs O(number of
// blocks), not O(n).
type sharpeSums struct {
	mean   float64
	p1, p2 []float64 // p1[i] = Σ_{t<i} d_t, p2[i] = Σ_{t<i} d_t², d = x − mean
}

func newSharpeSums(x []float64) sharpeSums {
	s := sharpeSums{mean: floatsSum(x) / float64(len(x))}
	s.p1 = make([]float64, len(x)+1)
	s.p2 = make([]float64, len(x)+1)
	for i, v := range x {
		d := v - s.mean
		s.p1[i+1] = s.p1[i] + d
		s.p2[i+1] = s.p2[i] + d*d
	}
	return s
}

// sharpe returns the per-period Sharpe ratio of the resample whose block
// sums are s1 (of d) and s2 (of d²) over n values.
func (s *sharpeSums) sharpe(s1, s2, n float64) float64 {
	v := (s2 - s1*s1/n) / (n - 1)
	if !(v > 0) {
		return math.NaN()
	}
	return (s.mean + s1/n) / math.Sqrt(v)
}

func bootstrapSharpe(a, b []float64, ppy float64, opt BootstrapOptions, rng *rand.Rand) (Interval, error) {
	if rng == nil {
		panic("eval: bootstrap needs a *rand.Rand")
	}
	if err := checkPeriodsPerYear(ppy); err != nil {
		return Interval{}, err
	}
	opt, err := opt.resolve()
	if err != nil {
		return Interval{}, err
	}
	n := len(a)
	if n < 4 {
		return Interval{}, fmt.Errorf("%w: bootstrap needs at least 4 returns, got %d", ErrNoReturns, n)
	}
	series := [][]float64{a}
	if b != nil {
		series = append(series, b)
	}
	est := 0.0
	for i, x := range series {
		if err := checkReturns("returns", x); err != nil {
			return Interval{}, err
		}
		_, sd := meanStd(x)
		if sd == 0 {
			return Interval{}, errors.New("eval: bootstrap of a Sharpe ratio of a series with zero dispersion")
		}
		sr := Sharpe(x, ppy)
		if i == 0 {
			est = sr
		} else {
			est -= sr
		}
	}
	if opt.BlockLength == 0 {
		for _, x := range series {
			opt.BlockLength = max(opt.BlockLength, OptimalBlockLength(x))
		}
	}
	sa := newSharpeSums(a)
	var sb sharpeSums
	if b != nil {
		sb = newSharpeSums(b)
	}
	fn := float64(n)
	ann := math.Sqrt(ppy)
	blocks := newBlockSampler(n, opt.BlockLength)
	reps := make([]float64, 0, opt.Resamples)
	for range opt.Resamples {
		var a1, a2, b1, b2 float64
		for pos := 0; pos < n; {
			start, l := blocks.next(rng, n-pos)
			pos += l
			// The block covers [start, start+l), wrapping past the end to
			// [0, start+l−n): at most two runs of the prefix sums.
			lo, hi, wrap := start, start+l, 0
			if hi > n {
				hi, wrap = n, start+l-n
			}
			a1 += sa.p1[hi] - sa.p1[lo] + sa.p1[wrap]
			a2 += sa.p2[hi] - sa.p2[lo] + sa.p2[wrap]
			if b != nil {
				b1 += sb.p1[hi] - sb.p1[lo] + sb.p1[wrap]
				b2 += sb.p2[hi] - sb.p2[lo] + sb.p2[wrap]
			}
		}
		r := sa.sharpe(a1, a2, fn)
		if b != nil {
			r -= sb.sharpe(b1, b2, fn)
		}
		if r = r * ann; !math.IsNaN(r) && !math.IsInf(r, 0) {
			reps = append(reps, r)
		}
	}
	if len(reps) < 2 {
		return Interval{}, errors.New("eval: fewer than 2 bootstrap replicates had non-zero dispersion")
	}
	return percentileInterval(est, reps, opt), nil
}

func percentileInterval(est float64, reps []float64, opt BootstrapOptions) Interval {
	_, se := meanStd(reps)
	slices.Sort(reps)
	alpha := 1 - opt.Level
	var le, ge int
	for _, r := range reps {
		if r <= 0 {
			le++
		}
		if r >= 0 {
			ge++
		}
	}
	r := float64(len(reps))
	return Interval{
		Estimate:    est,
		Lo:          quantileRanked(reps, alpha/2),
		Hi:          quantileRanked(reps, 1-alpha/2),
		SE:          se,
		PValue:      min(1, 2*(float64(min(le, ge))+1)/(r+1)),
		Level:       opt.Level,
		BlockLength: opt.BlockLength,
		Resamples:   len(reps),
	}
}

// blockSampler draws the blocks of stationary-bootstrap resamples of n
// values: uniform starts and geometric lengths L ≥ 1 with
// P(L = k) = p(1−p)^(k−1), mean 1/p, cut at the bars still to fill. Short
// blocks (mean < 6) are grown by one Bernoulli(1−p) draw per bar, exactly
// the resampling scheme of Politis & Romano; longer ones are drawn at once
// by inversion, L = 1 + ⌊log U / log(1−p)⌋ with U uniform on (0, 1], which
// needs one logarithm per block instead of a draw per bar. Both give the
// same distribution; the choice depends only on the mean, so results stay
// a deterministic function of the generator.
type blockSampler struct {
	n         int
	p         float64
	bernoulli bool
	restart   uint64  // Bernoulli: a new block starts when Uint64() < restart (= p·2⁶⁴)
	invLog    float64 // inversion: 1/log(1−p)
}

func newBlockSampler(n int, mean float64) blockSampler {
	p := 1 / mean
	s := blockSampler{n: n, p: p, bernoulli: mean < 6}
	switch {
	case p >= 1:
		// every block has length 1
	case s.bernoulli:
		if r := p * (1 << 64); r < 1<<64 {
			s.restart = uint64(r)
		} else {
			s.p = 1 // p rounds to 1: every block has length 1
		}
	default:
		s.invLog = 1 / math.Log1p(-p)
	}
	return s
}

// next returns the next block's start and length, 1 ≤ length ≤ remaining.
func (s *blockSampler) next(rng *rand.Rand, remaining int) (start, length int) {
	start = rng.IntN(s.n)
	switch {
	case s.p >= 1:
		return start, 1
	case s.bernoulli:
		length = 1
		for length < remaining && rng.Uint64() >= s.restart {
			length++
		}
		return start, length
	}
	u := 1 - rng.Float64() // (0, 1]
	k := math.Log(u) * s.invLog
	if k >= float64(remaining) {
		return start, remaining
	}
	return start, min(1+int(k), remaining)
}

// StationaryIndices fills dst with one stationary-bootstrap resample of the
// indices 0..len(dst)−1 (Politis & Romano 1994): blocks of consecutive
// indices, wrapping from len(dst)−1 to 0, with uniform starts and geometric
// lengths of mean meanBlock (≥ 1). Apply the same indices to several
// aligned series to keep their dependence. It draws from rng exactly as
// BootstrapSharpe does for one resample. It panics if meanBlock < 1.
func StationaryIndices(dst []int, meanBlock float64, rng *rand.Rand) {
	if !(meanBlock >= 1) {
		panic(fmt.Sprintf("eval: stationary bootstrap mean block length %v < 1", meanBlock))
	}
	n := len(dst)
	blocks := newBlockSampler(n, meanBlock)
	for pos := 0; pos < n; {
		j, l := blocks.next(rng, n-pos)
		for ; l > 0; l-- {
			dst[pos] = j
			pos++
			if j++; j == n {
				j = 0
			}
		}
	}
}

// OptimalBlockLength returns the Politis & White (2004) automatic expected
// block length of the stationary bootstrap for x, with the correction of
// Patton, Politis & White (2009), following Patton's reference code
// (opt_block_length_REV_dec07):
//
//   - autocovariances R(k) = (1/n)·Σ_{t<n−k} (x_t − x̄)(x_{t+k} − x̄) and
//     autocorrelations ρ(k) = R(k)/R(0) up to lag m_max = ⌈√n⌉ + K_n;
//   - m̂ is the smallest m ≥ 1 such that |ρ(m)|, …, |ρ(m+K_n−1)| are all
//     below 2·√(log10(n)/n), with K_n = max(5, ⌈√log10 n⌉) (if no such run
//     exists, the largest significant lag); M = min(2m̂, m_max);
//   - with the flat-top window λ(s) = 1 for |s| ≤ ½, 2(1−|s|) for ½ < |s| ≤ 1:
//     ĝ = Σ_{|k|≤M} λ(k/M)·R(k), Ĝ = Σ_{|k|≤M} λ(k/M)·|k|·R(k),
//     D̂ = 2ĝ², b = (2Ĝ²/D̂)^(1/3)·n^(1/3);
//   - b is clamped to [1, ⌈min(3√n, n/3)⌉].
//
// For an AR(1) process with coefficient ρ the target is
// (2ρ/(1−ρ²))^(2/3)·n^(1/3), growing with ρ. It returns 1 for fewer than
// 8 values or a constant series.
func OptimalBlockLength(x []float64) float64 {
	n := len(x)
	if n < 8 {
		return 1
	}
	fn := float64(n)
	mean := floatsSum(x) / fn
	d := make([]float64, n)
	for i, v := range x {
		d[i] = v - mean
	}
	kn := max(5, int(math.Ceil(math.Sqrt(math.Log10(fn)))))
	mMax := min(int(math.Ceil(math.Sqrt(fn)))+kn, n-1)
	bMax := math.Ceil(min(3*math.Sqrt(fn), fn/3))
	acv := make([]float64, mMax+1)
	for k := range acv {
		var s float64
		for t := 0; t+k < n; t++ {
			s += d[t] * d[t+k]
		}
		acv[k] = s / fn
	}
	if acv[0] == 0 {
		return 1
	}
	crit := 2 * math.Sqrt(math.Log10(fn)/fn)
	insignificant := func(k int) bool { return math.Abs(acv[k]/acv[0]) < crit }
	mHat := -1
	for m := 1; m+kn-1 <= mMax && mHat < 0; m++ {
		run := true
		for k := m; k < m+kn; k++ {
			if !insignificant(k) {
				run = false
				break
			}
		}
		if run {
			mHat = m
		}
	}
	if mHat < 0 {
		mHat = 0
		for k := mMax; k >= 1; k-- {
			if !insignificant(k) {
				mHat = k
				break
			}
		}
	}
	bigM := min(2*mHat, mMax)
	if bigM == 0 {
		return 1
	}
	g, bigG := acv[0], 0.0
	for k := 1; k <= bigM; k++ {
		s := float64(k) / float64(bigM)
		lam := 1.0
		if s > 0.5 {
			lam = 2 * (1 - s)
		}
		g += 2 * lam * acv[k]
		bigG += 2 * lam * float64(k) * acv[k]
	}
	dSB := 2 * g * g
	if dSB == 0 {
		return 1
	}
	b := math.Cbrt(2*bigG*bigG/dSB) * math.Cbrt(fn)
	return min(max(b, 1), bMax)
}

// ---- probabilistic and deflated Sharpe ratios ----

// SharpeStats holds the sample quantities of a return series that the
// probabilistic and deflated Sharpe ratios need. All are per period, NOT
// annualised: divide an annualised Sharpe ratio by √periodsPerYear first.
type SharpeStats struct {
	// SR is the per-period Sharpe ratio mean/std (sample std, divisor n−1).
	SR float64 `json:"sr"`
	// N is the number of returns.
	N int `json:"n"`
	// Skewness is the biased sample skewness (γ3 of the papers).
	Skewness float64 `json:"skewness"`
	// ExcessKurtosis is the biased sample excess kurtosis γ4 − 3 (0 for a
	// normal distribution; the papers' γ4 is ExcessKurtosis + 3).
	ExcessKurtosis float64 `json:"excess_kurtosis"`
}

// MarshalJSON encodes s with NaN and ±Inf as null.
func (s SharpeStats) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *SharpeStats) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

// NewSharpeStats computes SharpeStats of returns (at least 2, finite, with
// non-zero dispersion).
func NewSharpeStats(returns []float64) (SharpeStats, error) {
	if len(returns) < 2 {
		return SharpeStats{}, fmt.Errorf("%w: Sharpe statistics need at least 2 returns, got %d", ErrNoReturns, len(returns))
	}
	if err := checkReturns("returns", returns); err != nil {
		return SharpeStats{}, err
	}
	mean, sd := meanStd(returns)
	if sd == 0 {
		return SharpeStats{}, errors.New("eval: Sharpe statistics of a series with zero dispersion")
	}
	fn := float64(len(returns))
	var m2, m3, m4 float64
	for _, x := range returns {
		d := x - mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		m4 += d2 * d2
	}
	m2, m3, m4 = m2/fn, m3/fn, m4/fn
	return SharpeStats{
		SR:             mean / sd,
		N:              len(returns),
		Skewness:       m3 / math.Pow(m2, 1.5),
		ExcessKurtosis: m4/(m2*m2) - 3,
	}, nil
}

// SE returns the standard error of the per-period Sharpe ratio under
// non-normal i.i.d. returns (Mertens 2002; Bailey & López de Prado 2012,
// eq. 2): √((1 − γ3·SR + (γ4−1)/4·SR²)/(n−1)). For normal returns
// (γ3 = 0, γ4 = 3) it is Lo's (2002) √((1 + SR²/2)/(n−1)). NaN when the
// bracket is not positive (inconsistent moments) or n < 2.
func (s SharpeStats) SE() float64 {
	v := 1 - s.Skewness*s.SR + (s.ExcessKurtosis+2)/4*s.SR*s.SR
	if !(v > 0) || s.N < 2 {
		return math.NaN()
	}
	return math.Sqrt(v / float64(s.N-1))
}

// PSR returns the probabilistic Sharpe ratio of Bailey & López de Prado
// (2012): the probability that the true per-period Sharpe ratio exceeds
// benchmark (per period), Φ((SR − benchmark)/SE()). PSR(SR) = 0.5.
func (s SharpeStats) PSR(benchmark float64) float64 {
	return normCDF((s.SR - benchmark) / s.SE())
}

// DSR returns the deflated Sharpe ratio of Bailey & López de Prado (2014):
// the PSR against ExpectedMaxSharpe(trials, trialVariance), the Sharpe ratio
// the best of `trials` independent skill-less configurations is expected to
// reach. trialVariance is the variance of the per-period Sharpe ratios of
// all configurations tried (the sample variance of their SR values). With
// one trial it equals PSR(0).
func (s SharpeStats) DSR(trials int, trialVariance float64) float64 {
	return s.PSR(ExpectedMaxSharpe(trials, trialVariance))
}

// EulerGamma is the Euler–Mascheroni constant γ.
const EulerGamma = 0.57721566490153286060651209008240243104215933593992

// ExpectedMaxSharpe returns the expected maximum of `trials` independent
// Sharpe ratio estimates with mean 0 and variance `variance` (Bailey &
// López de Prado 2014, eq. 6, from the Gumbel limit of the maximum of
// normals): √variance · ((1−γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), γ the
// Euler–Mascheroni constant. It is 0 for a single trial (no selection) and
// panics for trials < 1 or a negative variance (programmer errors).
func ExpectedMaxSharpe(trials int, variance float64) float64 {
	if trials < 1 || variance < 0 || math.IsNaN(variance) {
		panic(fmt.Sprintf("eval: ExpectedMaxSharpe(%d trials, variance %v)", trials, variance))
	}
	if trials == 1 {
		return 0
	}
	nt := float64(trials)
	z := (1-EulerGamma)*normQuantile(1-1/nt) + EulerGamma*normQuantile(1-1/(nt*math.E))
	return math.Sqrt(variance) * z
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

func normQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// ---- spread across seeds ----

// Spread summarises one metric over repeated runs (seeds): order
// statistics with numpy's default linear quantile (Hyndman & Fan 1996,
// type 7). NaN values are skipped and not counted.
type Spread struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Q1     float64 `json:"q1"` // 25th percentile
	Q3     float64 `json:"q3"` // 75th percentile
	IQR    float64 `json:"iqr"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// MarshalJSON encodes s with NaN and ±Inf as null.
func (s Spread) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *Spread) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

// SpreadOf returns the Spread of values (not modified). With no non-NaN
// value every statistic is NaN.
func SpreadOf(values []float64) Spread {
	v := make([]float64, 0, len(values))
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		nan := math.NaN()
		return Spread{Median: nan, Q1: nan, Q3: nan, IQR: nan, Min: nan, Max: nan}
	}
	slices.Sort(v)
	s := Spread{
		N:      len(v),
		Median: quantileRanked(v, 0.5),
		Q1:     quantileRanked(v, 0.25),
		Q3:     quantileRanked(v, 0.75),
		Min:    v[0],
		Max:    v[len(v)-1],
	}
	s.IQR = s.Q3 - s.Q1
	return s
}

// MetricsSpread returns the Spread across runs of every numeric field of
// Metrics, keyed by the field's JSON name (e.g. "sharpe").
func MetricsSpread(runs []Metrics) map[string]Spread {
	out := make(map[string]Spread)
	t := reflect.TypeFor[Metrics]()
	vals := make([]float64, len(runs))
	for i := range t.NumField() {
		name, ok := jsonName(t.Field(i))
		if !ok {
			continue
		}
		for j := range runs {
			f := reflect.ValueOf(&runs[j]).Elem().Field(i)
			switch f.Kind() {
			case reflect.Float64:
				vals[j] = f.Float()
			case reflect.Int:
				vals[j] = float64(f.Int())
			}
		}
		out[name] = SpreadOf(vals)
	}
	return out
}
