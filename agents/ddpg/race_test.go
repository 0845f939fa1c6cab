//go:build race

package ddpg

// raceEnabled skips the learning tests under the race detector, which
// slows them tenfold; the concurrent code paths are covered by the
// determinism and parity tests, which still run.
const raceEnabled = true
