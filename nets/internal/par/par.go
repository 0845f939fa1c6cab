// Package par runs work in two parts on two goroutines: the caller's and
// one helper's. It is the only concurrency of nets' native engine: split
// matrix products, independent towers and optimiser steps all run as a
// Task on an agent's one Runner, so at most two goroutines compute at any
// time on our two-core machines.
//
// The hand-off is built for short, frequent tasks (tens to hundreds of
// microseconds each, thousands per second) on shared virtual machines:
//
//   - The helper busy-waits on an atomic sequence number for up to half a
//     millisecond after each task (waking a parked goroutine takes tens of
//     microseconds on a virtual machine, longer than many of our tasks,
//     and the serial work between the tasks of one network update is
//     shorter than that), then parks on a channel so that an idle Runner
//     holds no core.
//   - Part 1 is claimed with a compare-and-swap by whichever goroutine
//     gets to it first: the helper when it sees the task, or the caller
//     once it has finished part 0. When the helper is not running (parked,
//     or descheduled because another process holds the second core) the
//     caller does both parts itself instead of waiting, so a Runner is
//     never much slower than serial execution. (Without this, a split
//     product ran at 24 GFLOP/s with another process on the machine,
//     against 70 serially and 111 on two free cores.)
//   - A caller whose part 1 the helper claimed busy-waits for it.
//
// Posting and completing a task allocate nothing.
//
// The package must not import anything outside the standard library.
package par

import (
	"sync"
	"sync/atomic"
	"time"
)

// Task is work in two parts that may run concurrently: they must not
// write the same memory, and each must give the same result whichever
// goroutine runs it. Part 0 runs on the caller, part 1 on the helper or,
// if the helper has not claimed it by the time part 0 is done, on the
// caller after part 0.
type Task interface {
	Run(part int)
}

// Runner owns one helper goroutine. It is used by one caller goroutine at
// a time, and a Task must not call Run on the Runner that runs it (tasks
// do not nest).
type Runner struct {
	h *helper
}

type helper struct {
	task    Task          // the posted task; written by the caller before seq
	seq     atomic.Uint64 // tasks posted
	claimed atomic.Uint64 // the last task whose part 1 was claimed (by either side)
	done    atomic.Uint64 // the last task whose part 1 the helper finished
	parked  atomic.Bool   // the helper is (about to be) blocked on wake
	wake    chan struct{}
	stopped atomic.Bool
	once    sync.Once
}

// spinFor bounds the helper's busy wait between tasks: longer than the
// gaps within and between the network updates of a training loop, short
// enough that an idle Runner soon frees its core.
const spinFor = 500 * time.Microsecond

// New starts a Runner's helper goroutine. It ends at Close or when the
// Runner is garbage collected.
func New() *Runner {
	h := &helper{wake: make(chan struct{}, 1)}
	go h.loop()
	r := &Runner{h: h}
	runtimeAddCleanup(r, h)
	return r
}

// Run runs t.Run(0) on the caller and t.Run(1) on the helper (or on the
// caller, see the package documentation) and returns when both are done.
// A nil Runner runs both parts on the caller, part 0 first.
func (r *Runner) Run(t Task) {
	if r == nil {
		t.Run(0)
		t.Run(1)
		return
	}
	h := r.h
	h.task = t
	n := h.seq.Add(1)
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	t.Run(0)
	if h.claimed.CompareAndSwap(n-1, n) {
		t.Run(1) // the helper has not started it: do it here
	} else {
		for h.done.Load() < n {
		}
	}
	h.task = nil // the helper keeps no reference to finished work
}

// Close stops the helper goroutine; the Runner must not be used after.
// It is idempotent and nil-safe.
func (r *Runner) Close() {
	if r != nil {
		r.h.stop()
	}
}

func (h *helper) stop() {
	h.once.Do(func() {
		h.stopped.Store(true)
		select {
		case h.wake <- struct{}{}:
		default:
		}
	})
}

func (h *helper) loop() {
	var seen uint64 // the last task number examined
	for {
		idle := time.Now()
		for spins := 1; h.seq.Load() == seen; spins++ {
			if h.stopped.Load() {
				return
			}
			if spins%1024 != 0 || time.Since(idle) < spinFor {
				continue
			}
			// Park: announce it, then re-check, so that a task posted
			// before the announcement became visible is not missed (the
			// caller reads parked after publishing seq).
			h.parked.Store(true)
			if h.seq.Load() == seen && !h.stopped.Load() {
				<-h.wake
			}
			h.parked.Store(false)
			idle = time.Now()
		}
		if h.stopped.Load() {
			return
		}
		seen++
		// Only the winner of the claim may read task: the caller posts
		// the next task only after this one's part 1 is finished.
		if h.claimed.CompareAndSwap(seen-1, seen) {
			t := h.task
			t.Run(1)
			t = nil
			h.done.Store(seen)
		}
	}
}
