package env

import (
	"errors"
	"time"

	"github.com/folio-rl/folio/env/market"
)

// SpaceKind says what set a Space describes.
type SpaceKind int

// Space kinds.
const (
	// Box is a product of intervals [Low[k], High[k]] (bounds may be ±Inf).
	Box SpaceKind = iota
	// Simplex is the set of non-negative vectors summing to one.
	Simplex
)

// Space describes an observation or action space. Spaces are values: they
// hold no random state.
type Space struct {
	Kind  SpaceKind
	Shape []int     // dimensions; the flat length is their product
	Low   []float64 // Box only: per-element lower bounds (flat)
	High  []float64 // Box only: per-element upper bounds (flat)
}

// Len returns the flat length of the space.
func (s Space) Len() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Spec is the static description of an env.
type Spec struct {
	Observation Space
	Action      Space
	Assets      []string      // risky assets, in action order after cash
	Interval    time.Duration // bar length
	Window      int           // bars of history in an observation
	Layout      Layout        // how the observation vector is laid out
}

// Layout documents the observation vector. The vector is the concatenation
// of, in order: for each asset i and each per-asset feature f, the window of
// Window values oldest first (offset AssetOffset + (i*len(Features)+f)*Window);
// for each global feature g, its window (offset GlobalOffset + g*Window);
// then the current drifted weights, cash first (offset WeightsOffset, N+1 values).
type Layout struct {
	Features       []string // per-asset feature names
	GlobalFeatures []string // market-wide feature names
	AssetOffset    int
	GlobalOffset   int
	WeightsOffset  int
	Len            int
}

// GuardInfo reports what a risk guard did to an action.
type GuardInfo struct {
	Interventions int    // number of limits that changed the requested allocation this step
	Flags         uint32 // bit set of the limits that bound (see the guard's constants)
	BreakerActive bool   // drawdown circuit breaker in force this step
}

// Info is the typed information of a step or reset. Slices have length N+1
// (cash first). In a StepResult they are owned by the caller (allocate with
// NewStepResult); the env copies into them.
type Info struct {
	Bar       int           // index of the panel bar at which the next decision is taken
	Time      time.Time     // open time of that bar
	Regime    market.Regime // regime label of that bar (Unlabelled if none)
	Value     float64       // portfolio value in quote currency after the step
	Return    float64       // simple return of the step after all costs
	Requested []float64     // target weights requested of the market (after any guard)
	Executed  []float64     // weights right after the trade, before the market moves
	Weights   []float64     // weights after the market moved (drifted): the observation's weights
	Turnover  float64       // Σ_i |traded notional_i| / pre-trade value, risky assets (see package doc, "Units")
	Fees      float64       // fees paid this step, quote currency
	Slippage  float64       // slippage paid this step, quote currency
	// LiquidityLimited is the number of risky assets whose trade the env
	// filled only partly this step: clipped by the liquidity cap or a bar
	// without volume, or a buy scaled down because clipped sales did not
	// fund it. When it is 0, Executed equals Requested bit for bit (see
	// package doc, "Costs").
	LiquidityLimited int
	// Unfilled is the part of the requested trades left undone on those
	// assets, Σ_i |μ·w_i − w'_i − d_i|, as a fraction of the pre-trade
	// value (0 when LiquidityLimited is 0).
	Unfilled float64
	Guard    GuardInfo
}

// StepResult is written by Env.Step. Obs and the Info slices are owned by
// the caller and reused across steps.
type StepResult struct {
	Obs        []float64
	Reward     float64
	Terminated bool // the MDP ended (e.g. wealth below a floor): do not bootstrap
	Truncated  bool // we stopped watching (time limit, end of data): bootstrap
	Info       Info
}

// NewStepResult allocates a StepResult for spec.
func NewStepResult(spec Spec) *StepResult {
	n := len(spec.Assets) + 1
	return &StepResult{
		Obs: make([]float64, spec.Observation.Len()),
		Info: Info{
			Requested: make([]float64, n),
			Executed:  make([]float64, n),
			Weights:   make([]float64, n),
		},
	}
}

// Env is a gym-style portfolio environment.
//
// Reset writes the first observation into dst and always takes a seed.
// The returned Info's slices alias env-owned buffers valid until the next
// call. Step writes into the caller-owned dst. Step before Reset panics
// (a programmer error). Close is idempotent.
type Env interface {
	Spec() Spec
	Reset(dst []float64, seed uint64) (Info, error)
	Step(dst *StepResult, action []float64) error
	Close() error
}

// Wrapper is an Env that wraps another.
type Wrapper interface {
	Env
	Unwrap() Env
}

// ErrInvalidAction is returned by Step for an action that is not a valid
// allocation (wrong sign, not summing to one, NaN or Inf) where the env or
// wrapper does not define a safe replacement.
var ErrInvalidAction = errors.New("env: invalid action")

// Portfolio gives wrappers (the risk guard, monitors) read access to the
// state of the market env at the bottom of a wrapper stack. The base market
// env implements it; wrappers find it by following Unwrap. Slices are
// read-only views valid until the next Step or Reset.
type Portfolio interface {
	// Market returns the panel being traded.
	Market() *market.Panel
	// Bar returns the current decision bar t (data ≤ t is known).
	Bar() int
	// Weights returns the current drifted weights, cash first (N+1).
	Weights() []float64
	// Value returns the current portfolio value in quote currency.
	Value() float64
	// Peak returns the highest portfolio value seen this episode.
	Peak() float64
}

// FindPortfolio follows Unwrap from e until it finds a Portfolio.
func FindPortfolio(e Env) (Portfolio, bool) {
	for e != nil {
		if p, ok := e.(Portfolio); ok {
			return p, true
		}
		w, ok := e.(Wrapper)
		if !ok {
			return nil, false
		}
		e = w.Unwrap()
	}
	return nil, false
}
