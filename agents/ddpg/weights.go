package ddpg

import (
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/nets"
)

// weights is the agent's trainable state in precision T (the configured
// nets precision): online parameters, their gradients and target copies
// of the actor and the critic, and the two Adam states. The algorithm
// (update.go) is written once against the float64 buffers of the engines
// and the weightSet methods below.
type weights[T nets.Float] struct {
	actorP, actorG, actorT    []T // online parameters, gradient, target parameters
	criticP, criticG, criticT []T
	adamA, adamC              *nets.AdamOf[T]
	zeroG                     []T // critic gradient sink for the gorgonia backend's BackwardInputs

	adam adamTask[T]
	soft softTask[T]
}

// weightSet is what the algorithm needs from weights of either precision.
type weightSet interface {
	// buildEngines creates the agent's training engines bound to the
	// weights.
	buildEngines(a *Agent) error
	// newBatch returns the minibatch to sample into, and whether the
	// training engines read its observations directly.
	newBatch(a *Agent) (*agents.Batch, bool)
	// actorEngine returns a forward-only actor engine at batch size b.
	actorEngine(a *Agent, b int, r *nets.Runner) (nets.Engine, error)
	clearGrad(critic bool)
	gradNorm(critic bool) float64
	// adamStep takes one Adam step of the actor or the critic, the two
	// halves of the vector on the runner's two goroutines.
	adamStep(critic bool, lr, scale float64, r *nets.Runner)
	// softUpdate Polyak-averages both targets (actor and critic on the
	// runner's two goroutines).
	softUpdate(tau float64, r *nets.Runner)
	adamSteps() (actor, critic int)
	setAdamSteps(actor, critic int)
	// blocks returns the checkpoint blocks of the state in f64Blocks
	// order (without "ou").
	blocks() []nets.Block
	// load copies checkpoint blocks into the state: all of them, or only
	// the parameters (converting between precisions).
	load(bs []nets.Block, weightsOnly bool) error
	// params returns a float64 copy (float64 storage itself) of the
	// online actor or critic parameters.
	params(critic bool) []float64
}

func newWeights[T nets.Float](a *Agent, rng *rand.Rand) *weights[T] {
	na, nc := a.actor.Net.NumParams(), a.critic.Net.NumParams()
	w := &weights[T]{
		actorP: make([]T, na), actorG: make([]T, na), actorT: make([]T, na),
		criticP: make([]T, nc), criticG: make([]T, nc), criticT: make([]T, nc),
		adamA: nets.NewAdamOf[T](na, 0.9, 0.999, a.cfg.AdamEps),
		adamC: nets.NewAdamOf[T](nc, 0.9, 0.999, a.cfg.AdamEps),
	}
	nets.InitTo(w.actorP, a.actor.Net.Layout(), rng)
	nets.InitTo(w.criticP, a.critic.Net.Layout(), rng)
	copy(w.actorT, w.actorP)
	copy(w.criticT, w.criticP)
	w.soft = softTask[T]{w: w}
	return w
}

func (w *weights[T]) buildEngines(a *Agent) error {
	cfg := &a.cfg
	m, be, r := cfg.BatchSize, cfg.Backend, a.runner
	// Tower 1's layout is the twin critic's prefix (towers are declared in
	// order), so a single-tower net bound to that prefix evaluates Q1 with
	// the critic's own weights.
	n1 := a.q1.Net.NumParams()
	q1p := nets.ParamsOf[T]{Value: w.criticP[:n1]}
	if be == nets.BackendGorgonia {
		w.zeroG = make([]T, n1)
		q1p.Grad = w.zeroG // gorgonia's BackwardInputs still writes parameter gradients
	}
	for _, e := range []struct {
		dst   *nets.Engine
		net   *nets.Net
		p     nets.ParamsOf[T]
		train bool
	}{
		{&a.actTrain, a.actor.Net, nets.ParamsOf[T]{Value: w.actorP, Grad: w.actorG}, true},
		{&a.actTarget, a.actor.Net, nets.ParamsOf[T]{Value: w.actorT}, false},
		{&a.crTrain, a.critic.Net, nets.ParamsOf[T]{Value: w.criticP, Grad: w.criticG}, true},
		{&a.crTarget, a.critic.Net, nets.ParamsOf[T]{Value: w.criticT}, false},
		{&a.q1Loss, a.q1.Net, q1p, be == nets.BackendGorgonia},
	} {
		var err error
		if *e.dst, err = nets.NewEngineOf(be, e.net, m, e.p, e.train, r); err != nil {
			return err
		}
	}
	return nil
}

