package synth

import (
	"fmt"
	"testing"
)

// BenchmarkGenerate measures Generate for the brief's 20 assets × 10,000
// daily bars, including market.NewPanel's validation, copy and SHA-256
// fingerprint.
func BenchmarkGenerate(b *testing.B) {
	for _, size := range []struct{ assets, bars int }{{20, 10000}} {
		b.Run(fmt.Sprintf("assets=%d/bars=%d", size.assets, size.bars), func(b *testing.B) {
			c := Defaults()
			c.Assets, c.Bars = size.assets, size.bars
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Generate(c, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
