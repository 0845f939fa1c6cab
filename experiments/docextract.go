package experiments

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// docSources lists the package directories (relative to the module root)
// whose struct field comments document the configuration. The reference
// printed by `folio config --doc` is built from these comments, so the
// comments in the code are the single source of truth.
var docSources = []struct{ dir, importPath string }{
	{"experiments", "github.com/folio-rl/folio/experiments"},
	{"env", "github.com/folio-rl/folio/env"},
	{"env/guard", "github.com/folio-rl/folio/env/guard"},
	{"env/market/synth", "github.com/folio-rl/folio/env/market/synth"},
	{"env/market/features", "github.com/folio-rl/folio/env/market/features"},
	{"agents/baseline", "github.com/folio-rl/folio/agents/baseline"},
	{"agents/ppo", "github.com/folio-rl/folio/agents/ppo"},
	{"agents/ddpg", "github.com/folio-rl/folio/agents/ddpg"},
	{"nets", "github.com/folio-rl/folio/nets"},
	{"train", "github.com/folio-rl/folio/train"},
}

// fieldDocs maps "importpath.Type.Field" to the field's doc comment.
type fieldDocs map[string]string

// extractFieldDocs parses the Go sources under root for docSources and
// returns the doc comments of every exported struct field.
func extractFieldDocs(root string) (fieldDocs, error) {
	out := fieldDocs{}
	for _, src := range docSources {
		dir := filepath.Join(root, filepath.FromSlash(src.dir))
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("experiments: parsing %s: %w", dir, err)
		}
		for _, pkg := range pkgs {
			for _, f := range pkg.Files {
				ast.Inspect(f, func(n ast.Node) bool {
					ts, ok := n.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						return true
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						return true
					}
					prevText, prevLine := "", -10
					for _, fld := range st.Fields.List {
						text := ""
						if fld.Doc != nil {
							text = fld.Doc.Text()
						} else if fld.Comment != nil {
							text = fld.Comment.Text()
						}
						text = strings.Join(strings.Fields(text), " ")
						// A field declared on the line right after a
						// documented one shares its comment ("ActorLR,
						// CriticLR" written as two lines under one comment).
						line := fset.Position(fld.Pos()).Line
						if text == "" && line == prevLine+1 {
							text = prevText
						}
						prevText, prevLine = text, fset.Position(fld.End()).Line
						for _, name := range fld.Names {
							if name.IsExported() && text != "" {
								out[src.importPath+"."+ts.Name.Name+"."+name.Name] = text
							}
						}
					}
					return true
				})
			}
		}
	}
	return out, nil
}

// marshalFieldDocs encodes docs deterministically.
func marshalFieldDocs(d fieldDocs) ([]byte, error) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(d[k])
		fmt.Fprintf(&b, "  %s: %s", kb, vb)
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return []byte(b.String()), nil
}
