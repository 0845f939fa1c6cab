package market

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Low-level field parsing shared by the CSV readers. Nothing here allocates on
// the success path: fields are sub-slices of the file's bytes, and the
// string conversions passed to strconv stay on the stack (fields are short
// and strconv does not retain its argument).

// maxFields bounds the fields kept per CSV row; wider rows are counted but
// their extra fields are not stored (no supported format has more than 12).
const maxFields = 16

// splitFields splits line at commas into dst and returns the number of
// fields (which may exceed maxFields).
func splitFields(line []byte, dst *[maxFields][]byte) int {
	n, start := 0, 0
	for i, c := range line {
		if c == ',' {
			if n < maxFields {
				dst[n] = line[start:i]
			}
			n++
			start = i + 1
		}
	}
	if n < maxFields {
		dst[n] = line[start:]
	}
	return n + 1
}

// trimField removes surrounding blanks and one pair of double quotes.
func trimField(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b
}

// nextLine returns the line starting at pos without its terminator ("\n" or
// "\r\n") and the position of the next line.
func nextLine(data []byte, pos int) (line []byte, next int) {
	end := len(data)
	if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	next = end + 1
	if end > pos && data[end-1] == '\r' {
		end--
	}
	return data[pos:end], next
}

// isBlank reports whether a line holds only blanks.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

var (
	errBadTime    = errors.New("not a valid time")
	errOutOfRange = errors.New("time out of range")
)

// maxUnix is the latest supported bar open time (2262-04-11), so that the
// span between any two bars fits a time.Duration. Times before 1970 are not
// supported either.
const maxUnix = math.MaxInt64 / int64(time.Second)

// parseRFC3339 parses a bar open time. The fixed form YYYY-MM-DDTHH:MM:SSZ
// (what folio writes) is parsed by hand; a bare date YYYY-MM-DD means 00:00
// UTC; anything else goes through time.Parse(time.RFC3339), so offsets such
// as +02:00 are honoured (converted to UTC; the reader warns, WarnUTCOffset). The time must be a whole second.
func parseRFC3339(b []byte) (int64, error) {
	if len(b) == 20 && b[19] == 'Z' && b[10] == 'T' && b[13] == ':' && b[16] == ':' {
		if s, ok := fastDateTime(b); ok {
			return s, nil
		}
		// Fall through: time.Parse gives the precise reason.
	} else if len(b) == 10 && b[4] == '-' && b[7] == '-' {
		y, ok1 := digits(b[0:4])
		m, ok2 := digits(b[5:7])
		d, ok3 := digits(b[8:10])
		if ok1 && ok2 && ok3 && validDate(y, m, d) {
			return daysFromCivil(y, m, d) * 86400, nil
		}
		if _, err := time.Parse(time.DateOnly, string(b)); err != nil {
			return 0, err
		}
		return 0, errBadTime
	}
	t, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return 0, err
	}
	if t.Nanosecond() != 0 {
		return 0, fmt.Errorf("%s has a fraction of a second; bar open times are whole seconds", t.Format(time.RFC3339Nano))
	}
	return t.Unix(), nil
}

// utcOffset returns the UTC offset in seconds written at the end of an
// RFC3339 time that parseRFC3339 accepted: 0 for "Z", a bare date or
// "+00:00", otherwise ±(hh·3600 + mm·60).
func utcOffset(b []byte) int {
	n := len(b)
	if n < 6 || b[n-3] != ':' || (b[n-6] != '+' && b[n-6] != '-') {
		return 0
	}
	hh, ok1 := digits(b[n-5 : n-3])
	mm, ok2 := digits(b[n-2:])
	if !ok1 || !ok2 {
		return 0
	}
	off := int(hh)*3600 + int(mm)*60
	if b[n-6] == '-' {
		off = -off
	}
	return off
}

// fastDateTime parses YYYY-MM-DDTHH:MM:SSZ (separators already checked) and
// validates every field as time.Parse does.
func fastDateTime(b []byte) (int64, bool) {
	if b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	hh, ok4 := digits(b[11:13])
	mm, ok5 := digits(b[14:16])
	ss, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(y, m, d) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	return daysFromCivil(y, m, d)*86400 + int64(hh*3600+mm*60+ss), true
}

