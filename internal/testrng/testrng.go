package testrng

import (
	crand "crypto/rand"
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// DefaultSeed is the root seed when -seed is not given.
const DefaultSeed uint64 = 1

// rootSeed is the value of the -seed flag, resolved: Set turns 0 into a
// random non-zero seed, so the value read by tests is always the seed that
// replays them.
type rootSeed uint64

// String returns the seed in decimal; flag calls it on a zero value too.
func (r *rootSeed) String() string {
	if r == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*r), 10)
}

// Set parses a seed; "0" stands for a random one.
func (r *rootSeed) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return err
	}
	for v == 0 {
		v = randomSeed()
	}
	*r = rootSeed(v)
	return nil
}

// randomSeed draws a seed from the operating system's generator.
func randomSeed() uint64 {
	var b [8]byte
	crand.Read(b[:]) // never fails on supported platforms (crypto/rand docs, Go ≥ 1.24)
	return binary.LittleEndian.Uint64(b[:])
}

// root is registered on the test binary's flag set by importing the package.
var root = register(flag.CommandLine)

func register(fs *flag.FlagSet) *rootSeed {
	r := rootSeed(DefaultSeed)
	fs.Var(&r, "seed", "root seed of the randomised tests (0: a random seed, logged when a test fails)")
	return &r
}

// Seed returns the root seed of the test binary and arranges for it to be
// logged, with the command that replays the test, if tb fails.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	s := uint64(*root)
	logOnFailure(tb, s)
	return s
}

// New returns the generator of a randomised test: seed.New(root, seed.Test,
// index), with the root seed logged if tb fails. Distinct indices give
// independent streams; use one per test (or per sub-computation) within a
// package. The generator is for one goroutine.
func New(tb testing.TB, index uint64) *rand.Rand {
	tb.Helper()
	return seed.New(Seed(tb), seed.Test, index)
}

func logOnFailure(tb testing.TB, s uint64) {
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("testrng: %s failed with root seed %d (replay: go test -run '%s' -seed=%d)", tb.Name(), s, tb.Name(), s)
		}
	})
}
