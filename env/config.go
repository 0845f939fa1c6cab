package env

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/folio-rl/folio/env/market"
)

// Action mappings (Config.Action).
const (
	ActionWeights = "weights" // the action is a target allocation; the env validates it
	ActionLogits  = "logits"  // the action is N+1 real logits; the env applies a softmax
)

// Reward names (Config.Reward).
const (
	RewardLogGrowth          = "log_growth"
	RewardDifferentialSharpe = "differential_sharpe"
	RewardDrawdownPenalised  = "drawdown_penalised"
	RewardTurnoverPenalised  = "turnover_penalised"
	RewardVolScaled          = "vol_scaled"
)

// Execution times (Config.Execution).
const (
	ExecClose    = "close"     // trade at the close of the decision bar t
	ExecNextOpen = "next_open" // trade at the open of bar t+1
)

// Episode start rules (Config.EpisodeStart).
const (
	StartRandom = "random" // uniform (or regime-balanced) random start drawn from the Reset seed
	StartFirst  = "first"  // always the first valid start (backtests); the seed is ignored
)

// Regime sampling rules (Config.RegimeSampling).
const (
	SampleUniform  = "uniform"  // every allowed start bar equally likely
	SampleBalanced = "balanced" // a regime uniformly among those present, then a start in it
)

// Fee models (Costs.FeeModel).
const (
	FeeExact  = "exact"  // the transaction remainder factor μ solved as a fixed point
	FeeLinear = "linear" // first-order: μ = 1 − Σ rate·|w − w'| − slippage, trades at pre-cost value
)

// Fee sides (Costs.FeeSide).
const (
	SideTaker = "taker"
	SideMaker = "maker"
)

// Slippage models (Costs.Slippage).
const (
	SlipNone      = "none"
	SlipSpread    = "spread"    // half-spread on traded notional
	SlipSqrt      = "sqrt"      // half-spread + impact·√participation on traded notional
	SlipQuadratic = "quadratic" // quadratic·turnover², as a fraction of portfolio value
)

// WeightTolerance is how far an action in "weights" mode may be from the
// simplex and still be accepted: each weight ≥ −WeightTolerance and
// |Σw − 1| ≤ WeightTolerance. Accepted actions have negative entries set to
// zero and are renormalised to sum to one. 1e-6 admits float32 policy
// outputs (relative precision 6e-8 over a few dozen terms) while rejecting
// actions that are not allocations.
const WeightTolerance = 1e-6

