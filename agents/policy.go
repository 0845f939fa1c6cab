package agents

import (
	"math/rand/v2"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// Mode selects stochastic or deterministic acting (SB3's deterministic flag).
type Mode int

// Acting modes.
const (
	Deterministic Mode = iota // the distribution's mode/mean; used in evaluation
	Sample                    // draw from the policy's distribution; used in training rollouts
)

// Observation is what a policy may look at when deciding at bar t. Every
// field is causal: History and Features are restricted to bars ≤ t.
type Observation struct {
	// Vector is the env observation (see env.Layout).
	Vector []float64
	// Bar is the decision bar t as an index into History.Panel().
	Bar int
	// History is a causal view whose last bar is the decision bar t. It may
	// start before the traded segment (training data available for estimation).
	History market.View
	// Features holds causal features for the whole panel History views, or
	// nil. Only bars ≤ Bar may be read.
	Features *features.Set
	// Weights are the current drifted weights, cash first (length N+1).
	Weights []float64
}

// Policy is anything that allocates: agents and baselines alike. Act writes
// target weights (cash first, non-negative, summing to one; length N+1) into
// dst. A policy never owns an RNG: stochastic policies draw from rng.
type Policy interface {
	Name() string
	Act(dst []float64, obs *Observation, rng *rand.Rand, mode Mode) error
}

// Resetter is implemented by stateful policies (online-portfolio methods,
// rebalancing schedules) that must forget their state at an episode start.
type Resetter interface {
	Reset()
}

// Fitter is implemented by policies that estimate something on a training
// segment before trading a test segment (walk-forward).
type Fitter interface {
	Fit(train *market.Panel) error
}
