// Package realdata finds the data that tests share beside the checkout and
// reads the real market bars, skipping the calling test cleanly when the
// data are absent.
//
// The real historical data (Binance daily, 4h and hourly bars; see its
// PROVENANCE.md) are not part of the repository: they are provided beside
// the checkout in ../shared/data/real, located from the module root (the
// directory holding go.mod, found by walking up from the test's working
// directory, which is its package directory). Bench-task data live beside
// them in ../shared/bench (see Shared).
//
// # Skipping and the FOLIO_REALDATA override
//
// Dir, Read, Closes, Daily and Shared call tb.Skipf with a message naming
// the missing path when the data are absent, so a checkout without the data
// passes its tests. Setting the environment variable FOLIO_REALDATA replaces
// the real-data directory (Shared's bench data are not affected); pointing it
// at a missing path checks that every real-data test skips instead of
// failing:
//
//	FOLIO_REALDATA=/nonexistent go test ./...
//
// # Readers
//
// The readers parse the folio CSV format of the real data (header
// timestamp,open,high,low,close,volume; RFC3339 UTC open times, strictly
// ascending) with the standard library only, independently of env/market's
// loaders, so that env/market's own tests and the tests that must not depend
// on its loaders can use them. They fail the test on a malformed row. Bars
// of the held-back period (open time at or after HeldBack, 2025-01-01 UTC)
// are never returned: nothing may be tuned to them.
//
// Units: times are Unix seconds of the bar open; prices are in the quote
// currency (USDT); volume is in base-asset units; returns are simple
// (close_{k+1}/close_k − 1), not logarithmic.
//
// Daily returns a Table whose fields are those of market.PanelSpec
// (bar-major: bar k of asset i at index k·N + i), so a panel is one
// conversion away:
//
//	p, err := market.NewPanel(market.PanelSpec(*realdata.Daily(t, []string{"BTC", "ETH"}, time.Time{}, time.Time{})))
//
// # Imports
//
// The package imports only the standard library (no env/market: that would
// make it unusable from env/market's internal tests) and registers no flags,
// so a test binary may import it together with internal/testrng and
// internal/golden. It holds no package-level state. Its own tests use
// internal/testrng, and env/market (from the external test package) as an
// independent reader to check Daily against.
package realdata
