package wrap

import (
	"encoding"
	"fmt"
	"math"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/internal/statebin"
)

// Format versions of the wrappers' saved states. ObsNorm and RewardScale
// are at 2: version 1 held their statistics only, without the inner env.
const (
	timeLimitStateVersion   = 1
	monitorStateVersion     = 1
	obsNormStateVersion     = 2
	rewardScaleStateVersion = 2
)

var (
	_ encoding.BinaryMarshaler   = (*TimeLimit)(nil)
	_ encoding.BinaryUnmarshaler = (*TimeLimit)(nil)
	_ encoding.BinaryMarshaler   = (*Monitor)(nil)
	_ encoding.BinaryUnmarshaler = (*Monitor)(nil)
	_ encoding.BinaryMarshaler   = (*ObsNorm)(nil)
	_ encoding.BinaryUnmarshaler = (*ObsNorm)(nil)
	_ encoding.BinaryMarshaler   = (*RewardScale)(nil)
	_ encoding.BinaryUnmarshaler = (*RewardScale)(nil)
)

// innerState returns the saved state of a wrapper's inner env.
func innerState(kind string, inner env.Env) ([]byte, error) {
	m, ok := inner.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("wrap: %s: the inner env (%T) cannot save its state", kind, inner)
	}
	return m.MarshalBinary()
}

// restoreInner restores a wrapper's inner env from its saved state.
func restoreInner(kind string, inner env.Env, data []byte) error {
	u, ok := inner.(encoding.BinaryUnmarshaler)
	if !ok {
		return fmt.Errorf("wrap: %s: the inner env (%T) cannot restore its state", kind, inner)
	}
	return u.UnmarshalBinary(data)
}

