package wrap

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/internal/statebin"
)

// MeanVar keeps a running per-element mean and population variance of
// vectors of a fixed length: Welford's update for one vector at a time and
// the parallel merge of Chan, Golub & LeVeque (1979) for combining two sets
// of statistics (e.g. from the envs of a Vec). The count is a float64 so
// that a prior can enter as a pseudo-count (RewardScale does, as SB3 does).
// Its zero value is unusable; make one with NewMeanVar.
type MeanVar struct {
	n    float64
	mean []float64
	m2   []float64 // Σ (x − mean)² per element
}

// NewMeanVar returns empty statistics for vectors of length dim.
func NewMeanVar(dim int) *MeanVar {
	if dim < 0 {
		panic("wrap: negative MeanVar dimension")
	}
	return &MeanVar{mean: make([]float64, dim), m2: make([]float64, dim)}
}

// Dim returns the vector length.
func (s *MeanVar) Dim() int { return len(s.mean) }

// Count returns the number of vectors seen (plus any prior pseudo-count).
func (s *MeanVar) Count() float64 { return s.n }

// Add updates the statistics with x (Welford): n ← n+1, δ = x − mean,
// mean ← mean + δ/n, M2 ← M2 + δ·(x − mean_new). It panics on a length
// mismatch.
func (s *MeanVar) Add(x []float64) {
	if len(x) != len(s.mean) {
		panic("wrap: MeanVar.Add length mismatch")
	}
	s.n++
	inv := 1 / s.n
	for i, v := range x {
		d := v - s.mean[i]
		s.mean[i] += d * inv
		s.m2[i] += d * (v - s.mean[i])
	}
}

// Merge adds the statistics of o to s (Chan et al.): with n = n_a + n_b and
// δ = mean_b − mean_a, mean = mean_a + δ·n_b/n and M2 = M2_a + M2_b +
// δ²·n_a·n_b/n. o is unchanged. It panics on a dimension mismatch.
func (s *MeanVar) Merge(o *MeanVar) {
	s.MergeMoments(o.n, o.mean, o.m2)
}

// MergeMoments merges a set of n vectors with the given per-element mean and
// sum of squared deviations m2 (= n·variance) into s, as Merge does.
func (s *MeanVar) MergeMoments(n float64, mean, m2 []float64) {
	if len(mean) != len(s.mean) || len(m2) != len(s.mean) {
		panic("wrap: MeanVar merge dimension mismatch")
	}
	if n <= 0 {
		return
	}
	tot := s.n + n
	for i := range s.mean {
		d := mean[i] - s.mean[i]
		s.mean[i] += d * n / tot
		s.m2[i] += m2[i] + d*d*s.n*n/tot
	}
	s.n = tot
}

// Mean returns the mean of element i (0 before any data).
func (s *MeanVar) Mean(i int) float64 { return s.mean[i] }

// Var returns the population variance M2/n of element i (0 before any data).
func (s *MeanVar) Var(i int) float64 {
	if s.n == 0 {
		return 0
	}
	return s.m2[i] / s.n
}

// MeanTo writes the means into dst (length Dim) and returns it.
func (s *MeanVar) MeanTo(dst []float64) []float64 {
	if len(dst) != len(s.mean) {
		panic("wrap: MeanVar.MeanTo length mismatch")
	}
	copy(dst, s.mean)
	return dst
}

// VarTo writes the population variances into dst (length Dim) and returns it.
func (s *MeanVar) VarTo(dst []float64) []float64 {
	if len(dst) != len(s.mean) {
		panic("wrap: MeanVar.VarTo length mismatch")
	}
	for i := range dst {
		dst[i] = s.Var(i)
	}
	return dst
}

// Reset forgets all data.
func (s *MeanVar) Reset() {
	s.n = 0
	clear(s.mean)
	clear(s.m2)
}

// Clone returns an independent copy.
func (s *MeanVar) Clone() *MeanVar {
	return &MeanVar{n: s.n, mean: append([]float64(nil), s.mean...), m2: append([]float64(nil), s.m2...)}
}

// meanVarMagic and meanVarVersion head the binary encoding of a MeanVar:
// magic (4 bytes), version (uint16), dim (uint32), count, then dim means and
// dim M2 values; numbers are little-endian, floats as IEEE-754 bits, so a
// round trip is exact.
const (
	meanVarMagic   = statebin.MagicMeanVar
	meanVarVersion = 1
)

// ErrState is wrapped by errors about saved state that cannot be decoded or
// does not fit the wrapper (wrong magic, version or dimension, truncated
// data). It is env.ErrState, shared by every layer of an env stack.
var ErrState = env.ErrState

// MarshalBinary encodes the statistics exactly (see meanVarMagic).
func (s *MeanVar) MarshalBinary() ([]byte, error) {
	return s.appendBinary(nil), nil
}

func (s *MeanVar) appendBinary(b []byte) []byte {
	b = append(b, meanVarMagic...)
	b = binary.LittleEndian.AppendUint16(b, meanVarVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.mean)))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.n))
	for _, v := range s.mean {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, v := range s.m2 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// UnmarshalBinary decodes statistics written by MarshalBinary, replacing
// s's (its dimension is taken from the data).
func (s *MeanVar) UnmarshalBinary(data []byte) error {
	rest, err := s.decode(data)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrState, len(rest))
	}
	return nil
}

// decode reads one encoded MeanVar from the front of data and returns the
// remaining bytes.
func (s *MeanVar) decode(data []byte) ([]byte, error) {
	const head = 4 + 2 + 4 + 8
	if len(data) < head || string(data[:4]) != meanVarMagic {
		return nil, fmt.Errorf("%w: not MeanVar data", ErrState)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != meanVarVersion {
		return nil, fmt.Errorf("%w: MeanVar format version %d, want %d", ErrState, v, meanVarVersion)
	}
	dim := int(binary.LittleEndian.Uint32(data[6:]))
	if len(data) < head+16*dim {
		return nil, fmt.Errorf("%w: MeanVar data truncated", ErrState)
	}
	n := math.Float64frombits(binary.LittleEndian.Uint64(data[10:]))
	if !(n >= 0) || math.IsInf(n, 0) {
		return nil, fmt.Errorf("%w: MeanVar count %v", ErrState, n)
	}
	mean, m2 := make([]float64, dim), make([]float64, dim)
	off := head
	for i := range mean {
		mean[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
		off += 8
	}
	for i := range m2 {
		m2[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
		off += 8
	}
	s.n, s.mean, s.m2 = n, mean, m2
	return data[off:], nil
}
