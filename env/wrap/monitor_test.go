package wrap

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
)

func TestTimeLimit(t *testing.T) {
	act := []float64{1, 0, 0}
	cases := []struct {
		name                      string
		length, termAt, limit     int
		steps                     int // steps until the episode ends
		terminated, truncated, by bool
	}{
		{name: "limit truncates", length: 10, limit: 4, steps: 4, truncated: true, by: true},
		{name: "env truncates first", length: 3, limit: 4, steps: 3, truncated: true},
		{name: "both on the same step", length: 4, limit: 4, steps: 4, truncated: true},
		{name: "termination wins", length: 10, termAt: 4, limit: 4, steps: 4, terminated: true},
		{name: "limit one", length: 10, limit: 1, steps: 1, truncated: true, by: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := newScriptEnv(c.length)
			in.termAt = c.termAt
			l, err := NewTimeLimit(in, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			res := env.NewStepResult(l.Spec())
			for ep := range 2 {
				l.Reset(make([]float64, l.Spec().Observation.Len()), uint64(ep))
				for k := 1; ; k++ {
					if err := l.Step(res, act); err != nil {
						t.Fatal(err)
					}
					if l.Elapsed() != k {
						t.Fatalf("elapsed %d, want %d", l.Elapsed(), k)
					}
					if res.Terminated || res.Truncated {
						if k != c.steps || res.Terminated != c.terminated || res.Truncated != c.truncated || l.TruncatedByLimit() != c.by {
							t.Fatalf("ended at step %d (terminated %v truncated %v by limit %v), want %d %v %v %v",
								k, res.Terminated, res.Truncated, l.TruncatedByLimit(), c.steps, c.terminated, c.truncated, c.by)
						}
						break
					}
					if k >= c.steps {
						t.Fatalf("episode did not end at step %d", k)
					}
				}
				func() {
					defer func() {
						if recover() == nil {
							t.Error("Step after the end did not panic")
						}
					}()
					l.Step(res, act)
				}()
			}
		})
	}
	l, _ := NewTimeLimit(newScriptEnv(5), 3)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Step before Reset did not panic")
			}
		}()
		l.Step(env.NewStepResult(l.Spec()), act)
	}()
	if _, err := NewTimeLimit(newScriptEnv(5), 0); err == nil {
		t.Error("limit 0 accepted")
	}
	if l.MaxSteps() != 3 || l.Unwrap() == nil {
		t.Error("accessors")
	}
}

func TestMonitorMatchesDirectComputation(t *testing.T) {
	// Expected statistics are recomputed from the infos and rewards the
	// script env recorded, summed in the same order, so they agree exactly.
	in := newScriptEnv(6)
	in.record = true
	m, err := NewMonitor(in, 3)
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float64, m.Spec().Observation.Len())
	res := env.NewStepResult(m.Spec())
	act := []float64{0.5, 0.5, 0}
	var want []Episode
	for ep := range 5 {
		info, _ := m.Reset(obs, uint64(10+ep))
		first := len(in.infos)
		if ep == 2 { // abandoned after two steps: counted, not recorded
			m.Step(res, act)
			m.Step(res, act)
			if c := m.Current(); c.Len != 2 {
				t.Fatalf("current episode length %d", c.Len)
			}
			continue
		}
		for !res.Terminated && !res.Truncated || len(in.infos) == first {
			if err := m.Step(res, act); err != nil {
				t.Fatal(err)
			}
		}
		res.Truncated = false
		e := Episode{StartValue: info.Value, StartBar: info.Bar, Start: info.Time, Truncated: true}
		peak := info.Value
		for j := first; j < len(in.infos); j++ {
			inf := in.infos[j]
			e.Return += in.rew[j]
			e.Len++
			e.FinalValue, e.EndBar, e.End = inf.Value, inf.Bar, inf.Time
			peak = math.Max(peak, inf.Value)
			e.MaxDrawdown = math.Max(e.MaxDrawdown, 1-inf.Value/peak)
			e.Fees += inf.Fees
			e.Slippage += inf.Slippage
			e.Turnover += inf.Turnover
			e.Interventions += inf.Guard.Interventions
			if inf.Guard.BreakerActive {
				e.BreakerSteps++
			}
		}
		want = append(want, e)
		last, ok := m.Last()
		if !ok || last != e {
			t.Fatalf("episode %d: monitor %+v, direct %+v", ep, last, e)
		}
	}
	if m.Completed() != 4 || m.Aborted() != 1 {
		t.Errorf("completed %d aborted %d, want 4 and 1", m.Completed(), m.Aborted())
	}
	got := m.Episodes(nil)
	if len(got) != 3 {
		t.Fatalf("%d episodes retained, want the capacity 3", len(got))
	}
	for j := range got {
		if got[j] != want[len(want)-3+j] {
			t.Errorf("retained episode %d is %+v, want %+v (oldest first)", j, got[j], want[len(want)-3+j])
		}
	}
	if want[0].MaxDrawdown <= 0 || want[0].Fees <= 0 {
		t.Errorf("degenerate episode: %+v", want[0])
	}
	if _, err := NewMonitor(in, 0); err == nil {
		t.Error("capacity 0 accepted")
	}
}

func TestWrappersDoNotAllocate(t *testing.T) {
	build := map[string]func(env.Env) env.Env{
		"obs_norm": func(e env.Env) env.Env { w, _ := NewObsNorm(e, ObsNormDefaults()); return w },
		"reward_scale": func(e env.Env) env.Env {
			w, _ := NewRewardScale(e, RewardScaleDefaults())
			return w
		},
		"time_limit": func(e env.Env) env.Env { w, _ := NewTimeLimit(e, 5); return w },
		"monitor":    func(e env.Env) env.Env { w, _ := NewMonitor(e, 4); return w },
	}
	for name, f := range build {
		e := f(newScriptEnv(7))
		obs := make([]float64, e.Spec().Observation.Len())
		res := env.NewStepResult(e.Spec())
		act := []float64{1, 0, 0}
		e.Reset(obs, 1)
		k := uint64(1)
		allocs := testing.AllocsPerRun(100, func() {
			if err := e.Step(res, act); err != nil {
				t.Fatal(err)
			}
			if res.Terminated || res.Truncated {
				k++
				e.Reset(obs, k)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Step", name, allocs)
		}
		if w, ok := e.(env.Wrapper); !ok || w.Unwrap() == nil {
			t.Errorf("%s does not implement env.Wrapper", name)
		}
	}
}
