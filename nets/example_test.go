package nets_test

import (
	"fmt"
	"math"

	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/nets"
)

// A two-layer network on 4 inputs with 3 outputs, run on a batch of 2.
func ExampleBuilder() {
	b := nets.NewBuilder()
	x := b.Input("obs", 1, 4, false)
	h := b.Dense("fc1", x, 8, nets.Tanh, nets.Ortho(math.Sqrt2))
	y := b.Dense("out", h, 3, nets.Linear, nets.Ortho(1))
	b.Output("y", y)
	net, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	theta := make([]float64, net.NumParams())
	net.Layout().Init(theta, seed.New(1, seed.Init, 0))
	ps := net.NewPass(2, nets.Params{Value: theta})
	copy(ps.Input(x), []float64{1, 0, 0, 0, 0, 0, 0, 0})
	ps.Forward()
	out := ps.Output(y)
	fmt.Println(net.NumParams(), "parameters")
	fmt.Printf("row 1 (zero input, zero biases): %.1f\n", out[3:])
	// Output:
	// 67 parameters
	// row 1 (zero input, zero biases): [0.0 0.0 0.0]
}

// The volatility-timing gate: logit 0 sets the fraction of capital at
// risk, the others split it between assets.
func ExampleWeightsTo() {
	w := make([]float64, 3)
	exposure := nets.WeightsTo(w, []float64{math.Log(3), 0, math.Log(2)}, true)
	fmt.Printf("exposure %.2f, weights %.2f\n", exposure, w)
	nets.WeightsTo(w, []float64{0, 0, math.Log(2)}, false)
	fmt.Printf("softmax weights %.2f\n", w)
	// Output:
	// exposure 0.75, weights [0.25 0.25 0.50]
	// softmax weights [0.25 0.25 0.50]
}

// PPO's network for bench task v1's observation: 10 assets, 30 log
// returns each, then 11 weights.
func ExampleNewActorCritic() {
	arch := nets.Arch{
		Assets: 10, Features: 1, Window: 30, WeightsOffset: 300, GlobalOffset: 300, ObsLen: 311,
		Trunk: nets.TrunkFlat, Hidden: []int{64, 64}, Activation: nets.Tanh,
		Embedding: nets.EmbeddingNone, ReturnFeature: 0, Init: "orthogonal",
	}
	ac, err := nets.NewActorCritic(arch, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ac.Net.NumParams(), "parameters in", ac.Net.Components(), "independent towers")
	// Output:
	// 49047 parameters in 2 independent towers
}
