package market

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/seed"
)

// randomPanel builds a T×N panel of random walks with awkward numbers:
// prices spanning 1e-8..1e6, volumes with 17 significant digits, exact
// zeros and the smallest subnormal.
func randomPanel(t testing.TB, tBars, n int, interval time.Duration) *Panel {
	t.Helper()
	rng := seed.New(7, seed.Test, uint64(tBars*1000+n))
	spec := PanelSpec{Interval: interval, Times: make([]int64, tBars)}
	for i := range n {
		spec.Assets = append(spec.Assets, "A"+string(rune('A'+i)))
	}
	start := ts("2021-01-01T00:00:00Z")
	for k := range spec.Times {
		spec.Times[k] = start + int64(k)*int64(interval/time.Second)
	}
	level := make([]float64, n)
	for i := range level {
		level[i] = math.Pow(10, -8+14*rng.Float64())
	}
	for k := 0; k < tBars; k++ {
		for i := range n {
			o := level[i]
			c := o * math.Exp(0.03*rng.NormFloat64())
			level[i] = c
			h := math.Max(o, c) * (1 + 0.02*rng.Float64())
			l := math.Min(o, c) * (1 - 0.02*rng.Float64())
			v := rng.ExpFloat64() * 1e6
			switch rng.IntN(50) {
			case 0:
				v = 0
			case 1:
				v = math.SmallestNonzeroFloat64
			}
			spec.Open, spec.High, spec.Low = append(spec.Open, o), append(spec.High, h), append(spec.Low, l)
			spec.Close, spec.Volume = append(spec.Close, c), append(spec.Volume, v)
		}
	}
	p, err := NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteCSVRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		bars, n  int
		interval time.Duration
	}{{500, 3, time.Hour}, {1, 2, 24 * time.Hour}, {50, 1, 15 * time.Minute}} {
		p := randomPanel(t, tc.bars, tc.n, tc.interval)
		dir := filepath.Join(t.TempDir(), "out", "nested")
		if err := WriteCSV(dir, p); err != nil {
			t.Fatal(err)
		}
		// Reverse the natural order to show the order comes from Assets.
		var assets []string
		for i := p.N() - 1; i >= 0; i-- {
			assets = append(assets, p.Asset(i))
		}
		back, _, err := Load([]string{dir}, LoadOptions{Assets: assets, Interval: tc.interval})
		if err != nil {
			t.Fatal(err)
		}
		back, err = back.Select(p.Assets())
		if err != nil {
			t.Fatal(err)
		}
		if back.Fingerprint() != p.Fingerprint() {
			t.Errorf("%d×%d: fingerprint changed by the round trip", tc.bars, tc.n)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != p.N() {
			t.Errorf("%d files for %d assets (temporary files left?)", len(entries), p.N())
		}
	}
}

func TestWriteCSVFormat(t *testing.T) {
	p, err := NewPanel(PanelSpec{Assets: []string{"SHIB"}, Times: []int64{ts("2021-05-10T00:00:00Z")}, Interval: 24 * time.Hour,
		Open: []float64{1.412e-05}, High: []float64{5e-05}, Low: []float64{1.412e-05}, Close: []float64{3.466e-05}, Volume: []float64{95302311917668}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "SHIB.csv", "old content")
	if err := WriteCSV(dir, p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "SHIB.csv"))
	want := "timestamp,open,high,low,close,volume\n2021-05-10T00:00:00Z,1.412e-05,5e-05,1.412e-05,3.466e-05,9.5302311917668e+13\n"
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteCSVRefuses(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 5)...)
	b := flatSeries("B", "b.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 5, 2)...)
	filled, _, err := Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteCSV(dir, filled); err == nil || !strings.Contains(err.Error(), "forward-filled") {
		t.Errorf("filled panel: %v", err)
	}
	for _, name := range []string{"../evil", "a/b", ".hidden", ".."} {
		p, err := NewPanel(PanelSpec{Assets: []string{name}, Times: []int64{0}, Interval: time.Hour,
			Open: []float64{1}, High: []float64{1}, Low: []float64{1}, Close: []float64{1}, Volume: []float64{1}})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteCSV(dir, p); err == nil {
			t.Errorf("asset name %q accepted", name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused writes left files: %v", entries)
	}
}
