package market

import (
	"fmt"
	"time"
)

// View is a cheap, causal window onto a Panel: bars [from, to) of the panel,
// re-indexed from 0. Accessing a bar at or beyond the window's end panics, so
// a policy handed a View ending at its decision bar cannot read the future.
// A View is a small value; making one does not copy data.
type View struct {
	p        *Panel
	from, to int
}

// View returns the window of bars [from, to) of p.
func (p *Panel) View(from, to int) View {
	if from < 0 || to > len(p.times) || from > to {
		panic(fmt.Sprintf("market: view [%d, %d) out of range for %d bars", from, to, len(p.times)))
	}
	return View{p: p, from: from, to: to}
}

// Panel returns the underlying panel. Code that must stay causal should not
// reach past the view through it.
func (v View) Panel() *Panel { return v.p }

// Offset returns the panel index of the view's bar 0.
func (v View) Offset() int { return v.from }

// T returns the number of bars in the view.
func (v View) T() int { return v.to - v.from }

// N returns the number of assets.
func (v View) N() int { return v.p.n }

// Asset returns the name of asset i.
func (v View) Asset(i int) string { return v.p.assets[i] }

// Interval returns the bar length.
func (v View) Interval() time.Duration { return v.p.interval }

// BarsPerYear returns the number of bars in a 365-day year.
func (v View) BarsPerYear() float64 { return v.p.BarsPerYear() }

func (v View) idx(t int) int {
	if t < 0 || t >= v.to-v.from {
		panic(fmt.Sprintf("market: bar %d outside view of %d bars", t, v.to-v.from))
	}
	return t + v.from
}

// Time returns the open time of view bar t.
func (v View) Time(t int) time.Time { return v.p.Time(v.idx(t)) }

// Open returns the open of asset i at view bar t.
func (v View) Open(t, i int) float64 { return v.p.Open(v.idx(t), i) }

// High returns the high of asset i at view bar t.
func (v View) High(t, i int) float64 { return v.p.High(v.idx(t), i) }

// Low returns the low of asset i at view bar t.
func (v View) Low(t, i int) float64 { return v.p.Low(v.idx(t), i) }

// Close returns the close of asset i at view bar t.
func (v View) Close(t, i int) float64 { return v.p.Close(v.idx(t), i) }

// Volume returns the volume of asset i at view bar t.
func (v View) Volume(t, i int) float64 { return v.p.Volume(v.idx(t), i) }

// CloseRow returns a read-only view of the closes at view bar t.
func (v View) CloseRow(t int) []float64 { return v.p.CloseRow(v.idx(t)) }

// Return returns the simple close-to-close return of asset i at view bar t ≥ 1.
func (v View) Return(t, i int) float64 {
	k := v.idx(t)
	if t < 1 {
		panic("market: return needs a previous bar in the view")
	}
	return v.p.Return(k, i)
}

// LogReturn returns the log close-to-close return of asset i at view bar t ≥ 1.
func (v View) LogReturn(t, i int) float64 {
	k := v.idx(t)
	if t < 1 {
		panic("market: return needs a previous bar in the view")
	}
	return v.p.LogReturn(k, i)
}

// ReturnsTo writes the simple returns of the last n bars (view bars
// T-n..T-1, each against its previous bar) into dst as an n×N row-major
// matrix and returns it; it needs n < T. dst is allocated when too short.
func (v View) ReturnsTo(dst []float64, n int) []float64 {
	if n >= v.T() || n < 1 {
		panic(fmt.Sprintf("market: %d returns need more than %d bars", n, v.T()))
	}
	N := v.p.n
	if cap(dst) < n*N {
		dst = make([]float64, n*N)
	}
	dst = dst[:n*N]
	base := v.to - n
	for r := 0; r < n; r++ {
		cur, prev := v.p.CloseRow(base+r), v.p.CloseRow(base+r-1)
		for i := 0; i < N; i++ {
			dst[r*N+i] = cur[i]/prev[i] - 1
		}
	}
	return dst
}
