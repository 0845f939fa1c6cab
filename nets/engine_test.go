package nets

import (
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/seed"
)

// TestEngineBackends runs the same forward and backward pass through the
// native and gorgonia engines and compares outputs, parameter gradients
// and input gradients (tolerances as TestParityWithGorgonia).
func TestEngineBackends(t *testing.T) {
	a := testArch(TrunkAssets, EmbeddingDynamic, true, 3)
	cr, err := NewCritic(a, true)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, cr.Net.NumParams())
	cr.Net.Layout().Init(theta, seed.New(12, seed.Init, 0))
	grads := [2][]float64{make([]float64, len(theta)), make([]float64, len(theta))}
	var outs, igs [2][]float64
	for k, backend := range []string{BackendNative, BackendGorgonia} {
		e, err := NewEngine(backend, cr.Net, 4, Params{theta, grads[k]}, true, true)
		if err != nil {
			t.Fatal(err)
		}
		rng := seed.New(12, seed.Test, 0)
		for r := 0; r < 4; r++ {
			cr.Feed.Fill(e, r, randObs(rng, &a))
		}
		for _, x := range append(append([]Node(nil), cr.Action...), cr.DecAct...) {
			randFill(rng, e.Input(x))
		}
		if err := e.Forward(); err != nil {
			t.Fatal(err)
		}
		e.ZeroOutputGrads()
		randFill(rng, e.OutputGrad(cr.Q[0]), e.OutputGrad(cr.Pred[1]))
		if err := e.Backward(); err != nil {
			t.Fatal(err)
		}
		outs[k] = append(append([]float64(nil), e.Output(cr.Q[0])...), e.Output(cr.Q[1])...)
		igs[k] = append(append([]float64(nil), e.InputGrad(cr.Action[0])...), e.InputGrad(cr.Action[1])...)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cmp := func(what string, a, b []float64) {
		t.Helper()
		for i := range a {
			if !scalar.EqualWithinAbsOrRel(a[i], b[i], tolGradParity, tolGradParity) {
				t.Fatalf("%s[%d]: native %v, gorgonia %v", what, i, a[i], b[i])
			}
		}
	}
	cmp("Q", outs[0], outs[1])
	cmp("dθ", grads[0], grads[1])
	cmp("dQ/da", igs[0], igs[1])
	if _, err := NewEngine("cuda", cr.Net, 1, Params{theta, nil}, false, false); err == nil {
		t.Error("unknown backend accepted")
	}
}

// TestBackwardInputs: input gradients equal Backward's, and the parameter
// gradient is left untouched (serial and with parallel towers).
func TestBackwardInputs(t *testing.T) {
	a := testArch(TrunkFlat, EmbeddingNone, false, 3)
	cr, err := NewCritic(a, true)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, cr.Net.NumParams())
	cr.Net.Layout().Init(theta, seed.New(13, seed.Init, 0))
	for _, par := range []bool{false, true} {
		grad := make([]float64, len(theta))
		ps := cr.Net.NewPass(3, Params{theta, grad})
		ps.SetParallel(par)
		rng := seed.New(13, seed.Test, 0)
		for r := 0; r < 3; r++ {
			cr.Feed.Fill(ps, r, randObs(rng, &a))
		}
		randFill(rng, ps.Input(cr.Action[0]), ps.Input(cr.Action[1]))
		ps.Forward()
		dq := [][]float64{make([]float64, 3), make([]float64, 3)}
		randFill(rng, dq...)
		copy(ps.OutputGrad(cr.Q[0]), dq[0])
		copy(ps.OutputGrad(cr.Q[1]), dq[1])
		ps.Backward()
		want := append(append([]float64(nil), ps.InputGrad(cr.Action[0])...), ps.InputGrad(cr.Action[1])...)
		for i := range grad {
			grad[i] = 7
		}
		copy(ps.OutputGrad(cr.Q[0]), dq[0])
		copy(ps.OutputGrad(cr.Q[1]), dq[1])
		ps.BackwardInputs()
		got := append(append([]float64(nil), ps.InputGrad(cr.Action[0])...), ps.InputGrad(cr.Action[1])...)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("parallel=%v: input grad %d: %v, Backward %v", par, i, got[i], want[i])
			}
		}
		for i, g := range grad {
			if g != 7 {
				t.Fatalf("parallel=%v: BackwardInputs changed the parameter gradient %d", par, i)
			}
		}
		ps.Close()
	}
}

// TestGraphSharesWeights (pitfall 4): a Graph bound to a parameter vector
// sees in-place changes (an optimiser step, a checkpoint load) at its next
// run without rebinding, like a Pass bound to the same vector.
func TestGraphSharesWeights(t *testing.T) {
	ac, err := NewActorCritic(testArch(TrunkFlat, EmbeddingNone, false, 3), 0)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, ac.Net.NumParams())
	ac.Net.Layout().Init(theta, seed.New(14, seed.Init, 0))
	gr, err := ac.Net.NewGraph(2, Params{Value: theta}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	ps := ac.Net.NewPass(2, Params{Value: theta})
	rng := seed.New(14, seed.Test, 0)
	randFill(rng, gr.Input(ac.Feed.obs))
	copy(ps.Input(ac.Feed.obs), gr.Input(ac.Feed.obs))
	for step := 0; step < 2; step++ {
		if err := gr.Run(); err != nil {
			t.Fatal(err)
		}
		ps.Forward()
		for i, v := range gr.Output(ac.Value) {
			if !scalar.EqualWithinAbsOrRel(ps.Output(ac.Value)[i], v, tolParity, tolParity) {
				t.Fatalf("step %d: graph V %v, pass V %v", step, v, ps.Output(ac.Value)[i])
			}
		}
		before := append([]float64(nil), gr.Output(ac.Value)...)
		for i := range theta {
			theta[i] *= 1.5 // an in-place update
		}
		if err := gr.Run(); err != nil {
			t.Fatal(err)
		}
		if gr.Output(ac.Value)[0] == before[0] {
			t.Fatal("the graph did not see the in-place parameter change")
		}
	}
}
