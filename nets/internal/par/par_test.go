package par

import (
	"sync/atomic"
	"testing"
	"time"
)

type sumTask struct {
	x   []int
	out [2]int
}

func (t *sumTask) Run(part int) {
	lo, hi := 0, len(t.x)/2
	if part == 1 {
		lo, hi = hi, len(t.x)
	}
	s := 0
	for _, v := range t.x[lo:hi] {
		s += v
	}
	t.out[part] = s
}

// TestRun: both parts run, every time, including after the helper has
// parked (a pause longer than its spin), and a nil Runner runs both on
// the caller.
func TestRun(t *testing.T) {
	r := New()
	defer r.Close()
	x := make([]int, 1001)
	for i := range x {
		x[i] = i
	}
	for _, run := range []*Runner{r, nil} {
		for i := 0; i < 2000; i++ {
			task := &sumTask{x: x}
			run.Run(task)
			if got := task.out[0] + task.out[1]; got != 1000*1001/2 || task.out[1] == 0 {
				t.Fatalf("iteration %d: parts %v", i, task.out)
			}
			if i%500 == 0 {
				time.Sleep(5 * time.Millisecond) // let the helper park
			}
		}
	}
}

type whoTask struct{ parts [2]atomic.Int32 }

func (t *whoTask) Run(part int) { t.parts[part].Add(1) }

// TestRunAllocs: posting a task allocates nothing.
func TestRunAllocs(t *testing.T) {
	r := New()
	defer r.Close()
	task := new(whoTask)
	if n := testing.AllocsPerRun(100, func() { r.Run(task) }); n != 0 {
		t.Errorf("%v allocations per Run, want 0", n)
	}
	if task.parts[0].Load() != task.parts[1].Load() || task.parts[1].Load() == 0 {
		t.Errorf("parts ran %d and %d times", task.parts[0].Load(), task.parts[1].Load())
	}
}

// TestCloseIdempotent: Close twice, and Close on nil, are fine.
func TestCloseIdempotent(t *testing.T) {
	r := New()
	r.Close()
	r.Close()
	var n *Runner
	n.Close()
}

func BenchmarkHandOff(b *testing.B) {
	r := New()
	defer r.Close()
	task := new(whoTask)
	b.ReportAllocs()
	for b.Loop() {
		r.Run(task)
	}
}
