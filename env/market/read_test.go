package market

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadFolio(t *testing.T) {
	dir := t.TempDir()
	// Bar 02:00 is missing (a gap of one bar); the 01:00 bar has zero
	// volume; the 03:00 bar's high 30 exceeds WickRatio·max(open, close) = 26.
	path := writeFile(t, dir, "BTC.csv", "\xef\xbb\xbf"+folioCSV(
		"2021-01-01T00:00:00Z,10,12,9,11,100",
		"2021-01-01T01:00:00Z,11,13,10,12,0",
		"",
		"2021-01-01T03:00:00Z,12,30,11,13,5.5",
	))
	s, ws, err := ReadFile(path, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if s.Asset != "BTC" || s.Format != FormatFolio || s.Interval != time.Hour || s.Len() != 3 {
		t.Fatalf("got asset %q format %q interval %v len %d", s.Asset, s.Format, s.Interval, s.Len())
	}
	wantTimes := []int64{ts("2021-01-01T00:00:00Z"), ts("2021-01-01T01:00:00Z"), ts("2021-01-01T03:00:00Z")}
	for k, w := range wantTimes {
		if s.Times[k] != w {
			t.Errorf("time %d = %d, want %d", k, s.Times[k], w)
		}
	}
	if s.Open[2] != 12 || s.High[2] != 30 || s.Low[2] != 11 || s.Close[2] != 13 || s.Volume[2] != 5.5 {
		t.Errorf("bar 2 = %v %v %v %v %v", s.Open[2], s.High[2], s.Low[2], s.Close[2], s.Volume[2])
	}
	if got := s.Lines; len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 5 {
		t.Errorf("lines = %v, want [2 3 5]", got)
	}
	kinds := map[WarningKind]Warning{}
	for _, w := range ws {
		kinds[w.Kind] = w
	}
	if len(ws) != 3 {
		t.Fatalf("warnings = %v, want zero volume, wick, gap", ws)
	}
	if w := kinds[WarnZeroVolume]; w.Line != 3 || w.Asset != "BTC" {
		t.Errorf("zero-volume warning %+v", w)
	}
	if w := kinds[WarnWick]; w.Line != 5 {
		t.Errorf("wick warning %+v", w)
	}
	if w := kinds[WarnGap]; w.Line != 5 || w.Bars != 1 || w.Time != ts("2021-01-01T02:00:00Z") {
		t.Errorf("gap warning %+v", w)
	}
}

func TestReadBinance(t *testing.T) {
	dir := t.TempDir()
	// Two hourly klines in milliseconds without a header, the layout of
	// data.binance.vision files up to 2024.
	ms := writeFile(t, dir, "BTCUSDT-1h-2024-01.csv",
		"1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68108,1704070799999,53957248.97,47134,682.57581,28957416.82,0\n"+
			"1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37856,1704074399999,50844139.30,50146,712.31200,30270954.37,0\r\n")
	// The same in microseconds with the header line Binance added in 2025.
	us := writeFile(t, dir, "BTCUSDT-1h-2025-01.csv",
		"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"+
			"1735689600000000,93576.00,94509.42,93489.03,94401.14,755.99010,1735693199999999,71139239.74,116930,425.47425,40036614.82,0\n"+
			"1735693200000000,94401.13,94408.97,93857.68,93947.75,509.01036,1735696799999999,47914318.62,100893,228.13484,21474651.08,0\n")
	for _, tc := range []struct {
		path  string
		first int64
	}{{ms, ts("2024-01-01T00:00:00Z")}, {us, ts("2025-01-01T00:00:00Z")}} {
		for _, f := range []Format{FormatAuto, FormatBinance} {
			s, _, err := ReadFile(tc.path, f)
			if err != nil {
				t.Fatalf("%s as %s: %v", tc.path, f, err)
			}
			if s.Asset != "BTCUSDT" || s.Format != FormatBinance || s.Len() != 2 || s.Interval != time.Hour || s.Times[0] != tc.first {
				t.Errorf("%s: asset %q format %q len %d interval %v first %d", tc.path, s.Asset, s.Format, s.Len(), s.Interval, s.Times[0])
			}
		}
	}
	s, _, _ := ReadFile(ms, FormatAuto)
	if s.Close[1] != 42613.56 || s.Volume[1] != 1196.37856 || s.High[1] != 42775 {
		t.Errorf("second bar close %v volume %v high %v", s.Close[1], s.Volume[1], s.High[1])
	}
}

func TestReadCryptoDataDownload(t *testing.T) {
	dir := t.TempDir()
	// Newest first; the unix column mixes milliseconds and seconds, as CDD's
	// files have done; the base volume column is "Volume BTC".
	path := writeFile(t, dir, "Binance_BTCUSDT_1h.csv", `https://www.CryptoDataDownload.com
Unix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USDT,tradecount
1609466400000,2021-01-01 02:00:00,BTC/USDT,29000,29100,28900,29050,120.5,3500000,1000
1609462800,2021-01-01 01:00:00,BTC/USDT,28950,29010,28800,29000,99.25,2900000,900
1609459200000,2021-01-01 00:00:00,BTC/USDT,28923.63,29031.34,28690.17,28950,110,3200000,950
`)
	for _, f := range []Format{FormatAuto, FormatCDD} {
		s, ws, err := ReadFile(path, f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Asset != "BTCUSDT" || s.Format != FormatCDD || s.Len() != 3 || s.Interval != time.Hour || len(ws) != 0 {
			t.Fatalf("asset %q format %q len %d interval %v warnings %v", s.Asset, s.Format, s.Len(), s.Interval, ws)
		}
		if s.Times[0] != ts("2021-01-01T00:00:00Z") || s.Open[0] != 28923.63 || s.Volume[0] != 110 || s.Lines[0] != 5 {
			t.Errorf("first bar: time %d open %v volume %v line %d", s.Times[0], s.Open[0], s.Volume[0], s.Lines[0])
		}
		if s.Times[2] != ts("2021-01-01T02:00:00Z") || s.Volume[2] != 120.5 || s.Lines[2] != 3 {
			t.Errorf("last bar: time %d volume %v line %d", s.Times[2], s.Volume[2], s.Lines[2])
		}
	}
	// An older Poloniex file: no unix column, 12-hour dates, "Volume ETH"
	// listed after "Volume USD".
	old := writeFile(t, dir, "Poloniex_ETHUSD_1h.csv", `Created with CryptoDataDownload.com
Date,Symbol,Open,High,Low,Close,Volume USD,Volume ETH
2019-12-02 11-PM,ETHUSD,150.1,151,149.5,150.5,30000,200
2019-12-02 10-PM,ETHUSD,149.9,150.2,149.1,150.1,45000,300
`)
	s, _, err := ReadFile(old, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if s.Asset != "ETHUSD" || s.Times[0] != ts("2019-12-02T22:00:00Z") || s.Volume[0] != 300 || s.Volume[1] != 200 {
		t.Errorf("poloniex: asset %q first %d volumes %v", s.Asset, s.Times[0], s.Volume)
	}
}

func TestAssetName(t *testing.T) {
	tests := []struct{ path, strip, want string }{
		{"daily/BTC.csv", "", "BTC"},
		{"4h/BTCUSDT.csv", "", "BTCUSDT"},
		{"4h/BTCUSDT.csv", "USDT", "BTC"},
		{"USDT.csv", "USDT", "USDT"}, // never strip to nothing
		{"x/BTCUSDT-1h-2024-01.csv", "", "BTCUSDT"},
		{"x/ETHUSDT-4h-2024-01-15.csv", "USDT", "ETH"},
		{"x/Binance_BTCUSDT_1h.csv", "", "BTCUSDT"},
		{"x/Binance_ETHUSDT_d.csv", "", "ETHUSDT"},
		{"x/my_file_name.csv", "", "my_file_name"},
		{"x/BTC-USD.csv", "", "BTC-USD"},
		{"noext", "", "noext"},
	}
	for _, tc := range tests {
		if got := AssetName(tc.path, tc.strip); got != tc.want {
			t.Errorf("AssetName(%q, %q) = %q, want %q", tc.path, tc.strip, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatAuto, "AUTO": FormatAuto, "folio": FormatFolio, "Binance": FormatBinance, "cdd": FormatCDD, "cryptodatadownload": FormatCDD} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("parquet"); err == nil {
		t.Error("ParseFormat accepted parquet")
	}
}

// badFiles lists one crafted file per validation rule, with where the
// problem must be reported. Line numbers are 1-based lines of content.
var badFiles = []struct {
	name    string
	format  Format
	content string
	line    int
	column  string
	msg     string // substring of Msg
	fix     bool   // a fix hint is expected
}{
	{"unparsable number", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,10", "2021-01-02T00:00:00Z,1,2,0.5,abc,10"),
		3, "close", `cannot parse "abc" as a number`, false},
	{"NaN", "", folioCSV("2021-01-01T00:00:00Z,NaN,2,0.5,1.5,10"), 2, "open", "NaN is not a finite number", false},
	{"Inf", "", folioCSV("2021-01-01T00:00:00Z,1,+Inf,0.5,1.5,10"), 2, "high", "+Inf is not a finite number", false},
	{"Inf volume", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,inf"), 2, "volume", "+Inf is not a finite number", false},
	{"negative price", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,10", "2021-01-02T00:00:00Z,1,2,-4,-3,10"),
		3, "low", "price -4 must be positive", false},
	{"zero price", "", folioCSV("2021-01-01T00:00:00Z,0,2,0.5,1.5,10"), 2, "open", "price 0 must be positive", false},
	{"high below body", "", folioCSV("2021-01-01T00:00:00Z,1,1.4,0.5,1.5,10"), 2, "high", "high 1.4 is below max(open, close) = 1.5", false},
	{"low above body", "", folioCSV("2021-01-01T00:00:00Z,1,2,1.2,1.5,10"), 2, "low", "low 1.2 is above min(open, close) = 1", false},
	{"negative volume", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,-1"), 2, "volume", "volume -1 must not be negative", false},
	{"duplicate timestamp", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,1", "2021-01-02T00:00:00Z,1,2,0.5,1.5,1", "2021-01-02T00:00:00Z,1,2,0.5,1.5,1"),
		4, "timestamp", "duplicate timestamp 2021-01-02T00:00:00Z (also at line 3)", true},
	{"decreasing timestamp", "", folioCSV("2021-01-02T00:00:00Z,1,2,0.5,1.5,1", "2021-01-01T00:00:00Z,1,2,0.5,1.5,1"),
		3, "timestamp", "timestamp 2021-01-01T00:00:00Z is before the previous row's 2021-01-02T00:00:00Z at line 2", true},
	{"spacing off the interval", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,1", "2021-01-01T01:00:00Z,1,2,0.5,1.5,1",
		"2021-01-01T02:00:00Z,1,2,0.5,1.5,1", "2021-01-01T02:30:00Z,1,2,0.5,1.5,1"),
		5, "timestamp", "bar at 2021-01-01T02:30:00Z is 30m after the previous bar (line 4), not a multiple of the 1h bar interval", true},
	{"empty file", "", "", 0, "", "empty file", false},
	{"blank file", "", "\n  \r\n\n", 0, "", "empty file", false},
	{"header only", "", "timestamp,open,high,low,close,volume\n", 0, "", "no data rows", false},
	{"missing column", "", "timestamp,open,high,low,close\n2021-01-01T00:00:00Z,1,2,0.5,1.5\n", 1, "volume", "missing column volume", true},
	{"unexpected column", "", "timestamp,open,high,low,close,volume,vwap\n2021-01-01T00:00:00Z,1,2,0.5,1.5,1,1\n", 1, "vwap", `unexpected column "vwap"`, true},
	{"wrong column count", "", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,1", "2021-01-02T00:00:00Z,1,2,0.5,1.5"),
		3, "", "expected 6 columns, got 5", false},
	{"unparsable timestamp", "", folioCSV("2021-13-01T00:00:00Z,1,2,0.5,1.5,1"), 2, "timestamp", `cannot parse "2021-13-01T00:00:00Z" as a time`, false},
	{"missing header", FormatFolio, "2021-01-01T00:00:00Z,1,2,0.5,1.5,1\n", 1, "", "missing header line", true},
	{"missing header (auto)", "", "2021-01-01T00:00:00Z,1,2,0.5,1.5,1\n", 1, "", "missing header line", true},
	{"unrecognised format", "", "a;b;c\n1;2;3\n", 1, "", "unrecognised CSV format", true},
	{"binance column count", FormatBinance, "1704067200000,1,2,0.5,1.5,10,1704070799999,15,3,5,7\n", 1, "", "expected 12 columns, got 11", false},
	{"binance fractional time", "", "1704067200500,1,2,0.5,1.5,10,1704070799999,15,3,5,7.5,0\n", 1, "open_time", "not a whole second", false},
	{"cdd ambiguous volume", FormatCDD, "https://www.CryptoDataDownload.com\nunix,date,symbol,open,high,low,close,Volume A,Volume B\n1609459200,2021-01-01,XYZ,1,2,0.5,1.5,1,1\n",
		2, "volume", "cannot tell which of the columns A, B holds base-asset volume", true},
	{"cdd out of order", "", "https://www.CryptoDataDownload.com\nunix,date,symbol,open,high,low,close,Volume BTC,Volume USDT\n" +
		"1609466400,x,BTC/USDT,1,2,0.5,1.5,1,1\n1609459200,x,BTC/USDT,1,2,0.5,1.5,1,1\n1609462800,x,BTC/USDT,1,2,0.5,1.5,1,1\n1609455600,x,BTC/USDT,1,2,0.5,1.5,1,1\n",
		5, "unix", "time 2021-01-01T01:00:00Z is after the previous row's 2021-01-01T00:00:00Z at line 4 in a newest-first file", true},
	{"cdd missing close", FormatCDD, "unix,date,symbol,open,high,low,Volume BTC\n1609459200,x,BTC/USDT,1,2,0.5,1\n", 1, "close", "missing column close", false},
}

// Every rule of the validation is enforced by ReadFile (first problem, at
// the right line and column) and by Validate.
func TestReadFileRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range badFiles {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "A"+string(rune('a'+i))+".csv", tc.content)
			s, ws, err := ReadFile(path, tc.format)
			if err == nil {
				t.Fatalf("no error; series %+v", s)
			}
			if s != nil || ws != nil {
				t.Errorf("got a series or warnings with the error")
			}
			de := asDataError(t, err)
			if de.File != path || de.Line != tc.line || de.Column != tc.column || !strings.Contains(de.Msg, tc.msg) || (de.Fix != "") != tc.fix {
				t.Errorf("got %#v\nwant line %d column %q msg containing %q fix %v", de, tc.line, tc.column, tc.msg, tc.fix)
			}
			v, verr := Validate([]string{path}, LoadOptions{Format: tc.format})
			if verr != nil {
				t.Fatal(verr)
			}
			if v.OK() || v.Errors[0].Error() != de.Error() {
				t.Errorf("Validate's first error %v, want %v", v.Errors, de)
			}
		})
	}
}

func TestDataErrorFormat(t *testing.T) {
	tests := []struct {
		e    DataError
		want string
	}{
		{DataError{File: "daily/BTC.csv", Line: 17, Column: "close", Msg: "price -3 must be positive"}, "daily/BTC.csv:17: column close: price -3 must be positive"},
		{DataError{File: "a.csv", Msg: "empty file"}, "a.csv: empty file"},
		{DataError{File: "a.csv", Line: 3, Msg: "expected 6 columns, got 5"}, "a.csv:3: expected 6 columns, got 5"},
		{DataError{Line: 3, Column: "open", Msg: "m", Fix: "f"}, "line 3: column open: m (fix: f)"},
		{DataError{Msg: "assets do not overlap"}, "assets do not overlap"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	// The exact message of a loaded file, as in the package documentation.
	dir := t.TempDir()
	path := writeFile(t, dir, "BTC.csv", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,10", "2021-01-02T00:00:00Z,1,2,0.5,-3,10"))
	_, _, err := ReadFile(path, "")
	if want := path + ":3: column close: price -3 must be positive"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, _, err := ReadFile(filepath.Join(t.TempDir(), "nope.csv"), "")
	de := asDataError(t, err)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(de.Msg, "cannot read file") {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

// No input makes the parser panic, and whatever it accepts is a valid
// series (the invariants Align relies on).
func FuzzParseCSV(f *testing.F) {
	for _, tc := range badFiles {
		f.Add(tc.content)
	}
	f.Add(folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,10", "2021-01-01T01:00:00Z,1,2,0.5,1.5,0", "2021-01-01T05:00:00Z,1,2,0.5,1.5,1"))
	f.Add("1704067200000,1,2,0.5,1.5,10,1704070799999,15,3,5,7.5,0\n1704070800000,1,2,0.5,1.5,10,1704070799999,15,3,5,7.5,0\n")
	f.Fuzz(func(t *testing.T, content string) {
		for _, collect := range []bool{false, true} {
			r := parseCSV("f.csv", []byte(content), FormatAuto, collect)
			if !collect && (r.series == nil) == (len(r.errs) == 0) {
				t.Fatalf("series %v with errors %v", r.series, r.errs)
			}
			if r.series != nil && len(r.errs) == 0 {
				if r.series.Len() > 1 || r.series.Interval > 0 {
					if err := r.series.check(); err != nil {
						t.Fatalf("accepted series fails its invariants: %v", err)
					}
				}
			}
			for _, e := range r.errs {
				if e.Msg == "" || e.File != "f.csv" {
					t.Fatalf("malformed error %#v", e)
				}
			}
		}
	})
}

func TestReadFolioColumnOrderAndQuoting(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "X.csv", "\"Close\",Open, high ,low,volume,TIMESTAMP\r\n"+
		"\"1.5\",1,2,0.5,10,\"2021-01-01T00:00:00Z\"\r\n"+
		"1.25, 1.5 ,2,1,0,2021-01-01T01:00:00+00:00\r\n")
	s, ws, err := ReadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.Close[0] != 1.5 || s.Open[1] != 1.5 || s.Low[1] != 1 || s.Times[1] != ts("2021-01-01T01:00:00Z") || len(ws) != 1 {
		t.Errorf("series %+v warnings %v", s, ws)
	}
}

// TestReadUTCOffsetWarning: times with a non-zero UTC offset are converted
// to UTC (hand-computed: 2021-01-02T00:00:00+02:00 is 2021-01-01T22:00Z)
// and produce exactly one warning per file, naming the first such line and
// counting the rows; Z and +00:00 times produce none. Load passes the
// warning on in its report.
func TestReadUTCOffsetWarning(t *testing.T) {
	dir := t.TempDir()
	off := writeFile(t, dir, "ETH.csv", folioCSV(
		"2021-01-01T21:00:00Z,1,1,1,1,1",
		"2021-01-02T00:00:00+02:00,1,1,1,1,1",
		"2021-01-01T18:00:00-05:00,1,1,1,1,1",
		"2021-01-02T00:00:00Z,1,1,1,1,1",
	))
	s, ws, err := ReadFile(off, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{ts("2021-01-01T21:00:00Z"), ts("2021-01-01T22:00:00Z"), ts("2021-01-01T23:00:00Z"), ts("2021-01-02T00:00:00Z")}
	if !slices.Equal(s.Times, want) {
		t.Fatalf("times %v, want %v", s.Times, want)
	}
	var got []Warning
	for _, w := range ws {
		if w.Kind == WarnUTCOffset {
			got = append(got, w)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d UTC-offset warnings (%v), want exactly one per file", len(got), ws)
	}
	w := got[0]
	if w.File != off || w.Line != 3 || w.Bars != 2 || w.Time != ts("2021-01-01T22:00:00Z") ||
		!strings.Contains(w.Msg, "2021-01-02T00:00:00+02:00") || !strings.Contains(w.Msg, "converted to UTC") {
		t.Errorf("warning %+v: want line 3, 2 rows, the first offset time and its UTC time", w)
	}
	if !strings.Contains(w.String(), "UTC offset converted") {
		t.Errorf("warning string %q does not name the kind", w.String())
	}

	utc := writeFile(t, dir, "BTC.csv", folioCSV(
		"2021-01-01T21:00:00Z,1,1,1,1,1",
		"2021-01-01T22:00:00+00:00,1,1,1,1,1",
		"2021-01-01T23:00:00-00:00,1,1,1,1,1",
		"2021-01-02,1,1,1,1,1",
	))
	if _, ws, err := ReadFile(utc, FormatAuto); err != nil {
		t.Fatal(err)
	} else {
		for _, w := range ws {
			if w.Kind == WarnUTCOffset {
				t.Errorf("UTC times gave an offset warning: %v", w)
			}
		}
	}

	_, rep, err := Load([]string{off, utc}, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range rep.Warnings {
		if w.Kind == WarnUTCOffset {
			n++
		}
	}
	if n != 1 || !strings.Contains(rep.Summary(3), "UTC offset converted") {
		t.Errorf("Load report has %d UTC-offset warnings, summary:\n%s", n, rep.Summary(3))
	}
}
