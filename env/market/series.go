package market

import (
	"fmt"
	"math"
	"time"
)

// Series is the OHLCV history of one asset as loaded from one or more files,
// before alignment with other assets. Times strictly increase and every
// spacing is a whole multiple of Interval; missing bars (gaps) are allowed.
// All slices have the same length.
//
// A Series is a plain value: the loader hands it over and keeps no
// reference. Resample and Align never modify their input series.
type Series struct {
	Asset    string        // asset name
	Path     string        // source file (several joined with ", " if concatenated); "" if built in code
	Format   Format        // source format; "" if built in code
	Interval time.Duration // bar length; 0 only for a single bar whose spacing is unknown
	Times    []int64       // bar open times, Unix seconds UTC, strictly increasing
	Open     []float64     // quote currency
	High     []float64     // quote currency
	Low      []float64     // quote currency
	Close    []float64     // quote currency
	Volume   []float64     // base-asset units
	Lines    []int         // 1-based source line of each bar, for messages; nil if built in code

	// sources records which file each bar came from when the series was
	// joined from several files: bars [sources[j].from, sources[j+1].from)
	// come from sources[j].path. nil means every bar comes from Path.
	sources []source
}

// source marks the first bar read from a file in a joined series.
type source struct {
	from int
	path string
}

// Source returns the file and 1-based line bar k was read from ("" and 0
// when unknown, e.g. for a series built in code).
func (s *Series) Source(k int) (path string, line int) {
	path = s.Path
	for j := len(s.sources) - 1; j >= 0; j-- {
		if k >= s.sources[j].from {
			path = s.sources[j].path
			break
		}
	}
	return path, s.Line(k)
}

// errAt returns a DataError located at bar k of s.
func (s *Series) errAt(k int, column, fix, format string, args ...any) *DataError {
	path, line := s.Source(k)
	return &DataError{File: path, Line: line, Column: column, Msg: fmt.Sprintf(format, args...), Fix: fix}
}

// Len returns the number of bars.
func (s *Series) Len() int { return len(s.Times) }

// Line returns the source line of bar k, or 0 if unknown.
func (s *Series) Line(k int) int {
	if k < 0 || k >= len(s.Lines) {
		return 0
	}
	return s.Lines[k]
}

// Clone returns a deep copy of s.
func (s *Series) Clone() *Series {
	c := *s
	c.sources = append([]source(nil), s.sources...)
	c.Times = append([]int64(nil), s.Times...)
	c.Open = append([]float64(nil), s.Open...)
	c.High = append([]float64(nil), s.High...)
	c.Low = append([]float64(nil), s.Low...)
	c.Close = append([]float64(nil), s.Close...)
	c.Volume = append([]float64(nil), s.Volume...)
	if s.Lines != nil {
		c.Lines = append([]int(nil), s.Lines...)
	}
	return &c
}

// Gap is a run of missing bars in a Series.
type Gap struct {
	After   int   // index of the last bar before the gap (the gap is between bars After and After+1)
	Start   int64 // open time of the first missing bar, Unix seconds
	Missing int   // number of missing bars
}

// End returns the open time of the last missing bar of a gap of bars of
// length interval.
func (g Gap) End(interval time.Duration) int64 {
	return g.Start + int64(g.Missing-1)*int64(interval/time.Second)
}

// Gaps returns the runs of missing bars: every spacing longer than Interval.
// It returns nil when Interval is 0.
func (s *Series) Gaps() []Gap {
	step := int64(s.Interval / time.Second)
	if step <= 0 {
		return nil
	}
	var gaps []Gap
	for k := 1; k < len(s.Times); k++ {
		if d := s.Times[k] - s.Times[k-1]; d > step {
			gaps = append(gaps, Gap{After: k - 1, Start: s.Times[k-1] + step, Missing: int(d/step) - 1})
		}
	}
	return gaps
}

