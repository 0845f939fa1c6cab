package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distmv"

	"github.com/folio-rl/folio/internal/seed"
)

// Central differences with h = 1e-6 on O(1) losses: truncation O(h²) and
// rounding O(ε/h) ≈ 1e-10; 1e-7 catches any wrong term.
const (
	tolFD  = 1e-7
	fdStep = 1e-6
)

func randInput(rng *rand.Rand, m, a int) *lossInput {
	in := &lossInput{mu: make([]float64, m*a), logStd: make([]float64, a), raw: make([]float64, m*a),
		oldLogp: make([]float64, m), adv: make([]float64, m), ret: make([]float64, m),
		oldV: make([]float64, m), v: make([]float64, m)}
	for j := range in.logStd {
		in.logStd[j] = 0.3 * rng.NormFloat64()
	}
	for i := range in.mu {
		in.mu[i] = rng.NormFloat64()
		in.raw[i] = in.mu[i] + math.Exp(in.logStd[i%a])*rng.NormFloat64()
	}
	for i := 0; i < m; i++ {
		// old log-probabilities a little off the new ones, so that ratios
		// fall inside and outside [1−ε, 1+ε]
		in.oldLogp[i] = logProb(in.raw[i*a:(i+1)*a], in.mu[i*a:(i+1)*a], in.logStd) + 0.3*rng.NormFloat64()
		in.adv[i] = rng.NormFloat64()
		in.ret[i] = rng.NormFloat64()
		in.oldV[i] = in.ret[i] + 0.5*rng.NormFloat64()
		in.v[i] = in.oldV[i] + 0.3*rng.NormFloat64()
	}
	// Perturb the new means away from the old ones (which are implicit in
	// oldLogp), so the value and surrogate are not at special points.
	return in
}

// TestLogProbEntropy checks the Gaussian log density and entropy against
// gonum's distmv.Normal (an independent implementation).
func TestLogProbEntropy(t *testing.T) {
	mu := []float64{0.5, -1, 2}
	logStd := []float64{0.1, -0.7, 0.4}
	cov := make([]float64, 9)
	for j, s := range logStd {
		cov[j*3+j] = math.Exp(2 * s)
	}
	d, ok := distmv.NewNormal(mu, mat.NewSymDense(3, cov), nil)
	if !ok {
		t.Fatal("covariance not positive definite")
	}
	u := []float64{0.2, 0.3, -1}
	if got, want := logProb(u, mu, logStd), d.LogProb(u); !scalar.EqualWithinAbsOrRel(got, want, 1e-13, 1e-13) {
		t.Errorf("logProb = %v, gonum %v", got, want)
	}
	if got, want := entropy(logStd), d.Entropy(); !scalar.EqualWithinAbsOrRel(got, want, 1e-13, 1e-13) {
		t.Errorf("entropy = %v, gonum %v", got, want)
	}
}

// TestPPOLossGradient checks ∂L/∂μ, ∂L/∂logσ and ∂L/∂v of the clipped
// surrogate, the (clipped or plain) value loss and the entropy bonus
// against central finite differences of the loss value.
func TestPPOLossGradient(t *testing.T) {
	const m, a = 12, 4
	for _, tc := range []struct {
		clipV   bool
		entCoef float64
	}{{false, 0}, {true, 0}, {true, 0.01}, {false, 0.5}} {
		t.Run(fmt.Sprintf("clipV=%v/ent=%v", tc.clipV, tc.entCoef), func(t *testing.T) {
			rng := seed.New(1, seed.Test, 0)
			in := randInput(rng, m, a)
			g := newLossGrad(m, a)
			const clip, vf = 0.2, 0.5
			st := ppoLoss(g, in, clip, tc.entCoef, vf, tc.clipV)
			if st.clipFrac == 0 || st.clipFrac == 1 {
				t.Fatalf("clip fraction %v: the test data must exercise both branches", st.clipFrac)
			}
			scratch := newLossGrad(m, a)
			lossOf := func() float64 { return ppoLoss(scratch, in, clip, tc.entCoef, vf, tc.clipV).total }
			check := func(name string, x, got []float64) {
				t.Helper()
				want := fd.Gradient(nil, func(p []float64) float64 {
					saved := append([]float64(nil), x...)
					copy(x, p)
					l := lossOf()
					copy(x, saved)
					return l
				}, append([]float64(nil), x...), &fd.Settings{Formula: fd.Central, Step: fdStep})
				for i := range want {
					if !scalar.EqualWithinAbsOrRel(got[i], want[i], tolFD, tolFD) {
						t.Errorf("d/d%s[%d] = %v, finite differences %v", name, i, got[i], want[i])
					}
				}
			}
			check("mu", in.mu, g.mu)
			check("logstd", in.logStd, g.logStd)
			check("v", in.v, g.v)
		})
	}
}

