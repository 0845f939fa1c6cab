package experiments

import (
	"encoding"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

func timeDuration(d Duration) time.Duration { return time.Duration(d) }

// tomlName returns the TOML key of a struct field ("" for skipped fields)
// and whether the field is an embedded struct whose keys are promoted.
func tomlName(f reflect.StructField) (name string, promoted bool) {
	if !f.IsExported() {
		return "", false
	}
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" {
		return "", false
	}
	if tag == "" && f.Anonymous {
		return "", true
	}
	if tag == "" {
		return f.Name, false
	}
	return tag, false
}

// fieldByKey finds the field with TOML key name in struct value v,
// descending into promoted embedded structs.
func fieldByKey(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		n, promoted := tomlName(t.Field(i))
		if promoted {
			if fv, ok := fieldByKey(v.Field(i), name); ok {
				return fv, true
			}
			continue
		}
		if n == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// reflectTypeAt returns the struct type of the table at a key path of the
// schema (nil when the path is not a table of the schema).
func reflectTypeAt(path toml.Key) reflect.Type {
	t := reflect.TypeOf(Config{})
	if len(path) >= 2 && path[0] == "agents" {
		return agentSchemaType(path[1:])
	}
	for _, k := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := structFieldByKey(t, k)
		if !ok {
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func structFieldByKey(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		n, promoted := tomlName(f)
		if promoted {
			if sf, ok := structFieldByKey(f.Type, name); ok {
				return sf, true
			}
			continue
		}
		if n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// Set applies one override "key.path=value". The value is read as a TOML
// value when it parses as one (numbers, booleans, arrays, quoted strings)
// and as a bare string otherwise. data.path=DIR is accepted as a shorthand
// for data.paths=[DIR] with data.source="files".
func (c *Config) Set(assign string) error {
	key, val, ok := strings.Cut(assign, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if !ok || key == "" {
		return &ConfigError{File: "--set", Msg: fmt.Sprintf("%q is not key.path=value", assign), Fix: "write e.g. --set costs.taker_bps=25"}
	}
	if key == "data.path" {
		// A path on the command line is relative to the working directory
		// (paths inside the file are relative to the file).
		c.Data.Paths = []string{absPath(unquote(val))}
		c.Data.Source = "files"
		return nil
	}
	path := strings.Split(key, ".")
	if path[0] == "agents" {
		if len(path) < 3 {
			return &ConfigError{File: "--set", Key: key, Msg: "an agent key needs agents.NAME.key", Fix: "e.g. --set agents.ppo.total_steps=20000"}
		}
		for _, a := range c.Agents {
			if a.Name == path[1] {
				return a.set(key, path[2:], val)
			}
		}
		names := make([]string, len(c.Agents))
		for i, a := range c.Agents {
			names[i] = a.Name
		}
		e := &ConfigError{File: "--set", Key: key, Msg: fmt.Sprintf("no agent %q in this experiment", path[1])}
		if s := suggest(path[1], names); s != "" {
			e.Fix = fmt.Sprintf("did you mean %q?", s)
		}
		return e
	}
	if err := setPath(reflect.ValueOf(c).Elem(), key, path, val); err != nil {
		return err
	}
	if key == "data.paths" {
		for i, p := range c.Data.Paths {
			c.Data.Paths[i] = absPath(p)
		}
	}
	return nil
}

// absPath makes p absolute against the working directory (p unchanged if
// that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// setPath sets the field at path inside struct value v.
func setPath(v reflect.Value, key string, path []string, val string) error {
	for i, k := range path {
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() == reflect.Map && i == len(path)-1 {
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := assignValue(ev, val); err != nil {
				return &ConfigError{File: "--set", Key: key, Msg: err.Error()}
			}
			v.SetMapIndex(reflect.ValueOf(k), ev)
			return nil
		}
		if v.Kind() != reflect.Struct {
			return &ConfigError{File: "--set", Key: key, Msg: fmt.Sprintf("%s is not a table", strings.Join(path[:i], "."))}
		}
		f, ok := fieldByKey(v, k)
		if !ok {
			e := &ConfigError{File: "--set", Key: key, Msg: "unknown key"}
			if s := suggest(k, schemaKeys(v.Type())); s != "" {
				e.Fix = fmt.Sprintf("did you mean %q?", strings.Join(append(path[:i:i], s), "."))
			}
			return e
		}
		v = f
	}
	if err := assignValue(v, val); err != nil {
		e := &ConfigError{File: "--set", Key: key, Msg: err.Error(), Fix: "check the value's type in `folio config --doc`"}
		if strings.HasPrefix(e.Msg, "= ") {
			e.Fix = "use an integer ≥ 0"
		}
		return e
	}
	return nil
}

// valueKind describes the TOML value a Go type accepts, with an example of
// the --set syntax.
func valueKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (e.g. 64)"
	case reflect.Float32, reflect.Float64:
		return "a number (e.g. 0.25 or 1e-4)"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings (e.g. a,b or [\"a\", \"b\"])"
		case reflect.Float32, reflect.Float64:
			return "a list of numbers (e.g. [0.5, 0.5])"
		case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64:
			return "a list of integers (e.g. [1, 2])"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "a table (set its keys one by one, e.g. --set section.key=value)"
	}
	return t.String()
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return strings.Trim(s, "'")
}

// assignValue parses val into v according to v's type, through TOML so that
// the syntax is the same as in files.
func assignValue(v reflect.Value, val string) error {
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok && v.Kind() != reflect.Slice {
		return tu.UnmarshalText([]byte(unquote(val)))
	}
	doc := "v = " + val
	if v.Kind() == reflect.String {
		if _, err := toml.Decode(doc, &struct{ V string }{}); err != nil {
			doc = "v = " + strconv.Quote(val)
		}
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String && !strings.HasPrefix(val, "[") {
		parts := strings.Split(val, ",")
		for i, p := range parts {
			parts[i] = strconv.Quote(strings.TrimSpace(p))
		}
		doc = "v = [" + strings.Join(parts, ", ") + "]"
	}
	switch v.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// The decoder would wrap a negative integer into the unsigned field.
		var signed struct {
			V int64 `toml:"v"`
		}
		if _, err := toml.Decode(doc, &signed); err == nil && signed.V < 0 {
			return fmt.Errorf("= %d: must be ≥ 0", signed.V)
		}
	}
	holder := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: v.Type(), Tag: `toml:"v"`}}))
	if _, err := toml.Decode(doc, holder.Interface()); err != nil {
		return fmt.Errorf("cannot use %s here: the key expects %s", val, valueKind(v.Type()))
	}
	v.Set(holder.Elem().Field(0))
	return nil
}
