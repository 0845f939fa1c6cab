package experiments

import (
	"bytes"
	"path/filepath"
	"testing"
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
