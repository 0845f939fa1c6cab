package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// AutoLag asks Regress for the Newey–West (1994) automatic lag NeweyWestLag(n).
const AutoLag = -1

// NeweyWestLag returns the rule-of-thumb truncation lag ⌊4·(n/100)^(2/9)⌋
// of Newey & West (1994) for the Bartlett kernel: 4 for 100 bars, 6 for
// 1,000, 18 for 87,600.
func NeweyWestLag(n int) int {
	if n <= 0 {
		return 0
	}
	return int(math.Floor(4 * math.Pow(float64(n)/100, 2.0/9)))
}

// Regression is the OLS fit y = Intercept + Slope·x + u with plain and
// heteroskedasticity-and-autocorrelation-consistent (HAC) inference on the
// slope.
type Regression struct {
	N         int     `json:"n"`
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	// R2 is the coefficient of determination 1 − SSR/SST.
	R2 float64 `json:"r2"`
	// SlopeSE is the Newey–West (1987) standard error of the slope: Bartlett
	// weights 1 − l/(Lag+1), no small-sample degrees-of-freedom correction.
	SlopeSE float64 `json:"slope_se"`
	// TStat is Slope / SlopeSE.
	TStat float64 `json:"t_stat"`
	// SlopeSEOLS is the classical standard error √(s²/Σ(x−x̄)²) with
	// s² = SSR/(n−2), valid only for i.i.d. homoskedastic errors.
	SlopeSEOLS float64 `json:"slope_se_ols"`
	// TStatOLS is Slope / SlopeSEOLS.
	TStatOLS float64 `json:"t_stat_ols"`
	// Lag is the Newey–West truncation lag used, in bars.
	Lag int `json:"lag"`
}

// MarshalJSON encodes r with NaN and ±Inf as null.
func (r Regression) MarshalJSON() ([]byte, error) { return marshalFinite(r) }

// UnmarshalJSON decodes r, reading null as NaN.
func (r *Regression) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, r) }

// Regress fits y on x by OLS with Newey–West standard errors of the slope
// at truncation lag `lag` (≥ 0; 0 gives White's heteroskedasticity-robust
// error; AutoLag selects NeweyWestLag(n)). The HAC variance of the slope is
// the (2,2) element of the sandwich (X'X)⁻¹ S (X'X)⁻¹; by Frisch–Waugh it
// reduces to [Σ_t ψ_t² + 2 Σ_{l=1}^{L} (1 − l/(L+1)) Σ_t ψ_t ψ_{t−l}] / (Σ z_t²)²
// with z = x − x̄ and ψ_t = z_t·û_t. It needs at least 3 aligned finite
// points and x with non-zero dispersion.
func Regress(x, y []float64, lag int) (Regression, error) {
	n := len(x)
	if len(y) != n {
		return Regression{}, fmt.Errorf("eval: regression of %d responses on %d regressors", len(y), n)
	}
	if n < 3 {
		return Regression{}, fmt.Errorf("%w: regression needs at least 3 points, got %d", ErrNoReturns, n)
	}
	for i := range n {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return Regression{}, fmt.Errorf("eval: regression point %d (%v, %v) is not finite", i, x[i], y[i])
		}
	}
	if lag == AutoLag {
		lag = NeweyWestLag(n)
	}
	if lag < 0 {
		return Regression{}, fmt.Errorf("eval: Newey–West lag %d is negative", lag)
	}
	lag = min(lag, n-1)
	fn := float64(n)
	xm, ym := floatsSum(x)/fn, floatsSum(y)/fn
	var sxx, sxy, syy float64
	for i := range n {
		dx, dy := x[i]-xm, y[i]-ym
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return Regression{}, fmt.Errorf("eval: regression on a constant regressor (x = %v)", x[0])
	}
	r := Regression{N: n, Lag: lag}
	r.Slope = sxy / sxx
	r.Intercept = ym - r.Slope*xm
	psi := make([]float64, n)
	var ssr float64
	for i := range n {
		u := y[i] - r.Intercept - r.Slope*x[i]
		ssr += u * u
		psi[i] = (x[i] - xm) * u
	}
	r.R2 = math.NaN()
	if syy > 0 {
		r.R2 = 1 - ssr/syy
	}
	r.SlopeSEOLS = math.Sqrt(ssr / (fn - 2) / sxx)
	var s float64
	for _, p := range psi {
		s += p * p
	}
	for l := 1; l <= lag; l++ {
		var c float64
		for t := l; t < n; t++ {
			c += psi[t] * psi[t-l]
		}
		s += 2 * (1 - float64(l)/float64(lag+1)) * c
	}
	r.SlopeSE = math.Sqrt(max(s, 0)) / sxx
	r.TStat = r.Slope / r.SlopeSE
	r.TStatOLS = r.Slope / r.SlopeSEOLS
	return r, nil
}

