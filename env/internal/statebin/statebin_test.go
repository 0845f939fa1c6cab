package statebin

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	when := time.Date(2024, 3, 1, 12, 30, 0, 17, time.UTC)
	e := NewEncoder(MagicMarket, 3)
	e.Uint64(math.MaxUint64)
	e.Int(-42)
	e.Float64(math.Copysign(0, -1))
	e.Float64(math.NaN())
	e.Bool(true)
	e.Bool(false)
	e.Float64s([]float64{1.5, -2, math.Inf(1)})
	e.Bytes([]byte{9, 8, 7})
	e.String("héllo")
	e.Time(when)
	e.Time(time.Time{})
	data := e.Data()

	d := NewDecoder(data, MagicMarket, 3, "Market")
	if d.Uint64() != math.MaxUint64 || d.Int() != -42 {
		t.Fatal("integers")
	}
	if z := d.Float64(); z != 0 || !math.Signbit(z) {
		t.Fatal("negative zero")
	}
	if !math.IsNaN(d.Float64()) || !d.Bool() || d.Bool() {
		t.Fatal("NaN or booleans")
	}
	x := make([]float64, 3)
	d.Float64sTo(x, "x")
	if x[0] != 1.5 || x[1] != -2 || !math.IsInf(x[2], 1) {
		t.Fatalf("floats %v", x)
	}
	if b := d.Bytes(); string(b) != "\x09\x08\x07" || d.String() != "héllo" {
		t.Fatal("bytes or string")
	}
	if got := d.Time(); got != when {
		t.Fatalf("time %v, want %v", got, when)
	}
	if !d.Time().IsZero() {
		t.Fatal("zero time")
	}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestDecoderErrors(t *testing.T) {
	e := NewEncoder(MagicGuard, 1)
	e.Float64s([]float64{1, 2})
	e.Int(5)
	good := e.Data()
	read := func(data []byte, magic string, version uint16, n int) error {
		d := NewDecoder(data, magic, version, Kind(magic))
		d.Float64sTo(make([]float64, n), "weights")
		d.Int()
		return d.Finish()
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"other layer", read(good, MagicTimeLimit, 1, 2), "is a Guard state, not a TimeLimit state"},
		{"unknown", read([]byte("ABCDEFGH"), MagicGuard, 1, 2), "not an env state"},
		{"short", read(good[:4], MagicGuard, 1, 2), "too short"},
		{"version", read(good, MagicGuard, 2, 2), "format version 1; this build reads version 2"},
		{"length", read(good, MagicGuard, 1, 3), "weights has 2 values, this env has 3"},
		{"truncated", read(good[:len(good)-1], MagicGuard, 1, 2), "truncated"},
		{"huge length", read(append(good[:6:6], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), MagicGuard, 1, 2), "exceeds"},
		{"trailing", read(append(good[:len(good):len(good)], 0), MagicGuard, 1, 2), "trailing"},
	} {
		if !errors.Is(c.err, ErrState) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrState with %q", c.name, c.err, c.want)
		}
	}
	if err := read(good, MagicGuard, 1, 2); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(append(NewEncoder(MagicVec, 1).Data(), 2), MagicVec, 1, "Vec")
	if d.Bool(); d.Err() == nil || !strings.Contains(d.Err().Error(), "boolean") {
		t.Errorf("boolean byte 2: %v", d.Err())
	}
}

// TestDigest checks the canonical encoding against one built by hand for a
// small struct, and that equal values (maps in any order) agree and any
// change differs.
func TestDigest(t *testing.T) {
	type cfg struct {
		A int
		B float64
		S []string
		M map[string]float64
		T time.Time
		F bool
	}
	v := cfg{A: -3, B: 0.1, S: []string{"x"}, M: map[string]float64{"q": 2, "p": 1}, F: true}

	// Hand-built: type name, field count, then name/value pairs.
	le := binary.LittleEndian
	str := func(b []byte, s string) []byte { return append(le.AppendUint64(b, uint64(len(s))), s...) }
	var b []byte
	b = str(b, "statebin.cfg")
	b = le.AppendUint64(b, 6)
	b = le.AppendUint64(str(b, "A"), uint64(0xfffffffffffffffd))
	b = le.AppendUint64(str(b, "B"), math.Float64bits(0.1))
	b = str(le.AppendUint64(str(b, "S"), 1), "x")
	b = le.AppendUint64(str(b, "M"), 2)
	b = le.AppendUint64(str(b, "p"), math.Float64bits(1))
	b = le.AppendUint64(str(b, "q"), math.Float64bits(2))
	b = append(str(b, "T"), 0)
	b = append(str(b, "F"), 1)
	if got, want := Digest(v), sha256.Sum256(b); got != want {
		t.Fatalf("digest %x, hand-built %x", got, want)
	}

	w := v
	w.M = map[string]float64{"p": 1, "q": 2}
	if Digest(v) != Digest(w) {
		t.Error("equal maps built in another order digest differently")
	}
	for name, mod := range map[string]func(*cfg){
		"int":    func(c *cfg) { c.A = 3 },
		"float":  func(c *cfg) { c.B = math.Nextafter(0.1, 1) },
		"slice":  func(c *cfg) { c.S = append(c.S, "") },
		"map":    func(c *cfg) { c.M = map[string]float64{"p": 1, "q": 2, "r": 0} },
		"time":   func(c *cfg) { c.T = time.Unix(1, 0) },
		"bool":   func(c *cfg) { c.F = false },
		"nilmap": func(c *cfg) { c.M = nil },
	} {
		x := v
		mod(&x)
		if Digest(x) == Digest(v) {
			t.Errorf("changing the %s did not change the digest", name)
		}
	}
}
