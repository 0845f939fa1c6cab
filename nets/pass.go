package nets

import (
	"math"

	"github.com/folio-rl/folio/nets/internal/gemm"
	"github.com/folio-rl/folio/nets/internal/vec"
)

// Pass is the native executor of a Net in float64: forward and backward
// passes for a fixed batch size over the parameters it is bound to, with
// every buffer allocated once by NewPass. Forward and Backward do not
// allocate.
//
// Buffers returned by Input, Output, OutputGrad and InputGrad belong to
// the Pass and stay valid (same backing array) for its lifetime. A Pass is
// not safe for concurrent use; independent towers of one Net run
// concurrently inside Forward and Backward when SetParallel is on.
type Pass = PassOf[float64]

// Pass32 is the native executor in float32: parameters, activations,
// gradients and every product are float32 (the matrix kernel runs eight
// lanes per instruction instead of four), as in PyTorch's default
// precision.
type Pass32 = PassOf[float32]

// PassOf is the native executor of a Net with element type T (see Pass).
type PassOf[T Float] struct {
	net     *Net
	batch   int
	p       ParamsOf[T]
	val     [][]T
	grad    [][]T
	argmax  [][]int32
	clears  [][][]T               // per component, gradient buffers Backward zeroes first
	ws      []gemm.WorkspaceOf[T] // per component, so components can run concurrently
	noParam bool                  // BackwardInputs: skip parameter gradients
	// parallel execution
	run    *Runner   // helper goroutine, nil when serial
	ownRun bool      // run was started by SetParallel
	par    bool      // run executes towers (else it splits products)
	groups [2][]int  // component indices run by the caller / the helper
	tw     towers[T] // the posted tower task
}

// NewPass returns a native float64 executor of n for batch items, bound to
// p (p.Value of length n.NumParams(); p.Grad may be nil if Backward is
// never called). The Pass reads p.Value at every Forward, so in-place
// optimiser steps and checkpoint loads are seen without rebinding.
func (n *Net) NewPass(batch int, p Params) *Pass { return NewPassOf(n, batch, p) }

// NewPass32 is NewPass in float32.
func (n *Net) NewPass32(batch int, p Params32) *Pass32 { return NewPassOf(n, batch, p) }

// NewPassOf is NewPass for element type T.
func NewPassOf[T Float](n *Net, batch int, p ParamsOf[T]) *PassOf[T] {
	if batch <= 0 {
		panic("nets: NewPass: batch must be positive")
	}
	if len(p.Value) != n.layout.Len || (p.Grad != nil && len(p.Grad) != n.layout.Len) {
		panic("nets: NewPass: parameter length mismatch")
	}
	ps := &PassOf[T]{net: n, batch: batch, p: p,
		val: make([][]T, len(n.nodes)), grad: make([][]T, len(n.nodes)),
		argmax: make([][]int32, len(n.nodes))}
	for i, nd := range n.nodes {
		size := batch * nd.rows * nd.cols
		if nd.op == opReshape {
			// A reshape is a view: same data, same gradient.
			ps.val[i] = ps.val[nd.in[0]]
			ps.grad[i] = ps.grad[nd.in[0]]
			continue
		}
		ps.val[i] = make([]T, size)
		if nd.needGrad || nd.op == opDense || isOutput(n, Node(i)) {
			ps.grad[i] = make([]T, size)
		}
		if nd.op == opPoolMax {
			ps.argmax[i] = make([]int32, size)
		}
	}
	ps.ws = make([]gemm.WorkspaceOf[T], n.ncomp)
	ps.planClears()
	ps.planGroups()
	return ps
}

