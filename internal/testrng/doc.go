// Package testrng gives randomised tests their generators and the test
// binary its -seed flag.
//
// Importing the package from a test registers one flag on the test binary:
//
//	-seed N   root seed of the randomised tests (default DefaultSeed;
//	          0 draws a random root seed once per test binary)
//
// New(tb, index) returns seed.New(root, seed.Test, index): the index keeps
// the tests of a package on separate streams, so adding a test does not
// change what the others draw, and the same root seed replays a run bit for
// bit. When the test fails, the root seed is logged with the command line
// that replays it:
//
//	func TestSolve(t *testing.T) {
//		rng := testrng.New(t, 3)
//		...
//	}
//
//	$ go test ./optim -run TestSolve -seed=0
//	    testrng: TestSolve failed with root seed 8839203 (replay: go test -run 'TestSolve' -seed=8839203)
//
// A flag name can be registered only once per test binary: no other helper
// imported by tests may register -seed (internal/golden registers -update,
// internal/realdata none). The flag is the package's only state; -seed=0 is
// resolved to a random seed when the flag is parsed, so every test of the
// binary sees the same root seed. The random seed comes from crypto/rand:
// math/rand/v2 is used only through internal/seed.
//
// The package imports only the standard library and internal/seed, and is
// meant for _test.go files only.
package testrng
