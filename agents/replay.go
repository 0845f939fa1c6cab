package agents

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Replay is a ring buffer of transitions (s, a, r, s', terminated) for
// off-policy learners. Observations and actions are stored as float32 (as
// CleanRL's and SB3's numpy buffers do), halving memory: 2·D + A values of
// 4 bytes per transition, plus the float64 reward. Storage is a few flat
// slabs, not per-transition objects; they grow geometrically up to the
// capacity as the buffer fills (a 1e6-transition buffer of 311-dimensional
// observations would need 2.5 GB up front while a 20k-step run uses 50 MB)
// and are never reallocated once full, so Add does not allocate once the
// buffer has reached its capacity, and on average O(1/n) times before.
//
// When full, Add overwrites the oldest transition. Sample draws uniformly
// with replacement from the stored transitions.
type Replay struct {
	capacity, obsDim, actDim int
	obs, next, act           []float32
	reward                   []float64
	terminated               []bool
	pos, size                int
}

// NewReplay returns an empty buffer for capacity transitions.
func NewReplay(capacity, obsDim, actDim int) *Replay {
	if capacity <= 0 || obsDim <= 0 || actDim <= 0 {
		panic("agents: NewReplay: non-positive dimension")
	}
	return &Replay{capacity: capacity, obsDim: obsDim, actDim: actDim}
}

// Len returns the number of stored transitions.
func (b *Replay) Len() int { return b.size }

// Cap returns the capacity.
func (b *Replay) Cap() int { return b.capacity }

func (b *Replay) rows() int { return len(b.reward) }

func (b *Replay) grow() {
	n := min(b.capacity, max(2*b.rows(), 1024))
	grow32 := func(s []float32, dim int) []float32 {
		t := make([]float32, n*dim)
		copy(t, s)
		return t
	}
	b.obs = grow32(b.obs, b.obsDim)
	b.next = grow32(b.next, b.obsDim)
	b.act = grow32(b.act, b.actDim)
	r := make([]float64, n)
	copy(r, b.reward)
	b.reward = r
	d := make([]bool, n)
	copy(d, b.terminated)
	b.terminated = d
}

// Add stores one transition. terminated is true only if the MDP ended
// (no bootstrap from next); a truncated transition stores the episode's
// final observation as next and terminated = false.
func (b *Replay) Add(obs, action []float64, reward float64, next []float64, terminated bool) {
	if len(obs) != b.obsDim || len(next) != b.obsDim || len(action) != b.actDim {
		panic("agents: Replay.Add: length mismatch")
	}
	if b.pos >= b.rows() {
		b.grow()
	}
	i := b.pos
	put32(b.obs[i*b.obsDim:(i+1)*b.obsDim], obs)
	put32(b.next[i*b.obsDim:(i+1)*b.obsDim], next)
	put32(b.act[i*b.actDim:(i+1)*b.actDim], action)
	b.reward[i] = reward
	b.terminated[i] = terminated
	b.pos = (b.pos + 1) % b.capacity
	b.size = min(b.size+1, b.capacity)
}

func put32(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// AddRollout stores every transition of r in step order (t major, env
// minor), taking the action of transition k from actions[k·ActDim:]
// (actions has r.Len() rows of the buffer's action width, e.g. r.Weights).
func (b *Replay) AddRollout(r *Rollout, actions []float64) {
	if len(actions) != r.Len()*b.actDim {
		panic("agents: Replay.AddRollout: actions length mismatch")
	}
	d := r.ObsDim
	for k := 0; k < r.Len(); k++ {
		b.Add(r.Obs[k*d:(k+1)*d], actions[k*b.actDim:(k+1)*b.actDim], r.Reward[k], r.NextObsOf(k), r.Terminated[k])
	}
}

// Batch is a sampled minibatch, row-major. Observations are float64 (Obs,
// Next) or float32 (Obs32, Next32, copied from the buffer without
// conversion, for float32 networks); Sample fills whichever are non-nil.
type Batch struct {
	Size       int
	Obs        []float64 // Size×D
	Action     []float64 // Size×A
	Reward     []float64 // Size
	Next       []float64 // Size×D
	Terminated []bool    // Size
	Index      []int     // buffer positions sampled
	Obs32      []float32 // Size×D
	Next32     []float32 // Size×D
}

// NewBatch allocates a batch for b.
func (b *Replay) NewBatch(size int) *Batch {
	return &Batch{Size: size,
		Obs: make([]float64, size*b.obsDim), Action: make([]float64, size*b.actDim),
		Reward: make([]float64, size), Next: make([]float64, size*b.obsDim),
		Terminated: make([]bool, size), Index: make([]int, size)}
}

// NewBatch32 allocates a batch with float32 observations (Obs32, Next32;
// Obs and Next are nil).
func (b *Replay) NewBatch32(size int) *Batch {
	return &Batch{Size: size,
		Obs32: make([]float32, size*b.obsDim), Action: make([]float64, size*b.actDim),
		Reward: make([]float64, size), Next32: make([]float32, size*b.obsDim),
		Terminated: make([]bool, size), Index: make([]int, size)}
}

// Sample fills dst with dst.Size transitions drawn uniformly with
// replacement (the same draws whichever observation slices dst has). It
// panics on an empty buffer. It is Draw followed by Gather of all rows.
func (b *Replay) Sample(dst *Batch, rng *rand.Rand) {
	b.Draw(dst, rng)
	b.Gather(dst, 0, dst.Size)
}

// Draw draws dst.Size buffer positions uniformly with replacement into
// dst.Index: the random part of Sample. It panics on an empty buffer.
func (b *Replay) Draw(dst *Batch, rng *rand.Rand) {
	if b.size == 0 {
		panic("agents: Replay.Sample: empty buffer")
	}
	for j := range dst.Index[:dst.Size] {
		dst.Index[j] = rng.IntN(b.size)
	}
}

// Gather copies the transitions at dst.Index[lo:hi] into rows lo to hi−1
// of dst: the copying part of Sample. Disjoint row ranges may be gathered
// concurrently.
func (b *Replay) Gather(dst *Batch, lo, hi int) {
	d := b.obsDim
	for j := lo; j < hi; j++ {
		i := dst.Index[j]
		if dst.Obs != nil {
			get32(dst.Obs[j*d:(j+1)*d], b.obs[i*d:(i+1)*d])
		}
		if dst.Next != nil {
			get32(dst.Next[j*d:(j+1)*d], b.next[i*d:(i+1)*d])
		}
		if dst.Obs32 != nil {
			copy(dst.Obs32[j*d:(j+1)*d], b.obs[i*d:(i+1)*d])
		}
		if dst.Next32 != nil {
			copy(dst.Next32[j*d:(j+1)*d], b.next[i*d:(i+1)*d])
		}
		get32(dst.Action[j*b.actDim:(j+1)*b.actDim], b.act[i*b.actDim:(i+1)*b.actDim])
		dst.Reward[j] = b.reward[i]
		dst.Terminated[j] = b.terminated[i]
	}
}

// ReplayState is the content of a buffer for checkpoints: the first Size
// rows of each array (views of the buffer's storage, not copies).
type ReplayState struct {
	Pos, Size  int
	Obs, Next  []float32
	Action     []float32
	Reward     []float64
	Terminated []bool
}

// State returns the buffer's content (views; valid until the next Add).
func (b *Replay) State() ReplayState {
	return ReplayState{Pos: b.pos, Size: b.size,
		Obs: b.obs[:b.size*b.obsDim], Next: b.next[:b.size*b.obsDim], Action: b.act[:b.size*b.actDim],
		Reward: b.reward[:b.size], Terminated: b.terminated[:b.size]}
}

// Restore replaces the buffer's content with s (copying it).
func (b *Replay) Restore(s ReplayState) error {
	if s.Size < 0 || s.Size > b.capacity || s.Pos < 0 || s.Pos >= b.capacity ||
		(s.Size < b.capacity && s.Pos != s.Size) {
		return fmt.Errorf("agents: replay state: position %d, size %d, capacity %d", s.Pos, s.Size, b.capacity)
	}
	if len(s.Obs) != s.Size*b.obsDim || len(s.Next) != s.Size*b.obsDim || len(s.Action) != s.Size*b.actDim ||
		len(s.Reward) != s.Size || len(s.Terminated) != s.Size {
		return errors.New("agents: replay state: array lengths do not match its size")
	}
	for b.rows() < s.Size {
		b.grow()
	}
	copy(b.obs, s.Obs)
	copy(b.next, s.Next)
	copy(b.act, s.Action)
	copy(b.reward, s.Reward)
	copy(b.terminated, s.Terminated)
	b.pos, b.size = s.Pos, s.Size
	return nil
}

func get32(dst []float64, src []float32) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}