// DefaultTopFraction is the share of bars with the highest forecast
// volatility that VolTiming reports separately (the top decile).
const DefaultTopFraction = 0.1

// TimingOptions configures VolTiming. The zero value selects the automatic
// Newey–West lag and the top decile.
type TimingOptions struct {
	// Lag is the Newey–West truncation lag in bars; 0 selects
	// NeweyWestLag(n). Exposures are autocorrelated by construction, so
	// White's lag-0 error is not offered here (use Regress for it).
	Lag int
	// TopFraction is the share of bars, by forecast volatility, in the
	// high-volatility bucket, in (0, 1); 0 selects DefaultTopFraction.
	TopFraction float64
}

// BucketPerf is the performance of a strategy over a subset of bars, the
// bars concatenated in time order.
type BucketPerf struct {
	Bars int `json:"bars"`
	// MeanReturn is the mean per-period simple return.
	MeanReturn float64 `json:"mean_return"`
	// Sharpe is annualised as Metrics.Sharpe.
	Sharpe float64 `json:"sharpe"`
	// MaxDrawdown is that of the concatenated bars (≤ 0).
	MaxDrawdown float64 `json:"max_drawdown"`
	// Exposure is the mean risky exposure.
	Exposure float64 `json:"exposure"`
}

// MarshalJSON encodes p with NaN and ±Inf as null.
func (p BucketPerf) MarshalJSON() ([]byte, error) { return marshalFinite(p) }

// UnmarshalJSON decodes p, reading null as NaN.
func (p *BucketPerf) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, p) }

// ConstantExposureSpread is the largest spread (max − min) of the risky
// exposure that VolTiming treats as a constant exposure. Exposure is a
// fraction of portfolio value in [0, 1], computed as 1 − cash weight, so
// its rounding error is absolute, a few ulps of 1 (≈ 1e-16 per operation,
// ≈ 1e-15 after a fee fixed point and a renormalisation), whatever the
// exposure level; 1e-12 sits far above that noise and far below any
// deliberate change of allocation (a basis point is 1e-4). A threshold
// relative to the mean exposure would be wrong at low levels: a nearly
// all-cash strategy (mean 1e-14) would have its rounding noise count as
// timing.
const ConstantExposureSpread = 1e-12

// Timing measures volatility timing: whether a strategy holds less risk
// when forecast volatility is high, and what that earned.
type Timing struct {
	// Regression is exposure regressed on forecast volatility. A strategy
	// that times volatility has a significantly negative slope (TStat, with
	// Newey–West errors, below about −2). For a constant exposure
	// (ConstantExposure) the slope is 0, the intercept the mean exposure,
	// the standard errors 0 and the t-statistics and R² undefined (NaN,
	// null in JSON): a regression on rounding noise would give an
	// arbitrary, possibly "significant", t-statistic.
	Regression Regression `json:"regression"`
	// ConstantExposure is true when the exposure's spread (max − min) is
	// below ConstantExposureSpread: the strategy does not time volatility.
	ConstantExposure bool `json:"constant_exposure"`
	// Threshold is the lowest forecast volatility in the high bucket.
	Threshold float64 `json:"threshold"`
	// HighVol covers the TopFraction of bars with the highest forecast
	// volatility; Rest covers the others.
	HighVol BucketPerf `json:"high_vol"`
	Rest    BucketPerf `json:"rest"`
}

