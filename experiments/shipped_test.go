package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestShippedExperimentsLoad checks that every shipped experiment file is
// valid, and that its resolved configuration loads again unchanged.
func TestShippedExperimentsLoad(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil || len(files) < 6 {
		t.Fatalf("shipped experiments: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			var sets []string
			c0, err := Load(f, nil)
			if err != nil {
				// Files experiments need a data path.
				sets = []string{"data.path=/nonexistent"}
				if c0, err = Load(f, sets); err != nil {
					t.Fatal(err)
				}
			}
			var b bytes.Buffer
			if err := c0.WriteTOML(&b); err != nil {
				t.Fatal(err)
			}
			c1, err := Parse("resolved.toml", b.Bytes(), nil)
			if err != nil {
				t.Fatalf("resolved configuration does not load: %v\n%s", err, b.String())
			}
			if c0.Hash() != c1.Hash() {
				t.Error("resolved configuration changes when loaded again")
			}
		})
	}
}

// tomlKeyLine is one key/value line of a TOML document, as found by
// scanKeyLines.
type tomlKeyLine struct {
	line      int      // 1-based line of the key
	path      []string // table path followed by the (possibly dotted) key
	commented bool     // a non-empty comment on the line, or a comment line directly above
}

// scanKeyLines finds every key/value line of a TOML document: a line that
// starts a statement (it is not inside a multi-line array, inline table or
// string) and is neither blank, a comment nor a table header ([a] or
// [[a]]). Keys inside array-of-tables entries count like any other; the
// continuation lines of a value spanning several lines do not (the value's
// first line carries the comment). A key line is commented when a
// non-empty comment follows the value on the same line, or when the line
// directly above is a comment line (a trailing comment of the previous key
// does not count). '#' inside strings is not a comment. An unterminated
// string, array or inline table is an error.
func scanKeyLines(src string) ([]tomlKeyLine, error) {
	var out []tomlKeyLine
	var table []string
	depth := 0    // open '[' and '{' of a value spanning lines
	inMulti := "" // open multi-line string delimiter
	prevComment := false
	for n, raw := range strings.Split(src, "\n") {
		ln := n + 1
		line := strings.TrimSpace(raw)
		if depth > 0 || inMulti != "" {
			var err error
			if depth, inMulti, _, _, err = scanTOMLLine(line, depth, inMulti); err != nil {
				return nil, fmt.Errorf("line %d: %w", ln, err)
			}
			prevComment = false
			continue
		}
		switch {
		case line == "":
			prevComment = false
			continue
		case line[0] == '#':
			prevComment = strings.TrimSpace(line[1:]) != ""
			continue
		case line[0] == '[':
			h, _, _ := strings.Cut(line, "]")
			table = splitTOMLKey(strings.TrimLeft(h, "["))
			prevComment = false
			continue
		}
		d, m, eq, comment, err := scanTOMLLine(line, 0, "")
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln, err)
		}
		if eq < 0 {
			return nil, fmt.Errorf("line %d: %q is neither a key = value line, a table header nor a comment", ln, line)
		}
		path := append(append([]string(nil), table...), splitTOMLKey(line[:eq])...)
		out = append(out, tomlKeyLine{line: ln, path: path, commented: comment || prevComment})
		depth, inMulti, prevComment = d, m, false
	}
	if depth > 0 || inMulti != "" {
		return nil, errors.New("unterminated array, inline table or multi-line string at the end of the document")
	}
	return out, nil
}

// scanTOMLLine scans one line given the open bracket depth and multi-line
// string delimiter carried over from the lines before it. It returns them
// as they stand at the end of the line, the byte offset of the first '='
// outside strings at depth 0 (−1 if none), and whether a non-empty comment
// ends the line.
func scanTOMLLine(line string, depth int, inMulti string) (int, string, int, bool, error) {
	eq := -1
	for i := 0; i < len(line); {
		if inMulti != "" {
			if inMulti == `"""` && line[i] == '\\' {
				i += 2
				continue
			}
			if strings.HasPrefix(line[i:], inMulti) {
				i += 3
				// Up to two quotes may directly precede the closing delimiter.
				for k := 0; k < 2 && i < len(line) && line[i] == inMulti[0]; k++ {
					i++
				}
				inMulti = ""
				continue
			}
			i++
			continue
		}
		c := line[i]
		switch {
		case c == '#':
			return depth, inMulti, eq, strings.TrimSpace(line[i+1:]) != "", nil
		case strings.HasPrefix(line[i:], `"""`), strings.HasPrefix(line[i:], `'''`):
			inMulti = line[i : i+3]
			i += 3
			continue
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return 0, "", 0, false, errors.New("unterminated string")
			}
			i = j + 1
			continue
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return 0, "", 0, false, errors.New("unterminated literal string")
			}
			i += j + 2
			continue
		case c == '=' && depth == 0 && eq < 0:
			eq = i
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		}
		i++
	}
	return depth, inMulti, eq, false, nil
}

