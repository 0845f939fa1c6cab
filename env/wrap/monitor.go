package wrap

import (
	"fmt"
	"time"

	"github.com/folio-rl/folio/env"
)

// Episode summarises one finished episode as the Monitor saw it.
type Episode struct {
	Return        float64   // Σ rewards (as they reach the monitor: place it below reward scaling)
	Len           int       // steps
	StartValue    float64   // portfolio value at Reset, quote currency
	FinalValue    float64   // portfolio value after the last step
	MaxDrawdown   float64   // largest 1 − V/peak over the values at Reset and after each step, a fraction
	Fees          float64   // Σ Info.Fees, quote currency
	Slippage      float64   // Σ Info.Slippage, quote currency
	Turnover      float64   // Σ Info.Turnover
	Interventions int       // Σ Info.Guard.Interventions
	BreakerSteps  int       // steps with Info.Guard.BreakerActive
	Terminated    bool      // ended by termination (e.g. the wealth floor)
	Truncated     bool      // ended by truncation (time limit, end of data)
	StartBar      int       // Info.Bar at Reset
	EndBar        int       // Info.Bar after the last step
	Start, End    time.Time // Info.Time at Reset and after the last step
}

// Monitor records per-episode statistics (Episode) of the env it wraps and
// keeps the most recent ones in a ring of fixed capacity, so recording
// allocates nothing per step. An episode is recorded when a Step ends it
// (terminated or truncated); one abandoned by an early Reset is counted in
// Aborted and not recorded.
//
// Place it where it sees what should be reported: above TimeLimit (so that
// the limit's truncation ends episodes) and below RewardScale (so that
// Return is in raw reward units):
// env → guard → TimeLimit → Monitor → RewardScale → ObsNorm.
type Monitor struct {
	env.Env
	ring    []Episode
	next    int // ring slot of the next finished episode
	total   int // episodes finished since construction
	aborted int
	cur     Episode
	peak    float64
	active  bool
}

// NewMonitor wraps inner, keeping the last capacity ≥ 1 episodes.
func NewMonitor(inner env.Env, capacity int) (*Monitor, error) {
	if inner == nil {
		panic("wrap: nil inner env")
	}
	if capacity < 1 {
		return nil, fmt.Errorf("wrap: monitor capacity = %d must be ≥ 1", capacity)
	}
	return &Monitor{Env: inner, ring: make([]Episode, capacity)}, nil
}

// Reset resets the inner env and starts recording a new episode.
func (m *Monitor) Reset(dst []float64, seed uint64) (env.Info, error) {
	info, err := m.Env.Reset(dst, seed)
	if err != nil {
		return info, err
	}
	if m.active {
		m.aborted++
	}
	m.cur = Episode{StartValue: info.Value, FinalValue: info.Value, StartBar: info.Bar, EndBar: info.Bar,
		Start: info.Time, End: info.Time}
	m.peak = info.Value
	m.active = true
	return info, nil
}

// Step steps the inner env and accumulates the episode's statistics.
func (m *Monitor) Step(dst *env.StepResult, action []float64) error {
	if err := m.Env.Step(dst, action); err != nil {
		return err
	}
	if !m.active {
		return nil // the inner env panics or errs in this case; nothing to record
	}
	inf := &dst.Info
	e := &m.cur
	e.Return += dst.Reward
	e.Len++
	e.FinalValue = inf.Value
	if inf.Value > m.peak {
		m.peak = inf.Value
	}
	if m.peak > 0 {
		e.MaxDrawdown = max(e.MaxDrawdown, 1-inf.Value/m.peak)
	}
	e.Fees += inf.Fees
	e.Slippage += inf.Slippage
	e.Turnover += inf.Turnover
	e.Interventions += inf.Guard.Interventions
	if inf.Guard.BreakerActive {
		e.BreakerSteps++
	}
	e.EndBar, e.End = inf.Bar, inf.Time
	if dst.Terminated || dst.Truncated {
		e.Terminated, e.Truncated = dst.Terminated, dst.Truncated
		m.ring[m.next] = *e
		m.next = (m.next + 1) % len(m.ring)
		m.total++
		m.active = false
	}
	return nil
}

// Completed returns the number of episodes finished since construction.
func (m *Monitor) Completed() int { return m.total }

// Aborted returns the number of episodes abandoned by a Reset before they
// ended.
func (m *Monitor) Aborted() int { return m.aborted }

// Last returns the most recently finished episode.
func (m *Monitor) Last() (Episode, bool) {
	if m.total == 0 {
		return Episode{}, false
	}
	return m.ring[(m.next+len(m.ring)-1)%len(m.ring)], true
}

// Episodes appends the retained episodes, oldest first (at most the
// capacity), to dst[:0] and returns it; reuse dst to avoid allocating.
func (m *Monitor) Episodes(dst []Episode) []Episode {
	dst = dst[:0]
	k := min(m.total, len(m.ring))
	for j := range k {
		dst = append(dst, m.ring[(m.next-k+j+len(m.ring))%len(m.ring)])
	}
	return dst
}

// Current returns the statistics of the episode in progress so far.
func (m *Monitor) Current() Episode { return m.cur }

// Unwrap returns the inner env.
func (m *Monitor) Unwrap() env.Env { return m.Env }
