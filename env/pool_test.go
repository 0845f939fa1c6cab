package env

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsEveryItemOncePerRun stresses the fork-join pool: every run
// must run each item exactly once and return only after all finished,
// whether the workers are spinning (back-to-back runs) or parked (pauses
// between runs), with blocks of uneven sizes, and stop must end the
// workers. (Under -race an earlier pool showed a wake-up from a delayed
// worker of the previous step reaching the caller parked on the next one;
// wake-ups are now hints that every waiter re-checks.)
func TestPoolRunsEveryItemOncePerRun(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, bounds := range [][][2]int{
		{{0, 1}, {1, 2}},
		{{0, 3}, {3, 5}},
		{{0, 2}, {2, 3}, {3, 7}},
	} {
		n := bounds[len(bounds)-1][1]
		counts := make([]atomic.Int64, n)
		p := newPool(bounds, func(i int) {
			if c := counts[i].Add(1); c%7 == int64(i) {
				runtime.Gosched() // vary the goroutines' timing
			}
		})
		for run := 1; run <= 1500; run++ {
			p.run()
			for i := range counts {
				if c := counts[i].Load(); c != int64(run) {
					t.Fatalf("blocks %v, run %d: item %d ran %d times", bounds, run, i, c)
				}
			}
			if run%500 == 0 {
				time.Sleep(2 * time.Millisecond) // let the workers park
			}
		}
		p.stop()
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 1000 {
			t.Fatalf("%d goroutines after stop, %d before: workers leaked", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPoolStealsFromBusyGoroutine: while one goroutine is stuck in a slow
// item, the other finishes every other item, its own block and the stuck
// one's (with fixed blocks the stuck goroutine's other items would wait
// for it). The slow item is the first of the worker's block, then of the
// caller's.
func TestPoolStealsFromBusyGoroutine(t *testing.T) {
	const n, sleep = 10, 200 * time.Millisecond
	for _, slow := range []int{5, 0} {
		var done [n]atomic.Bool
		var others atomic.Int64 // items done when the slow one ended
		p := newPool([][2]int{{0, 5}, {5, n}}, func(i int) {
			if i == slow {
				time.Sleep(sleep)
				k := int64(0)
				for j := range done {
					if done[j].Load() {
						k++
					}
				}
				others.Store(k)
			}
			done[i].Store(true)
		})
		p.run()
		if got := others.Load(); got != n-1 {
			t.Errorf("slow item %d: %d other items done when it ended, want %d", slow, got, n-1)
		}
		p.stop()
	}
}

// TestPoolBackoff: after a run in which the caller had to wait for a
// worker, the next runs are made by the caller alone (1, then 2, 4, … after
// consecutive stalls), every item still runs exactly once, and runs
// without a stall halve the back-off down to zero. In stalling runs the caller's first
// item takes 5 ms, so that the worker (woken at the start of the run)
// claims the first item of its block, which takes 10 ms, before the
// caller could steal it; the caller then waits for it.
func TestPoolBackoff(t *testing.T) {
	const n = 6
	var counts [n]atomic.Int64
	var stall atomic.Bool
	p := newPool([][2]int{{0, 3}, {3, n}}, func(i int) {
		counts[i].Add(1)
		if stall.Load() {
			switch i {
			case 0:
				time.Sleep(5 * time.Millisecond)
			case 3:
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	defer p.stop()
	runs := 0
	run := func() {
		p.run()
		runs++
		for i := range counts {
			if c := counts[i].Load(); c != int64(runs) {
				t.Fatalf("run %d: item %d ran %d times", runs, i, c)
			}
		}
	}
	stall.Store(true)
	for _, want := range []int{1, 2, 4} {
		run() // parallel: the caller waits for the worker's item 3
		if p.backoff != want || p.skip != want {
			t.Fatalf("after a stall: back-off %d, skip %d; want %d", p.backoff, p.skip, want)
		}
		for range want {
			run() // caller-only runs
		}
		if p.skip != 0 {
			t.Fatalf("skip %d after the back-off", p.skip)
		}
	}
	// Without stalls the back-off halves with each parallel run: 4 → 2 →
	// 1 → 0 (on a busy machine a worker may still be descheduled holding an
	// item, so allow a few more runs).
	stall.Store(false)
	run()
	if p.backoff != 2 && p.skip == 0 {
		t.Errorf("back-off %d after a run without a stall, want 2", p.backoff)
	}
	for k := 0; p.backoff != 0; k++ {
		if k == 100 {
			t.Fatalf("back-off %d after 100 runs without deliberate stalls", p.backoff)
		}
		run()
	}
	for range 50 {
		run()
	}
}
