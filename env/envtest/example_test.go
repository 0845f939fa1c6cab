package envtest_test

import (
	"fmt"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
)

// Run checks a market env, including the look-ahead probe, and returns
// the failed checks; Check does the same inside a test.
func ExampleRun() {
	p := envtest.RandomPanel(200, 3, 1)
	cfg := env.Defaults()
	cfg.Window = 8
	cfg.EpisodeLen = 50
	from := func(q *market.Panel) (env.Env, error) { return env.New(q, envtest.Features(q), nil, cfg) }
	probs := envtest.Run(func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from})
	fmt.Println("problems:", len(probs))

	// A feature computed with a centred window reads the future.
	leaky := func(q *market.Panel) (env.Env, error) {
		fs := envtest.Features(q)
		for i := 0; i < q.N(); i++ {
			r := fs.Series(i, 0) // log return
			for t := 0; t+1 < q.T(); t++ {
				r[t] = (r[t] + q.LogReturn(t+1, i)) / 2
			}
		}
		return env.New(q, fs, nil, cfg)
	}
	probs = envtest.Run(func() (env.Env, error) { return leaky(p) }, envtest.Options{Panel: p, FromPanel: leaky})
	for _, pr := range probs {
		fmt.Println("failed:", pr.Check)
	}
	// Output:
	// problems: 0
	// failed: lookahead
}
