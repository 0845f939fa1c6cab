package agents

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func TestRolloutNextObs(t *testing.T) {
	// 3 steps × 2 envs, D = 1; observations encode (t, e) as 10t+e.
	r := NewRollout(2, 3, 1, 1, 2)
	for k := range r.Obs {
		r.Obs[k] = float64(10*(k/2) + k%2)
	}
	r.NextObs[0], r.NextObs[1] = 30, 31
	r.Record(1, []float64{0, 0}, []bool{false, true}, []bool{true, false}, []float64{-1, -2})
	tests := []struct {
		k    int
		want float64
	}{ // hand-derived from the layout
		{0, 10}, {1, 11}, // step 0 → step 1
		{2, -1}, {3, -2}, // step 1 ended both episodes: final observations
		{4, 30}, {5, 31}, // last step → NextObs
	}
	for _, tc := range tests {
		if got := r.NextObsOf(tc.k)[0]; got != tc.want {
			t.Errorf("NextObsOf(%d) = %v, want %v", tc.k, got, tc.want)
		}
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
	r.Progress = 1.5
	if err := r.Validate(); err == nil {
		t.Error("progress 1.5 accepted")
	}
}

func TestReplayRing(t *testing.T) {
	b := NewReplay(3, 2, 1)
	for i := 0; i < 5; i++ {
		f := float64(i)
		b.Add([]float64{f, f}, []float64{-f}, f, []float64{f + 1, f + 1}, i == 4)
	}
	if b.Len() != 3 {
		t.Fatalf("Len = %d, want 3", b.Len())
	}
	s := b.State()
	// transitions 3 and 4 overwrote slots 0 and 1; slot 2 holds transition 2
	wantObs := []float32{3, 3, 4, 4, 2, 2}
	for i, v := range wantObs {
		if s.Obs[i] != v {
			t.Fatalf("obs = %v, want %v", s.Obs, wantObs)
		}
	}
	if s.Pos != 2 || !s.Terminated[1] || s.Terminated[0] || s.Reward[2] != 2 {
		t.Errorf("state = %+v", s)
	}
	c := NewReplay(3, 2, 1)
	if err := c.Restore(s); err != nil {
		t.Fatal(err)
	}
	bb, cb := b.NewBatch(8), c.NewBatch(8)
	b.Sample(bb, seed.New(1, seed.Replay, 0))
	c.Sample(cb, seed.New(1, seed.Replay, 0))
	for i := range bb.Obs {
		if bb.Obs[i] != cb.Obs[i] || bb.Next[i] != cb.Next[i] {
			t.Fatal("restored buffer samples differently")
		}
	}
	for j := 0; j < bb.Size; j++ {
		i := bb.Index[j]
		if bb.Obs[2*j] != float64(s.Obs[2*i]) || bb.Action[j] != -bb.Obs[2*j] || bb.Next[2*j] != bb.Obs[2*j]+1 || bb.Reward[j] != bb.Obs[2*j] {
			t.Fatalf("sample %d is not a stored transition: obs %v act %v next %v r %v", j, bb.Obs[2*j], bb.Action[j], bb.Next[2*j], bb.Reward[j])
		}
	}
	if err := c.Restore(ReplayState{Pos: 1, Size: 2}); err == nil {
		t.Error("inconsistent state accepted")
	}
}

// TestReplayUniform: each of n stored transitions is drawn with frequency
// 1/n. Over m draws the count of one index is Binomial(m, 1/n): a 5σ bound
// fails with probability < 1e-6 per index.
func TestReplayUniform(t *testing.T) {
	const n, m = 10, 20000
	b := NewReplay(n, 1, 1)
	for i := 0; i < n; i++ {
		b.Add([]float64{float64(i)}, []float64{0}, 0, []float64{0}, false)
	}
	rng := seed.New(2, seed.Replay, 0)
	batch := b.NewBatch(100)
	counts := make([]int, n)
	for i := 0; i < m/100; i++ {
		b.Sample(batch, rng)
		for _, x := range batch.Obs {
			counts[int(x)]++
		}
	}
	p := 1.0 / n
	sd := math.Sqrt(m * p * (1 - p))
	for i, c := range counts {
		if math.Abs(float64(c)-m*p) > 5*sd {
			t.Errorf("index %d drawn %d times, expected %v ± %v", i, c, m*p, 5*sd)
		}
	}
}

func TestReplayAllocs(t *testing.T) {
	b := NewReplay(100, 311, 11)
	obs := make([]float64, 311)
	act := make([]float64, 11)
	for i := 0; i < 100; i++ {
		b.Add(obs, act, 0, obs, false)
	}
	batch := b.NewBatch(32)
	rng := seed.New(3, seed.Replay, 0)
	if a := testing.AllocsPerRun(50, func() { b.Add(obs, act, 1, obs, false); b.Sample(batch, rng) }); a != 0 {
		t.Errorf("%v allocations per add+sample on a full buffer, want 0", a)
	}
}

func TestAddRollout(t *testing.T) {
	r := NewRollout(2, 2, 1, 1, 2)
	copy(r.Obs, []float64{0, 1, 10, 11})
	copy(r.NextObs, []float64{20, 21})
	copy(r.Weights, []float64{0, 0.1, 1, 1.1, 10, 10.1, 11, 11.1})
	r.Record(0, []float64{1, 2}, []bool{true, false}, []bool{false, false}, []float64{-5, 0})
	r.Record(1, []float64{3, 4}, []bool{false, false}, []bool{false, true}, []float64{0, -7})
	b := NewReplay(10, 1, 2)
	b.AddRollout(r, r.Weights)
	s := b.State()
	// hand-derived: (obs, next, terminated) per transition in step order
	wantNext := []float32{-5, 11, 20, -7}
	wantTerm := []bool{true, false, false, false}
	for k := range wantNext {
		if s.Next[k] != wantNext[k] || s.Terminated[k] != wantTerm[k] || s.Action[2*k+1] != float32(r.Weights[2*k+1]) {
			t.Errorf("transition %d: next %v term %v action %v", k, s.Next[k], s.Terminated[k], s.Action[2*k:2*k+2])
		}
	}
}
