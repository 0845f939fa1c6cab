package experiments

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDataPathOverride: --set data.path is relative to the working
// directory and switches the source to files; paths in the file are
// relative to the file.
func TestDataPathOverride(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("real_daily.toml", []string{"data.path=some/dir"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "some/dir"); len(c.Data.Paths) != 1 || c.Data.Paths[0] != want || c.Data.Source != "files" {
		t.Errorf("data.path override gave %v (source %s), want [%s]", c.Data.Paths, c.Data.Source, want)
	}
	if got := c.resolvePath(c.Data.Paths[0]); got != filepath.Join(wd, "some/dir") {
		t.Errorf("an absolute override path resolved to %s", got)
	}
	c2, err := Parse(filepath.Join("sub", "x.toml"), []byte("[experiment]\nseed = 1\n[data]\nsource = \"files\"\npaths = [\"daily\"]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.resolvePath(c2.Data.Paths[0]); got != filepath.Join("sub", "daily") {
		t.Errorf("a path in the file resolved to %s, want sub/daily", got)
	}
}
