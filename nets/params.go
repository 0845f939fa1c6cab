package nets

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// InitKind selects a weight initialiser.
type InitKind uint8

// Initialisers.
const (
	// ConstInit fills with Init.Gain (zero for the zero value of Init).
	ConstInit InitKind = iota
	// Orthogonal draws a (semi-)orthogonal matrix scaled by Init.Gain, as
	// torch.nn.init.orthogonal_ does (CleanRL's layer_init): QR of a
	// standard normal matrix with the signs of R's diagonal folded into Q.
	Orthogonal
	// FanInUniform draws U(−1/√in, 1/√in) for weights and biases, where in
	// is the number of rows of the weight matrix (PyTorch's nn.Linear
	// default, used by CleanRL's DDPG).
	FanInUniform
)

// Init describes how a parameter segment is initialised.
type Init struct {
	Kind InitKind
	Gain float64 // orthogonal gain, or the constant for ConstInit
}

// Ortho returns an orthogonal initialiser with the given gain.
func Ortho(gain float64) Init { return Init{Kind: Orthogonal, Gain: gain} }

// Const returns a constant initialiser.
func Const(v float64) Init { return Init{Kind: ConstInit, Gain: v} }

// Uniform returns PyTorch's default fan-in uniform initialiser.
func Uniform() Init { return Init{Kind: FanInUniform} }

func (in Init) validate() error {
	switch in.Kind {
	case ConstInit, FanInUniform:
	case Orthogonal:
		if !(in.Gain > 0) || math.IsInf(in.Gain, 0) {
			return fmt.Errorf("orthogonal gain %v", in.Gain)
		}
	default:
		return fmt.Errorf("unknown initialiser %d", in.Kind)
	}
	if math.IsNaN(in.Gain) || math.IsInf(in.Gain, 0) {
		return fmt.Errorf("initialiser constant %v", in.Gain)
	}
	return nil
}

// Segment is one named parameter tensor inside a parameter vector.
type Segment struct {
	Name       string
	Rows, Cols int
	Offset     int
	Init       Init
	fanIn      int // rows of the weight matrix a bias belongs to (FanInUniform)
}

// Len returns Rows·Cols.
func (s Segment) Len() int { return s.Rows * s.Cols }

// Layout places named parameter segments in one flat vector, in
// declaration order. Weight matrices are stored in×out, row-major, so a
// Dense layer computes x·W.
type Layout struct {
	Segments []Segment
	Len      int
}

func (l *Layout) add(name string, rows, cols int, init Init) int {
	s := Segment{Name: name, Rows: rows, Cols: cols, Offset: l.Len, Init: init, fanIn: rows}
	if init.Kind == FanInUniform && rows == 1 && len(l.Segments) > 0 {
		// A bias takes its fan-in from the weight declared just before it.
		if p := l.Segments[len(l.Segments)-1]; p.Cols == cols {
			s.fanIn = p.Rows
		}
	}
	l.Segments = append(l.Segments, s)
	l.Len += rows * cols
	return len(l.Segments) - 1
}

// Find returns the segment named name.
func (l *Layout) Find(name string) (Segment, bool) {
	for _, s := range l.Segments {
		if s.Name == name {
			return s, true
		}
	}
	return Segment{}, false
}

// View returns segment s of v.
func (s Segment) View(v []float64) []float64 {
	return v[s.Offset : s.Offset+s.Len() : s.Offset+s.Len()]
}

// Init writes initial values for every segment into dst (length l.Len),
// drawing from rng in segment order, so the same rng state gives the same
// bits.
func (l *Layout) Init(dst []float64, rng *rand.Rand) {
	if len(dst) != l.Len {
		panic("nets: Init: length mismatch")
	}
	for _, s := range l.Segments {
		v := s.View(dst)
		switch s.Init.Kind {
		case ConstInit:
			for i := range v {
				v[i] = s.Init.Gain
			}
		case FanInUniform:
			bound := 1 / math.Sqrt(float64(s.fanIn))
			for i := range v {
				v[i] = bound * (2*rng.Float64() - 1)
			}
		case Orthogonal:
			OrthogonalTo(v, s.Rows, s.Cols, s.Init.Gain, rng)
		}
	}
}

// InitTo is Layout.Init for a parameter vector of element type T: the
// same draws from rng in the same order, rounded to T, so that a float32
// network starts from the float64 network's weights rounded.
func InitTo[T Float](dst []T, l *Layout, rng *rand.Rand) {
	if d, ok := any(dst).([]float64); ok {
		l.Init(d, rng)
		return
	}
	tmp := make([]float64, len(dst))
	l.Init(tmp, rng)
	for i, v := range tmp {
		dst[i] = T(v)
	}
}

// OrthogonalTo fills dst (rows×cols, row-major) with gain·Q where Q has
// orthonormal columns (rows ≥ cols) or orthonormal rows (rows < cols),
// following torch.nn.init.orthogonal_: QR-decompose a standard normal
// matrix of the tall orientation and multiply Q's columns by the signs of
// R's diagonal so the result is uniformly distributed (Mezzadri 2007).
// A 1×1 matrix becomes ±gain.
func OrthogonalTo(dst []float64, rows, cols int, gain float64, rng *rand.Rand) {
	if len(dst) != rows*cols {
		panic("nets: OrthogonalTo: length mismatch")
	}
	tall, short := rows, cols
	if rows < cols {
		tall, short = cols, rows
	}
	a := mat.NewDense(tall, short, nil)
	for i := 0; i < tall; i++ {
		for j := 0; j < short; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for i := 0; i < tall; i++ {
		for j := 0; j < short; j++ {
			v := q.At(i, j)
			if r.At(j, j) < 0 {
				v = -v
			}
			if rows >= cols {
				dst[i*cols+j] = gain * v
			} else {
				dst[j*cols+i] = gain * v
			}
		}
	}
}

// Float is the element type of a native executor and its parameters:
// float64 (the reference precision) or float32.
type Float interface{ float32 | float64 }

// Params is a float64 parameter vector laid out by a Net's Layout and its
// gradient. Executors read Value and accumulate into Grad; Grad may be nil
// for parameters that are never differentiated (target networks). Both are
// usually views of larger slabs shared by several nets, so that one
// optimiser step and one gradient norm cover an agent's whole state.
type Params = ParamsOf[float64]

// Params32 is a float32 parameter vector and gradient (for Pass32).
type Params32 = ParamsOf[float32]

// ParamsOf is a parameter vector and its gradient with element type T.
type ParamsOf[T Float] struct {
	Value []T
	Grad  []T
}

// Split cuts value and grad (grad may be nil) into consecutive Params of
// the given lengths, which must sum to len(value).
func Split(value, grad []float64, lens ...int) []Params {
	total := 0
	for _, n := range lens {
		total += n
	}
	if total != len(value) || (grad != nil && len(grad) != len(value)) {
		panic("nets: Split: length mismatch")
	}
	ps := make([]Params, len(lens))
	off := 0
	for i, n := range lens {
		ps[i].Value = value[off : off+n : off+n]
		if grad != nil {
			ps[i].Grad = grad[off : off+n : off+n]
		}
		off += n
	}
	return ps
}

// ErrShape reports a parameter vector of the wrong length.
var ErrShape = errors.New("nets: parameter shape mismatch")
