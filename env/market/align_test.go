package market

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAlignCommonRange(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10)...)
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T03:00:00Z", time.Hour, 10)...)
	b.Close[0] = 200 // tell B's bars from A's
	b.High[0] = 200
	aCopy, bCopy := a.Clone(), b.Clone()
	p, rep, err := Align([]*Series{b, a}, AlignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Range: latest first bar (B, 03:00) to earliest last bar (A, 09:00).
	if p.T() != 7 || p.N() != 2 || p.Asset(0) != "B" || p.Asset(1) != "A" || p.Unix(0) != ts("2021-01-01T03:00:00Z") || p.Interval() != time.Hour {
		t.Fatalf("panel %d×%d %v from %v", p.T(), p.N(), p.Assets(), p.Time(0))
	}
	if p.Close(0, 0) != 200 || p.Close(0, 1) != a.Close[3] || p.Open(6, 1) != a.Open[9] || p.Volume(6, 0) != b.Volume[6] || p.HasFilled() {
		t.Errorf("values misplaced: %v %v %v", p.Close(0, 0), p.Close(0, 1), p.Open(6, 1))
	}
	if rep.Bars != 7 || rep.Start != p.Time(0) || rep.End != p.Time(6) || rep.Filled != 0 ||
		rep.Assets[0].Head != 0 || rep.Assets[0].Tail != 3 || rep.Assets[1].Head != 3 || rep.Assets[1].Tail != 0 || rep.Assets[1].Files[0] != "a.csv" {
		t.Errorf("report %+v", rep)
	}
	if !seriesEqual(a, aCopy) || !seriesEqual(b, bCopy) {
		t.Error("Align modified its input")
	}
}

func TestAlignMissingBarIsAnError(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10)...)
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10, 4, 5)...) // 04:00 and 05:00 missing
	_, _, err := Align([]*Series{a, b}, AlignOptions{})
	de := asDataError(t, err)
	// The bar after the gap (06:00) is the 5th row of B, at line 6.
	if de.File != "b.csv" || de.Line != 6 || de.Column != "" ||
		!strings.Contains(de.Msg, "asset B: 2 bars 2021-01-01T04:00:00Z..2021-01-01T05:00:00Z missing") || !strings.Contains(de.Fix, `"ffill" with max_fill_gap ≥ 2`) {
		t.Errorf("error %v", de)
	}
	// With forward fill but too short a maximum gap it is still an error.
	_, _, err = Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 1})
	if de := asDataError(t, err); !strings.Contains(de.Msg, "more than max_fill_gap 1") || !strings.Contains(de.Fix, "at least 2") {
		t.Errorf("error %v", de)
	}
	// Outside the range the gap does not matter.
	p, _, err := Align([]*Series{a, b}, AlignOptions{Start: time.Unix(ts("2021-01-01T06:00:00Z"), 0)})
	if err != nil || p.T() != 4 {
		t.Errorf("range after the gap: %v", err)
	}
	p, _, err = Align([]*Series{a, b}, AlignOptions{End: time.Unix(ts("2021-01-01T03:59:59Z"), 0)})
	if err != nil || p.T() != 4 || p.Unix(3) != ts("2021-01-01T03:00:00Z") {
		t.Errorf("range before the gap: %v", err)
	}
}

func TestAlignForwardFill(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10)...)
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10, 4, 5, 8)...)
	p, rep, err := Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.T() != 10 || rep.Filled != 3 || rep.Assets[1].Filled != 3 || rep.Assets[0].Filled != 0 {
		t.Fatalf("T %d filled %d", p.T(), rep.Filled)
	}
	prev := b.Close[3] // the 03:00 bar
	for _, bar := range []int{4, 5} {
		if !p.Filled(bar, 1) || p.Open(bar, 1) != prev || p.High(bar, 1) != prev || p.Low(bar, 1) != prev || p.Close(bar, 1) != prev || p.Volume(bar, 1) != 0 {
			t.Errorf("bar %d not a flat fill at %v", bar, prev)
		}
	}
	if !p.Filled(8, 1) || p.Close(8, 1) != p.Close(7, 1) || p.Filled(8, 0) || p.Filled(3, 1) || p.Filled(6, 1) {
		t.Error("fill flags wrong")
	}
	var fills []Warning
	for _, w := range rep.Warnings {
		if w.Kind == WarnFilled {
			fills = append(fills, w)
		}
	}
	if len(fills) != 2 || fills[0].Bars != 2 || fills[0].Time != ts("2021-01-01T04:00:00Z") || fills[0].File != "b.csv" || fills[1].Bars != 1 {
		t.Errorf("fill warnings %v", fills)
	}
}

// A gap that straddles the start of the common range is filled from the
// asset's last bar before the range, and counts in full against MaxFillGap.
func TestAlignGapAtRangeStart(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10, 2, 3)...) // 02:00, 03:00 missing
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T03:00:00Z", time.Hour, 7)...)
	if _, _, err := Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 1}); err == nil {
		t.Fatal("a 2-bar gap was filled with max_fill_gap 1")
	}
	p, _, err := Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Unix(0) != ts("2021-01-01T03:00:00Z") || !p.Filled(0, 0) || p.Close(0, 0) != a.Close[1] || p.Filled(1, 0) {
		t.Errorf("first bar of A: filled %v close %v, want fill at %v", p.Filled(0, 0), p.Close(0, 0), a.Close[1])
	}
}

