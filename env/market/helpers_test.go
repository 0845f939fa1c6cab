package market

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// asDataError asserts that err holds a *DataError and returns it.
func asDataError(t testing.TB, err error) *DataError {
	t.Helper()
	var de *DataError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DataError", err, err)
	}
	return de
}

// ts parses an RFC3339 time for tests.
func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// flatSeries returns a series with the given open times (RFC3339) and bar
// length, with prices 100+k and volume 1, as if read from path.
func flatSeries(asset, path string, interval time.Duration, times ...string) *Series {
	s := &Series{Asset: asset, Path: path, Format: FormatFolio, Interval: interval}
	for k, x := range times {
		p := 100 + float64(k)
		s.Times = append(s.Times, ts(x))
		s.Open = append(s.Open, p)
		s.High = append(s.High, p+0.5)
		s.Low = append(s.Low, p-0.5)
		s.Close = append(s.Close, p+0.25)
		s.Volume = append(s.Volume, 1)
		s.Lines = append(s.Lines, k+2)
	}
	return s
}

// hourly returns n RFC3339 times spaced by step from start, skipping the
// indices in skip.
func times(start string, step time.Duration, n int, skip ...int) []string {
	t0, _ := time.Parse(time.RFC3339, start)
	var out []string
outer:
	for k := 0; k < n; k++ {
		for _, s := range skip {
			if s == k {
				continue outer
			}
		}
		out = append(out, t0.Add(time.Duration(k)*step).UTC().Format(time.RFC3339))
	}
	return out
}

// folioCSV renders bars as a folio CSV.
func folioCSV(rows ...string) string {
	return "timestamp,open,high,low,close,volume\n" + strings.Join(rows, "\n") + "\n"
}
