package market

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"
	"time"
)

// fingerprintReference is the straightforward encoding documented on
// Panel.Fingerprint, one hash write per value.
func fingerprintReference(p *Panel) string {
	h := sha256.New()
	put := func(u uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], u)
		h.Write(b[:])
	}
	h.Write([]byte("folio-panel-v1\x00"))
	put(uint64(p.Interval()))
	put(uint64(p.N()))
	for _, a := range p.Assets() {
		put(uint64(len(a)))
		h.Write([]byte(a))
	}
	put(uint64(p.T()))
	for t := 0; t < p.T(); t++ {
		put(uint64(p.Unix(t)))
		for i := 0; i < p.N(); i++ {
			for _, x := range []float64{p.Open(t, i), p.High(t, i), p.Low(t, i), p.Close(t, i), p.Volume(t, i)} {
				put(math.Float64bits(x))
			}
			f := uint64(0)
			if p.Filled(t, i) {
				f = 1
			}
			put(f)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestFingerprintEncoding(t *testing.T) {
	a := flatSeries("A", "a.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 3000)...)
	b := flatSeries("BB", "b.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 3000, 7, 8, 1500)...)
	filled, _, err := Align([]*Series{a, b}, AlignOptions{Fill: FillForward, MaxFillGap: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Panel{randomPanel(t, 1, 1, time.Hour), randomPanel(t, 700, 5, 4*time.Hour), filled} {
		if got, want := p.Fingerprint(), fingerprintReference(p); got != want {
			t.Errorf("%d×%d panel: fingerprint %s, reference %s", p.T(), p.N(), got, want)
		}
	}
	// Any change of content changes the fingerprint.
	spec := func(v float64) PanelSpec {
		return PanelSpec{Assets: []string{"X"}, Times: []int64{0}, Interval: time.Hour,
			Open: []float64{1}, High: []float64{2}, Low: []float64{1}, Close: []float64{1}, Volume: []float64{v}}
	}
	p1, _ := NewPanel(spec(1))
	p2, _ := NewPanel(spec(math.Nextafter(1, 2)))
	if p1.Fingerprint() == p2.Fingerprint() {
		t.Error("a one-ulp change of volume kept the fingerprint")
	}
}
