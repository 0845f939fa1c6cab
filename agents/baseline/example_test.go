package baseline_test

import (
	"fmt"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/baseline"
	"github.com/folio-rl/folio/env/market"
)

// Example runs uniform constant rebalancing (ucrp) on two assets whose
// prices alternate, the textbook case where rebalancing earns 25% a bar
// while each asset goes nowhere, and buy-and-hold, which does not trade
// after its first purchase.
func Example() {
	closes := [][]float64{{1, 1}, {2, 0.5}, {1, 1}, {2, 0.5}, {1, 1}}
	spec := market.PanelSpec{Assets: []string{"A", "B"}, Interval: 24 * time.Hour}
	for t, row := range closes {
		spec.Times = append(spec.Times, int64(t)*86400)
		for _, c := range row {
			spec.Open, spec.High, spec.Low, spec.Close = append(spec.Open, c), append(spec.High, c), append(spec.Low, c), append(spec.Close, c)
			spec.Volume = append(spec.Volume, 1)
		}
	}
	pan, err := market.NewPanel(spec)
	if err != nil {
		panic(err)
	}
	for _, method := range []string{"ucrp", "buy-and-hold"} {
		p, err := baseline.New(method, baseline.Defaults())
		if err != nil {
			panic(err)
		}
		w := []float64{1, 0, 0} // start in cash
		wealth := 1.0
		for t := 0; t+1 < pan.T(); t++ {
			dst := make([]float64, 3)
			obs := &agents.Observation{Bar: t, History: pan.View(0, t+1), Weights: w}
			if err := p.Act(dst, obs, nil, agents.Deterministic); err != nil {
				panic(err)
			}
			// Earn close t → close t+1 and let the weights drift.
			y := []float64{1, pan.Close(t+1, 0) / pan.Close(t, 0), pan.Close(t+1, 1) / pan.Close(t, 1)}
			g := dst[0]*y[0] + dst[1]*y[1] + dst[2]*y[2]
			w = []float64{dst[0] * y[0] / g, dst[1] * y[1] / g, dst[2] * y[2] / g}
			wealth *= g
		}
		d := p.Diagnostics()
		fmt.Printf("%-12s wealth %.4f  rebalances %d  holds %d\n", p.Name(), wealth, d.Rebalances, d.Holds)
	}
	// Output:
	// ucrp         wealth 2.4414  rebalances 4  holds 0
	// buy-and-hold wealth 1.0000  rebalances 1  holds 3
}
