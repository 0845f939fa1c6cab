package guard

import (
	"fmt"

	"github.com/folio-rl/folio/env"
)

// Guard is the risk-guard wrapper: it projects every action onto the
// feasible set of its Config (see Projector.Project) before passing it to
// the inner env, and reports what it did in StepResult.Info.Guard.
//
// Steps on which the env fills only part of the allocation the guard sent
// (env.Info.LiquidityLimited > 0: its liquidity cap or a bar without
// volume clipped a trade) are counted in Totals.LiquidityLimited.
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
