package market

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/seed"
)

// The hand-written time parser must agree with time.Parse, the reference, on
// every input of the fixed form: valid instants across four centuries and
// strings with random digits in every field (most of them invalid dates).
func TestParseRFC3339MatchesTimeParse(t *testing.T) {
	rng := seed.New(1, seed.Test, 1)
	lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 100_000 {
		u := lo + rng.Int64N(hi-lo)
		s := time.Unix(u, 0).UTC().Format(time.RFC3339)
		got, err := parseRFC3339([]byte(s))
		if err != nil || got != u {
			t.Fatalf("parseRFC3339(%q) = %d, %v; want %d", s, got, err, u)
		}
	}
	digit := func(max int) string { return strconv.Itoa(rng.IntN(max + 1)) }
	pad := func(s string, n int) string { return strings.Repeat("0", n-len(s)) + s }
	for range 100_000 {
		s := fmt.Sprintf("%s-%s-%sT%s:%s:%sZ", pad(digit(2999), 4), pad(digit(13), 2), pad(digit(32), 2),
			pad(digit(25), 2), pad(digit(61), 2), pad(digit(61), 2))
		want, werr := time.Parse(time.RFC3339, s)
		got, err := parseRFC3339([]byte(s))
		if (err == nil) != (werr == nil) || (err == nil && got != want.Unix()) {
			t.Fatalf("parseRFC3339(%q) = %d, %v; time.Parse gives %v, %v", s, got, err, want.Unix(), werr)
		}
	}
}

func TestParseRFC3339Forms(t *testing.T) {
	// Expected values: time.Date, i.e. the standard library.
	day := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2021-01-01T00:00:00Z", day, true},
		{"2020-02-29T12:34:56Z", time.Date(2020, 2, 29, 12, 34, 56, 0, time.UTC).Unix(), true},
		{"2021-01-01T02:00:00+02:00", day, true},
		{"2020-12-31T19:00:00-05:00", day, true},
		{"2021-01-01T00:00:00.000Z", day, true},
		{"2021-01-01", day, true},
		{"1969-12-31T23:00:00Z", -3600, true},
		{"2021-02-29T00:00:00Z", 0, false},
		{"2021-02-29", 0, false},
		{"2021-13-01T00:00:00Z", 0, false},
		{"2021-01-01T24:00:00Z", 0, false},
		{"2021-01-01T00:60:00Z", 0, false},
		{"2021-01-01T00:00:60Z", 0, false},
		{"2021-01-01T00:00:00.5Z", 0, false}, // bar open times are whole seconds
		{"2021-01-01 00:00:00", 0, false},
		{"20210101", 0, false},
		{"", 0, false},
		{"2021-01-01T00:00:00", 0, false},
	}
	for _, tc := range tests {
		got, err := parseRFC3339([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseRFC3339(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseEpoch(t *testing.T) {
	// 2021-01-01T00:00:00Z = 1609459200 s (time.Date(2021,1,1,...).Unix()).
	const s = 1609459200
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1609459200", s, true},
		{"1609459200000", s, true},    // Binance milliseconds
		{"1609459200000000", s, true}, // Binance microseconds (2025+)
		{"1609459200000.0", s, true},  // written as a float
		{"1609459200.0", s, true},
		{"0", 0, true},
		{"1609459200500", 0, false},    // half a second
		{"1609459200000001", 0, false}, // not a whole second
		{"100000000000000000", 0, false},
		{"-1609459200", 0, false},
		{"16094592e5", s, true}, // float with exponent: milliseconds
		{"1.5", 0, false},
		{"abc", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := parseEpoch([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseEpoch(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	// CryptoDataDownload date forms; expected values from time.Date.
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2021-03-01 05:00:00", time.Date(2021, 3, 1, 5, 0, 0, 0, time.UTC)},
		{"2021-03-01 05:00", time.Date(2021, 3, 1, 5, 0, 0, 0, time.UTC)},
		{"2021-03-01", time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2019-12-02 11-PM", time.Date(2019, 12, 2, 23, 0, 0, 0, time.UTC)},
		{"2019-12-02 12-AM", time.Date(2019, 12, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := parseDate([]byte(tc.in))
		if err != nil || got != tc.want.Unix() {
			t.Errorf("parseDate(%q) = %d, %v; want %d", tc.in, got, err, tc.want.Unix())
		}
	}
	for _, bad := range []string{"2021-02-30 00:00:00", "yesterday", "2021/03/01"} {
		if _, err := parseDate([]byte(bad)); err == nil {
			t.Errorf("parseDate(%q) succeeded", bad)
		}
	}
}

// parseFloat must return bit-for-bit what strconv.ParseFloat returns, on
// random decimals of every shape (short and long mantissas, leading zeros,
// exponents in and out of the fast-path range) and on malformed input.
func TestParseFloatMatchesStrconv(t *testing.T) {
	rng := seed.New(1, seed.Test, 2)
	for range 100_000 {
		s := randomDecimal(rng)
		checkParseFloat(t, s)
	}
	for _, s := range []string{"0", "-0", "+0", "0.0", "1", "1.", ".5", "-.5", "1e5", "1E-5", "1e+22", "1e23", "1e-22", "1e-23",
		"9007199254740993", "123456789012345", "1234567890123456", "0.000000000000000000000000001", "3.042e-05",
		"95302311917668.0", "NaN", "nan", "Inf", "-Inf", "+inf", "infinity", "0x1p-2", "1_000", "", ".", "-", "e5", "1e", "1e+",
		"1.2.3", "1,5", " 1", "1 ", "--1", "1e99999", "1e-99999", "4.9e-324", "1.7976931348623157e308", "1.8e308"} {
		checkParseFloat(t, s)
	}
}

func checkParseFloat(t *testing.T, s string) {
	t.Helper()
	got, err := parseFloat([]byte(s))
	want, werr := strconv.ParseFloat(s, 64)
	if (err == nil) != (werr == nil) || math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("parseFloat(%q) = %v (%#x), %v; strconv gives %v (%#x), %v", s, got, math.Float64bits(got), err, want, math.Float64bits(want), werr)
	}
}

func randomDecimal(rng *rand.Rand) string {
	var b strings.Builder
	if rng.IntN(10) == 0 {
		b.WriteByte("-+"[rng.IntN(2)])
	}
	for range rng.IntN(4) {
		b.WriteByte('0')
	}
	nd := 1 + rng.IntN(20)
	dot := rng.IntN(nd + 2)
	for k := range nd {
		if k == dot {
			b.WriteByte('.')
		}
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	if rng.IntN(3) == 0 {
		b.WriteByte("eE"[rng.IntN(2)])
		if rng.IntN(2) == 0 {
			b.WriteByte("-+"[rng.IntN(2)])
		}
		b.WriteString(strconv.Itoa(rng.IntN(40)))
	}
	return b.String()
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0.25551", "3.042e-05", "95302311917668.0", "1e-30", "-7", "NaN", "12345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParseFloat(t, s) })
}

func TestSplitFields(t *testing.T) {
	var f [maxFields][]byte
	n := splitFields([]byte(`a, "b" ,,d`), &f)
	got := []string{string(trimField(f[0])), string(trimField(f[1])), string(trimField(f[2])), string(trimField(f[3]))}
	if n != 4 || strings.Join(got, "|") != "a|b||d" {
		t.Errorf("splitFields = %d %q", n, got)
	}
	if n := splitFields([]byte(strings.Repeat(",", 20)), &f); n != 21 {
		t.Errorf("splitFields counts %d fields of 21", n)
	}
}
