package env

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"time"

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
// A Vec is used by one goroutine; with workers > 1 it can step the envs
// on that many goroutines (the caller's among them), each owning a
// contiguous block of envs, which requires the envs to be independent
// values. A parallel step is not always faster (handing work between
// cores costs microseconds, a parked worker takes tens of µs to wake, a
// busy machine may deschedule a worker), so the Vec times parallel and
// caller-only steps now and then and makes the next ones the faster way
// (see crew.run). Results are bit-identical to the sequential path
// whichever way a step is made. Close stops the workers and closes the
// envs.
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
	crew    *crew // nil when sequential

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
// sequentially on the caller's goroutine; more workers (capped at the
// number of envs) are the most goroutines a step may use.
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
		v.crew = newCrew(B, workers, v.stepOne)
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
	if v.crew != nil {
		v.crew.run()
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
	if v.crew != nil {
		v.crew.stop()
	}
	var first error
	for b, e := range v.envs {
		if err := e.Close(); err != nil && first == nil {
			first = fmt.Errorf("env: vec: close env %d: %w", b, err)
		}
	}
	return first
}

// crew steps items [0, n) (a Vec's envs) once per run on the caller's
// goroutine and len(blocks)−1 worker goroutines, in fork-join runs, or on
// the caller alone when that is faster (see run).
//
// The items are split into contiguous blocks, one per goroutine (block 0
// is the caller's). A goroutine steps its own block, then any block whose
// owner has not claimed it yet; a block is claimed whole, by whoever gets
// to it first. Which goroutine steps an item never changes its result.
//
// The design follows from what moving a cache line between the two cores
// of our virtual machines costs: about 0.6 µs (a ping-pong round trip
// takes 1.2 µs), two bench env steps, and an env whose state (~60 lines:
// observation row, portfolio, info) sits in the other core's cache steps
// up to several times slower. So a run moves as few lines as possible:
//
//   - Blocks are claimed whole and change by at most one item every few
//     runs (see balance): each goroutine steps the same envs run after run
//     and their state stays in its core's cache. (With work stealing in
//     chunks, the envs taken from a late goroutine moved to the other core
//     and back, and a run of 64 bench envs on two goroutines took 12–15 µs
//     against ~10 µs with whole blocks.) A worker that has not claimed its
//     block when the caller is done with its own (not yet woken, or
//     descheduled) costs the run nothing: the caller steps that block too.
//   - The run number (epoch) is the only word the caller writes to start a
//     run. A block's claim word holds the epoch of its last claim, so the
//     caller never resets the workers' lines.
//   - A worker publishes how many items it stepped once per run, when it
//     finds nothing left to claim; the caller sums the counts stamped with
//     the current epoch.
//
// Waiting goroutines spin on an atomic load (see backoffWork), then park
// on a channel. They do not call runtime.Gosched while spinning: that sent
// the caller and the worker through the global run queue, to resume on
// each other's core with every env's state in the wrong cache. Wake-ups
// are hints: every waiter re-checks its condition, so a late wake-up is
// harmless.
//
// Happens-before: the caller writes a run's inputs before storing epoch;
// a worker claims only with an epoch it loaded, writes its outputs before
// publishing its count, and the caller reads outputs only after loading
// every count of the run. An env stepped by one goroutine in one run and
// by another in a later one is ordered through the same edges.
type crew struct {
	step   func(i int)
	blocks []crewBlock
	epoch  atomic.Uint64 // runs started by the caller
	quit   atomic.Bool

	callerParked atomic.Bool
	finished     chan struct{} // buffered: a wake-up is never lost
	workers      []*crewWorker

	// Caller-only state: the last epoch, and the choice between parallel
	// and caller-only runs (see run). pinned (tests) keeps runs parallel.
	cur                    uint64
	parallel, pinned       bool
	probe                  int           // runs left in the current probe; 0: none
	untilProbe, interval   int           // runs to the next probe; runs between probes
	lean                   int           // see balance
	tSerial, tParallel     time.Duration // a probe's timed runs: total
	maxSerial, maxParallel time.Duration // and longest
}

// crewBlock is one goroutine's share of the items, [lo, hi). Its claim
// word sits between padding, so that whatever the slice's alignment two
// blocks never share a line. Only the caller changes lo and hi, between
// runs (see balance); a goroutine reads them only after claiming the
// block with the run's epoch.
type crewBlock struct {
	_       [64]byte
	lo, hi  int
	claimed atomic.Uint64 // the epoch of the block's last claim
	_       [64]byte
}

type crewWorker struct {
	_      [64]byte
	own    int           // index of its block
	done   atomic.Uint64 // epoch<<32 | items stepped in that run
	parked atomic.Bool
	wake   chan struct{} // buffered: a wake-up is never lost
	_      [40]byte
}

