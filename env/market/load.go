package market

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// LoadOptions configures Load. The zero value is valid and means: detect
// formats, load every asset, infer the bar interval, no resampling, common
// range, missing bars are errors. Field names map 1:1 onto a TOML table.
type LoadOptions struct {
	// Format of the files: "auto" (default, also ""), "folio", "binance" or
	// "cryptodatadownload" ("cdd").
	Format Format `toml:"format"`
	// Assets selects assets by name, in this order; empty loads every asset
	// found, in the order their files are listed (directories sorted by
	// file name). Names are matched after StripSuffix.
	Assets []string `toml:"assets"`
	// StripSuffix is removed from the end of asset names derived from file
	// names, e.g. "USDT" turns BTCUSDT.csv into asset BTC. Default "" (keep).
	StripSuffix string `toml:"strip_suffix"`
	// Start and End restrict the panel to bars whose open time (UTC) lies in
	// [Start, End], both inclusive; zero leaves that side at the common
	// range. Applied after resampling.
	Start time.Time `toml:"start"`
	End   time.Time `toml:"end"`
	// Interval is the expected bar interval of the files; a file whose most
	// common bar spacing differs is an error. 0 (default) infers it per file.
	Interval time.Duration `toml:"interval"`
	// Resample is the bar interval of the panel, a multiple of every file's
	// interval; 0 (default) keeps the files' interval, which must then agree.
	Resample time.Duration `toml:"resample"`
	// Fill is the policy for bars missing inside the common range: "none"
	// (default, also ""): an error; "ffill": flat bars at the previous close
	// with zero volume, flagged as filled.
	Fill FillPolicy `toml:"fill"`
	// MaxFillGap is the longest gap, in bars of the panel interval, that
	// "ffill" may fill; ≥ 1 with "ffill". Default 0.
	MaxFillGap int `toml:"max_fill_gap"`
}

// Defaults returns the default options (the zero value with the defaults
// spelled out).
func Defaults() LoadOptions { return LoadOptions{Format: FormatAuto, Fill: FillNone} }

// Validate checks the options; its messages name the TOML field.
func (o LoadOptions) Validate() error {
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return fmt.Errorf("market: format: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range o.Assets {
		if a == "" {
			return errors.New("market: assets: empty asset name")
		}
		if seen[a] {
			return fmt.Errorf("market: assets: %q listed twice", a)
		}
		seen[a] = true
	}
	if o.Interval < 0 || o.Interval%time.Second != 0 {
		return fmt.Errorf("market: interval must be 0 or a positive whole number of seconds, got %v", o.Interval)
	}
	if o.Resample < 0 || o.Resample%time.Second != 0 {
		return fmt.Errorf("market: resample must be 0 or a positive whole number of seconds, got %v", o.Resample)
	}
	if o.Interval > 0 && o.Resample > 0 && o.Resample%o.Interval != 0 {
		return fmt.Errorf("market: resample %v is not a multiple of interval %v", o.Resample, o.Interval)
	}
	return o.align().Validate()
}

func (o LoadOptions) align() AlignOptions {
	return AlignOptions{Start: o.Start, End: o.End, Fill: o.Fill, MaxFillGap: o.MaxFillGap}
}

// LoadReport describes what Load (or Align) did, so that nothing is dropped
// or created silently.
type LoadReport struct {
	Files      []FileReport  // every file read, in the order listed
	Assets     []AssetReport // per panel asset, in panel order
	Interval   time.Duration // panel bar interval
	Bars       int           // panel bars T
	Start, End time.Time     // open times of the panel's first and last bar
	Filled     int           // bars created by the fill policy, all assets
	Warnings   []Warning     // per file (zero volume, wicks, gaps), resampling (incomplete buckets), alignment (filled bars)
}

// FileReport describes one file as read.
type FileReport struct {
	Path        string
	Format      Format
	Asset       string
	Bars        int
	First, Last time.Time     // open times of the first and last bar
	Interval    time.Duration // bar spacing (inferred or given); 0 if unknown
	Gaps        int           // runs of missing bars
	Missing     int           // bars missing in those gaps
	Errors      int           // problems found (Validate only; Load stops at the first)
}

