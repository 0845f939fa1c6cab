package nets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"testing"
)

func testCheckpoint() *Checkpoint {
	return &Checkpoint{
		Kind:       "ppo",
		Net:        "trunk=flat",
		ConfigHash: "sha256:abc",
		Arch:       []Shape{{"actor/fc1/W", 311, 64}, {"actor/fc1/b", 1, 64}},
		Ints:       map[string]int64{"adam.step": 7, "steps": 4096},
		Blocks: []Block{
			{Name: "params", F64: []float64{1, -2.5, math.Inf(1), math.SmallestNonzeroFloat64, math.Copysign(0, -1)}},
			{Name: "replay.obs", F32: []float32{1.5, -3, 1e-30}},
			{Name: "empty", F64: []float64{}},
		},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	c := testCheckpoint()
	// a large block crosses the 32 KiB chunk boundaries of reader and writer
	big := make([]float64, 10000)
	for i := range big {
		big[i] = math.Sin(float64(i))
	}
	c.Blocks = append(c.Blocks, Block{Name: "big", F64: big})
	if err := WriteCheckpoint(&buf, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != c.Kind || got.ConfigHash != c.ConfigHash || got.Ints["adam.step"] != 7 || got.Ints["steps"] != 4096 {
		t.Errorf("header = %+v", got)
	}
	if err := got.Check("ppo", c.Arch, "trunk=flat", &ConfigID{Hash: "sha256:abc"}); err != nil {
		t.Error(err)
	}
	for _, want := range c.Blocks {
		b, ok := got.Block(want.Name)
		if !ok || len(b.F64) != len(want.F64) || len(b.F32) != len(want.F32) {
			t.Fatalf("block %q: %+v", want.Name, b)
		}
		for i := range want.F64 {
			if math.Float64bits(b.F64[i]) != math.Float64bits(want.F64[i]) {
				t.Errorf("block %q[%d] = %v, want %v (bitwise)", want.Name, i, b.F64[i], want.F64[i])
			}
		}
		for i := range want.F32 {
			if b.F32[i] != want.F32[i] {
				t.Errorf("block %q[%d] = %v, want %v", want.Name, i, b.F32[i], want.F32[i])
			}
		}
	}
	dst := make([]float64, 5)
	if err := got.CopyBlock(dst, "params"); err != nil || dst[1] != -2.5 {
		t.Errorf("CopyBlock: %v %v", dst, err)
	}
	if err := got.CopyBlock(make([]float64, 4), "params"); err == nil {
		t.Error("CopyBlock into a slice of the wrong length succeeded")
	}
}

func TestCheckpointErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCheckpoint(&buf, testCheckpoint()); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()

	if _, err := ReadCheckpoint(strings.NewReader("not a checkpoint at all")); !errors.Is(err, ErrNotCheckpoint) {
		t.Errorf("bad magic: %v", err)
	}
	for _, v := range []uint32{0, FormatVersion + 1} {
		other := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(other[8:], v)
		var ve *VersionError
		if _, err := ReadCheckpoint(bytes.NewReader(other)); !errors.As(err, &ve) || ve.File != int(v) || ve.Want != FormatVersion ||
			!strings.Contains(err.Error(), fmt.Sprintf("version %d,", v)) || !strings.Contains(err.Error(), "versions 1 to 2") {
			t.Errorf("version %d: %v", v, err)
		}
	}
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-10] ^= 1
	if _, err := ReadCheckpoint(bytes.NewReader(corrupt)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupt data: %v", err)
	}
	if _, err := ReadCheckpoint(bytes.NewReader(good[:len(good)-20])); err == nil {
		t.Error("truncated file accepted")
	}

	c, err := ReadCheckpoint(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	var me *MismatchError
	err = c.Check("ppo", []Shape{{"actor/fc1/W", 20, 64}, {"actor/fc1/b", 1, 64}}, "trunk=flat", nil)
	if !errors.As(err, &me) || me.What != "architecture" ||
		!strings.Contains(err.Error(), "311×64") || !strings.Contains(err.Error(), "20×64") {
		t.Errorf("architecture mismatch: %v", err)
	}
	if err := c.Check("ddpg", c.Arch, "trunk=flat", nil); !errors.As(err, &me) || me.What != "kind" || !strings.Contains(err.Error(), `"ppo"`) {
		t.Errorf("kind mismatch: %v", err)
	}
	if err := c.Check("ppo", c.Arch, "trunk=flat", &ConfigID{Hash: "sha256:def"}); !errors.As(err, &me) || me.What != "config" ||
		!strings.Contains(err.Error(), "abc") || !strings.Contains(err.Error(), "def") {
		t.Errorf("config mismatch: %v", err)
	}
	if err := c.Check("ppo", c.Arch, "trunk=assets", nil); !errors.As(err, &me) || me.What != "architecture" ||
		!strings.Contains(err.Error(), "trunk=flat") || !strings.Contains(err.Error(), "trunk=assets") {
		t.Errorf("description mismatch: %v", err)
	}
}

func TestConfigHash(t *testing.T) {
	type cfg struct {
		A float64
		B []int
	}
	h1, _ := ConfigHash(cfg{1, []int{64, 64}})
	h2, _ := ConfigHash(cfg{1, []int{64, 64}})
	h3, _ := ConfigHash(cfg{1, []int{64, 32}})
	if h1 != h2 || h1 == h3 || !strings.HasPrefix(h1, "sha256:") {
		t.Errorf("hashes %s %s %s", h1, h2, h3)
	}
}

// testConfig is a configuration shaped like the agents': an embedded
// struct without a tag (its keys sit at the top level), a tagged nested
// struct, a field without a toml tag, a skipped one and an unexported one.
type testConfig struct {
	LearningRate float64 `toml:"learning_rate"`
	Inner        struct {
		Width int `toml:"width"`
	} `toml:"inner"`
	Untagged string
	Skipped  int `toml:"-"`
	hidden   int
	testNet
}

type testNet struct {
	Hidden    []int  `toml:"hidden"`
	Precision string `toml:"precision,omitempty"`
}

// TestNewConfigID: the keys are the TOML names (hand-listed below) with
// JSON values, and the hash is ConfigHash's.
func TestNewConfigID(t *testing.T) {
	var c testConfig
	c.LearningRate, c.Inner.Width, c.Untagged, c.Skipped, c.hidden = 3e-4, 7, "x", 1, 2
	c.Hidden, c.Precision = []int{64, 32}, "float32"
	id, err := NewConfigID(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"learning_rate": "0.0003", "inner.width": "7", "Untagged": `"x"`, "hidden": "[64,32]", "precision": `"float32"`}
	if fmt.Sprint(id.Keys) != fmt.Sprint(want) {
		t.Errorf("keys %v, want %v", id.Keys, want)
	}
	if h, _ := ConfigHash(c); id.Hash != h {
		t.Errorf("hash %s, ConfigHash %s", id.Hash, h)
	}
	if _, err := NewConfigID(3); err == nil {
		t.Error("NewConfigID of an int succeeded")
	}
}

// TestCheckNamesConfigKeys: a configuration mismatch names every key that
// differs with both values, and nothing else; a format version 1 file
// (written before the values were recorded) is still read, and the
// mismatch then names the two hashes and says why no key is named.
func TestCheckNamesConfigKeys(t *testing.T) {
	var a, b testConfig
	a.LearningRate, a.Hidden, a.Precision = 3e-4, []int{64, 64}, "float64"
	b = a
	b.LearningRate, b.Precision = 1e-3, "float32"
	ida, _ := NewConfigID(a)
	idb, _ := NewConfigID(b)
	c := testCheckpoint()
	c.ConfigHash, c.Config = ida.Hash, ida.Keys
	var buf bytes.Buffer
	if err := WriteCheckpoint(&buf, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Check("ppo", c.Arch, c.Net, &ida); err != nil {
		t.Errorf("same configuration: %v", err)
	}
	err = got.Check("ppo", c.Arch, c.Net, &idb)
	var me *MismatchError
	if !errors.As(err, &me) || me.What != "config" {
		t.Fatalf("other configuration: %v", err)
	}
	wantKeys := []KeyDiff{{"learning_rate", "0.0003", "0.001"}, {"precision", `"float64"`, `"float32"`}}
	if fmt.Sprint(me.Keys) != fmt.Sprint(wantKeys) {
		t.Errorf("keys %v, want %v", me.Keys, wantKeys)
	}
	const msg = `nets: checkpoint config mismatch: learning_rate: file has 0.0003, this agent has 0.001; precision: file has "float64", this agent has "float32"`
	if err.Error() != msg {
		t.Errorf("message\n%s\nwant\n%s", err, msg)
	}
	if err := got.Check("ppo", c.Arch, c.Net, nil); err != nil {
		t.Errorf("no configuration check: %v", err)
	}

	// A version 1 file: the same bytes without the version 2 fields, the
	// version patched and the checksum recomputed.
	c.Config = nil
	buf.Reset()
	if err := WriteCheckpoint(&buf, c); err != nil {
		t.Fatal(err)
	}
	v1 := buf.Bytes()
	binary.LittleEndian.PutUint32(v1[8:], 1)
	binary.LittleEndian.PutUint32(v1[len(v1)-4:], crc32.ChecksumIEEE(v1[:len(v1)-4]))
	old, err := ReadCheckpoint(bytes.NewReader(v1))
	if err != nil {
		t.Fatalf("version 1 file: %v", err)
	}
	if old.Config != nil || old.WeightsOnly {
		t.Errorf("version 1 file read with config %v, weights only %v", old.Config, old.WeightsOnly)
	}
	err = old.Check("ppo", c.Arch, c.Net, &idb)
	if !errors.As(err, &me) || len(me.Keys) != 0 || !strings.Contains(err.Error(), ida.Hash) || !strings.Contains(err.Error(), idb.Hash) ||
		!strings.Contains(err.Error(), "records no hyperparameter values") {
		t.Errorf("version 1 mismatch: %v", err)
	}
}

// TestWeightsOnlyFlag: the flag survives a round trip and RequireState
// refuses such a file with ErrWeightsOnly.
func TestWeightsOnlyFlag(t *testing.T) {
	for _, wo := range []bool{false, true} {
		c := testCheckpoint()
		c.WeightsOnly = wo
		var buf bytes.Buffer
		if err := WriteCheckpoint(&buf, c); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCheckpoint(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got.WeightsOnly != wo {
			t.Errorf("weights only %v read back as %v", wo, got.WeightsOnly)
		}
		if err := got.RequireState(); errors.Is(err, ErrWeightsOnly) != wo {
			t.Errorf("weights only %v: RequireState = %v", wo, err)
		}
	}
}
