package regime

import (
	"fmt"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// BenchmarkFitHMM fits the default HMM labeller (4 states, 8 restarts) on
// the default synthetic market (10 assets × 2,920 daily bars).
func BenchmarkFitHMM(b *testing.B) {
	p, _ := synthPanel(b, 10, 2920, 1)
	c := DefaultHMM()
	b.Run(fmt.Sprintf("bars=%d/states=%d/restarts=%d", p.T(), c.States, c.Restarts), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := FitHMM(p, 0, p.T(), c, seed.New(1, seed.Test, 0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLabel labels the default synthetic market with fitted labellers.
func BenchmarkLabel(b *testing.B) {
	p, _ := synthPanel(b, 10, 2920, 1)
	rules, err := FitRules(p, 0, p.T(), DefaultRules())
	if err != nil {
		b.Fatal(err)
	}
	h, err := FitHMM(p, 0, p.T(), DefaultHMM(), seed.New(1, seed.Test, 0))
	if err != nil {
		b.Fatal(err)
	}
	for _, lab := range []struct {
		name string
		l    Labeller
	}{{"rules", rules}, {"hmm", h}} {
		b.Run(fmt.Sprintf("%s/bars=%d/assets=%d", lab.name, p.T(), p.N()), func(b *testing.B) {
			dst := lab.l.LabelTo(nil, p)
			b.ReportAllocs()
			for b.Loop() {
				dst = lab.l.LabelTo(dst, p)
			}
		})
	}
}
