package nets

import (
	"sort"

	"github.com/folio-rl/folio/nets/internal/par"
)

// planGroups splits the net's components into two groups of similar
// multiply-add counts (largest first, each to the lighter group).
func (ps *PassOf[T]) planGroups() {
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

// towers runs the components of group part, forward or backward: the
// Task that executes independent towers on two goroutines.
type towers[T Float] struct {
	ps       *PassOf[T]
	backward bool
}

func (t *towers[T]) Run(part int) {
	for _, c := range t.ps.groups[part] {
		if t.backward {
			t.ps.backwardComp(c)
		} else {
			t.ps.forwardComp(c)
		}
	}
}

// SetParallel turns two-goroutine execution on or off with a helper
// goroutine of the Pass's own (SetRunner shares one). When on and the net
// has at least two components (for example separate actor and critic
// towers), Forward and Backward run them on the caller's goroutine and the
// helper; a single-component net instead splits each large matrix product
// by columns between the two. Results are bit-identical to serial
// execution either way: components share no writable memory, and column
// splits fall on tile boundaries. The helper ends at Close or when the
// Pass is garbage collected.
func (ps *PassOf[T]) SetParallel(on bool) {
	if !on {
		ps.Close()
		return
	}
	if ps.run != nil {
		return
	}
	ps.SetRunner(NewRunner())
	ps.ownRun = true
}

// SetRunner runs the Pass's parallel work (see SetParallel) on r's helper
// goroutine; nil turns parallel execution off. One Runner may serve every
// executor and optimiser step of an agent, as long as they are not used
// concurrently: at most two goroutines then compute at any time.
func (ps *PassOf[T]) SetRunner(r *Runner) {
	ps.Close()
	ps.run = r
	if r == nil {
		return
	}
	if ps.net.ncomp >= 2 {
		ps.par = true
		return
	}
	for i := range ps.ws {
		ps.ws[i].SetRunner(r.r)
	}
}

// Close detaches the Pass from its helper goroutine (stopping it if the
// Pass started it with SetParallel). It is idempotent; the Pass keeps
// working serially afterwards.
func (ps *PassOf[T]) Close() {
	for i := range ps.ws {
		ps.ws[i].SetRunner(nil)
	}
	if ps.ownRun {
		ps.run.Close()
	}
	ps.run, ps.ownRun, ps.par = nil, false, false
}

func (ps *PassOf[T]) runParallel(backward bool) {
	ps.tw = towers[T]{ps: ps, backward: backward}
	ps.run.r.Run(&ps.tw)
}

// Task is work in two parts that may run concurrently (they must not
// write the same memory).
type Task interface {
	Run(part int)
}

// Runner runs a Task's part 0 on the caller's goroutine and part 1 on one
// helper goroutine, without allocating: executors (SetRunner) and
// algorithms (element-wise work such as an optimiser step) share it, so
// that an agent computes on at most two goroutines. The helper busy-waits
// for a few tens of microseconds after each task (waking a parked
// goroutine costs more than many of our tasks take), then parks. A Runner
// is used by one goroutine at a time and tasks must not nest. The helper
// ends at Close or when the Runner is garbage collected.
type Runner struct {
	r *par.Runner
}

// NewRunner starts a Runner's helper goroutine.
func NewRunner() *Runner { return &Runner{r: par.New()} }

// Run runs t.Run(0) here and t.Run(1) on the helper and returns when both
// are done. A nil Runner runs both parts on the caller, in order.
func (r *Runner) Run(t Task) {
	if r == nil {
		t.Run(0)
		t.Run(1)
		return
	}
	r.r.Run(t)
}

// Close stops the helper goroutine; the Runner must not be used after.
func (r *Runner) Close() {
	if r != nil {
		r.r.Close()
	}
}
