package market

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// FillPolicy says what Align does with bars missing inside the common range.
type FillPolicy string

// Fill policies.
const (
	// FillNone (also "") makes a missing bar an error.
	FillNone FillPolicy = "none"
	// FillForward creates each missing bar as a flat bar at the previous
	// close (open = high = low = close = previous close, volume 0), flagged
	// in PanelSpec.Filled, for gaps of at most MaxFillGap bars.
	FillForward FillPolicy = "ffill"
)

// AlignOptions configures Align.
type AlignOptions struct {
	// Start and End restrict the panel to bars whose open time lies in
	// [Start, End]; a zero value leaves that side at the common range.
	Start, End time.Time
	// Fill is the policy for bars missing inside the range ("" = FillNone).
	Fill FillPolicy
	// MaxFillGap is the longest run of missing bars FillForward may fill,
	// counted over the whole gap in the source series; longer gaps are
	// errors. It must be ≥ 1 with FillForward.
	MaxFillGap int
}

// Validate checks the options.
func (o AlignOptions) Validate() error {
	switch o.Fill {
	case "", FillNone:
	case FillForward:
		if o.MaxFillGap < 1 {
			return fmt.Errorf("market: max_fill_gap must be ≥ 1 with fill = %q (got %d)", FillForward, o.MaxFillGap)
		}
	default:
		return fmt.Errorf("market: unknown fill policy %q (want %q or %q)", o.Fill, FillNone, FillForward)
	}
	if o.MaxFillGap < 0 {
		return fmt.Errorf("market: max_fill_gap must be ≥ 0, got %d", o.MaxFillGap)
	}
	if !o.Start.IsZero() && !o.End.IsZero() && o.End.Before(o.Start) {
		return fmt.Errorf("market: end %s is before start %s", o.End.UTC().Format(time.RFC3339), o.Start.UTC().Format(time.RFC3339))
	}
	return nil
}

