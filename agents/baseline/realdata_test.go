package baseline

import (
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
)

// TestRealData runs every method over four years of real Binance daily
// bars of six large assets (2021–2024, before the held-back period), from
// bar 90 on, without costs. Every decision must be a valid allocation; bsh
// must end with exactly the best asset's growth (a hand-checkable identity)
// and beat ubah. Final wealth and fallbacks are logged for inspection.
func TestRealData(t *testing.T) {
	opt := market.Defaults()
	opt.Assets = []string{"BTC", "ETH", "BNB", "XRP", "LTC", "ADA"}
	opt.Start = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	opt.End = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	pan, _, err := market.Load([]string{realdata.Dir(t, "daily")}, opt)
	if err != nil {
		t.Fatalf("loading the real daily data: %v", err)
	}
	const from = 90
	cfg := configFor(Defaults(), pan.N())
	wealth := map[string]float64{}
	for _, m := range Methods() {
		p := mustNew(t, m, cfg)
		r := simulate(t, p, pan, 0, from, pan.T(), testRNG(60), false)
		for j, d := range r.decisions {
			checkSimplex(t, m+" bar "+pan.Time(from+j).Format(time.DateOnly), d)
		}
		wealth[m] = r.wealth[len(r.wealth)-1]
		t.Logf("%-17s final wealth %8.3f  fallbacks %v", p.Name(), wealth[m], p.Diagnostics().Counts)
	}
	best := 0.0
	for i := range pan.N() {
		best = math.Max(best, pan.Close(pan.T()-1, i)/pan.Close(from, i))
	}
	// A product of ~1400 price ratios: 1e-10 relative.
	if !scalar.EqualWithinRel(wealth[BSH], best, 1e-10) || wealth[BSH] < wealth[UBAH] {
		t.Fatalf("bsh wealth %v, best asset growth %v, ubah %v", wealth[BSH], best, wealth[UBAH])
	}
}