// digits parses a short run of ASCII digits.
func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(b) > 0
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the proleptic
// Gregorian date y-m-d (H. Hinnant, "chrono-compatible low-level date
// algorithms", days_from_civil), valid for y ≥ 0.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Epoch time units are recognised per value by magnitude; the ranges do not
// overlap for any date between 1973 and 5138.
const (
	maxEpochSeconds = 1e11 // seconds below this (year 5138)
	maxEpochMillis  = 1e14 // milliseconds below this
	maxEpochMicros  = 1e17 // microseconds below this
)

// parseEpoch parses a non-negative integer Unix time in seconds,
// milliseconds or microseconds and returns whole seconds.
func parseEpoch(b []byte) (int64, error) {
	v, ok := parseUint(b)
	if !ok {
		// Some writers print epochs as floats ("1609459200000.0").
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f != math.Trunc(f) || f < 0 || f >= maxEpochMicros {
			return 0, fmt.Errorf("%q is not a Unix time", b)
		}
		v = int64(f)
	}
	var unit int64
	switch {
	case v < maxEpochSeconds:
		return v, nil
	case v < maxEpochMillis:
		unit = 1000
	case v < maxEpochMicros:
		unit = 1000_000
	default:
		return 0, fmt.Errorf("Unix time %d is out of range", v)
	}
	if v%unit != 0 {
		return 0, fmt.Errorf("Unix time %d (%s) is not a whole second", v, unitName(unit))
	}
	return v / unit, nil
}

// parseUint parses a run of at most 18 ASCII digits.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func unitName(unit int64) string {
	if unit == 1000 {
		return "milliseconds"
	}
	return "microseconds"
}

// dateLayouts are the date forms CryptoDataDownload has used in its Date
// column, tried in order when a file has no Unix-time column. Times without
// a zone are UTC.
var dateLayouts = [...]string{time.DateTime, "2006-01-02 15:04", time.DateOnly, "2006-01-02 03-PM", "2006-01-02 03-04-PM", time.RFC3339}

// parseDate parses a CryptoDataDownload Date field.
func parseDate(b []byte) (int64, error) {
	if len(b) == 19 && b[10] == ' ' && b[13] == ':' && b[16] == ':' {
		c := [20]byte{}
		copy(c[:], b)
		c[10], c[19] = 'T', 'Z'
		if s, ok := fastDateTime(c[:]); ok {
			return s, nil
		}
	}
	s := string(b)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Nanosecond() != 0 {
				return 0, fmt.Errorf("%q has a fraction of a second", s)
			}
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a date such as 2006-01-02 15:04:05", s)
}

// exactPow10 holds the powers of ten that float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a decimal number and returns exactly what
// strconv.ParseFloat(string(b), 64) returns. Plain decimals with at most 15
// significant digits and a decimal exponent within ±22 — every price and
// volume in practice — take Clinger's fast path: the digits as an integer
// m < 2^53 and 10^|e| are both exact float64 values, so one IEEE multiply
// or divide gives the correctly rounded result, the same as strconv's own
// exact path. Everything else (long mantissas, large exponents, hex, Inf,
// NaN, malformed input) goes to strconv.ParseFloat.
func parseFloat(b []byte) (float64, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var m uint64
	sig, exp, sawDigit, sawDot := 0, 0, false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if m == 0 && c == '0' {
				if sawDot {
					exp--
				}
				continue
			}
			if sig == 15 {
				return strconv.ParseFloat(string(b), 64)
			}
			m = m*10 + uint64(c-'0')
			sig++
			if sawDot {
				exp--
			}
		case c == '.' && !sawDot:
			sawDot = true
		case c == 'e' || c == 'E':
			e, ok := parseExp(b[i+1:])
			if !ok || !sawDigit {
				return strconv.ParseFloat(string(b), 64)
			}
			exp += e
			i = len(b)
		default:
			return strconv.ParseFloat(string(b), 64)
		}
	}
	if !sawDigit {
		return strconv.ParseFloat(string(b), 64)
	}
	var f float64
	switch {
	case m == 0:
		f = 0
	case exp >= 0 && exp <= 22:
		f = float64(m) * exactPow10[exp]
	case exp < 0 && exp >= -22:
		f = float64(m) / exactPow10[-exp]
	default:
		return strconv.ParseFloat(string(b), 64)
	}
	if neg {
		f = -f
	}
	return f, nil
}

// parseExp parses a decimal exponent with optional sign and at most 4 digits.
func parseExp(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	e := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		e = e*10 + int(c-'0')
	}
	if neg {
		e = -e
	}
	return e, true
}