// splitTOMLKey splits a dotted key (bare or quoted parts) into its parts.
func splitTOMLKey(s string) []string {
	var parts []string
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(b.String()))
			b.Reset()
		case c != ' ' && c != '\t':
			b.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(b.String()))
}

// crossCheckKeyLines compares the key lines scanKeyLines found with the
// keys the TOML parser defines, so that a scanner mistake (a key line
// taken for the continuation of a value, or the reverse) cannot hide an
// uncommented key: every scanned key must be a key of the document, and
// every key of the document must be a scanned key, lie inside one (inline
// tables, dotted keys) or be a table.
func crossCheckKeyLines(src string, lines []tomlKeyLine) error {
	var v map[string]any
	md, err := toml.Decode(src, &v)
	if err != nil {
		return err
	}
	defined := map[string]bool{}
	for _, k := range md.Keys() {
		defined[strings.Join(k, "\x00")] = true
	}
	scanned := make([]string, len(lines))
	for i, l := range lines {
		scanned[i] = strings.Join(l.path, "\x00")
		if !defined[scanned[i]] {
			return fmt.Errorf("line %d: scanned key %s is not a key of the document", l.line, strings.Join(l.path, "."))
		}
	}
	for _, k := range md.Keys() {
		if t := md.Type(k...); t == "Hash" || t == "ArrayHash" {
			continue // a table: its keys are checked themselves
		}
		key := strings.Join(k, "\x00")
		ok := false
		for _, s := range scanned {
			if key == s || strings.HasPrefix(key, s+"\x00") {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("key %s is defined in the document but not on a scanned key line", k)
		}
	}
	return nil
}

// TestShippedExperimentsCommented checks that every key line of every
// shipped experiment file carries a comment on its line or on the line
// directly above, and lists each offender as file:line.
func TestShippedExperimentsCommented(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil || len(files) < 6 {
		t.Fatalf("shipped experiments: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := scanKeyLines(string(b))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := crossCheckKeyLines(string(b), lines); err != nil {
			t.Errorf("%s: key-line scanner disagrees with the TOML parser: %v", f, err)
		}
		if len(lines) == 0 {
			t.Errorf("%s: no key lines found", f)
		}
		for _, l := range lines {
			if !l.commented {
				t.Errorf("%s:%d: key %s has no comment (add `# what it does here and why this value` on the line or directly above)",
					f, l.line, strings.Join(l.path, "."))
			}
		}
	}
}

// TestShippedCommentScanner checks scanKeyLines on a document whose
// uncommented key lines are known by construction (marked in the comments
// of the Go source below, not in the document), and that the parser
// cross-check accepts it.
func TestShippedCommentScanner(t *testing.T) {
	doc := `# header
[a]
x = 1                # commented
y = "has # inside"
# explained above
z = 3
w = [                # a multi-line array, commented on its first line
  1, 2,
  3,                 # a comment on a continuation line does not count for v
]
v = [
  "b#c",             # ... nor this one for v
]
u = 'lit#eral'       #
s = """
t = 1 # inside a multi-line string
"""
"q.k" = 5            # quoted key with a dot

[[costs.asset]]
name = "BTC"         # entry 1
buy_bps = 5
[[costs.asset]]
# entry 2
name = "ETH"
p.q = {r = 1}
`
	// Uncommented, by construction: y (4: '#' in a string), v (11:
	// comment only on a continuation line), u (14: empty comment), s (15:
	// '#' inside the multi-line string), buy_bps (22: the previous key's
	// trailing comment is not a comment line), p.q (26: after a commented key).
	want := []int{4, 11, 14, 15, 22, 26}
	lines, err := scanKeyLines(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, l := range lines {
		if !l.commented {
			got = append(got, l.line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("uncommented key lines %v, want %v", got, want)
	}
	if len(lines) != 12 {
		t.Errorf("found %d key lines, want 12", len(lines))
	}
	if err := crossCheckKeyLines(doc, lines); err != nil {
		t.Errorf("cross-check: %v", err)
	}
	// A scanner that skipped a key line must be caught by the cross-check.
	if err := crossCheckKeyLines(doc, lines[1:]); err == nil {
		t.Error("cross-check accepted a missing key line")
	}
	for _, bad := range []string{"a = [1,\n", "a = \"x\n", "a = '''x\n", "just words\n"} {
		if _, err := scanKeyLines(bad); err == nil {
			t.Errorf("scanKeyLines(%q): no error", bad)
		}
	}
}
