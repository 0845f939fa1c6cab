package market

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Format names a CSV dialect the loaders read.
type Format string

// The supported formats. See the package documentation for their exact
// shape.
const (
	// FormatAuto detects the format from the first lines of each file.
	FormatAuto Format = "auto"
	// FormatFolio is folio's own CSV: header timestamp,open,high,low,close,volume,
	// RFC3339 UTC bar open times, oldest first, one file per asset.
	FormatFolio Format = "folio"
	// FormatBinance is Binance's published kline CSV (data.binance.vision):
	// 12 columns, open time in milliseconds or microseconds, optional header.
	FormatBinance Format = "binance"
	// FormatCDD is a CryptoDataDownload CSV: a URL line, a header naming
	// unix/date/symbol/open/high/low/close/Volume <BASE>/…, newest row first.
	FormatCDD Format = "cryptodatadownload"
)

// ParseFormat returns the Format named by s: "" or "auto", "folio",
// "binance", "cryptodatadownload" or its short form "cdd"
// (case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "folio":
		return FormatFolio, nil
	case "binance":
		return FormatBinance, nil
	case "cryptodatadownload", "cdd":
		return FormatCDD, nil
	}
	return "", fmt.Errorf("market: unknown data format %q (want auto, folio, binance or cryptodatadownload)", s)
}

// ReadFile reads one CSV file of one asset in the given format (FormatAuto or
// "" to detect it) and validates every row. It returns the series, the
// warnings about it (zero-volume bars, extreme wicks, gaps) and the first
// problem as a *DataError. The asset is named after the file (AssetName).
// The bar interval is the most common spacing between bars; a file of one
// bar has Interval 0.
func ReadFile(path string, format Format) (*Series, []Warning, error) {
	r := readFile(path, format, false)
	if len(r.errs) > 0 {
		return nil, nil, r.errs[0]
	}
	return r.series, r.warns, nil
}

// readResult is what one pass over a file produced. In collect mode errs
// holds every problem found and series the rows that passed; otherwise
// parsing stops at the first problem.
type readResult struct {
	series *Series
	warns  []Warning
	errs   []*DataError
	format Format
}

func readFile(path string, format Format, collect bool) readResult {
	data, err := os.ReadFile(path)
	if err != nil {
		return readResult{errs: []*DataError{{File: path, Msg: "cannot read file: " + rootCause(err), Err: err}}}
	}
	return parseCSV(path, data, format, collect)
}

// rootCause strips the "op path:" prefix of a *fs.PathError message, which
// would repeat the file name.
func rootCause(err error) string {
	if pe, ok := err.(interface{ Unwrap() error }); ok && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	return err.Error()
}

// AssetName derives an asset name from a file path: the base name without
// its extension, except for the names the data vendors publish, which are
// reduced to their symbol:
//
//	BTCUSDT-1h-2024-01.csv      (Binance, monthly)   → BTCUSDT
//	BTCUSDT-1h-2024-01-15.csv   (Binance, daily)     → BTCUSDT
//	Binance_BTCUSDT_1h.csv      (CryptoDataDownload) → BTCUSDT
//
// If stripSuffix is not empty and the name ends with it (and is longer), the
// suffix is removed: AssetName("4h/BTCUSDT.csv", "USDT") is "BTC".
func AssetName(path, stripSuffix string) string {
	name := filepath.Base(path)
	if ext := filepath.Ext(name); ext != "" && len(ext) < len(name) {
		name = name[:len(name)-len(ext)]
	}
	if parts := strings.Split(name, "-"); len(parts) >= 4 && len(parts) <= 5 && isIntervalLabel(parts[1]) && isDigits(parts[2], 4) && isDigits(parts[3], 2) &&
		(len(parts) == 4 || isDigits(parts[4], 2)) && parts[0] != "" {
		name = parts[0]
	} else if parts := strings.Split(name, "_"); len(parts) == 3 && parts[0] != "" && parts[1] != "" && isCDDInterval(parts[2]) {
		name = parts[1]
	}
	if stripSuffix != "" && len(name) > len(stripSuffix) && strings.HasSuffix(name, stripSuffix) {
		name = name[:len(name)-len(stripSuffix)]
	}
	return name
}

