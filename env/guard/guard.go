package guard

import (
	"fmt"

	"github.com/folio-rl/folio/env"
)

// Guard is the risk-guard wrapper: it projects every action onto the
// feasible set of its Config (see Projector.Project) before passing it to
// the inner env, and reports what it did in StepResult.Info.Guard.
//
// When the Portfolio at the bottom of the stack reports a liquidity cap
// (the market env's costs.liquidity_cap, through a LiquidityCap() float64
// method), the Guard's participation limit is the tighter of that cap and
// Config.MaxParticipation, so the forced trades it plans are ones the env
// can fill and the precedence rule of the package doc applies. Steps on
// which the env still fills only part of the allocation
// (env.Info.LiquidityLimited > 0) are counted in Totals.LiquidityLimited.
//
// The inner env must take weights (a Simplex action space of N+1) and have
// a Portfolio at the bottom of its wrapper stack (env.FindPortfolio). The
// Guard's spec is the inner spec: it accepts any finite vector of N+1 values
// (and NaN/Inf as configured by NonFinite) and always sends a valid
// allocation down.
type Guard struct {
	inner   env.Env
	port    env.Portfolio
	proj    *Projector
	act     []float64 // the projected action sent to the inner env
	last    Report
	started bool
	closed  bool
}

// liquidityCapper is implemented by a Portfolio that caps each trade at a
// fraction of the bar's dollar volume (env.Market: costs.liquidity_cap).
type liquidityCapper interface {
	LiquidityCap() float64
}

// New wraps inner with a guard enforcing cfg.
func New(inner env.Env, cfg Config) (*Guard, error) {
	if inner == nil {
		panic("guard: nil inner env")
	}
	spec := inner.Spec()
	port, ok := env.FindPortfolio(inner)
	if !ok {
		return nil, fmt.Errorf("guard: inner env has no Portfolio in its wrapper stack")
	}
	n := len(spec.Assets) + 1
	if spec.Action.Kind != env.Simplex || spec.Action.Len() != n {
		return nil, fmt.Errorf("guard: inner env must take weights on a simplex of %d (cash + %d assets); got kind %d, length %d (configure the env with action = \"weights\")",
			n, n-1, spec.Action.Kind, spec.Action.Len())
	}
	proj, err := NewProjector(cfg, spec.Assets)
	if err != nil {
		return nil, err
	}
	if lc, ok := port.(liquidityCapper); ok {
		c := lc.LiquidityCap()
		if !(c >= 0 && c <= 1) {
			return nil, fmt.Errorf("guard: the inner env's liquidity cap %v is outside [0, 1]", c)
		}
		proj.tightenParticipation(c)
	}
	return &Guard{inner: inner, port: port, proj: proj, act: make([]float64, n)}, nil
}

// Spec returns the inner env's spec.
func (g *Guard) Spec() env.Spec { return g.inner.Spec() }

// Reset resets the inner env and starts a new episode of the guard
// (breaker disarmed; totals kept).
func (g *Guard) Reset(dst []float64, seed uint64) (env.Info, error) {
	info, err := g.inner.Reset(dst, seed)
	if err != nil {
		return info, err
	}
	g.proj.Reset()
	g.last = Report{}
	g.started = true
	info.Guard = env.GuardInfo{}
	return info, nil
}

// Step projects action onto the feasible set at the current bar, steps the
// inner env with the result and fills dst.Info.Guard. A step on which the
// inner env filled only part of the projected allocation
// (dst.Info.LiquidityLimited > 0) is counted in Totals.LiquidityLimited.
// It panics before the first Reset. With NonFinite = "error", a NaN or Inf
// action returns an error wrapping env.ErrInvalidAction and the inner env
// is not stepped.
// When the inner Step fails, the guard's breaker and totals are left as
// they were, so a retried step counts once.
func (g *Guard) Step(dst *env.StepResult, action []float64) error {
	if !g.started {
		panic("guard: Step before Reset")
	}
	st := State{
		Weights: g.port.Weights(),
		Value:   g.port.Value(),
		Peak:    g.port.Peak(),
		Market:  g.port.Market(),
		Bar:     g.port.Bar(),
	}
	brk, tot := g.proj.brk, g.proj.totals
	rep, err := g.proj.Project(g.act, action, st)
	if err != nil {
		return err
	}
	if err := g.inner.Step(dst, g.act); err != nil {
		// The inner env did not step: neither does the guard.
		g.proj.brk, g.proj.totals = brk, tot
		return err
	}
	if dst.Info.LiquidityLimited > 0 {
		g.proj.totals.LiquidityLimited++
	}
	g.last = rep
	dst.Info.Guard = rep.Info()
	return nil
}

// Close closes the inner env once; later calls return nil.
func (g *Guard) Close() error {
	if g.closed {
		return nil
	}
	g.closed = true
	return g.inner.Close()
}

// Unwrap returns the inner env.
func (g *Guard) Unwrap() env.Env { return g.inner }

// Totals returns the running intervention totals (across episodes).
func (g *Guard) Totals() Totals { return g.proj.Totals() }

// ResetTotals zeroes the running totals.
func (g *Guard) ResetTotals() { g.proj.ResetTotals() }

// LastReport returns the report of the last Step (zero after Reset).
func (g *Guard) LastReport() Report { return g.last }

// Projected returns the allocation sent to the inner env by the last Step
// (read-only view, valid until the next Step).
func (g *Guard) Projected() []float64 { return g.act }
