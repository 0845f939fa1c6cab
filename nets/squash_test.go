package nets

import (
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/seed"
)

func TestWeightsOnSimplex(t *testing.T) {
	tests := []struct {
		name string
		u    []float64
		gate bool
		want []float64 // hand-computed
	}{
		{"uniform", []float64{0, 0, 0, 0}, false, []float64{0.25, 0.25, 0.25, 0.25}},
		{"gate half", []float64{0, 1, 1}, true, []float64{0.5, 0.25, 0.25}},
		{"large logits", []float64{1000, 0, -1000}, false, []float64{1, 0, 0}},
		{"gate closed", []float64{-800, 3, 1}, true, []float64{1, 0, 0}},
	}
	for _, tc := range tests {
		w := make([]float64, len(tc.u))
		g := WeightsTo(w, tc.u, tc.gate)
		sum := 0.0
		for i, v := range w {
			sum += v
			if !scalar.EqualWithinAbs(v, tc.want[i], 1e-15) {
				t.Errorf("%s: w = %v, want %v", tc.name, w, tc.want)
				break
			}
		}
		if !scalar.EqualWithinAbs(sum, 1, 1e-15) || !scalar.EqualWithinAbs(g, 1-w[0], 1e-15) {
			t.Errorf("%s: Σw = %v, exposure %v, cash %v", tc.name, sum, g, w[0])
		}
	}
}

// TestWeightsGradFD checks the vector–Jacobian product of WeightsTo
// against central differences of L(u) = dw·WeightsTo(u) (tolerance as
// TestGradientFD).
func TestWeightsGradFD(t *testing.T) {
	rng := seed.New(11, seed.Test, 0)
	for _, gate := range []bool{false, true} {
		for trial := 0; trial < 5; trial++ {
			n := 2 + trial
			u, dw := make([]float64, n), make([]float64, n)
			randFill(rng, u, dw)
			w := make([]float64, n)
			WeightsTo(w, u, gate)
			du := make([]float64, n)
			WeightsGradTo(du, dw, u, w, gate)
			want := fd.Gradient(nil, func(x []float64) float64 {
				ww := make([]float64, n)
				WeightsTo(ww, x, gate)
				s := 0.0
				for i := range ww {
					s += ww[i] * dw[i]
				}
				return s
			}, u, &fd.Settings{Formula: fd.Central, Step: fdStep})
			for i := range want {
				if !scalar.EqualWithinAbsOrRel(du[i], want[i], tolFD, tolFD) {
					t.Errorf("gate=%v n=%d: du[%d] = %v, finite differences %v", gate, n, i, du[i], want[i])
				}
			}
		}
	}

}
