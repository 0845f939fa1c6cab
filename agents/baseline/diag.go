package baseline

import (
	"maps"
	"slices"
	"time"
)

// Fallback records one decision at which a method could not produce its
// own allocation and used a substitute.
type Fallback struct {
	Bar  int       // panel index of the decision bar
	Time time.Time // open time of the decision bar (UTC)
	// Kind is a stable key without numbers, for counting: the fallback
	// chain taken, e.g. "max-sharpe → min-variance" or
	// "insufficient history → equal-weight".
	Kind string
	// Detail is the full description, with the numbers that triggered it.
	Detail string
}

// Diagnostics summarises what a baseline did since it was built: Reset
// starts a new episode but keeps the diagnostics, so a walk-forward can
// read them once at the end (build a fresh policy to start counting anew).
type Diagnostics struct {
	Method     string // the method name (see Methods)
	Decisions  int    // decisions taken (an Act call repeated at the same bar counts once)
	Rebalances int    // decisions that returned a newly computed target
	Holds      int    // decisions that returned the current drifted weights
	// Fallbacks lists every fallback in order.
	Fallbacks []Fallback
	// Counts is the number of fallbacks per Kind.
	Counts map[string]int
}

// FallbackReporter is implemented by policies that record their
// fallbacks; every baseline does. Reports list Diagnostics().Fallbacks.
type FallbackReporter interface {
	Diagnostics() Diagnostics
}

// recorder accumulates Diagnostics.
type recorder struct {
	d Diagnostics
}

func (r *recorder) fallback(bar int, at time.Time, kind, detail string) {
	r.d.Fallbacks = append(r.d.Fallbacks, Fallback{Bar: bar, Time: at, Kind: kind, Detail: detail})
	if r.d.Counts == nil {
		r.d.Counts = make(map[string]int)
	}
	r.d.Counts[kind]++
}

// snapshot returns a deep copy.
func (r *recorder) snapshot() Diagnostics {
	d := r.d
	d.Fallbacks = slices.Clone(r.d.Fallbacks)
	d.Counts = maps.Clone(r.d.Counts)
	return d
}
