package guard_test

import (
	"fmt"

	"github.com/folio-rl/folio/env/guard"
)

// A baseline asks to go all-in BTC from cash. The 50 % cap turns the request
// into (0.25, 0.5, 0.25) (the Euclidean projection onto the capped
// simplex); the 0.4 turnover budget then allows 0.4/0.75 of the way there.
func ExampleProjector() {
	cfg := guard.Defaults()
	cfg.MaxWeight, cfg.MaxTurnover = 0.5, 0.4
	p, err := guard.NewProjector(cfg, []string{"BTC", "ETH"})
	if err != nil {
		panic(err)
	}
	dst := make([]float64, 3)
	rep, err := p.Project(dst, []float64{0, 1, 0}, guard.State{Weights: []float64{1, 0, 0}, Value: 1e4, Peak: 1e4})
	if err != nil {
		panic(err)
	}
	fmt.Printf("executed %.4f\n", dst)
	fmt.Printf("theta %.4f, %d interventions:", rep.Theta, rep.Interventions)
	for b := range guard.NumFlags {
		if f := uint32(1) << b; rep.Flags&f != 0 {
			fmt.Print(" ", guard.FlagName(f))
		}
	}
	fmt.Println()
	// Output:
	// executed [0.6000 0.2667 0.1333]
	// theta 0.5333, 2 interventions: max_weight max_turnover
}
