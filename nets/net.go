package nets

import (
	"errors"
	"fmt"
)

// Act is an element-wise activation applied by a Dense layer.
type Act uint8

// Activations.
const (
	Linear  Act = iota // identity
	Tanh               // tanh(x)
	ReLU               // max(0, x); derivative 1 where the output is > 0, else 0
	Sigmoid            // 1/(1+e^{-x})
)

// String returns the activation's TOML name.
func (a Act) String() string {
	switch a {
	case Linear:
		return "linear"
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	case Sigmoid:
		return "sigmoid"
	}
	return fmt.Sprintf("Act(%d)", uint8(a))
}

// ParseAct maps a TOML name ("linear", "tanh", "relu", "sigmoid") to an Act.
func ParseAct(s string) (Act, error) {
	for a := Linear; a <= Sigmoid; a++ {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("nets: unknown activation %q (want linear, tanh, relu or sigmoid)", s)
}

// Node is a handle on a tensor of a Net under construction or built. Every
// tensor is a matrix of batch·Rows rows and Cols columns, row-major: each
// batch item owns Rows consecutive rows (Rows > 1 for per-asset tensors,
// whose rows are the assets in observation order).
type Node int

type opKind uint8

const (
	opInput opKind = iota
	opDense
	opConcat
	opSlice
	opPoolMean
	opPoolMax
	opBroadcast
	opReshape
)

func (k opKind) String() string {
	return [...]string{"input", "dense", "concat", "slice", "poolmean", "poolmax", "broadcast", "reshape"}[k]
}

type node struct {
	op       opKind
	name     string
	in       []Node
	rows     int // rows per batch item
	cols     int
	act      Act
	w, b     int // Dense: parameter segment indices
	off      int // Slice: first column
	group    int // Pool, Broadcast: group size
	needGrad bool
	comp     int // connected component (parameters flow within one)
}

// Net is an immutable network description: a list of operations over
// matrices and the layout of its parameters. Executors (Pass for the native
// engine, Graph for gorgonia) are built from it for a fixed batch size and
// bound to a parameter vector.
type Net struct {
	nodes   []node
	layout  Layout
	inputs  []Node
	outputs []Node
	names   map[string]Node
	ncomp   int
	compOps [][]Node // per component, the non-input nodes in forward order
	flops   []float64
}

// Builder assembles a Net. Methods record the first error and turn into
// no-ops after it; Build reports it (the bufio.Scanner pattern), so that
// model code reads as a straight list of layers.
type Builder struct {
	n   Net
	err error
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{n: Net{names: map[string]Node{}}}
}

func (b *Builder) fail(format string, args ...any) Node {
	if b.err == nil {
		b.err = fmt.Errorf("nets: "+format, args...)
	}
	return -1
}

func (b *Builder) ok(xs ...Node) bool {
	if b.err != nil {
		return false
	}
	for _, x := range xs {
		if x < 0 || int(x) >= len(b.n.nodes) {
			b.fail("invalid node %d", x)
			return false
		}
	}
	return true
}

func (b *Builder) add(nd node) Node {
	if nd.name != "" {
		if _, dup := b.n.names[nd.name]; dup {
			return b.fail("duplicate name %q", nd.name)
		}
	}
	id := Node(len(b.n.nodes))
	b.n.nodes = append(b.n.nodes, nd)
	if nd.name != "" {
		b.n.names[nd.name] = id
	}
	return id
}

// Input declares an input of rows×cols per batch item. If grad is true, a
// backward pass also produces the gradient with respect to it (a DDPG
// critic's action input); otherwise nothing is propagated into it.
func (b *Builder) Input(name string, rows, cols int, grad bool) Node {
	if b.err != nil {
		return -1
	}
	if rows <= 0 || cols <= 0 {
		return b.fail("input %q: shape %d×%d", name, rows, cols)
	}
	id := b.add(node{op: opInput, name: name, rows: rows, cols: cols, needGrad: grad})
	if id >= 0 {
		b.n.inputs = append(b.n.inputs, id)
	}
	return id
}

// Dense declares y = act(x·W + b) with W of shape x.Cols×out and b of
// shape 1×out, named name+"/W" and name+"/b". The same W applies to every
// row, so a per-asset x (Rows = N) gives an encoder whose weights are
// shared across assets. init gives W's initialiser; the bias is zero for
// Orthogonal and Const and U(±1/√in) for FanInUniform (PyTorch's default).
//
// If x is a Concat, the layer reads the concatenated tensors directly:
// y = act(Σ_k x_k·W_k + b) where W_k are consecutive row blocks of W. This
// is the same function with the same parameters, without the copy, and the
// backward pass computes input gradients only for inputs that need them
// (a critic's action, not its observation).
func (b *Builder) Dense(name string, x Node, out int, act Act, init Init) Node {
	if !b.ok(x) {
		return -1
	}
	if out <= 0 {
		return b.fail("dense %q: %d outputs", name, out)
	}
	ins := []Node{x}
	if b.n.nodes[x].op == opConcat {
		ins = append([]Node(nil), b.n.nodes[x].in...)
	}
	in := b.n.nodes[x].cols
	w := b.n.layout.add(name+"/W", in, out, init)
	binit := Init{Kind: ConstInit}
	if init.Kind == FanInUniform {
		binit = init
	}
	bb := b.n.layout.add(name+"/b", 1, out, binit)
	return b.add(node{op: opDense, name: name, in: ins, rows: b.n.nodes[x].rows, cols: out, act: act, w: w, b: bb})
}

// Concat joins tensors with the same Rows along columns.
func (b *Builder) Concat(name string, xs ...Node) Node {
	if !b.ok(xs...) {
		return -1
	}
	if len(xs) == 0 {
		return b.fail("concat %q: no inputs", name)
	}
	rows, cols := b.n.nodes[xs[0]].rows, 0
	for _, x := range xs {
		if b.n.nodes[x].rows != rows {
			return b.fail("concat %q: rows %d and %d", name, rows, b.n.nodes[x].rows)
		}
		cols += b.n.nodes[x].cols
	}
	return b.add(node{op: opConcat, name: name, in: append([]Node(nil), xs...), rows: rows, cols: cols})
}

// Slice selects columns [from, from+n) of x.
func (b *Builder) Slice(name string, x Node, from, n int) Node {
	if !b.ok(x) {
		return -1
	}
	if from < 0 || n <= 0 || from+n > b.n.nodes[x].cols {
		return b.fail("slice %q: columns [%d,%d) of %d", name, from, from+n, b.n.nodes[x].cols)
	}
	return b.add(node{op: opSlice, name: name, in: []Node{x}, rows: b.n.nodes[x].rows, cols: n, off: from})
}

// PoolMean averages consecutive groups of g rows: a per-asset tensor with
// Rows = N pooled with g = N gives one row per batch item. Rows must be a
// multiple of g.
func (b *Builder) PoolMean(name string, x Node, g int) Node { return b.pool(name, x, g, opPoolMean) }

// PoolMax takes the column-wise maximum over consecutive groups of g rows.
// Its gradient goes to the first maximising row of each group and column.
func (b *Builder) PoolMax(name string, x Node, g int) Node { return b.pool(name, x, g, opPoolMax) }

func (b *Builder) pool(name string, x Node, g int, op opKind) Node {
	if !b.ok(x) {
		return -1
	}
	r := b.n.nodes[x].rows
	if g <= 0 || r%g != 0 {
		return b.fail("%s %q: group %d does not divide rows %d", op, name, g, r)
	}
	return b.add(node{op: op, name: name, in: []Node{x}, rows: r / g, cols: b.n.nodes[x].cols, group: g})
}

// Broadcast repeats every row of x g times (the inverse shape of a pool):
// a market-level row per batch item becomes one row per asset.
func (b *Builder) Broadcast(name string, x Node, g int) Node {
	if !b.ok(x) {
		return -1
	}
	if g <= 0 {
		return b.fail("broadcast %q: group %d", name, g)
	}
	return b.add(node{op: opBroadcast, name: name, in: []Node{x}, rows: b.n.nodes[x].rows * g, cols: b.n.nodes[x].cols, group: g})
}

// Reshape reinterprets each batch item's rows×cols block as another shape
// with the same number of elements; the data do not move. It turns a
// per-asset column (N×1) into a row of N values and back.
func (b *Builder) Reshape(name string, x Node, rows, cols int) Node {
	if !b.ok(x) {
		return -1
	}
	nd := b.n.nodes[x]
	if rows <= 0 || cols <= 0 || rows*cols != nd.rows*nd.cols {
		return b.fail("reshape %q: %d×%d to %d×%d", name, nd.rows, nd.cols, rows, cols)
	}
	return b.add(node{op: opReshape, name: name, in: []Node{x}, rows: rows, cols: cols})
}

// Param declares a free parameter of shape rows×cols that no operation
// reads: the algorithm uses its value and supplies its gradient (PPO's
// state-independent log standard deviation). It returns the segment index.
func (b *Builder) Param(name string, rows, cols int, init Init) int {
	if b.err != nil {
		return -1
	}
	if rows <= 0 || cols <= 0 {
		b.fail("param %q: shape %d×%d", name, rows, cols)
		return -1
	}
	for _, s := range b.n.layout.Segments {
		if s.Name == name {
			b.fail("duplicate parameter %q", name)
			return -1
		}
	}
	return b.n.layout.add(name, rows, cols, init)
}

// Output marks x as an output under name.
func (b *Builder) Output(name string, x Node) {
	if !b.ok(x) {
		return
	}
	if prev, dup := b.n.names["out:"+name]; dup && prev != x {
		b.fail("duplicate output %q", name)
		return
	}
	b.n.names["out:"+name] = x
	b.n.outputs = append(b.n.outputs, x)
}

// Build validates and returns the Net.
func (b *Builder) Build() (*Net, error) {
	if b.err != nil {
		return nil, b.err
	}
	n := b.n
	if len(n.outputs) == 0 {
		return nil, errors.New("nets: net has no outputs")
	}
	for _, s := range n.layout.Segments {
		if err := s.Init.validate(); err != nil {
			return nil, fmt.Errorf("nets: parameter %q: %w", s.Name, err)
		}
	}
	// Which nodes carry gradient: those downstream of a parameter or of an
	// input that asks for it.
	for i := range n.nodes {
		nd := &n.nodes[i]
		switch nd.op {
		case opInput:
		case opDense:
			nd.needGrad = true
		default:
			for _, x := range nd.in {
				if n.nodes[x].needGrad {
					nd.needGrad = true
				}
			}
		}
	}
	n.components()
	n.names = copyMap(n.names)
	out := n
	return &out, nil
}

func copyMap(m map[string]Node) map[string]Node {
	c := make(map[string]Node, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// components groups non-input nodes into connected components. Inputs
// without gradient are read-only during both passes and do not connect
// anything, so towers that share only such inputs (PPO's separate actor
// and critic) can run concurrently. An input with gradient is written by
// every consumer in the backward pass and joins their components.
func (n *Net) components() {
	parent := make([]int, len(n.nodes))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) { parent[find(a)] = find(b) }
	for i, nd := range n.nodes {
		for _, x := range nd.in {
			if n.nodes[x].op == opInput && !n.nodes[x].needGrad {
				continue
			}
			union(i, int(x))
		}
	}
	// Only nodes an output depends on are executed.
	live := make([]bool, len(n.nodes))
	stack := append([]Node(nil), n.outputs...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[x] {
			continue
		}
		live[x] = true
		stack = append(stack, n.nodes[x].in...)
	}
	ids := map[int]int{}
	n.compOps = nil
	n.flops = nil
	for i := range n.nodes {
		nd := &n.nodes[i]
		if nd.op == opInput && !nd.needGrad || !live[i] {
			nd.comp = -1
			continue
		}
		r := find(i)
		c, seen := ids[r]
		if !seen {
			c = len(ids)
			ids[r] = c
			n.compOps = append(n.compOps, nil)
			n.flops = append(n.flops, 0)
		}
		nd.comp = c
		if nd.op != opInput {
			n.compOps[c] = append(n.compOps[c], Node(i))
			if nd.op == opDense {
				n.flops[c] += float64(nd.rows * n.layout.Segments[nd.w].Rows * nd.cols)
			}
		}
	}
	n.ncomp = len(ids)
}

// Layout returns the parameter layout.
func (n *Net) Layout() *Layout { return &n.layout }

// NumParams returns the number of scalar parameters.
func (n *Net) NumParams() int { return n.layout.Len }

// Lookup returns the node with the given layer or input name.
func (n *Net) Lookup(name string) (Node, bool) {
	x, ok := n.names[name]
	return x, ok
}

// OutputNode returns the node marked as output name.
func (n *Net) OutputNode(name string) (Node, bool) {
	x, ok := n.names["out:"+name]
	return x, ok
}

// Inputs returns the input nodes in declaration order.
func (n *Net) Inputs() []Node { return append([]Node(nil), n.inputs...) }

// Outputs returns the output nodes in declaration order.
func (n *Net) Outputs() []Node { return append([]Node(nil), n.outputs...) }

// Shape returns a node's rows per batch item and columns.
func (n *Net) Shape(x Node) (rows, cols int) {
	nd := n.nodes[x]
	return nd.rows, nd.cols
}

// Name returns a node's name ("" for anonymous nodes).
func (n *Net) Name(x Node) string { return n.nodes[x].name }

// Components returns the number of independent parts of the net (towers
// sharing no parameters and no differentiated input).
func (n *Net) Components() int { return n.ncomp }

// Describe returns a one-line-per-layer summary of the net.
func (n *Net) Describe() string {
	s := ""
	for i, nd := range n.nodes {
		in := ""
		for j, x := range nd.in {
			if j > 0 {
				in += ","
			}
			in += fmt.Sprint(int(x))
		}
		s += fmt.Sprintf("%3d %-9s %-28s [%s] -> %d×%d", i, nd.op, nd.name, in, nd.rows, nd.cols)
		if nd.op == opDense {
			s += " " + nd.act.String()
		}
		s += "\n"
	}
	return s
}

func (a Act) valid() bool { return a <= Sigmoid }
