package env

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync/atomic"

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
// A Vec is used by one goroutine; with workers > 1 it steps disjoint
// contiguous blocks of envs on that many goroutines (the caller's goroutine
// takes the first block), which requires the envs to be independent values.
// Results are bit-identical to the sequential path. Close stops the workers
// and closes the envs.
type Vec struct {
	envs    []Env
	b, d, a int
	n1      int

	pcgs []rand.PCG
	rngs []*rand.Rand
	res  []StepResult // per-env results; Obs rows alias out.Obs
	out  VecStep
	errs []error

	actions []float64
	blocks  [][2]int
	pool    *pool // nil when sequential

	started, closed bool
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
	workers = min(max(workers, 1), B)
	for k := 0; k < workers; k++ {
		v.blocks = append(v.blocks, [2]int{k * B / workers, (k + 1) * B / workers})
	}
	if workers > 1 {
		v.pool = newPool(v.blocks[1:], v.stepRange)
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
		v.pool.run(func() { v.stepRange(v.blocks[0][0], v.blocks[0][1]) })
	} else {
		v.stepRange(0, v.b)
	}
	v.actions = nil
	for b, err := range v.errs {
		if err != nil {
			clear(v.errs)
			return nil, fmt.Errorf("env: vec: env %d: %w", b, err)
		}
	}
	return &v.out, nil
}

func (v *Vec) stepRange(lo, hi int) {
	D, A := v.d, v.a
	for b := lo; b < hi; b++ {
		r := &v.res[b]
		if err := v.envs[b].Step(r, v.actions[b*A:(b+1)*A:(b+1)*A]); err != nil {
			v.errs[b] = err
			continue
		}
		v.out.Rewards[b] = r.Reward
		v.out.Terminated[b] = r.Terminated
		v.out.Truncated[b] = r.Truncated
		v.out.Infos[b] = r.Info
		if r.Terminated || r.Truncated {
			copy(v.out.FinalObs[b*D:(b+1)*D], r.Obs)
			info, err := v.envs[b].Reset(r.Obs, v.rngs[b].Uint64())
			if err != nil {
				v.errs[b] = err
				continue
			}
			copyInfo(&v.out.ResetInfos[b], &info)
		}
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

// pool runs a fixed function over fixed blocks of envs on worker goroutines
// in fork-join steps. Waiting goroutines first spin (workerSpin or
// callerSpin polls, some µs), which saves the scheduler's wake-up latency
// when steps follow each other closely, then park on a channel, so that an
// oversubscribed machine is not burnt by spinning. Spinning goroutines
// yield (runtime.Gosched) every spinYield polls: the runtime queues a
// goroutine woken by a channel send on the sender's P, and without yields
// the waker's spin would keep it from running there, serialising the
// step. Happens-before: the caller writes the step's inputs before bumping
// epoch, workers write outputs before incrementing done, and the caller
// reads them after seeing done complete.
type pool struct {
	epoch      atomic.Uint64 // incremented once per step
	done       atomic.Int64  // workers finished with the current step
	quit       atomic.Bool
	callerWait atomic.Uint64 // epoch of the step the caller is parked on, 0 if none
	finished   chan struct{} // buffered: a wake-up is never lost
	workers    []*worker
	fn         func(lo, hi int)
}

type worker struct {
	wake   chan struct{} // buffered: a wake-up is never lost
	parked atomic.Bool
	lo, hi int
}

// Spin budgets in polls (a poll is an atomic load; a yield every spinYield
// polls costs ~0.2 µs): a worker waits ~10 µs for the next step before
// parking, the caller ~50 µs for the workers (their blocks take about as
// long as its own).
const (
	workerSpin = 4000
	callerSpin = 20000
	spinYield  = 64
)

func newPool(blocks [][2]int, fn func(lo, hi int)) *pool {
	p := &pool{fn: fn, finished: make(chan struct{}, 1)}
	for _, b := range blocks {
		p.workers = append(p.workers, &worker{wake: make(chan struct{}, 1), lo: b[0], hi: b[1]})
	}
	for _, w := range p.workers {
		go p.loop(w)
	}
	return p
}

func (p *pool) loop(w *worker) {
	var seen uint64
	n := int64(len(p.workers))
	for {
		seen = p.await(w, seen)
		if p.quit.Load() {
			return
		}
		p.fn(w.lo, w.hi)
		// The wake-up is tied to this step's epoch: a worker delayed between
		// the increment and the compare-and-swap must not wake the caller
		// parked on a later step.
		if p.done.Add(1) == n && p.callerWait.CompareAndSwap(seen, 0) {
			p.finished <- struct{}{}
		}
	}
}

// await returns the next epoch after seen, spinning, then parking. The
// parked flag is set before the last check of epoch and cleared by whoever
// wins the compare-and-swap, so a wake-up is sent exactly when needed.
func (p *pool) await(w *worker, seen uint64) uint64 {
	for i := 1; i <= workerSpin; i++ {
		if e := p.epoch.Load(); e != seen {
			return e
		}
		if i%spinYield == 0 {
			runtime.Gosched()
		}
	}
	for {
		w.parked.Store(true)
		if e := p.epoch.Load(); e != seen {
			if !w.parked.CompareAndSwap(true, false) {
				<-w.wake // run claimed the flag and sends a wake-up
			}
			return e
		}
		<-w.wake
		if e := p.epoch.Load(); e != seen {
			return e
		}
	}
}

// run starts a step on the workers, runs own on the caller's goroutine and
// waits for the workers.
func (p *pool) run(own func()) {
	n := int64(len(p.workers))
	p.done.Store(0)
	e := p.epoch.Add(1)
	p.wakeAll()
	own()
	for i := 1; i <= callerSpin; i++ {
		if p.done.Load() == n {
			return
		}
		if i%spinYield == 0 {
			runtime.Gosched()
		}
	}
	p.callerWait.Store(e)
	if p.done.Load() == n {
		if !p.callerWait.CompareAndSwap(e, 0) {
			<-p.finished // the last worker claimed the flag and sends
		}
		return
	}
	<-p.finished
}

func (p *pool) wakeAll() {
	for _, w := range p.workers {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

func (p *pool) stop() {
	p.quit.Store(true)
	p.epoch.Add(1)
	p.wakeAll()
}
