package statebin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrState is wrapped by every error about a saved state that cannot be
// decoded or does not fit the env it is restored into. env re-exports it
// as env.ErrState.
var ErrState = errors.New("env: bad saved state")

// Magics of the layers of an env stack, in one place so that a state given
// to the wrong layer is named in the error.
const (
	MagicMarket      = "FOMK"
	MagicVec         = "FOVC"
	MagicGuard       = "FOGD"
	MagicTimeLimit   = "FOTL"
	MagicMonitor     = "FOMO"
	MagicObsNorm     = "FOON"
	MagicRewardScale = "FORS"
	MagicMeanVar     = "FOMV"
)

// Kind returns the layer name of a magic ("" if unknown).
func Kind(magic string) string {
	switch magic {
	case MagicMarket:
		return "Market"
	case MagicVec:
		return "Vec"
	case MagicGuard:
		return "Guard"
	case MagicTimeLimit:
		return "TimeLimit"
	case MagicMonitor:
		return "Monitor"
	case MagicObsNorm:
		return "ObsNorm"
	case MagicRewardScale:
		return "RewardScale"
	case MagicMeanVar:
		return "MeanVar"
	}
	return ""
}

// Encoder appends a state to a byte slice.
type Encoder struct {
	b []byte
}

// NewEncoder starts a state with magic (4 bytes) and version.
func NewEncoder(magic string, version uint16) *Encoder {
	if len(magic) != 4 {
		panic("statebin: magic must have 4 bytes")
	}
	e := &Encoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, magic...)
	e.b = binary.LittleEndian.AppendUint16(e.b, version)
	return e
}

// Uint64 appends v.
func (e *Encoder) Uint64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// Int appends v as a 64-bit two's-complement integer.
func (e *Encoder) Int(v int) { e.Uint64(uint64(int64(v))) }

// Float64 appends the IEEE-754 bits of v.
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }

// Bool appends v as one byte.
func (e *Encoder) Bool(v bool) {
	var x byte
	if v {
		x = 1
	}
	e.b = append(e.b, x)
}

// Float64s appends len(x) and the bits of each element.
func (e *Encoder) Float64s(x []float64) {
	e.Uint64(uint64(len(x)))
	for _, v := range x {
		e.Float64(v)
	}
}

// Bytes appends len(p) and p.
func (e *Encoder) Bytes(p []byte) {
	e.Uint64(uint64(len(p)))
	e.b = append(e.b, p...)
}

// String appends len(s) and s.
func (e *Encoder) String(s string) {
	e.Uint64(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Time appends t as a zero flag, Unix seconds and nanoseconds. The
// location is not kept: times are restored in UTC, as the env reports them.
func (e *Encoder) Time(t time.Time) {
	if t.IsZero() {
		e.Bool(false)
		return
	}
	e.Bool(true)
	e.Uint64(uint64(t.Unix()))
	e.Uint64(uint64(t.Nanosecond()))
}

// Data returns the encoded state.
func (e *Encoder) Data() []byte { return e.b }

// Decoder reads a state written by an Encoder. After the first error every
// read returns a zero value; check Err (or Finish) once at the end.
type Decoder struct {
	b    []byte
	off  int
	kind string
	err  error
}

// NewDecoder checks that data starts with magic and version and returns a
// decoder positioned after them. kind names the layer being restored, for
// error messages (e.g. "Market").
func NewDecoder(data []byte, magic string, version uint16, kind string) *Decoder {
	d := &Decoder{b: data, kind: kind}
	switch {
	case len(data) < 6:
		d.err = fmt.Errorf("%w: restoring %s: %d bytes is too short for a state", ErrState, kind, len(data))
	case string(data[:4]) != magic:
		if k := Kind(string(data[:4])); k != "" {
			d.err = fmt.Errorf("%w: restoring %s: the data is a %s state, not a %s state (restore a state into the same stack of wrappers it was saved from)", ErrState, kind, k, kind)
		} else {
			d.err = fmt.Errorf("%w: restoring %s: the data is not an env state (it starts with %q)", ErrState, kind, data[:4])
		}
	default:
		if v := binary.LittleEndian.Uint16(data[4:]); v != version {
			d.err = fmt.Errorf("%w: restoring %s: the state has format version %d; this build reads version %d", ErrState, kind, v, version)
		}
	}
	d.off = 6
	return d
}

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Finish returns the first error, or an error if bytes are left unread.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%w: restoring %s: %d unexpected trailing bytes", ErrState, d.kind, len(d.b)-d.off)
	}
	return d.err
}

// Fail records err (wrapped with ErrState and the layer) unless an error
// is already recorded. Layers use it for values that decode but do not fit.
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: restoring %s: %s", ErrState, d.kind, fmt.Sprintf(format, args...))
	}
}

// take returns the next n bytes, or nil after recording a truncation.
func (d *Decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("%w: restoring %s: the state is truncated (%d bytes; needed %d more at byte %d)", ErrState, d.kind, len(d.b), n, d.off)
		return nil
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p
}

// Uint64 reads a uint64.
func (d *Decoder) Uint64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// Int reads an int written by Encoder.Int.
func (d *Decoder) Int() int { return int(int64(d.Uint64())) }

// Float64 reads a float64.
func (d *Decoder) Float64() float64 { return math.Float64frombits(d.Uint64()) }

// Bool reads a boolean; bytes other than 0 and 1 are an error.
func (d *Decoder) Bool() bool {
	p := d.take(1)
	if p == nil {
		return false
	}
	if p[0] > 1 {
		d.Fail("invalid boolean byte %d at byte %d", p[0], d.off-1)
		return false
	}
	return p[0] == 1
}

// length reads a length prefix of elements of size bytes each and checks
// that the data holds them.
func (d *Decoder) length(size uint64) uint64 {
	n := d.Uint64()
	if d.err == nil && n > uint64(len(d.b)-d.off)/size {
		d.err = fmt.Errorf("%w: restoring %s: the state is truncated (a length of %d at byte %d exceeds the %d bytes left)", ErrState, d.kind, n, d.off-8, len(d.b)-d.off)
	}
	if d.err != nil {
		return 0
	}
	return n
}

// Float64sTo reads a float64 slice whose length must be len(dst) (what
// names it in the error) into dst.
func (d *Decoder) Float64sTo(dst []float64, what string) {
	n := d.length(8)
	if d.err != nil {
		return
	}
	if n != uint64(len(dst)) {
		d.Fail("%s has %d values, this env has %d", what, n, len(dst))
		return
	}
	for i := range dst {
		dst[i] = d.Float64()
	}
}

// Bytes reads a byte string. The result aliases the data.
func (d *Decoder) Bytes() []byte {
	n := d.length(1)
	if d.err != nil {
		return nil
	}
	return d.take(n)
}

// String reads a string.
func (d *Decoder) String() string { return string(d.Bytes()) }

// Time reads a time written by Encoder.Time (in UTC).
func (d *Decoder) Time() time.Time {
	if !d.Bool() {
		return time.Time{}
	}
	s, ns := int64(d.Uint64()), int64(d.Uint64())
	if d.err != nil {
		return time.Time{}
	}
	if ns < 0 || ns >= 1e9 {
		d.Fail("invalid time nanoseconds %d", ns)
		return time.Time{}
	}
	return time.Unix(s, ns).UTC()
}
