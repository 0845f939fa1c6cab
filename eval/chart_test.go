package eval

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/plot/vg/draw"
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

// TestChartLegendBesideData: the legend is drawn in a column right of the
// data area, below the title, so it hides no data; without entries the
// plot keeps the whole width.
func TestChartLegendBesideData(t *testing.T) {
	const n = 200
	x := make([]float64, n)
	lines := []Line{{Name: "ppo"}, {Name: "mean-variance", Dash: true}, {Name: "bsh†", Dash: true}}
	for i := range x {
		x[i] = 1.6e9 + 86400*float64(i)
	}
	for k := range lines {
		lines[k].X = x
		lines[k].Y = make([]float64, n)
		for i := range x {
			lines[k].Y[i] = 1 + 0.1*float64(k) + 0.001*float64(i)
		}
	}
	o := ChartOptions{Title: "equity", YLabel: "value", TimeX: true, LogY: true, Footnote: notImplementableKey}
	p, err := linePlot(o, lines)
	if err != nil {
		t.Fatal(err)
	}
	p.Legend.Add(o.Footnote) // as render does
	vc, err := draw.NewFormattedCanvas(chartWidth, chartHeight, "svg")
	if err != nil {
		t.Fatal(err)
	}
	c := draw.New(vc)
	plotC, legendC := layout(p, c)
	data := p.DataCanvas(plotC)
	width := p.Legend.Rectangle(c).Size().X
	title := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y
	switch {
	case width <= 0:
		t.Fatal("no legend width")
	case legendC.Min.X < data.Max.X+legendGap-1e-9:
		t.Errorf("legend column starts at %v, inside the data area ending at %v", legendC.Min.X, data.Max.X)
	case legendC.Size().X < width-1e-9 || legendC.Max.X != c.Max.X:
		t.Errorf("legend column %v–%v narrower than the legend's %v", legendC.Min.X, legendC.Max.X, width)
	case legendC.Max.Y > c.Max.Y-title+1e-9:
		t.Errorf("legend column top %v overlaps the title (chart top %v, title %v)", legendC.Max.Y, c.Max.Y, title)
	}
	// The rendered SVG places every legend text right of the data area.
	svg, err := LineChart(o, lines)
	if err != nil {
		t.Fatal(err)
	}
	texts := regexp.MustCompile(`(?s)<text x="([-0-9.]+)"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(string(svg), -1)
	found := 0
	for _, m := range texts {
		name := m[2]
		if !slices.ContainsFunc(lines, func(l Line) bool { return l.Name == name }) && name != notImplementableKey {
			continue
		}
		found++
		xv, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		if xv < float64(data.Max.X) {
			t.Errorf("legend entry %q at x = %v, inside the data area (right edge %v)", name, xv, data.Max.X)
		}
	}
	if found != len(lines)+1 {
		t.Errorf("found %d legend texts, want %d", found, len(lines)+1)
	}
	// Without legend entries the plot keeps the whole width.
	empty, err := linePlot(ChartOptions{Title: "none"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pc, _ := layout(empty, c); pc.Max.X != c.Max.X || pc.Min.X != c.Min.X {
		t.Errorf("a chart without legend entries lost width: %v–%v of %v–%v", pc.Min.X, pc.Max.X, c.Min.X, c.Max.X)
	}
}
