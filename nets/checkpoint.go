package nets

import (
	"bufio"
	"cmp"
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
	"reflect"
	"sort"
	"strings"
)

// Checkpoint file format, version 2. All integers little-endian.
//
//	magic   8 bytes  "FOLIOCKP"
//	version uint32   FormatVersion
//	hlen    uint32   length of the header
//	header  hlen bytes of JSON (CheckpointHeader without block data)
//	blocks  for each header block in order: its values, float64 or float32
//	crc     uint32   CRC-32 (IEEE) of every preceding byte
//
// The header names the kind of state ("ppo", "ddpg"), whether the file
// holds weights only (a model file) or the full training state, a hash of
// the hyperparameters and (since version 2) their values key by key, the
// architecture (every parameter tensor's name and shape), integer
// counters, and the blocks' names, element types and lengths. Loading
// checks magic, version, checksum, kind and architecture and reports a
// mismatch naming both sides; a configuration mismatch names the keys
// that differ.
//
// Version 1 files (no weights-only flag, no hyperparameter values) are
// still read: they hold full training states, and a configuration
// mismatch against one can only name the two hashes.
const (
	checkpointMagic = "FOLIOCKP"
	// FormatVersion is the checkpoint format version written by this code.
	FormatVersion = 2
	// minFormatVersion is the oldest version this code reads.
	minFormatVersion = 1
	maxHeader        = 64 << 20
)

// ErrNotCheckpoint is returned for input that does not start with the
// checkpoint magic string.
var ErrNotCheckpoint = errors.New("nets: not a folio checkpoint")

// ErrWeightsOnly is returned (wrapped) when a full training state is
// loaded from a file that holds weights only (a model file): resume from
// the training checkpoint instead, or load the weights alone.
var ErrWeightsOnly = errors.New("nets: the file holds network weights only (a model file), not a training state; load it as weights (evaluation, warm start) or resume from the run's checkpoint.bin")

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
	Kind        string            `json:"kind"`
	WeightsOnly bool              `json:"weights_only,omitempty"`
	Net         string            `json:"net"`
	ConfigHash  string            `json:"config_hash"`
	Config      map[string]string `json:"config,omitempty"`
	Arch        []Shape           `json:"arch"`
	Ints        map[string]int64  `json:"ints,omitempty"`
	Blocks      []blockInfo       `json:"blocks"`
}

