package nets

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph is the gorgonia executor of a Net: the reference the native Pass
// is tested against, and usable on its own. It follows the rules in
// STYLE.md's gorgonia pitfalls:
//
//   - the expression graph and its tape machine are built once (pitfall 1);
//   - Run binds nothing: inputs are preallocated tensors whose backing
//     slices the caller fills in place (pitfall 7), and Run always Resets
//     the machine after RunAll (pitfall 2);
//   - weight nodes are created WithValue over tensors backed by the bound
//     Params.Value, so in-place optimiser steps and checkpoint loads are
//     seen by every Graph and Pass bound to the same vector (pitfall 4);
//   - a training Graph reads the gradient nodes returned by Grad after each
//     run instead of binding dual values, so gradients never accumulate
//     across runs (pitfall 3), and the solver is nets' own Adam (pitfall 10);
//   - gorgonia's clock-seeded initialisers and Dropout are never used
//     (pitfall 6); Close releases the machine (pitfall 11).
//
// The loss of a training Graph is Σ_outputs Σ out ⊙ dOut with dOut given
// as inputs (OutputGrad), so its parameter gradient is exactly the
// vector–Jacobian product a Pass's Backward computes.
type Graph struct {
	net    *Net
	batch  int
	p      Params
	train  bool
	g      *G.ExprGraph
	nodes  []*G.Node
	in     map[Node][]float64
	dout   map[Node][]float64
	out    map[Node][]float64
	read   map[Node]*G.Node
	wrt    []*G.Node
	gnodes G.Nodes
	gdst   [][]float64 // where each gradient goes: a Params.Grad segment or an input-gradient buffer
	gadd   []bool      // add into gdst (parameters) or overwrite (inputs)
	ingrad map[Node][]float64
	m      G.VM
}

