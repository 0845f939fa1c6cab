package realdata

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/testrng"
)

// stop is the panic value recorder uses to end a helper at Fatal or Skip,
// as runtime.Goexit would in a real test.
type stop struct{}

// recorder is a testing.TB that records Fatal and Skip messages instead of
// ending the test; every other method goes to the embedded real test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fatal(a ...any)            { r.fatal = fmt.Sprint(a...); panic(stop{}) }
func (r *recorder) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...); panic(stop{}) }
func (r *recorder) Skipf(f string, a ...any)  { r.skip = fmt.Sprintf(f, a...); panic(stop{}) }

// run calls f with a recorder and returns it once f returns or stops.
func run(t *testing.T, f func(tb testing.TB)) (r *recorder) {
	t.Helper()
	r = &recorder{TB: t}
	defer func() {
		if v := recover(); v != nil && v != (stop{}) {
			panic(v)
		}
	}()
	f(r)
	return r
}

// writeFiles creates dir/name with content for each pair.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("ModuleRoot %s holds no go.mod: %v", root, err)
	}
	wd, _ := os.Getwd()
	if rel, err := filepath.Rel(root, wd); err != nil || rel != filepath.Join("internal", "realdata") {
		t.Errorf("working directory %s is %q below the module root %s, want internal/realdata", wd, rel, root)
	}
	t.Setenv(EnvVar, "")
	got, err := Root()
	if want := filepath.Join(root, "..", "shared", "data", "real"); err != nil || got != want {
		t.Errorf("Root() = %q, %v; want %q", got, err, want)
	}
	t.Setenv(EnvVar, "/some/where")
	if got, err := Root(); err != nil || got != "/some/where" {
		t.Errorf("with %s set, Root() = %q, %v", EnvVar, got, err)
	}
}

// TestSkipWhenAbsent checks that every entry point skips (and does not fail)
// a test when FOLIO_REALDATA points at a missing directory, with a message
// naming the path and where the data normally are.
func TestSkipWhenAbsent(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	t.Setenv(EnvVar, missing)
	for name, f := range map[string]func(testing.TB){
		"Dir":     func(tb testing.TB) { Dir(tb, "daily") },
		"Read":    func(tb testing.TB) { Read(tb, "daily/BTC.csv") },
		"Closes":  func(tb testing.TB) { Closes(tb, "daily/BTC.csv") },
		"Daily":   func(tb testing.TB) { Daily(tb, []string{"BTC", "ETH"}, time.Time{}, time.Time{}) },
		"Shared":  func(tb testing.TB) { Shared(tb, "no-such-directory-beside-the-checkout") },
		"DirRoot": func(tb testing.TB) { Dir(tb) },
	} {
		var sub *testing.T
		t.Run(name, func(t *testing.T) {
			sub = t
			f(t)
			t.Error("not skipped")
		})
		if !sub.Skipped() || sub.Failed() {
			t.Errorf("%s: skipped %v, failed %v", name, sub.Skipped(), sub.Failed())
		}
		r := run(t, f)
		if r.fatal != "" || !strings.Contains(r.skip, "not found at") || !strings.Contains(r.skip, "../shared") {
			t.Errorf("%s: fatal %q, skip message %q", name, r.fatal, r.skip)
		}
		if name != "Shared" && !strings.Contains(r.skip, missing) {
			t.Errorf("%s: skip message %q does not name %s", name, r.skip, missing)
		}
	}
}

// bar renders one row of a real-data file from a date and a close; the
// other fields are derived from the close so that a mix-up shows.
func bar(date string, c float64) string {
	return fmt.Sprintf("%sT00:00:00Z,%g,%g,%g,%g,%g\n", date, c-1, c+2, c-2, c, 10*c)
}

