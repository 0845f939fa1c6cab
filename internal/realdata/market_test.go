package realdata_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
)

// TestDailyMatchesMarketLoad reads four assets over 2021–2024 with Daily and
// with env/market's loader (an independent parser and aligner) and requires
// the same calendar and bitwise-identical fields: both parse the same
// decimal strings with strconv.ParseFloat, so == is the point. Skipped when
// the real data are absent.
func TestDailyMatchesMarketLoad(t *testing.T) {
	assets := []string{"BTC", "ETH", "XRP", "LTC"}
	from := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC) // exclusive in Daily
	tab := realdata.Daily(t, assets, from, to)
	conv, err := market.NewPanel(market.PanelSpec(*tab))
	if err != nil {
		t.Fatal(err)
	}

	opt := market.Defaults()
	opt.Assets, opt.Start, opt.End = assets, from, to.Add(-24*time.Hour) // inclusive in Load
	p, _, err := market.Load([]string{realdata.Dir(t, "daily")}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if tab.T() != p.T() || tab.N() != p.N() {
		t.Fatalf("Daily has %d×%d bars, market.Load %d×%d", tab.T(), tab.N(), p.T(), p.N())
	}
	n := tab.N()
	for k := range tab.T() {
		if tab.Times[k] != p.Unix(k) {
			t.Fatalf("bar %d: open time %d, market.Load %d", k, tab.Times[k], p.Unix(k))
		}
		for i := range n {
			j := k*n + i
			if tab.Open[j] != p.Open(k, i) || tab.High[j] != p.High(k, i) || tab.Low[j] != p.Low(k, i) ||
				tab.Close[j] != p.Close(k, i) || tab.Volume[j] != p.Volume(k, i) {
				t.Fatalf("bar %d asset %s differs from market.Load", k, assets[i])
			}
		}
	}
	if conv.Fingerprint() != p.Fingerprint() || conv.Interval() != p.Interval() {
		t.Errorf("the converted Table's panel (%v, %s) differs from market.Load's (%v, %s)", conv.Interval(), conv.Fingerprint(), p.Interval(), p.Fingerprint())
	}
	if tab.T() != 1460 { // 2021-01-01 … 2024-12-30: 365+365+365+366−1 days, no gaps
		t.Errorf("%d bars, want 1460", tab.T())
	}
}

// TestClosesBTC checks the BTC daily file against values read off it: the
// first bar (2017-08-17, close 4285.08) and 2,694 bars to 2024-12-31.
func TestClosesBTC(t *testing.T) {
	b := realdata.Read(t, "daily/BTC.csv")
	if b.Len() != 2694 || b.Close[0] != 4285.08 || b.Times[0] != time.Date(2017, 8, 17, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("%d bars, first %d close %v", b.Len(), b.Times[0], b.Close[0])
	}
	if last := b.Times[b.Len()-1]; last != realdata.HeldBack-86400 {
		t.Errorf("last bar %v, want 2024-12-31", time.Unix(last, 0).UTC())
	}
	if c := realdata.Closes(t, filepath.ToSlash(filepath.Join("daily", "BTC.csv"))); len(c) != b.Len() {
		t.Errorf("Closes has %d values, Read %d", len(c), b.Len())
	}
}

// BenchmarkDaily reads and aligns ten daily files (about 24,000 bars), the
// largest read a test makes here.
func BenchmarkDaily(b *testing.B) {
	assets := []string{"ADA", "BNB", "BTC", "EOS", "ETC", "ETH", "LTC", "TRX", "XLM", "XRP"}
	realdata.Dir(b, "daily")
	b.ReportAllocs()
	for b.Loop() {
		if tab := realdata.Daily(b, assets, time.Time{}, time.Time{}); tab.T() == 0 {
			b.Fatal("no common bars")
		}
	}
}
