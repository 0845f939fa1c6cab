package env_test

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/realdata"
)

// realDaily builds a panel of the named assets from the shared real daily
// bars on their common dates. The bars come from internal/realdata's own
// reader, so that this test does not depend on env/market's loaders; the
// test skips when the data are absent.
func realDaily(t *testing.T, assets ...string) *market.Panel {
	t.Helper()
	p, err := market.NewPanel(market.PanelSpec(*realdata.Daily(t, assets, time.Time{}, time.Time{})))
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
	p := realDaily(t, "BTC", "ETH", "BNB", "XRP")
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
