package ddpg_test

import (
	"fmt"

	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// A TD3 agent (DDPG with twin critics, target smoothing and delayed actor
// updates) for 2 assets with one feature over 4 bars.
func ExampleTD3() {
	spec := env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{11}},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{3}},
		Assets:      []string{"BTC", "ETH"},
		Window:      4,
		Layout:      env.Layout{Features: []string{"logret"}, GlobalOffset: 8, WeightsOffset: 8, Len: 11},
	}
	cfg := ddpg.TD3()
	cfg.Hidden = []int{32, 32}
	a, err := ddpg.New(spec, cfg, seed.New(1, seed.Init, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	r := a.NewRollout()
	fmt.Printf("%s: rollouts of %d×%d, policy delay %d, target noise %.1f (clip %.1f) in logits\n",
		a.Name(), r.Envs, r.Steps, cfg.PolicyDelay, cfg.TargetNoise, cfg.TargetNoiseClip)
	// Output:
	// td3: rollouts of 1×1, policy delay 2, target noise 1.0 (clip 2.5) in logits
}