// Config configures a Market env. It maps 1:1 onto the [env] TOML table,
// except Costs (the separate [costs] table), InitialCapital (a key of
// [costs]) and the segment bounds (set in code). Zero values are not defaults: start from
// Defaults and override.
type Config struct {
	// Window is the number of bars of each feature in the observation
	// (bars t−Window+1..t). Default 30; range ≥ 1.
	Window int `toml:"window"`
	// Features lists the per-asset features (names in the features.Set) in
	// observation order. Empty selects all of the set's per-asset features.
	Features []string `toml:"features"`
	// GlobalFeatures lists the market-wide features in observation order.
	// Empty selects all of the set's global features.
	GlobalFeatures []string `toml:"global_features"`
	// Action is how an action maps to a target allocation: "weights"
	// (default; the action must be an allocation within WeightTolerance) or
	// "logits" (softmax over cash+N).
	Action string `toml:"action"`
	// Reward is the per-step reward, computed after all costs:
	// "log_growth" (default), "differential_sharpe", "drawdown_penalised",
	// "turnover_penalised" or "vol_scaled".
	Reward string `toml:"reward"`
	// RewardEta is the adaptation rate of the exponential moving averages of
	// "differential_sharpe" and "vol_scaled", per bar. Default 0.01; range (0, 1).
	RewardEta float64 `toml:"reward_eta"`
	// RewardKappa is the penalty coefficient of "drawdown_penalised" (per
	// unit of drawdown increase) and "turnover_penalised" (per unit of
	// turnover). Default 1; range ≥ 0.
	RewardKappa float64 `toml:"reward_kappa"`
	// RewardVolFloor is the floor of the volatility estimate of "vol_scaled"
	// (per-bar standard deviation of log growth) and its initial value.
	// Default 0.01; range > 0.
	RewardVolFloor float64 `toml:"reward_vol_floor"`
	// Execution is when a decision taken at bar t trades: "close" (default,
	// at the close of t) or "next_open" (at the open of t+1).
	Execution string `toml:"execution"`
	// EpisodeLen is the number of steps (bars) of an episode; 0 runs to the
	// end of the segment. Default 256; range ≥ 0.
	EpisodeLen int `toml:"episode_len"`
	// EpisodeStart is "random" (default: drawn from the Reset seed) or
	// "first" (the first valid bar of the segment, for backtests).
	EpisodeStart string `toml:"episode_start"`
	// RegimeSampling is how random starts use the per-bar regime labels:
	// "uniform" (default) or "balanced".
	RegimeSampling string `toml:"regime_sampling"`
	// Regimes restricts starts to bars labelled with one of these regimes
	// ("bull", "bear", "sideways", "crash"). Empty allows every bar.
	Regimes []string `toml:"regimes"`
	// RegimeTruncate truncates an episode at the first decision bar whose
	// label is not in Regimes. Default false: episodes started in an allowed
	// regime run their full length.
	RegimeTruncate bool `toml:"regime_truncate"`
	// SegmentStart and SegmentEnd bound the bars the env may trade, by bar
	// open time (UTC, both inclusive, as market.Panel.Between). Decisions are
	// taken at bars in [start, end) and the last step earns the move to the
	// close of the end bar; no data after it is read. Bars before the start
	// still feed the observation window. Zero leaves that side open.
	// They are set in code (the walk-forward runner sets them per fold), so
	// they are not TOML keys.
	SegmentStart time.Time `toml:"-"`
	SegmentEnd   time.Time `toml:"-"`
	// InitialCapital is the portfolio value at reset, in quote currency. It
	// matters for participation (sqrt slippage, liquidity cap). Default
	// 100000; range > 0.
	// In an experiment file it is costs.initial_capital, next to the
	// frictions it scales.
	InitialCapital float64 `toml:"-"`
	// InitialWeights is the allocation the portfolio holds at every Reset
	// and ResetAt, cash first (N+1 values, non-negative, summing to one
	// within WeightTolerance; they are divided by their sum, which leaves
	// weights that sum to exactly one unchanged). nil, the default, is all
	// cash. With InitialCapital it carries a portfolio across walk-forward
	// folds: a test window can start from the previous window's final
	// drifted weights (Info.Weights) and value (Info.Value) instead of
	// buying in from cash, so the first step's turnover and costs are
	// measured from them. Set in code; not a TOML key.
	InitialWeights []float64 `toml:"-"`
	// TerminateBelow ends the episode (terminated, not truncated) when the
	// portfolio value falls below this fraction of InitialCapital. Default 0
	// (never); range [0, 1).
	TerminateBelow float64 `toml:"terminate_below"`
	// Costs are the trading frictions: the [costs] table of an experiment
	// file, decoded on its own (not nested under [env]).
	Costs Costs `toml:"-"`
}

