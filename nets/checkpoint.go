package nets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"strings"
)

// Checkpoint file format, version 1. All integers little-endian.
//
//	magic   8 bytes  "FOLIOCKP"
//	version uint32   FormatVersion
//	hlen    uint32   length of the header
//	header  hlen bytes of JSON (CheckpointHeader without block data)
//	blocks  for each header block in order: its values, float64 or float32
//	crc     uint32   CRC-32 (IEEE) of every preceding byte
//
// The header names the kind of state ("ppo", "ddpg"), a hash of the
// hyperparameters, the architecture (every parameter tensor's name and
// shape), integer counters, and the blocks' names, element types and
// lengths. Loading checks magic, version, checksum, kind and architecture
// and reports a mismatch naming both sides.
const (
	checkpointMagic = "FOLIOCKP"
	// FormatVersion is the checkpoint format version written by this code.
	FormatVersion = 1
	maxHeader     = 64 << 20
)

// ErrNotCheckpoint is returned for input that does not start with the
// checkpoint magic string.
var ErrNotCheckpoint = errors.New("nets: not a folio checkpoint")

// Shape is a named tensor shape in an architecture description.
type Shape struct {
	Name string `json:"name"`
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
}

// ArchOf returns the shapes of a layout's segments, each name prefixed.
func ArchOf(prefix string, l *Layout) []Shape {
	s := make([]Shape, len(l.Segments))
	for i, g := range l.Segments {
		s[i] = Shape{Name: prefix + g.Name, Rows: g.Rows, Cols: g.Cols}
	}
	return s
}

// Block is a named vector of state: exactly one of F64 and F32 is used.
type Block struct {
	Name string
	F64  []float64
	F32  []float32
}

type blockInfo struct {
	Name string `json:"name"`
	Type string `json:"type"` // "f64" or "f32"
	Len  int    `json:"len"`
}

type header struct {
	Kind       string           `json:"kind"`
	Net        string           `json:"net"`
	ConfigHash string           `json:"config_hash"`
	Arch       []Shape          `json:"arch"`
	Ints       map[string]int64 `json:"ints,omitempty"`
	Blocks     []blockInfo      `json:"blocks"`
}

// Checkpoint is the content of a checkpoint file.
type Checkpoint struct {
	Kind       string
	Net        string // architecture description (Arch.String)
	ConfigHash string
	Arch       []Shape
	Ints       map[string]int64
	Blocks     []Block
}

// Block returns the block named name.
func (c *Checkpoint) Block(name string) (Block, bool) {
	for _, b := range c.Blocks {
		if b.Name == name {
			return b, true
		}
	}
	return Block{}, false
}

// VersionError reports a checkpoint written in another format version.
type VersionError struct{ File, Want int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("nets: checkpoint format version %d, this build reads version %d", e.File, e.Want)
}

// MismatchError reports a checkpoint of another kind, configuration or
// architecture than the agent loading it.
type MismatchError struct {
	What       string // "kind", "config" or "architecture"
	File, Want string // both sides, summarised
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("nets: checkpoint %s mismatch: file has %s, this agent has %s", e.What, e.File, e.Want)
}

// Check compares c's kind, architecture (tensor shapes and description)
// and, if wantHash is not empty, configuration hash with the expected ones.
func (c *Checkpoint) Check(kind string, arch []Shape, net, wantHash string) error {
	if c.Kind != kind {
		return &MismatchError{What: "kind", File: fmt.Sprintf("%q", c.Kind), Want: fmt.Sprintf("%q", kind)}
	}
	if d := archDiff(c.Arch, arch); d != "" {
		return &MismatchError{What: "architecture", File: d + " (" + archSummary(c.Arch) + ")", Want: archSummary(arch)}
	}
	if c.Net != net {
		return &MismatchError{What: "architecture", File: fmt.Sprintf("%q", c.Net), Want: fmt.Sprintf("%q", net)}
	}
	if wantHash != "" && c.ConfigHash != wantHash {
		return &MismatchError{What: "config", File: "hash " + c.ConfigHash, Want: "hash " + wantHash}
	}
	return nil
}

