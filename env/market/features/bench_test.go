package features_test

import (
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// BenchmarkCompute computes the default feature set on synthetic panels of
// the sizes folio uses: 20 assets × 3,000 daily bars, and 8 assets ×
// 60,000 hourly bars with the default (expanding) GARCH window and with a
// rolling 4,000-bar window. "nogarch" drops the three GARCH features to
// show their share of the cost.
func BenchmarkCompute(b *testing.B) {
	daily := synthPanel(b, 3000, 20, 24*time.Hour, 90)
	hourly := synthPanel(b, 60000, 8, time.Hour, 91)
	noGarch := features.Defaults()
	noGarch.Asset = []string{"logret", "rvol_5", "rvol_21", "rvol_63", "ewma_vol", "vol_ratio_5_63", "volume_z_63", "drawdown", "mom_21", "mom_63"}
	rolling := features.Defaults()
	rolling.GarchWindow = 4000
	for _, c := range []struct {
		name string
		p    *market.Panel
		cfg  features.Config
	}{
		{"assets=20/bars=3000/default", daily, features.Defaults()},
		{"assets=20/bars=3000/nogarch", daily, noGarch},
		{"assets=8/bars=60000/nogarch", hourly, noGarch},
		{"assets=8/bars=60000/garch_window=4000", hourly, rolling},
		{"assets=8/bars=60000/default", hourly, features.Defaults()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := features.Compute(c.p, c.cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
