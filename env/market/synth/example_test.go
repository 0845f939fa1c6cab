package synth_test

import (
	"fmt"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/synth"
)

// Generate the default market for three assets over one year and report
// the regime shares and what the first bars look like.
func ExampleGenerate() {
	c := synth.Defaults()
	c.Assets, c.Bars = 3, 365
	p, regimes, err := synth.Generate(c, 2024)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Assets(), p.T(), "bars from", p.Time(0).Format("2006-01-02"), "every", p.Interval())
	var count [market.NumRegimes + 1]int
	for _, r := range regimes {
		count[r]++
	}
	for _, r := range market.Regimes() {
		fmt.Printf("%s %d; ", r, count[r])
	}
	fmt.Println("of", len(regimes))
	for t := 0; t < 3; t++ {
		fmt.Printf("%s %s open %.2f close %.2f\n", p.Time(t).Format("01-02"), regimes[t], p.Open(t, 0), p.Close(t, 0))
	}
	pi, _ := c.Stationary()
	fmt.Printf("stationary shares %.3f\n", pi)
	// Output:
	// [SYN01 SYN02 SYN03] 365 bars from 2018-01-01 every 24h0m0s
	// bull 153; bear 156; sideways 51; crash 5; of 365
	// 01-01 bear open 14.38 close 16.13
	// 01-02 bear open 16.13 close 19.77
	// 01-03 bear open 19.77 close 18.97
	// stationary shares [0.326 0.309 0.332 0.033]
}