// TestPPOLossValues checks the loss terms on a hand-computed case: one
// transition, A = 1, μ = 0, σ = 1, u = 0 so logπ = −½ln2π.
func TestPPOLossValues(t *testing.T) {
	lp := -lnSqrt2Pi
	tests := []struct {
		name        string
		oldLogp     float64 // ratio = exp(lp − oldLogp)
		adv         float64
		wantPolicy  float64
		wantClipped bool
	}{
		{"inside", lp - math.Log(1.1), 2, -2 * 1.1, false},
		{"above, positive advantage: clipped", lp - math.Log(1.5), 2, -2 * 1.2, true},
		{"above, negative advantage: unclipped", lp - math.Log(1.5), -2, 2 * 1.5, true},
		{"below, negative advantage: clipped", lp - math.Log(0.5), -2, 2 * 0.8, true},
	}
	for _, tc := range tests {
		in := &lossInput{mu: []float64{0}, logStd: []float64{0}, raw: []float64{0}, oldLogp: []float64{tc.oldLogp},
			adv: []float64{tc.adv}, ret: []float64{1}, oldV: []float64{0}, v: []float64{0.5}}
		g := newLossGrad(1, 1)
		st := ppoLoss(g, in, 0.2, 0, 0.5, true)
		if !scalar.EqualWithinAbsOrRel(st.policy, tc.wantPolicy, 1e-12, 1e-12) {
			t.Errorf("%s: policy loss %v, want %v", tc.name, st.policy, tc.wantPolicy)
		}
		if (st.clipFrac == 1) != tc.wantClipped {
			t.Errorf("%s: clip fraction %v", tc.name, st.clipFrac)
		}
		// value: v − V = 0.5 clipped to 0.2, so max((0.5−1)², (0.2−1)²)/2 = 0.32
		if !scalar.EqualWithinAbsOrRel(st.value, 0.32, 1e-12, 1e-12) {
			t.Errorf("%s: value loss %v, want 0.32", tc.name, st.value)
		}
	}
}

func TestPredLossGradient(t *testing.T) {
	rng := seed.New(2, seed.Test, 0)
	pred, target := make([]float64, 10), make([]float64, 10)
	for i := range pred {
		pred[i], target[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	d := make([]float64, 10)
	predLoss(d, pred, target, 0.7)
	want := fd.Gradient(nil, func(p []float64) float64 { return 0.7 * predLoss(make([]float64, 10), p, target, 1) },
		pred, &fd.Settings{Formula: fd.Central, Step: fdStep})
	for i := range want {
		if !scalar.EqualWithinAbsOrRel(d[i], want[i], tolFD, tolFD) {
			t.Errorf("dpred[%d] = %v, finite differences %v", i, d[i], want[i])
		}
	}
}

func TestNormalise(t *testing.T) {
	x := []float64{1, 2, 3, 4, 10}
	got := make([]float64, len(x))
	normalise(got, x)
	mean, sd := stat.MeanStdDev(x, nil) // gonum: unbiased std, as torch
	for i := range x {
		if want := (x[i] - mean) / (sd + 1e-8); !scalar.EqualWithinAbsOrRel(got[i], want, 1e-14, 1e-14) {
			t.Errorf("normalised[%d] = %v, want %v", i, got[i], want)
		}
	}
}