func archDiff(file, want []Shape) string {
	for i := 0; i < max(len(file), len(want)); i++ {
		switch {
		case i >= len(file):
			return fmt.Sprintf("no tensor where %s %d×%d is expected", want[i].Name, want[i].Rows, want[i].Cols)
		case i >= len(want):
			return fmt.Sprintf("extra tensor %s %d×%d", file[i].Name, file[i].Rows, file[i].Cols)
		case file[i] != want[i]:
			return fmt.Sprintf("%s %d×%d where %s %d×%d is expected", file[i].Name, file[i].Rows, file[i].Cols, want[i].Name, want[i].Rows, want[i].Cols)
		}
	}
	return ""
}

func archSummary(a []Shape) string {
	n := 0
	for _, s := range a {
		n += s.Rows * s.Cols
	}
	if len(a) == 0 {
		return "no tensors"
	}
	first := a[0]
	return fmt.Sprintf("%d tensors, %d parameters, first %s %d×%d", len(a), n, first.Name, first.Rows, first.Cols)
}

// ConfigHash returns "sha256:" and the hex SHA-256 of v's JSON encoding
// (struct fields in declaration order, so equal configs hash equally).
func ConfigHash(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("nets: config hash: %w", err)
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:]), nil
}

type crcWriter struct {
	w   io.Writer
	crc hash.Hash32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc.Write(p)
	return c.w.Write(p)
}

