package nets

import (
	"math"

	"github.com/folio-rl/folio/nets/internal/gemm"
	"github.com/folio-rl/folio/nets/internal/vec"
)

// Pass is the native executor of a Net: forward and backward passes for a
// fixed batch size over the parameters it is bound to, with every buffer
// allocated once by NewPass. Forward and Backward do not allocate.
//
// Buffers returned by Input, Output, OutputGrad and InputGrad belong to
// the Pass and stay valid (same backing array) for its lifetime. A Pass is
// not safe for concurrent use; independent towers of one Net run
// concurrently inside Forward and Backward when SetParallel is on.
type Pass struct {
	net     *Net
	batch   int
	p       Params
	val     [][]float64
	grad    [][]float64
	argmax  [][]int32
	clears  [][][]float64    // per component, gradient buffers Backward zeroes first
	ws      []gemm.Workspace // per component, so components can run concurrently
	noParam bool             // BackwardInputs: skip parameter gradients
	// parallel execution of components
	par    bool
	groups [2][]int // component indices run by the caller / the worker
	w      *worker
}

// NewPass returns a native executor of n for batch items, bound to p
// (p.Value of length n.NumParams(); p.Grad may be nil if Backward is never
// called). The Pass reads p.Value at every Forward, so in-place optimiser
// steps and checkpoint loads are seen without rebinding.
func (n *Net) NewPass(batch int, p Params) *Pass {
	if batch <= 0 {
		panic("nets: NewPass: batch must be positive")
	}
	if len(p.Value) != n.layout.Len || (p.Grad != nil && len(p.Grad) != n.layout.Len) {
		panic("nets: NewPass: parameter length mismatch")
	}
	ps := &Pass{net: n, batch: batch, p: p,
		val: make([][]float64, len(n.nodes)), grad: make([][]float64, len(n.nodes)),
		argmax: make([][]int32, len(n.nodes))}
	for i, nd := range n.nodes {
		size := batch * nd.rows * nd.cols
		if nd.op == opReshape {
			// A reshape is a view: same data, same gradient.
			ps.val[i] = ps.val[nd.in[0]]
			ps.grad[i] = ps.grad[nd.in[0]]
			continue
		}
		ps.val[i] = make([]float64, size)
		if nd.needGrad || nd.op == opDense || isOutput(n, Node(i)) {
			ps.grad[i] = make([]float64, size)
		}
		if nd.op == opPoolMax {
			ps.argmax[i] = make([]int32, size)
		}
	}
	ps.ws = make([]gemm.Workspace, n.ncomp)
	ps.planClears()
	ps.planGroups()
	return ps
}

