package regime

import (
	"slices"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
)

// realPanel loads the named daily assets from ../shared/data/real/daily
// (relative to the module root) with market.Load on their common calendar
// from start to end (inclusive open times), or skips the test when the data
// are absent.
func realPanel(t *testing.T, names []string, start, end time.Time) *market.Panel {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = realdata.Dir(t, "daily", n+".csv")
	}
	opt := market.Defaults()
	opt.Start, opt.End = start, end
	p, _, err := market.Load(paths, opt)
	if err != nil {
		t.Fatalf("loading real data: %v", err)
	}
	return p
}

// TestRealRegimes fits both labellers on the real daily panel of the ten
// assets listed since mid-2018 (2018-06-13..2021-12-31, equal-weight index)
// and checks their causal labels against well-known episodes of the crypto
// market: each labeller calls a crash during the March 2020 COVID sell-off,
// the May 2022 Terra/LUNA collapse and the November 2022 FTX collapse
// (the last two are out of sample), and bull for most of January to mid-March
// 2021.
func TestRealRegimes(t *testing.T) {
	names := []string{"ADA", "BNB", "BTC", "EOS", "ETC", "ETH", "LTC", "TRX", "XLM", "XRP"}
	// From the day after the last listing day (ETC, 2018-06-12) to the last
	// bar before the held-back period.
	p := realPanel(t, names, time.Date(2018, 6, 13, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC))
	fit := p.Index(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC))
	rules, err := FitRules(p, 0, fit, DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	h, err := FitHMM(p, 0, fit, DefaultHMM(), seed.New(1, seed.Test, 0))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) int {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return p.Index(d)
	}
	for _, lab := range []struct {
		name string
		l    Labeller
	}{{"rules", rules}, {"hmm", h}} {
		labels := lab.l.LabelTo(nil, p)
		var count [market.NumRegimes + 1]int
		for _, r := range labels {
			count[r]++
		}
		t.Logf("%s on %d real days: bull %d, bear %d, sideways %d, crash %d, unlabelled %d",
			lab.name, p.T(), count[market.Bull], count[market.Bear], count[market.Sideways], count[market.Crash], count[market.Unlabelled])
		for _, ep := range []struct{ name, from, to string }{
			{"COVID sell-off", "2020-03-12", "2020-03-31"},
			{"Terra/LUNA collapse", "2022-05-09", "2022-05-31"},
			{"FTX collapse", "2022-11-08", "2022-11-30"},
		} {
			if !slices.Contains(labels[day(ep.from):day(ep.to)+1], market.Crash) {
				t.Errorf("%s: no crash label during the %s (%s..%s)", lab.name, ep.name, ep.from, ep.to)
			}
		}
		var bull int
		from, to := day("2021-01-01"), day("2021-03-15")
		for _, r := range labels[from : to+1] {
			if r == market.Bull {
				bull++
			}
		}
		if frac := float64(bull) / float64(to-from+1); frac < 0.8 {
			t.Errorf("%s: only %.0f %% of 2021-01-01..2021-03-15 labelled bull", lab.name, 100*frac)
		}
	}
}