// Spin budgets: a worker waits this long for the next run before parking
// (a tight loop starts the next run within microseconds; waking a parked
// goroutine costs the caller 20–80 µs here); the caller waits this long
// for the blocks others hold before parking (a stall).
const (
	crewWorkerSpin = 50 * time.Microsecond
	crewCallerSpin = 200 * time.Microsecond
	crewPollTime   = 64 // polls between looks at the clock
)

// newCrew splits n items into workers blocks and starts workers−1
// goroutines (2 ≤ workers ≤ n).
func newCrew(n, workers int, step func(i int)) *crew {
	c := &crew{step: step, blocks: make([]crewBlock, workers), finished: make(chan struct{}, 1)}
	for k := range c.blocks {
		c.blocks[k].lo, c.blocks[k].hi = k*n/workers, (k+1)*n/workers
	}
	for k := 1; k < workers; k++ {
		w := &crewWorker{own: k, wake: make(chan struct{}, 1)}
		c.workers = append(c.workers, w)
		go c.loop(w)
	}
	return c
}

// claim claims b for run e; it fails when b is already claimed in run e or
// in a later one (the claimer is stale).
func (b *crewBlock) claim(e uint64) bool {
	for {
		s := b.claimed.Load()
		if s >= e {
			return false
		}
		if b.claimed.CompareAndSwap(s, e) {
			return true
		}
	}
}

// work steps the items of block own in run e if it can claim it, then of
// every other block it can claim; it returns the number of items stepped.
func (c *crew) work(own int, e uint64) int {
	n := 0
	for k := range c.blocks {
		b := &c.blocks[(own+k)%len(c.blocks)]
		if !b.claim(e) {
			continue
		}
		for i := b.lo; i < b.hi; i++ {
			c.step(i)
		}
		n += b.hi - b.lo
	}
	return n
}

func (c *crew) loop(w *crewWorker) {
	var seen uint64
	for {
		e := c.await(w, seen)
		if c.quit.Load() {
			return
		}
		w.done.Store(e<<32 | uint64(c.work(w.own, e)))
		if c.callerParked.Load() && c.callerParked.CompareAndSwap(true, false) {
			c.finished <- struct{}{}
		}
		seen = e
	}
}

// await returns the first epoch after seen, spinning, then parking. The
// parked flag is set before the last check of epoch and cleared by whoever
// wins the compare-and-swap, so a wake-up is sent exactly when needed.
func (c *crew) await(w *crewWorker, seen uint64) uint64 {
	start := time.Now()
	var x uint64
	for i := 1; ; i++ {
		if e := c.epoch.Load(); e != seen+x>>63 {
			return e
		}
		x = backoffWork(x)
		if i%crewPollTime == 0 && time.Since(start) > crewWorkerSpin {
			break
		}
	}
	for {
		w.parked.Store(true)
		if e := c.epoch.Load(); e != seen {
			if !w.parked.CompareAndSwap(true, false) {
				<-w.wake // run claimed the flag and sends a wake-up
			}
			return e
		}
		<-w.wake
		if e := c.epoch.Load(); e != seen {
			return e
		}
	}
}

// run steps every item and returns when all are done.
//
// Parallel runs are not always faster: starting and collecting one moves
// lines between the cores, waking a parked worker costs the caller tens
// of µs (a training loop acts between steps, and the worker parks), and
// on a busy machine the operating system may deschedule a worker holding
// a block, for up to a scheduler time slice (milliseconds). So run times
// both ways now and then and uses the faster:
//
//   - A probe makes crewProbe runs the other way, then crewProbe runs the
//     current way, and compares the total durations of the last
//     crewProbeTimed runs of each half, less the longest (the first runs
//     of a half move the envs' state between the cores' caches and may
//     wait for a parked worker to wake; one timer interrupt or batch of
//     autoresets must not decide). Until the next probe, runs are made the
//     faster way.
//   - Probes come every interval runs: crewMinInterval after a change of
//     mode, doubling (up to crewMaxInterval) each time a probe confirms
//     the mode, so that a settled choice costs little (a parallel probe
//     on a busy machine may stall).
//   - A parallel run outside a probe in which the caller had to park (its
//     spin, several runs long, ran out: a stall) starts a probe at once.
//     (Switching to caller-only runs at every stall gave the parallel mode
//     up a dozen times a second on an idle machine, where a stall is rare
//     and costs ~0.1 ms.)
//
// In caller-only runs the workers are not woken, so that they neither
// spin on nor hold up cores. Results do not depend on any of this.
func (c *crew) run() {
	if c.probe == 0 && c.untilProbe <= 0 && !c.pinned {
		c.probe = 2 * crewProbe
		c.tSerial, c.tParallel, c.maxSerial, c.maxParallel = 0, 0, 0, 0
	}
	if c.probe == 0 {
		c.untilProbe--
		if !c.parallel {
			c.serial()
		} else if c.parallelRun() {
			c.untilProbe = 0 // a stall: probe now
		}
		return
	}
	c.probe--
	par := c.parallel == (c.probe < crewProbe) // the current way last
	start := time.Now()
	if par {
		c.parallelRun()
	} else {
		c.serial()
	}
	if c.probe%crewProbe < crewProbeTimed {
		d := time.Since(start)
		if par {
			c.tParallel += d
			c.maxParallel = max(c.maxParallel, d)
		} else {
			c.tSerial += d
			c.maxSerial = max(c.maxSerial, d)
		}
	}
	if c.probe == 0 {
		c.decide(c.tParallel-c.maxParallel < c.tSerial-c.maxSerial)
	}
}

