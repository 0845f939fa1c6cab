package eval

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart sizes in the report.
const (
	chartWidth  = 26 * vg.Centimeter
	chartHeight = 11 * vg.Centimeter
)

// Line is one named series of a line chart.
type Line struct {
	Name string
	X    []float64 // x values (Unix seconds for time axes)
	Y    []float64
	Dash bool // draw dashed (baselines), solid otherwise
}

// ChartOptions controls a line chart.
type ChartOptions struct {
	Title  string
	XLabel string
	YLabel string
	LogY   bool // logarithmic y axis (values must be positive)
	TimeX  bool // x values are Unix seconds
	Height vg.Length
	// YCover is a y interval [lo, hi] the axis always covers; the data may
	// extend the axis beyond it. The zero value (lo ≥ hi) covers nothing.
	// Charts of a fraction (risky exposure) cover [0, 1], so that a
	// constant exposure or rounding noise is drawn as the flat line it is
	// instead of being autoscaled into a dramatic-looking one. Ignored on a
	// log axis.
	YCover [2]float64
	// Footnote, when set, is a last legend line without a symbol (the key
	// to a mark in the series names).
	Footnote string
}

// coverY widens p's y axis to cover o.YCover (after the data have set it).
func coverY(p *plot.Plot, o ChartOptions) {
	if !(o.YCover[0] < o.YCover[1]) || o.LogY {
		return
	}
	p.Y.Min = math.Min(p.Y.Min, o.YCover[0])
	p.Y.Max = math.Max(p.Y.Max, o.YCover[1])
}

// palette returns the colour of series k; the first colours are the
// colour-blind-safe Okabe–Ito palette.
func palette(k int) color.Color {
	okabeIto := []color.RGBA{
		{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
		{230, 159, 0, 255}, {86, 180, 233, 255}, {240, 228, 66, 255}, {0, 0, 0, 255},
	}
	if k < len(okabeIto) {
		return okabeIto[k]
	}
	return plotutil.Color(k)
}

func newPlot(o ChartOptions) *plot.Plot {
	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text = o.XLabel
	p.Y.Label.Text = o.YLabel
	p.Add(plotter.NewGrid())
	if o.TimeX {
		p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02", Time: func(t float64) time.Time {
			return time.Unix(int64(t), 0).UTC()
		}}
	}
	if o.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	// The legend is drawn beside the plot area, never over the data:
	// see render.
	p.Legend.Top = true
	p.Legend.Left = true
	sans(&p.Title.TextStyle.Font)
	sans(&p.X.Label.TextStyle.Font)
	sans(&p.Y.Label.TextStyle.Font)
	sans(&p.X.Tick.Label.Font)
	sans(&p.Y.Tick.Label.Font)
	sans(&p.Legend.TextStyle.Font)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p
}

// sans switches a font to the sans-serif variant (the report's CSS maps it
// to the reader's sans-serif font; gonum/plot lays text out with the
// metrics of Liberation Sans, which it embeds).
func sans(f *font.Font) { f.Variant = "Sans" }

// legendGap separates the plot area from the legend column.
const legendGap = 5 * vg.Millimeter

// layout splits chart canvas c into the canvas of the plot (title, axes
// and data) and the column to its right that holds p's legend,
// top-aligned below the title, so the legend never hides a curve.
// Without legend entries the plot gets the whole width.
func layout(p *plot.Plot, c draw.Canvas) (plotC, legendC draw.Canvas) {
	w := p.Legend.Rectangle(c).Size().X
	if w <= 0 {
		return c, draw.Crop(c, c.Size().X, 0, 0, 0)
	}
	plotC = draw.Crop(c, 0, -(w + legendGap), 0, 0)
	top := vg.Length(0)
	if p.Title.Text != "" {
		top = p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	legendC = draw.Crop(c, c.Size().X-w, 0, 0, -top)
	return plotC, legendC
}

func render(p *plot.Plot, o ChartOptions) ([]byte, error) {
	h := o.Height
	if h == 0 {
		h = chartHeight
	}
	if o.Footnote != "" {
		p.Legend.Add(o.Footnote)
	}
	vc, err := draw.NewFormattedCanvas(chartWidth, h, "svg")
	if err != nil {
		return nil, fmt.Errorf("eval: rendering chart %q: %w", p.Title.Text, err)
	}
	c := draw.New(vc)
	plotC, legendC := layout(p, c)
	legend := p.Legend
	p.Legend = plot.NewLegend() // empty: the plot draws no legend over its data
	p.Draw(plotC)
	p.Legend = legend
	legend.Draw(legendC)
	var buf bytes.Buffer
	if _, err := vc.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("eval: rendering chart %q: %w", p.Title.Text, err)
	}
	return buf.Bytes(), nil
}

// LineChart renders named series as an SVG line chart. Non-finite points
// (and non-positive ones on a log axis) are skipped.
func LineChart(o ChartOptions, lines []Line) ([]byte, error) {
	p, err := linePlot(o, lines)
	if err != nil {
		return nil, err
	}
	return render(p, o)
}