// planClears lists, per component, the gradient buffers Backward must
// zero before accumulating: those of every non-input node and of
// differentiated inputs, except storage shared with an output (a reshape is
// a view), whose gradient the caller supplies.
func (ps *PassOf[T]) planClears() {
	n := ps.net
	root := func(x Node) Node {
		for n.nodes[x].op == opReshape {
			x = n.nodes[x].in[0]
		}
		return x
	}
	outRoot := map[Node]bool{}
	for _, o := range n.outputs {
		outRoot[root(o)] = true
	}
	ps.clears = make([][][]T, n.ncomp)
	seen := map[Node]bool{}
	for i, nd := range n.nodes {
		if nd.comp < 0 || ps.grad[i] == nil {
			continue
		}
		r := root(Node(i))
		if outRoot[r] || seen[r] {
			continue
		}
		seen[r] = true
		ps.clears[nd.comp] = append(ps.clears[nd.comp], ps.grad[r])
	}
}

func isOutput(n *Net, x Node) bool {
	for _, o := range n.outputs {
		if o == x {
			return true
		}
	}
	return false
}

// Batch returns the batch size.
func (ps *PassOf[T]) Batch() int { return ps.batch }

// Net returns the network.
func (ps *PassOf[T]) Net() *Net { return ps.net }

// Params returns the bound parameters.
func (ps *PassOf[T]) Params() ParamsOf[T] { return ps.p }

// Input returns the buffer of input x (batch·rows·cols values, row-major)
// for the caller to fill before Forward.
func (ps *PassOf[T]) Input(x Node) []T {
	if ps.net.nodes[x].op != opInput {
		panic("nets: Input: not an input node")
	}
	return ps.val[x]
}

// Output returns the value of node x after Forward.
func (ps *PassOf[T]) Output(x Node) []T { return ps.val[x] }

// OutputGrad returns the buffer for the loss gradient with respect to
// output x. Before each Backward the caller must overwrite every output's
// buffer completely (zeros for outputs the loss does not use, see
// ZeroOutputGrads); Backward clobbers them.
func (ps *PassOf[T]) OutputGrad(x Node) []T {
	if !isOutput(ps.net, x) {
		panic("nets: OutputGrad: not an output node")
	}
	return ps.grad[x]
}

// ZeroOutputGrads clears every output gradient buffer.
func (ps *PassOf[T]) ZeroOutputGrads() {
	for _, o := range ps.net.outputs {
		clear(ps.grad[o])
	}
}

// InputGrad returns the gradient with respect to input x (declared with
// grad = true) after Backward.
func (ps *PassOf[T]) InputGrad(x Node) []T {
	nd := ps.net.nodes[x]
	if nd.op != opInput || !nd.needGrad {
		panic("nets: InputGrad: not a differentiated input")
	}
	return ps.grad[x]
}

// Forward computes every node from the inputs and the bound parameters.
func (ps *PassOf[T]) Forward() {
	if ps.par {
		ps.runParallel(false)
		return
	}
	for c := range ps.net.compOps {
		ps.forwardComp(c)
	}
}

// Backward propagates the output gradients and adds dLoss/dθ into the
// bound p.Grad (accumulating: clear it between optimiser steps). It uses
// the values of the last Forward, which must not have been changed since.
func (ps *PassOf[T]) Backward() {
	if ps.p.Grad == nil {
		panic("nets: Backward: pass bound without gradient")
	}
	ps.noParam = false
	if ps.par {
		ps.runParallel(true)
		return
	}
	for c := range ps.net.compOps {
		ps.backwardComp(c)
	}
}

// BackwardInputs is Backward without parameter gradients: it fills the
// gradients of differentiated inputs only and leaves p.Grad untouched
// (DDPG's actor loss needs dQ/da, not the critic's weight gradients,
// which would cost as much again). It may be called on a Pass bound
// without gradient storage.
func (ps *PassOf[T]) BackwardInputs() {
	ps.noParam = true
	if ps.par {
		ps.runParallel(true)
	} else {
		for c := range ps.net.compOps {
			ps.backwardComp(c)
		}
	}
	ps.noParam = false
}

