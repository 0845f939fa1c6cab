// Package seed derives independent, named random streams from one root seed.
//
// Every random number in folio comes from a *rand.Rand built here as
// rand.New(rand.NewPCG(root, stream)), where stream combines a named purpose
// with an index (env i, fold k, ...). This avoids the overlap of the
// "seed + i" scheme (run seed 1 env 1 equal to run seed 2 env 0) and makes
// every stream reproducible from the run's root seed alone.
//
// A *rand.Rand is not safe for concurrent use: give each goroutine its own.
package seed

import "math/rand/v2"

// Purpose names what a stream is used for. The values are part of the
// reproducibility contract: never renumber them.
type Purpose uint64

// Stream purposes. Append new purposes at the end.
const (
	Env       Purpose = iota + 1 // episode starts and env-internal randomness, index = env number
	Action                       // action sampling during rollouts
	Shuffle                      // minibatch shuffling
	Init                         // network weight initialisation
	Eval                         // evaluation episodes
	Synth                        // synthetic market generation
	Bootstrap                    // bootstrap resampling in statistics
	Noise                        // exploration noise (DDPG)
	Replay                       // replay-buffer sampling
	Fold                         // per walk-forward fold derivations
	Baseline                     // randomised baselines
	Test                         // tests
)

// Stream returns the stream number for a purpose and an index.
// The purpose occupies the high 16 bits, the index the low 48 bits.
func Stream(p Purpose, index uint64) uint64 {
	return uint64(p)<<48 | index&(1<<48-1)
}

// New returns a generator for the given root seed, purpose and index.
func New(root uint64, p Purpose, index uint64) *rand.Rand {
	return rand.New(rand.NewPCG(root, Stream(p, index)))
}

// Sub derives a child root seed from a root seed, a purpose and an index,
// for handing a whole independent seed space to a sub-computation
// (a walk-forward fold, a repeated seed of an experiment).
func Sub(root uint64, p Purpose, index uint64) uint64 {
	return New(root, p, index).Uint64()
}
