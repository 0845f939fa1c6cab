package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// Path is the bar-by-bar record of a strategy traded through an env: a
// single backtest or the stitched out-of-sample test windows of a
// walk-forward run. Entry k describes the step decided at bar Decision[k]
// and realised at the close of bar Bar[k] = Decision[k]+1: the policy asked
// for Target[k], the market executed Executed[k] (after the guard, costs and
// liquidity), and the portfolio's value moved to Value[k] — a simple return
// Return[k] after every cost. Weights are cash first (N+1 per row). The
// walk-forward runner chains test windows (each starts from the previous
// window's final holdings and value), so Value is continuous across folds.
type Path struct {
	Strategy     string          `json:"strategy"`
	Assets       []string        `json:"assets"`
	InitialValue float64         `json:"initial_value"`
	Decision     []int           `json:"decision_bar"`
	Bar          []int           `json:"bar"`
	Time         []int64         `json:"time"` // open time of Bar[k], Unix seconds UTC
	Return       []float64       `json:"return"`
	Value        []float64       `json:"value"`
	Target       [][]float64     `json:"target"`
	Executed     [][]float64     `json:"executed"`
	Turnover     []float64       `json:"turnover"`
	Fees         []float64       `json:"fees"`
	Slippage     []float64       `json:"slippage"`
	Guard        []uint32        `json:"guard_flags"`
	Breaker      []bool          `json:"breaker"`
	Regime       []market.Regime `json:"regime"` // regime label of the decision bar
	ForecastVol  []float64       `json:"forecast_vol"`
	Fold         []int           `json:"fold"`
	// FinalWeights are the drifted weights after the last step: what the
	// portfolio holds when the path ends (a following test window can
	// start from them).
	FinalWeights []float64 `json:"final_weights,omitempty"`
	// LiquidityLimited[k] counts the assets whose trade the env filled
	// only partly at step k (its liquidity cap, or a bar without volume:
	// env.Info.LiquidityLimited); Executed[k] differs from the allocation
	// the guard sent only where it is > 0. Nil in paths recorded before
	// it existed.
	LiquidityLimited []int `json:"liquidity_limited,omitempty"`
}

// Len returns the number of steps.
func (p *Path) Len() int { return len(p.Return) }

// MarshalJSON encodes p with NaN and ±Inf as null (a path without volatility
// forecasts records NaN there).
func (p Path) MarshalJSON() ([]byte, error) { return marshalFinite(p) }

// UnmarshalJSON decodes p, reading null as NaN.
func (p *Path) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, p) }

// Exposure returns the risky exposure (1 − executed cash weight) per step.
func (p *Path) Exposure() []float64 {
	x := make([]float64, len(p.Executed))
	for k, w := range p.Executed {
		x[k] = 1 - w[0]
	}
	return x
}

// Wealth returns the growth of 1 invested at the start: the running product
// of (1 + Return). Unlike Value, it is continuous across stitched test
// windows that each started from the initial capital.
func (p *Path) Wealth() []float64 {
	w := make([]float64, len(p.Return))
	g := 1.0
	for k, r := range p.Return {
		g *= 1 + r
		w[k] = g
	}
	return w
}

// Book returns the bookkeeping series for ComputeMetrics.
func (p *Path) Book() *Book {
	return &Book{InitialCapital: p.InitialValue, Turnover: p.Turnover, Fees: p.Fees, Slippage: p.Slippage, Exposure: p.Exposure()}
}

// Interventions returns the number of steps at which the guard changed the
// requested allocation.
func (p *Path) Interventions() int {
	n := 0
	for _, f := range p.Guard {
		if f != 0 {
			n++
		}
	}
	return n
}

// LiquidityLimitedSteps returns the number of steps on which the env
// filled only part of the allocation it was sent.
func (p *Path) LiquidityLimitedSteps() int {
	n := 0
	for _, k := range p.LiquidityLimited {
		if k > 0 {
			n++
		}
	}
	return n
}

// Append adds q's steps to p (stitching consecutive test windows). q must
// trade the same assets.
func (p *Path) Append(q *Path) error {
	if len(p.Assets) == 0 {
		p.Assets = q.Assets
		p.InitialValue = q.InitialValue
	} else if fmt.Sprint(p.Assets) != fmt.Sprint(q.Assets) {
		return fmt.Errorf("eval: cannot stitch paths over different assets %v and %v", p.Assets, q.Assets)
	}
	if p.Strategy == "" {
		p.Strategy = q.Strategy
	}
	p.Decision = append(p.Decision, q.Decision...)
	p.Bar = append(p.Bar, q.Bar...)
	p.Time = append(p.Time, q.Time...)
	p.Return = append(p.Return, q.Return...)
	p.Value = append(p.Value, q.Value...)
	p.Target = append(p.Target, q.Target...)
	p.Executed = append(p.Executed, q.Executed...)
	p.Turnover = append(p.Turnover, q.Turnover...)
	p.Fees = append(p.Fees, q.Fees...)
	p.Slippage = append(p.Slippage, q.Slippage...)
	p.Guard = append(p.Guard, q.Guard...)
	p.LiquidityLimited = append(p.LiquidityLimited, q.LiquidityLimited...)
	p.Breaker = append(p.Breaker, q.Breaker...)
	p.Regime = append(p.Regime, q.Regime...)
	p.ForecastVol = append(p.ForecastVol, q.ForecastVol...)
	p.Fold = append(p.Fold, q.Fold...)
	p.FinalWeights = q.FinalWeights
	return nil
}

