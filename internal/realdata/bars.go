package realdata

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// HeldBack is the open time, in Unix seconds, of the first bar of the
// held-back period, 2025-01-01T00:00:00Z. The readers drop every bar at or
// after it.
const HeldBack int64 = 1735689600

// header is the first line of every real-data file.
const header = "timestamp,open,high,low,close,volume"

// Bars are the bars of one file before the held-back period, in ascending
// open time. All six slices have the same length.
type Bars struct {
	Times                          []int64 // open times, Unix seconds
	Open, High, Low, Close, Volume []float64
}

// Len returns the number of bars.
func (b *Bars) Len() int { return len(b.Times) }

// Read reads the file rel (slash-separated, relative to the real-data
// directory, e.g. "daily/BTC.csv"), skipping the test when it is absent and
// failing it when a row is malformed or the open times do not ascend.
func Read(tb testing.TB, rel string) *Bars {
	tb.Helper()
	b, err := readFile(Dir(tb, filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Closes returns the closes of the file rel, as read by Read.
func Closes(tb testing.TB, rel string) []float64 {
	tb.Helper()
	return Read(tb, rel).Close
}

// readFile parses one real-data file, keeping the bars before HeldBack.
func readFile(name string) (*Bars, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("realdata: %w", err)
	}
	defer f.Close()
	b := &Bars{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			if text != header {
				return nil, fmt.Errorf("realdata: %s:1: header %q, want %q", name, text, header)
			}
			continue
		}
		var fields [6]string
		if nf := split(fields[:], text); nf != 6 {
			return nil, fmt.Errorf("realdata: %s:%d: %d fields, want 6", name, line, nf)
		}
		ts, err := time.Parse(time.RFC3339, fields[0])
		if err != nil {
			return nil, fmt.Errorf("realdata: %s:%d: %w", name, line, err)
		}
		t := ts.Unix()
		if n := len(b.Times); n > 0 && t <= b.Times[n-1] {
			return nil, fmt.Errorf("realdata: %s:%d: open time %s does not follow the previous bar's", name, line, fields[0])
		}
		if t >= HeldBack {
			break // ascending: every later bar is held back too
		}
		var v [5]float64
		for k := range v {
			if v[k], err = strconv.ParseFloat(fields[k+1], 64); err != nil {
				return nil, fmt.Errorf("realdata: %s:%d: column %d: %w", name, line, k+2, err)
			}
		}
		b.Times = append(b.Times, t)
		b.Open = append(b.Open, v[0])
		b.High = append(b.High, v[1])
		b.Low = append(b.Low, v[2])
		b.Close = append(b.Close, v[3])
		b.Volume = append(b.Volume, v[4])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("realdata: %s: %w", name, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("realdata: %s: empty file", name)
	}
	return b, nil
}

// split writes the comma-separated fields of line into dst and returns how
// many there are (more than len(dst) are counted but not stored).
func split(dst []string, line string) int {
	n := 0
	for more := true; more; n++ {
		var f string
		f, line, more = strings.Cut(line, ",")
		if n < len(dst) {
			dst[n] = f
		}
	}
	return n
}

// Table holds several assets' bars on the open times that all of them
// have. The price and volume slices are bar-major: bar k of asset i is at
// index k·N + i.
//
// Table has market.PanelSpec's fields, in its order and with its types, so
// that a test converts it without this package importing env/market:
//
//	p, err := market.NewPanel(market.PanelSpec(*realdata.Daily(t, assets, from, to)))
type Table struct {
	Assets   []string
	Times    []int64       // open times, Unix seconds, ascending
	Interval time.Duration // bar length: 24h for Daily
	Open     []float64
	High     []float64
	Low      []float64
	Close    []float64
	Volume   []float64
	Filled   []bool // always nil: the readers never fill a missing bar
}

// T returns the number of bars.
func (t *Table) T() int { return len(t.Times) }

// N returns the number of assets.
func (t *Table) N() int { return len(t.Assets) }

// Returns returns the simple close-to-close returns as a (T−1)×N row-major
// slice: element (k, i) is close(k+1, i)/close(k, i) − 1. It is empty when
// the table has fewer than two bars.
func (t *Table) Returns() []float64 {
	T, n := t.T(), t.N()
	if T < 2 {
		return nil
	}
	r := make([]float64, (T-1)*n)
	for k := 1; k < T; k++ {
		for i := range n {
			r[(k-1)*n+i] = t.Close[k*n+i]/t.Close[(k-1)*n+i] - 1
		}
	}
	return r
}

// Daily reads daily/<asset>.csv for each asset and keeps the bars whose open
// times lie in [from, to) and are present in every file. A zero from or to
// leaves that side open; the held-back period is excluded either way. It
// skips the test when a file is absent and panics when assets is empty.
func Daily(tb testing.TB, assets []string, from, to time.Time) *Table {
	tb.Helper()
	if len(assets) == 0 {
		panic("realdata: Daily needs at least one asset")
	}
	files := make([]*Bars, len(assets))
	for i, a := range assets {
		files[i] = Read(tb, path.Join("daily", a+".csv"))
	}
	lo, hi := int64(math.MinInt64), HeldBack
	if !from.IsZero() {
		lo = from.Unix()
	}
	if !to.IsZero() {
		hi = min(hi, to.Unix())
	}
	tab := intersect(assets, files, lo, hi)
	tab.Interval = 24 * time.Hour
	return tab
}

// intersect returns the table of the open times in [lo, hi) that every
// file has, by merging the ascending time columns.
func intersect(assets []string, files []*Bars, lo, hi int64) *Table {
	n := len(files)
	most := files[0].Len() // no more common bars than the shortest file has
	for _, f := range files {
		most = min(most, f.Len())
	}
	tab := &Table{Assets: append([]string(nil), assets...), Times: make([]int64, 0, most)}
	for _, col := range []*[]float64{&tab.Open, &tab.High, &tab.Low, &tab.Close, &tab.Volume} {
		*col = make([]float64, 0, most*n)
	}
	idx := make([]int, n)
	for {
		// The latest current time is the only candidate for a common bar.
		cand := lo
		for a, f := range files {
			if idx[a] == f.Len() {
				return tab
			}
			cand = max(cand, f.Times[idx[a]])
		}
		if cand >= hi {
			return tab
		}
		common := true
		for a, f := range files {
			for idx[a] < f.Len() && f.Times[idx[a]] < cand {
				idx[a]++
			}
			if idx[a] == f.Len() {
				return tab
			}
			common = common && f.Times[idx[a]] == cand
		}
		if !common {
			continue
		}
		tab.Times = append(tab.Times, cand)
		for a, f := range files {
			k := idx[a]
			tab.Open = append(tab.Open, f.Open[k])
			tab.High = append(tab.High, f.High[k])
			tab.Low = append(tab.Low, f.Low[k])
			tab.Close = append(tab.Close, f.Close[k])
			tab.Volume = append(tab.Volume, f.Volume[k])
			idx[a]++
		}
	}
}

// Date returns midnight UTC of the date s (YYYY-MM-DD), for the bounds of
// Daily. It panics on a malformed date: dates here are literals in tests.
func Date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("realdata: " + err.Error())
	}
	return d
}

// SimpleReturns returns x[k+1]/x[k] − 1 for k = 0 … len(x)−2 (empty when x
// has fewer than two values).
func SimpleReturns(x []float64) []float64 {
	if len(x) < 2 {
		return nil
	}
	r := make([]float64, len(x)-1)
	for k := range r {
		r[k] = x[k+1]/x[k] - 1
	}
	return r
}
