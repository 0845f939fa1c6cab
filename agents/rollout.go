package agents

import "fmt"

// Rollout is storage for Steps consecutive vectorised steps of Envs envs.
// Every per-transition array is step-major: transition (t, e) is row
// t·Envs + e, so a step's batch is contiguous and can be handed to
// Learner.Act and a vector env without copying.
//
// Transition (t, e) consists of the observation ObsAt(t) row e, the action
// chosen on it, the reward and end flags of the env step that followed,
// and — when that step ended the episode — the episode's last observation
// in FinalObs (the env's autoreset has already replaced it by the next
// episode's first observation in the following step's Obs; SB3's
// terminal_observation). NextObsOf gives the successor of any transition.
//
// Terminated means the MDP ended (no bootstrap); Truncated means the
// episode was cut (time limit, end of data): learners bootstrap from
// V(FinalObs) or Q(FinalObs, ·) there (STYLE.md 2.2). A step can be both
// only if the env reports both; Terminated wins.
//
// All buffers are allocated by NewRollout and reused across updates.
type Rollout struct {
	Envs, Steps int
	ObsDim      int // observation length D
	ActDim      int // raw action length A
	WeightDim   int // portfolio weights N+1

	Obs        []float64 // Steps×Envs×D
	Raw        []float64 // Steps×Envs×A
	Weights    []float64 // Steps×Envs×(N+1)
	LogProb    []float64 // Steps×Envs
	Value      []float64 // Steps×Envs
	Reward     []float64 // Steps×Envs
	Terminated []bool    // Steps×Envs
	Truncated  []bool    // Steps×Envs
	FinalObs   []float64 // Steps×Envs×D; row (t,e) valid where the step ended the episode
	NextObs    []float64 // Envs×D: the observations after the last step

	// Progress is the fraction of the training budget (env steps) used
	// before this rollout was collected, in [0, 1]. The training loop sets
	// it; learners derive schedules from it (PPO's learning-rate
	// annealing: lr = (1 − Progress)·lr₀, CleanRL's frac).
	Progress float64
}

// NewRollout allocates a rollout.
func NewRollout(envs, steps, obsDim, actDim, weightDim int) *Rollout {
	if envs <= 0 || steps <= 0 || obsDim <= 0 || actDim <= 0 || weightDim <= 0 {
		panic("agents: NewRollout: non-positive dimension")
	}
	n := envs * steps
	return &Rollout{
		Envs: envs, Steps: steps, ObsDim: obsDim, ActDim: actDim, WeightDim: weightDim,
		Obs:        make([]float64, n*obsDim),
		Raw:        make([]float64, n*actDim),
		Weights:    make([]float64, n*weightDim),
		LogProb:    make([]float64, n),
		Value:      make([]float64, n),
		Reward:     make([]float64, n),
		Terminated: make([]bool, n),
		Truncated:  make([]bool, n),
		FinalObs:   make([]float64, n*obsDim),
		NextObs:    make([]float64, envs*obsDim),
	}
}

// Len returns the number of transitions, Steps·Envs.
func (r *Rollout) Len() int { return r.Steps * r.Envs }

// ObsAt returns the Envs×D observations of step t.
func (r *Rollout) ObsAt(t int) []float64 {
	n := r.Envs * r.ObsDim
	return r.Obs[t*n : (t+1)*n : (t+1)*n]
}

// ActionsAt returns views of step t's action slots for Learner.Act.
func (r *Rollout) ActionsAt(t int) Actions {
	e := r.Envs
	return Actions{
		Weights: r.Weights[t*e*r.WeightDim : (t+1)*e*r.WeightDim],
		Raw:     r.Raw[t*e*r.ActDim : (t+1)*e*r.ActDim],
		LogProb: r.LogProb[t*e : (t+1)*e],
		Value:   r.Value[t*e : (t+1)*e],
	}
}

// Record stores the outcome of step t: per-env rewards and end flags, and
// for envs whose episode ended, its last observation from finals (Envs×D
// rows; other rows are ignored, finals may be nil if no episode ended).
func (r *Rollout) Record(t int, rewards []float64, terminated, truncated []bool, finals []float64) {
	e := r.Envs
	if len(rewards) != e || len(terminated) != e || len(truncated) != e {
		panic("agents: Rollout.Record: length mismatch")
	}
	copy(r.Reward[t*e:(t+1)*e], rewards)
	copy(r.Terminated[t*e:(t+1)*e], terminated)
	copy(r.Truncated[t*e:(t+1)*e], truncated)
	d := r.ObsDim
	for i := 0; i < e; i++ {
		if terminated[i] || truncated[i] {
			if len(finals) != e*d {
				panic("agents: Rollout.Record: episode ended without final observations")
			}
			copy(r.FinalObs[(t*e+i)*d:(t*e+i+1)*d], finals[i*d:(i+1)*d])
		}
	}
}

// Done reports whether transition k = t·Envs+e ended its episode.
func (r *Rollout) Done(k int) bool { return r.Terminated[k] || r.Truncated[k] }

// NextObsOf returns the successor observation of transition k = t·Envs+e:
// the episode's final observation if the step ended it, else the next
// step's observation (NextObs after the last step).
func (r *Rollout) NextObsOf(k int) []float64 {
	d := r.ObsDim
	switch {
	case r.Done(k):
		return r.FinalObs[k*d : (k+1)*d]
	case k+r.Envs < r.Len():
		return r.Obs[(k+r.Envs)*d : (k+r.Envs+1)*d]
	default:
		e := k - (r.Steps-1)*r.Envs
		return r.NextObs[e*d : (e+1)*d]
	}
}

// Validate checks the rollout's shape and that its end flags and progress
// are consistent.
func (r *Rollout) Validate() error {
	n := r.Len()
	if len(r.Obs) != n*r.ObsDim || len(r.Raw) != n*r.ActDim || len(r.Weights) != n*r.WeightDim ||
		len(r.LogProb) != n || len(r.Value) != n || len(r.Reward) != n || len(r.Terminated) != n ||
		len(r.Truncated) != n || len(r.FinalObs) != n*r.ObsDim || len(r.NextObs) != r.Envs*r.ObsDim {
		return fmt.Errorf("agents: rollout buffers do not match %d steps × %d envs", r.Steps, r.Envs)
	}
	if !(r.Progress >= 0 && r.Progress <= 1) {
		return fmt.Errorf("agents: rollout progress %v outside [0, 1]", r.Progress)
	}
	return nil
}
