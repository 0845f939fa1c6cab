package experiments

import (
	"errors"
	"fmt"
	"iter"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// ConfigError is a problem with an experiment file or a --set override. It
// names where the problem is (file and line when known, and the key path),
// what is wrong, and how to fix it.
type ConfigError struct {
	File string // file name, or "--set" for overrides
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key path, "" when the problem is not about one key
	Msg  string // what is wrong
	Fix  string // how to fix it, "" when obvious
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": key %s", e.Key)
	}
	if strings.HasPrefix(e.Msg, "= ") {
		b.WriteString(" ") // "key env.window = 0: must be ≥ 1"
	} else {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// ErrUnknownKey marks a ConfigError about a key the schema does not have.
var ErrUnknownKey = errors.New("experiments: unknown key")

// ConfigErrors is a list of problems found in one pass.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// keyLines maps every key path defined in a TOML document to the line where
// it is defined. It understands table headers ([a.b], [[a.b]]), bare,
// quoted and dotted keys, and skips the bodies of multi-line arrays,
// inline tables and strings. It is used only to point error messages at a
// line; a key it cannot place gets line 0.
func keyLines(src string) map[string]int {
	out := map[string]int{}
	table := ""
	depth := 0    // open brackets/braces of a value spanning lines
	inMulti := "" // open multi-line string delimiter
	for n, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if inMulti != "" {
			if strings.Count(line, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(line)
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			h := strings.TrimSpace(stripComment(line))
			h = strings.TrimPrefix(strings.TrimPrefix(h, "["), "[")
			h = strings.TrimSuffix(strings.TrimSuffix(h, "]"), "]")
			table = joinKey(splitKey(h))
			if _, ok := out[table]; !ok {
				out[table] = n + 1
			}
			continue
		}
		eq := indexUnquoted(line, '=')
		if eq < 0 {
			continue
		}
		key := joinKey(splitKey(line[:eq]))
		full := key
		if table != "" {
			full = table + "." + key
		}
		if _, ok := out[full]; !ok {
			out[full] = n + 1
		}
		val := strings.TrimSpace(stripComment(line[eq+1:]))
		for _, d := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, d) && strings.Count(val, d)%2 == 1 {
				inMulti = d
			}
		}
		depth = bracketDelta(val)
		if depth < 0 {
			depth = 0
		}
	}
	return out
}

// bracketDelta returns the number of '[' and '{' minus the number of ']'
// and '}' in s outside strings, up to a comment.
func bracketDelta(s string) int {
	d := 0
	for _, c := range unquoted(s) {
		switch c {
		case '#':
			return d
		case '[', '{':
			d++
		case ']', '}':
			d--
		}
	}
	return d
}

func stripComment(s string) string {
	if i := indexUnquoted(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// indexUnquoted returns the index of the first ch in s outside strings, or
// -1.
func indexUnquoted(s string, ch byte) int {
	for i, c := range unquoted(s) {
		if c == ch {
			return i
		}
	}
	return -1
}

// unquoted yields the bytes of a TOML line that lie outside basic ("…",
// with backslash escapes) and literal ('…') strings, with their indices;
// the quotes themselves are not yielded.
func unquoted(s string) iter.Seq2[int, byte] {
	return func(yield func(int, byte) bool) {
		inStr := byte(0)
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case inStr != 0:
				if c == '\\' && inStr == '"' {
					i++
				} else if c == inStr {
					inStr = 0
				}
			case c == '"' || c == '\'':
				inStr = c
			default:
				if !yield(i, c) {
					return
				}
			}
		}
	}
}

func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	inStr := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr != 0:
			if c == inStr {
				inStr = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			inStr = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return parts
}

func joinKey(parts []string) string { return toml.Key(parts).String() }

// schemaKeys lists the TOML keys a struct type accepts at the top level.
func schemaKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			if f.Anonymous {
				keys = append(keys, schemaKeys(f.Type)...)
				continue
			}
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}

// levenshtein returns the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// suggest returns the closest candidate to key, if it is close enough to be
// a likely misspelling.
func suggest(key string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(key), strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := max(2, len(key)/3)
	if bestD <= limit {
		return best
	}
	return ""
}

// unknownKeyError builds the error for an undecoded key. valid lists the keys
// accepted in the key's table.
func unknownKeyError(file string, line int, key toml.Key, valid []string) *ConfigError {
	last := key[len(key)-1]
	e := &ConfigError{File: file, Line: line, Key: key.String(), Msg: "unknown key"}
	if s := suggest(last, valid); s != "" {
		e.Fix = fmt.Sprintf("did you mean %q?", s)
	} else if len(valid) > 0 {
		sorted := append([]string(nil), valid...)
		sort.Strings(sorted)
		e.Fix = "valid keys here: " + strings.Join(sorted, ", ")
	}
	return e
}

var tomlLineRE = regexp.MustCompile(`^toml: line (\d+)(?: \(last key "([^"]*)"\))?: (.*)$`)

// translateDecodeError turns a BurntSushi/toml error into a ConfigError.
func translateDecodeError(file string, err error) *ConfigError {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		fix := ""
		if pe.Usage != "" {
			fix = strings.TrimSpace(strings.SplitN(pe.Usage, "\n", 2)[0])
		}
		return &ConfigError{File: file, Line: pe.Position.Line, Msg: "TOML syntax: " + msg, Fix: fix}
	}
	msg := err.Error()
	if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{File: file, Line: line, Key: m[2], Msg: friendlyTypeMsg(m[3]), Fix: "check the value's type in `folio config --doc`"}
	}
	return &ConfigError{File: file, Msg: strings.TrimPrefix(msg, "toml: ")}
}

var incompatRE = regexp.MustCompile(`incompatible types: TOML value has type (\S+); destination has type (.+)`)

func friendlyTypeMsg(m string) string {
	if s := incompatRE.FindStringSubmatch(m); s != nil {
		return fmt.Sprintf("wrong type: the file gives %s, the key expects %s", tomlTypeName(s[1]), goTypeName(s[2]))
	}
	return m
}

func tomlTypeName(s string) string {
	switch s {
	case "int64", "integer":
		return "an integer"
	case "float64", "float":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "[]interface", "[]interface {}", "array", "[]any":
		return "an array"
	case "map[string]interface", "map[string]interface {}", "map[string]any", "table":
		return "a table"
	}
	return s
}

func goTypeName(s string) string {
	switch {
	case strings.HasPrefix(s, "int"), strings.HasPrefix(s, "uint"):
		return "an integer"
	case strings.HasPrefix(s, "float"):
		return "a number"
	case s == "string" || strings.Contains(s, "primitive (string-like)"):
		return "a string"
	case s == "bool":
		return "true or false"
	case strings.HasPrefix(s, "slice"), strings.HasPrefix(s, "[]"):
		return "an array"
	case strings.HasPrefix(s, "struct"), strings.HasPrefix(s, "map"):
		return "a table"
	}
	return s
}
