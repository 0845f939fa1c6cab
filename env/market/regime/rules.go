package regime

import (
	"fmt"
	"math"
	"slices"

	"github.com/folio-rl/folio/env/market"
)

// RuleConfig defines the trend and volatility statistics of the equal-weight
// index and the quantile rules that turn them into regimes. Both labellers
// use it: Rules classifies every bar's statistics, HMM classifies the centre
// of each hidden state. Windows are in bars; quantiles are fractions in
// (0, 1) of the statistic's distribution over the fitting window.
type RuleConfig struct {
	// TrendBars is the trend window k: the trend at bar t is the index log
	// return over bars t−k+1..t. Default 30; range [1, 1000].
	TrendBars int `toml:"trend_bars"`
	// VolBars is the volatility window w: the volatility at bar t is the root
	// mean square of the index log returns of bars t−w+1..t.
	// Default 10; range [2, 1000].
	VolBars int `toml:"vol_bars"`
	// CrashVolQuantile and CrashTrendQuantile: volatility at or above the
	// first quantile together with a trend at or below the second is a crash.
	// Defaults 0.9 and 0.25.
	CrashVolQuantile float64 `toml:"crash_vol_quantile"`
	// CrashTrendQuantile: see CrashVolQuantile.
	CrashTrendQuantile float64 `toml:"crash_trend_quantile"`
	// SidewaysVolQuantile, SidewaysTrendLow and SidewaysTrendHigh: volatility
	// at or below the first quantile with a trend strictly between the other
	// two quantiles is sideways (a quiet market going nowhere).
	// Defaults 0.35, 0.15 and 0.85; SidewaysTrendLow < SidewaysTrendHigh.
	SidewaysVolQuantile float64 `toml:"sideways_vol_quantile"`
	// SidewaysTrendLow: see SidewaysVolQuantile.
	SidewaysTrendLow float64 `toml:"sideways_trend_low"`
	// SidewaysTrendHigh: see SidewaysVolQuantile.
	SidewaysTrendHigh float64 `toml:"sideways_trend_high"`
	// BullQuantile: any other bar is bull if its trend is at or above this
	// quantile and bear otherwise. Default 0.5 (the median trend).
	BullQuantile float64 `toml:"bull_quantile"`
}

// DefaultRules returns the default rule configuration.
func DefaultRules() RuleConfig {
	return RuleConfig{
		TrendBars:           30,
		VolBars:             10,
		CrashVolQuantile:    0.9,
		CrashTrendQuantile:  0.25,
		SidewaysVolQuantile: 0.35,
		SidewaysTrendLow:    0.15,
		SidewaysTrendHigh:   0.85,
		BullQuantile:        0.5,
	}
}

// Validate reports the first invalid field by its TOML key.
func (c RuleConfig) Validate() error {
	switch {
	case c.TrendBars < 1 || c.TrendBars > 1000:
		return fmt.Errorf("regime: trend_bars = %d, want 1..1000", c.TrendBars)
	case c.VolBars < 2 || c.VolBars > 1000:
		return fmt.Errorf("regime: vol_bars = %d, want 2..1000", c.VolBars)
	}
	for _, q := range []struct {
		key string
		v   float64
	}{
		{"crash_vol_quantile", c.CrashVolQuantile}, {"crash_trend_quantile", c.CrashTrendQuantile},
		{"sideways_vol_quantile", c.SidewaysVolQuantile}, {"sideways_trend_low", c.SidewaysTrendLow},
		{"sideways_trend_high", c.SidewaysTrendHigh}, {"bull_quantile", c.BullQuantile},
	} {
		if !(q.v > 0 && q.v < 1) {
			return fmt.Errorf("regime: %s = %v, want in (0, 1)", q.key, q.v)
		}
	}
	if c.SidewaysTrendLow >= c.SidewaysTrendHigh {
		return fmt.Errorf("regime: sideways_trend_low = %v, want below sideways_trend_high = %v", c.SidewaysTrendLow, c.SidewaysTrendHigh)
	}
	return nil
}

// warmup is the first bar with both statistics defined (bar 0 has no
// return, so a k-bar window first fits at bar k).
func (c RuleConfig) warmup() int { return max(c.TrendBars, c.VolBars) }

// Thresholds are fitted rule thresholds, in the units of the statistics
// they apply to.
type Thresholds struct {
	CrashVol, CrashTrend             float64
	SidewaysVol                      float64
	SidewaysTrendLo, SidewaysTrendHi float64
	BullTrend                        float64
}

