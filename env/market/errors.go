package market

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DataError is a problem in market data, located as precisely as the data
// allow. Loaders return it (possibly wrapped, or joined with others) for every
// problem that makes data unusable; find it with errors.As.
type DataError struct {
	File   string // path as given to the loader; "" for data built in code
	Line   int    // 1-based line in File; 0 when the problem concerns the file or series as a whole
	Column string // column name as the file calls it (or the format's documented name); "" if no single column is at fault
	Msg    string // what is wrong, lower case, no trailing punctuation
	Fix    string // how to fix it, when there is a standard remedy; "" otherwise
	Err    error  // underlying cause (e.g. an *fs.PathError), or nil
}

// Unwrap returns the underlying cause, so errors.Is(err, fs.ErrNotExist)
// works through a DataError.
func (e *DataError) Unwrap() error { return e.Err }

// Error formats the error as "file:line: column c: msg (fix: hint)", leaving
// out the parts that are empty, e.g.
//
//	daily/BTC.csv:17: column close: price -3 must be positive
func (e *DataError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Fix)
		b.WriteByte(')')
	}
	return b.String()
}

// WarningKind classifies a Warning.
type WarningKind int

// Warning kinds. None of them makes data unusable; each is worth knowing.
const (
	// WarnZeroVolume is a bar with zero volume (no trade, or an exchange
	// printing a flat bar around an outage). Such a bar cannot be traded
	// under a liquidity cap.
	WarnZeroVolume WarningKind = iota + 1
	// WarnWick is a bar whose high is more than WickRatio × max(open, close)
	// or whose low is less than min(open, close) / WickRatio: a flash crash,
	// a fat-finger print or a listing-day bar. Fills at high or low would be
	// unrealistic there.
	WarnWick
	// WarnGap is a run of missing bars in a series (Bars = how many).
	WarnGap
	// WarnIncompleteBucket is a resampling bucket with missing source bars,
	// dropped from the resampled series (Bars = how many source bars were
	// missing).
	WarnIncompleteBucket
	// WarnFilled is a run of bars created by a fill policy during alignment
	// (Bars = how many).
	WarnFilled
	// WarnUTCOffset is a file whose RFC3339 times carry a non-zero UTC
	// offset (2021-01-02T00:00:00+02:00): they were converted to UTC, the
	// time base of every panel. One warning per file: Line and Time are the
	// first such row and its UTC time, Bars counts the rows.
	WarnUTCOffset
)

// WickRatio is the threshold of WarnWick: a high above WickRatio·max(open,
// close) or a low below min(open, close)/WickRatio. A ratio (not a multiple of
// the body) is used so that tiny-bodied bars are not flagged for ordinary
// wicks, and the test is symmetric in log price: |log wick| > log 2.
const WickRatio = 2.0

var warningNames = [...]string{"", "zero-volume bar", "extreme wick", "gap", "incomplete bucket", "filled bars", "UTC offset converted"}

// String returns a short lower-case name of the kind.
func (k WarningKind) String() string {
	if k <= 0 || int(k) >= len(warningNames) {
		return "warning(" + strconv.Itoa(int(k)) + ")"
	}
	return warningNames[k]
}

// Warning is a noteworthy but valid property of the data.
type Warning struct {
	Kind  WarningKind
	File  string // source file; "" for series built in code
	Line  int    // 1-based line of the bar concerned (for gaps: the bar after the gap); 0 if none
	Asset string
	Time  int64  // Unix seconds: the bar; for gaps and fills the first missing bar; for buckets the bucket start
	Bars  int    // bars concerned: 1 for a single bar, else the missing, dropped or filled count
	Msg   string // human-readable detail
}

// String formats the warning like a DataError: "file:line: kind: msg".
func (w Warning) String() string {
	var b strings.Builder
	if w.File != "" {
		b.WriteString(w.File)
		if w.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(w.Line))
		}
		b.WriteString(": ")
	} else if w.Asset != "" {
		b.WriteString(w.Asset)
		b.WriteString(": ")
	}
	b.WriteString(w.Kind.String())
	b.WriteString(": ")
	b.WriteString(w.Msg)
	return b.String()
}

// SummarizeWarnings condenses warnings into one line per kind: the number of
// occurrences, the bars concerned, the files, and up to examples instances.
// It returns "" when there are none. Loaders never print; callers show the
// summary once per load.
func SummarizeWarnings(ws []Warning, examples int) string {
	if len(ws) == 0 {
		return ""
	}
	type agg struct {
		n, bars int
		files   map[string]bool
		ex      []string
	}
	byKind := map[WarningKind]*agg{}
	for _, w := range ws {
		a := byKind[w.Kind]
		if a == nil {
			a = &agg{files: map[string]bool{}}
			byKind[w.Kind] = a
		}
		a.n++
		a.bars += w.Bars
		a.files[w.File+"\x00"+w.Asset] = true
		if len(a.ex) < examples {
			a.ex = append(a.ex, w.String())
		}
	}
	kinds := make([]WarningKind, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	var b strings.Builder
	for _, k := range kinds {
		a := byKind[k]
		fmt.Fprintf(&b, "%d × %s", a.n, k)
		if a.bars != a.n {
			fmt.Fprintf(&b, " (%d bars)", a.bars)
		}
		fmt.Fprintf(&b, " in %d series", len(a.files))
		for i, e := range a.ex {
			if i == 0 {
				b.WriteString("; e.g. ")
			} else {
				b.WriteString("; ")
			}
			b.WriteString(e)
		}
		if a.n > len(a.ex) && len(a.ex) > 0 {
			fmt.Fprintf(&b, "; … %d more", a.n-len(a.ex))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// rfc3339 formats Unix seconds as an RFC3339 UTC time.
func rfc3339(s int64) string { return unixUTC(s).Format(time.RFC3339) }

// dur formats a duration compactly for messages: 1h, 4h, 24h, 30m, 1h30m.
func dur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
