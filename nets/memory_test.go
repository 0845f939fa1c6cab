package nets

import (
	"runtime"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// benchArch is bench task v1's network: N = 10 assets, one feature (log
// return) over W = 30 bars, the weights, 64-64 tanh (311 inputs, 11 logits).
func benchArch() Arch {
	return Arch{
		Assets: 10, Features: 1, Window: 30, AssetOffset: 0, WeightsOffset: 300, ObsLen: 311,
		Trunk: TrunkFlat, Hidden: []int{64, 64}, Activation: Tanh, Embedding: EmbeddingNone,
		ReturnFeature: 0, Init: "orthogonal",
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestGraphMemoryFlat (pitfall 11): a reused training Graph of the bench
// network keeps a flat live heap. gorgonia allocates every intermediate
// per run (pitfall 8), so the test looks at the heap after GC, between run
// 100 and run 700; a leak of even one 64×64 matrix per run would add
// ~20 MB (the threshold is 1 MB).
func TestGraphMemoryFlat(t *testing.T) {
	ac, err := NewActorCritic(benchArch(), 0)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, ac.Net.NumParams())
	grad := make([]float64, len(theta))
	ac.Net.Layout().Init(theta, seed.New(7, seed.Init, 0))
	const batch = 8
	gr, err := ac.Net.NewGraph(batch, Params{theta, grad}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	rng := seed.New(7, seed.Test, 0)
	randFill(rng, gr.Input(ac.Feed.obs), gr.OutputGrad(ac.Logits), gr.OutputGrad(ac.Value))
	run := func(n int) {
		for i := 0; i < n; i++ {
			if err := gr.Run(); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(100)
	before := heapAfterGC()
	run(600)
	after := heapAfterGC()
	growth := int64(after) - int64(before)
	t.Logf("live heap after GC: %d B after 100 runs, %d B after 700 (growth %d B)", before, after, growth)
	if growth > 1<<20 {
		t.Errorf("live heap grew by %d B over 600 runs", growth)
	}
}

// TestPassAllocs: native forward and backward passes allocate nothing,
// serial or with the two towers on two goroutines.
func TestPassAllocs(t *testing.T) {
	ac, err := NewActorCritic(benchArch(), 0)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, ac.Net.NumParams())
	grad := make([]float64, len(theta))
	ac.Net.Layout().Init(theta, seed.New(7, seed.Init, 0))
	for _, par := range []bool{false, true} {
		ps := ac.Net.NewPass(16, Params{theta, grad})
		ps.SetParallel(par)
		randFill(seed.New(8, seed.Test, 0), ps.Input(ac.Feed.obs))
		if a := testing.AllocsPerRun(20, func() {
			ps.Forward()
			ps.ZeroOutputGrads()
			ps.Backward()
		}); a != 0 {
			t.Errorf("parallel=%v: %v allocations per forward+backward, want 0", par, a)
		}
		ps.Close()
	}
}

// TestParallelBitIdentical: running the towers concurrently gives the same
// bits as running them in order.
func TestParallelBitIdentical(t *testing.T) {
	ac, err := NewActorCritic(benchArch(), 0)
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, ac.Net.NumParams())
	ac.Net.Layout().Init(theta, seed.New(9, seed.Init, 0))
	var outs [2][]float64
	var grads [2][]float64
	for k, par := range []bool{false, true} {
		grads[k] = make([]float64, len(theta))
		ps := ac.Net.NewPass(8, Params{theta, grads[k]})
		ps.SetParallel(par)
		rng := seed.New(9, seed.Test, 0)
		randFill(rng, ps.Input(ac.Feed.obs), ps.OutputGrad(ac.Logits), ps.OutputGrad(ac.Value))
		ps.Forward()
		ps.Backward()
		outs[k] = append(append([]float64(nil), ps.Output(ac.Logits)...), ps.Output(ac.Value)...)
		ps.Close()
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("output %d: serial %v, parallel %v", i, outs[0][i], outs[1][i])
		}
	}
	for i := range grads[0] {
		if grads[0][i] != grads[1][i] {
			t.Fatalf("grad %d: serial %v, parallel %v", i, grads[0][i], grads[1][i])
		}
	}
}
