package ppo_test

import (
	"fmt"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// A PPO agent for 2 assets with one feature (log returns) over 4 bars:
// before training, the deterministic allocation is close to uniform.
func ExampleNew() {
	spec := env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{11}},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{3}},
		Assets:      []string{"BTC", "ETH"},
		Window:      4,
		Layout:      env.Layout{Features: []string{"logret"}, GlobalOffset: 8, WeightsOffset: 8, Len: 11},
	}
	cfg := ppo.Defaults()
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches = 2, 8, 2
	a, err := ppo.New(spec, cfg, seed.New(1, seed.Init, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	obs := []float64{0.01, -0.02, 0, 0.01, 0, 0.02, -0.01, 0, 1, 0, 0}
	w := make([]float64, 3)
	if err := a.Policy().Act(w, &agents.Observation{Vector: obs}, nil, agents.Deterministic); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d parameters, rollouts of %d×%d, initial weights %.2f\n",
		a.Name(), a.NumParams(), cfg.NumEnvs, cfg.NumSteps, w)
	// Output:
	// ppo: 10119 parameters, rollouts of 2×8, initial weights [0.33 0.33 0.33]
}
