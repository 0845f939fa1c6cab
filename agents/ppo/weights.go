package ppo

import (
	"fmt"
	"math/rand/v2"

	"github.com/folio-rl/folio/nets"
)

// weights is the agent's trainable state in precision T (the configured
// nets precision): the parameter vector, its gradient and the Adam state,
// plus the copy an Update restores on cancellation or divergence. The
// algorithm is written once against the engines' float64 buffers and the
// weightSet methods below.
type weights[T nets.Float] struct {
	theta, grad []T
	adam        *nets.AdamOf[T]
	saved       struct {
		theta, m, v []T
		step        int
	}
	task adamTask[T]
}

// weightSet is what the algorithm needs from weights of either precision.
type weightSet interface {
	// engine returns an engine of the agent's network at batch size b
	// bound to the weights (with the gradient if train).
	engine(a *Agent, b int, train bool, r *nets.Runner) (nets.Engine, error)
	// logStdTo writes the log standard deviation of every action
	// dimension (the LogStd entry idx[j] for dimension j) into dst.
	logStdTo(dst []float64, seg nets.Segment, idx []int)
	// addLogStdGrad adds g[j] into the gradient of LogStd entry idx[j].
	addLogStdGrad(seg nets.Segment, idx []int, g []float64)
	clearGrad()
	gradNorm() float64
	// adamStep takes one Adam step, the two halves of the vector on the
	// runner's two goroutines.
	adamStep(lr, scale float64, r *nets.Runner)
	// save copies the parameters and the optimiser state; restore puts
	// the copy back.
	save()
	restore()
	adamSteps() int
	setAdamSteps(n int)
	blocks() []nets.Block
	// load copies checkpoint blocks (params, adam.m, adam.v) into the
	// state: all of them, or only the parameters (converting between
	// precisions).
	load(bs []nets.Block, weightsOnly bool) error
	// params returns the parameters: the storage itself in float64, a
	// widened copy in float32.
	params() []float64
	len() int
}

func newWeights[T nets.Float](a *Agent, rng *rand.Rand) *weights[T] {
	n := a.ac.Net.NumParams()
	w := &weights[T]{theta: make([]T, n), grad: make([]T, n), adam: nets.NewAdamOf[T](n, 0.9, 0.999, a.cfg.AdamEps)}
	nets.InitTo(w.theta, a.ac.Net.Layout(), rng)
	w.saved.theta, w.saved.m, w.saved.v = make([]T, n), make([]T, n), make([]T, n)
	return w
}

func (w *weights[T]) engine(a *Agent, b int, train bool, r *nets.Runner) (nets.Engine, error) {
	p := nets.ParamsOf[T]{Value: w.theta}
	if train {
		p.Grad = w.grad
	}
	return nets.NewEngineOf(a.cfg.Backend, a.ac.Net, b, p, train, r)
}

func (w *weights[T]) logStdTo(dst []float64, seg nets.Segment, idx []int) {
	v := w.theta[seg.Offset : seg.Offset+seg.Len()]
	for j, k := range idx {
		dst[j] = float64(v[k])
	}
}

func (w *weights[T]) addLogStdGrad(seg nets.Segment, idx []int, g []float64) {
	gs := w.grad[seg.Offset : seg.Offset+seg.Len()]
	for j, k := range idx {
		gs[k] += T(g[j])
	}
}

func (w *weights[T]) clearGrad() { clear(w.grad) }

func (w *weights[T]) gradNorm() float64 { return nets.GradNorm(w.grad) }

func (w *weights[T]) adamStep(lr, scale float64, r *nets.Runner) {
	w.task = adamTask[T]{step: w.adam.Begin(lr, scale), theta: w.theta, grad: w.grad}
	r.Run(&w.task)
}

func (w *weights[T]) save() {
	copy(w.saved.theta, w.theta)
	copy(w.saved.m, w.adam.M)
	copy(w.saved.v, w.adam.V)
	w.saved.step = w.adam.Step
}

func (w *weights[T]) restore() {
	copy(w.theta, w.saved.theta)
	copy(w.adam.M, w.saved.m)
	copy(w.adam.V, w.saved.v)
	w.adam.Step = w.saved.step
}

func (w *weights[T]) adamSteps() int { return w.adam.Step }

func (w *weights[T]) setAdamSteps(n int) { w.adam.Step = n }

func (w *weights[T]) blocks() []nets.Block {
	return []nets.Block{block(blockParams, w.theta), block(blockAdamM, w.adam.M), block(blockAdamV, w.adam.V)}
}

// block wraps v as a checkpoint block of its own element type.
func block[T nets.Float](name string, v []T) nets.Block {
	switch p := any(&v).(type) {
	case *[]float64:
		return nets.Block{Name: name, F64: *p}
	case *[]float32:
		return nets.Block{Name: name, F32: *p}
	}
	panic("unreachable")
}

func (w *weights[T]) load(bs []nets.Block, weightsOnly bool) error {
	st := [][]T{w.theta, w.adam.M, w.adam.V}
	if weightsOnly {
		st = st[:1]
	}
	if err := nets.LoadBlocks(st, bs, weightsOnly); err != nil {
		return fmt.Errorf("ppo: load: %w", err)
	}
	return nil
}

func (w *weights[T]) params() []float64 {
	if d, ok := any(w.theta).([]float64); ok {
		return d
	}
	d := make([]float64, len(w.theta))
	for i, v := range w.theta {
		d[i] = float64(v)
	}
	return d
}

func (w *weights[T]) len() int { return len(w.theta) }

// adamTask applies one Adam step to the two halves of the parameters.
type adamTask[T nets.Float] struct {
	step        nets.AdamStepOf[T]
	theta, grad []T
}

func (t *adamTask[T]) Run(part int) {
	mid := len(t.theta) / 2 &^ 7 // a multiple of the vector width of either precision
	if part == 0 {
		t.step.Apply(t.theta, t.grad, 0, mid)
	} else {
		t.step.Apply(t.theta, t.grad, mid, len(t.theta))
	}
}