// planClears lists, per component, the gradient buffers Backward must
// zero before accumulating: those of every non-input node and of
// differentiated inputs, except storage shared with an output (a reshape is
// a view), whose gradient the caller supplies.
func (ps *Pass) planClears() {
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
	ps.clears = make([][][]float64, n.ncomp)
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
func (ps *Pass) Batch() int { return ps.batch }

// Net returns the network.
func (ps *Pass) Net() *Net { return ps.net }

// Params returns the bound parameters.
func (ps *Pass) Params() Params { return ps.p }

// Input returns the buffer of input x (batch·rows·cols values, row-major)
// for the caller to fill before Forward.
func (ps *Pass) Input(x Node) []float64 {
	if ps.net.nodes[x].op != opInput {
		panic("nets: Input: not an input node")
	}
	return ps.val[x]
}

// Output returns the value of node x after Forward.
func (ps *Pass) Output(x Node) []float64 { return ps.val[x] }

// OutputGrad returns the buffer for the loss gradient with respect to
// output x. Before each Backward the caller must overwrite every output's
// buffer completely (zeros for outputs the loss does not use, see
// ZeroOutputGrads); Backward clobbers them.
func (ps *Pass) OutputGrad(x Node) []float64 {
	if !isOutput(ps.net, x) {
		panic("nets: OutputGrad: not an output node")
	}
	return ps.grad[x]
}

// ZeroOutputGrads clears every output gradient buffer.
func (ps *Pass) ZeroOutputGrads() {
	for _, o := range ps.net.outputs {
		clear(ps.grad[o])
	}
}

// InputGrad returns the gradient with respect to input x (declared with
// grad = true) after Backward.
func (ps *Pass) InputGrad(x Node) []float64 {
	nd := ps.net.nodes[x]
	if nd.op != opInput || !nd.needGrad {
		panic("nets: InputGrad: not a differentiated input")
	}
	return ps.grad[x]
}

// Forward computes every node from the inputs and the bound parameters.
func (ps *Pass) Forward() {
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
func (ps *Pass) Backward() {
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
func (ps *Pass) BackwardInputs() {
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

func (ps *Pass) forwardComp(c int) {
	n := ps.net
	for _, id := range n.compOps[c] {
		nd := &n.nodes[id]
		y := ps.val[id]
		switch nd.op {
		case opDense:
			rows := ps.batch * nd.rows
			w := n.layout.Segments[nd.w].View(ps.p.Value)
			b := n.layout.Segments[nd.b].View(ps.p.Value)
			beta, off := 0.0, 0
			for _, xi := range nd.in {
				in := n.nodes[xi].cols
				gemm.Mul(&ps.ws[c], false, false, rows, nd.cols, in, ps.val[xi], in, w[off*nd.cols:], nd.cols, beta, y, nd.cols)
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
			inv := 1 / float64(g)
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
						if v > dst[j] || math.IsNaN(v) && !math.IsNaN(dst[j]) {
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

func (ps *Pass) backwardComp(c int) {
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
				gw := n.layout.Segments[nd.w].View(ps.p.Grad)
				gb := n.layout.Segments[nd.b].View(ps.p.Grad)
				off := 0
				for _, xi := range nd.in {
					in := n.nodes[xi].cols
					gemm.Mul(&ps.ws[c], true, false, in, nd.cols, rows, ps.val[xi], in, dy, nd.cols, 1, gw[off*nd.cols:], nd.cols)
					off += in
				}
				for r := 0; r < rows; r++ {
					for j, v := range dy[r*nd.cols : (r+1)*nd.cols] {
						gb[j] += v
					}
				}
			}
			w := n.layout.Segments[nd.w].View(ps.p.Value)
			off := 0
			for _, xi := range nd.in {
				in := n.nodes[xi].cols
				if n.nodes[xi].needGrad {
					gemm.Mul(&ps.ws[c], false, true, rows, in, nd.cols, dy, nd.cols, w[off*nd.cols:], nd.cols, 1, ps.grad[xi], in)
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
						d := dx[r*c : (r+1)*c]
						for j, v := range dy[r*nd.cols+off : r*nd.cols+off+c] {
							d[j] += v
						}
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
				d := dx[r*c+nd.off : r*c+nd.off+nd.cols]
				for j, v := range dy[r*nd.cols : (r+1)*nd.cols] {
					d[j] += v
				}
			}
		case opPoolMean:
			xi := nd.in[0]
			if !n.nodes[xi].needGrad {
				break
			}
			dx := ps.grad[xi]
			c, g := nd.cols, nd.group
			inv := 1 / float64(g)
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
					for j, v := range dy[(r*g+i)*c : (r*g+i+1)*c] {
						d[j] += v
					}
				}
			}
		case opReshape:
			// gradient buffers are shared with the input
		}
	}
}

// biasAct adds the bias row to every row of y and applies act in place.
func biasAct(y, b []float64, act Act) {
	c := len(b)
	for r := 0; r < len(y)/c; r++ {
		row := y[r*c : (r+1)*c]
		switch act {
		case ReLU:
			for j, v := range b {
				row[j] = max(row[j]+v, 0)
			}
		case Sigmoid:
			for j, v := range b {
				row[j] = sigmoid(row[j] + v)
			}
		default:
			for j, v := range b {
				row[j] += v
			}
		}
	}
	if act == Tanh {
		vec.Tanh(y)
	}
}

// actGrad multiplies dy in place by act'(·) expressed through the output y.
func actGrad(dy, y []float64, act Act) {
	switch act {
	case Tanh:
		vec.TanhGrad(dy, y)
	case ReLU:
		for i, v := range y {
			if v <= 0 {
				dy[i] = 0
			}
		}
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
