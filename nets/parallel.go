package nets

import (
	"runtime"
	"sort"
	"sync"
)

// planGroups splits the net's components into two groups of similar
// multiply-add counts (largest first, each to the lighter group).
func (ps *Pass) planGroups() {
	n := ps.net
	order := make([]int, n.ncomp)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return n.flops[order[a]] > n.flops[order[b]] })
	var load [2]float64
	ps.groups = [2][]int{}
	for _, c := range order {
		g := 0
		if load[1] < load[0] {
			g = 1
		}
		ps.groups[g] = append(ps.groups[g], c)
		load[g] += n.flops[c]
	}
	for g := range ps.groups {
		sort.Ints(ps.groups[g])
	}
}

type job struct {
	ps       *Pass
	backward bool
}

type worker struct {
	in   chan job
	done chan struct{}
	once sync.Once
}

func (w *worker) stop() { w.once.Do(func() { close(w.in) }) }

func (w *worker) loop() {
	for j := range w.in {
		for _, c := range j.ps.groups[1] {
			if j.backward {
				j.ps.backwardComp(c)
			} else {
				j.ps.forwardComp(c)
			}
		}
		j = job{} // drop the reference so an idle worker keeps no Pass alive
		w.done <- struct{}{}
	}
}

// SetParallel turns two-goroutine execution on or off. When on and the
// net has at least two components (for example separate actor and critic
// towers), Forward and Backward run them on the caller's goroutine and one
// helper goroutine; a single-component net instead splits each large
// matrix product by columns between two goroutines. Results are
// bit-identical to serial execution either way: components share no
// writable memory, and column splits fall on tile boundaries.
// Helper goroutines end at Close or when the Pass is garbage collected.
func (ps *Pass) SetParallel(on bool) {
	if !on {
		ps.Close()
		return
	}
	if ps.net.ncomp == 1 {
		ps.ws[0].SetParallel(true)
		return
	}
	if ps.par || ps.net.ncomp < 2 {
		return
	}
	w := &worker{in: make(chan job), done: make(chan struct{})}
	go w.loop()
	ps.w = w
	ps.par = true
	runtime.AddCleanup(ps, func(w *worker) { w.stop() }, w)
}

// Close stops the helper goroutine of a parallel Pass. It is idempotent;
// the Pass keeps working serially afterwards.
func (ps *Pass) Close() {
	for i := range ps.ws {
		ps.ws[i].SetParallel(false)
	}
	if !ps.par {
		return
	}
	ps.par = false
	ps.w.stop()
	ps.w = nil
}

func (ps *Pass) runParallel(backward bool) {
	ps.w.in <- job{ps: ps, backward: backward}
	for _, c := range ps.groups[0] {
		if backward {
			ps.backwardComp(c)
		} else {
			ps.forwardComp(c)
		}
	}
	<-ps.w.done
}

// Task is work in two parts that may run concurrently (they must not
// write the same memory).
type Task interface {
	Run(part int)
}

// Runner runs a Task's part 0 on the caller's goroutine and part 1 on one
// helper goroutine, without allocating: algorithms use it to split
// element-wise work such as an optimiser step over the two cores. The
// helper ends at Close or when the Runner is garbage collected.
type Runner struct {
	w *worker2
}

type worker2 struct {
	in   chan Task
	done chan struct{}
	once sync.Once
}

func (w *worker2) stop() { w.once.Do(func() { close(w.in) }) }

// NewRunner starts a Runner's helper goroutine.
func NewRunner() *Runner {
	w := &worker2{in: make(chan Task), done: make(chan struct{})}
	go func() {
		for t := range w.in {
			t.Run(1)
			t = nil
			w.done <- struct{}{}
		}
	}()
	r := &Runner{w: w}
	runtime.AddCleanup(r, func(w *worker2) { w.stop() }, w)
	return r
}

// Run runs t.Run(0) here and t.Run(1) on the helper and returns when both
// are done. A nil Runner runs both parts on the caller, in order.
func (r *Runner) Run(t Task) {
	if r == nil {
		t.Run(0)
		t.Run(1)
		return
	}
	r.w.in <- t
	t.Run(0)
	<-r.w.done
}

// Close stops the helper goroutine; the Runner must not be used after.
func (r *Runner) Close() {
	if r != nil {
		r.w.stop()
	}
}
