package market

import "fmt"

// Join joins the series of one asset read from several files (ReadFile)
// into one, exactly as Load joins them: in time order, without overlaps,
// with one bar interval (files of a single bar take the common one), every
// spacing a multiple of it. Gaps between files are returned as warnings;
// gaps inside a file were reported when it was read. One part is returned
// as is. Parts must be non-empty and name the same asset; Join sorts parts
// in place and does not modify the series.
func Join(parts []*Series) (*Series, []Warning, error) {
	if len(parts) == 0 {
		return nil, nil, &DataError{Msg: "no series to join"}
	}
	for _, p := range parts {
		if p.Len() == 0 {
			return nil, nil, &DataError{File: p.Path, Msg: "asset " + p.Asset + ": series has no bars"}
		}
		if p.Asset != parts[0].Asset {
			return nil, nil, &DataError{File: p.Path, Msg: fmt.Sprintf("asset %s cannot be joined with asset %s of %s", p.Asset, parts[0].Asset, parts[0].Path),
				Fix: "join only files of one asset"}
		}
	}
	return joinSeries(parts)
}
