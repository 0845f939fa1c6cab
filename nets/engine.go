package nets

import (
	"fmt"

	"github.com/folio-rl/folio/nets/internal/vec"
)

// Backends (the TOML values of an agent's backend key).
const (
	BackendNative   = "native"   // the hand-written Pass (default: fast, allocation-free)
	BackendGorgonia = "gorgonia" // gorgonia graphs (the reference; slower)
)

// Precisions (the TOML values of an agent's precision key).
const (
	PrecisionFloat64 = "float64" // parameters, activations and products in float64
	PrecisionFloat32 = "float32" // all of them in float32 (native backend only)
)

// Engine runs a Net for a fixed batch size over bound parameters: the
// native Pass or a pair of gorgonia graphs. Algorithms are written against
// it so that the backend is a configuration switch and each backend can be
// tested against the other end to end.
//
// Use: fill Input buffers; Forward; read Output; write every OutputGrad
// buffer completely; Backward adds dLoss/dθ into Params.Grad and fills
// InputGrad for differentiated inputs.
type Engine interface {
	Inputs
	Output(x Node) []float64
	OutputGrad(x Node) []float64
	InputGrad(x Node) []float64
	ZeroOutputGrads()
	Forward() error
	Backward() error
	// BackwardInputs fills the input gradients like Backward but need
	// not accumulate parameter gradients (the native engine skips them;
	// the gorgonia engine adds them into Params.Grad anyway, so callers
	// must not rely on Params.Grad after it).
	BackwardInputs() error
	Close() error
}

// NewEngine returns a float64 engine of backend for net at batch size
// batch bound to p. With train, Backward is available (p.Grad must be
// non-nil). parallel runs independent towers (or the halves of large
// products) concurrently on a helper goroutine of the engine's own
// (native backend); NewEngineOf shares one.
func NewEngine(backend string, net *Net, batch int, p Params, train, parallel bool) (Engine, error) {
	e, err := NewEngineOf(backend, net, batch, p, train, nil)
	if err == nil && parallel {
		if ne, ok := e.(nativeEngine); ok {
			ne.Pass.SetParallel(true)
		}
	}
	return e, err
}

// NewEngineOf returns an engine of backend for net at batch size batch
// bound to p, in T's precision: float64 (either backend) or float32
// (native only). With train, Backward is available (p.Grad must be
// non-nil). A non-nil r runs the engine's parallel work (towers, or the
// halves of large products) on its helper goroutine; the engine does not
// close it.
//
// A float32 engine keeps its parameters, activations and gradients in
// float32, but its Input, Output, OutputGrad and InputGrad buffers are
// float64, so algorithms are written once for both precisions: Forward
// rounds the inputs to float32 and widens the declared outputs after the
// pass; Backward rounds the output gradients and widens the input
// gradients. Output of a node that is not a declared output is widened on
// each call.
func NewEngineOf[T Float](backend string, net *Net, batch int, p ParamsOf[T], train bool, r *Runner) (Engine, error) {
	var z T
	_, f32 := any(z).(float32)
	switch backend {
	case BackendNative:
		if train && p.Grad == nil {
			return nil, fmt.Errorf("nets: NewEngine: training engine without gradient storage")
		}
		ps := NewPassOf(net, batch, p)
		ps.SetRunner(r)
		switch ps := any(ps).(type) {
		case *Pass:
			return nativeEngine{ps}, nil
		case *Pass32:
			return newEngine32(ps), nil
		}
	case BackendGorgonia:
		if f32 {
			return nil, fmt.Errorf("nets: the gorgonia backend runs in %s only", PrecisionFloat64)
		}
		return newGraphEngine(net, batch, any(p).(Params), train)
	}
	return nil, fmt.Errorf("nets: backend %q (want %q or %q)", backend, BackendNative, BackendGorgonia)
}

type nativeEngine struct{ *Pass }

func (e nativeEngine) Forward() error  { e.Pass.Forward(); return nil }
func (e nativeEngine) Backward() error { e.Pass.Backward(); return nil }
func (e nativeEngine) BackwardInputs() error {
	e.Pass.BackwardInputs()
	return nil
}
func (e nativeEngine) Close() error { e.Pass.Close(); return nil }

// BindInput makes native engine e read input x from buf (batch·rows·cols
// values in the engine's precision) instead of a buffer of its own, so
// that several engines read one buffer without copies (an agent's sampled
// minibatch). The caller fills buf before Forward; e.Input(x) of a float64
// engine then returns buf, and of a float32 engine panics (its float64
// view is no longer read). BindInput reports false and changes nothing for
// a gorgonia engine or an engine of another precision.
func BindInput[T Float](e Engine, x Node, buf []T) bool {
	switch e := e.(type) {
	case nativeEngine:
		if b, ok := any(buf).([]float64); ok {
			e.Pass.bind(x, b)
			return true
		}
	case *engine32:
		if b, ok := any(buf).([]float32); ok {
			e.ps.bind(x, b)
			e.in[x] = nil
			return true
		}
	}
	return false
}

func (ps *PassOf[T]) bind(x Node, buf []T) {
	nd := ps.net.nodes[x]
	if nd.op != opInput || nd.needGrad {
		panic("nets: BindInput: not an input without gradient")
	}
	if len(buf) != len(ps.val[x]) {
		panic("nets: BindInput: buffer length mismatch")
	}
	ps.val[x] = buf
}