// Costs configures fees, slippage and liquidity (the [costs] table). Rates
// in basis points are of traded notional.
type Costs struct {
	// FeeModel is "exact" (default: the transaction remainder factor of
	// Jiang, Xu & Liang 2017, solved as a fixed point) or "linear" (the
	// first-order fee × turnover approximation).
	FeeModel string `toml:"fee_model"`
	// FeeSide is the order type whose rate applies to every trade: "taker"
	// (default, market orders) or "maker".
	FeeSide string `toml:"fee_side"`
	// TakerBps is the taker fee in basis points. Default 10; range [0, 1000].
	TakerBps float64 `toml:"taker_bps"`
	// MakerBps is the maker fee in basis points. Default 10; range [0, 1000].
	MakerBps float64 `toml:"maker_bps"`
	// Asset overrides the fee of named assets, with separate buy and sell
	// rates ([[costs.asset]] entries).
	Asset []AssetFee `toml:"asset"`
	// Slippage is the slippage model: "none", "spread", "sqrt" (default) or
	// "quadratic". Slippage is always adverse.
	Slippage string `toml:"slippage"`
	// HalfSpreadBps is the half bid-ask spread in basis points, paid on
	// traded notional by "spread" and "sqrt". Default 2; range [0, 1000].
	HalfSpreadBps float64 `toml:"half_spread_bps"`
	// Impact is the coefficient of the "sqrt" model: a trade pays
	// Impact·√participation of its notional, participation = trade notional
	// / bar dollar volume. Roughly Y·σ_bar (Y ≈ 1). Default 0.05; range [0, 1].
	Impact float64 `toml:"impact"`
	// Quadratic is k of the "quadratic" model: a step pays k·turnover² of
	// the portfolio value. Default 0.001; range [0, 0.1].
	Quadratic float64 `toml:"quadratic"`
	// LiquidityCap is the largest trade per bar and asset as a fraction of
	// the bar's dollar volume (close × volume); larger trades are partially
	// filled. 0 disables the cap (not allowed with "sqrt"). Assets with zero
	// volume are never traded, cap or not. Default 0.1; range [0, 1].
	LiquidityCap float64 `toml:"liquidity_cap"`
}

// AssetFee overrides the fee of one asset with separate buy and sell rates
// in basis points of traded notional.
type AssetFee struct {
	Asset   string  `toml:"asset"`    // asset name as in the panel
	BuyBps  float64 `toml:"buy_bps"`  // fee on buys; range [0, 1000]
	SellBps float64 `toml:"sell_bps"` // fee on sells; range [0, 1000]
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		Window:         30,
		Action:         ActionWeights,
		Reward:         RewardLogGrowth,
		RewardEta:      0.01,
		RewardKappa:    1,
		RewardVolFloor: 0.01,
		Execution:      ExecClose,
		EpisodeLen:     256,
		EpisodeStart:   StartRandom,
		RegimeSampling: SampleUniform,
		InitialCapital: 100000,
		Costs: Costs{
			FeeModel:      FeeExact,
			FeeSide:       SideTaker,
			TakerBps:      10,
			MakerBps:      10,
			Slippage:      SlipSqrt,
			HalfSpreadBps: 2,
			Impact:        0.05,
			Quadratic:     0.001,
			LiquidityCap:  0.1,
		},
	}
}

// maxCostRate bounds the Lipschitz constant of the cost function in μ (see
// Costs.lipschitz). Below 1 the fixed point is a contraction; 0.5 keeps the
// iteration count small (each iteration at least halves the error, and with
// realistic rates of ~10⁻³ it gains three digits).
const maxCostRate = 0.5

