package env

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrewStepsEveryItemOncePerRun stresses the crew that steps a Vec's
// envs: every run must step each item exactly once and return only after
// all finished, whether the workers are spinning (back-to-back runs) or
// parked (pauses between runs), with uneven blocks and blocks of one item,
// always in parallel (pinned) or choosing between parallel and caller-only
// runs; stop must end the workers.
func TestCrewStepsEveryItemOncePerRun(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, tc := range []struct{ n, workers int }{{2, 2}, {5, 2}, {7, 3}, {10, 4}, {64, 2}, {3, 3}} {
		for _, pin := range []bool{true, false} {
			counts := make([]atomic.Int64, tc.n)
			c := newCrew(tc.n, tc.workers, func(i int) {
				if k := counts[i].Add(1); k%7 == int64(i%7) {
					runtime.Gosched() // vary the goroutines' timing
				}
			})
			c.parallel, c.pinned = pin, pin
			for run := 1; run <= 1500; run++ {
				c.run()
				for i := range counts {
					if k := counts[i].Load(); k != int64(run) {
						t.Fatalf("n=%d workers=%d pinned=%v, run %d: item %d ran %d times", tc.n, tc.workers, pin, run, i, k)
					}
				}
				if run%500 == 0 {
					time.Sleep(2 * time.Millisecond) // let the workers park
				}
			}
			c.stop()
		}
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 1000 {
			t.Fatalf("%d goroutines after stop, %d before: workers leaked", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCrewBlocks: the blocks cover the items in order, about evenly.
func TestCrewBlocks(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{2, 2}, {7, 3}, {64, 2}, {8, 2}, {1000, 7}, {256, 256}} {
		c := newCrew(tc.n, tc.workers, func(int) {})
		next := 0
		for k := range c.blocks {
			b := &c.blocks[k]
			if b.lo != next || b.hi-b.lo < tc.n/tc.workers || b.hi-b.lo > (tc.n+tc.workers-1)/tc.workers {
				t.Errorf("n=%d workers=%d block %d: [%d, %d)", tc.n, tc.workers, k, b.lo, b.hi)
			}
			next = b.hi
		}
		if next != tc.n {
			t.Errorf("n=%d workers=%d: blocks end at %d", tc.n, tc.workers, next)
		}
		c.stop()
	}
}

// TestCrewClaims: a goroutine steps its own block and every block no one
// has claimed in the run (the caller steps a late worker's block), each
// block once per run, and a goroutine holding an older run's epoch claims
// nothing. The workers stay idle: the test claims with epochs it does not
// publish.
func TestCrewClaims(t *testing.T) {
	const n = 10
	var counts [n]atomic.Int64
	c := newCrew(n, 3, func(i int) { counts[i].Add(1) })
	defer c.stop()
	check := func(what string, got, want int, wantCounts ...int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s stepped %d items, want %d", what, got, want)
		}
		for i := range counts {
			if k := counts[i].Load(); k != wantCounts[i] {
				t.Errorf("%s: item %d stepped %d times, want %d", what, i, k, wantCounts[i])
			}
		}
	}
	// Blocks [0, 3), [3, 6), [6, 10).
	if !c.blocks[1].claim(7) {
		t.Fatal("claim of a fresh block failed")
	}
	check("caller in run 7 with block 1 claimed", c.work(0, 7), 7, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1)
	check("worker 2 in run 7", c.work(2, 7), 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1)
	check("worker 2 in run 8", c.work(2, 8), n, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2)
	check("a stale worker (run 7) after run 8", c.work(1, 7), 0, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2)
}

// TestCrewWaitsForClaimedBlock: a block claimed by a worker is left to it,
// even when it is slow; the run returns only after it is done.
func TestCrewWaitsForClaimedBlock(t *testing.T) {
	const n, sleep = 10, 100 * time.Millisecond
	var done [n]atomic.Bool
	var others atomic.Int64 // items done when the slow one ended
	c := newCrew(n, 2, func(i int) {
		if i == 0 {
			time.Sleep(sleep) // the worker claims its block meanwhile
		}
		if i == 5 {
			time.Sleep(2 * sleep)
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
	defer c.stop()
	c.parallel, c.pinned = true, true
	c.run()
	for i := range done {
		if !done[i].Load() {
			t.Errorf("item %d not done when run returned", i)
		}
	}
	if got := others.Load(); got != n/2 {
		t.Errorf("%d other items done when the worker's slow item ended, want the caller's %d", got, n/2)
	}
}

// TestCrewSchedule checks the choice between parallel and caller-only runs
// (see crew.run): the first run starts a probe of 2·crewProbe runs, after
// which the next probe is crewMinInterval runs away; a probe confirming the
// mode doubles the interval up to crewMaxInterval, a change of mode resets
// it; a stall in a parallel run outside a probe starts a probe at the next
// run. Every item runs once per run throughout.
func TestCrewSchedule(t *testing.T) {
	const n = 6
	var counts [n]atomic.Int64
	var stall, claimed atomic.Bool
	c := newCrew(n, 2, func(i int) {
		counts[i].Add(1)
		if stall.Load() {
			switch i {
			case 0:
				// Wait until the worker has claimed its block (item 3 has
				// started), so that the caller must then wait for it: a
				// fixed sleep here was flaky on a loaded machine.
				for deadline := time.Now().Add(10 * time.Second); !claimed.Load() && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			case 3:
				claimed.Store(true)
				time.Sleep(40 * time.Millisecond) // the caller waits for it
			}
		}
	})
	defer c.stop()
	runs := 0
	run := func() {
		c.run()
		runs++
		for i := range counts {
			if k := counts[i].Load(); k != int64(runs) {
				t.Fatalf("run %d: item %d ran %d times", runs, i, k)
			}
		}
	}
	for range 2 * crewProbe {
		run()
	}
	if c.probe != 0 || c.interval != crewMinInterval || c.untilProbe != crewMinInterval {
		t.Fatalf("after the first probe: probe %d, interval %d, until the next %d; want 0, %d, %d",
			c.probe, c.interval, c.untilProbe, crewMinInterval, crewMinInterval)
	}
	for range crewMinInterval {
		run()
	}
	if c.probe != 0 || c.untilProbe != 0 {
		t.Fatalf("probe %d, %d runs until the next, after the interval", c.probe, c.untilProbe)
	}
	run()
	if c.probe != 2*crewProbe-1 {
		t.Fatalf("probe %d after the interval's end, want %d", c.probe, 2*crewProbe-1)
	}

	mode := c.parallel
	c.decide(mode)
	if c.parallel != mode || c.interval != 2*crewMinInterval || c.untilProbe != 2*crewMinInterval {
		t.Errorf("a confirming probe: parallel %v, interval %d, until %d; want %v, %d, %d",
			c.parallel, c.interval, c.untilProbe, mode, 2*crewMinInterval, 2*crewMinInterval)
	}
	for range 20 {
		c.decide(mode)
	}
	if c.interval != crewMaxInterval {
		t.Errorf("interval %d after many confirming probes, want %d", c.interval, crewMaxInterval)
	}
	c.decide(!mode)
	if c.parallel != !mode || c.interval != crewMinInterval || c.untilProbe != crewMinInterval {
		t.Errorf("a changing probe: parallel %v, interval %d, until %d; want %v, %d, %d",
			c.parallel, c.interval, c.untilProbe, !mode, crewMinInterval, crewMinInterval)
	}

	c.probe, c.parallel, c.interval, c.untilProbe = 0, true, crewMaxInterval, 100
	stall.Store(true)
	run()
	if !c.parallel || c.probe != 0 || c.untilProbe != 0 {
		t.Errorf("after a stall: parallel %v, probe %d, until %d; want true, 0, 0", c.parallel, c.probe, c.untilProbe)
	}
	stall.Store(false)
	claimed.Store(false)
	run()
	if c.probe != 2*crewProbe-1 {
		t.Errorf("the run after a stall: probe %d, want %d", c.probe, 2*crewProbe-1)
	}
	for range 2 * crewMinInterval {
		run()
	}
}

// TestCrewBalance: crewLean more runs in which the caller waited than runs
// in which it did not give the caller one more item (from block 1), as
// many of the other kind one fewer; blocks keep at least one item.
func TestCrewBalance(t *testing.T) {
	c := newCrew(10, 3, func(int) {})
	defer c.stop()
	bounds := func() [4]int {
		return [4]int{c.blocks[0].lo, c.blocks[0].hi, c.blocks[1].hi, c.blocks[2].hi}
	}
	if got := bounds(); got != [4]int{0, 3, 6, 10} {
		t.Fatalf("blocks %v", got)
	}
	c.balance(false) // lean −1
	for range crewLean {
		c.balance(true)
	}
	if got := bounds(); got != [4]int{0, 3, 6, 10} || c.lean != crewLean-1 {
		t.Fatalf("after one run without and %d with waiting: blocks %v, lean %d; want unchanged, %d", crewLean, got, c.lean, crewLean-1)
	}
	c.balance(true)
	if got := bounds(); got != [4]int{0, 4, 6, 10} || c.blocks[1].lo != 4 || c.lean != 0 {
		t.Fatalf("after the move: blocks %v (block 1 from %d), lean %d; want caller [0, 4), block 1 [4, 6), lean 0", got, c.blocks[1].lo, c.lean)
	}
	for range 3 * crewLean {
		c.balance(true)
	}
	if got := bounds(); got != [4]int{0, 5, 6, 10} || c.blocks[1].lo != 5 {
		t.Errorf("block 1 must keep an item: blocks %v", got)
	}
	for range 10 * crewLean {
		c.balance(false)
	}
	if got := bounds(); got != [4]int{0, 1, 6, 10} || c.blocks[1].lo != 1 {
		t.Errorf("the caller's block must keep an item: blocks %v", got)
	}
}
