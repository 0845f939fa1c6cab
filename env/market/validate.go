package market

import "sort"

// Validation is the outcome of Validate: every problem found, file by file.
type Validation struct {
	Files    []FileReport // every file examined, in the order listed
	Errors   []*DataError // every problem found, in file and line order
	Warnings []Warning    // zero-volume bars, extreme wicks and gaps
}

// OK reports whether no errors were found.
func (v *Validation) OK() bool { return len(v.Errors) == 0 }

// Validate examines the CSV files at paths (files, or directories whose
// *.csv files are examined) and collects every problem in every file,
// instead of stopping at the first as Load does: unreadable files, format
// and header problems, each bad field of each row, timestamps out of order,
// spacings off the bar interval, and a mismatch with opt.Interval. A row
// with a problem is reported and left out of the later order and spacing
// checks, which continue with the remaining rows. It uses opt.Format,
// opt.Interval and opt.StripSuffix (for asset names) and ignores the other
// options: alignment across files is Load's business.
//
// The returned error is non-nil only when opt is invalid.
func Validate(paths []string, opt LoadOptions) (*Validation, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	v := &Validation{}
	files, probs := expandPaths(paths)
	v.Errors = append(v.Errors, probs...)
	todo := make([]int, len(files))
	for i := range todo {
		todo[i] = i
	}
	for i, r := range readFiles(files, todo, opt.Format, true) {
		asset := AssetName(files[i], opt.StripSuffix)
		s := r.series
		if s == nil {
			s = &Series{Path: files[i]}
		}
		s.Asset = asset
		if len(r.errs) == 0 {
			if err := matchInterval(s, opt.Interval); err != nil {
				r.errs = append(r.errs, err)
			}
		}
		for k := range r.warns {
			r.warns[k].Asset = asset
		}
		// The checks run in passes (rows, order, spacing); report in line order.
		sort.SliceStable(r.errs, func(a, b int) bool { return r.errs[a].Line < r.errs[b].Line })
		v.Files = append(v.Files, fileReport(s, r.format, len(r.errs)))
		v.Errors = append(v.Errors, r.errs...)
		v.Warnings = append(v.Warnings, r.warns...)
	}
	return v, nil
}