// clone returns a copy of c that shares no slices with it.
func (c Config) clone() Config {
	c.Features = append([]string(nil), c.Features...)
	c.GlobalFeatures = append([]string(nil), c.GlobalFeatures...)
	c.Regimes = append([]string(nil), c.Regimes...)
	c.Costs.Asset = append([]AssetFee(nil), c.Costs.Asset...)
	if c.InitialWeights != nil {
		c.InitialWeights = append([]float64(nil), c.InitialWeights...)
	}
	return c
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate reports the first invalid field, by its TOML name.
func (c *Config) Validate() error {
	switch {
	case c.Window < 1:
		return fmt.Errorf("env: window = %d: must be ≥ 1", c.Window)
	case !oneOf(c.Action, ActionWeights, ActionLogits):
		return fmt.Errorf("env: action = %q: want %q or %q", c.Action, ActionWeights, ActionLogits)
	case !oneOf(c.Reward, RewardLogGrowth, RewardDifferentialSharpe, RewardDrawdownPenalised, RewardTurnoverPenalised, RewardVolScaled):
		return fmt.Errorf("env: reward = %q: want one of log_growth, differential_sharpe, drawdown_penalised, turnover_penalised, vol_scaled", c.Reward)
	case !(c.RewardEta > 0 && c.RewardEta < 1):
		return fmt.Errorf("env: reward_eta = %v: must be in (0, 1)", c.RewardEta)
	case !(c.RewardKappa >= 0) || !finite(c.RewardKappa):
		return fmt.Errorf("env: reward_kappa = %v: must be finite and ≥ 0", c.RewardKappa)
	case !(c.RewardVolFloor > 0) || !finite(c.RewardVolFloor):
		return fmt.Errorf("env: reward_vol_floor = %v: must be finite and > 0", c.RewardVolFloor)
	case !oneOf(c.Execution, ExecClose, ExecNextOpen):
		return fmt.Errorf("env: execution = %q: want %q or %q", c.Execution, ExecClose, ExecNextOpen)
	case c.EpisodeLen < 0:
		return fmt.Errorf("env: episode_len = %d: must be ≥ 0 (0 runs to the end of the segment)", c.EpisodeLen)
	case !oneOf(c.EpisodeStart, StartRandom, StartFirst):
		return fmt.Errorf("env: episode_start = %q: want %q or %q", c.EpisodeStart, StartRandom, StartFirst)
	case !oneOf(c.RegimeSampling, SampleUniform, SampleBalanced):
		return fmt.Errorf("env: regime_sampling = %q: want %q or %q", c.RegimeSampling, SampleUniform, SampleBalanced)
	case !(c.InitialCapital > 0) || !finite(c.InitialCapital):
		return fmt.Errorf("env: initial_capital = %v: must be finite and > 0", c.InitialCapital)
	case !(c.TerminateBelow >= 0 && c.TerminateBelow < 1):
		return fmt.Errorf("env: terminate_below = %v: must be in [0, 1)", c.TerminateBelow)
	case !c.SegmentStart.IsZero() && !c.SegmentEnd.IsZero() && !c.SegmentStart.Before(c.SegmentEnd):
		return fmt.Errorf("env: segment_start %s is not before segment_end %s",
			c.SegmentStart.Format(time.RFC3339), c.SegmentEnd.Format(time.RFC3339))
	}
	if err := checkNames("features", c.Features); err != nil {
		return err
	}
	if err := checkNames("global_features", c.GlobalFeatures); err != nil {
		return err
	}
	seen := map[market.Regime]bool{}
	for _, r := range c.Regimes {
		g, err := market.ParseRegime(r)
		if err != nil {
			return fmt.Errorf("env: regimes: %w", err)
		}
		if seen[g] {
			return fmt.Errorf("env: regimes: %q listed twice", r)
		}
		seen[g] = true
	}
	if c.RegimeTruncate && len(c.Regimes) == 0 {
		return errors.New("env: regime_truncate = true needs a non-empty regimes list")
	}
	if err := checkInitialWeights(c.InitialWeights); err != nil {
		return err
	}
	return c.Costs.Validate()
}

// checkInitialWeights checks that w is nil or an allocation of cash and
// at least one asset: finite, non-negative, summing to one within
// WeightTolerance. New checks the length against the panel.
func checkInitialWeights(w []float64) error {
	if w == nil {
		return nil
	}
	if len(w) < 2 {
		return fmt.Errorf("env: initial_weights has %d values: want cash and one weight per asset (N+1)", len(w))
	}
	var sum float64
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 1) {
			return fmt.Errorf("env: initial_weights[%d] = %v: weights must be finite and ≥ 0", i, x)
		}
		sum += x
	}
	if !(math.Abs(sum-1) <= WeightTolerance) {
		return fmt.Errorf("env: initial_weights sum to %v: must sum to 1 (within %g)", sum, WeightTolerance)
	}
	return nil
}

func checkNames(field string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return fmt.Errorf("env: %s: empty name", field)
		}
		if seen[n] {
			return fmt.Errorf("env: %s: %q listed twice", field, n)
		}
		seen[n] = true
	}
	return nil
}