// MarshalJSON encodes t with NaN and ±Inf as null.
func (t Timing) MarshalJSON() ([]byte, error) { return marshalFinite(t) }

// UnmarshalJSON decodes t, reading null as NaN.
func (t *Timing) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, t) }

// VolTiming regresses the risky exposure held over each bar (Σ risky
// weights) on the volatility forecast available when the position was
// taken, and splits performance between the bars with the highest
// forecasts and the rest. All three slices are aligned per bar:
// exposure[t] is held over the period that earns returns[t], chosen with
// forecastVol[t] (any consistent unit, e.g. annualised). The high bucket is
// the ⌈TopFraction·n⌉ bars with the largest forecast (ties broken by time,
// later bars first), so it is never empty. An exposure whose spread is
// below ConstantExposureSpread is reported as constant (slope 0, t
// undefined; see Timing.Regression). Errors: misaligned or non-finite
// inputs, fewer than 3 bars, constant forecasts, an invalid option.
func VolTiming(exposure, forecastVol, returns []float64, periodsPerYear float64, opt TimingOptions) (Timing, error) {
	n := len(returns)
	if len(exposure) != n || len(forecastVol) != n {
		return Timing{}, fmt.Errorf("eval: VolTiming needs aligned series, got %d exposures, %d forecasts, %d returns", len(exposure), len(forecastVol), n)
	}
	if err := checkReturns("returns", returns); err != nil {
		return Timing{}, err
	}
	if err := checkPeriodsPerYear(periodsPerYear); err != nil {
		return Timing{}, err
	}
	if opt.Lag < 0 {
		return Timing{}, fmt.Errorf("eval: Newey–West lag %d is negative", opt.Lag)
	}
	frac := opt.TopFraction
	if frac == 0 {
		frac = DefaultTopFraction
	}
	if !(frac > 0 && frac < 1) {
		return Timing{}, fmt.Errorf("eval: top fraction %v outside (0, 1)", opt.TopFraction)
	}
	lag := opt.Lag
	if lag == 0 {
		lag = AutoLag
	}
	reg, err := Regress(forecastVol, exposure, lag)
	if err != nil {
		return Timing{}, fmt.Errorf("eval: volatility timing: %w", err)
	}
	constant := slices.Max(exposure)-slices.Min(exposure) < ConstantExposureSpread
	if constant {
		// The fit of noise on volatility is meaningless: report the
		// regression of an exactly constant response instead.
		reg = Regression{N: reg.N, Lag: reg.Lag, Intercept: floatsSum(exposure) / float64(n), R2: math.NaN(),
			TStat: math.NaN(), TStatOLS: math.NaN()}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		if c := cmp.Compare(forecastVol[j], forecastVol[i]); c != 0 {
			return c
		}
		return j - i
	})
	top := min(int(math.Ceil(frac*float64(n))), n-1)
	high := make([]bool, n)
	for _, i := range order[:top] {
		high[i] = true
	}
	t := Timing{Regression: reg, ConstantExposure: constant, Threshold: forecastVol[order[top-1]]}
	t.HighVol = bucketPerf(returns, exposure, high, true, periodsPerYear)
	t.Rest = bucketPerf(returns, exposure, high, false, periodsPerYear)
	return t, nil
}

func bucketPerf(returns, exposure []float64, in []bool, want bool, ppy float64) BucketPerf {
	r := make([]float64, 0, len(returns))
	var expo float64
	for i, ok := range in {
		if ok == want {
			r = append(r, returns[i])
			expo += exposure[i]
		}
	}
	p := BucketPerf{Bars: len(r), MeanReturn: math.NaN(), Sharpe: math.NaN(), MaxDrawdown: math.NaN(), Exposure: math.NaN()}
	if len(r) == 0 {
		return p
	}
	p.MeanReturn = floatsSum(r) / float64(len(r))
	p.Sharpe = Sharpe(r, ppy)
	p.MaxDrawdown = MaxDrawdown(r)
	p.Exposure = expo / float64(len(r))
	return p
}