func (ps *PassOf[T]) forwardComp(c int) {
	n := ps.net
	for _, id := range n.compOps[c] {
		nd := &n.nodes[id]
		y := ps.val[id]
		switch nd.op {
		case opDense:
			rows := ps.batch * nd.rows
			w := view(n.layout.Segments[nd.w], ps.p.Value)
			b := view(n.layout.Segments[nd.b], ps.p.Value)
			beta, off := T(0), 0
			for _, xi := range nd.in {
				in := n.nodes[xi].cols
				gemm.MulOf(&ps.ws[c], false, false, rows, nd.cols, in, ps.val[xi], in, w[off*nd.cols:], nd.cols, beta, y, nd.cols)
				beta, off = 1, off+in
			}
			biasAct(y, b, nd.act)
		case opConcat:
			off := 0
			for _, xi := range nd.in {
				x, c := ps.val[xi], n.nodes[xi].cols
				rows := len(x) / c
				for r := 0; r < rows; r++ {
					copy(y[r*nd.cols+off:r*nd.cols+off+c], x[r*c:(r+1)*c])
				}
				off += c
			}
		case opSlice:
			x, c := ps.val[nd.in[0]], n.nodes[nd.in[0]].cols
			rows := len(x) / c
			for r := 0; r < rows; r++ {
				copy(y[r*nd.cols:(r+1)*nd.cols], x[r*c+nd.off:r*c+nd.off+nd.cols])
			}
		case opPoolMean:
			x := ps.val[nd.in[0]]
			c, g := nd.cols, nd.group
			inv := 1 / T(g)
			for r := 0; r < len(y)/c; r++ {
				dst := y[r*c : (r+1)*c]
				copy(dst, x[r*g*c:(r*g+1)*c])
				for i := 1; i < g; i++ {
					src := x[(r*g+i)*c : (r*g+i+1)*c]
					for j, v := range src {
						dst[j] += v
					}
				}
				for j := range dst {
					dst[j] *= inv
				}
			}
		case opPoolMax:
			x := ps.val[nd.in[0]]
			am := ps.argmax[id]
			c, g := nd.cols, nd.group
			for r := 0; r < len(y)/c; r++ {
				dst, arg := y[r*c:(r+1)*c], am[r*c:(r+1)*c]
				copy(dst, x[r*g*c:(r*g+1)*c])
				clear(arg)
				for i := 1; i < g; i++ {
					src := x[(r*g+i)*c : (r*g+i+1)*c]
					for j, v := range src {
						if v > dst[j] || v != v && dst[j] == dst[j] { // NaN wins
							dst[j], arg[j] = v, int32(i)
						}
					}
				}
			}
		case opBroadcast:
			x := ps.val[nd.in[0]]
			c, g := nd.cols, nd.group
			for r := 0; r < len(x)/c; r++ {
				src := x[r*c : (r+1)*c]
				for i := 0; i < g; i++ {
					copy(y[(r*g+i)*c:(r*g+i+1)*c], src)
				}
			}
		case opReshape:
			// a view: nothing to do
		}
	}
}

