package guard

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Non-finite action policies (Config.NonFinite).
const (
	// NonFiniteHold replaces an action holding NaN or ±Inf by the hold
	// action: the current drifted weights moved onto the feasible set with
	// the least turnover. The step is counted with FlagNonFinite.
	NonFiniteHold = "hold"
	// NonFiniteError rejects such an action: Project and Guard.Step return
	// an error wrapping env.ErrInvalidAction and change no state.
	NonFiniteError = "error"
)

// Config holds the limits of the risk guard, mapped 1:1 onto the [guard]
// table of an experiment's TOML. Weights are fractions of portfolio value
// (cash first, risky assets after it). Unless a field says otherwise, zero
// disables its limit. Defaults returns every limit disabled and the
// parameters of the optional mechanisms (breaker, vol cap) set, so enabling
// one limit needs one key.
type Config struct {
	// MaxWeight caps the weight of every risky asset after a trade.
	// Range [0, 1]; default 0 = disabled (equivalent to 1).
	MaxWeight float64 `toml:"max_weight"`

	// AssetMaxWeight overrides MaxWeight for named assets (a TOML sub-table
	// [guard.asset_max_weight], e.g. BTC = 0.6). Range [0, 1]; here zero
	// is a real cap: the asset may not be held (it can still be sold down
	// as fast as liquidity allows). Names must be assets of the env.
	// Default empty.
	AssetMaxWeight map[string]float64 `toml:"asset_max_weight"`

	// MinCash is the smallest cash weight after a trade. Range [0, 1];
	// default 0 = disabled. MinCash = 1 forces an all-cash portfolio.
	MinCash float64 `toml:"min_cash"`

	// MaxGross caps the gross risky exposure Σ_{i≥1} w_i after a trade.
	// The portfolio is long-only, so this is the cash floor 1 − MaxGross.
	// Range [0, 1]; default 0 = disabled (to forbid any exposure use
	// MinCash = 1).
	MaxGross float64 `toml:"max_gross"`

	// MaxTurnover caps the one-step turnover Σ_{i≥1} |w_i − w'_i| over the
	// risky assets, w' being the drifted weights before the trade
	// (env.Info.Turnover's definition, on target weights). Range [0, 2];
	// default 0 = disabled.
	MaxTurnover float64 `toml:"max_turnover"`

	// MaxParticipation caps the trade in each risky asset at this fraction
	// of the decision bar's dollar volume (close × volume of bar t):
	// |w_i − w'_i| · V ≤ MaxParticipation · close_{t,i} · volume_{t,i},
	// with V the portfolio value before the trade. The market env's own
	// costs.liquidity_cap clips trades independently (excess stays in
	// cash, the step is counted as liquidity-limited); set this below it to
	// make the guard plan trades the env can fill (see the package doc,
	// "The guard and the market env's frictions"). An asset with zero
	// volume never trades, whether or not this is set. Range [0, 1];
	// default 0 = disabled (only the env's clip).
	MaxParticipation float64 `toml:"max_participation"`

	// DrawdownLimit arms the drawdown circuit breaker: when the value falls
	// more than this fraction below the high-water mark (the episode peak
	// until the first trip), the gross exposure is cut to DrawdownGross for
	// DrawdownCooldown bars. Range [0, 1); default 0 = disabled.
	DrawdownLimit float64 `toml:"drawdown_limit"`

	// DrawdownGross is the gross risky exposure allowed while the breaker
	// is active. Range [0, 1]; default 0 (all cash). Zero is a real level
	// here; the breaker is switched by DrawdownLimit.
	DrawdownGross float64 `toml:"drawdown_gross"`

	// DrawdownCooldown is the number of decision bars the breaker stays
	// active after a trip, the trip bar included. When it ends the breaker
	// re-arms with its high-water mark reset to the current value. Range
	// ≥ 1 when the breaker is enabled; default 24.
	DrawdownCooldown int `toml:"drawdown_cooldown"`

	// VolTarget caps the forecast annualised volatility of the portfolio
	// (a fraction, e.g. 0.6 = 60 %/year): when the allocation's forecast
	// exceeds it, the risky weights are scaled down into cash. Range ≥ 0;
	// default 0 = disabled.
	VolTarget float64 `toml:"vol_target"`

	// VolLambda is the EWMA decay of the covariance forecast (RiskMetrics:
	// weight λ^k on the return k bars back). Range (0, 1); default 0.94.
	VolLambda float64 `toml:"vol_lambda"`

	// VolWindow is the number of trailing bar returns (ending at the
	// decision bar) in the covariance forecast. Range ≥ 2; default 100.
	VolWindow int `toml:"vol_window"`

	// NonFinite says what an action holding NaN or ±Inf does: "hold"
	// (default; see NonFiniteHold) or "error" (NonFiniteError).
	NonFinite string `toml:"non_finite"`
}