// Align puts series of equal bar interval on one calendar and builds a Panel
// with the assets in the order given. The calendar runs from the latest
// first bar to the earliest last bar (the range where every asset exists),
// narrowed to [opt.Start, opt.End]; bars outside it are cut and counted in
// the report (Head, Tail). All series must lie on the same grid (open times
// congruent modulo the interval).
//
// A bar missing inside the range is an error naming the asset, file, line
// and missing times, unless opt.Fill is FillForward and the gap is at most
// opt.MaxFillGap bars. Every gap that cannot be filled is reported: the
// result joins one *DataError per asset (errors.As finds the first).
//
// The report's Assets, Interval, Bars, Start, End, Filled and Warnings are
// set; Files is left empty. The input series are not modified.
func Align(series []*Series, opt AlignOptions) (*Panel, *LoadReport, error) {
	if err := opt.Validate(); err != nil {
		return nil, nil, err
	}
	if len(series) == 0 {
		return nil, nil, errors.New("market: align: no series")
	}
	seen := map[string]int{}
	for i, s := range series {
		if s == nil {
			return nil, nil, fmt.Errorf("market: align: series %d is nil", i)
		}
		if err := s.check(); err != nil {
			return nil, nil, err
		}
		if j, dup := seen[s.Asset]; dup {
			return nil, nil, fmt.Errorf("market: align: asset %s appears twice (%s and %s)", s.Asset, orCode(series[j].Path), orCode(s.Path))
		}
		seen[s.Asset] = i
	}
	interval := series[0].Interval
	for _, s := range series {
		if s.Interval == 0 {
			return nil, nil, &DataError{File: s.Path, Msg: fmt.Sprintf("asset %s: bar interval unknown (a single bar)", s.Asset), Fix: "set the expected bar interval"}
		}
		if s.Interval != interval {
			return nil, nil, &DataError{File: s.Path,
				Msg: fmt.Sprintf("asset %s has %s bars but %s has %s bars", s.Asset, dur(s.Interval), series[0].Asset, dur(interval)),
				Fix: "resample all assets to a common interval"}
		}
	}
	step := int64(interval / time.Second)
	phase := floorMod(series[0].Times[0], step)
	lo, hi := series[0].Times[0], series[0].Times[series[0].Len()-1]
	loAsset, hiAsset := series[0], series[0]
	for _, s := range series {
		if p := floorMod(s.Times[0], step); p != phase {
			return nil, nil, s.errAt(0, "", "",
				"asset %s: bars open at %s, off the calendar of %s (bars %s apart starting %s)", s.Asset, rfc3339(s.Times[0]), series[0].Asset, dur(interval), rfc3339(series[0].Times[0]))
		}
		if f := s.Times[0]; f > lo {
			lo, loAsset = f, s
		}
		if l := s.Times[s.Len()-1]; l < hi {
			hi, hiAsset = l, s
		}
	}
	if lo > hi {
		return nil, nil, &DataError{Msg: fmt.Sprintf("assets do not overlap: %s ends %s before %s starts %s",
			hiAsset.Asset, rfc3339(hi), loAsset.Asset, rfc3339(lo))}
	}
	commonLo, commonHi := lo, hi
	if !opt.Start.IsZero() {
		st := opt.Start.Unix()
		if st += floorMod(phase-st, step); st > lo {
			lo = st
		}
	}
	if !opt.End.IsZero() {
		en := opt.End.Unix()
		if en -= floorMod(en-phase, step); en < hi {
			hi = en
		}
	}
	if lo > hi {
		return nil, nil, &DataError{Msg: fmt.Sprintf("no bars between start %s and end %s: the assets' common range is %s..%s",
			fmtOpt(opt.Start), fmtOpt(opt.End), rfc3339(commonLo), rfc3339(commonHi))}
	}

	n, t := len(series), int((hi-lo)/step)+1
	spec := PanelSpec{
		Assets: make([]string, n), Times: make([]int64, t), Interval: interval,
		Open: make([]float64, t*n), High: make([]float64, t*n), Low: make([]float64, t*n),
		Close: make([]float64, t*n), Volume: make([]float64, t*n),
	}
	for r := range spec.Times {
		spec.Times[r] = lo + int64(r)*step
	}
	rep := &LoadReport{Interval: interval, Bars: t, Start: unixUTC(lo), End: unixUTC(hi)}
	var errs []error
	for i, s := range series {
		spec.Assets[i] = s.Asset
		ar := AssetReport{Asset: s.Asset, Files: s.files(), Bars: s.Len(), First: unixUTC(s.Times[0]), Last: unixUTC(s.Times[s.Len()-1])}
		for _, g := range s.Gaps() {
			ar.Gaps++
			ar.Missing += g.Missing
		}
		a := sort.Search(s.Len(), func(k int) bool { return s.Times[k] >= lo })
		b := sort.Search(s.Len(), func(k int) bool { return s.Times[k] > hi })
		ar.Head, ar.Tail = a, s.Len()-b
		var bad []*DataError
		k := a // next series bar; s.Times[k] ≥ the expected time
		for r := 0; r < t; {
			want := spec.Times[r]
			if s.Times[k] == want {
				c := r*n + i
				spec.Open[c], spec.High[c], spec.Low[c], spec.Close[c], spec.Volume[c] = s.Open[k], s.High[k], s.Low[k], s.Close[k], s.Volume[k]
				k++
				r++
				continue
			}
			// Bars want..s.Times[k]-step are missing. Since lo ≥ the first
			// and hi ≤ the last bar of s, bars k-1 and k both exist.
			gap := int((s.Times[k]-s.Times[k-1])/step) - 1
			end := min(int((s.Times[k]-lo)/step), t) // panel rows r..end-1 are missing
			switch {
			case opt.Fill == FillForward && gap <= opt.MaxFillGap:
				prev := s.Close[k-1]
				if spec.Filled == nil {
					spec.Filled = make([]bool, t*n)
				}
				for q := r; q < end; q++ {
					c := q*n + i
					spec.Open[c], spec.High[c], spec.Low[c], spec.Close[c] = prev, prev, prev, prev
					spec.Filled[c] = true
				}
				ar.Filled += end - r
				path, line := s.Source(k)
				rep.Warnings = append(rep.Warnings, Warning{Kind: WarnFilled, File: path, Line: line, Asset: s.Asset, Time: want, Bars: end - r,
					Msg: fmt.Sprintf("%s at the previous close %v", barRange(end-r, want, spec.Times[end-1]), prev)})
			case opt.Fill == FillForward:
				bad = append(bad, s.errAt(k, "",
					fmt.Sprintf("raise max_fill_gap to at least %d, or choose start/end outside the gap", gap),
					"asset %s: %s missing, more than max_fill_gap %d", s.Asset, barRange(gap, s.Times[k-1]+step, s.Times[k]-step), opt.MaxFillGap))
			default:
				bad = append(bad, s.errAt(k, "",
					fmt.Sprintf("set fill to %q with max_fill_gap ≥ %d, or choose start/end outside the gap", FillForward, gap),
					"asset %s: %s missing inside the common range %s..%s", s.Asset, barRange(gap, s.Times[k-1]+step, s.Times[k]-step), rfc3339(lo), rfc3339(hi)))
			}
			r = end
		}
		if len(bad) > 0 {
			if len(bad) > 1 {
				bad[0].Msg += fmt.Sprintf(" (and %d more gaps in this asset)", len(bad)-1)
			}
			errs = append(errs, bad[0])
		}
		rep.Filled += ar.Filled
		rep.Assets = append(rep.Assets, ar)
	}
	if len(errs) == 1 {
		return nil, nil, errs[0]
	}
	if len(errs) > 1 {
		return nil, nil, errors.Join(errs...)
	}
	p, err := NewPanel(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("market: align: %w", err)
	}
	return p, rep, nil
}

// files returns the files a series was read from.
func (s *Series) files() []string {
	if len(s.sources) == 0 {
		if s.Path == "" {
			return nil
		}
		return []string{s.Path}
	}
	fs := make([]string, len(s.sources))
	for j, src := range s.sources {
		fs[j] = src.path
	}
	return fs
}

// barRange describes n bars from first to last: "1 bar 2020-01-01T00:00:00Z"
// or "3 bars 2020-01-01T00:00:00Z..2020-01-01T02:00:00Z".
func barRange(n int, first, last int64) string {
	if n == 1 {
		return "1 bar " + rfc3339(first)
	}
	return fmt.Sprintf("%d bars %s..%s", n, rfc3339(first), rfc3339(last))
}

func orCode(path string) string {
	if path == "" {
		return "(built in code)"
	}
	return path
}

func fmtOpt(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}
