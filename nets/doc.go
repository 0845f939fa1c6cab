// Package nets builds and runs folio's neural networks: MLP blocks, an
// encoder shared across assets (EIIE-style), a market-state embedding of
// cross-asset volatility and correlation, the dynamic embedding with its
// next-bar decoder, the volatility-timing gate, actor, critic and Q heads;
// parameter storage, initialisation, the Adam optimiser and checkpoints.
// It knows nothing of envs, rewards or algorithms: it sees dimensions and
// matrices.
//
// # Networks, executors and parameters
//
// A Net (built with a Builder, or by NewActorCritic, NewActor and
// NewCritic from an Arch) is an immutable list of operations over
// matrices. Every tensor has batch·Rows rows and Cols columns, row-major;
// each batch item owns Rows consecutive rows (Rows = N for per-asset
// tensors, whose rows are the assets in observation order). Dense layers
// compute act(x·W + b) with W stored in×out, so one W applied to the N
// rows of a per-asset tensor is an encoder shared across assets;
// PoolMean/PoolMax and Broadcast move between per-asset and market-level
// tensors, so the assets trunk is permutation-equivariant and its
// parameters do not depend on N.
//
// A Net's parameters live in one flat []float64 laid out by its Layout
// (named segments in declaration order); Params pairs a vector with its
// gradient. Several nets' vectors are usually views of one slab, so one
// Adam step, one gradient norm and one checkpoint block cover an agent.
//
// Executors run a Net for a fixed batch size, bound to a Params:
//
//   - Pass, the native engine: hand-written forward and backward passes
//     over a packed AVX2/FMA matrix kernel (nets/internal/gemm) and
//     vectorised element-wise loops (nets/internal/vec), with every buffer
//     allocated once. Forward and Backward do not allocate. Independent
//     towers run on two goroutines, or large products are split by
//     columns (SetParallel), with bit-identical results.
//   - Graph, the gorgonia engine: the same Net as a gorgonia expression
//     graph. It is the reference the Pass is tested against (forward to
//     1e-12, gradients to 1e-12, every standard architecture) and a
//     usable backend (NewEngine with BackendGorgonia).
//
// Engine abstracts both so that algorithms switch backend by configuration
// and tests compare whole training runs across backends.
//
// # Buffers and aliasing
//
// Input, Output, OutputGrad and InputGrad return slices owned by the
// executor, valid (same backing array) for its lifetime; fill inputs in
// place, read outputs after Forward. Backward adds dLoss/dθ into
// Params.Grad (clear it between optimiser steps) and clobbers the output
// gradient buffers. Executors read Params.Value at every run, so in-place
// optimiser steps and checkpoint loads (which copy into the existing
// vector, never rebind) are seen by every executor bound to it.
//
// # Conventions and units
//
// Matrices are row-major float64. Observations follow env.Layout: per
// asset and feature a window of W values oldest first, then global
// feature windows, then the N+1 current weights, cash first (Arch
// describes it; Feed copies one observation into a net's inputs).
// Actions are N+1 logits; WeightsTo maps them to simplex weights, cash
// first: softmax, or with the volatility-timing gate
// (1−σ(u₀))·e_cash + σ(u₀)·softmax(u₁..u_N). The dynamic embedding's
// decoder predicts, per asset, the next bar's log return (the return
// feature's next value) and volatility, interleaved [r̂₁, v̂₁, r̂₂, …].
// MarketStatsTo's statistics are in the units of the return feature (log
// returns per bar unless normalised upstream). There is no package-level
// mutable state; the only package-level values are the CPU feature flags
// of the internal kernels, set once at start-up.
//
// # gorgonia pitfalls
//
// Graph follows STYLE.md's measured rules: graphs and tape machines are
// built once; inputs are preallocated tensors filled in place; every run
// is RunAll then Reset; weights are bound WithValue to the shared
// parameter vector, with separate forward and training graphs; gradients
// are read from the nodes Grad returns (no dual-value accumulation);
// outputs are read through unconsumed copies (gorgonia overwrites a value
// in place at its last use); weights are initialised here from the
// caller's *rand.Rand, never by gorgonia's clock-seeded initialisers; no
// Dropout, no Iop; Close releases the machine. A test checks that the
// live heap stays flat over reused runs of the bench-size network. Adam is
// implemented here over the flat vector (gorgonia's AdamSolver allocates
// per step); it is bit-identical to AdamSolver, tested over several steps.
//
// # Imports
//
// nets imports the standard library, gonum, gorgonia and tensor. It must
// not import env, agents, train, eval or experiments; only nets, and the
// gradient-based agents through it, touch gorgonia.
//
// # Example
//
//	b := nets.NewBuilder()
//	x := b.Input("obs", 1, 311, false)
//	h := b.Dense("fc1", x, 64, nets.Tanh, nets.Ortho(math.Sqrt2))
//	b.Output("logits", b.Dense("out", h, 11, nets.Linear, nets.Ortho(0.01)))
//	net, err := b.Build()
//	theta := make([]float64, net.NumParams())
//	net.Layout().Init(theta, rng)
//	ps := net.NewPass(8, nets.Params{Value: theta})
//	copy(ps.Input(x), observations) // 8×311
//	ps.Forward()
//	logits := ps.Output(out)        // 8×11
package nets
