package market

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/realdata"
)

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	rows := func(start string, n int, skip ...int) string {
		var r []string
		for k, at := range times(start, time.Hour, n, skip...) {
			r = append(r, fmt.Sprintf("%s,%d,%d,%d,%d,%d", at, 10+k, 12+k, 9+k, 11+k, 5))
		}
		return folioCSV(r...)
	}
	writeFile(t, dir, "BTCUSDT.csv", rows("2021-01-01T00:00:00Z", 10))
	writeFile(t, dir, "ETHUSDT.csv", rows("2021-01-01T02:00:00Z", 10))
	writeFile(t, dir, "SOLUSDT.csv", rows("2021-01-01T00:00:00Z", 10, 5))
	writeFile(t, dir, ".hidden.csv", "garbage")
	writeFile(t, dir, "notes.txt", "not data")

	p, rep, err := Load([]string{dir}, LoadOptions{Assets: []string{"ETH", "BTC"}, StripSuffix: "USDT"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Assets(); len(got) != 2 || got[0] != "ETH" || got[1] != "BTC" {
		t.Fatalf("assets %v", got)
	}
	if p.T() != 8 || p.Unix(0) != ts("2021-01-01T02:00:00Z") || p.Close(0, 1) != 13 || p.Close(0, 0) != 11 {
		t.Errorf("T %d first %v closes %v %v", p.T(), p.Time(0), p.Close(0, 0), p.Close(0, 1))
	}
	if len(rep.Files) != 2 || rep.Files[0].Asset != "BTC" || rep.Files[0].Format != FormatFolio || rep.Files[0].Bars != 10 || rep.Interval != time.Hour {
		t.Errorf("files %+v", rep.Files)
	}
	if !strings.Contains(rep.Summary(2), "2 assets × 8 bars of 1h, 2021-01-01T02:00:00Z .. 2021-01-01T09:00:00Z, from 2 files") {
		t.Errorf("summary:\n%s", rep.Summary(2))
	}

	// Every asset: SOL's gap at 05:00 lies inside the common range.
	_, _, err = Load([]string{dir}, LoadOptions{})
	if de := asDataError(t, err); !strings.HasSuffix(de.File, "SOLUSDT.csv") || de.Line != 7 || !strings.Contains(de.Msg, "asset SOLUSDT: 1 bar 2021-01-01T05:00:00Z missing") {
		t.Errorf("error %v", err)
	}
	p, rep, err = Load([]string{dir}, LoadOptions{Fill: FillForward, MaxFillGap: 1})
	if err != nil || p.N() != 3 || rep.Filled != 1 || !p.Filled(3, 2) {
		t.Fatalf("ffill: %v", err)
	}
	_, _, err = Load([]string{dir}, LoadOptions{Assets: []string{"DOGEUSDT"}})
	if err == nil || !strings.Contains(err.Error(), `asset "DOGEUSDT" not found; the files provide BTCUSDT, ETHUSDT, SOLUSDT`) {
		t.Errorf("error %v", err)
	}
}

// Binance publishes one file per symbol and month; Load joins them, and
// messages still name the file and line a bar came from.
func TestLoadJoinsFilesOfOneAsset(t *testing.T) {
	dir := t.TempDir()
	kline := func(at string, c float64) string {
		ms := ts(at) * 1000
		return fmt.Sprintf("%d,%g,%g,%g,%g,10,%d,100,5,4,40,0\n", ms, c, c+1, c-1, c, ms+3599999)
	}
	month := func(name string, start string, n int, skip ...int) string {
		var b strings.Builder
		for k, at := range times(start, time.Hour, n, skip...) {
			b.WriteString(kline(at, 100+float64(k)))
		}
		return writeFile(t, dir, name, b.String())
	}
	jan := month("BTCUSDT-1h-2024-01.csv", "2024-01-31T20:00:00Z", 4)    // 20:00..23:00
	feb := month("BTCUSDT-1h-2024-02.csv", "2024-02-01T01:00:00Z", 6, 3) // 01:00..06:00 without 04:00
	eth := month("ETHUSDT-1h-2024-01.csv", "2024-01-31T20:00:00Z", 11)   // 20:00..06:00
	_, _, err := Load([]string{feb, eth, jan}, LoadOptions{})
	// The first gap, 00:00 between the files, is reported at the first line
	// of the February file.
	if de := asDataError(t, err); de.File != feb || de.Line != 1 || !strings.Contains(de.Msg, "asset BTCUSDT: 1 bar 2024-02-01T00:00:00Z missing") ||
		!strings.Contains(de.Msg, "(and 1 more gaps in this asset)") {
		t.Fatalf("error %v", err)
	}
	// The gap at 04:00 inside the February file is reported at its line.
	_, _, err = Load([]string{feb, eth, jan}, LoadOptions{Start: time.Date(2024, 2, 1, 1, 0, 0, 0, time.UTC)})
	if de := asDataError(t, err); de.File != feb || de.Line != 4 || !strings.Contains(de.Msg, "asset BTCUSDT: 1 bar 2024-02-01T04:00:00Z missing") {
		t.Fatalf("error %v", err)
	}
	p, rep, err := Load([]string{dir}, LoadOptions{Fill: FillForward, MaxFillGap: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 2 || p.T() != 11 || p.Asset(0) != "BTCUSDT" || rep.Filled != 2 {
		t.Fatalf("panel %v × %d, filled %d", p.Assets(), p.T(), rep.Filled)
	}
	// 00:00 (between the files) and 04:00 are filled.
	if !p.Filled(4, 0) || !p.Filled(8, 0) || p.Filled(5, 0) || p.Close(5, 0) != 100 {
		t.Errorf("fills: %v %v %v close %v", p.Filled(4, 0), p.Filled(8, 0), p.Filled(5, 0), p.Close(5, 0))
	}
	if got := rep.Assets[0].Files; len(got) != 2 || got[0] != jan || got[1] != feb {
		t.Errorf("files of BTCUSDT %v", got)
	}
	var between bool
	for _, w := range rep.Warnings {
		if w.Kind == WarnGap && w.File == feb && w.Line == 1 && w.Time == ts("2024-02-01T00:00:00Z") {
			between = true
		}
	}
	if !between {
		t.Errorf("no gap warning between the two files: %v", rep.Warnings)
	}
	// Overlapping files of one asset are an error naming both.
	dup := month("BTCUSDT-1h-2024-03.csv", "2024-01-31T23:00:00Z", 2)
	_, _, err = Load([]string{jan, dup}, LoadOptions{})
	if de := asDataError(t, err); de.File != dup || !strings.Contains(de.Msg, "overlaps "+jan) {
		t.Errorf("error %v", err)
	}
}

func TestLoadOptionsAndErrors(t *testing.T) {
	dir := t.TempDir()
	hourly := writeFile(t, dir, "H.csv", folioCSV(func() []string {
		var r []string
		for _, at := range times("2021-01-01T00:00:00Z", time.Hour, 48, 30) {
			r = append(r, at+",1,2,0.5,1.5,1")
		}
		return r
	}()...))
	four := writeFile(t, dir, "F.csv", folioCSV(func() []string {
		var r []string
		for _, at := range times("2021-01-01T00:00:00Z", 4*time.Hour, 12) {
			r = append(r, at+",1,2,0.5,1.5,4")
		}
		return r
	}()...))
	one := writeFile(t, dir, "ONE.csv", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,1"))

	// Mixed intervals need a common resample target.
	if _, _, err := Load([]string{hourly, four}, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "resample") {
		t.Errorf("mixed intervals: %v", err)
	}
	p, rep, err := Load([]string{hourly, four}, LoadOptions{Resample: 4 * time.Hour, Fill: FillForward, MaxFillGap: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The hourly bucket 2021-01-02T04:00 misses its 06:00 bar: dropped, then filled.
	if p.T() != 12 || p.Interval() != 4*time.Hour || rep.Assets[0].DroppedBuckets != 1 || rep.Filled != 1 || !p.Filled(7, 0) || p.Volume(0, 0) != 4 {
		t.Errorf("resampled: T %d dropped %d filled %d", p.T(), rep.Assets[0].DroppedBuckets, rep.Filled)
	}
	// The interval option must match the data.
	_, _, err = Load([]string{four}, LoadOptions{Interval: time.Hour})
	if de := asDataError(t, err); de.File != four || !strings.Contains(de.Msg, "interval option 1h does not match") {
		t.Errorf("interval mismatch: %v", err)
	}
	// A single bar needs the interval option.
	if _, _, err := Load([]string{one}, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "single bar") {
		t.Errorf("one bar: %v", err)
	}
	if p, _, err := Load([]string{one}, LoadOptions{Interval: 24 * time.Hour}); err != nil || p.T() != 1 || p.Interval() != 24*time.Hour {
		t.Errorf("one bar with interval: %v", err)
	}
	// Paths.
	if _, _, err := Load([]string{filepath.Join(dir, "missing.csv")}, LoadOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := t.TempDir()
	if _, _, err := Load([]string{empty}, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "no .csv files") {
		t.Errorf("empty dir: %v", err)
	}
	if _, _, err := Load(nil, LoadOptions{}); err == nil {
		t.Error("no paths accepted")
	}
	for _, bad := range []LoadOptions{
		{Format: "xlsx"}, {Assets: []string{"A", "A"}}, {Interval: -time.Hour}, {Interval: 1500 * time.Millisecond},
		{Interval: time.Hour, Resample: 90 * time.Minute}, {Fill: FillForward}, {MaxFillGap: -1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
		if _, _, err := Load([]string{dir}, bad); err == nil {
			t.Errorf("Load accepted options %+v", bad)
		}
	}
	if err := Defaults().Validate(); err != nil {
		t.Error(err)
	}
}

// Every real data file loads without error, and the gaps found are exactly
// those PROVENANCE.md lists (up to each file's last bar: the files here stop
// before the held-back period).
func TestLoadRealFiles(t *testing.T) {
	root := realdata.Dir(t)
	prov, err := os.ReadFile(filepath.Join(root, "PROVENANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := provenanceGaps(t, string(prov))
	zeroVol := provenanceZeroVolume(string(prov))
	if len(zeroVol) < 10 {
		t.Fatalf("parsed zero-volume counts of only %d files from PROVENANCE.md", len(zeroVol))
	}
	for _, dir := range []string{"daily", "4h", "hourly", "poloniex_hourly"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.csv"))
		if len(files) == 0 {
			t.Errorf("no files in %s", dir)
		}
		for _, f := range files {
			rel := dir + "/" + filepath.Base(f)
			t.Run(rel, func(t *testing.T) {
				s, ws, err := ReadFile(f, FormatAuto)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := os.ReadFile(f)
				if rows := strings.Count(string(raw), "\n") - 1; s.Len() != rows {
					t.Errorf("%d bars from %d data rows", s.Len(), rows)
				}
				want := map[string]int{}
				for _, g := range listed[rel] {
					if g.start <= s.Times[s.Len()-1] {
						want[rfc3339(g.start)] = g.n
					}
				}
				got := map[string]int{}
				zero := 0
				for _, w := range ws {
					switch w.Kind {
					case WarnGap:
						got[rfc3339(w.Time)] = w.Bars
					case WarnZeroVolume:
						zero++
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("gaps %v\nPROVENANCE.md lists %v", got, want)
				}
				if n, ok := zeroVol[rel]; ok && zero != n {
					t.Errorf("%d zero-volume bars, PROVENANCE.md says %d", zero, n)
				}
			})
		}
	}
	// The outage documented in the issue: 33 hourly BNB bars from
	// 2018-02-08T01:00Z to 2018-02-09T09:00Z.
	s, ws, err := ReadFile(filepath.Join(root, "hourly", "BNBUSDT.csv"), "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range ws {
		if w.Kind == WarnGap && w.Time == ts("2018-02-08T01:00:00Z") && w.Bars == 33 &&
			strings.Contains(w.Msg, "33 bars 2018-02-08T01:00:00Z..2018-02-09T09:00:00Z missing") {
			found = true
		}
	}
	if !found || s.Interval != time.Hour {
		t.Errorf("BNBUSDT hourly: the 33-bar gap of 2018-02-08 is not reported: %v", SummarizeWarnings(ws, 100))
	}
}

type listedGap struct {
	start int64
	n     int
}

// provenanceGaps parses the "Gap lists" section of PROVENANCE.md:
// "- `hourly/BNBUSDT.csv`: 2018-01-04T04..2018-01-04T04 (1), …".
func provenanceGaps(t *testing.T, prov string) map[string][]listedGap {
	out := map[string][]listedGap{}
	line := regexp.MustCompile("(?m)^- `([^`]+)`: (.*)$")
	item := regexp.MustCompile(`([0-9T-]+)\.\.([0-9T-]+) \((\d+)\)`)
	for _, m := range line.FindAllStringSubmatch(prov, -1) {
		for _, g := range item.FindAllStringSubmatch(m[2], -1) {
			at := g[1]
			switch len(at) {
			case 10:
				at += "T00:00:00Z"
			case 13:
				at += ":00:00Z"
			}
			n, _ := strconv.Atoi(g[3])
			out[m[1]] = append(out[m[1]], listedGap{ts(at), n})
		}
	}
	if len(out) < 20 {
		t.Fatalf("parsed gap lists of only %d files from PROVENANCE.md", len(out))
	}
	return out
}

// provenanceZeroVolume reads "N zero-volume bars" from the per-file tables.
func provenanceZeroVolume(prov string) map[string]int {
	out := map[string]int{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*?(\\d+) zero-volume bars")
	for _, m := range row.FindAllStringSubmatch(prov, -1) {
		out[m[1]], _ = strconv.Atoi(m[2])
	}
	return out
}

func TestLoadRealPanels(t *testing.T) {
	root := realdata.Dir(t)
	// Daily: no gaps; the common range runs from SHIB's first day to XMR's
	// delisting (PROVENANCE.md): 2021-05-10 .. 2024-02-20, 1017 days.
	p, rep, err := Load([]string{filepath.Join(root, "daily")}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 23 || p.T() != 1017 || p.Time(0) != time.Date(2021, 5, 10, 0, 0, 0, 0, time.UTC) || rep.Filled != 0 || p.BarsPerYear() != 365 {
		t.Errorf("daily panel %d×%d from %v", p.T(), p.N(), p.Time(0))
	}
	// Hourly: every asset misses the same 10 outages (20 bars, at most 4 in a
	// row) after SOL's listing, so loading without a fill policy fails, and
	// ffill with max_fill_gap 4 fills 8 × 20 bars.
	hourly := filepath.Join(root, "hourly")
	_, _, err = Load([]string{hourly}, LoadOptions{})
	if de := asDataError(t, err); !strings.Contains(de.Msg, "asset ADAUSDT: 1 bar 2020-11-30T06:00:00Z missing") || !strings.HasSuffix(de.File, "ADAUSDT.csv") {
		t.Errorf("hourly without fill: %v", err)
	}
	if _, _, err := Load([]string{hourly}, LoadOptions{Fill: FillForward, MaxFillGap: 3}); err == nil {
		t.Error("a 4-bar outage was filled with max_fill_gap 3")
	}
	p, rep, err = Load([]string{hourly}, LoadOptions{Fill: FillForward, MaxFillGap: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 8 || rep.Filled != 160 || p.Time(0) != time.Date(2020, 8, 11, 6, 0, 0, 0, time.UTC) || p.Time(p.T()-1) != time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC) {
		t.Errorf("hourly panel %d×%d %v..%v filled %d", p.T(), p.N(), p.Time(0), p.Time(p.T()-1), rep.Filled)
	}
	if want := int((ts("2024-12-31T23:00:00Z")-ts("2020-08-11T06:00:00Z"))/3600) + 1; p.T() != want {
		t.Errorf("T = %d, want %d", p.T(), want)
	}
}

// Binance's daily files of 1d klines hold one bar each: joined, they take
// the spacing between files as their interval.
func TestLoadJoinsSingleBarFiles(t *testing.T) {
	dir := t.TempDir()
	day := func(date string) string {
		ms := ts(date+"T00:00:00Z") * 1000
		return writeFile(t, dir, "ETHUSDT-1d-"+date+".csv", fmt.Sprintf("%d,2300,2400,2200,2350,1000,%d,0,0,0,0,0\n", ms, ms+86399999))
	}
	for _, d := range []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"} {
		day(d)
	}
	p, rep, err := Load([]string{dir}, LoadOptions{Fill: FillForward, MaxFillGap: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 1 || p.Asset(0) != "ETHUSDT" || p.Interval() != 24*time.Hour || p.T() != 5 || !p.Filled(3, 0) || len(rep.Files) != 4 {
		t.Errorf("panel %v %v × %d", p.Assets(), p.Interval(), p.T())
	}
	// A half-day offset between files is caught at the offending file.
	ms := ts("2024-01-06T12:00:00Z") * 1000
	bad := writeFile(t, dir, "ETHUSDT-1d-2024-01-06.csv", fmt.Sprintf("%d,2300,2400,2200,2350,1000,%d,0,0,0,0,0\n", ms, ms+86399999))
	_, _, err = Load([]string{dir}, LoadOptions{Fill: FillForward, MaxFillGap: 1})
	if de := asDataError(t, err); de.File != bad || de.Line != 1 || !strings.Contains(de.Msg, "is 36h after the previous bar, not a multiple of the 24h interval") {
		t.Errorf("error %v", err)
	}
}
