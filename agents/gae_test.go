package agents

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/seed"
)

// gaeReference is the slow, obvious definition: A_t = Σ_{l≥0} (γλ)^l δ_{t+l},
// the sum running until the end of the episode or of the rollout, with δ
// as in GAETo. O(T²) per env.
func gaeReference(rewards, values []float64, dones []bool, last []float64, envs int, gamma, lambda float64) []float64 {
	n := len(rewards)
	steps := n / envs
	adv := make([]float64, n)
	for e := 0; e < envs; e++ {
		delta := func(t int) float64 {
			k := t*envs + e
			next := last[e]
			if t+1 < steps {
				next = values[(t+1)*envs+e]
			}
			if dones[k] {
				next = 0
			}
			return rewards[k] + gamma*next - values[k]
		}
		for t := 0; t < steps; t++ {
			s, w := 0.0, 1.0
			for l := t; l < steps; l++ {
				s += w * delta(l)
				if dones[l*envs+e] {
					break
				}
				w *= gamma * lambda
			}
			adv[t*envs+e] = s
		}
	}
	return adv
}

func TestGAEMatchesReference(t *testing.T) {
	// Tolerance: both sum the same O(1) terms in different orders over at
	// most 50 steps; 1e-12 relative is ~50 ulps of headroom.
	const tol = 1e-12
	rng := seed.New(1, seed.Test, 0)
	const envs, steps = 3, 50
	n := envs * steps
	r, v := make([]float64, n), make([]float64, n)
	d := make([]bool, n)
	last := []float64{0.3, -1, 2}
	for k := range r {
		r[k], v[k] = rng.NormFloat64(), rng.NormFloat64()
		d[k] = rng.Float64() < 0.1
	}
	for _, gl := range [][2]float64{{0.99, 0.95}, {0.9, 1}, {1, 0}, {0.5, 0.5}} {
		adv, ret := make([]float64, n), make([]float64, n)
		GAETo(adv, ret, r, v, d, last, envs, gl[0], gl[1])
		want := gaeReference(r, v, d, last, envs, gl[0], gl[1])
		for k := range adv {
			if !scalar.EqualWithinAbsOrRel(adv[k], want[k], tol, tol) {
				t.Fatalf("γ=%v λ=%v: A[%d] = %v, reference %v", gl[0], gl[1], k, adv[k], want[k])
			}
			if ret[k] != adv[k]+v[k] {
				t.Fatalf("return[%d] = %v, want A+V = %v", k, ret[k], adv[k]+v[k])
			}
		}
	}
}

// TestGAEClosedForm: one env, constant reward r, values zero, no ends,
// λ = 1: A_t = r·(1−γ^{T−t})/(1−γ) + γ^{T−t}·V_last (the discounted
// return with the bootstrap), from the geometric series.
func TestGAEClosedForm(t *testing.T) {
	const steps, r, gamma, vlast = 20, 0.5, 0.9, 3.0
	rew, val := make([]float64, steps), make([]float64, steps)
	for i := range rew {
		rew[i] = r
	}
	adv, ret := make([]float64, steps), make([]float64, steps)
	GAETo(adv, ret, rew, val, make([]bool, steps), []float64{vlast}, 1, gamma, 1)
	for tt := 0; tt < steps; tt++ {
		h := float64(steps - tt)
		want := r*(1-math.Pow(gamma, h))/(1-gamma) + math.Pow(gamma, h)*vlast
		if !scalar.EqualWithinAbsOrRel(adv[tt], want, 1e-13, 1e-13) {
			t.Errorf("A[%d] = %v, closed form %v", tt, adv[tt], want)
		}
	}
}

// TestBootstrapTruncated: a truncated step's reward gains γ·V(final obs);
// a terminated one does not, nor does a step that is both.
func TestBootstrapTruncated(t *testing.T) {
	rew := []float64{1, 1, 1, 1}
	term := []bool{false, true, false, true}
	trunc := []bool{false, false, true, true}
	final := []float64{10, 10, 10, 10}
	BootstrapTruncated(rew, term, trunc, final, 0.5)
	want := []float64{1, 1, 6, 1} // hand-computed: only index 2 is truncated and not terminated
	for i := range want {
		if rew[i] != want[i] {
			t.Errorf("reward[%d] = %v, want %v", i, rew[i], want[i])
		}
	}
}

func TestGAEAllocs(t *testing.T) {
	n := 2048
	r, v, a, ret := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	d := make([]bool, n)
	last := make([]float64, 8)
	if allocs := testing.AllocsPerRun(10, func() { GAETo(a, ret, r, v, d, last, 8, 0.99, 0.95) }); allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
}

func BenchmarkGAE(b *testing.B) {
	const envs, steps = 8, 256
	n := envs * steps
	rng := seed.New(2, seed.Test, 0)
	r, v, a, ret := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	d := make([]bool, n)
	for k := range r {
		r[k], v[k], d[k] = rng.NormFloat64(), rng.NormFloat64(), rng.Float64() < 0.004
	}
	last := make([]float64, envs)
	b.ReportAllocs()
	for b.Loop() {
		GAETo(a, ret, r, v, d, last, envs, 0.99, 0.95)
	}
}
