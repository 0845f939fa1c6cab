package testrng

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// recorder is a testing.TB whose failure state, cleanups and logs the test
// controls; every other method goes to the embedded real test.
type recorder struct {
	testing.TB
	failed   bool
	cleanups []func()
	logs     []string
}

func (r *recorder) Helper()                 {}
func (r *recorder) Failed() bool            { return r.failed }
func (r *recorder) Cleanup(f func())        { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Name() string            { return "TestFake/case" }
func (r *recorder) Logf(f string, a ...any) { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }

func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestNewIsSeedStream checks that New is seed.New(root, seed.Test, index)
// draw for draw (bitwise: same generator, so == is the point), and that
// distinct indices give distinct streams.
func TestNewIsSeedStream(t *testing.T) {
	root := Seed(t)
	for _, index := range []uint64{0, 1, 7, 1 << 40} {
		got, want := New(t, index), seed.New(root, seed.Test, index)
		for k := range 16 {
			if g, w := got.Uint64(), want.Uint64(); g != w {
				t.Fatalf("index %d draw %d: %d, want %d", index, k, g, w)
			}
		}
	}
	a, b := New(t, 1), New(t, 2)
	same := 0
	for range 16 {
		if a.Uint64() == b.Uint64() {
			same++
		}
	}
	if same == 16 {
		t.Error("indices 1 and 2 give the same stream")
	}
}

// TestFlag checks the registration on the test binary (name, default) and
// the parsing rules: a number is taken as is, 0 becomes a random non-zero
// seed (two draws differ: a collision has probability 2⁻⁶⁴), anything else
// is an error.
func TestFlag(t *testing.T) {
	f := flag.Lookup("seed")
	if f == nil {
		t.Fatal("-seed is not registered")
	}
	if f.DefValue != fmt.Sprint(DefaultSeed) {
		t.Errorf("-seed default %q, want %d", f.DefValue, DefaultSeed)
	}
	if *root == 0 {
		t.Error("the resolved root seed is 0")
	}

	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	r := register(fs)
	if uint64(*r) != DefaultSeed {
		t.Fatalf("unparsed seed %d, want the default %d", *r, DefaultSeed)
	}
	if err := fs.Parse([]string{"-seed=42"}); err != nil || *r != 42 {
		t.Fatalf("-seed=42 parsed as %d (%v)", *r, err)
	}
	if err := fs.Parse([]string{"-seed=0"}); err != nil || *r == 0 {
		t.Fatalf("-seed=0 parsed as %d (%v), want a random non-zero seed", *r, err)
	}
	first := *r
	if err := fs.Parse([]string{"-seed=0"}); err != nil || *r == 0 || *r == first {
		t.Fatalf("two random seeds %d and %d (%v)", first, *r, err)
	}
	fs.SetOutput(&strings.Builder{})
	for _, bad := range []string{"-seed=-1", "-seed=x", "-seed=1.5"} {
		if err := fs.Parse([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestLogOnFailure checks that the seed is logged, with the replay command,
// exactly when the test fails.
func TestLogOnFailure(t *testing.T) {
	for _, failed := range []bool{false, true} {
		r := &recorder{TB: t}
		New(r, 5)
		r.failed = failed
		r.finish()
		want := fmt.Sprintf("-seed=%d", uint64(*root))
		switch {
		case !failed && len(r.logs) != 0:
			t.Errorf("passing test logged %q", r.logs)
		case failed && (len(r.logs) != 1 || !strings.Contains(r.logs[0], want) || !strings.Contains(r.logs[0], "TestFake/case")):
			t.Errorf("failing test logged %q, want one line with %q and the test name", r.logs, want)
		}
	}
}
