package env_test

import (
	"fmt"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
)

// A market env over a synthetic daily panel: reset with a seed, then hold
// 40% cash and 20% in each of three assets, rebalancing every bar with the
// default costs (10 bps taker fees, exact; 2 bps half spread plus square-root
// impact).
func Example() {
	p := envtest.RandomPanel(300, 3, 1) // 300 daily bars of 3 assets
	fs := envtest.Features(p)           // causal features: log return, vol10, range; mean return
	cfg := env.Defaults()
	cfg.Window = 16
	cfg.EpisodeLen = 4
	m, err := env.New(p, fs, nil, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	info, _ := m.Reset(obs, 42)
	fmt.Printf("observation: %d values (weights at %d); start bar %d, value %.0f\n",
		len(obs), spec.Layout.WeightsOffset, info.Bar, info.Value)

	res := env.NewStepResult(spec)
	action := []float64{0.4, 0.2, 0.2, 0.2} // cash first
	for !res.Truncated && !res.Terminated {
		if err := m.Step(res, action); err != nil {
			fmt.Println(err)
			return
		}
		in := res.Info
		fmt.Printf("bar %d: value %.2f reward %+.5f turnover %.4f fees %.2f slippage %.2f\n",
			in.Bar, in.Value, res.Reward, in.Turnover, in.Fees, in.Slippage)
	}
	// Output:
	// observation: 164 values (weights at 160); start bar 267, value 100000
	// bar 268: value 98084.63 reward -0.01934 turnover 0.5969 fees 59.69 slippage 456.85
	// bar 269: value 98658.78 reward +0.00584 turnover 0.0081 fees 0.79 slippage 0.81
	// bar 270: value 98157.92 reward -0.00509 turnover 0.0259 fees 2.56 slippage 4.17
	// bar 271: value 99300.54 reward +0.01157 turnover 0.0119 fees 1.17 slippage 1.30
}

// A vector env of four clones stepping with same-step autoreset.
func ExampleVec() {
	p := envtest.RandomPanel(300, 2, 2)
	cfg := env.Defaults()
	cfg.Window = 8
	cfg.EpisodeLen = 2
	m, err := env.New(p, envtest.Features(p), nil, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	envs := []env.Env{m, m.Clone(), m.Clone(), m.Clone()}
	v, err := env.NewVec(envs, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	_, infos, _ := v.Reset(7)
	fmt.Print("starts:")
	for _, in := range infos {
		fmt.Print(" ", in.Bar)
	}
	fmt.Println()
	actions := make([]float64, v.Len()*v.Spec().Action.Len())
	for b := 0; b < v.Len(); b++ {
		copy(actions[b*3:], []float64{0.5, 0.25, 0.25})
	}
	for k := 0; k < 2; k++ {
		out, _ := v.Step(actions)
		for b := 0; b < v.Len(); b++ {
			if out.Done(b) {
				fmt.Printf("step %d env %d: episode ended at bar %d, restarted at bar %d\n", k, b, out.Infos[b].Bar, out.ResetInfos[b].Bar)
			}
		}
	}
	// Output:
	// starts: 270 177 286 196
	// step 1 env 0: episode ended at bar 272, restarted at bar 29
	// step 1 env 1: episode ended at bar 179, restarted at bar 235
	// step 1 env 2: episode ended at bar 288, restarted at bar 171
	// step 1 env 3: episode ended at bar 198, restarted at bar 23
}
