package eval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// RenderPNG renders an HTML file to a PNG screenshot with headless
// Chromium (bin is the chromium executable). The page is rendered at
// 1280 px width and a height that fits a full report. It runs with a fresh
// profile and without background networking, so the rendering proves the
// report needs nothing from the network.
func RenderPNG(bin, htmlPath, pngPath string) error {
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "folio-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	tmp := pngPath + ".tmp.png"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+profile, "--window-size=1280,9000", "--screenshot="+tmp, "file://"+abs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("eval: chromium: %w: %s", err, lastLines(string(out), 5))
	}
	if _, err := os.Stat(tmp); err != nil {
		return fmt.Errorf("eval: chromium wrote no screenshot: %s", lastLines(string(out), 5))
	}
	return os.Rename(tmp, pngPath)
}

func lastLines(s string, n int) string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