// Checkpoint is the content of a checkpoint file.
type Checkpoint struct {
	Kind string
	// WeightsOnly marks a model file: the network weights without the
	// optimiser state, counters or replay buffer of a training state.
	WeightsOnly bool
	Net         string // architecture description (Arch.String)
	ConfigHash  string
	// Config holds the hyperparameters the hash was computed from, key by
	// key (ConfigID.Keys); nil in version 1 files.
	Config map[string]string
	Arch   []Shape
	Ints   map[string]int64
	Blocks []Block
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

// VersionError reports a checkpoint written in a format version this build
// does not read.
type VersionError struct{ File, Want int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("nets: checkpoint format version %d, this build reads versions %d to %d", e.File, minFormatVersion, e.Want)
}

// MismatchError reports a checkpoint of another kind, configuration or
// architecture than the agent loading it.
type MismatchError struct {
	What       string // "kind", "config" or "architecture"
	File, Want string // both sides, summarised
	// Keys lists, for a configuration mismatch, the hyperparameters that
	// differ (sorted by key); empty when the file records no values
	// (format version 1).
	Keys []KeyDiff
}

// KeyDiff is one hyperparameter whose value differs between a checkpoint
// and the agent loading it. Values are JSON-encoded; "(absent)" marks a
// key that one side does not have.
type KeyDiff struct {
	Key        string
	File, Want string
}

func (e *MismatchError) Error() string {
	if e.What == "config" && len(e.Keys) > 0 {
		parts := make([]string, len(e.Keys))
		for i, k := range e.Keys {
			parts[i] = fmt.Sprintf("%s: file has %s, this agent has %s", k.Key, k.File, k.Want)
		}
		return "nets: checkpoint config mismatch: " + strings.Join(parts, "; ")
	}
	return fmt.Sprintf("nets: checkpoint %s mismatch: file has %s, this agent has %s", e.What, e.File, e.Want)
}

// Check compares c's kind, architecture (tensor shapes and description)
// and, if want is not nil, configuration with the expected ones. A
// configuration mismatch lists the keys that differ with both values
// (MismatchError.Keys) when the file records them.
func (c *Checkpoint) Check(kind string, arch []Shape, net string, want *ConfigID) error {
	if c.Kind != kind {
		return &MismatchError{What: "kind", File: fmt.Sprintf("%q", c.Kind), Want: fmt.Sprintf("%q", kind)}
	}
	if d := archDiff(c.Arch, arch); d != "" {
		return &MismatchError{What: "architecture", File: d + " (" + archSummary(c.Arch) + ")", Want: archSummary(arch)}
	}
	if c.Net != net {
		return &MismatchError{What: "architecture", File: fmt.Sprintf("%q", c.Net), Want: fmt.Sprintf("%q", net)}
	}
	if want != nil && c.ConfigHash != want.Hash {
		e := &MismatchError{What: "config", File: "hash " + c.ConfigHash, Want: "hash " + want.Hash}
		if c.Config == nil {
			e.File += " (the file records no hyperparameter values, so the keys that differ cannot be named)"
		} else {
			e.Keys = keyDiff(c.Config, want.Keys)
		}
		return e
	}
	return nil
}

// keyDiff returns the keys whose values differ between file and want,
// sorted.
func keyDiff(file, want map[string]string) []KeyDiff {
	var out []KeyDiff
	for k, f := range file {
		w, ok := want[k]
		if !ok {
			w = "(absent)"
		}
		if f != w {
			out = append(out, KeyDiff{Key: k, File: f, Want: w})
		}
	}
	for k, w := range want {
		if _, ok := file[k]; !ok {
			out = append(out, KeyDiff{Key: k, File: "(absent)", Want: w})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// RequireState returns an error wrapping ErrWeightsOnly when c holds
// weights only: a full training state cannot be restored from it.
func (c *Checkpoint) RequireState() error {
	if c.WeightsOnly {
		return ErrWeightsOnly
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

// ConfigID identifies an agent's hyperparameters in checkpoints: Hash is
// ConfigHash of the configuration struct, Keys the same configuration key
// by key, so that a mismatch can name what differs.
type ConfigID struct {
	Hash string
	// Keys maps each field of the struct to its JSON-encoded value. A
	// field's key is its TOML name (its Go name without a toml tag);
	// embedded structs without a tag contribute their fields at the same
	// level (as in the TOML table), other struct fields as "name.field".
	Keys map[string]string
}

// NewConfigID returns the ConfigID of the configuration struct v.
func NewConfigID(v any) (ConfigID, error) {
	h, err := ConfigHash(v)
	if err != nil {
		return ConfigID{}, err
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return ConfigID{}, fmt.Errorf("nets: config keys: %T is not a struct", v)
	}
	keys := map[string]string{}
	if err := configKeys(keys, "", rv); err != nil {
		return ConfigID{}, err
	}
	return ConfigID{Hash: h, Keys: keys}, nil
}

func configKeys(dst map[string]string, prefix string, v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !(f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue // as encoding/json: promoted fields of unexported embedded structs count
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			p := prefix
			if !f.Anonymous || name != "" {
				p = prefix + cmp.Or(name, f.Name) + "."
			}
			if err := configKeys(dst, p, fv); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(fv.Interface())
		if err != nil {
			return fmt.Errorf("nets: config key %s: %w", prefix+cmp.Or(name, f.Name), err)
		}
		dst[prefix+cmp.Or(name, f.Name)] = string(b)
	}
	return nil
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
	h := header{Kind: c.Kind, WeightsOnly: c.WeightsOnly, Net: c.Net, ConfigHash: c.ConfigHash, Config: c.Config, Arch: c.Arch, Ints: c.Ints}
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
	version := binary.LittleEndian.Uint32(pre[8:12])
	if version < minFormatVersion || version > FormatVersion {
		return nil, &VersionError{File: int(version), Want: FormatVersion}
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
	if version == 1 && (h.WeightsOnly || h.Config != nil) {
		return nil, errors.New("nets: checkpoint header: a format version 1 file with version 2 fields: file corrupt")
	}
	c := &Checkpoint{Kind: h.Kind, WeightsOnly: h.WeightsOnly, Net: h.Net, ConfigHash: h.ConfigHash, Config: h.Config, Arch: h.Arch, Ints: h.Ints}
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