// isIntervalLabel matches Binance interval labels such as 1s, 15m, 4h, 1d, 1w, 1mo.
func isIntervalLabel(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	switch s[i:] {
	case "s", "m", "h", "d", "w", "M", "mo":
		return true
	}
	return false
}

// isCDDInterval matches CryptoDataDownload file-name intervals (d, 1h, minute, …).
func isCDDInterval(s string) bool {
	switch strings.ToLower(s) {
	case "d", "1d", "h", "1h", "4h", "minute", "1m", "5m", "15m", "30m", "w", "1w":
		return true
	}
	return false
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// timeKind says how a file encodes bar open times.
type timeKind int

const (
	timeRFC3339 timeKind = iota // folio: RFC3339
	timeEpoch                   // Binance, CDD unix: integer s/ms/µs
	timeDate                    // CDD Date column (no unix column)
)

// parser holds the layout of one file and the problems found in it.
type parser struct {
	path    string
	collect bool
	errs    []*DataError

	format Format
	ncol   int       // fields per data row
	tcol   int       // time column
	tkind  timeKind  // how times are written
	cols   [5]int    // open, high, low, close, volume columns
	names  [6]string // display names: time, open, high, low, close, volume

	// Rows whose RFC3339 time has a non-zero UTC offset (converted to UTC):
	// how many, and the first one's line, text and UTC time.
	offsets int
	offLine int
	offText string
	offTime int64
}

// fail records a problem; it reports whether parsing must stop.
func (p *parser) fail(line int, column, fix, format string, args ...any) bool {
	p.errs = append(p.errs, &DataError{File: p.path, Line: line, Column: column, Msg: fmt.Sprintf(format, args...), Fix: fix})
	return !p.collect
}

// parseCSV parses a whole file held in data. path is used for messages and
// the asset name.
func parseCSV(path string, data []byte, format Format, collect bool) readResult {
	p := &parser{path: path, collect: collect}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if format == "" {
		format = FormatAuto
	}
	pos, lineNo := 0, 0
	// First non-blank line.
	var first []byte
	firstPos := 0
	for pos < len(data) {
		var line []byte
		firstPos = pos
		line, pos = nextLine(data, pos)
		lineNo++
		if !isBlank(line) {
			first = line
			break
		}
	}
	if first == nil {
		p.fail(0, "", "", "empty file")
		return readResult{errs: p.errs}
	}
	pos, lineNo, ok := p.layout(data, first, firstPos, pos, lineNo, format)
	if !ok {
		return readResult{errs: p.errs, format: p.format}
	}

	pos = min(pos, len(data))
	est := bytes.Count(data[pos:], []byte{'\n'}) + 1
	s := &Series{
		Asset: AssetName(path, ""), Path: path, Format: p.format,
		Times: make([]int64, 0, est),
		Open:  make([]float64, 0, est), High: make([]float64, 0, est), Low: make([]float64, 0, est),
		Close: make([]float64, 0, est), Volume: make([]float64, 0, est),
		Lines: make([]int, 0, est),
	}
	var f [maxFields][]byte
	var vals [5]float64
	stop := false
	for pos < len(data) && !stop {
		var line []byte
		line, pos = nextLine(data, pos)
		lineNo++
		if isBlank(line) {
			continue
		}
		n := splitFields(line, &f)
		if n != p.ncol {
			stop = p.fail(lineNo, "", "", "expected %d columns, got %d", p.ncol, n)
			continue
		}
		tb := trimField(f[p.tcol])
		t, err := p.parseTime(tb)
		if err != nil {
			stop = p.fail(lineNo, p.names[0], "", "cannot parse %q as a time: %v", tb, err)
			if stop {
				break
			}
		} else if p.tkind == timeRFC3339 && utcOffset(tb) != 0 {
			if p.offsets == 0 {
				p.offLine, p.offText, p.offTime = lineNo, string(tb), t
			}
			p.offsets++
		}
		if err == nil && (t < 0 || t > maxUnix) {
			err = errOutOfRange
			if stop = p.fail(lineNo, p.names[0], "", "time %s is outside the supported range 1970..2262", trimField(f[p.tcol])); stop {
				break
			}
		}
		good := err == nil
		for j, c := range p.cols {
			b := trimField(f[c])
			x, err := parseFloat(b)
			if err != nil {
				good = false
				if stop = p.fail(lineNo, p.names[j+1], "", "cannot parse %q as a number", b); stop {
					break
				}
				continue
			}
			vals[j] = x
		}
		if stop || !good {
			continue
		}
		if probs := checkBar(vals[0], vals[1], vals[2], vals[3], vals[4], collect); probs != nil {
			for _, e := range probs {
				e.File, e.Line = path, lineNo
				e.Column = p.names[columnIndex(e.Column)]
			}
			p.errs = append(p.errs, probs...)
			stop = !collect
			continue
		}
		s.Times = append(s.Times, t)
		s.Open = append(s.Open, vals[0])
		s.High = append(s.High, vals[1])
		s.Low = append(s.Low, vals[2])
		s.Close = append(s.Close, vals[3])
		s.Volume = append(s.Volume, vals[4])
		s.Lines = append(s.Lines, lineNo)
	}
	if stop {
		return readResult{errs: p.errs, format: p.format}
	}
	if len(s.Times) == 0 {
		if len(p.errs) == 0 {
			p.fail(0, "", "", "no data rows")
		}
		return readResult{errs: p.errs, format: p.format}
	}
	if !p.order(s) {
		return readResult{errs: p.errs, format: p.format}
	}
	if !p.spacing(s) {
		return readResult{errs: p.errs, format: p.format}
	}
	warns := seriesWarnings(s)
	if p.offsets > 0 {
		warns = append(warns, Warning{Kind: WarnUTCOffset, File: path, Line: p.offLine, Asset: s.Asset, Time: p.offTime, Bars: p.offsets,
			Msg: fmt.Sprintf("%d time(s) carry a UTC offset and were converted to UTC, e.g. %s is %s; write times in UTC (ending in Z) to silence this",
				p.offsets, p.offText, rfc3339(p.offTime))})
	}
	return readResult{series: s, warns: warns, errs: p.errs, format: p.format}
}

// columnIndex maps a canonical column name to its index in canonicalColumns.
func columnIndex(name string) int {
	for i, c := range canonicalColumns {
		if c == name {
			return i
		}
	}
	return 0
}

func (p *parser) parseTime(b []byte) (int64, error) {
	switch p.tkind {
	case timeEpoch:
		return parseEpoch(b)
	case timeDate:
		return parseDate(b)
	}
	return parseRFC3339(b)
}

// layout recognises the format from the first non-blank line (line lineNo,
// starting at firstPos, data continuing at pos), consumes header and comment
// lines, and sets the column layout. It returns the position of the first
// data row and the number of the line before it.
func (p *parser) layout(data, first []byte, firstPos, pos, lineNo int, format Format) (int, int, bool) {
	var f [maxFields][]byte
	n := splitFields(first, &f)
	lower := make([]string, min(n, maxFields))
	for i := range lower {
		lower[i] = strings.ToLower(string(trimField(f[i])))
	}
	has := func(name string) bool {
		for _, s := range lower {
			if s == name {
				return true
			}
		}
		return false
	}
	comment := isCDDComment(first)
	_, firstIsInt := parseUint(trimField(f[0]))
	_, err := parseRFC3339(trimField(f[0]))
	firstIsTime := err == nil
	if format == FormatAuto {
		switch {
		case comment:
			format = FormatCDD
		case has("unix") || has("unix timestamp") || has("symbol") || (has("date") && !has("timestamp")):
			format = FormatCDD
		case has("timestamp") || (n == 6 && firstIsTime):
			format = FormatFolio
		case n == 12 && (firstIsInt || has("open_time") || has("open time")):
			format = FormatBinance
		default:
			p.format = FormatAuto
			p.fail(lineNo, "", "set the format explicitly (folio, binance or cryptodatadownload)",
				"unrecognised CSV format: first line %q is neither folio's header %q, a Binance kline row (12 columns) nor a CryptoDataDownload header",
				clip(first, 80), "timestamp,open,high,low,close,volume")
			return pos, lineNo, false
		}
	}
	p.format = format
	switch format {
	case FormatFolio:
		p.tkind = timeRFC3339
		if firstIsTime {
			p.fail(lineNo, "", "add the header line timestamp,open,high,low,close,volume", "missing header line")
			return pos, lineNo, false
		}
		return pos, lineNo, p.folioHeader(lower, lineNo)
	case FormatBinance:
		p.tkind, p.ncol, p.tcol = timeEpoch, 12, 0
		p.cols = [5]int{1, 2, 3, 4, 5}
		p.names = [6]string{"open_time", "open", "high", "low", "close", "volume"}
		if firstIsInt {
			// No header: the first line is data; rewind to it.
			return firstPos, lineNo - 1, true
		}
		if n != 12 {
			p.fail(lineNo, "", "", "Binance header has %d columns, want 12 (open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore)", n)
			return pos, lineNo, false
		}
		return pos, lineNo, true
	case FormatCDD:
		if comment {
			var line []byte
			for pos < len(data) {
				line, pos = nextLine(data, pos)
				lineNo++
				if !isBlank(line) {
					break
				}
			}
			if isBlank(line) {
				p.fail(0, "", "", "no header line after the CryptoDataDownload comment line")
				return pos, lineNo, false
			}
			n = splitFields(line, &f)
			lower = lower[:0]
			for i := 0; i < min(n, maxFields); i++ {
				lower = append(lower, strings.ToLower(string(trimField(f[i]))))
			}
		}
		return pos, lineNo, p.cddHeader(lower, n, lineNo, data, pos)
	}
	p.fail(0, "", "", "unknown format %q", format)
	return pos, lineNo, false
}

func isCDDComment(line []byte) bool {
	l := bytes.ToLower(bytes.TrimSpace(line))
	return bytes.HasPrefix(l, []byte("http")) || bytes.HasPrefix(l, []byte("#")) || bytes.Contains(l, []byte("cryptodatadownload"))
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// folioHeader maps folio's header (already lower-cased).
func (p *parser) folioHeader(lower []string, lineNo int) bool {
	p.ncol, p.names = len(lower), canonicalColumns
	idx := [6]int{-1, -1, -1, -1, -1, -1}
	bad := false // every header problem is recorded, even when not collecting
	for i, name := range lower {
		switch j := columnIndex(name); {
		case canonicalColumns[j] != name:
			p.fail(lineNo, name, "folio files have exactly the columns timestamp,open,high,low,close,volume", "unexpected column %q", name)
			bad = true
		case idx[j] >= 0:
			p.fail(lineNo, name, "", "duplicate column %q", name)
			bad = true
		default:
			idx[j] = i
		}
	}
	for j, i := range idx {
		if i < 0 {
			p.fail(lineNo, canonicalColumns[j], "folio files have the header timestamp,open,high,low,close,volume", "missing column %s", canonicalColumns[j])
			bad = true
		}
	}
	p.tcol = idx[0]
	copy(p.cols[:], idx[1:])
	return !bad
}

// cddHeader maps a CryptoDataDownload header (lower-cased fields, n of
// them). The base-volume column is "Volume <BASE>", where BASE is the
// leading part of the symbol in the first data row (or of the file name).
func (p *parser) cddHeader(lower []string, n, lineNo int, data []byte, pos int) bool {
	p.ncol = n
	find := func(names ...string) int {
		for _, want := range names {
			for i, s := range lower {
				if s == want {
					return i
				}
			}
		}
		return -1
	}
	p.tcol, p.tkind = find("unix", "unix timestamp", "timestamp"), timeEpoch
	if p.tcol < 0 {
		p.tcol, p.tkind = find("date"), timeDate
	}
	if p.tcol < 0 {
		p.fail(lineNo, "unix", "", "missing column unix (or date)")
	}
	p.names[0] = "unix"
	if p.tkind == timeDate {
		p.names[0] = "date"
	}
	for j, name := range [4]string{"open", "high", "low", "close"} {
		p.cols[j] = find(name)
		p.names[j+1] = name
		if p.cols[j] < 0 {
			p.fail(lineNo, name, "", "missing column %s", name)
		}
	}
	// Volume in base units.
	p.cols[4] = find("volume")
	p.names[5] = "volume"
	if p.cols[4] < 0 {
		var cand []int
		var cur []string
		for i, s := range lower {
			if strings.HasPrefix(s, "volume ") {
				cand = append(cand, i)
				cur = append(cur, strings.ToUpper(strings.TrimSpace(s[len("volume "):])))
			}
		}
		sym := p.firstSymbol(lower, data, pos)
		var base []int
		for k, c := range cur {
			if c != "" && len(sym) > len(c) && strings.HasPrefix(sym, c) {
				base = append(base, k)
			}
		}
		switch {
		case len(cand) == 0:
			p.fail(lineNo, "volume", "", "missing column Volume <BASE>")
		case len(base) == 1:
			p.cols[4] = cand[base[0]]
			p.names[5] = "Volume " + cur[base[0]]
		default:
			p.fail(lineNo, "volume", `rename the base-asset volume column to "volume"`,
				"cannot tell which of the columns %s holds base-asset volume for symbol %q", strings.Join(cur, ", "), sym)
		}
	}
	return len(p.errs) == 0
}

// firstSymbol returns the upper-cased symbol of the first data row with its
// separators removed ("BTC/USDT" → "BTCUSDT"), or the name derived from the
// file name when there is no symbol column.
func (p *parser) firstSymbol(lower []string, data []byte, pos int) string {
	sym := AssetName(p.path, "")
	col := -1
	for i, s := range lower {
		if s == "symbol" {
			col = i
		}
	}
	if col >= 0 {
		for pos < len(data) {
			var line []byte
			line, pos = nextLine(data, pos)
			if isBlank(line) {
				continue
			}
			var f [maxFields][]byte
			if n := splitFields(line, &f); col < min(n, maxFields) {
				sym = string(trimField(f[col]))
			}
			break
		}
	}
	return strings.ToUpper(strings.NewReplacer("/", "", "-", "", "_", "", " ", "").Replace(sym))
}

// order checks that times strictly increase (or, for a newest-first
// CryptoDataDownload file, strictly decrease, after which the series is
// reversed). In collect mode rows out of order are reported and removed.
func (p *parser) order(s *Series) bool {
	n := len(s.Times)
	desc := p.format == FormatCDD && n >= 2 && s.Times[0] > s.Times[n-1]
	fix := "sort the rows by timestamp, oldest first"
	if desc {
		fix = "sort the rows by time, newest first (or oldest first) throughout"
	}
	w := 1
	for k := 1; k < n; k++ {
		prev, t := s.Times[w-1], s.Times[k]
		bad := (!desc && t <= prev) || (desc && t >= prev)
		if !bad {
			s.copyRow(w, k)
			w++
			continue
		}
		var stop bool
		switch {
		case t == prev:
			stop = p.fail(s.Lines[k], p.names[0], "remove one of the two rows", "duplicate timestamp %s (also at line %d)", rfc3339(t), s.Lines[w-1])
		case desc:
			stop = p.fail(s.Lines[k], p.names[0], fix, "time %s is after the previous row's %s at line %d in a newest-first file", rfc3339(t), rfc3339(prev), s.Lines[w-1])
		default:
			stop = p.fail(s.Lines[k], p.names[0], fix, "timestamp %s is before the previous row's %s at line %d", rfc3339(t), rfc3339(prev), s.Lines[w-1])
		}
		if stop {
			return false
		}
	}
	s.truncate(w)
	if desc {
		s.reverse()
	}
	return true
}

// spacing infers the bar interval as the most common spacing and checks that
// every spacing is a whole multiple of it.
func (p *parser) spacing(s *Series) bool {
	n := len(s.Times)
	if n < 2 {
		return true
	}
	step := modalSpacing(s.Times)
	s.Interval = time.Duration(step) * time.Second
	for k := 1; k < n; k++ {
		if d := s.Times[k] - s.Times[k-1]; d%step != 0 {
			stop := p.fail(s.Lines[k], p.names[0], "check the timestamps; the bar interval was inferred as the most common spacing",
				"bar at %s is %s after the previous bar (line %d), not a multiple of the %s bar interval",
				rfc3339(s.Times[k]), dur(time.Duration(d)*time.Second), s.Lines[k-1], dur(s.Interval))
			if stop {
				return false
			}
		}
	}
	return true
}

// modalSpacing returns the most common difference between consecutive times
// (the smallest one on a tie). times has at least two strictly increasing
// elements.
func modalSpacing(times []int64) int64 {
	// Fast path: a strict majority is the mode.
	first, same := times[1]-times[0], 0
	for k := 1; k < len(times); k++ {
		if times[k]-times[k-1] == first {
			same++
		}
	}
	if 2*same > len(times)-1 {
		return first
	}
	count := map[int64]int{}
	for k := 1; k < len(times); k++ {
		count[times[k]-times[k-1]]++
	}
	best, bestN := int64(0), 0
	for d, c := range count {
		if c > bestN || (c == bestN && d < best) {
			best, bestN = d, c
		}
	}
	return best
}

func (s *Series) copyRow(dst, src int) {
	if dst == src {
		return
	}
	s.Times[dst], s.Open[dst], s.High[dst], s.Low[dst] = s.Times[src], s.Open[src], s.High[src], s.Low[src]
	s.Close[dst], s.Volume[dst], s.Lines[dst] = s.Close[src], s.Volume[src], s.Lines[src]
}

func (s *Series) truncate(n int) {
	s.Times, s.Open, s.High, s.Low = s.Times[:n], s.Open[:n], s.High[:n], s.Low[:n]
	s.Close, s.Volume, s.Lines = s.Close[:n], s.Volume[:n], s.Lines[:n]
}

func (s *Series) reverse() {
	for i, j := 0, len(s.Times)-1; i < j; i, j = i+1, j-1 {
		s.Times[i], s.Times[j] = s.Times[j], s.Times[i]
		s.Open[i], s.Open[j] = s.Open[j], s.Open[i]
		s.High[i], s.High[j] = s.High[j], s.High[i]
		s.Low[i], s.Low[j] = s.Low[j], s.Low[i]
		s.Close[i], s.Close[j] = s.Close[j], s.Close[i]
		s.Volume[i], s.Volume[j] = s.Volume[j], s.Volume[i]
		s.Lines[i], s.Lines[j] = s.Lines[j], s.Lines[i]
	}
}

// seriesWarnings lists the zero-volume bars, extreme wicks and gaps of a
// valid series.
func seriesWarnings(s *Series) []Warning {
	var ws []Warning
	for k := range s.Times {
		if s.Volume[k] == 0 {
			ws = append(ws, Warning{Kind: WarnZeroVolume, File: s.Path, Line: s.Line(k), Asset: s.Asset, Time: s.Times[k], Bars: 1,
				Msg: "bar " + rfc3339(s.Times[k]) + " has zero volume"})
		}
		o, h, l, c := s.Open[k], s.High[k], s.Low[k], s.Close[k]
		if hi, lo := math.Max(o, c), math.Min(o, c); h > WickRatio*hi || l < lo/WickRatio {
			ws = append(ws, Warning{Kind: WarnWick, File: s.Path, Line: s.Line(k), Asset: s.Asset, Time: s.Times[k], Bars: 1,
				Msg: fmt.Sprintf("bar %s: open %v high %v low %v close %v", rfc3339(s.Times[k]), o, h, l, c)})
		}
	}
	for _, g := range s.Gaps() {
		ws = append(ws, gapWarning(s, g))
	}
	return ws
}

func gapWarning(s *Series, g Gap) Warning {
	path, line := s.Source(g.After + 1)
	return Warning{Kind: WarnGap, File: path, Line: line, Asset: s.Asset, Time: g.Start, Bars: g.Missing,
		Msg: barRange(g.Missing, g.Start, g.End(s.Interval)) + " missing"}
}
