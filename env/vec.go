package env

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"

	"github.com/folio-rl/folio/internal/seed"
)

// Vec steps B envs as one batch with same-step autoreset: when an episode
// ends, the env is reset at once, Obs holds the new episode's first
// observation and FinalObs the last observation of the finished one (for
// bootstrapping a truncated episode).
//
// Randomness: Reset(root) gives env b its own stream
// seed.New(root, seed.Env, b); every reset of env b (the first and each
// autoreset) draws that env's Reset seed from it. Trajectories therefore
// depend only on the root seed and the actions, not on the number of
// workers or on the timing of other envs.
//
// Buffers: all slices returned by Reset and Step (VecStep fields, Info
// slices) are owned by the Vec and overwritten by the next call; copy what
// must outlive it. Batched arrays are row-major: row b of Obs is
// Obs[b·D : (b+1)·D] with D = Spec().Observation.Len(), and actions are
// passed the same way (B×A, A = Spec().Action.Len()).
//
// A Vec is used by one goroutine; with workers > 1 it steps the envs on
// that many goroutines (the caller's among them), each owning a contiguous
// block of envs and helping with the others' when it is done (see pool),
// which requires the envs to be independent values. Results are
// bit-identical to the sequential path. Close stops the workers and closes
// the envs.
//
// When every env is a *Market (no wrappers), Vec steps them directly into
// its batched buffers (no intermediate StepResult, no interface call).
type Vec struct {
	envs    []Env
	mkts    []*Market // the envs, when all are *Market; nil otherwise
	b, d, a int
	n1      int

	pcgs []rand.PCG
	rngs []*rand.Rand
	res  []StepResult // per-env results of the generic path; Obs rows alias out.Obs
	out  VecStep
	errs []error
	// Per-env reward and flags, gathered into out after a parallel step:
	// written straight into out's Rewards and flag slices, which pack 8
	// and 64 envs to a cache line, the workers' writes would contend for
	// the same lines on every env step (false sharing).
	scalars []envScalars

	actions []float64
	pool    *pool // nil when sequential

	started, closed bool
}

// envScalars is one env's reward and flags of a step.
type envScalars struct {
	reward      float64
	term, trunc bool
}

// VecStep holds the batched outputs of Vec.Step (B = number of envs,
// D = observation length). It is owned by the Vec.
type VecStep struct {
	Obs        []float64 // B×D: observation after the step (the reset observation where an episode ended)
	Rewards    []float64 // B
	Terminated []bool    // B: the episode ended in a terminal state (do not bootstrap)
	Truncated  []bool    // B: the episode was cut (bootstrap from FinalObs)
	FinalObs   []float64 // B×D: row b is the last observation of the episode that ended in env b this step; valid only where Done(b)
	Infos      []Info    // B: the step's info (for an env whose episode ended, the final step's)
	ResetInfos []Info    // B: info of the new episode's first observation; valid only where Done(b)
}

// Done reports whether env b's episode ended at this step.
func (s *VecStep) Done(b int) bool { return s.Terminated[b] || s.Truncated[b] }

// NewVec batches envs, which must share observation and action lengths and
// asset count and must be distinct values. workers ≤ 1 steps them
// sequentially on the caller's goroutine; more workers are capped at the
// number of envs.
func NewVec(envs []Env, workers int) (*Vec, error) {
	if len(envs) == 0 {
		return nil, errors.New("env: vec needs at least one env")
	}
	spec := envs[0].Spec()
	v := &Vec{envs: append([]Env(nil), envs...), b: len(envs), d: spec.Observation.Len(), a: spec.Action.Len(), n1: len(spec.Assets) + 1}
	seen := make(map[Env]bool, len(envs))
	for i, e := range envs {
		if e == nil {
			panic("env: vec: nil env")
		}
		if reflect.TypeOf(e).Comparable() {
			if seen[e] {
				return nil, fmt.Errorf("env: vec: env %d is the same value as an earlier one", i)
			}
			seen[e] = true
		}
		s := e.Spec()
		if s.Observation.Len() != v.d || s.Action.Len() != v.a || len(s.Assets)+1 != v.n1 {
			return nil, fmt.Errorf("env: vec: env %d has observation %d, action %d, assets %d; env 0 has %d, %d, %d",
				i, s.Observation.Len(), s.Action.Len(), len(s.Assets), v.d, v.a, v.n1-1)
		}
	}
	B, D, n1 := v.b, v.d, v.n1
	v.pcgs = make([]rand.PCG, B)
	v.rngs = make([]*rand.Rand, B)
	for i := range v.rngs {
		v.rngs[i] = rand.New(&v.pcgs[i])
	}
	v.out = VecStep{
		Obs:        make([]float64, B*D),
		Rewards:    make([]float64, B),
		Terminated: make([]bool, B),
		Truncated:  make([]bool, B),
		FinalObs:   make([]float64, B*D),
		Infos:      make([]Info, B),
		ResetInfos: make([]Info, B),
	}
	info := make([]float64, 2*3*B*n1)
	row := func(k int) []float64 { return info[k*n1 : (k+1)*n1 : (k+1)*n1] }
	v.res = make([]StepResult, B)
	for i := range v.res {
		v.res[i] = StepResult{Obs: v.out.Obs[i*D : (i+1)*D : (i+1)*D], Info: Info{
			Requested: row(6 * i), Executed: row(6*i + 1), Weights: row(6*i + 2)}}
		v.out.Infos[i] = v.res[i].Info
		v.out.ResetInfos[i] = Info{Requested: row(6*i + 3), Executed: row(6*i + 4), Weights: row(6*i + 5)}
	}
	v.errs = make([]error, B)
	v.scalars = make([]envScalars, B)
	v.mkts = make([]*Market, B)
	for i, e := range envs {
		m, ok := e.(*Market)
		if !ok {
			v.mkts = nil
			break
		}
		v.mkts[i] = m
	}
	workers = min(max(workers, 1), B)
	if workers > 1 {
		bounds := make([][2]int, workers)
		for k := range bounds {
			bounds[k] = [2]int{k * B / workers, (k + 1) * B / workers}
		}
		v.pool = newPool(bounds, v.stepOne)
	}
	return v, nil
}

