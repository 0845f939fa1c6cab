package wrap_test

import (
	"fmt"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/wrap"
)

// Running statistics of two envs merged into one (Chan et al.): the values
// 1..5 have mean 3 and population variance 2.
func ExampleMeanVar() {
	a, b := wrap.NewMeanVar(1), wrap.NewMeanVar(1)
	for _, x := range []float64{1, 2, 3} {
		a.Add([]float64{x})
	}
	for _, x := range []float64{4, 5} {
		b.Add([]float64{x})
	}
	a.Merge(b)
	fmt.Println(a.Count(), a.Mean(0), a.Var(0))
	// Output: 5 3 2
}

// A market env that would run to the end of its data, cut into 5-step
// episodes by TimeLimit, with a Monitor above it recording each episode.
// (Episodes start at the first valid bar here; with random starts one
// drawn near the end of the data is truncated earlier by the env itself,
// and TruncatedByLimit is then false.)
func ExampleTimeLimit() {
	p := envtest.RandomPanel(200, 2, 1)
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen = 10, 0 // the time limit decides the length
	cfg.EpisodeStart = env.StartFirst
	m, err := env.New(p, envtest.Features(p), nil, cfg)
	if err != nil {
		panic(err)
	}
	tl, _ := wrap.NewTimeLimit(m, 5)
	mon, _ := wrap.NewMonitor(tl, 10)
	obs := make([]float64, mon.Spec().Observation.Len())
	res := env.NewStepResult(mon.Spec())
	hold := []float64{0.5, 0.25, 0.25}
	for ep := range 2 {
		mon.Reset(obs, uint64(ep))
		for !res.Truncated {
			mon.Step(res, hold)
		}
		res.Truncated = false
		last, _ := mon.Last()
		fmt.Printf("episode %d: %d steps, truncated by the limit: %v\n", ep, last.Len, tl.TruncatedByLimit())
	}
	fmt.Println("recorded:", mon.Completed())
	// Output:
	// episode 0: 5 steps, truncated by the limit: true
	// episode 1: 5 steps, truncated by the limit: true
	// recorded: 2
}
