package train

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/atomicfile"
)

// Checkpoint file layout (little-endian), format version 3:
//
//	magic "FOLIOCKP", uint64 version, then uint64 counters and
//	length-prefixed sections: config hash, loop counters, the two RNG
//	states, per-env running episode returns and lengths, current
//	observations, the log window (episodes finished since the last
//	logged iteration: count, return sum, length sum), the best model's
//	weights (a model file, SaveWeights) and its observation statistics
//	(Options.ObsStats; empty without), learner name and full state, vec
//	(env) state.
//
// Version 1 had no episode lengths and no log window; version 2 kept the
// best model's full learner state and no statistics with it. Both are
// refused.
const (
	checkpointMagic   = "FOLIOCKP"
	checkpointVersion = 3
)

// ErrCheckpoint is wrapped by errors about unreadable or mismatched checkpoints.
var ErrCheckpoint = errors.New("train: checkpoint")

type ckWriter struct {
	buf bytes.Buffer
}

func (w *ckWriter) u64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.buf.Write(b[:])
}

func (w *ckWriter) bytes(b []byte) {
	w.u64(uint64(len(b)))
	w.buf.Write(b)
}

func (w *ckWriter) floats(x []float64) {
	w.u64(uint64(len(x)))
	for _, v := range x {
		w.u64(math.Float64bits(v))
	}
}

type ckReader struct {
	r   *bytes.Reader
	err error
}

func (r *ckReader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	var b [8]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		r.err = err
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (r *ckReader) bytes() []byte {
	n := r.u64()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.r.Len()) {
		r.err = fmt.Errorf("section of %d bytes exceeds the file", n)
		return nil
	}
	b := make([]byte, n)
	_, r.err = io.ReadFull(r.r, b)
	return b
}

func (r *ckReader) floats() []float64 {
	n := r.u64()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.r.Len())/8 {
		r.err = fmt.Errorf("array of %d values exceeds the file", n)
		return nil
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Float64frombits(r.u64())
	}
	return x
}

func saveBytes(l agents.Learner) ([]byte, error) {
	var b bytes.Buffer
	if err := l.Save(&b); err != nil {
		return nil, fmt.Errorf("train: saving %s state: %w", l.Name(), err)
	}
	return b.Bytes(), nil
}

func loadBytes(l agents.Learner, b []byte) error {
	return l.Load(bytes.NewReader(b))
}

// saveWeights returns l's model file (weights only).
func saveWeights(l agents.Learner) ([]byte, error) {
	var b bytes.Buffer
	if err := l.SaveWeights(&b); err != nil {
		return nil, fmt.Errorf("train: saving %s weights: %w", l.Name(), err)
	}
	return b.Bytes(), nil
}

func writeModel(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, name), b, 0o644)
}

// writeKept writes a kept model, NAME.model, and its observation
// statistics, NAME.obsstats, when there are any. The statistics go first:
// a model file is never newer than the statistics beside it.
func writeKept(dir, name string, model, stats []byte) error {
	if stats != nil {
		if err := writeModel(dir, name+".obsstats", stats); err != nil {
			return err
		}
	}
	return writeModel(dir, name+".model", model)
}

func saveCheckpoint(dir, hash string, l agents.Learner, vec *env.Vec, st *state) error {
	vm, ok := any(vec).(encoding.BinaryMarshaler)
	if !ok {
		return fmt.Errorf("%w: the env cannot save its state", ErrCheckpoint)
	}
	vs, err := vm.MarshalBinary()
	if err != nil {
		return fmt.Errorf("%w: env state: %w", ErrCheckpoint, err)
	}
	ls, err := saveBytes(l)
	if err != nil {
		return err
	}
	act, err := st.actPCG.MarshalBinary()
	if err != nil {
		return err
	}
	upd, err := st.updPCG.MarshalBinary()
	if err != nil {
		return err
	}
	var w ckWriter
	w.buf.WriteString(checkpointMagic)
	w.u64(checkpointVersion)
	w.bytes([]byte(hash))
	w.u64(uint64(st.iter))
	w.u64(uint64(st.steps))
	w.u64(uint64(st.episodes))
	w.u64(math.Float64bits(st.bestScore))
	w.u64(uint64(st.bestIter))
	w.bytes(act)
	w.bytes(upd)
	w.floats(st.epReturn)
	w.floats(st.epLen)
	w.floats(st.obs)
	w.u64(uint64(st.win.episodes))
	w.u64(math.Float64bits(st.win.returnSum))
	w.u64(math.Float64bits(st.win.lenSum))
	w.bytes(st.best)
	w.bytes(st.bestStats)
	w.bytes([]byte(l.Name()))
	w.bytes(ls)
	w.bytes(vs)
	return writeModel(dir, CheckpointFile, w.buf.Bytes())
}