// AssetReport describes one asset of a panel: the series loaded for it and
// what resampling and alignment did to it.
type AssetReport struct {
	Asset          string
	Files          []string  // files joined, oldest first
	Bars           int       // bars of the series as aligned (after any resampling)
	First, Last    time.Time // its first and last bar
	Gaps, Missing  int       // its gaps and the bars they miss
	DroppedBuckets int       // incomplete resampling buckets dropped (Load with Resample)
	Head, Tail     int       // bars cut before the panel's first and after its last bar
	Filled         int       // bars created by the fill policy
}

// Summary returns a short human-readable account of the load: range, bars,
// per-asset cuts and fills, and the warnings summarised with up to examples
// instances per kind.
func (r *LoadReport) Summary(examples int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d assets × %d bars of %s, %s .. %s", len(r.Assets), r.Bars, dur(r.Interval),
		r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	if len(r.Files) > 0 {
		fmt.Fprintf(&b, ", from %d files", len(r.Files))
	}
	if r.Filled > 0 {
		fmt.Fprintf(&b, "; %d bars forward-filled", r.Filled)
	}
	b.WriteByte('\n')
	for _, a := range r.Assets {
		fmt.Fprintf(&b, "  %s: %d bars %s .. %s, %d gaps (%d missing bars)", a.Asset, a.Bars,
			a.First.Format(time.RFC3339), a.Last.Format(time.RFC3339), a.Gaps, a.Missing)
		if a.DroppedBuckets > 0 {
			fmt.Fprintf(&b, ", %d incomplete buckets dropped", a.DroppedBuckets)
		}
		fmt.Fprintf(&b, ", %d cut before and %d after the common range", a.Head, a.Tail)
		if a.Filled > 0 {
			fmt.Fprintf(&b, ", %d filled", a.Filled)
		}
		b.WriteByte('\n')
	}
	if w := SummarizeWarnings(r.Warnings, examples); w != "" {
		b.WriteString("warnings:\n")
		for _, line := range strings.SplitAfter(w, "\n") {
			if line != "" {
				b.WriteString("  " + line)
			}
		}
	}
	return b.String()
}

// Load reads the CSV files at paths (files, or directories whose *.csv
// files are read, not recursively), one asset per file or several files per
// asset (joined in time order; they must not overlap), optionally resamples
// every asset, and aligns them into a Panel. Every row of every selected
// file is validated; the first problem is returned as a *DataError (or, for
// alignment gaps, a join of one per asset). Warnings and everything cut,
// dropped or filled are in the report.
func Load(paths []string, opt LoadOptions) (*Panel, *LoadReport, error) {
	if err := opt.Validate(); err != nil {
		return nil, nil, err
	}
	files, probs := expandPaths(paths)
	if len(probs) > 0 {
		return nil, nil, probs[0]
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = AssetName(f, opt.StripSuffix)
	}
	order, byAsset, err := selectAssets(names, opt.Assets)
	if err != nil {
		return nil, nil, err
	}
	var todo []int
	for _, a := range order {
		todo = append(todo, byAsset[a]...)
	}
	sort.Ints(todo)
	results := readFiles(files, todo, opt.Format, false)

	rep := &LoadReport{}
	for _, i := range todo {
		r := results[i]
		if len(r.errs) > 0 {
			return nil, nil, r.errs[0]
		}
		s := r.series
		s.Asset = names[i]
		for k := range r.warns {
			r.warns[k].Asset = s.Asset
		}
		rep.Files = append(rep.Files, fileReport(s, r.format, 0))
		rep.Warnings = append(rep.Warnings, r.warns...)
	}

	series := make([]*Series, len(order))
	dropped := make([]int, len(order))
	for j, a := range order {
		parts := make([]*Series, len(byAsset[a]))
		for k, i := range byAsset[a] {
			parts[k] = results[i].series
		}
		s, ws, err := joinSeries(parts)
		if err != nil {
			return nil, nil, err
		}
		if err := matchInterval(s, opt.Interval); err != nil {
			return nil, nil, err
		}
		rep.Warnings = append(rep.Warnings, ws...)
		if opt.Resample > 0 {
			rs, ws, err := Resample(s, opt.Resample)
			rep.Warnings = append(rep.Warnings, ws...)
			if err != nil {
				return nil, nil, err
			}
			dropped[j] = len(ws)
			s = rs
		}
		series[j] = s
	}
	p, ar, err := Align(series, opt.align())
	if err != nil {
		return nil, nil, err
	}
	rep.Assets, rep.Interval, rep.Bars, rep.Start, rep.End, rep.Filled = ar.Assets, ar.Interval, ar.Bars, ar.Start, ar.End, ar.Filled
	for j := range rep.Assets {
		rep.Assets[j].DroppedBuckets = dropped[j]
	}
	rep.Warnings = append(rep.Warnings, ar.Warnings...)
	return p, rep, nil
}