// MarshalBinary encodes the step count and flags of the current episode,
// then the inner env's state.
func (l *TimeLimit) MarshalBinary() ([]byte, error) {
	inner, err := innerState("TimeLimit", l.Env)
	if err != nil {
		return nil, err
	}
	e := statebin.NewEncoder(statebin.MagicTimeLimit, timeLimitStateVersion)
	e.Int(l.max)
	e.Int(l.elapsed)
	e.Bool(l.started)
	e.Bool(l.done)
	e.Bool(l.byLimit)
	e.Bytes(inner)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary, the inner
// env's included. On error (wrapping env.ErrState: another layer's state,
// another limit, truncated data; or the inner env's error) the stack is
// unchanged.
func (l *TimeLimit) UnmarshalBinary(data []byte) error {
	d := statebin.NewDecoder(data, statebin.MagicTimeLimit, timeLimitStateVersion, "TimeLimit")
	if m := d.Int(); d.Err() == nil && m != l.max {
		d.Fail("the state is of a limit of %d steps, this one has %d", m, l.max)
	}
	elapsed := d.Int()
	started, done, byLimit := d.Bool(), d.Bool(), d.Bool()
	inner := d.Bytes()
	if d.Err() == nil && (elapsed < 0 || elapsed > l.max) {
		d.Fail("step count %d outside [0, %d]", elapsed, l.max)
	}
	if err := d.Finish(); err != nil {
		return err
	}
	if err := restoreInner("TimeLimit", l.Env, inner); err != nil {
		return err
	}
	l.elapsed, l.started, l.done, l.byLimit = elapsed, started, done, byLimit
	return nil
}

func encodeEpisode(e *statebin.Encoder, ep *Episode) {
	for _, x := range []float64{ep.Return, ep.StartValue, ep.FinalValue, ep.MaxDrawdown, ep.Fees, ep.Slippage, ep.Turnover} {
		e.Float64(x)
	}
	for _, x := range []int{ep.Len, ep.Interventions, ep.BreakerSteps, ep.StartBar, ep.EndBar} {
		e.Int(x)
	}
	e.Bool(ep.Terminated)
	e.Bool(ep.Truncated)
	e.Time(ep.Start)
	e.Time(ep.End)
}

func decodeEpisode(d *statebin.Decoder) Episode {
	var ep Episode
	ep.Return, ep.StartValue, ep.FinalValue, ep.MaxDrawdown = d.Float64(), d.Float64(), d.Float64(), d.Float64()
	ep.Fees, ep.Slippage, ep.Turnover = d.Float64(), d.Float64(), d.Float64()
	ep.Len, ep.Interventions, ep.BreakerSteps, ep.StartBar, ep.EndBar = d.Int(), d.Int(), d.Int(), d.Int(), d.Int()
	ep.Terminated, ep.Truncated = d.Bool(), d.Bool()
	ep.Start, ep.End = d.Time(), d.Time()
	return ep
}

// MarshalBinary encodes the retained episodes, the counters and the
// episode in progress, then the inner env's state. Times are kept to the
// nanosecond and restored in UTC (the env reports UTC times).
func (m *Monitor) MarshalBinary() ([]byte, error) {
	inner, err := innerState("Monitor", m.Env)
	if err != nil {
		return nil, err
	}
	e := statebin.NewEncoder(statebin.MagicMonitor, monitorStateVersion)
	e.Int(len(m.ring))
	for k := range m.ring {
		encodeEpisode(e, &m.ring[k])
	}
	e.Int(m.next)
	e.Int(m.total)
	e.Int(m.aborted)
	encodeEpisode(e, &m.cur)
	e.Float64(m.peak)
	e.Bool(m.active)
	e.Bytes(inner)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary, the inner
// env's included. On error (wrapping env.ErrState: another layer's state,
// another capacity, truncated data; or the inner env's error) the stack is
// unchanged.
func (m *Monitor) UnmarshalBinary(data []byte) error {
	d := statebin.NewDecoder(data, statebin.MagicMonitor, monitorStateVersion, "Monitor")
	if c := d.Int(); d.Err() == nil && c != len(m.ring) {
		d.Fail("the state is of a monitor keeping %d episodes, this one keeps %d", c, len(m.ring))
	}
	ring := make([]Episode, len(m.ring))
	for k := 0; k < len(ring) && d.Err() == nil; k++ {
		ring[k] = decodeEpisode(d)
	}
	next, total, aborted := d.Int(), d.Int(), d.Int()
	cur := decodeEpisode(d)
	peak := d.Float64()
	active := d.Bool()
	inner := d.Bytes()
	if d.Err() == nil && (next < 0 || next >= len(ring) || total < 0 || aborted < 0 || math.IsNaN(peak)) {
		d.Fail("ring position %d, %d episodes, %d aborted, peak %v are not valid", next, total, aborted, peak)
	}
	if err := d.Finish(); err != nil {
		return err
	}
	if err := restoreInner("Monitor", m.Env, inner); err != nil {
		return err
	}
	copy(m.ring, ring)
	m.next, m.total, m.aborted = next, total, aborted
	m.cur, m.peak, m.active = cur, peak, active
	return nil
}

// MarshalBinary encodes the running statistics exactly (the MeanVar
// encoding), then the inner env's state. To carry statistics alone to
// another env (e.g. from training to evaluation), use Stats and SetStats.
func (o *ObsNorm) MarshalBinary() ([]byte, error) {
	inner, err := innerState("ObsNorm", o.Env)
	if err != nil {
		return nil, err
	}
	e := statebin.NewEncoder(statebin.MagicObsNorm, obsNormStateVersion)
	e.Bytes(o.stats.appendBinary(nil))
	e.Bytes(inner)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary, the inner
// env's included. It fails with an error wrapping ErrState (= env.ErrState),
// leaving the stack unchanged, on another layer's state, another format
// version, an observation length other than the wrapper's or truncated
// data, and with the inner env's error if that rejects its part.
func (o *ObsNorm) UnmarshalBinary(data []byte) error {
	d := statebin.NewDecoder(data, statebin.MagicObsNorm, obsNormStateVersion, "ObsNorm")
	st := d.Bytes()
	var s MeanVar
	if d.Err() == nil {
		if err := s.UnmarshalBinary(st); err != nil {
			return err
		}
		if s.Dim() != o.stats.Dim() {
			d.Fail("statistics of observations of %d values, this wrapper has %d", s.Dim(), o.stats.Dim())
		}
	}
	inner := d.Bytes()
	if err := d.Finish(); err != nil {
		return err
	}
	if err := restoreInner("ObsNorm", o.Env, inner); err != nil {
		return err
	}
	*o.stats = s
	return nil
}

// MarshalBinary encodes the running return, the last raw reward and the
// statistics exactly, then the inner env's state. To carry statistics
// alone to another env, use Stats and SetStats.
func (r *RewardScale) MarshalBinary() ([]byte, error) {
	inner, err := innerState("RewardScale", r.Env)
	if err != nil {
		return nil, err
	}
	e := statebin.NewEncoder(statebin.MagicRewardScale, rewardScaleStateVersion)
	e.Float64(r.ret)
	e.Float64(r.raw)
	e.Bytes(r.stats.appendBinary(nil))
	e.Bytes(inner)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary, the inner
// env's included; on error (wrapping ErrState, or the inner env's) the
// stack is unchanged.
func (r *RewardScale) UnmarshalBinary(data []byte) error {
	d := statebin.NewDecoder(data, statebin.MagicRewardScale, rewardScaleStateVersion, "RewardScale")
	ret, raw := d.Float64(), d.Float64()
	st := d.Bytes()
	var s MeanVar
	if d.Err() == nil {
		if err := s.UnmarshalBinary(st); err != nil {
			return err
		}
		if s.Dim() != 1 || math.IsNaN(ret) || math.IsInf(ret, 0) || math.IsNaN(raw) || math.IsInf(raw, 0) {
			d.Fail("statistics of dimension %d (want 1), return %v, reward %v", s.Dim(), ret, raw)
		}
	}
	inner := d.Bytes()
	if err := d.Finish(); err != nil {
		return err
	}
	if err := restoreInner("RewardScale", r.Env, inner); err != nil {
		return err
	}
	r.ret, r.raw = ret, raw
	*r.stats = s
	return nil
}