// NewGraph builds the gorgonia graph of n for batch items bound to p. With
// train, it also builds the backward graph: Run then adds dLoss/dθ into
// p.Grad (which must be non-nil) and fills the input gradients.
func (n *Net) NewGraph(batch int, p Params, train bool) (gr *Graph, err error) {
	if batch <= 0 {
		return nil, errors.New("nets: NewGraph: batch must be positive")
	}
	if len(p.Value) != n.layout.Len || (train && len(p.Grad) != n.layout.Len) {
		return nil, ErrShape
	}
	defer func() {
		// gorgonia's graph constructors panic on shape errors deep inside;
		// shapes here come from a validated Net, so a panic is a bug, but
		// exported constructors return errors (STYLE.md 2.5).
		if r := recover(); r != nil {
			gr, err = nil, fmt.Errorf("nets: NewGraph: %v", r)
		}
	}()
	gr = &Graph{net: n, batch: batch, p: p, train: train, g: G.NewGraph(),
		nodes: make([]*G.Node, len(n.nodes)), in: map[Node][]float64{},
		dout: map[Node][]float64{}, out: map[Node][]float64{}, ingrad: map[Node][]float64{}}
	g := gr.g
	params := make([]*G.Node, len(n.layout.Segments))
	type wblock struct {
		node        *G.Node
		seg, off, n int
	}
	var wblocks []wblock
	param := func(si int) *G.Node {
		if params[si] == nil {
			s := n.layout.Segments[si]
			t := tensor.New(tensor.WithShape(s.Rows, s.Cols), tensor.WithBacking(s.View(p.Value)))
			params[si] = G.NewMatrix(g, tensor.Float64, G.WithShape(s.Rows, s.Cols), G.WithName(s.Name), G.WithValue(t))
		}
		return params[si]
	}
	for i, nd := range n.nodes {
		rows := batch * nd.rows
		var x *G.Node
		switch nd.op {
		case opInput:
			buf := make([]float64, rows*nd.cols)
			t := tensor.New(tensor.WithShape(rows, nd.cols), tensor.WithBacking(buf))
			x = G.NewMatrix(g, tensor.Float64, G.WithShape(rows, nd.cols), G.WithName("in:"+nd.name), G.WithValue(t))
			gr.in[Node(i)] = buf
		case opDense:
			// One weight node per input block (consecutive rows of W, a
			// contiguous sub-slice of the parameter vector).
			s := n.layout.Segments[nd.w]
			off := 0
			for k, xi := range nd.in {
				in := n.nodes[xi].cols
				v := s.View(p.Value)[off*nd.cols : (off+in)*nd.cols]
				t := tensor.New(tensor.WithShape(in, nd.cols), tensor.WithBacking(v))
				wk := G.NewMatrix(g, tensor.Float64, G.WithShape(in, nd.cols), G.WithName(fmt.Sprintf("%s[%d]", s.Name, k)), G.WithValue(t))
				wblocks = append(wblocks, wblock{node: wk, seg: nd.w, off: off * nd.cols, n: in * nd.cols})
				xw := G.Must(G.Mul(gr.nodes[xi], wk))
				if x == nil {
					x = xw
				} else {
					x = G.Must(G.Add(x, xw))
				}
				off += in
			}
			x = G.Must(G.BroadcastAdd(x, param(nd.b), nil, []byte{0}))
			switch nd.act {
			case Tanh:
				x = G.Must(G.Tanh(x))
			case ReLU:
				x = G.Must(G.Rectify(x))
			case Sigmoid:
				x = G.Must(G.Sigmoid(x))
			}
		case opConcat:
			xs := make(G.Nodes, len(nd.in))
			for j, xi := range nd.in {
				xs[j] = gr.nodes[xi]
			}
			if len(xs) == 1 {
				x = xs[0]
			} else {
				x = G.Must(G.Concat(1, xs...))
			}
		case opSlice:
			x = G.Must(G.Slice(gr.nodes[nd.in[0]], nil, G.S(nd.off, nd.off+nd.cols)))
			if nd.cols == 1 || rows == 1 {
				// gorgonia drops unit dimensions when slicing
				x = G.Must(G.Reshape(x, tensor.Shape{rows, nd.cols}))
			}
		case opPoolMean, opPoolMax:
			in := gr.nodes[nd.in[0]]
			r3 := G.Must(G.Reshape(in, tensor.Shape{rows, nd.group, nd.cols}))
			if nd.op == opPoolMean {
				x = G.Must(G.Mean(r3, 1))
			} else {
				x = G.Must(G.Max(r3, 1))
			}
			if !x.Shape().Eq(tensor.Shape{rows, nd.cols}) {
				x = G.Must(G.Reshape(x, tensor.Shape{rows, nd.cols}))
			}
		case opBroadcast:
			// Repeating rows is a product with a 0/1 expansion matrix:
			// E[r·g+i, r] = 1. Costly, but this Graph is the reference.
			in := gr.nodes[nd.in[0]]
			src := rows / nd.group
			e := make([]float64, rows*src)
			for r := 0; r < src; r++ {
				for k := 0; k < nd.group; k++ {
					e[(r*nd.group+k)*src+r] = 1
				}
			}
			et := tensor.New(tensor.WithShape(rows, src), tensor.WithBacking(e))
			en := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, src), G.WithName(fmt.Sprintf("expand%d", i)), G.WithValue(et))
			x = G.Must(G.Mul(en, in))
		case opReshape:
			x = G.Must(G.Reshape(gr.nodes[nd.in[0]], tensor.Shape{rows, nd.cols}))
		}
		gr.nodes[i] = x
	}
	// Outputs are read through a copy that nothing consumes: gorgonia may
	// overwrite a value in place at its last use (an element-wise op such
	// as the HadamardProd of the training loss), so a node with consumers
	// does not hold its value after RunAll, but a root does.
	gr.read = map[Node]*G.Node{}
	zero := G.NewConstant(0.0, G.WithName("zero"))
	for _, o := range n.outputs {
		nd := n.nodes[o]
		gr.out[o] = make([]float64, batch*nd.rows*nd.cols)
		gr.read[o] = G.Must(G.Add(gr.nodes[o], zero))
	}
	if train {
		var cost *G.Node
		for _, o := range n.outputs {
			nd := n.nodes[o]
			rows := batch * nd.rows
			buf := make([]float64, rows*nd.cols)
			t := tensor.New(tensor.WithShape(rows, nd.cols), tensor.WithBacking(buf))
			d := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, nd.cols), G.WithName(fmt.Sprintf("dout%d", o)), G.WithValue(t))
			gr.dout[o] = buf
			term := G.Must(G.Sum(G.Must(G.HadamardProd(gr.nodes[o], d))))
			if cost == nil {
				cost = term
			} else {
				cost = G.Must(G.Add(cost, term))
			}
		}
		for si, pn := range params {
			if pn == nil {
				continue
			}
			gr.wrt = append(gr.wrt, pn)
			gr.gdst = append(gr.gdst, n.layout.Segments[si].View(p.Grad))
			gr.gadd = append(gr.gadd, true)
		}
		for _, wb := range wblocks {
			gr.wrt = append(gr.wrt, wb.node)
			gr.gdst = append(gr.gdst, n.layout.Segments[wb.seg].View(p.Grad)[wb.off:wb.off+wb.n])
			gr.gadd = append(gr.gadd, true)
		}
		for _, x := range n.inputs {
			if n.nodes[x].needGrad {
				buf := make([]float64, len(gr.in[x]))
				gr.ingrad[x] = buf
				gr.wrt = append(gr.wrt, gr.nodes[x])
				gr.gdst = append(gr.gdst, buf)
				gr.gadd = append(gr.gadd, false)
			}
		}
		if gr.gnodes, err = G.Grad(cost, gr.wrt...); err != nil {
			return nil, fmt.Errorf("nets: NewGraph: grad: %w", err)
		}
	}
	gr.m = G.NewTapeMachine(g)
	return gr, nil
}

