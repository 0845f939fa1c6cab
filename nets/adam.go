package nets

import (
	"math"

	"github.com/folio-rl/folio/nets/internal/vec"
)

// Adam is Kingma & Ba's (2015) optimiser over one flat parameter vector,
// fused into a single allocation-free loop. gorgonia's AdamSolver clones
// every gradient several times per step (STYLE.md pitfall 10); this
// performs the same float64 operations in the same order, so its result
// is bit-identical (tested), without allocating.
//
// With bias corrections c₁ = 1−β₁ᵗ and c₂ = 1−β₂ᵗ, one step is
//
//	m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
//	θ ← θ − lr·(m/c₁) / (√(v/c₂) + ε),
//
// which is also PyTorch's torch.optim.Adam (without weight decay) up to
// rounding. M, V and Step are the optimiser state saved in checkpoints.
type Adam = AdamOf[float64]

// Adam32 is Adam over float32 parameters with float32 moments: every
// operation of the step is a float32 operation (PyTorch's single-precision
// Adam), with the bias corrections computed in float64 and rounded.
type Adam32 = AdamOf[float32]

// AdamOf is Adam for parameters of element type T.
type AdamOf[T Float] struct {
	Beta1, Beta2 float64 // moment decay rates, in [0, 1)
	Eps          float64 // added to √v̂; PPO uses 1e-5 (CleanRL), PyTorch's default is 1e-8
	M, V         []T
	Step         int // steps taken so far (t of the last step)
}

// NewAdam returns Adam state for n parameters.
func NewAdam(n int, beta1, beta2, eps float64) *Adam { return NewAdamOf[float64](n, beta1, beta2, eps) }

// NewAdamOf returns Adam state for n parameters of element type T.
func NewAdamOf[T Float](n int, beta1, beta2, eps float64) *AdamOf[T] {
	return &AdamOf[T]{Beta1: beta1, Beta2: beta2, Eps: eps, M: make([]T, n), V: make([]T, n)}
}

// Update takes one step of size lr on theta given its gradient.
func (a *AdamOf[T]) Update(theta, grad []T, lr float64) {
	a.UpdateScaled(theta, grad, lr, 1)
}

// UpdateScaled takes one step with the gradient scale·grad (gradient
// clipping folded into the step; grad is not modified). The result is
// bit-identical to scaling grad first and calling Update.
func (a *AdamOf[T]) UpdateScaled(theta, grad []T, lr, scale float64) {
	if len(theta) != len(a.M) || len(grad) != len(a.M) {
		panic("nets: Adam.Update: length mismatch")
	}
	s := a.Begin(lr, scale)
	s.Apply(theta, grad, 0, len(theta))
}

// AdamStep is one Adam step's constants, for applying the step to parts of
// the parameter vector separately (on several goroutines).
type AdamStep = AdamStepOf[float64]

// AdamStepOf is AdamStep for element type T.
type AdamStepOf[T Float] struct {
	a    *AdamOf[T]
	args vec.AdamArgs
}

// Begin advances the step count and returns the step's constants; Apply
// then updates index ranges of theta, which together must cover it once.
func (a *AdamOf[T]) Begin(lr, scale float64) AdamStepOf[T] {
	a.Step++
	t := float64(a.Step)
	return AdamStepOf[T]{a: a, args: vec.AdamArgs{
		OneMinusB1: 1 - a.Beta1, B1: a.Beta1, OneMinusB2: 1 - a.Beta2, B2: a.Beta2,
		C1: 1 / (1 - math.Pow(a.Beta1, t)), NegLR: -lr, C2: 1 / (1 - math.Pow(a.Beta2, t)), Eps: a.Eps,
		Scale: scale,
	}}
}

// Apply updates theta[lo:hi] (and the moments) from grad[lo:hi].
func (s *AdamStepOf[T]) Apply(theta, grad []T, lo, hi int) {
	if len(theta) != len(s.a.M) || len(grad) != len(s.a.M) {
		panic("nets: AdamStep.Apply: length mismatch")
	}
	th, g, m, v := theta[lo:hi], grad[lo:hi], s.a.M[lo:hi], s.a.V[lo:hi]
	switch p := any(&th).(type) {
	case *[]float64:
		vec.Adam(*p, *any(&g).(*[]float64), *any(&m).(*[]float64), *any(&v).(*[]float64), &s.args)
	case *[]float32:
		vec.Adam32(*p, *any(&g).(*[]float32), *any(&m).(*[]float32), *any(&v).(*[]float32), &s.args)
	}
}

// Reset clears the moments and the step count.
func (a *AdamOf[T]) Reset() {
	clear(a.M)
	clear(a.V)
	a.Step = 0
}

// GradNorm returns the Euclidean norm of g, accumulated in float64. The
// plain sum of squares is used when it is safely inside float64's range,
// otherwise a scaled sum that neither overflows nor underflows.
func GradNorm[T Float](g []T) float64 {
	var ssq float64
	switch p := any(&g).(type) {
	case *[]float64:
		ssq = vec.SumSquares(*p)
	case *[]float32:
		ssq = vec.SumSquares32(*p)
	}
	if ssq > 1e-280 && ssq < 1e280 {
		return math.Sqrt(ssq)
	}
	if math.IsNaN(ssq) {
		return ssq
	}
	var scale float64
	ssq = 1
	for _, v := range g {
		if v == 0 {
			continue
		}
		av := math.Abs(float64(v))
		if math.IsInf(av, 0) {
			return av
		}
		if scale < av {
			ssq = 1 + ssq*(scale/av)*(scale/av)
			scale = av
		} else {
			ssq += (av / scale) * (av / scale)
		}
	}
	return scale * math.Sqrt(ssq)
}

// SoftUpdate sets target ← τ·online + (1−τ)·target element-wise (Polyak
// averaging of target networks), in T's precision.
func SoftUpdate[T Float](target, online []T, tau float64) {
	switch p := any(&target).(type) {
	case *[]float64:
		vec.Lerp(*p, *any(&online).(*[]float64), tau)
	case *[]float32:
		vec.Lerp32(*p, *any(&online).(*[]float32), tau)
	}
}

// ClipScale returns the factor ClipGradNorm applies for a gradient of the
// given norm: maxNorm/(norm+1e-6) when that is below one and maxNorm > 0,
// else 1.
func ClipScale(norm, maxNorm float64) float64 {
	if maxNorm <= 0 {
		return 1
	}
	if c := maxNorm / (norm + 1e-6); c < 1 {
		return c
	}
	return 1
}

// ClipGradNorm scales g in place so that its Euclidean norm is at most
// maxNorm, as torch.nn.utils.clip_grad_norm_ does (factor
// maxNorm/(norm+1e-6), applied only when below one), and returns the norm
// before clipping. maxNorm ≤ 0 disables clipping. A non-finite norm is
// returned without touching g so the caller can report divergence.
func ClipGradNorm[T Float](g []T, maxNorm float64) float64 {
	norm := GradNorm(g)
	if maxNorm <= 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	if c := ClipScale(norm, maxNorm); c < 1 {
		c := T(c)
		for i := range g {
			g[i] *= c
		}
	}
	return norm
}