func checkBps(field string, v float64) error {
	if !(v >= 0 && v <= 1000) {
		return fmt.Errorf("env: %s = %v: must be in [0, 1000] bps", field, v)
	}
	return nil
}

// Validate reports the first invalid field of the [costs] table.
func (c *Costs) Validate() error {
	switch {
	case !oneOf(c.FeeModel, FeeExact, FeeLinear):
		return fmt.Errorf("env: costs.fee_model = %q: want %q or %q", c.FeeModel, FeeExact, FeeLinear)
	case !oneOf(c.FeeSide, SideTaker, SideMaker):
		return fmt.Errorf("env: costs.fee_side = %q: want %q or %q", c.FeeSide, SideTaker, SideMaker)
	case !oneOf(c.Slippage, SlipNone, SlipSpread, SlipSqrt, SlipQuadratic):
		return fmt.Errorf("env: costs.slippage = %q: want one of none, spread, sqrt, quadratic", c.Slippage)
	case !(c.Impact >= 0 && c.Impact <= 1):
		return fmt.Errorf("env: costs.impact = %v: must be in [0, 1]", c.Impact)
	case !(c.Quadratic >= 0 && c.Quadratic <= 0.1):
		return fmt.Errorf("env: costs.quadratic = %v: must be in [0, 0.1]", c.Quadratic)
	case !(c.LiquidityCap >= 0 && c.LiquidityCap <= 1):
		return fmt.Errorf("env: costs.liquidity_cap = %v: must be in [0, 1]", c.LiquidityCap)
	case c.Slippage == SlipSqrt && c.LiquidityCap == 0:
		return errors.New("env: costs.liquidity_cap = 0 with slippage = \"sqrt\": participation, and so impact, would be unbounded; set a cap in (0, 1]")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"costs.taker_bps", c.TakerBps}, {"costs.maker_bps", c.MakerBps}, {"costs.half_spread_bps", c.HalfSpreadBps}} {
		if err := checkBps(f.name, f.v); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for k, a := range c.Asset {
		if a.Asset == "" {
			return fmt.Errorf("env: costs.asset[%d].asset: empty name", k)
		}
		if seen[a.Asset] {
			return fmt.Errorf("env: costs.asset: %q listed twice", a.Asset)
		}
		seen[a.Asset] = true
		if err := checkBps(fmt.Sprintf("costs.asset[%d].buy_bps", k), a.BuyBps); err != nil {
			return err
		}
		if err := checkBps(fmt.Sprintf("costs.asset[%d].sell_bps", k), a.SellBps); err != nil {
			return err
		}
	}
	if l := c.lipschitz(); !(l < maxCostRate) {
		return fmt.Errorf("env: costs: combined cost rates too large (fee + half spread + 1.5·impact·√liquidity_cap + 4·quadratic = %.4g, must be < %g)", l, maxCostRate)
	}
	return nil
}

// lipschitz bounds |dC/dμ|, the sensitivity of the cost fraction C to the
// post-trade value fraction μ (see costs.go): fees and the half spread are
// linear in each trade, the sqrt impact term a·k·√(a/dv) has derivative
// 1.5·k·√participation ≤ 1.5·k·√cap, and the quadratic term k·TO² has
// derivative 2·k·TO·dTO/dμ ≤ 2·k·2·1. Trades move by w_i·dμ, and Σw_i ≤ 1.
func (c *Costs) lipschitz() float64 {
	fee := c.TakerBps
	if c.FeeSide == SideMaker {
		fee = c.MakerBps
	}
	for _, a := range c.Asset {
		fee = math.Max(fee, math.Max(a.BuyBps, a.SellBps))
	}
	l := fee / 1e4
	switch c.Slippage {
	case SlipSpread:
		l += c.HalfSpreadBps / 1e4
	case SlipSqrt:
		l += c.HalfSpreadBps/1e4 + 1.5*c.Impact*math.Sqrt(c.LiquidityCap)
	case SlipQuadratic:
		l += 4 * c.Quadratic
	}
	return l
}
