package wrap

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/folio-rl/folio/env"
)

// scriptEnv is a random-but-reproducible env for wrapper tests: from the
// Reset seed it draws observations (element k around 100·(k+1) with
// standard deviation 5; the weights block a random allocation), rewards
// (N(0, 0.01²)), values, fees, slippage, turnover and guard info. Episodes
// truncate after length steps and terminate at step termAt (if > 0). It can
// record everything it emits.
type scriptEnv struct {
	n, window int
	length    int
	termAt    int

	pcg           *rand.PCG
	rng           *rand.Rand
	k             int
	started, done bool
	value         float64
	resetInfo     env.Info

	record bool
	obs    [][]float64 // every observation emitted (Reset and Step)
	rew    []float64
	infos  []env.Info // every Step's info (slices not copied: only scalars are meaningful)
	resets int
}

func newScriptEnv(length int) *scriptEnv {
	pcg := rand.NewPCG(0, 0)
	n := 2
	return &scriptEnv{n: n, window: 3, length: length, pcg: pcg, rng: rand.New(pcg),
		resetInfo: env.Info{Requested: make([]float64, n+1), Executed: make([]float64, n+1), Weights: make([]float64, n+1)}}
}

func (e *scriptEnv) Spec() env.Spec {
	w := e.n * e.window
	dim := w + e.n + 1
	lo, hi := make([]float64, dim), make([]float64, dim)
	for i := range lo {
		lo[i], hi[i] = math.Inf(-1), math.Inf(1)
	}
	for i := w; i < dim; i++ {
		lo[i], hi[i] = 0, 1
	}
	return env.Spec{
		Observation: env.Space{Kind: env.Box, Shape: []int{dim}, Low: lo, High: hi},
		Action:      env.Space{Kind: env.Simplex, Shape: []int{e.n + 1}},
		Assets:      []string{"A", "B"},
		Interval:    24 * time.Hour,
		Window:      e.window,
		Layout:      env.Layout{Features: []string{"x"}, GlobalOffset: w, WeightsOffset: w, Len: dim},
	}
}

func (e *scriptEnv) fill(obs, weights []float64) {
	w := e.n * e.window
	for k := range w {
		obs[k] = 100*float64(k+1) + 5*e.rng.NormFloat64()
	}
	s := 0.0
	for i := range e.n + 1 {
		obs[w+i] = e.rng.ExpFloat64()
		s += obs[w+i]
	}
	for i := range e.n + 1 {
		obs[w+i] /= s
		weights[i] = obs[w+i]
	}
	if e.record {
		e.obs = append(e.obs, append([]float64(nil), obs...))
	}
}

func (e *scriptEnv) Reset(dst []float64, seed uint64) (env.Info, error) {
	e.pcg.Seed(seed, 77)
	e.k, e.started, e.done = 0, true, false
	e.value = 1000
	e.resets++
	e.fill(dst, e.resetInfo.Weights)
	e.resetInfo.Value = e.value
	e.resetInfo.Bar = int(seed % 1000)
	e.resetInfo.Time = time.Unix(int64(e.resetInfo.Bar)*86400, 0).UTC()
	return e.resetInfo, nil
}

func (e *scriptEnv) Step(dst *env.StepResult, action []float64) error {
	if !e.started {
		panic("script: Step before Reset")
	}
	if e.done {
		panic("script: Step after the end")
	}
	e.k++
	e.fill(dst.Obs, dst.Info.Weights)
	r := 0.01 * e.rng.NormFloat64()
	e.value *= math.Exp(r)
	dst.Reward = r
	dst.Terminated = e.termAt > 0 && e.k == e.termAt
	dst.Truncated = e.k == e.length
	e.done = dst.Terminated || dst.Truncated
	inf := &dst.Info
	copy(inf.Requested, action)
	copy(inf.Executed, action)
	inf.Bar = e.resetInfo.Bar + e.k
	inf.Time = time.Unix(int64(inf.Bar)*86400, 0).UTC()
	inf.Value = e.value
	inf.Return = math.Exp(r) - 1
	inf.Turnover = e.rng.Float64()
	inf.Fees = 10 * math.Abs(e.rng.NormFloat64())
	inf.Slippage = math.Abs(e.rng.NormFloat64())
	inf.Guard = env.GuardInfo{Interventions: e.rng.IntN(3), BreakerActive: e.rng.IntN(4) == 0}
	if e.record {
		e.rew = append(e.rew, r)
		e.infos = append(e.infos, *inf)
	}
	return nil
}

func (e *scriptEnv) Close() error { return nil }

// MarshalBinary saves the script's episode state (its generator, step
// count, flags, value and reset info), so that wrappers over it can be
// checkpointed in tests.
func (e *scriptEnv) MarshalBinary() ([]byte, error) {
	pcg, err := e.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte("SCRP"), pcg...)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.k))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.value))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.resetInfo.Bar))
	var flags byte
	if e.started {
		flags |= 1
	}
	if e.done {
		flags |= 2
	}
	return append(b, flags), nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (e *scriptEnv) UnmarshalBinary(data []byte) error {
	const n = 4 + 20 + 3*8 + 1
	if len(data) != n || string(data[:4]) != "SCRP" {
		return fmt.Errorf("%w: not a script env state", ErrState)
	}
	if err := e.pcg.UnmarshalBinary(data[4:24]); err != nil {
		return err
	}
	e.k = int(binary.LittleEndian.Uint64(data[24:]))
	e.value = math.Float64frombits(binary.LittleEndian.Uint64(data[32:]))
	e.resetInfo.Bar = int(binary.LittleEndian.Uint64(data[40:]))
	e.resetInfo.Time = time.Unix(int64(e.resetInfo.Bar)*86400, 0).UTC()
	e.started, e.done = data[48]&1 != 0, data[48]&2 != 0
	return nil
}
