package realdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that, when set and non-empty,
// replaces the real-data directory ../shared/data/real.
const EnvVar = "FOLIO_REALDATA"

// ModuleRoot returns the directory holding go.mod, found by walking up from
// the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("realdata: %w", err)
	}
	for start := dir; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("realdata: no go.mod in %s or above", start)
		}
		dir = parent
	}
}

// Root returns the real-data directory: $FOLIO_REALDATA when set, otherwise
// ../shared/data/real relative to the module root. It does not check that
// the directory exists.
func Root() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "..", "shared", "data", "real"), nil
}

// Dir returns the real-data directory joined with sub, e.g. Dir(t, "daily")
// or Dir(t, "daily", "BTC.csv"). It skips the test when that path does not
// exist and fails it when the path cannot be examined (e.g. permissions).
func Dir(tb testing.TB, sub ...string) string {
	tb.Helper()
	root, err := Root()
	if err != nil {
		tb.Skipf("real data not found: %v; it is provided beside the checkout in ../shared/data/real", err)
	}
	p := filepath.Join(append([]string{root}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			tb.Fatalf("real data: %v", err)
		}
		tb.Skipf("real data not found at %s%s; it is provided beside the checkout in ../shared/data/real", p, overridden())
	}
	return p
}

// Shared returns ../shared joined with sub, relative to the module root
// (e.g. Shared(t, "bench") for the bench-task data), skipping the test when
// that path does not exist. FOLIO_REALDATA does not affect it.
func Shared(tb testing.TB, sub ...string) string {
	tb.Helper()
	root, err := ModuleRoot()
	if err != nil {
		tb.Skipf("shared data not found: %v; they are provided beside the checkout in ../shared", err)
	}
	p := filepath.Join(append([]string{root, "..", "shared"}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			tb.Fatalf("shared data: %v", err)
		}
		tb.Skipf("shared data not found at %s; they are provided beside the checkout in ../shared", p)
	}
	return p
}

// overridden names the override in skip messages when it is in effect.
func overridden() string {
	if d := os.Getenv(EnvVar); d != "" {
		return fmt.Sprintf(" (%s=%s)", EnvVar, d)
	}
	return ""
}
