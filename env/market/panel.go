package market

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// Year is the length of a trading year for crypto markets, which trade every
// day: annualisation uses 365 days.
const Year = 365 * 24 * time.Hour

// PanelSpec holds the raw arrays a Panel is built from. All price and
// volume slices are bar-major: element t*N+i is bar t of asset i.
type PanelSpec struct {
	Assets   []string      // asset names, N of them, unique
	Times    []int64       // bar open times, Unix seconds UTC, strictly increasing, T of them
	Interval time.Duration // nominal bar length
	Open     []float64     // T*N
	High     []float64     // T*N
	Low      []float64     // T*N
	Close    []float64     // T*N
	Volume   []float64     // T*N, base-asset units
	Filled   []bool        // T*N or nil; true where a fill policy created the bar
}

// Panel is T bars × N assets of OHLCV data on a common calendar. It is
// immutable once built: accessors return values or read-only views that
// callers must not modify. Its Fingerprint identifies the content.
type Panel struct {
	assets   []string
	times    []int64
	interval time.Duration
	n        int
	open     []float64
	high     []float64
	low      []float64
	close    []float64
	volume   []float64
	filled   []bool
	fp       string
}

// ErrShape is returned when a PanelSpec's slices disagree in length.
var ErrShape = errors.New("market: panel arrays have inconsistent lengths")

// NewPanel validates spec and builds a Panel from a copy of its arrays.
// It checks shapes, that timestamps strictly increase, that every price is
// finite and positive, volume finite and non-negative, and that
// low ≤ min(open, close) ≤ max(open, close) ≤ high. Loaders validate with
// file and line context first; this is the last line of defence for panels
// built in code.
func NewPanel(spec PanelSpec) (*Panel, error) {
	n, t := len(spec.Assets), len(spec.Times)
	if n == 0 {
		return nil, errors.New("market: panel needs at least one asset")
	}
	if t == 0 {
		return nil, errors.New("market: panel needs at least one bar")
	}
	if spec.Interval <= 0 {
		return nil, fmt.Errorf("market: bar interval must be positive, got %v", spec.Interval)
	}
	seen := make(map[string]bool, n)
	for _, a := range spec.Assets {
		if a == "" {
			return nil, errors.New("market: empty asset name")
		}
		if seen[a] {
			return nil, fmt.Errorf("market: duplicate asset %q", a)
		}
		seen[a] = true
	}
	tn := t * n
	for _, s := range [][]float64{spec.Open, spec.High, spec.Low, spec.Close, spec.Volume} {
		if len(s) != tn {
			return nil, fmt.Errorf("%w: want %d×%d=%d values, got %d", ErrShape, t, n, tn, len(s))
		}
	}
	if spec.Filled != nil && len(spec.Filled) != tn {
		return nil, fmt.Errorf("%w: filled flags: want %d, got %d", ErrShape, tn, len(spec.Filled))
	}
	for k := 1; k < t; k++ {
		if spec.Times[k] <= spec.Times[k-1] {
			return nil, fmt.Errorf("market: bar %d time %s is not after bar %d time %s",
				k, unixUTC(spec.Times[k]).Format(time.RFC3339), k-1, unixUTC(spec.Times[k-1]).Format(time.RFC3339))
		}
	}
	for k := 0; k < tn; k++ {
		o, h, l, c, v := spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k]
		bar, a := k/n, spec.Assets[k%n]
		for _, x := range [...]float64{o, h, l, c} {
			if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
				return nil, fmt.Errorf("market: %s bar %d (%s): price %v must be finite and positive",
					a, bar, unixUTC(spec.Times[bar]).Format(time.RFC3339), x)
			}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("market: %s bar %d: volume %v must be finite and non-negative", a, bar, v)
		}
		if h < math.Max(o, c) || l > math.Min(o, c) {
			return nil, fmt.Errorf("market: %s bar %d: inconsistent OHLC (open %v high %v low %v close %v)", a, bar, o, h, l, c)
		}
	}
	p := &Panel{
		assets:   append([]string(nil), spec.Assets...),
		times:    append([]int64(nil), spec.Times...),
		interval: spec.Interval,
		n:        n,
		open:     append([]float64(nil), spec.Open...),
		high:     append([]float64(nil), spec.High...),
		low:      append([]float64(nil), spec.Low...),
		close:    append([]float64(nil), spec.Close...),
		volume:   append([]float64(nil), spec.Volume...),
	}
	if spec.Filled != nil {
		p.filled = append([]bool(nil), spec.Filled...)
	}
	p.fp = p.fingerprint()
	return p, nil
}

