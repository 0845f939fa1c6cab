package env

import (
	"runtime"
	"testing"
	"time"
)

// TestPoolRunsEveryBlockOncePerStep stresses the fork-join pool: every
// step must run each block exactly once and return only after all blocks
// finished, whether the workers are spinning (back-to-back steps) or parked
// (pauses between steps), and stop must end the workers. (Under -race it
// found a wake-up from a delayed worker of the previous step reaching the
// caller parked on the next one; wake-ups now carry the step's epoch.)
func TestPoolRunsEveryBlockOncePerStep(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, nw := range []int{1, 2, 3} {
		counts := make([]int, nw+1)
		blocks := make([][2]int, nw)
		for k := range blocks {
			blocks[k] = [2]int{k + 1, k + 2}
		}
		p := newPool(blocks, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				counts[b]++
				if counts[b]%7 == b {
					runtime.Gosched() // vary the workers' timing
				}
			}
		})
		for step := 1; step <= 1500; step++ {
			p.run(func() { counts[0]++ })
			for b, c := range counts {
				if c != step {
					t.Fatalf("%d workers, step %d: block %d ran %d times", nw, step, b, c)
				}
			}
			if step%500 == 0 {
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
