package experiments

import (
	"strings"
	"time"
)

// Dates of data ranges (data.start and data.end, --start and --end) are
// "YYYY-MM-DD" or RFC3339, read as UTC. A range is inclusive at both ends,
// and a date-only end means the whole of that UTC day: on hourly data
// --end 2023-01-31 keeps the bars from 00:00 to 23:00 of 31 January. A
// date-only start is 00:00 UTC of its day; an RFC3339 time is exact at
// either end.

// parseStart reads the first bar of a range: a date is 00:00 UTC of that
// day. "" gives the zero time (no bound).
func parseStart(s string) (time.Time, error) { return parseDate(s) }

// parseEnd reads the last bar of a range, inclusive: a date is the last
// second of that UTC day (bars open on whole seconds, so every bar opening
// that day is included and none of the next); an RFC3339 time is exact. ""
// gives the zero time (no bound).
func parseEnd(s string) (time.Time, error) {
	t, err := parseDate(s)
	if err != nil || t.IsZero() || !isDateOnly(s) {
		return t, err
	}
	return t.Add(24*time.Hour - time.Second), nil
}

// isDateOnly reports whether s (trimmed) is a bare YYYY-MM-DD date.
func isDateOnly(s string) bool {
	_, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return err == nil
}
