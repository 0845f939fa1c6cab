package eval

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// Closes of the crafted panel: two assets over 9 daily bars, hand-picked so
// that every bar moves the assets differently (every rebalance trades).
var (
	btCloseA = []float64{100, 104, 101, 103, 108, 106, 110, 107, 111}
	btCloseB = []float64{50, 49, 52, 55, 53, 54, 51, 52, 56}
)

// btPanel builds the crafted panel (opens at the previous close, a 1 %
// range around open and close, 10⁶ units of volume), a one-feature set
// (the log close, finite at every bar, so the first decision is at bar 0
// with a window of 1) and one regime label per bar.
func btPanel(t *testing.T) (*market.Panel, *features.Set, []market.Regime) {
	t.Helper()
	T, N := len(btCloseA), 2
	spec := market.PanelSpec{Assets: []string{"AAA", "BBB"}, Interval: 24 * time.Hour, Times: make([]int64, T),
		Open: make([]float64, T*N), High: make([]float64, T*N), Low: make([]float64, T*N), Close: make([]float64, T*N), Volume: make([]float64, T*N)}
	const epoch = 1704067200 // 2024-01-01T00:00:00Z
	for tt := range T {
		spec.Times[tt] = epoch + int64(tt)*86400
		for i, c := range [][]float64{btCloseA, btCloseB} {
			k := tt*N + i
			o := c[max(tt-1, 0)]
			spec.Open[k], spec.Close[k] = o, c[tt]
			spec.High[k], spec.Low[k] = 1.01*max(o, c[tt]), 0.99*min(o, c[tt])
			spec.Volume[k] = 1e6
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	fs := features.NewSet(T, N, []string{"log_close"}, nil)
	for i := range N {
		s := fs.Series(i, 0)
		for tt := range T {
			s[tt] = math.Log(p.Close(tt, i))
		}
	}
	regimes := make([]market.Regime, T)
	for tt := range regimes {
		regimes[tt] = market.Regimes()[tt%4]
	}
	return p, fs, regimes
}

// btEnv is a backtest env over the whole crafted panel: first bar, to the
// end, all cash at 1000 to start, with the given fee and half spread in bps.
func btEnv(t *testing.T, feeBps, spreadBps float64) (*env.Market, *market.Panel, []market.Regime) {
	t.Helper()
	p, fs, regimes := btPanel(t)
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen, cfg.EpisodeStart = 1, 0, env.StartFirst
	cfg.InitialCapital = 1000
	cfg.Costs.TakerBps, cfg.Costs.MakerBps = feeBps, feeBps
	cfg.Costs.Slippage, cfg.Costs.HalfSpreadBps, cfg.Costs.LiquidityCap = env.SlipNone, 0, 0
	if spreadBps > 0 {
		cfg.Costs.Slippage, cfg.Costs.HalfSpreadBps = env.SlipSpread, spreadBps
	}
	m, err := env.New(p, fs, regimes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, p, regimes
}

// schedulePolicy asks for weights[k mod len] at its k-th decision since
// Reset.
type schedulePolicy struct {
	weights [][]float64
	k       int
}

func (p *schedulePolicy) Name() string { return "schedule" }
func (p *schedulePolicy) Reset()       { p.k = 0 }

func (p *schedulePolicy) Act(dst []float64, _ *agents.Observation, _ *rand.Rand, _ agents.Mode) error {
	copy(dst, p.weights[p.k%len(p.weights)])
	p.k++
	return nil
}

var btFixed = []float64{0.2, 0.5, 0.3}

// relClose is the tolerance of value paths recomputed by hand: a product or
// running sum of 8 terms in float64, a few ulps each, well inside 1e-12
// relative.
const relClose = 1e-12

func TestBacktestFixedWeightsZeroCost(t *testing.T) {
	m, p, regimes := btEnv(t, 0, 0)
	fv := func(bar int) float64 { return 0.01 * float64(bar) }
	path, err := Backtest(context.Background(), m, &schedulePolicy{weights: [][]float64{btFixed}}, BacktestOptions{ForecastVol: fv, Fold: 3})
	if err != nil {
		t.Fatal(err)
	}
	T := len(btCloseA)
	if path.Len() != T-1 {
		t.Fatalf("%d steps over %d bars, want %d (decisions at bars 0..%d)", path.Len(), T, T-1, T-2)
	}
	checkPathShape(t, path, p, 2)
	// Hand computation: with zero costs every step rebalances to btFixed
	// exactly, so V_k = 1000 · ∏_{j≤k} (w₀ + w_A·y_A + w_B·y_B) with
	// y = close_{t+1}/close_t of decision bar t.
	v := 1000.0
	for k := range path.Len() {
		tt := k
		yA, yB := btCloseA[tt+1]/btCloseA[tt], btCloseB[tt+1]/btCloseB[tt]
		g := btFixed[0] + btFixed[1]*yA + btFixed[2]*yB
		v *= g
		if !sameFloat(path.Value[k], v, relClose) {
			t.Errorf("step %d: value %.15g, hand-computed %.15g", k, path.Value[k], v)
		}
		if !sameFloat(path.Return[k], g-1, relClose) {
			t.Errorf("step %d: return %.15g, hand-computed %.15g", k, path.Return[k], g-1)
		}
		for i, w := range path.Executed[k] {
			if !sameFloat(w, btFixed[i], relClose) {
				t.Errorf("step %d: executed %v, want %v", k, path.Executed[k], btFixed)
				break
			}
		}
		if path.Fees[k] != 0 || path.Slippage[k] != 0 || path.Guard[k] != 0 {
			t.Errorf("step %d: fees %v slippage %v guard %b at zero cost without a guard", k, path.Fees[k], path.Slippage[k], path.Guard[k])
		}
		if path.Decision[k] != tt || path.Regime[k] != regimes[tt] || path.ForecastVol[k] != fv(tt) || path.Fold[k] != 3 {
			t.Errorf("step %d: decision %d regime %v forecast %v fold %d, want %d %v %v 3",
				k, path.Decision[k], path.Regime[k], path.ForecastVol[k], path.Fold[k], tt, regimes[tt], fv(tt))
		}
	}
	// The first step buys in from cash: turnover Σ|risky trades| = 0.8.
	if !sameFloat(path.Turnover[0], 0.8, relClose) {
		t.Errorf("first turnover %v, want 0.8", path.Turnover[0])
	}
}

// checkPathShape checks what every Path must satisfy: all per-bar records
// of one length, rows of N+1 weights, bars one after their decision, times
// of those bars, and returns that compound to the final value.
func checkPathShape(t *testing.T, path *Path, p *market.Panel, n int) {
	t.Helper()
	L := path.Len()
	for name, l := range map[string]int{"decision": len(path.Decision), "bar": len(path.Bar), "time": len(path.Time), "value": len(path.Value),
		"target": len(path.Target), "executed": len(path.Executed), "turnover": len(path.Turnover), "fees": len(path.Fees),
		"slippage": len(path.Slippage), "guard": len(path.Guard), "breaker": len(path.Breaker), "regime": len(path.Regime),
		"forecast_vol": len(path.ForecastVol), "fold": len(path.Fold)} {
		if l != L {
			t.Errorf("%s has %d entries, returns %d", name, l, L)
		}
	}
	if len(path.FinalWeights) != n+1 {
		t.Errorf("final weights %v", path.FinalWeights)
	}
	wealth := 1.0
	for k := range L {
		if len(path.Target[k]) != n+1 || len(path.Executed[k]) != n+1 {
			t.Errorf("step %d: target %v executed %v, want %d weights", k, path.Target[k], path.Executed[k], n+1)
		}
		if path.Bar[k] != path.Decision[k]+1 || path.Time[k] != p.Unix(path.Bar[k]) {
			t.Errorf("step %d: bar %d time %d for decision %d", k, path.Bar[k], path.Time[k], path.Decision[k])
		}
		if k > 0 && path.Decision[k] != path.Decision[k-1]+1 {
			t.Errorf("step %d: decision %d after %d", k, path.Decision[k], path.Decision[k-1])
		}
		prev := path.InitialValue
		if k > 0 {
			prev = path.Value[k-1]
		}
		if !sameFloat(path.Value[k]/prev-1, path.Return[k], relClose) {
			t.Errorf("step %d: return %v, value ratio %v", k, path.Return[k], path.Value[k]/prev-1)
		}
		wealth *= 1 + path.Return[k]
	}
	if L > 0 && !sameFloat(path.InitialValue*wealth, path.Value[L-1], relClose) {
		t.Errorf("returns compound to %.15g, final value %.15g", path.InitialValue*wealth, path.Value[L-1])
	}
}

func TestBacktestWithFees(t *testing.T) {
	free, _, _ := btEnv(t, 0, 0)
	zero, err := Backtest(context.Background(), free, &schedulePolicy{weights: [][]float64{btFixed}}, BacktestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, p, _ := btEnv(t, 25, 5)
	path, err := Backtest(context.Background(), m, &schedulePolicy{weights: [][]float64{btFixed}}, BacktestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPathShape(t, path, p, 2)
	var fees, slip float64
	prev := path.InitialValue
	for k := range path.Len() {
		if !(path.Value[k] < zero.Value[k]) {
			t.Errorf("step %d: value with costs %v not below the cost-free %v", k, path.Value[k], zero.Value[k])
		}
		if !(path.Fees[k] > 0) || !(path.Slippage[k] > 0) {
			t.Errorf("step %d: fees %v slippage %v, want both > 0 (every step trades)", k, path.Fees[k], path.Slippage[k])
		}
		// Independent accounting: the trade leaves V − fees − slippage,
		// held in the executed weights, which then earn the bar's moves.
		tt := path.Decision[k]
		grow := path.Executed[k][0] + path.Executed[k][1]*btCloseA[tt+1]/btCloseA[tt] + path.Executed[k][2]*btCloseB[tt+1]/btCloseB[tt]
		if want := (prev - path.Fees[k] - path.Slippage[k]) * grow; !sameFloat(path.Value[k], want, relClose) {
			t.Errorf("step %d: value %.15g, (V − fees − slippage)·(executed·y) = %.15g", k, path.Value[k], want)
		}
		prev = path.Value[k]
		fees += path.Fees[k]
		slip += path.Slippage[k]
	}
	// The fees recorded are those the env reports: step a fresh env with the
	// same actions and sum Info.Fees.
	e, _, _ := btEnv(t, 25, 5)
	obs := make([]float64, e.Spec().Observation.Len())
	if _, err := e.Reset(obs, 0); err != nil {
		t.Fatal(err)
	}
	res := env.NewStepResult(e.Spec())
	var envFees, envSlip float64
	for steps := 0; ; steps++ {
		if err := e.Step(res, btFixed); err != nil {
			t.Fatal(err)
		}
		envFees += res.Info.Fees
		envSlip += res.Info.Slippage
		if res.Terminated || res.Truncated {
			if steps+1 != path.Len() {
				t.Errorf("env episode has %d steps, path %d", steps+1, path.Len())
			}
			break
		}
	}
	if !sameFloat(fees, envFees, relClose) || !sameFloat(slip, envSlip, relClose) {
		t.Errorf("fees %v slippage %v recorded, env reported %v and %v", fees, slip, envFees, envSlip)
	}
	// The gap to the cost-free run is at least the costs paid (each cost
	// also forgoes the growth it would have earned) and of their order.
	gap := zero.Value[zero.Len()-1] - path.Value[path.Len()-1]
	t.Logf("final value %.4f vs %.4f cost-free; fees %.4f, slippage %.4f", path.Value[path.Len()-1], zero.Value[zero.Len()-1], fees, slip)
	if !(gap > 0.9*(fees+slip)) || !(gap < 1.2*(fees+slip)) {
		t.Errorf("value gap %v not within [0.9, 1.2]× the costs paid %v (the panel moves < 10 %% overall)", gap, fees+slip)
	}
}

func TestBacktestGuardInterventions(t *testing.T) {
	m, p, _ := btEnv(t, 10, 0)
	gcfg := guard.Defaults()
	gcfg.MaxWeight = 0.6
	g, err := guard.New(m, gcfg)
	if err != nil {
		t.Fatal(err)
	}
	nan, inf := math.NaN(), math.Inf(1)
	sched := [][]float64{
		btFixed,          // valid, inside every limit
		{nan, 0.5, 0.5},  // non-finite: replaced by the hold action
		{0, 0.9, 0.1},    // over the 0.6 cap: projected
		{0.2, inf, 0.3},  // non-finite
		{0.1, 0.2, 0.75}, // over the cap, and not summing to one
	}
	path, err := Backtest(context.Background(), g, &schedulePolicy{weights: sched}, BacktestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPathShape(t, path, p, 2)
	bad, nonFinite := 0, 0
	for k := range path.Len() {
		f := path.Guard[k]
		switch k % len(sched) {
		case 0:
			if f != 0 {
				t.Errorf("step %d: valid request flagged %b", k, f)
			}
		case 1, 3:
			bad++
			nonFinite++
			if f&guard.FlagNonFinite == 0 {
				t.Errorf("step %d: non-finite request not flagged non_finite (flags %b)", k, f)
			}
			if !slicesHasNonFinite(path.Target[k]) {
				t.Errorf("step %d: target %v does not record the non-finite request", k, path.Target[k])
			}
		case 2, 4:
			bad++
			if f&guard.FlagMaxWeight == 0 {
				t.Errorf("step %d: over-cap request %v not flagged max_weight (flags %b)", k, path.Target[k], f)
			}
		}
		for i, w := range path.Executed[k][1:] {
			// Fees shrink positions; they never push one above the guarded weight.
			if w > 0.6+1e-9 || math.IsNaN(w) {
				t.Errorf("step %d: asset %d executed at %v above the 0.6 cap", k, i, w)
			}
		}
	}
	if path.Interventions() != bad || bad == 0 {
		t.Errorf("%d steps with interventions, want %d", path.Interventions(), bad)
	}
	tot := g.Totals()
	if n := tot.Count(guard.FlagNonFinite); n != nonFinite || n == 0 {
		t.Errorf("guard counted %d non-finite requests over %d steps, the path %d", n, path.Len(), nonFinite)
	}
}

func slicesHasNonFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return true
		}
	}
	return false
}

// TestBacktestErrors: without a guard a NaN request is the env's error,
// reported with the policy and the bar; an env stack without a market
// portfolio is refused.
func TestBacktestErrors(t *testing.T) {
	m, _, _ := btEnv(t, 0, 0)
	_, err := Backtest(context.Background(), m, &schedulePolicy{weights: [][]float64{btFixed, {math.NaN(), 0.5, 0.5}}}, BacktestOptions{})
	if !errors.Is(err, env.ErrInvalidAction) || !strings.Contains(err.Error(), "schedule at 2024-01-02") {
		t.Errorf("NaN without a guard: %v, want env.ErrInvalidAction naming the policy and bar 2024-01-02", err)
	}
	_, err = Backtest(context.Background(), noPortfolio{m}, &schedulePolicy{weights: [][]float64{btFixed}}, BacktestOptions{})
	if !errors.Is(err, ErrNoPortfolio) {
		t.Errorf("env without a portfolio: %v", err)
	}
}

// noPortfolio hides the market env from env.FindPortfolio (it does not
// implement Unwrap).
type noPortfolio struct{ inner env.Env }

func (n noPortfolio) Spec() env.Spec                                  { return n.inner.Spec() }
func (n noPortfolio) Reset(dst []float64, s uint64) (env.Info, error) { return n.inner.Reset(dst, s) }
func (n noPortfolio) Step(dst *env.StepResult, a []float64) error     { return n.inner.Step(dst, a) }
func (n noPortfolio) Close() error                                    { return nil }

// TestBacktestRecordsPartialFills: with a portfolio of 10⁹ the env's
// liquidity cap of 0.1 × ~$10⁸ dollar volume per bar lets each asset trade
// about 1 % of the value per bar. Without a guard, a policy alternating
// between btFixed and (0.2, 0.3, 0.5) from all cash asks every step for
// buys of ≥ 0.2 per asset (holdings grow by ~1 % a bar), so both assets are
// cut short at every step: the path records 2 per step, and the executed
// weights equal the target bit for bit nowhere. Behind a guard, starting
// 50/50 in the assets and asking for all cash, the guard plans sales of
// exactly the env's cap, which the env still clips by a fee-sized amount
// (a target asks for μ·w_i): the path's partial-fill steps equal the
// guard's Totals.LiquidityLimited. Stitching keeps the series aligned.
func TestBacktestRecordsPartialFills(t *testing.T) {
	p, fs, regimes := btPanel(t)
	cfg := env.Defaults()
	cfg.Window, cfg.EpisodeLen, cfg.EpisodeStart = 1, 0, env.StartFirst
	cfg.InitialCapital = 1e9
	cfg.Costs.Slippage, cfg.Costs.HalfSpreadBps, cfg.Costs.LiquidityCap = env.SlipNone, 0, 0.1
	m, err := env.New(p, fs, regimes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	buyer := &schedulePolicy{weights: [][]float64{btFixed, {0.2, 0.3, 0.5}}}
	path, err := Backtest(context.Background(), m, buyer, BacktestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(path.LiquidityLimited) != path.Len() || path.Len() == 0 {
		t.Fatalf("%d liquidity-limited counts for %d steps", len(path.LiquidityLimited), path.Len())
	}
	for k := range path.Len() {
		same := true
		for i, w := range path.Executed[k] {
			same = same && math.Float64bits(w) == math.Float64bits(path.Target[k][i])
		}
		if path.LiquidityLimited[k] != 2 || same {
			t.Errorf("step %d: %d assets cut short, want 2; executed %v, target %v", k, path.LiquidityLimited[k], path.Executed[k], path.Target[k])
		}
	}
	if path.LiquidityLimitedSteps() != path.Len() {
		t.Errorf("%d of %d steps cut short", path.LiquidityLimitedSteps(), path.Len())
	}

	cfg.InitialWeights = []float64{0, 0.5, 0.5}
	m2, err := env.New(p, fs, regimes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(m2, guard.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	gp, err := Backtest(context.Background(), g, &schedulePolicy{weights: [][]float64{{1, 0, 0}}}, BacktestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := gp.LiquidityLimitedSteps(); n != g.Totals().LiquidityLimited || n != gp.Len() {
		t.Errorf("guarded path: %d of %d steps with partial fills, the guard counted %d", n, gp.Len(), g.Totals().LiquidityLimited)
	}
	var all Path
	for _, q := range []*Path{path, gp} {
		if err := all.Append(q); err != nil {
			t.Fatal(err)
		}
	}
	if len(all.LiquidityLimited) != all.Len() || all.LiquidityLimitedSteps() != path.LiquidityLimitedSteps()+gp.LiquidityLimitedSteps() {
		t.Errorf("stitched: %d counts over %d steps, %d partial fills", len(all.LiquidityLimited), all.Len(), all.LiquidityLimitedSteps())
	}
}