func unixUTC(s int64) time.Time { return time.Unix(s, 0).UTC() }

// T returns the number of bars.
func (p *Panel) T() int { return len(p.times) }

// N returns the number of assets.
func (p *Panel) N() int { return p.n }

// Assets returns a copy of the asset names.
func (p *Panel) Assets() []string { return append([]string(nil), p.assets...) }

// Asset returns the name of asset i.
func (p *Panel) Asset(i int) string { return p.assets[i] }

// AssetIndex returns the index of the named asset, or -1.
func (p *Panel) AssetIndex(name string) int {
	for i, a := range p.assets {
		if a == name {
			return i
		}
	}
	return -1
}

// Interval returns the nominal bar length.
func (p *Panel) Interval() time.Duration { return p.interval }

// BarsPerYear returns the number of bars in a 365-day year.
func (p *Panel) BarsPerYear() float64 { return float64(Year) / float64(p.interval) }

// Time returns the open time of bar t (UTC).
func (p *Panel) Time(t int) time.Time { return unixUTC(p.times[t]) }

// Unix returns the open time of bar t in Unix seconds.
func (p *Panel) Unix(t int) int64 { return p.times[t] }

// Open returns the open price of asset i at bar t.
func (p *Panel) Open(t, i int) float64 { return p.open[t*p.n+i] }

// High returns the high price of asset i at bar t.
func (p *Panel) High(t, i int) float64 { return p.high[t*p.n+i] }

// Low returns the low price of asset i at bar t.
func (p *Panel) Low(t, i int) float64 { return p.low[t*p.n+i] }

// Close returns the close price of asset i at bar t.
func (p *Panel) Close(t, i int) float64 { return p.close[t*p.n+i] }

// Volume returns the volume (base-asset units) of asset i at bar t.
func (p *Panel) Volume(t, i int) float64 { return p.volume[t*p.n+i] }

// DollarVolume returns close × volume of asset i at bar t, in quote currency.
func (p *Panel) DollarVolume(t, i int) float64 { return p.close[t*p.n+i] * p.volume[t*p.n+i] }

// Filled reports whether the bar of asset i at t was created by a fill policy.
func (p *Panel) Filled(t, i int) bool { return p.filled != nil && p.filled[t*p.n+i] }

// HasFilled reports whether any bar was created by a fill policy.
func (p *Panel) HasFilled() bool {
	for _, f := range p.filled {
		if f {
			return true
		}
	}
	return false
}

// OpenRow, HighRow, LowRow, CloseRow and VolumeRow return read-only views of
// bar t across all assets (length N). Callers must not modify them.
func (p *Panel) OpenRow(t int) []float64 { return p.open[t*p.n : (t+1)*p.n : (t+1)*p.n] }

// HighRow returns a read-only view of the highs of bar t.
func (p *Panel) HighRow(t int) []float64 { return p.high[t*p.n : (t+1)*p.n : (t+1)*p.n] }

// LowRow returns a read-only view of the lows of bar t.
func (p *Panel) LowRow(t int) []float64 { return p.low[t*p.n : (t+1)*p.n : (t+1)*p.n] }

// CloseRow returns a read-only view of the closes of bar t.
func (p *Panel) CloseRow(t int) []float64 { return p.close[t*p.n : (t+1)*p.n : (t+1)*p.n] }

// VolumeRow returns a read-only view of the volumes of bar t.
func (p *Panel) VolumeRow(t int) []float64 { return p.volume[t*p.n : (t+1)*p.n : (t+1)*p.n] }

// CloseSeriesTo copies the closes of asset i into dst (length T) and returns it;
// dst is allocated when nil or too short.
func (p *Panel) CloseSeriesTo(dst []float64, i int) []float64 {
	if cap(dst) < len(p.times) {
		dst = make([]float64, len(p.times))
	}
	dst = dst[:len(p.times)]
	for t := range dst {
		dst[t] = p.close[t*p.n+i]
	}
	return dst
}

// LogReturn returns log(close_t / close_{t-1}) of asset i; t must be ≥ 1.
func (p *Panel) LogReturn(t, i int) float64 {
	return math.Log(p.close[t*p.n+i] / p.close[(t-1)*p.n+i])
}

// Return returns the simple return close_t / close_{t-1} − 1 of asset i; t ≥ 1.
func (p *Panel) Return(t, i int) float64 {
	return p.close[t*p.n+i]/p.close[(t-1)*p.n+i] - 1
}

// Fingerprint returns the hex SHA-256 of the panel's canonical encoding:
// a version tag, the interval, the asset names, then for each bar its time
// and for each asset the IEEE-754 bits of open, high, low, close, volume and
// the filled flag, all little-endian. Two panels with the same fingerprint
// hold bit-identical data.
func (p *Panel) Fingerprint() string { return p.fp }