// decide sets the mode after a probe in which parallel runs were faster
// or not, and schedules the next probe.
func (c *crew) decide(parallelFaster bool) {
	if parallelFaster == c.parallel {
		c.interval = min(max(2*c.interval, crewMinInterval), crewMaxInterval)
	} else {
		c.parallel, c.interval = parallelFaster, crewMinInterval
	}
	c.untilProbe = c.interval
}

// Probe schedule (see run): a probe makes crewProbe runs each way, of
// which the last crewProbeTimed are timed; crewMinInterval to
// crewMaxInterval runs pass between probes. At B = 64 bench envs (10–15
// µs a run) a probe comes every 3 ms to 1 s.
const (
	crewProbe       = 24
	crewProbeTimed  = 16
	crewMinInterval = 256
	crewMaxInterval = 65536
)

// serial steps every item on the caller, without waking the workers.
func (c *crew) serial() {
	for i := c.blocks[0].lo; i < c.blocks[len(c.blocks)-1].hi; i++ {
		c.step(i)
	}
}

// parallelRun steps every item with the workers and reports whether the
// caller had to park (a stall).
func (c *crew) parallelRun() (stalled bool) {
	c.cur++
	e := c.cur
	c.epoch.Store(e)
	for _, w := range c.workers {
		if w.parked.Load() && w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	n := c.work(0, e)
	stalled, waited := c.wait(e, n)
	if b0 := &c.blocks[0]; n == b0.hi-b0.lo {
		c.balance(waited)
	}
	return stalled
}

// balance moves the boundary between the caller's block and block 1 after
// a run in which every goroutine stepped its own block: the worker starts
// a run a cache-line transfer or two after the caller (~1 µs), so equal
// blocks keep the caller waiting. After crewLean more runs in which the
// caller had to wait for the workers than runs in which it did not, the
// caller takes one more item; after crewLean more of the other kind, one
// fewer. Each move migrates one env's state between the cores, hence the
// hysteresis. Blocks keep at least one item.
func (c *crew) balance(waited bool) {
	if waited {
		c.lean++
	} else {
		c.lean--
	}
	b0, b1 := &c.blocks[0], &c.blocks[1]
	switch {
	case c.lean >= crewLean && b1.hi-b1.lo > 1:
		b0.hi++
		b1.lo++
		c.lean = 0
	case c.lean <= -crewLean && b0.hi-b0.lo > 1:
		b0.hi--
		b1.lo--
		c.lean = 0
	}
}

// crewLean is the hysteresis of balance, in runs.
const crewLean = 8

// stepped returns the caller's count n plus the workers' counts published
// for run e.
func (c *crew) stepped(e uint64, n int) int {
	for _, w := range c.workers {
		if d := w.done.Load(); d>>32 == e&(1<<32-1) {
			n += int(d & (1<<32 - 1))
		}
	}
	return n
}

// wait returns when every item of run e is done (the caller stepped n of
// them), whether it had to park, and whether it had to wait at all.
func (c *crew) wait(e uint64, n int) (parked, waited bool) {
	total := c.blocks[len(c.blocks)-1].hi
	start := time.Now()
	var x uint64
	for i := 1; ; i++ {
		if c.stepped(e, n) == total+int(x>>63) {
			return false, i > 1
		}
		x = backoffWork(x)
		if i%crewPollTime == 0 && time.Since(start) > crewCallerSpin {
			break
		}
	}
	for {
		c.callerParked.Store(true)
		if c.stepped(e, n) == total {
			if !c.callerParked.CompareAndSwap(true, false) {
				<-c.finished // a worker claimed the flag and sends
			}
			return true, true
		}
		<-c.finished
		if c.stepped(e, n) == total {
			return true, true
		}
	}
}

// stop ends the workers.
func (c *crew) stop() {
	c.quit.Store(true)
	c.epoch.Add(1)
	for _, w := range c.workers {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

// backoffWork is a short dependent chain of arithmetic between two polls
// of a spin loop, so that a spinning goroutine neither floods the line it
// polls with reads nor takes execution resources from a sibling
// hyperthread. x>>63 is always 0 (x < 2^63), which keeps the compiler
// from dropping the work.
func backoffWork(x uint64) uint64 {
	for range 16 {
		x = (x*2862933555777941757 + 3037000493) & (1<<62 - 1)
	}
	return x
}