// newBatch returns the agent's minibatch. With the flat trunk the
// observations are sampled in T (float32 ones are copied from the replay
// buffer without conversion) into buffers the training engines read
// directly: the actor, critic and Q₁ engines the current observations,
// the target engines the next ones.
func (w *weights[T]) newBatch(a *Agent) (*agents.Batch, bool) {
	m := a.cfg.BatchSize
	xa, okA := a.actor.Feed.Whole()
	xc, okC := a.critic.Feed.Whole()
	xq, okQ := a.q1.Feed.Whole()
	if !okA || !okC || !okQ {
		return a.replay.NewBatch(m), false
	}
	b := a.replay.NewBatch(m)
	var obs, next []T
	switch p := any(&obs).(type) {
	case *[]float64:
		*p, *any(&next).(*[]float64) = b.Obs, b.Next
	case *[]float32:
		b.Obs32, b.Next32 = make([]float32, len(b.Obs)), make([]float32, len(b.Next))
		*p, *any(&next).(*[]float32) = b.Obs32, b.Next32
		b.Obs = nil
		if a.actor.Pred < 0 && len(a.critic.Pred) == 0 {
			b.Next = nil // the dynamic embedding's targets read it
		}
	}
	for _, e := range []struct {
		e   nets.Engine
		x   nets.Node
		buf []T
	}{{a.actTrain, xa, obs}, {a.crTrain, xc, obs}, {a.q1Loss, xq, obs}, {a.actTarget, xa, next}, {a.crTarget, xc, next}} {
		if !nets.BindInput(e.e, e.x, e.buf) {
			return a.replay.NewBatch(m), false // gorgonia: fill by copying
		}
	}
	return b, true
}

func (w *weights[T]) actorEngine(a *Agent, b int, r *nets.Runner) (nets.Engine, error) {
	return nets.NewEngineOf(a.cfg.Backend, a.actor.Net, b, nets.ParamsOf[T]{Value: w.actorP}, false, r)
}

func (w *weights[T]) clearGrad(critic bool) {
	if critic {
		clear(w.criticG)
	} else {
		clear(w.actorG)
	}
}

func (w *weights[T]) gradNorm(critic bool) float64 {
	if critic {
		return nets.GradNorm(w.criticG)
	}
	return nets.GradNorm(w.actorG)
}

func (w *weights[T]) adamStep(critic bool, lr, scale float64, r *nets.Runner) {
	if critic {
		w.adam = adamTask[T]{step: w.adamC.Begin(lr, scale), theta: w.criticP, grad: w.criticG}
	} else {
		w.adam = adamTask[T]{step: w.adamA.Begin(lr, scale), theta: w.actorP, grad: w.actorG}
	}
	r.Run(&w.adam)
}

func (w *weights[T]) softUpdate(tau float64, r *nets.Runner) {
	w.soft.tau = tau
	r.Run(&w.soft)
}

func (w *weights[T]) adamSteps() (int, int) { return w.adamA.Step, w.adamC.Step }

func (w *weights[T]) setAdamSteps(actor, critic int) { w.adamA.Step, w.adamC.Step = actor, critic }

func (w *weights[T]) state() [][]T {
	return [][]T{w.actorP, w.criticP, w.actorT, w.criticT, w.adamA.M, w.adamA.V, w.adamC.M, w.adamC.V}
}

func (w *weights[T]) blocks() []nets.Block {
	st := w.state()
	bs := make([]nets.Block, len(st))
	for i, v := range st {
		bs[i] = block(f64Blocks[i], v)
	}
	return bs
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
	st := w.state()
	if weightsOnly {
		st = st[:4]
	}
	return nets.LoadBlocks(st, bs, weightsOnly)
}

func (w *weights[T]) params(critic bool) []float64 {
	p := w.actorP
	if critic {
		p = w.criticP
	}
	if d, ok := any(p).([]float64); ok {
		return d
	}
	d := make([]float64, len(p))
	for i, v := range p {
		d[i] = float64(v)
	}
	return d
}

// softTask Polyak-averages the actor's targets (part 0) and the critic's
// (part 1).
type softTask[T nets.Float] struct {
	w   *weights[T]
	tau float64
}

func (t *softTask[T]) Run(part int) {
	if part == 0 {
		nets.SoftUpdate(t.w.actorT, t.w.actorP, t.tau)
	} else {
		nets.SoftUpdate(t.w.criticT, t.w.criticP, t.tau)
	}
}

// adamTask applies one Adam step to the two halves of a parameter vector.
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
