package synth

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
)

// realLastBar is the open time of the last real bar used: the data after it
// are held back as a locked-box test period (see PROVENANCE.md).
func realLastBar() time.Time { return time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC) }

// loadReal loads the named daily assets with market.Load on their common
// calendar from start (zero: the common range) to realLastBar.
func loadReal(t testing.TB, names []string, start time.Time) *market.Panel {
	t.Helper()
	dir := realdata.Dir(t, "daily")
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(dir, n+".csv")
	}
	opt := market.Defaults()
	opt.Start, opt.End = start, realLastBar()
	p, _, err := market.Load(paths, opt)
	if err != nil {
		t.Fatalf("loading real data: %v", err)
	}
	return p
}

// realDailyAssets lists the crypto assets of the real daily data (every
// file but PAXG, a gold token: the synthetic market has no such asset).
func realDailyAssets(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(realdata.Dir(t, "daily"), "*.csv"))
	if err != nil || len(paths) == 0 {
		t.Skipf("synth: no daily CSVs found; skipping real-data check")
	}
	var names []string
	for _, p := range paths {
		if n := filepath.Base(p[:len(p)-len(".csv")]); n != "PAXG" {
			names = append(names, n)
		}
	}
	return names
}