// linePlot builds LineChart's plot.
func linePlot(o ChartOptions, lines []Line) (*plot.Plot, error) {
	p := newPlot(o)
	for k, l := range lines {
		pts := make(plotter.XYs, 0, len(l.X))
		for j := range l.X {
			y := l.Y[j]
			if math.IsNaN(y) || math.IsInf(y, 0) || (o.LogY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: l.X[j], Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("eval: chart %q series %q: %w", o.Title, l.Name, err)
		}
		ln.Color = palette(k)
		ln.Width = vg.Points(1.2)
		if l.Dash {
			ln.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(ln)
		p.Legend.Add(l.Name, ln)
	}
	coverY(p, o)
	return p, nil
}

// StackedArea renders weights over time as stacked bands: weights[j][k] is
// the weight of component k at x[j]; names[k] labels component k.
func StackedArea(o ChartOptions, x []float64, names []string, weights [][]float64) ([]byte, error) {
	p := newPlot(o)
	p.Y.Min, p.Y.Max = 0, 1
	n := len(x)
	if n == 0 {
		return render(p, o)
	}
	lower := make([]float64, n)
	upper := make([]float64, n)
	for k, name := range names {
		for j := 0; j < n; j++ {
			w := weights[j][k]
			if math.IsNaN(w) || w < 0 {
				w = 0
			}
			upper[j] = lower[j] + w
		}
		poly := make(plotter.XYs, 0, 2*n)
		for j := 0; j < n; j++ {
			poly = append(poly, plotter.XY{X: x[j], Y: upper[j]})
		}
		for j := n - 1; j >= 0; j-- {
			poly = append(poly, plotter.XY{X: x[j], Y: lower[j]})
		}
		pg, err := plotter.NewPolygon(poly)
		if err != nil {
			return nil, fmt.Errorf("eval: chart %q band %q: %w", o.Title, name, err)
		}
		pg.Color = palette(k)
		pg.LineStyle.Width = 0
		p.Add(pg)
		p.Legend.Add(name, pg)
		copy(lower, upper)
	}
	return render(p, o)
}

// BarGroup is one group of bars (e.g. one strategy) across categories.
type BarGroup struct {
	Name   string
	Values []float64 // one per category; NaN draws nothing
}

// GroupedBars renders grouped vertical bars: one group per BarGroup, one
// bar position per category.
func GroupedBars(o ChartOptions, categories []string, groups []BarGroup) ([]byte, error) {
	p := newPlot(o)
	if len(groups) == 0 || len(categories) == 0 {
		return render(p, o)
	}
	w := vg.Points(math.Max(3, 60/float64(len(groups))))
	for k, g := range groups {
		vals := make(plotter.Values, len(categories))
		for c := range categories {
			v := g.Values[c]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			vals[c] = v
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, fmt.Errorf("eval: chart %q group %q: %w", o.Title, g.Name, err)
		}
		bc.Color = palette(k)
		bc.LineStyle.Width = 0
		bc.Offset = w * vg.Length(float64(k)-float64(len(groups)-1)/2)
		p.Add(bc)
		p.Legend.Add(g.Name, bc)
	}
	p.NominalX(categories...)
	return render(p, o)
}

// Scatter renders one or more point clouds, each with an optional fitted
// line y = a + b·x over its x range.
type ScatterSeries struct {
	Name string
	X, Y []float64
	// Fit draws the line Intercept + Slope·x when true.
	Fit              bool
	Intercept, Slope float64
}

// ScatterChart renders scatter series as SVG.
func ScatterChart(o ChartOptions, series []ScatterSeries) ([]byte, error) {
	p, err := scatterPlot(o, series)
	if err != nil {
		return nil, err
	}
	return render(p, o)
}

// scatterPlot builds ScatterChart's plot.
func scatterPlot(o ChartOptions, series []ScatterSeries) (*plot.Plot, error) {
	p := newPlot(o)
	for k, s := range series {
		pts := make(plotter.XYs, 0, len(s.X))
		lo, hi := math.Inf(1), math.Inf(-1)
		for j := range s.X {
			if math.IsNaN(s.X[j]) || math.IsNaN(s.Y[j]) || math.IsInf(s.X[j], 0) || math.IsInf(s.Y[j], 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
			lo, hi = math.Min(lo, s.X[j]), math.Max(hi, s.X[j])
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("eval: chart %q series %q: %w", o.Title, s.Name, err)
		}
		sc.GlyphStyle.Color = palette(k)
		sc.GlyphStyle.Radius = vg.Points(1.3)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
		if s.Fit && hi > lo {
			ln, err := plotter.NewLine(plotter.XYs{{X: lo, Y: s.Intercept + s.Slope*lo}, {X: hi, Y: s.Intercept + s.Slope*hi}})
			if err != nil {
				return nil, err
			}
			ln.Color = palette(k)
			ln.Width = vg.Points(1.5)
			p.Add(ln)
		}
	}
	coverY(p, o)
	return p, nil
}

// logTicks labels a log axis at 1, 2 and 5 times each power of ten in
// range (plot.LogTicks labels powers of ten only, which leaves an equity
// curve between 0.5 and 8 with a single label), with unlabelled minor
// ticks at the other integer multiples. A range narrower than a factor of
// two gets every integer multiple labelled; where that still gives fewer
// than two labels, gonum's linear ticks are used (on a log scale they are
// still placed correctly).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return nil
	}
	labelAll := hi/lo < 2
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelAll || m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
			if t.Label != "" {
				labelled++
			}
		}
	}
	if labelled < 2 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}