// BacktestOptions configures Backtest.
type BacktestOptions struct {
	// Seed is passed to the env's Reset (a backtest env is configured with
	// episode_start = "first", so it only matters for stochastic frictions).
	Seed uint64
	// Features, when non-nil, is handed to the policy (bars ≤ t only).
	Features *features.Set
	// HistoryFrom is the first panel bar the policy's History view shows;
	// estimation windows may reach back to it. Default 0.
	HistoryFrom int
	// ForecastVol, when non-nil, gives the forecast volatility at a
	// decision bar, recorded for the volatility-timing analysis.
	ForecastVol func(bar int) float64
	// Fold labels every step (walk-forward fold index).
	Fold int
	// Mode is the acting mode; evaluation is Deterministic (the zero value).
	Mode agents.Mode
	// RNG is passed to the policy (randomised baselines); nil uses a stream
	// derived from Seed.
	RNG *rand.Rand
	// MaxSteps stops after this many steps; 0 runs to the end of the episode.
	MaxSteps int
}

// ErrNoPortfolio is returned when the env stack has no market env to read
// the history from.
var ErrNoPortfolio = errors.New("eval: env has no market portfolio (env.Portfolio) to read history from")

// Backtest runs policy p over one episode of e, deterministically, and
// records every step. Configure e for the segment to test (episode_start =
// "first", episode_len = 0 to run to the segment's end); the guard and cost
// model are whatever e wraps. A stateful policy (agents.Resetter) is reset
// first.
func Backtest(ctx context.Context, e env.Env, p agents.Policy, opt BacktestOptions) (*Path, error) {
	port, ok := env.FindPortfolio(e)
	if !ok {
		return nil, ErrNoPortfolio
	}
	spec := e.Spec()
	n1 := len(spec.Assets) + 1
	obs := make([]float64, spec.Observation.Len())
	info, err := e.Reset(obs, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("eval: %s: reset: %w", p.Name(), err)
	}
	if r, ok := p.(agents.Resetter); ok {
		r.Reset()
	}
	rng := opt.RNG
	if rng == nil {
		rng = rand.New(rand.NewPCG(opt.Seed, 0x6576616c))
	}
	panel := port.Market()
	res := env.NewStepResult(spec)
	path := &Path{Strategy: p.Name(), Assets: spec.Assets, InitialValue: info.Value}
	weights := make([]float64, n1)
	action := make([]float64, n1)
	o := &agents.Observation{Features: opt.Features, Weights: weights}
	for step := 0; opt.MaxSteps == 0 || step < opt.MaxSteps; step++ {
		if step%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t := port.Bar()
		copy(weights, port.Weights())
		o.Vector = obs
		o.Bar = t
		o.History = panel.View(opt.HistoryFrom, t+1)
		if err := p.Act(action, o, rng, opt.Mode); err != nil {
			return nil, fmt.Errorf("eval: %s at %s: %w", p.Name(), panel.Time(t).Format("2006-01-02T15:04Z"), err)
		}
		if err := e.Step(res, action); err != nil {
			return nil, fmt.Errorf("eval: %s at %s: %w", p.Name(), panel.Time(t).Format("2006-01-02T15:04Z"), err)
		}
		in := &res.Info
		path.Decision = append(path.Decision, t)
		path.Bar = append(path.Bar, in.Bar)
		path.Time = append(path.Time, panel.Unix(in.Bar))
		path.Return = append(path.Return, in.Return)
		path.Value = append(path.Value, in.Value)
		path.Target = append(path.Target, append([]float64(nil), action...))
		path.Executed = append(path.Executed, append([]float64(nil), in.Executed...))
		path.Turnover = append(path.Turnover, in.Turnover)
		path.Fees = append(path.Fees, in.Fees)
		path.Slippage = append(path.Slippage, in.Slippage)
		path.Guard = append(path.Guard, in.Guard.Flags)
		path.LiquidityLimited = append(path.LiquidityLimited, in.LiquidityLimited)
		path.Breaker = append(path.Breaker, in.Guard.BreakerActive)
		path.Regime = append(path.Regime, info.Regime)
		fv := math.NaN()
		if opt.ForecastVol != nil {
			fv = opt.ForecastVol(t)
		}
		path.ForecastVol = append(path.ForecastVol, fv)
		path.Fold = append(path.Fold, opt.Fold)
		info.Regime = in.Regime
		copy(obs, res.Obs)
		path.FinalWeights = append(path.FinalWeights[:0], in.Weights...)
		if res.Terminated || res.Truncated {
			break
		}
	}
	return path, nil
}
