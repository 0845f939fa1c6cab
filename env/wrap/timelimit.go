package wrap

import (
	"fmt"

	"github.com/folio-rl/folio/env"
)

// TimeLimit truncates every episode after MaxSteps steps: the Step that
// makes the MaxSteps-th move sets Truncated (unless the inner env
// terminated on that step: termination wins, a terminal state is not
// bootstrapped).
//
// Exactly one component should decide an episode's length: configure the
// market env to run to the end of its segment (episode_len = 0) and let
// TimeLimit set the length. The inner env's own truncation is passed through
// unchanged — it cannot be suppressed, since the data (segment end) or a
// regime exit really end the episode — so an episode started fewer than
// MaxSteps bars before the segment end is still truncated by the env; with
// episode_len = 0 and random starts that is the usual case for starts near
// the end. TruncatedByLimit tells which of the two ended the last step.
//
// Step before Reset and Step after the episode ended (until the next Reset)
// panic, as for the market env.
type TimeLimit struct {
	env.Env
	max     int
	elapsed int
	started bool
	done    bool
	byLimit bool
}

// NewTimeLimit wraps inner with a limit of maxSteps ≥ 1 steps per episode.
func NewTimeLimit(inner env.Env, maxSteps int) (*TimeLimit, error) {
	if inner == nil {
		panic("wrap: nil inner env")
	}
	if maxSteps < 1 {
		return nil, fmt.Errorf("wrap: time_limit = %d must be ≥ 1", maxSteps)
	}
	return &TimeLimit{Env: inner, max: maxSteps}, nil
}

// Reset resets the inner env and the step count.
func (l *TimeLimit) Reset(dst []float64, seed uint64) (env.Info, error) {
	info, err := l.Env.Reset(dst, seed)
	if err != nil {
		return info, err
	}
	l.elapsed, l.started, l.done, l.byLimit = 0, true, false, false
	return info, nil
}

// Step steps the inner env and truncates at the limit.
func (l *TimeLimit) Step(dst *env.StepResult, action []float64) error {
	if !l.started {
		panic("wrap: time limit: Step before Reset")
	}
	if l.done {
		panic("wrap: time limit: Step after the episode ended; call Reset")
	}
	if err := l.Env.Step(dst, action); err != nil {
		return err
	}
	l.elapsed++
	l.byLimit = false
	if l.elapsed >= l.max && !dst.Terminated && !dst.Truncated {
		dst.Truncated, l.byLimit = true, true
	}
	l.done = dst.Terminated || dst.Truncated
	return nil
}

// MaxSteps returns the limit.
func (l *TimeLimit) MaxSteps() int { return l.max }

// Elapsed returns the steps taken in the current episode.
func (l *TimeLimit) Elapsed() int { return l.elapsed }

// TruncatedByLimit reports whether the last Step was truncated by this
// limit (false when the inner env truncated or terminated it itself).
func (l *TimeLimit) TruncatedByLimit() bool { return l.byLimit }

// Unwrap returns the inner env.
func (l *TimeLimit) Unwrap() env.Env { return l.Env }