func TestAlignStartEnd(t *testing.T) {
	a := flatSeries("A", "a.csv", 4*time.Hour, times("2021-01-01T00:00:00Z", 4*time.Hour, 12)...)
	// Start between bars rounds up to the next bar, End down to the previous.
	p, _, err := Align([]*Series{a}, AlignOptions{Start: time.Date(2021, 1, 1, 5, 0, 0, 0, time.UTC), End: time.Date(2021, 1, 2, 3, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if p.T() != 5 || p.Unix(0) != ts("2021-01-01T08:00:00Z") || p.Unix(4) != ts("2021-01-02T00:00:00Z") {
		t.Errorf("T %d %v..%v", p.T(), p.Time(0), p.Time(p.T()-1))
	}
	// Inclusive ends.
	p, _, _ = Align([]*Series{a}, AlignOptions{Start: time.Date(2021, 1, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2021, 1, 1, 8, 0, 0, 0, time.UTC)})
	if p == nil || p.T() != 1 {
		t.Error("start = end = a bar's time does not give that bar")
	}
	_, _, err = Align([]*Series{a}, AlignOptions{Start: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)})
	if de := asDataError(t, err); !strings.Contains(de.Msg, "no bars between start 2022-01-01T00:00:00Z and end (open)") {
		t.Errorf("error %v", err)
	}
}

func TestAlignErrors(t *testing.T) {
	h := func(asset, start string, n int) *Series {
		return flatSeries(asset, strings.ToLower(asset)+".csv", time.Hour, times(start, time.Hour, n)...)
	}
	four := flatSeries("F", "f.csv", 4*time.Hour, times("2021-01-01T00:00:00Z", 4*time.Hour, 5)...)
	shifted := flatSeries("S", "s.csv", time.Hour, times("2021-01-01T00:30:00Z", time.Hour, 5)...)
	ragged := h("R", "2021-01-01T00:00:00Z", 3)
	ragged.Close = ragged.Close[:2]
	tests := []struct {
		name   string
		series []*Series
		opt    AlignOptions
		msg    string
	}{
		{"no series", nil, AlignOptions{}, "no series"},
		{"no overlap", []*Series{h("A", "2021-01-01T00:00:00Z", 3), h("B", "2021-02-01T00:00:00Z", 3)}, AlignOptions{},
			"assets do not overlap: A ends 2021-01-01T02:00:00Z before B starts 2021-02-01T00:00:00Z"},
		{"interval mismatch", []*Series{h("A", "2021-01-01T00:00:00Z", 3), four}, AlignOptions{}, "asset F has 4h bars but A has 1h bars"},
		{"off calendar", []*Series{h("A", "2021-01-01T00:00:00Z", 3), shifted}, AlignOptions{}, "asset S: bars open at 2021-01-01T00:30:00Z, off the calendar of A"},
		{"duplicate asset", []*Series{h("A", "2021-01-01T00:00:00Z", 3), h("A", "2021-01-01T00:00:00Z", 3)}, AlignOptions{}, "asset A appears twice"},
		{"ffill without max", []*Series{h("A", "2021-01-01T00:00:00Z", 3)}, AlignOptions{Fill: FillForward}, "max_fill_gap must be ≥ 1"},
		{"unknown fill", []*Series{h("A", "2021-01-01T00:00:00Z", 3)}, AlignOptions{Fill: "linear"}, "unknown fill policy"},
		{"end before start", []*Series{h("A", "2021-01-01T00:00:00Z", 3)}, AlignOptions{Start: time.Unix(100, 0), End: time.Unix(50, 0)}, "is before start"},
		{"ragged series", []*Series{ragged}, AlignOptions{}, "inconsistent lengths"},
		{"nil series", []*Series{nil}, AlignOptions{}, "series 0 is nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rep, err := Align(tc.series, tc.opt)
			if err == nil || p != nil || rep != nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want an error containing %q", err, tc.msg)
			}
		})
	}
}

// With several assets missing bars, each asset's first gap is reported,
// joined, with a count of the others.
func TestAlignReportsEveryAsset(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 20, 3, 9, 15)...)
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 20, 7)...)
	c := flatSeries("C", "c.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 20)...)
	_, _, err := Align([]*Series{a, b, c}, AlignOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "a.csv:5: asset A: 1 bar 2021-01-01T03:00:00Z missing") || !strings.Contains(msg, "(and 2 more gaps in this asset)") ||
		!strings.Contains(msg, "b.csv:9: asset B: 1 bar 2021-01-01T07:00:00Z missing") || strings.Contains(msg, "c.csv") {
		t.Errorf("error:\n%s", msg)
	}
	if de := asDataError(t, err); de.File != "a.csv" {
		t.Errorf("errors.As finds %v first", de)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("want 2 joined errors, got %T", err)
	}
}