// engine32 is a float32 Pass behind float64 input and output buffers.
type engine32 struct {
	ps                 *Pass32
	in, out, outG, inG [][]float64 // per node: float64 views (nil where not applicable or bound)
	other              [][]float64 // Output of undeclared nodes, allocated on first use
}

func newEngine32(ps *Pass32) *engine32 {
	n := ps.net
	e := &engine32{ps: ps}
	for _, s := range []*[][]float64{&e.in, &e.out, &e.outG, &e.inG, &e.other} {
		*s = make([][]float64, len(n.nodes))
	}
	size := func(x Node) int { return ps.batch * n.nodes[x].rows * n.nodes[x].cols }
	for _, x := range n.inputs {
		e.in[x] = make([]float64, size(x))
		if n.nodes[x].needGrad {
			e.inG[x] = make([]float64, size(x))
		}
	}
	for _, o := range n.outputs {
		if e.out[o] == nil {
			e.out[o] = make([]float64, size(o))
			e.outG[o] = make([]float64, size(o))
		}
	}
	return e
}

func (e *engine32) Input(x Node) []float64 {
	if e.in[x] == nil {
		panic("nets: Input: not an input node, or bound to a float32 buffer")
	}
	return e.in[x]
}

func (e *engine32) Output(x Node) []float64 {
	if e.out[x] != nil {
		return e.out[x]
	}
	if e.other[x] == nil {
		e.other[x] = make([]float64, len(e.ps.val[x]))
	}
	vec.Convert(e.other[x], e.ps.val[x])
	return e.other[x]
}

func (e *engine32) OutputGrad(x Node) []float64 {
	if e.outG[x] == nil {
		panic("nets: OutputGrad: not an output node")
	}
	return e.outG[x]
}

func (e *engine32) InputGrad(x Node) []float64 {
	if e.inG[x] == nil {
		panic("nets: InputGrad: not a differentiated input")
	}
	return e.inG[x]
}

func (e *engine32) ZeroOutputGrads() {
	for _, o := range e.ps.net.outputs {
		clear(e.outG[o])
	}
}

func (e *engine32) Forward() error {
	n := e.ps.net
	for _, x := range n.inputs {
		if e.in[x] != nil {
			vec.Convert(e.ps.val[x], e.in[x])
		}
	}
	e.ps.Forward()
	for _, o := range n.outputs {
		vec.Convert(e.out[o], e.ps.val[o])
	}
	return nil
}

func (e *engine32) backward(inputsOnly bool) {
	n := e.ps.net
	for _, o := range n.outputs {
		vec.Convert(e.ps.grad[o], e.outG[o])
	}
	if inputsOnly {
		e.ps.BackwardInputs()
	} else {
		e.ps.Backward()
	}
	for _, x := range n.inputs {
		if e.inG[x] != nil {
			vec.Convert(e.inG[x], e.ps.grad[x])
		}
	}
}

func (e *engine32) Backward() error {
	if e.ps.p.Grad == nil {
		panic("nets: Backward: pass bound without gradient")
	}
	e.backward(false)
	return nil
}

func (e *engine32) BackwardInputs() error { e.backward(true); return nil }

func (e *engine32) Close() error { e.ps.Close(); return nil }

// graphEngine runs the forward pass on a forward-only graph and the
// backward pass on a training graph; both are bound to the same parameter
// vector (STYLE.md pitfall 4: separate graphs, shared weights). The
// training graph recomputes the forward pass, gorgonia's price for a loss
// whose gradient is computed outside the graph.
type graphEngine struct {
	fwd, tr *Graph
	net     *Net
}

func newGraphEngine(net *Net, batch int, p Params, train bool) (Engine, error) {
	fwd, err := net.NewGraph(batch, p, false)
	if err != nil {
		return nil, err
	}
	e := &graphEngine{fwd: fwd, net: net}
	if train {
		if e.tr, err = net.NewGraph(batch, p, true); err != nil {
			fwd.Close()
			return nil, err
		}
	}
	return e, nil
}

func (e *graphEngine) Input(x Node) []float64  { return e.fwd.Input(x) }
func (e *graphEngine) Output(x Node) []float64 { return e.fwd.Output(x) }
func (e *graphEngine) Forward() error          { return e.fwd.Run() }

func (e *graphEngine) OutputGrad(x Node) []float64 {
	if e.tr == nil {
		panic("nets: OutputGrad on a forward-only engine")
	}
	return e.tr.OutputGrad(x)
}

func (e *graphEngine) InputGrad(x Node) []float64 {
	if e.tr == nil {
		panic("nets: InputGrad on a forward-only engine")
	}
	return e.tr.InputGrad(x)
}

func (e *graphEngine) ZeroOutputGrads() {
	for _, o := range e.net.outputs {
		clear(e.OutputGrad(o))
	}
}

func (e *graphEngine) Backward() error {
	if e.tr == nil {
		panic("nets: Backward on a forward-only engine")
	}
	for _, x := range e.net.inputs {
		copy(e.tr.Input(x), e.fwd.Input(x))
	}
	return e.tr.Run()
}

func (e *graphEngine) BackwardInputs() error { return e.Backward() }

func (e *graphEngine) Close() error {
	err := e.fwd.Close()
	if e.tr != nil {
		if err2 := e.tr.Close(); err == nil {
			err = err2
		}
	}
	return err
}
