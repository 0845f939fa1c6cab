package statebin

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"
)

// Digest returns the SHA-256 of a canonical encoding of vals: for each
// value, by kind, booleans as a byte, integers as 64 bits, floats as their
// IEEE-754 bits, strings, slices and arrays length-prefixed element by
// element, structs field by field in declaration order (with the field
// names, so reordered or renamed fields change the digest), maps sorted by
// the encoding of their keys, time.Time as Unix nanoseconds, and the type's
// name before each top-level value. Unlike fmt's %#v it does not depend on
// printing rules, and it is the same on every architecture. It panics on
// kinds a configuration does not hold (pointers, funcs, channels,
// interfaces): a programmer error.
func Digest(vals ...any) [32]byte {
	h := sha256.New()
	var buf []byte
	for _, v := range vals {
		rv := reflect.ValueOf(v)
		buf = appendString(buf[:0], rv.Type().String())
		buf = appendValue(buf, rv)
		h.Write(buf)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	float64sType = reflect.TypeFor[[]float64]()
)

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v reflect.Value) []byte {
	le := binary.LittleEndian
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return append(b, 0)
		}
		return le.AppendUint64(append(b, 1), uint64(t.UnixNano()))
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return le.AppendUint64(b, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return le.AppendUint64(b, v.Uint())
	case reflect.Float32, reflect.Float64:
		return le.AppendUint64(b, math.Float64bits(v.Float()))
	case reflect.String:
		return appendString(b, v.String())
	case reflect.Slice, reflect.Array:
		b = le.AppendUint64(b, uint64(v.Len()))
		if v.Type() == float64sType {
			for _, x := range v.Interface().([]float64) {
				b = le.AppendUint64(b, math.Float64bits(x))
			}
			return b
		}
		for i := range v.Len() {
			b = appendValue(b, v.Index(i))
		}
		return b
	case reflect.Struct:
		t := v.Type()
		b = le.AppendUint64(b, uint64(t.NumField()))
		for i := range t.NumField() {
			b = appendString(b, t.Field(i).Name)
			b = appendValue(b, v.Field(i))
		}
		return b
	case reflect.Map:
		type kv struct{ k, v []byte }
		entries := make([]kv, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			entries = append(entries, kv{appendValue(nil, it.Key()), appendValue(nil, it.Value())})
		}
		slices.SortFunc(entries, func(x, y kv) int { return bytes.Compare(x.k, y.k) })
		b = le.AppendUint64(b, uint64(len(entries)))
		for _, e := range entries {
			b = append(append(b, e.k...), e.v...)
		}
		return b
	}
	panic(fmt.Sprintf("statebin: Digest cannot encode a %s", v.Type()))
}
