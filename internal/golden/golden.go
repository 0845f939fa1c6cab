// Package golden compares test output with golden files under testdata/ and
// rewrites them when the test binary runs with -update.
//
//	go test ./experiments -run TestHelp -update
//
// Golden files hold text with floats printed at fixed precision so they are
// stable across architectures; on a mismatch the test shows a line diff.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is registered on the test binary's flag set by importing this
// package from a test.
var update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing")

// Check compares got with testdata/<name>.golden, or rewrites that file when
// -update is set.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("golden: %s differs (run with -update to accept):\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff returns a compact line diff of want and got: lines only in want are
// prefixed "-", lines only in got "+", with at most 40 lines shown.
func Diff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// Longest common subsequence table; files are small.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for (i < len(a) || j < len(b)) && len(out) < 40 {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, "+"+b[j])
			j++
		default:
			out = append(out, "-"+a[i])
			i++
		}
	}
	return strings.Join(out, "\n")
}