// Input returns the backing slice of input x's tensor; fill it in place.
func (gr *Graph) Input(x Node) []float64 {
	buf, ok := gr.in[x]
	if !ok {
		panic("nets: Graph.Input: not an input node")
	}
	return buf
}

// OutputGrad returns the backing slice of dOut for output x (training
// graphs only).
func (gr *Graph) OutputGrad(x Node) []float64 {
	buf, ok := gr.dout[x]
	if !ok {
		panic("nets: Graph.OutputGrad: not an output of a training graph")
	}
	return buf
}

// Output returns a copy of output x made by the last Run.
func (gr *Graph) Output(x Node) []float64 {
	buf, ok := gr.out[x]
	if !ok {
		panic("nets: Graph.Output: not an output node")
	}
	return buf
}

// InputGrad returns the gradient with respect to a differentiated input
// after the last Run of a training graph.
func (gr *Graph) InputGrad(x Node) []float64 {
	buf, ok := gr.ingrad[x]
	if !ok {
		panic("nets: Graph.InputGrad: not a differentiated input of a training graph")
	}
	return buf
}

// Run executes the graph once: RunAll, copy the outputs (and for a
// training graph add the parameter gradients into Params.Grad and copy the
// input gradients), then Reset. Values read are copied out before Reset
// because gorgonia reallocates every intermediate per run (pitfall 8).
func (gr *Graph) Run() error {
	defer gr.m.Reset()
	if err := gr.m.RunAll(); err != nil {
		return fmt.Errorf("nets: graph run: %w", err)
	}
	for o, buf := range gr.out {
		copy(buf, gr.read[o].Value().Data().([]float64))
	}
	for i, gn := range gr.gnodes {
		src := gn.Value().Data().([]float64)
		dst := gr.gdst[i]
		if gr.gadd[i] {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
	return nil
}

// Close releases the tape machine. The Graph must not be used afterwards.
func (gr *Graph) Close() error {
	if gr.m == nil {
		return nil
	}
	err := gr.m.Close()
	gr.m = nil
	return err
}
