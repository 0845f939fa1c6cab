package market

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Validate reports every problem of every file, with its line and column,
// plus the warnings, and continues past unreadable paths.
func TestValidateCollectsEverything(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "GOOD.csv", folioCSV(
		"2021-01-01T00:00:00Z,1,2,0.5,1.5,1",
		"2021-01-01T01:00:00Z,1,2,0.5,1.5,0", // zero volume: a warning
		"2021-01-01T02:00:00Z,1,2,0.5,1.5,1",
	))
	bad := writeFile(t, dir, "BAD.csv", folioCSV(
		"2021-01-01T00:00:00Z,1,2,0.5,1.5,1",    // line 2
		"2021-01-01T01:00:00Z,1,2,0.5,x,1",      // line 3: close unparsable
		"2021-01-01T02:00:00Z,1,1.2,0.5,1.5,-1", // line 4: negative volume and high below the body
		"2021-01-01T00:00:00Z,1,2,0.5,1.5,1",    // line 5: duplicates line 2 (lines 3 and 4 were rejected)
		"2021-01-01T03:00:00Z,1,2,0.5,1.5,1",    // line 6: after a gap of two bars
		"2021-01-01T04:00:00Z,1,2,0.5,1.5,1",
		"2021-01-01T05:00:00Z,1,2,0.5,1.5,1",
		"2021-01-01T05:30:00Z,1,2,0.5,1.5,1", // line 9: half an interval
		"2021-01-01T06:00:00Z,1,2",           // line 10: 3 columns
	))
	missing := filepath.Join(dir, "nope.csv")
	v, err := Validate([]string{good, missing, bad}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type loc struct {
		file   string
		line   int
		column string
	}
	want := []loc{{missing, 0, ""}, {bad, 3, "close"}, {bad, 4, "volume"}, {bad, 4, "high"}, {bad, 5, "timestamp"}, {bad, 9, "timestamp"}, {bad, 10, ""}}
	if len(v.Errors) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(v.Errors), len(want), v.Errors)
	}
	for i, w := range want {
		if e := v.Errors[i]; e.File != w.file || e.Line != w.line || e.Column != w.column {
			t.Errorf("error %d = %v, want at %s:%d column %q", i, e, w.file, w.line, w.column)
		}
	}
	if v.OK() {
		t.Error("OK() with errors")
	}
	if len(v.Files) != 2 || v.Files[0].Errors != 0 || v.Files[1].Errors != 6 || v.Files[0].Bars != 3 || v.Files[0].Asset != "GOOD" {
		t.Errorf("file reports %+v", v.Files)
	}
	var zero, gaps int
	for _, w := range v.Warnings {
		switch {
		case w.Kind == WarnZeroVolume && w.File == good && w.Line == 3:
			zero++
		case w.Kind == WarnGap && w.File == bad && w.Bars == 2 && w.Line == 6:
			gaps++
		}
	}
	if zero != 1 || gaps != 1 {
		t.Errorf("warnings %v: want the zero-volume bar of GOOD.csv and the 2-bar gap of BAD.csv", v.Warnings)
	}
	if s := SummarizeWarnings(v.Warnings, 1); !strings.Contains(s, "1 × zero-volume bar") || !strings.Contains(s, "1 × gap (2 bars)") {
		t.Errorf("summary %q", s)
	}
}

func TestValidateIntervalOption(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "X.csv", folioCSV("2021-01-01T00:00:00Z,1,2,0.5,1.5,1", "2021-01-01T04:00:00Z,1,2,0.5,1.5,1", "2021-01-01T08:00:00Z,1,2,0.5,1.5,1"))
	v, err := Validate([]string{dir}, LoadOptions{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Errors) != 1 || v.Errors[0].File != path || !strings.Contains(v.Errors[0].Msg, "interval option 1h does not match the data, whose most common bar spacing is 4h") ||
		v.Errors[0].Fix != "set the interval to 4h, or to 0 to infer it" {
		t.Errorf("errors %v", v.Errors)
	}
	v, _ = Validate([]string{dir}, LoadOptions{Interval: 4 * time.Hour})
	if !v.OK() || len(v.Warnings) != 0 {
		t.Errorf("4h file with interval 4h: %v %v", v.Errors, v.Warnings)
	}
	if _, err := Validate([]string{dir}, LoadOptions{Fill: "backfill"}); err == nil {
		t.Error("invalid options accepted")
	}
}