// Len returns the number of envs B.
func (v *Vec) Len() int { return v.b }

// Spec returns the spec of env 0 (all envs share its shapes).
func (v *Vec) Spec() Spec { return v.envs[0].Spec() }

// Env returns env b (for inspection, e.g. FindPortfolio).
func (v *Vec) Env(b int) Env { return v.envs[b] }

// Reset derives the per-env streams from root, resets every env and returns
// the B×D first observations and their infos (owned by the Vec).
func (v *Vec) Reset(root uint64) ([]float64, []Info, error) {
	if v.closed {
		panic("env: use of a closed vec")
	}
	for b := range v.envs {
		v.pcgs[b].Seed(root, seed.Stream(seed.Env, uint64(b)))
		info, err := v.envs[b].Reset(v.res[b].Obs, v.rngs[b].Uint64())
		if err != nil {
			return nil, nil, fmt.Errorf("env: vec: reset env %d: %w", b, err)
		}
		copyInfo(&v.out.ResetInfos[b], &info)
	}
	v.started = true
	return v.out.Obs, v.out.ResetInfos, nil
}

// Step applies actions (B×A, row-major) and returns the batched results,
// owned by the Vec and valid until the next call. On error (the first
// failing env's, wrapped with its index) the envs that did step have
// advanced: reset the Vec before using it again. Step before Reset panics.
func (v *Vec) Step(actions []float64) (*VecStep, error) {
	if !v.started {
		panic("env: Vec.Step before Reset")
	}
	if len(actions) != v.b*v.a {
		panic("env: vec actions length mismatch")
	}
	v.actions = actions
	if v.pool != nil {
		v.pool.run()
	} else {
		for b := range v.b {
			v.stepOne(b)
		}
	}
	v.actions = nil
	for b, s := range v.scalars {
		v.out.Rewards[b], v.out.Terminated[b], v.out.Truncated[b] = s.reward, s.term, s.trunc
	}
	for b, err := range v.errs {
		if err != nil {
			clear(v.errs)
			return nil, fmt.Errorf("env: vec: env %d: %w", b, err)
		}
	}
	return &v.out, nil
}

// stepOne steps env b, writing into row b of the batched buffers, and
// resets it when its episode ended.
func (v *Vec) stepOne(b int) {
	D, A := v.d, v.a
	obs := v.out.Obs[b*D : (b+1)*D : (b+1)*D]
	act := v.actions[b*A : (b+1)*A : (b+1)*A]
	var (
		rew         float64
		term, trunc bool
		err         error
	)
	if v.mkts != nil {
		m := v.mkts[b]
		m.checkStep(act, obs, &v.out.Infos[b])
		rew, term, trunc, err = m.step(obs, &v.out.Infos[b], act)
	} else {
		r := &v.res[b]
		err = v.envs[b].Step(r, act)
		rew, term, trunc = r.Reward, r.Terminated, r.Truncated
		v.out.Infos[b] = r.Info
	}
	if err != nil {
		v.errs[b] = err
		return
	}
	v.scalars[b] = envScalars{rew, term, trunc}
	if term || trunc {
		copy(v.out.FinalObs[b*D:(b+1)*D], obs)
		info, err := v.envs[b].Reset(obs, v.rngs[b].Uint64())
		if err != nil {
			v.errs[b] = err
			return
		}
		copyInfo(&v.out.ResetInfos[b], &info)
	}
}

// copyInfo copies src into dst, keeping dst's slices.
func copyInfo(dst, src *Info) {
	req, exe, wts := dst.Requested, dst.Executed, dst.Weights
	*dst = *src
	dst.Requested, dst.Executed, dst.Weights = req, exe, wts
	copy(req, src.Requested)
	copy(exe, src.Executed)
	copy(wts, src.Weights)
}

// Close stops the workers and closes every env, returning the first error.
// It is idempotent.
func (v *Vec) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	if v.pool != nil {
		v.pool.stop()
	}
	var first error
	for b, e := range v.envs {
		if err := e.Close(); err != nil && first == nil {
			first = fmt.Errorf("env: vec: close env %d: %w", b, err)
		}
	}
	return first
}
