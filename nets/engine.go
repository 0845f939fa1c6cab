package nets

import "fmt"

// Backends (the TOML values of an agent's backend key).
const (
	BackendNative   = "native"   // the hand-written Pass (default: fast, allocation-free)
	BackendGorgonia = "gorgonia" // gorgonia graphs (the reference; slower)
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

// NewEngine returns an engine of backend for net at batch size batch bound
// to p. With train, Backward is available (p.Grad must be non-nil).
// parallel runs independent towers concurrently (native backend).
func NewEngine(backend string, net *Net, batch int, p Params, train, parallel bool) (Engine, error) {
	switch backend {
	case BackendNative:
		if train && p.Grad == nil {
			return nil, fmt.Errorf("nets: NewEngine: training engine without gradient storage")
		}
		ps := net.NewPass(batch, p)
		ps.SetParallel(parallel)
		return nativeEngine{ps}, nil
	case BackendGorgonia:
		return newGraphEngine(net, batch, p, train)
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
