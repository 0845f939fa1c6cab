// Package market holds folio's market data: immutable OHLCV price panels,
// the CSV loaders that build them with validation people can trust,
// resampling, alignment of assets on a common calendar, causal windows
// (View), regime labels, CSV export and descriptive statistics.
//
// Everything in folio stands on this layer: a misread price, a misaligned
// bar or a silently dropped row would make every result above it wrong. So
// every row is validated with file, line and column in the message, nothing
// is filled or dropped without being reported, and there are no panics on
// bad data.
//
// # Conventions and units
//
//   - Time: a bar is identified by its open time, in Unix seconds, UTC. Bar t
//     covers [t, t+interval). A decision at bar t may use every field of bars
//     ≤ t (see View); the package never reorders or shifts bars.
//   - Prices (open, high, low, close) are in the quote currency (USDT for the
//     shipped data), finite and > 0, with low ≤ min(open, close) and
//     max(open, close) ≤ high.
//   - Volume is in base-asset units (BTC for BTC), finite and ≥ 0.
//     Quote-currency ("dollar") volume is derived as close·volume
//     (Panel.DollarVolume).
//   - Returns are close to close: simple r_t = close_t/close_{t−1} − 1, log
//     log(close_t/close_{t−1}).
//   - Annualisation uses a 365-day year (crypto trades every day): bars per
//     year = 365 days / interval (Year, Panel.BarsPerYear).
//   - Layout: a Panel is bar-major, element t*N+i is bar t of asset i.
//   - Immutability: a Panel never changes after NewPanel; accessors return
//     values or read-only views that callers must not modify. A Series is a
//     plain value owned by whoever holds it; Resample and Align do not
//     modify their inputs.
//
// # Fingerprint
//
// Panel.Fingerprint is the hex SHA-256 of: the bytes "folio-panel-v1\x00";
// the interval in nanoseconds; N; for each asset its name length and bytes;
// T; then for each bar its open time and, for each asset, the IEEE-754 bits
// of open, high, low, close, volume and a filled flag (0 or 1) — every
// integer as 8 bytes little-endian. Equal fingerprints mean bit-identical
// data. WriteCSV followed by Load reproduces the fingerprint.
//
// # File formats
//
// Load and ReadFile read three CSV dialects, recognised from the first lines
// of each file (or named by LoadOptions.Format):
//
//   - folio: the header timestamp,open,high,low,close,volume (exactly these
//     columns, any order), RFC3339 bar open times such as
//     2021-03-01T00:00:00Z (other RFC3339 offsets are converted to UTC; a
//     bare date means 00:00 UTC), oldest first, one file per asset. This is
//     what WriteCSV writes.
//   - binance: Binance's published kline CSVs (data.binance.vision), 12
//     columns: open time, open, high, low, close, volume, close time, quote
//     volume, trades, taker buy base, taker buy quote, ignore; an optional
//     header line. Only the first six are used.
//   - cryptodatadownload: a first comment or URL line, then a header such as
//     unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount
//     (names matched case-insensitively), newest row first (the series is
//     reversed). The time is the unix column (or, without one, the date
//     column, read as UTC); the volume is the "Volume <BASE>" column whose
//     currency begins the symbol (BTC for BTC/USDT), or a plain "volume"
//     column.
//
// A header with a unix, symbol or date column (and no timestamp column) is
// read the cryptodatadownload way, so a generic date,open,high,low,close,volume
// file in either time order loads too. Fields may be surrounded by blanks or
// one pair of double quotes; quoted fields containing commas are not
// supported.
//
// Integer times (binance, cryptodatadownload) are recognised per value by
// magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17
// microseconds (Binance's spot files switched to microseconds in 2025; CryptoDataDownload
// files have used both seconds and milliseconds). They must be whole seconds. Blank lines
// are skipped; a UTF-8 byte-order mark is ignored.
//
// The asset name is the file name without extension (AssetName), except that
// Binance's BTCUSDT-1h-2024-01.csv and CryptoDataDownload's
// Binance_BTCUSDT_1h.csv are named BTCUSDT; LoadOptions.StripSuffix removes
// a quote-currency suffix ("USDT": BTCUSDT → BTC). Several files with the
// same asset name (e.g. Binance's monthly files) are joined in time order;
// they must not overlap.
//
// # Validation
//
// A problem that makes data unusable is a *DataError with file, line, column
// and, where there is a standard remedy, a fix hint:
//
//	daily/BTC.csv:17: column close: price -3 must be positive
//
// Errors: unreadable or empty file, unrecognised format, missing header or
// column, wrong column count, unparsable timestamp or number, NaN or Inf,
// price ≤ 0, negative volume, high < max(open, close), low > min(open,
// close), duplicate or decreasing timestamps, a spacing that is not a
// multiple of the bar interval (the most common spacing in the file, or
// LoadOptions.Interval, which must match it), and, when aligning, a bar
// missing inside the common range unless a fill policy covers it. Load stops
// at the first error; Validate collects every problem in every file.
//
// Warnings (Warning, summarised by SummarizeWarnings and
// LoadReport.Summary): zero-volume bars, extreme wicks (high > WickRatio ×
// max(open, close) or low < min(open, close) / WickRatio, WickRatio = 2),
// gaps (runs of missing bars, with their count), incomplete resampling
// buckets (dropped), forward-filled bars, and RFC3339 times written with a
// non-zero UTC offset (2021-01-02T00:00:00+02:00), which are converted to
// UTC: one warning per file, naming the first such line and counting them.
//
// Load reads files concurrently (GOMAXPROCS goroutines); its results and
// error choice do not depend on scheduling. The whole hourly directory of
// the shipped data (8 files, 26 MB) loads into a panel in about 0.2 s.
//
// # Resampling and alignment
//
// Resample aggregates to a coarser interval on buckets aligned to Unix-epoch
// multiples of the target (4h buckets at 00/04/08… UTC, daily at 00:00 UTC):
// open first, high max, low min, close last, volume sum. Incomplete buckets
// are dropped and reported. Align puts assets on one calendar, by default
// from the latest first bar to the earliest last bar, and with the "ffill"
// policy fills gaps of at most MaxFillGap bars with flat bars at the previous
// close and zero volume, flagged in PanelSpec.Filled.
//
// # Imports
//
// market imports only the standard library and folio's internal helpers
// (atomicfile). It must not import env, agents, nets, train, eval,
// experiments, gorgonia, or its own subpackages (features, synth, regime
// build on it, not the reverse).
//
// # Example
//
//	p, rep, err := market.Load([]string{"data/real/4h"}, market.LoadOptions{
//		Assets:      []string{"BTCUSDT", "ETHUSDT"},
//		Resample:    24 * time.Hour,
//		Fill:        market.FillForward,
//		MaxFillGap:  1,
//	})
//	if err != nil {
//		return err // e.g. "4h/ETHUSDT.csv:1052: column timestamp: asset ETHUSDT: …"
//	}
//	fmt.Fprint(os.Stderr, rep.Summary(3))
package market
