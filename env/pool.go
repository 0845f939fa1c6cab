package env

import (
	"runtime"
	"sync/atomic"
)

// pool runs fn(i) for every item i of [0, n) once per run, on the caller's
// goroutine and len(blocks)−1 worker goroutines, in fork-join steps.
//
// Items are split into contiguous blocks, one per goroutine (block 0 is
// the caller's), so each goroutine keeps stepping the same envs and their
// state stays in its core's cache. A goroutine takes items from the front
// of its own block; when its block is exhausted it steals from the back
// of the others'. So a worker that is late (not yet woken, or descheduled
// on a busy machine) costs the step at most the item it is working on:
// the others take the rest of its block. Which goroutine runs an item
// never changes the item's result.
//
// Claims are compare-and-swaps on a block's (front, back) word; completions
// are counted per block, on the block's own cache line, and the caller
// waits for every block's count. Waiting goroutines first spin (polls of
// an atomic load, yielding every spinYield polls), then park on a channel;
// wake-ups are hints, and every waiter re-checks its condition, so a late
// wake-up from an earlier step is harmless.
//
// Happens-before: the caller writes the step's inputs before resetting the
// blocks' words (atomic stores) and bumping epoch; a goroutine reads inputs
// of item i only after claiming it with a compare-and-swap on a word the
// caller reset, writes its outputs before counting it done, and the caller
// reads outputs only after seeing every block's count complete.
type pool struct {
	fn     func(i int)
	blocks []block
	epoch  atomic.Uint64 // incremented once per run
	quit   atomic.Bool

	callerParked atomic.Bool
	finished     chan struct{} // buffered: a wake-up is never lost
	workers      []*worker

	// Caller-only state of the back-off (see run).
	backoff, skip int
}

// block is one goroutine's share of the items. Its hot words are padded
// by a cache line on each side, so that whatever the slice's alignment the
// owners' claims on two blocks never share a line (measured: without the
// padding, false sharing made a step with two workers ~45 % slower).
type block struct {
	_     [64]byte
	lo, n int
	span  atomic.Uint64 // front<<32 | back: items [lo+front, lo+back) are unclaimed
	fin   atomic.Int64  // items of this block completed in the current run
	_     [32]byte
}

type worker struct {
	wake   chan struct{} // buffered: a wake-up is never lost
	parked atomic.Bool
	own    int // index of its block
}

// Spin budgets in polls (a poll is an atomic load; a yield every spinYield
// polls costs ~0.2 µs): a worker waits ~20 µs for the next run before
// parking (a training loop acts between steps); the caller waits ~10 µs
// for items other goroutines are finishing (at most one item each, since
// it steals the rest).
const (
	workerSpin = 2000
	callerSpin = 2000
	spinYield  = 64
)

// newPool starts len(bounds)−1 workers; bounds[k] is the [lo, hi) range of
// block k, bounds[0] the caller's.
func newPool(bounds [][2]int, fn func(i int)) *pool {
	p := &pool{fn: fn, blocks: make([]block, len(bounds)), finished: make(chan struct{}, 1)}
	for k, b := range bounds {
		p.blocks[k].lo, p.blocks[k].n = b[0], b[1]-b[0]
	}
	for k := 1; k < len(bounds); k++ {
		w := &worker{wake: make(chan struct{}, 1), own: k}
		p.workers = append(p.workers, w)
		go p.loop(w)
	}
	return p
}

// takeFront claims the next item from the front of b.
func (b *block) takeFront() (int, bool) {
	for {
		s := b.span.Load()
		f, k := s>>32, s&(1<<32-1)
		if f >= k {
			return 0, false
		}
		if b.span.CompareAndSwap(s, s+1<<32) {
			return b.lo + int(f), true
		}
	}
}

// takeBack claims the last unclaimed item of b.
func (b *block) takeBack() (int, bool) {
	for {
		s := b.span.Load()
		f, k := s>>32, s&(1<<32-1)
		if f >= k {
			return 0, false
		}
		if b.span.CompareAndSwap(s, s-1) {
			return b.lo + int(k) - 1, true
		}
	}
}

// work runs the items of block own, then steals from the others; it
// returns when no item is left to claim.
func (p *pool) work(own int) {
	b := &p.blocks[own]
	for {
		i, ok := b.takeFront()
		if !ok {
			break
		}
		p.fn(i)
		p.complete(b)
	}
	for k := 1; k < len(p.blocks); k++ {
		v := &p.blocks[(own+k)%len(p.blocks)]
		for {
			i, ok := v.takeBack()
			if !ok {
				break
			}
			p.fn(i)
			p.complete(v)
		}
	}
}

// complete counts one item of b done and wakes a parked caller when b is
// complete (the caller re-checks the other blocks).
func (p *pool) complete(b *block) {
	if b.fin.Add(1) == int64(b.n) && p.callerParked.Load() && p.callerParked.CompareAndSwap(true, false) {
		p.finished <- struct{}{}
	}
}

// allDone reports whether every block is complete.
func (p *pool) allDone() bool {
	for k := range p.blocks {
		if b := &p.blocks[k]; b.fin.Load() != int64(b.n) {
			return false
		}
	}
	return true
}

func (p *pool) loop(w *worker) {
	var seen uint64
	for {
		seen = p.await(w, seen)
		if p.quit.Load() {
			return
		}
		p.work(w.own)
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

// run runs fn over every item and returns when all are done.
//
// Back-off: a worker that is descheduled while it holds an item makes the
// caller wait for the operating system to run it again, which on a machine
// with more runnable threads than cores takes up to a scheduler time slice
// (milliseconds, against tens of µs for a step). When the caller had to
// park for an item (its spin of a few µs, many times an item's duration,
// ran out), the next runs are made by the caller alone, without waking
// the workers, so that they neither spin on nor hold up cores they do not
// get. The back-off doubles with each stall (1, 2, 4, … up to maxBackoff
// runs) and halves with each parallel run completed without one, so that
// on a busy machine the occasional stall (ms) is amortised over thousands
// of runs, and on a quiet one parallel runs resume within a dozen. A worker
// that is merely slow to wake costs nothing: the caller steals its items.
// Results do not depend on any of this.
func (p *pool) run() {
	for k := range p.blocks {
		b := &p.blocks[k]
		b.fin.Store(0)
		b.span.Store(uint64(b.n))
	}
	if p.skip > 0 {
		p.skip--
		p.work(0)
		p.wait()
		return
	}
	p.epoch.Add(1)
	for _, w := range p.workers {
		if w.parked.Load() && w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	p.work(0)
	if p.wait() {
		p.backoff = min(max(2*p.backoff, 1), maxBackoff)
		p.skip = p.backoff
	} else {
		p.backoff /= 2
	}
}

// maxBackoff is the longest run of caller-only steps after stalls: at
// 20–50 µs a step, 0.1–0.2 s, against a stall of up to a scheduler time
// slice (a few ms).
const maxBackoff = 4096

// wait returns when every item is done, and whether it had to park.
func (p *pool) wait() (parked bool) {
	for i := 1; i <= callerSpin; i++ {
		if p.allDone() {
			return false
		}
		if i%spinYield == 0 {
			runtime.Gosched()
		}
	}
	for {
		p.callerParked.Store(true)
		if p.allDone() {
			if !p.callerParked.CompareAndSwap(true, false) {
				<-p.finished // a completer claimed the flag and sends
			}
			return true
		}
		<-p.finished
		if p.allDone() {
			return true
		}
	}
}

// stop ends the workers.
func (p *pool) stop() {
	p.quit.Store(true)
	p.epoch.Add(1)
	for _, w := range p.workers {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}
