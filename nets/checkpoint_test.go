package nets

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	if err := got.Check("ppo", c.Arch, "trunk=flat", "sha256:abc"); err != nil {
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
	v2 := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(v2[8:], 2)
	var ve *VersionError
	if _, err := ReadCheckpoint(bytes.NewReader(v2)); !errors.As(err, &ve) || ve.File != 2 || ve.Want != FormatVersion ||
		!strings.Contains(err.Error(), "version 2") || !strings.Contains(err.Error(), "version 1") {
		t.Errorf("other version: %v", err)
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
	err = c.Check("ppo", []Shape{{"actor/fc1/W", 20, 64}, {"actor/fc1/b", 1, 64}}, "trunk=flat", "")
	if !errors.As(err, &me) || me.What != "architecture" ||
		!strings.Contains(err.Error(), "311×64") || !strings.Contains(err.Error(), "20×64") {
		t.Errorf("architecture mismatch: %v", err)
	}
	if err := c.Check("ddpg", c.Arch, "trunk=flat", ""); !errors.As(err, &me) || me.What != "kind" || !strings.Contains(err.Error(), `"ppo"`) {
		t.Errorf("kind mismatch: %v", err)
	}
	if err := c.Check("ppo", c.Arch, "trunk=flat", "sha256:def"); !errors.As(err, &me) || me.What != "config" ||
		!strings.Contains(err.Error(), "abc") || !strings.Contains(err.Error(), "def") {
		t.Errorf("config mismatch: %v", err)
	}
	if err := c.Check("ppo", c.Arch, "trunk=assets", ""); !errors.As(err, &me) || me.What != "architecture" ||
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