// TestDaily reads three small files with different calendars and checks,
// by hand: the common dates (2024-12-29 and 2024-12-31; 2025-01-01 is in
// every file but held back), the bar-major layout, the [from, to) bounds and
// the returns.
func TestDaily(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"daily/A.csv": header + "\n" + bar("2024-12-28", 1) + bar("2024-12-29", 2) + bar("2024-12-30", 3) + bar("2024-12-31", 4) + bar("2025-01-01", 5),
		"daily/B.csv": header + "\r\n" + bar("2024-12-27", 10) + bar("2024-12-29", 20) + bar("2024-12-31", 40) + bar("2025-01-01", 50),
		"daily/C.csv": header + "\n" + bar("2024-12-29", 200) + bar("2024-12-30", 300) + bar("2024-12-31", 500) + bar("2025-01-01", 600),
	})
	t.Setenv(EnvVar, dir)
	day := Date
	all := Daily(t, []string{"A", "B", "C"}, time.Time{}, time.Time{})
	want := &Table{
		Assets:   []string{"A", "B", "C"},
		Times:    []int64{day("2024-12-29").Unix(), day("2024-12-31").Unix()},
		Interval: 24 * time.Hour,
		Open:     []float64{1, 19, 199, 3, 39, 499},
		High:     []float64{4, 22, 202, 6, 42, 502},
		Low:      []float64{0, 18, 198, 2, 38, 498},
		Close:    []float64{2, 20, 200, 4, 40, 500},
		Volume:   []float64{20, 200, 2000, 40, 400, 5000},
	}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("Daily:\n got %v\nwant %v", all, want)
	}
	// Exact: 4/2−1, 40/20−1, 500/200−1 are representable.
	if r := all.Returns(); !slices.Equal(r, []float64{1, 1, 1.5}) {
		t.Errorf("Returns = %v, want [1 1 1.5]", r)
	}
	if got := Daily(t, []string{"A", "C"}, day("2024-12-30"), time.Time{}); !slices.Equal(got.Times, []int64{day("2024-12-30").Unix(), day("2024-12-31").Unix()}) {
		t.Errorf("from 2024-12-30: times %v", got.Times)
	}
	if got := Daily(t, []string{"A", "C"}, time.Time{}, day("2024-12-30")); !slices.Equal(got.Times, []int64{day("2024-12-29").Unix()}) || len(got.Returns()) != 0 {
		t.Errorf("to 2024-12-30: times %v, returns %v", got.Times, got.Returns())
	}
	if c := Closes(t, "daily/A.csv"); !slices.Equal(c, []float64{1, 2, 3, 4}) {
		t.Errorf("Closes(A) = %v, want [1 2 3 4] (2025 held back)", c)
	}
}

// TestIntersectMatchesSets compares the merge in Daily with a set
// intersection over random calendars (a second algorithm).
func TestIntersectMatchesSets(t *testing.T) {
	rng := testrng.New(t, 1)
	for trial := range 200 {
		n := 1 + rng.IntN(4)
		files := make([]*Bars, n)
		count := map[int64]int{}
		for a := range files {
			f := &Bars{}
			for d := int64(0); d < 60; d++ {
				if rng.IntN(3) > 0 {
					f.Times = append(f.Times, d)
					c := float64(100*a) + float64(d)
					f.Open, f.High, f.Low, f.Close, f.Volume = append(f.Open, c), append(f.High, c), append(f.Low, c), append(f.Close, c), append(f.Volume, c)
					count[d]++
				}
			}
			files[a] = f
		}
		lo, hi := int64(rng.IntN(20)), int64(30+rng.IntN(40))
		var want []int64
		for d := lo; d < hi; d++ {
			if count[d] == n {
				want = append(want, d)
			}
		}
		got := intersect(make([]string, n), files, lo, hi)
		if !slices.Equal(got.Times, want) {
			t.Fatalf("trial %d: times %v, want %v", trial, got.Times, want)
		}
		for k, d := range got.Times {
			for a := range n {
				if c := got.Close[k*n+a]; c != float64(100*a)+float64(d) {
					t.Fatalf("trial %d: bar %d asset %d close %v", trial, k, a, c)
				}
			}
		}
	}
}

// TestMalformed checks that a malformed file fails the test with its
// position instead of skipping it or returning partial data.
func TestMalformed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	for name, tc := range map[string]struct{ content, want string }{
		"header":     {"time,open,high,low,close,volume\n", "X.csv:1: header"},
		"fields":     {header + "\n2024-01-01T00:00:00Z,1,2,0,1\n", "X.csv:2: 5 fields"},
		"time":       {header + "\n2024-01-01,1,2,0,1,1\n", "X.csv:2:"},
		"number":     {header + "\n" + bar("2024-01-01", 1) + "2024-01-02T00:00:00Z,1,2,zero,1,1\n", "X.csv:3: column 4"},
		"descending": {header + "\n" + bar("2024-01-02", 1) + bar("2024-01-01", 1), "X.csv:3: open time"},
		"duplicate":  {header + "\n" + bar("2024-01-02", 1) + bar("2024-01-02", 1), "X.csv:3: open time"},
		"empty":      {"", "empty file"},
	} {
		writeFiles(t, dir, map[string]string{"X.csv": tc.content})
		r := run(t, func(tb testing.TB) { Read(tb, "X.csv") })
		if r.skip != "" || !strings.Contains(r.fatal, tc.want) {
			t.Errorf("%s: fatal %q (want it to contain %q), skip %q", name, r.fatal, tc.want, r.skip)
		}
	}
}

func TestSimpleReturns(t *testing.T) {
	// Exact in binary: 3/2−1 = 0.5, 1.5/3−1 = −0.5.
	if r := SimpleReturns([]float64{2, 3, 1.5}); !slices.Equal(r, []float64{0.5, -0.5}) {
		t.Errorf("SimpleReturns = %v", r)
	}
	if r := SimpleReturns([]float64{2}); len(r) != 0 {
		t.Errorf("one value: %v", r)
	}
}

func TestHeldBack(t *testing.T) {
	if got := time.Unix(HeldBack, 0).UTC(); !got.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("HeldBack is %v, want 2025-01-01T00:00:00Z", got)
	}
}

func TestDate(t *testing.T) {
	if got, want := Date("2024-02-29"), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Date = %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for 2023-02-29")
		}
	}()
	Date("2023-02-29")
}