// check verifies the structural invariants of a series built in code or
// handed to Resample and Align: equal lengths, whole-second positive
// interval, strictly increasing times on multiples of the interval, and
// valid bar values. Loaded series satisfy it by construction; the check is
// cheap and keeps the exported functions from panicking on bad input.
func (s *Series) check() error {
	n := len(s.Times)
	name := s.Asset
	if name == "" {
		return &DataError{File: s.Path, Msg: "series has no asset name"}
	}
	for _, l := range [...]int{len(s.Open), len(s.High), len(s.Low), len(s.Close), len(s.Volume)} {
		if l != n {
			return fmt.Errorf("%w: series %s has %d times but a value slice of length %d", ErrShape, name, n, l)
		}
	}
	if s.Lines != nil && len(s.Lines) != n {
		return fmt.Errorf("%w: series %s has %d times but %d line numbers", ErrShape, name, n, len(s.Lines))
	}
	if n == 0 {
		return &DataError{File: s.Path, Msg: "asset " + name + ": series has no bars"}
	}
	if s.Interval < 0 || s.Interval%time.Second != 0 || (s.Interval == 0 && n > 1) {
		return &DataError{File: s.Path, Msg: fmt.Sprintf("asset %s: bar interval %v must be a positive whole number of seconds", name, s.Interval)}
	}
	step := int64(s.Interval / time.Second)
	for k := 0; k < n; k++ {
		if t := s.Times[k]; t < 0 || t > maxUnix {
			return s.errAt(k, "timestamp", "", "asset %s: bar %d time %d is outside the supported range 1970..2262", name, k, t)
		}
		if k > 0 {
			d := s.Times[k] - s.Times[k-1]
			if d <= 0 {
				return s.errAt(k, "timestamp", "", "asset %s: bar %d time %s is not after the previous bar's %s", name, k, rfc3339(s.Times[k]), rfc3339(s.Times[k-1]))
			}
			if d%step != 0 {
				return s.errAt(k, "timestamp", "", "asset %s: bar %d at %s is %s after the previous bar, not a multiple of the %s interval",
					name, k, rfc3339(s.Times[k]), dur(time.Duration(d)*time.Second), dur(s.Interval))
			}
		}
		if probs := checkBar(s.Open[k], s.High[k], s.Low[k], s.Close[k], s.Volume[k], false); probs != nil {
			err := probs[0]
			err.File, err.Line = s.Source(k)
			err.Msg = fmt.Sprintf("asset %s bar %s: %s", name, rfc3339(s.Times[k]), err.Msg)
			return err
		}
	}
	return nil
}

// checkBar validates one bar's values. It returns nil for a valid bar, else
// the first problem (all of them if all is set), each with Column set to the
// canonical column name and File and Line left for the caller.
func checkBar(o, h, l, c, v float64, all bool) []*DataError {
	// Fast path: every comparison with NaN is false, and a comparison with
	// ±Inf that passes here is caught below.
	if o > 0 && c > 0 && l > 0 && h >= o && h >= c && l <= o && l <= c && v >= 0 &&
		h <= math.MaxFloat64 && v <= math.MaxFloat64 {
		return nil
	}
	var probs []*DataError
	add := func(col, format string, args ...any) bool {
		probs = append(probs, &DataError{Column: col, Msg: fmt.Sprintf(format, args...)})
		return !all
	}
	finite := true
	for j, x := range [...]float64{o, h, l, c} {
		col := canonicalColumns[j+1]
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			finite = false
			if add(col, "%v is not a finite number", x) {
				return probs
			}
		case x <= 0:
			if add(col, "price %v must be positive", x) {
				return probs
			}
		}
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		if add("volume", "%v is not a finite number", v) {
			return probs
		}
	case v < 0:
		if add("volume", "volume %v must not be negative", v) {
			return probs
		}
	}
	if !finite {
		return probs
	}
	if hi := math.Max(o, c); h < hi {
		if add("high", "high %v is below max(open, close) = %v", h, hi) {
			return probs
		}
	}
	if lo := math.Min(o, c); l > lo {
		add("low", "low %v is above min(open, close) = %v", l, lo)
	}
	return probs
}

// canonicalColumns are folio's column names, in file order.
var canonicalColumns = [6]string{"timestamp", "open", "high", "low", "close", "volume"}