func (ps *PassOf[T]) backwardComp(c int) {
	n := ps.net
	ops := n.compOps[c]
	for _, buf := range ps.clears[c] {
		clear(buf)
	}
	for k := len(ops) - 1; k >= 0; k-- {
		id := ops[k]
		nd := &n.nodes[id]
		dy := ps.grad[id]
		switch nd.op {
		case opDense:
			rows := ps.batch * nd.rows
			actGrad(dy, ps.val[id], nd.act)
			if !ps.noParam {
				gw := view(n.layout.Segments[nd.w], ps.p.Grad)
				gb := view(n.layout.Segments[nd.b], ps.p.Grad)
				off := 0
				for _, xi := range nd.in {
					in := n.nodes[xi].cols
					gemm.MulOf(&ps.ws[c], true, false, in, nd.cols, rows, ps.val[xi], in, dy, nd.cols, 1, gw[off*nd.cols:], nd.cols)
					off += in
				}
				for r := 0; r < rows; r++ {
					vec.AddTo(gb, dy[r*nd.cols:(r+1)*nd.cols])
				}
			}
			w := view(n.layout.Segments[nd.w], ps.p.Value)
			off := 0
			for _, xi := range nd.in {
				in := n.nodes[xi].cols
				if n.nodes[xi].needGrad {
					gemm.MulOf(&ps.ws[c], false, true, rows, in, nd.cols, dy, nd.cols, w[off*nd.cols:], nd.cols, 1, ps.grad[xi], in)
				}
				off += in
			}
		case opConcat:
			off := 0
			for _, xi := range nd.in {
				c := n.nodes[xi].cols
				if n.nodes[xi].needGrad {
					dx := ps.grad[xi]
					rows := len(dx) / c
					for r := 0; r < rows; r++ {
						vec.AddTo(dx[r*c:(r+1)*c], dy[r*nd.cols+off:r*nd.cols+off+c])
					}
				}
				off += c
			}
		case opSlice:
			xi := nd.in[0]
			if !n.nodes[xi].needGrad {
				break
			}
			dx, c := ps.grad[xi], n.nodes[xi].cols
			for r := 0; r < len(dx)/c; r++ {
				vec.AddTo(dx[r*c+nd.off:r*c+nd.off+nd.cols], dy[r*nd.cols:(r+1)*nd.cols])
			}
		case opPoolMean:
			xi := nd.in[0]
			if !n.nodes[xi].needGrad {
				break
			}
			dx := ps.grad[xi]
			c, g := nd.cols, nd.group
			inv := 1 / T(g)
			for r := 0; r < len(dy)/c; r++ {
				src := dy[r*c : (r+1)*c]
				for i := 0; i < g; i++ {
					d := dx[(r*g+i)*c : (r*g+i+1)*c]
					for j, v := range src {
						d[j] += v * inv
					}
				}
			}
		case opPoolMax:
			xi := nd.in[0]
			if !n.nodes[xi].needGrad {
				break
			}
			dx := ps.grad[xi]
			am := ps.argmax[id]
			c, g := nd.cols, nd.group
			for r := 0; r < len(dy)/c; r++ {
				for j := 0; j < c; j++ {
					dx[(r*g+int(am[r*c+j]))*c+j] += dy[r*c+j]
				}
			}
		case opBroadcast:
			xi := nd.in[0]
			if !n.nodes[xi].needGrad {
				break
			}
			dx := ps.grad[xi]
			c, g := nd.cols, nd.group
			for r := 0; r < len(dx)/c; r++ {
				d := dx[r*c : (r+1)*c]
				for i := 0; i < g; i++ {
					vec.AddTo(d, dy[(r*g+i)*c:(r*g+i+1)*c])
				}
			}
		case opReshape:
			// gradient buffers are shared with the input
		}
	}
}

// view returns segment s of v.
func view[T Float](s Segment, v []T) []T {
	return v[s.Offset : s.Offset+s.Len() : s.Offset+s.Len()]
}

// biasAct adds the bias row to every row of y and applies act in place.
func biasAct[T Float](y, b []T, act Act) {
	c := len(b)
	for r := 0; r < len(y)/c; r++ {
		row := y[r*c : (r+1)*c]
		switch act {
		case ReLU:
			vec.AddReLU(row, b)
		case Sigmoid:
			for j, v := range b {
				row[j] = T(sigmoid(float64(row[j] + v)))
			}
		default:
			vec.AddTo(row, b)
		}
	}
	if act == Tanh {
		tanhTo(y)
	}
}

// tanhTo applies tanh in place in T's precision.
func tanhTo[T Float](y []T) {
	switch p := any(&y).(type) {
	case *[]float64:
		vec.Tanh(*p)
	case *[]float32:
		vec.Tanh32(*p)
	}
}

// actGrad multiplies dy in place by act'(·) expressed through the output y.
func actGrad[T Float](dy, y []T, act Act) {
	switch act {
	case Tanh:
		switch p := any(&dy).(type) {
		case *[]float64:
			vec.TanhGrad(*p, *any(&y).(*[]float64))
		case *[]float32:
			vec.TanhGrad32(*p, *any(&y).(*[]float32))
		}
	case ReLU:
		vec.ReLUGrad(dy, y)
	case Sigmoid:
		for i, v := range y {
			dy[i] *= v * (1 - v)
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