// WriteCheckpoint writes c to w.
func WriteCheckpoint(w io.Writer, c *Checkpoint) error {
	h := header{Kind: c.Kind, Net: c.Net, ConfigHash: c.ConfigHash, Arch: c.Arch, Ints: c.Ints}
	for _, b := range c.Blocks {
		switch {
		case b.F32 != nil && b.F64 != nil:
			return fmt.Errorf("nets: checkpoint block %q has both float64 and float32 data", b.Name)
		case b.F32 != nil:
			h.Blocks = append(h.Blocks, blockInfo{Name: b.Name, Type: "f32", Len: len(b.F32)})
		default:
			h.Blocks = append(h.Blocks, blockInfo{Name: b.Name, Type: "f64", Len: len(b.F64)})
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("nets: checkpoint header: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := &crcWriter{w: bw, crc: crc32.NewIEEE()}
	var buf [8]byte
	cw.Write([]byte(checkpointMagic))
	binary.LittleEndian.PutUint32(buf[:4], FormatVersion)
	cw.Write(buf[:4])
	binary.LittleEndian.PutUint32(buf[:4], uint32(len(hj)))
	cw.Write(buf[:4])
	cw.Write(hj)
	chunk := make([]byte, 0, 1<<15)
	flush := func() error {
		_, err := cw.Write(chunk)
		chunk = chunk[:0]
		return err
	}
	for _, b := range c.Blocks {
		for _, v := range b.F32 {
			chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
			if len(chunk) == cap(chunk) {
				if err := flush(); err != nil {
					return fmt.Errorf("nets: writing checkpoint: %w", err)
				}
			}
		}
		for _, v := range b.F64 {
			chunk = binary.LittleEndian.AppendUint64(chunk, math.Float64bits(v))
			if len(chunk) == cap(chunk) {
				if err := flush(); err != nil {
					return fmt.Errorf("nets: writing checkpoint: %w", err)
				}
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("nets: writing checkpoint: %w", err)
	}
	binary.LittleEndian.PutUint32(buf[:4], cw.crc.Sum32())
	if _, err := bw.Write(buf[:4]); err != nil {
		return fmt.Errorf("nets: writing checkpoint: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("nets: writing checkpoint: %w", err)
	}
	return nil
}

type crcReader struct {
	r   io.Reader
	crc hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

// ReadCheckpoint reads a checkpoint written by WriteCheckpoint.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	cr := &crcReader{r: bufio.NewReaderSize(r, 1<<16), crc: crc32.NewIEEE()}
	var pre [16]byte
	if _, err := io.ReadFull(cr, pre[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotCheckpoint
		}
		return nil, fmt.Errorf("nets: reading checkpoint: %w", err)
	}
	if string(pre[:8]) != checkpointMagic {
		return nil, ErrNotCheckpoint
	}
	if v := binary.LittleEndian.Uint32(pre[8:12]); v != FormatVersion {
		return nil, &VersionError{File: int(v), Want: FormatVersion}
	}
	hlen := binary.LittleEndian.Uint32(pre[12:16])
	if hlen > maxHeader {
		return nil, fmt.Errorf("nets: checkpoint header of %d bytes", hlen)
	}
	hj := make([]byte, hlen)
	if _, err := io.ReadFull(cr, hj); err != nil {
		return nil, fmt.Errorf("nets: reading checkpoint header: %w", err)
	}
	var h header
	dec := json.NewDecoder(strings.NewReader(string(hj)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("nets: checkpoint header: %w", err)
	}
	c := &Checkpoint{Kind: h.Kind, Net: h.Net, ConfigHash: h.ConfigHash, Arch: h.Arch, Ints: h.Ints}
	var buf [8]byte
	chunk := make([]byte, 1<<15)
	for _, bi := range h.Blocks {
		if bi.Len < 0 || int64(bi.Len) > 1<<34 {
			return nil, fmt.Errorf("nets: checkpoint block %q of length %d", bi.Name, bi.Len)
		}
		b := Block{Name: bi.Name}
		size := 8
		switch bi.Type {
		case "f64":
			b.F64 = make([]float64, bi.Len)
		case "f32":
			b.F32 = make([]float32, bi.Len)
			size = 4
		default:
			return nil, fmt.Errorf("nets: checkpoint block %q of type %q", bi.Name, bi.Type)
		}
		for i := 0; i < bi.Len; {
			n := min(bi.Len-i, len(chunk)/size)
			if _, err := io.ReadFull(cr, chunk[:n*size]); err != nil {
				return nil, fmt.Errorf("nets: checkpoint block %q truncated: %w", bi.Name, err)
			}
			for k := 0; k < n; k++ {
				if size == 8 {
					b.F64[i+k] = math.Float64frombits(binary.LittleEndian.Uint64(chunk[8*k:]))
				} else {
					b.F32[i+k] = math.Float32frombits(binary.LittleEndian.Uint32(chunk[4*k:]))
				}
			}
			i += n
		}
		c.Blocks = append(c.Blocks, b)
	}
	sum := cr.crc.Sum32()
	if _, err := io.ReadFull(cr.r, buf[:4]); err != nil {
		return nil, fmt.Errorf("nets: checkpoint checksum missing: %w", err)
	}
	if got := binary.LittleEndian.Uint32(buf[:4]); got != sum {
		return nil, fmt.Errorf("nets: checkpoint checksum %08x, computed %08x: file corrupt", got, sum)
	}
	return c, nil
}

// CopyBlock copies block name of c into dst, which must have the block's
// length: state is loaded into the existing backing arrays (never
// rebound), so every Pass and Graph sharing them sees the loaded values.
func (c *Checkpoint) CopyBlock(dst []float64, name string) error {
	b, ok := c.Block(name)
	if !ok {
		return fmt.Errorf("nets: checkpoint has no block %q", name)
	}
	if b.F64 == nil && len(dst) > 0 || len(b.F64) != len(dst) {
		return fmt.Errorf("nets: checkpoint block %q has %d float64 values, want %d", name, len(b.F64), len(dst))
	}
	copy(dst, b.F64)
	return nil
}

// CopyBlock32 is CopyBlock for float32 blocks.
func (c *Checkpoint) CopyBlock32(dst []float32, name string) error {
	b, ok := c.Block(name)
	if !ok {
		return fmt.Errorf("nets: checkpoint has no block %q", name)
	}
	if b.F32 == nil && len(dst) > 0 || len(b.F32) != len(dst) {
		return fmt.Errorf("nets: checkpoint block %q has %d float32 values, want %d", name, len(b.F32), len(dst))
	}
	copy(dst, b.F32)
	return nil
}

// LoadBlocks copies checkpoint blocks into the state vectors dst (same
// order and lengths), converting between precisions. With convert false
// every block must already be in dst's precision (an optimiser state is
// restored exactly or not at all); with convert true either precision is
// accepted (weights loaded into an agent of another precision). Nothing is
// written unless every block matches.
func LoadBlocks[T Float](dst [][]T, bs []Block, convert bool) error {
	var z T
	_, f32 := any(z).(float32)
	if len(bs) < len(dst) {
		return fmt.Errorf("%d blocks, want %d", len(bs), len(dst))
	}
	for i, v := range dst {
		b := bs[i]
		if !convert && (b.F32 != nil) != f32 || len(b.F64)+len(b.F32) != len(v) {
			return fmt.Errorf("block %q: want %d values in %T", b.Name, len(v), z)
		}
	}
	for i, v := range dst {
		if bs[i].F64 != nil {
			for j, x := range bs[i].F64 {
				v[j] = T(x)
			}
		} else {
			for j, x := range bs[i].F32 {
				v[j] = T(x)
			}
		}
	}
	return nil
}