// loadCheckpoint restores st, the learner and the envs from dir's checkpoint.
// It returns false (and no error) when there is no checkpoint.
func loadCheckpoint(dir, hash string, l agents.Learner, vec *env.Vec, st *state) (bool, error) {
	path := filepath.Join(dir, CheckpointFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if !bytes.HasPrefix(data, []byte(checkpointMagic)) {
		return false, fmt.Errorf("%w: %s is not a folio checkpoint", ErrCheckpoint, path)
	}
	r := &ckReader{r: bytes.NewReader(data[len(checkpointMagic):])}
	if v := r.u64(); v != checkpointVersion {
		return false, fmt.Errorf("%w: %s has format version %d, this build reads version %d (it cannot be resumed: start the run afresh in a new directory)", ErrCheckpoint, path, v, checkpointVersion)
	}
	if h := string(r.bytes()); h != hash {
		return false, fmt.Errorf("%w: %s was written for configuration %s, this run has %s (resume with the same experiment file and --set overrides)", ErrCheckpoint, path, short(h), short(hash))
	}
	st.iter = int(r.u64())
	st.steps = int(r.u64())
	st.episodes = int(r.u64())
	st.bestScore = math.Float64frombits(r.u64())
	st.bestIter = int(r.u64())
	act, upd := r.bytes(), r.bytes()
	ep, epLen, obs := r.floats(), r.floats(), r.floats()
	win := window{episodes: int(r.u64()), returnSum: math.Float64frombits(r.u64()), lenSum: math.Float64frombits(r.u64())}
	st.best, st.bestStats = r.bytes(), r.bytes()
	if len(st.best) == 0 {
		st.best = nil
	}
	if len(st.bestStats) == 0 {
		st.bestStats = nil
	}
	name := string(r.bytes())
	ls, vs := r.bytes(), r.bytes()
	if r.err != nil {
		return false, fmt.Errorf("%w: %s is truncated or corrupt: %w", ErrCheckpoint, path, r.err)
	}
	if name != l.Name() {
		return false, fmt.Errorf("%w: %s holds a %s learner, this run trains %s", ErrCheckpoint, path, name, l.Name())
	}
	if len(ep) != len(st.epReturn) || len(epLen) != len(st.epLen) || len(obs) != len(st.obs) {
		return false, fmt.Errorf("%w: %s has %d envs, this run has %d", ErrCheckpoint, path, len(ep), len(st.epReturn))
	}
	copy(st.epReturn, ep)
	copy(st.epLen, epLen)
	copy(st.obs, obs)
	st.win = win
	if err := st.actPCG.UnmarshalBinary(act); err != nil {
		return false, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := st.updPCG.UnmarshalBinary(upd); err != nil {
		return false, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := loadBytes(l, ls); err != nil {
		return false, fmt.Errorf("%w: learner state: %w", ErrCheckpoint, err)
	}
	vu, ok := any(vec).(encoding.BinaryUnmarshaler)
	if !ok {
		return false, fmt.Errorf("%w: the env cannot restore its state", ErrCheckpoint)
	}
	if err := vu.UnmarshalBinary(vs); err != nil {
		return false, fmt.Errorf("%w: env state: %w", ErrCheckpoint, err)
	}
	return true, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// CheckpointFile is the name of the checkpoint in a training directory.
const CheckpointFile = "checkpoint.bin"

// CheckpointState returns the env-step count recorded in dir's checkpoint
// (ok false when there is no readable checkpoint), and whether a checkpoint
// file exists that this build cannot read (another format version, or a
// damaged file): resuming from it would fail, so a caller must not act as
// if there were no checkpoint (e.g. truncate the metrics log) first.
func CheckpointState(dir string) (steps int, ok, unreadable bool) {
	data, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return 0, false, !errors.Is(err, fs.ErrNotExist)
	}
	if !bytes.HasPrefix(data, []byte(checkpointMagic)) {
		return 0, false, true
	}
	r := &ckReader{r: bytes.NewReader(data[len(checkpointMagic):])}
	if r.u64() != checkpointVersion {
		return 0, false, true
	}
	r.bytes() // config hash
	r.u64()   // iteration
	steps = int(r.u64())
	if r.err != nil {
		return 0, false, true
	}
	return steps, true, false
}
