package features_test

import (
	"fmt"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// ExampleCompute builds a few features of a two-asset daily panel and
// prints them at the last bar.
func ExampleCompute() {
	closes := [][2]float64{{100, 10}, {102, 10.5}, {99, 10.2}, {101, 10.8}, {104, 10.6}, {103, 11}}
	spec := market.PanelSpec{Assets: []string{"BTC", "ETH"}, Interval: 24 * time.Hour}
	for t, c := range closes {
		spec.Times = append(spec.Times, int64(1_700_000_000+86400*t))
		for _, x := range c {
			spec.Open = append(spec.Open, x)
			spec.High = append(spec.High, x)
			spec.Low = append(spec.Low, x)
			spec.Close = append(spec.Close, x)
			spec.Volume = append(spec.Volume, 1)
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := features.Defaults()
	cfg.Asset = []string{"logret", "rvol_3", "mom_2", "drawdown"}
	cfg.Global = []string{"index_drawdown"}
	set, err := features.Compute(p, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	last := set.T() - 1
	for i, asset := range p.Assets() {
		fmt.Print(asset)
		for f, name := range set.Names() {
			fmt.Printf(" %s=%.4f", name, set.Series(i, f)[last])
		}
		fmt.Println()
	}
	fmt.Printf("index_drawdown=%.4f warm-up=%d\n", set.GlobalSeries(0)[last], set.WarmUp())
	// Output:
	// BTC logret=-0.0097 rvol_3=0.0203 mom_2=0.0196 drawdown=-0.0096
	// ETH logret=0.0370 rvol_3=0.0393 mom_2=0.0183 drawdown=0.0000
	// index_drawdown=0.0000 warm-up=3
}
