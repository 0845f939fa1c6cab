package eval

import (
	"math"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// TestExposureAxisCoversUnitInterval: an exposure chart's y axis covers
// [0, 1] however flat the data, and still grows to fit data outside it.
func TestExposureAxisCoversUnitInterval(t *testing.T) {
	const n = 300
	rng := seed.New(31, seed.Test, 0)
	x := make([]float64, n)
	flat := make([]float64, n) // fully invested with a few ulps of cash: 1 − 1e-16 jitter
	wide := make([]float64, n) // exposure that leaves [0, 1] (not possible long-only, but the axis must not clip it)
	vol := make([]float64, n)
	for i := range x {
		x[i] = 1.6e9 + 86400*float64(i)
		flat[i] = 1 - 1e-16*math.Abs(rng.NormFloat64())
		wide[i] = -0.2 + 1.5*float64(i)/n
		vol[i] = 0.4 + 0.3*rng.Float64()
	}
	cover := ChartOptions{Title: "exposure", TimeX: true, YCover: [2]float64{0, 1}}
	for _, tc := range []struct {
		name           string
		o              ChartOptions
		y              []float64
		wantLo, wantHi float64 // the axis must reach at least this far (hand-derived from the data)
		maxSpan        float64 // and, when > 0, span at most this much
	}{
		{"flat without cover autoscales onto the noise", ChartOptions{Title: "exposure", TimeX: true}, flat, slices.Min(flat), slices.Max(flat), 1e-15},
		{"flat with cover", cover, flat, 0, 1, 0},
		{"wide data extend the cover", cover, wide, -0.2, 1.3 - 1.5/n, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lp, err := linePlot(tc.o, []Line{{Name: "s", X: x, Y: tc.y}})
			if err != nil {
				t.Fatal(err)
			}
			sp, err := scatterPlot(ChartOptions{YCover: tc.o.YCover}, []ScatterSeries{{Name: "s", X: vol, Y: tc.y, Fit: true, Intercept: tc.y[0]}})
			if err != nil {
				t.Fatal(err)
			}
			for kind, ax := range map[string][2]float64{"line": {lp.Y.Min, lp.Y.Max}, "scatter": {sp.Y.Min, sp.Y.Max}} {
				if ax[0] > tc.wantLo || ax[1] < tc.wantHi {
					t.Errorf("%s: y axis [%v, %v] does not cover [%v, %v]", kind, ax[0], ax[1], tc.wantLo, tc.wantHi)
				}
				if tc.maxSpan > 0 && ax[1]-ax[0] > tc.maxSpan {
					t.Errorf("%s: y axis [%v, %v] wider than the data's %v", kind, ax[0], ax[1], tc.maxSpan)
				}
			}
		})
	}
	// The report's two exposure charts use the cover.
	res := fakeResults(1)
	for _, s := range res.Seeds[0].Strategies {
		for k := range s.Path.Executed {
			s.Path.Executed[k] = []float64{1e-16 * float64(k%3), 0.25, 0.25, 0.5 - 1e-16*float64(k%3)}
		}
	}
	rep, err := BuildReport(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Strategies {
		if s.Timing == nil || !s.Timing.ConstantExposure {
			t.Errorf("%s: exposure 1 − 1e-16 jitter not reported as constant: %+v", s.Name, s.Timing)
		}
	}
}