// thresholds computes the quantiles of c on sorted trend and vol samples.
func (c RuleConfig) thresholds(trendSorted, volSorted []float64) Thresholds {
	return Thresholds{
		CrashVol:        quantile7(volSorted, c.CrashVolQuantile),
		CrashTrend:      quantile7(trendSorted, c.CrashTrendQuantile),
		SidewaysVol:     quantile7(volSorted, c.SidewaysVolQuantile),
		SidewaysTrendLo: quantile7(trendSorted, c.SidewaysTrendLow),
		SidewaysTrendHi: quantile7(trendSorted, c.SidewaysTrendHigh),
		BullTrend:       quantile7(trendSorted, c.BullQuantile),
	}
}

// Classify applies the rules, in order:
//
//	crash    vol ≥ CrashVol and trend ≤ CrashTrend
//	sideways vol ≤ SidewaysVol and SidewaysTrendLo < trend < SidewaysTrendHi
//	bull     trend ≥ BullTrend
//	bear     otherwise
//
// NaN statistics give Unlabelled.
func (th Thresholds) Classify(trend, vol float64) market.Regime {
	switch {
	case math.IsNaN(trend) || math.IsNaN(vol):
		return market.Unlabelled
	case vol >= th.CrashVol && trend <= th.CrashTrend:
		return market.Crash
	case vol <= th.SidewaysVol && trend > th.SidewaysTrendLo && trend < th.SidewaysTrendHi:
		return market.Sideways
	case trend >= th.BullTrend:
		return market.Bull
	default:
		return market.Bear
	}
}

// Rules is a fitted rule-based labeller: thresholds frozen from a fitting
// window, applied causally to any panel.
type Rules struct {
	cfg RuleConfig
	th  Thresholds
}

// FitRules estimates the rule thresholds as quantiles (type 7: linear
// interpolation between order statistics, numpy's default) of the trend
// and volatility of the bars t in [from, to) of p where both are defined
// (t ≥ max(TrendBars, VolBars)). Only bars < to are read, so a labeller
// fitted on a training segment never sees the test segment.
func FitRules(p *market.Panel, from, to int, c RuleConfig) (*Rules, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if from < 0 || to > p.T() || from >= to {
		return nil, fmt.Errorf("regime: fitting window [%d, %d) out of range for %d bars", from, to, p.T())
	}
	lo := max(from, c.warmup())
	if to-lo < 20 {
		return nil, fmt.Errorf("regime: fitting window [%d, %d) has %d bars after a %d-bar warm-up, want ≥ 20", from, to, max(to-lo, 0), c.warmup())
	}
	trend, vol := ruleStats(p, to, c)
	tr := slices.Clone(trend[lo:to])
	vo := slices.Clone(vol[lo:to])
	slices.Sort(tr)
	slices.Sort(vo)
	return &Rules{cfg: c, th: c.thresholds(tr, vo)}, nil
}

// ruleStats returns the trend (k-bar index log return) and volatility
// (w-bar RMS index log return) of bars 0..to−1, NaN before each window is
// full, reading only those bars.
func ruleStats(p *market.Panel, to int, c RuleConfig) (trend, vol []float64) {
	r := indexReturns(nil, p, to)
	trend = make([]float64, to)
	vol = make([]float64, to)
	scratch := make([]float64, to)
	trailing(trend, scratch, r, c.TrendBars)
	trailing(scratch, vol, r, c.VolBars)
	return trend, vol
}

// quantile7 returns the type-7 quantile of sorted x (Hyndman & Fan 1996):
// h = (n−1)q, interpolating linearly between x[⌊h⌋] and x[⌊h⌋+1].
func quantile7(sorted []float64, q float64) float64 {
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Config returns the configuration the labeller was fitted with.
func (r *Rules) Config() RuleConfig { return r.cfg }

// Thresholds returns the fitted thresholds: trends as k-bar index log
// returns, volatilities as per-bar RMS index log returns.
func (r *Rules) Thresholds() Thresholds { return r.th }

// LabelTo writes a label for every bar of p into dst (length T; allocated
// when nil or too short) and returns it. The label of bar t is
// Thresholds.Classify of the trend and volatility at t, which use bars ≤ t
// only. Bars before max(TrendBars, VolBars) are Unlabelled.
func (r *Rules) LabelTo(dst []market.Regime, p *market.Panel) []market.Regime {
	t := p.T()
	if cap(dst) < t {
		dst = make([]market.Regime, t)
	}
	dst = dst[:t]
	trend, vol := ruleStats(p, t, r.cfg)
	for s := range dst {
		dst[s] = r.th.Classify(trend[s], vol[s])
	}
	return dst
}