// matchInterval applies the expected-interval option to a series: a series
// whose spacing is known must match it; a single bar takes it.
func matchInterval(s *Series, want time.Duration) *DataError {
	switch {
	case want == 0 || s.Interval == want:
		return nil
	case s.Interval == 0:
		s.Interval = want
		return nil
	}
	return &DataError{File: s.Path,
		Msg: fmt.Sprintf("the interval option %s does not match the data, whose most common bar spacing is %s", dur(want), dur(s.Interval)),
		Fix: fmt.Sprintf("set the interval to %s, or to 0 to infer it", dur(s.Interval)),
		Err: &IntervalError{Want: want, Got: s.Interval}}
}

// IntervalError is the cause (DataError.Err) of the error Load and Validate
// return for a file whose bar interval differs from LoadOptions.Interval.
// Find it with errors.As to phrase the fix in the caller's terms (a config
// key or a flag) with the two intervals.
type IntervalError struct {
	Want time.Duration // the interval option
	Got  time.Duration // the file's most common bar spacing
}

func (e *IntervalError) Error() string {
	return fmt.Sprintf("interval %s expected, the data has %s", dur(e.Want), dur(e.Got))
}

func fileReport(s *Series, f Format, errs int) FileReport {
	fr := FileReport{Path: s.Path, Format: f, Asset: s.Asset, Bars: s.Len(), Interval: s.Interval, Errors: errs}
	if s.Len() > 0 {
		fr.First, fr.Last = unixUTC(s.Times[0]), unixUTC(s.Times[s.Len()-1])
	}
	for _, g := range s.Gaps() {
		fr.Gaps++
		fr.Missing += g.Missing
	}
	return fr
}

// expandPaths lists the files to read: files as given, directories replaced
// by their *.csv files (sorted by name, hidden files skipped). A file given
// twice is read once. Paths that cannot be read are returned as problems.
func expandPaths(paths []string) ([]string, []*DataError) {
	if len(paths) == 0 {
		return nil, []*DataError{{Msg: "no data paths given"}}
	}
	var files []string
	var probs []*DataError
	seen := map[string]bool{}
	add := func(f string) {
		if c := filepath.Clean(f); !seen[c] {
			seen[c] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			probs = append(probs, &DataError{File: p, Msg: "cannot read: " + rootCause(err), Err: err})
			continue
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			probs = append(probs, &DataError{File: p, Msg: "cannot read directory: " + rootCause(err), Err: err})
			continue
		}
		n := len(files)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || !strings.EqualFold(filepath.Ext(name), ".csv") {
				continue
			}
			add(filepath.Join(p, name))
		}
		if len(files) == n {
			probs = append(probs, &DataError{File: p, Msg: "directory holds no .csv files (subdirectories are not searched)"})
		}
	}
	return files, probs
}

// selectAssets groups file indices by asset name and returns the asset order:
// want if given (every name must exist), else the order of first appearance.
func selectAssets(names, want []string) ([]string, map[string][]int, error) {
	byAsset := map[string][]int{}
	var found []string
	for i, a := range names {
		if _, ok := byAsset[a]; !ok {
			found = append(found, a)
		}
		byAsset[a] = append(byAsset[a], i)
	}
	if len(want) == 0 {
		return found, byAsset, nil
	}
	for _, a := range want {
		if _, ok := byAsset[a]; !ok {
			return nil, nil, fmt.Errorf("market: asset %q not found; the files provide %s", a, strings.Join(found, ", "))
		}
	}
	return want, byAsset, nil
}