// Defaults returns the default configuration: every limit disabled, the
// breaker and vol-cap parameters at their defaults, non-finite actions held.
func Defaults() Config {
	return Config{
		DrawdownCooldown: 24,
		VolLambda:        0.94,
		VolWindow:        100,
		NonFinite:        NonFiniteHold,
	}
}

// Validate checks every field's range. Error messages name the TOML key.
func (c Config) Validate() error {
	var errs []error
	unit := func(key string, v float64) {
		if !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("guard: %s = %v out of range [0, 1]", key, v))
		}
	}
	unit("max_weight", c.MaxWeight)
	unit("min_cash", c.MinCash)
	unit("max_gross", c.MaxGross)
	unit("max_participation", c.MaxParticipation)
	unit("drawdown_gross", c.DrawdownGross)
	names := make([]string, 0, len(c.AssetMaxWeight))
	for a := range c.AssetMaxWeight {
		names = append(names, a)
	}
	sort.Strings(names) // deterministic error order
	for _, a := range names {
		unit(fmt.Sprintf("asset_max_weight.%s", a), c.AssetMaxWeight[a])
	}
	if !(c.MaxTurnover >= 0 && c.MaxTurnover <= 2) {
		errs = append(errs, fmt.Errorf("guard: max_turnover = %v out of range [0, 2]", c.MaxTurnover))
	}
	if !(c.DrawdownLimit >= 0 && c.DrawdownLimit < 1) {
		errs = append(errs, fmt.Errorf("guard: drawdown_limit = %v out of range [0, 1)", c.DrawdownLimit))
	}
	if c.DrawdownLimit > 0 && c.DrawdownCooldown < 1 {
		errs = append(errs, fmt.Errorf("guard: drawdown_cooldown = %d must be ≥ 1 when drawdown_limit is set", c.DrawdownCooldown))
	}
	if c.DrawdownCooldown < 0 {
		errs = append(errs, fmt.Errorf("guard: drawdown_cooldown = %d must not be negative", c.DrawdownCooldown))
	}
	if !(c.VolTarget >= 0) || math.IsInf(c.VolTarget, 0) {
		errs = append(errs, fmt.Errorf("guard: vol_target = %v must be finite and ≥ 0", c.VolTarget))
	}
	if c.VolTarget > 0 {
		if !(c.VolLambda > 0 && c.VolLambda < 1) {
			errs = append(errs, fmt.Errorf("guard: vol_lambda = %v out of range (0, 1)", c.VolLambda))
		}
		if c.VolWindow < 2 {
			errs = append(errs, fmt.Errorf("guard: vol_window = %d must be ≥ 2", c.VolWindow))
		}
	}
	switch c.NonFinite {
	case NonFiniteHold, NonFiniteError:
	default:
		errs = append(errs, fmt.Errorf("guard: non_finite = %q must be %q or %q", c.NonFinite, NonFiniteHold, NonFiniteError))
	}
	return errors.Join(errs...)
}
