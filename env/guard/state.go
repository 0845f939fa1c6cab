package guard

import (
	"encoding"
	"fmt"
	"math"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/internal/statebin"
)

// guardStateVersion is the format version of Guard states.
// Version 2 added Totals.LiquidityLimited.
const guardStateVersion = 2

var (
	_ encoding.BinaryMarshaler   = (*Guard)(nil)
	_ encoding.BinaryUnmarshaler = (*Guard)(nil)
)

// MarshalBinary encodes the guard's state — the breaker (active, cooldown
// end, re-armed high-water mark), the running Totals, the vol cap's
// covariance forecast and its recursion state, the last Report and
// projected allocation, whether it was reset — followed by the inner env's
// state, so that one call on the outermost env of a stack saves the whole
// stack. It fails if the inner env cannot save its state.
func (g *Guard) MarshalBinary() ([]byte, error) {
	im, ok := g.inner.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("guard: the inner env (%T) cannot save its state", g.inner)
	}
	inner, err := im.MarshalBinary()
	if err != nil {
		return nil, err
	}
	p := g.proj
	dg := statebin.Digest(p.cfg)
	e := statebin.NewEncoder(statebin.MagicGuard, guardStateVersion)
	e.Int(p.n)
	e.Bytes(dg[:])
	e.Bool(g.started)
	e.Float64s(g.act)
	r := g.last
	e.Uint64(uint64(r.Flags))
	e.Int(r.Interventions)
	e.Bool(r.BreakerActive)
	e.Bool(r.BreakerTripped)
	for _, x := range []float64{r.CashFloor, r.Theta, r.Turnover, r.VolForecast} {
		e.Float64(x)
	}
	e.Bool(p.brk.active)
	e.Int(p.brk.until)
	e.Bool(p.brk.rearmed)
	e.Float64(p.brk.hwm)
	t := p.totals
	for _, x := range []int{t.Steps, t.Intervened, t.Interventions, t.Trips, t.BreakerSteps, t.LiquidityLimited} {
		e.Int(x)
	}
	e.Int(NumFlags)
	for _, x := range t.ByFlag {
		e.Int(x)
	}
	e.Bool(p.covOK)
	fp := ""
	if p.covOK {
		fp = p.covPanel.Fingerprint()
	}
	e.String(fp)
	e.Bool(p.covHave)
	e.Int(p.covBar)
	e.Int(p.covAge)
	e.Float64(p.sw)
	e.Float64s(p.raw)
	e.Float64s(p.cov)
	e.Bytes(inner)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary, the inner
// env's included. It fails with an error wrapping env.ErrState, leaving the
// whole stack unchanged, when data is not a Guard state (e.g. the market
// env's own), has another format version, is truncated, was saved from a
// guard with another configuration or number of assets, or when the inner
// env rejects its part.
func (g *Guard) UnmarshalBinary(data []byte) error {
	iu, ok := g.inner.(encoding.BinaryUnmarshaler)
	if !ok {
		return fmt.Errorf("guard: the inner env (%T) cannot restore its state", g.inner)
	}
	p := g.proj
	dg := statebin.Digest(p.cfg)
	d := statebin.NewDecoder(data, statebin.MagicGuard, guardStateVersion, "Guard")
	if n := d.Int(); d.Err() == nil && n != p.n {
		d.Fail("the state is of a guard over %d assets, this one has %d", n-1, p.n-1)
	}
	if c := d.Bytes(); d.Err() == nil && string(c) != string(dg[:]) {
		d.Fail("the state was saved from a guard with another configuration")
	}
	started := d.Bool()
	act := make([]float64, p.n)
	d.Float64sTo(act, "projected allocation")
	var r Report
	r.Flags = uint32(d.Uint64())
	r.Interventions = d.Int()
	r.BreakerActive, r.BreakerTripped = d.Bool(), d.Bool()
	r.CashFloor, r.Theta, r.Turnover, r.VolForecast = d.Float64(), d.Float64(), d.Float64(), d.Float64()
	var brk breaker
	brk.active = d.Bool()
	brk.until = d.Int()
	brk.rearmed = d.Bool()
	brk.hwm = d.Float64()
	var t Totals
	t.Steps, t.Intervened, t.Interventions, t.Trips, t.BreakerSteps, t.LiquidityLimited = d.Int(), d.Int(), d.Int(), d.Int(), d.Int(), d.Int()
	if nf := d.Int(); d.Err() == nil && nf != NumFlags {
		d.Fail("the state counts %d flags, this build %d", nf, NumFlags)
	}
	for i := range t.ByFlag {
		t.ByFlag[i] = d.Int()
	}
	covOK := d.Bool()
	fp := d.String()
	covHave := d.Bool()
	covBar, covAge := d.Int(), d.Int()
	sw := d.Float64()
	raw, cov := make([]float64, len(p.raw)), make([]float64, len(p.cov))
	d.Float64sTo(raw, "covariance sums")
	d.Float64sTo(cov, "covariance forecast")
	inner := d.Bytes()
	if err := d.Finish(); err != nil {
		return err
	}
	pan := g.port.Market()
	switch {
	case covOK && fp != pan.Fingerprint():
		return fmt.Errorf("%w: restoring Guard: its covariance forecast is of a panel with fingerprint %.12s…, the env trades %.12s…", env.ErrState, fp, pan.Fingerprint())
	case covOK && (covBar < 0 || covBar >= pan.T()):
		return fmt.Errorf("%w: restoring Guard: covariance forecast bar %d outside the panel's %d bars", env.ErrState, covBar, pan.T())
	case math.IsNaN(brk.hwm) || math.IsInf(brk.hwm, 0) || math.IsNaN(sw) || math.IsInf(sw, 0):
		return fmt.Errorf("%w: restoring Guard: breaker mark %v or covariance weight %v is not finite", env.ErrState, brk.hwm, sw)
	}
	if err := iu.UnmarshalBinary(inner); err != nil {
		return err
	}
	g.started = started
	copy(g.act, act)
	g.last = r
	p.brk, p.totals = brk, t
	p.covOK, p.covHave, p.covBar, p.covAge, p.sw = covOK, covHave, covBar, covAge, sw
	p.covPanel = nil
	if covOK {
		p.covPanel = pan
	}
	copy(p.raw, raw)
	copy(p.cov, cov)
	return nil
}