// readFiles parses files[i] for every i in todo, in parallel, and returns the
// results indexed like files. Results do not depend on scheduling.
func readFiles(files []string, todo []int, format Format, collect bool) []readResult {
	results := make([]readResult, len(files))
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = readFile(files[i], format, collect)
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// joinSeries joins the series read for one asset from several files into
// one, in time order. The files must not overlap. Their intervals must agree
// where known; files of a single bar (Binance's daily files of 1d klines)
// take the common interval, or, if every file has one bar, the most common
// spacing between them. Every spacing must be a multiple of the interval; a
// longer one between two files is a gap, reported as a warning.
func joinSeries(parts []*Series) (*Series, []Warning, error) {
	if len(parts) == 1 {
		return parts[0], nil, nil
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].Times[0] < parts[j].Times[0] })
	n := 0
	var known *Series // a part whose interval is known
	for _, p := range parts {
		n += p.Len()
		if p.Interval == 0 {
			continue
		}
		if known == nil {
			known = p
		} else if p.Interval != known.Interval {
			return nil, nil, &DataError{File: p.Path, Msg: fmt.Sprintf("asset %s: %s bars, but %s has %s bars", p.Asset, dur(p.Interval), known.Path, dur(known.Interval)),
				Fix: "load files of one interval per asset"}
		}
	}
	first := parts[0]
	out := &Series{Asset: first.Asset, Format: first.Format,
		Times: make([]int64, 0, n), Open: make([]float64, 0, n), High: make([]float64, 0, n), Low: make([]float64, 0, n),
		Close: make([]float64, 0, n), Volume: make([]float64, 0, n), Lines: make([]int, 0, n)}
	var paths []string
	for j, p := range parts {
		if j > 0 {
			prev := parts[j-1]
			if last, t0 := prev.Times[prev.Len()-1], p.Times[0]; t0 <= last {
				return nil, nil, p.errAt(0, "", "remove the overlapping rows or files",
					"asset %s: bar %s overlaps %s, which runs to %s", p.Asset, rfc3339(t0), prev.Path, rfc3339(last))
			}
		}
		out.sources = append(out.sources, source{from: out.Len(), path: p.Path})
		paths = append(paths, p.Path)
		out.Times = append(out.Times, p.Times...)
		out.Open = append(out.Open, p.Open...)
		out.High = append(out.High, p.High...)
		out.Low = append(out.Low, p.Low...)
		out.Close = append(out.Close, p.Close...)
		out.Volume = append(out.Volume, p.Volume...)
		out.Lines = append(out.Lines, p.Lines...)
	}
	out.Path = strings.Join(paths, ", ")
	if known != nil {
		out.Interval = known.Interval
	} else {
		out.Interval = time.Duration(modalSpacing(out.Times)) * time.Second
	}
	step := int64(out.Interval / time.Second)
	for k := 1; k < out.Len(); k++ {
		if d := out.Times[k] - out.Times[k-1]; d%step != 0 {
			return nil, nil, out.errAt(k, "", "", "asset %s: bar %s is %s after the previous bar, not a multiple of the %s interval",
				out.Asset, rfc3339(out.Times[k]), dur(time.Duration(d)*time.Second), dur(out.Interval))
		}
	}
	// Gaps inside a file were reported when it was read; report those
	// between files here.
	var warns []Warning
	for _, g := range out.Gaps() {
		if out.sourceIndex(g.After) != out.sourceIndex(g.After+1) {
			warns = append(warns, gapWarning(out, g))
		}
	}
	return out, warns, nil
}

// sourceIndex returns the index in s.sources of the file bar k came from.
func (s *Series) sourceIndex(k int) int {
	for j := len(s.sources) - 1; j >= 0; j-- {
		if k >= s.sources[j].from {
			return j
		}
	}
	return 0
}