func (p *Panel) fingerprint() string {
	// The encoding is documented on Fingerprint. Values are appended to a
	// buffer hashed in 32 KiB chunks: one hash.Write per 8-byte value
	// dominated the cost of building a panel.
	h := sha256.New()
	buf := make([]byte, 0, 32<<10)
	le := binary.LittleEndian
	buf = append(buf, "folio-panel-v1\x00"...)
	buf = le.AppendUint64(buf, uint64(p.interval))
	buf = le.AppendUint64(buf, uint64(p.n))
	for _, a := range p.assets {
		buf = le.AppendUint64(buf, uint64(len(a)))
		buf = append(buf, a...)
	}
	buf = le.AppendUint64(buf, uint64(len(p.times)))
	for t, ts := range p.times {
		if len(buf)+8*(1+6*p.n) > cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
		buf = le.AppendUint64(buf, uint64(ts))
		for k := t * p.n; k < (t+1)*p.n; k++ {
			buf = le.AppendUint64(buf, math.Float64bits(p.open[k]))
			buf = le.AppendUint64(buf, math.Float64bits(p.high[k]))
			buf = le.AppendUint64(buf, math.Float64bits(p.low[k]))
			buf = le.AppendUint64(buf, math.Float64bits(p.close[k]))
			buf = le.AppendUint64(buf, math.Float64bits(p.volume[k]))
			f := uint64(0)
			if p.filled != nil && p.filled[k] {
				f = 1
			}
			buf = le.AppendUint64(buf, f)
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// Slice returns the panel restricted to bars [from, to). The result shares
// no mutable state with p and has its own fingerprint.
func (p *Panel) Slice(from, to int) (*Panel, error) {
	if from < 0 || to > len(p.times) || from >= to {
		return nil, fmt.Errorf("market: slice [%d, %d) out of range for %d bars", from, to, len(p.times))
	}
	a, b := from*p.n, to*p.n
	spec := PanelSpec{
		Assets: p.assets, Times: p.times[from:to], Interval: p.interval,
		Open: p.open[a:b], High: p.high[a:b], Low: p.low[a:b], Close: p.close[a:b], Volume: p.volume[a:b],
	}
	if p.filled != nil {
		spec.Filled = p.filled[a:b]
	}
	return NewPanel(spec)
}

// Select returns the panel restricted to the named assets, in the given order.
func (p *Panel) Select(assets []string) (*Panel, error) {
	idx := make([]int, len(assets))
	for j, a := range assets {
		idx[j] = p.AssetIndex(a)
		if idx[j] < 0 {
			return nil, fmt.Errorf("market: unknown asset %q (have %v)", a, p.assets)
		}
	}
	t, m := len(p.times), len(assets)
	spec := PanelSpec{Assets: assets, Times: p.times, Interval: p.interval,
		Open: make([]float64, t*m), High: make([]float64, t*m), Low: make([]float64, t*m),
		Close: make([]float64, t*m), Volume: make([]float64, t*m)}
	if p.filled != nil {
		spec.Filled = make([]bool, t*m)
	}
	for s := 0; s < t; s++ {
		for j, i := range idx {
			src, dst := s*p.n+i, s*m+j
			spec.Open[dst], spec.High[dst], spec.Low[dst] = p.open[src], p.high[src], p.low[src]
			spec.Close[dst], spec.Volume[dst] = p.close[src], p.volume[src]
			if p.filled != nil {
				spec.Filled[dst] = p.filled[src]
			}
		}
	}
	return NewPanel(spec)
}

// Index returns the first bar whose open time is ≥ at, or T if none.
func (p *Panel) Index(at time.Time) int {
	u := at.Unix()
	lo, hi := 0, len(p.times)
	for lo < hi {
		mid := (lo + hi) / 2
		if p.times[mid] < u {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Between returns the bars with open time in [start, end] (both inclusive).
// A zero start or end leaves that side open.
func (p *Panel) Between(start, end time.Time) (*Panel, error) {
	from, to := 0, len(p.times)
	if !start.IsZero() {
		from = p.Index(start)
	}
	if !end.IsZero() {
		to = p.Index(end.Add(time.Second))
	}
	if from >= to {
		return nil, fmt.Errorf("market: no bars between %s and %s (data covers %s to %s)",
			start.Format(time.RFC3339), end.Format(time.RFC3339),
			p.Time(0).Format(time.RFC3339), p.Time(len(p.times)-1).Format(time.RFC3339))
	}
	return p.Slice(from, to)
}
