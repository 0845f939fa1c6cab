package env_test

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
)

// loadDaily reads ../shared/data/real/daily/<asset>.csv files (timestamp,
// open, high, low, close, volume; see PROVENANCE.md) and aligns them on
// their common timestamps. A minimal reader, so that this test does not
// depend on env/market's loaders.
func loadDaily(t *testing.T, dir string, assets []string) *market.Panel {
	t.Helper()
	type bar [5]float64
	series := make([]map[int64]bar, len(assets))
	var common map[int64]bool
	for a, name := range assets {
		f, err := os.Open(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Skipf("real data not available: %v", err)
		}
		series[a] = map[int64]bar{}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ",")
			ts, err := time.Parse(time.RFC3339, fields[0])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var b bar
			for k := range b {
				if b[k], err = strconv.ParseFloat(fields[k+1], 64); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			series[a][ts.Unix()] = b
		}
		f.Close()
		if a == 0 {
			common = map[int64]bool{}
			for ts := range series[0] {
				common[ts] = true
			}
		} else {
			for ts := range common {
				if _, ok := series[a][ts]; !ok {
					delete(common, ts)
				}
			}
		}
	}
	var times []int64
	for ts := range common {
		times = append(times, ts)
	}
	slices.Sort(times)
	n := len(assets)
	spec := market.PanelSpec{Assets: assets, Interval: 24 * time.Hour, Times: times,
		Open: make([]float64, len(times)*n), High: make([]float64, len(times)*n), Low: make([]float64, len(times)*n),
		Close: make([]float64, len(times)*n), Volume: make([]float64, len(times)*n)}
	for k, ts := range times {
		for a := range assets {
			b := series[a][ts]
			i := k*n + a
			spec.Open[i], spec.High[i], spec.Low[i], spec.Close[i], spec.Volume[i] = b[0], b[1], b[2], b[3], b[4]
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealDaily runs the env on real Binance daily bars (BTC, ETH, BNB,
// XRP; ../shared/data/real, skipped when absent): the conformance checks
// with the look-ahead probe under the default costs, then a full backtest
// of a daily-rebalanced equal-weight portfolio whose value must equal the
// product of its per-step growth factors, and whose costs must be
// plausible (fees close to 10 bps of turnover, slippage positive and small
// for these liquid assets).
func TestRealDaily(t *testing.T) {
	dir := sharedDir(t, filepath.Join("data", "real", "daily"))
	p := loadDaily(t, dir, []string{"BTC", "ETH", "BNB", "XRP"})
	cfg := env.Defaults()
	cfg.EpisodeLen = 365
	from := func(q *market.Panel) (env.Env, error) { return env.New(q, envtest.Features(q), nil, cfg) }
	envtest.Check(t, func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from, Steps: 400})

	cfg.EpisodeLen = 0
	m := mustNew(t, p, envtest.Features(p), nil, cfg)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	first, _ := m.StartRange()
	info, _ := m.ResetAt(obs, first)
	action := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	logValue := math.Log(info.Value)
	var fees, slip, turnover float64
	steps := 0
	for !res.Truncated && !res.Terminated {
		if err := m.Step(res, action); err != nil {
			t.Fatal(err)
		}
		logValue += res.Reward
		fees += res.Info.Fees
		slip += res.Info.Slippage
		turnover += res.Info.Turnover * (res.Info.Value / (1 + res.Info.Return)) // notional ≈ turnover × pre-step value
		steps++
	}
	if d := math.Abs(logValue - math.Log(res.Info.Value)); d > 1e-9 {
		t.Errorf("Σ log growth %v, log final value %v", logValue, math.Log(res.Info.Value))
	}
	if r := fees / turnover; math.Abs(r-10e-4) > 1e-5 {
		t.Errorf("fees %.2f on notional %.0f: rate %.3g, want 10 bps", fees, turnover, r)
	}
	if slip <= 0 || slip > fees {
		t.Errorf("slippage %.2f (fees %.2f): the sqrt model on liquid majors should cost less than the fees", slip, fees)
	}
	t.Logf("%d daily bars %s to %s; equal-weight daily rebalance from %s: final value %.0f, fees %.0f, slippage %.0f, traded %.0f",
		p.T(), p.Time(0).Format("2006-01-02"), p.Time(p.T()-1).Format("2006-01-02"), p.Time(first).Format("2006-01-02"),
		res.Info.Value, fees, slip, turnover)
}
