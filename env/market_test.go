package env_test

import (
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/internal/seed"
)

// TestObservationLayout checks every element of an observation against
// the feature set read directly: windows t−W+1..t oldest first, asset-major
// then global, then the weights; and the spec's layout and bounds.
func TestObservationLayout(t *testing.T) {
	p := envtest.RandomPanel(120, 3, 11)
	fs := envtest.Features(p)
	cfg := smallCfg()
	cfg.Features = []string{envtest.FeatVol10, envtest.FeatLogReturn} // a chosen order
	m := mustNew(t, p, fs, nil, cfg)
	spec := m.Spec()
	W, N, F, G := cfg.Window, p.N(), 2, 1
	l := spec.Layout
	if l.AssetOffset != 0 || l.GlobalOffset != N*F*W || l.WeightsOffset != (N*F+G)*W || l.Len != l.WeightsOffset+N+1 ||
		spec.Observation.Len() != l.Len || spec.Action.Kind != env.Simplex || spec.Action.Len() != N+1 || spec.Window != W {
		t.Fatalf("spec %+v", spec)
	}
	if l.Features[0] != envtest.FeatVol10 || l.Features[1] != envtest.FeatLogReturn || l.GlobalFeatures[0] != envtest.GlobalMean {
		t.Fatalf("layout features %v %v", l.Features, l.GlobalFeatures)
	}
	for k := 0; k < l.WeightsOffset; k++ {
		if !math.IsInf(spec.Observation.Low[k], -1) || !math.IsInf(spec.Observation.High[k], 1) {
			t.Fatalf("feature bound %d: [%v, %v]", k, spec.Observation.Low[k], spec.Observation.High[k])
		}
	}
	for k := l.WeightsOffset; k < l.Len; k++ {
		if spec.Observation.Low[k] != 0 || spec.Observation.High[k] != 1 {
			t.Fatalf("weight bound %d: [%v, %v]", k, spec.Observation.Low[k], spec.Observation.High[k])
		}
	}
	obs := make([]float64, l.Len)
	res := env.NewStepResult(spec)
	info, err := m.Reset(obs, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := seed.New(1, seed.Test, 11)
	a := make([]float64, N+1)
	fidx := []int{fs.Index(envtest.FeatVol10), fs.Index(envtest.FeatLogReturn)}
	check := func(o []float64, bar int, w []float64) {
		t.Helper()
		for i := 0; i < N; i++ {
			for f := 0; f < F; f++ {
				series := fs.Series(i, fidx[f])
				for k := 0; k < W; k++ {
					if got, want := o[(i*F+f)*W+k], series[bar-W+1+k]; got != want {
						t.Fatalf("bar %d asset %d feature %d lag %d: %v, want %v", bar, i, f, W-1-k, got, want)
					}
				}
			}
		}
		for k := 0; k < W; k++ {
			if got, want := o[l.GlobalOffset+k], fs.GlobalSeries(0)[bar-W+1+k]; got != want {
				t.Fatalf("global at lag %d: %v, want %v", W-1-k, got, want)
			}
		}
		for i := range w {
			if o[l.WeightsOffset+i] != w[i] {
				t.Fatalf("weights %v, want %v", o[l.WeightsOffset:], w)
			}
		}
	}
	check(obs, info.Bar, info.Weights)
	for k := 0; k < 10; k++ {
		randWeights(rng, a)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		check(res.Obs, res.Info.Bar, res.Info.Weights)
	}
}

// TestTimingClose checks the default timing with zero costs against the
// panel: the decision at t earns close_{t+1}/close_t, the next decision is
// at t+1, and the weights drift as w ⊙ y / (w·y). Tolerance 1e-14 relative:
// one product and one division away from the env's arithmetic.
func TestTimingClose(t *testing.T) {
	p := liquid(t, envtest.RandomPanel(100, 4, 12))
	cfg := smallCfg()
	cfg.Costs = zeroCosts()
	m := mustNew(t, p, nil, nil, cfg)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	info, _ := m.Reset(obs, 5)
	bar, value := info.Bar, info.Value
	rng := seed.New(1, seed.Test, 12)
	a := make([]float64, p.N()+1)
	for k := 0; k < 20; k++ {
		randWeights(rng, a)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		g := a[0]
		for i := 0; i < p.N(); i++ {
			g += a[i+1] * relClose(p, bar+1, i)
		}
		if res.Info.Bar != bar+1 || !res.Info.Time.Equal(p.Time(bar+1)) {
			t.Fatalf("step %d: bar %d time %v, want %d %v", k, res.Info.Bar, res.Info.Time, bar+1, p.Time(bar+1))
		}
		if math.Abs(res.Info.Value/(value*g)-1) > 1e-14 || math.Abs(res.Reward-math.Log(g)) > 1e-14 {
			t.Fatalf("step %d: value %v reward %v, want %v %v", k, res.Info.Value, res.Reward, value*g, math.Log(g))
		}
		for i := 0; i < p.N(); i++ {
			if w := a[i+1] * relClose(p, bar+1, i) / g; math.Abs(res.Info.Weights[i+1]-w) > 1e-14 {
				t.Fatalf("drifted weight %d = %v, want %v", i, res.Info.Weights[i+1], w)
			}
		}
		bar, value = res.Info.Bar, res.Info.Value
	}
}

// TestTimingNextOpen checks next_open execution with zero costs: from
// close t the portfolio drifts to open t+1, trades to the target there and
// drifts to close t+1, so V_{t+1} = V_t·(w'·y^o)·(w·y^c) with
// y^o = open_{t+1}/close_t and y^c = close_{t+1}/open_{t+1}.
func TestTimingNextOpen(t *testing.T) {
	p := liquid(t, envtest.RandomPanel(100, 3, 13))
	cfg := smallCfg()
	cfg.Costs = zeroCosts()
	cfg.Execution = env.ExecNextOpen
	m := mustNew(t, p, nil, nil, cfg)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	info, _ := m.Reset(obs, 6)
	bar, value := info.Bar, info.Value
	wPrev := append([]float64(nil), info.Weights...)
	rng := seed.New(1, seed.Test, 13)
	a := make([]float64, p.N()+1)
	for k := 0; k < 20; k++ {
		randWeights(rng, a)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		gOpen, gClose := wPrev[0], a[0]
		for i := 0; i < p.N(); i++ {
			gOpen += wPrev[i+1] * p.Open(bar+1, i) / p.Close(bar, i)
			gClose += a[i+1] * p.Close(bar+1, i) / p.Open(bar+1, i)
		}
		if want := value * gOpen * gClose; math.Abs(res.Info.Value/want-1) > 1e-14 {
			t.Fatalf("step %d: value %v, want %v", k, res.Info.Value, want)
		}
		for i := range a {
			if res.Info.Executed[i] != res.Info.Requested[i] {
				t.Fatalf("executed %v, want the target %v", res.Info.Executed, res.Info.Requested)
			}
		}
		bar, value = res.Info.Bar, res.Info.Value
		copy(wPrev, res.Info.Weights)
	}
}

// TestFrictionlessBitForBit: with zero costs the portfolio value is
// V_0·Π_k (w_k·y_k) bit for bit, computed here in the same order (cash
// first, products rounded before summing, as the env documents).
func TestFrictionlessBitForBit(t *testing.T) {
	p := liquid(t, envtest.RandomPanel(300, 5, 14))
	for _, model := range []string{env.FeeExact, env.FeeLinear} {
		cfg := smallCfg()
		cfg.Costs = zeroCosts()
		cfg.Costs.FeeModel = model
		cfg.EpisodeLen = 0 // to the end of the data
		m := mustNew(t, p, envtest.Features(p), nil, cfg)
		spec := m.Spec()
		obs := make([]float64, spec.Observation.Len())
		res := env.NewStepResult(spec)
		first, _ := m.StartRange()
		info, _ := m.ResetAt(obs, first)
		rng := seed.New(1, seed.Test, 14)
		a := make([]float64, p.N()+1)
		want, bar := info.Value, info.Bar
		steps := 0
		for {
			randWeights(rng, a)
			if err := m.Step(res, a); err != nil {
				t.Fatal(err)
			}
			w := res.Info.Requested
			g := w[0]
			for i := 0; i < p.N(); i++ {
				g += float64(w[i+1] * relClose(p, bar+1, i))
			}
			want *= g
			steps++
			if res.Info.Value != want {
				t.Fatalf("%s step %d: value %.17g, frictionless product %.17g", model, steps, res.Info.Value, want)
			}
			bar = res.Info.Bar
			if res.Truncated || res.Terminated {
				break
			}
		}
		if bar != p.T()-1 {
			t.Errorf("episode ended at bar %d, want the last bar %d", bar, p.T()-1)
		}
		t.Logf("%s: %d steps, final value %.6f, bit-identical", model, steps, want)
	}
}

// TestFeesAreCharged checks, step by step under the default costs (exact
// fees, sqrt slippage, liquidity cap) and under next_open execution, that
// (1) the value after the trade is exactly the value before minus the fees
// and slippage reported, and (2) the fees reported equal Σ rate·|trade|
// recomputed from the info: trade_i = V̂·executed_i − V·w'_i with V̂ the
// post-trade value. Tolerance 1e-12 relative (a handful of roundings on
// values near 10⁵).
func TestFeesAreCharged(t *testing.T) {
	p := envtest.RandomPanel(200, 4, 15)
	for _, exec := range []string{env.ExecClose, env.ExecNextOpen} {
		cfg := smallCfg()
		cfg.Execution = exec
		cfg.Costs.Asset = []env.AssetFee{{Asset: "A1", BuyBps: 3, SellBps: 40}}
		cfg.InitialCapital = 5e6 // large enough for the liquidity cap to bind sometimes
		m := mustNew(t, p, nil, nil, cfg)
		spec := m.Spec()
		obs := make([]float64, spec.Observation.Len())
		res := env.NewStepResult(spec)
		info, _ := m.Reset(obs, 8)
		rng := seed.New(1, seed.Test, 15)
		a := make([]float64, p.N()+1)
		bar, value := info.Bar, info.Value
		wPrev := append([]float64(nil), info.Weights...)
		var paid, partial float64
		for k := 0; k < 40; k++ {
			randWeights(rng, a)
			if err := m.Step(res, a); err != nil {
				t.Fatal(err)
			}
			in := &res.Info
			// Pre-trade value and weights, and the move after the trade.
			v, wp := value, append([]float64(nil), wPrev...)
			tradeBar := bar
			if exec == env.ExecNextOpen {
				var g float64
				g = wp[0]
				for i := 0; i < p.N(); i++ {
					g += wp[i+1] * p.Open(bar+1, i) / p.Close(bar, i)
				}
				for i := 0; i < p.N(); i++ {
					wp[i+1] *= p.Open(bar+1, i) / p.Close(bar, i) / g
				}
				wp[0] /= g
				v *= g
				tradeBar = bar + 1
			}
			gAfter := in.Executed[0]
			for i := 0; i < p.N(); i++ {
				y := relClose(p, bar+1, i)
				if exec == env.ExecNextOpen {
					y = p.Close(bar+1, i) / p.Open(bar+1, i)
				}
				gAfter += in.Executed[i+1] * y
			}
			vHat := in.Value / gAfter
			if d := math.Abs(vHat - (v - in.Fees - in.Slippage)); d > 1e-12*v {
				t.Fatalf("%s step %d: post-trade value %.10f, pre-trade %.10f − fees %.6f − slippage %.6f = %.10f",
					exec, k, vHat, v, in.Fees, in.Slippage, v-in.Fees-in.Slippage)
			}
			var fees, turnover float64
			for i := 0; i < p.N(); i++ {
				d := vHat*in.Executed[i+1] - v*wp[i+1]
				rate := 10e-4
				if i == 1 {
					rate = 3e-4
					if d < 0 {
						rate = 40e-4
					}
				}
				fees += rate * math.Abs(d)
				turnover += math.Abs(d) / v
				if math.Abs(in.Executed[i+1]-in.Requested[i+1]) > 1e-9 {
					partial++
					if p.Volume(tradeBar, i) > 0 && math.Abs(d) > 0.1*p.DollarVolume(tradeBar, i)*(1+1e-9) {
						t.Fatalf("%s step %d: trade %v exceeds the cap of %v", exec, k, d, 0.1*p.DollarVolume(tradeBar, i))
					}
				}
				if p.Volume(tradeBar, i) == 0 && math.Abs(d) > 1e-9*v {
					t.Fatalf("%s step %d: traded %v of a zero-volume asset", exec, k, d)
				}
			}
			if math.Abs(fees-in.Fees) > 1e-12*v || math.Abs(turnover-in.Turnover) > 1e-12 {
				t.Fatalf("%s step %d: fees %v turnover %v, recomputed %v %v", exec, k, in.Fees, in.Turnover, fees, turnover)
			}
			paid += in.Fees + in.Slippage
			bar, value = in.Bar, in.Value
			copy(wPrev, in.Weights)
			if res.Truncated || res.Terminated {
				break
			}
		}
		if paid <= 0 || partial == 0 {
			t.Errorf("%s: paid %v, %v partially filled trades: the test does not exercise costs and the cap", exec, paid, partial)
		}
	}
}

// TestInvalidActions: invalid actions return ErrInvalidAction and leave the
// env unchanged; near-valid weights are accepted and renormalised.
func TestInvalidActions(t *testing.T) {
	p := envtest.RandomPanel(80, 2, 16)
	for _, mode := range []string{env.ActionWeights, env.ActionLogits} {
		cfg := smallCfg()
		cfg.Action = mode
		m := mustNew(t, p, nil, nil, cfg)
		ref := mustNew(t, p, nil, nil, cfg)
		spec := m.Spec()
		obs := make([]float64, spec.Observation.Len())
		res, want := env.NewStepResult(spec), env.NewStepResult(spec)
		m.Reset(obs, 9)
		ref.Reset(obs, 9)
		bad := [][]float64{{math.NaN(), 0.5, 0.5}, {math.Inf(1), 0, 0}, {math.Inf(-1), 0.5, 0.5}}
		if mode == env.ActionWeights {
			bad = append(bad, []float64{-0.1, 0.6, 0.5}, []float64{0.2, 0.2, 0.2}, []float64{0.5, 0.5, 0.5})
		}
		for _, a := range bad {
			if err := m.Step(res, a); !errors.Is(err, env.ErrInvalidAction) {
				t.Fatalf("%s: action %v: error %v, want ErrInvalidAction", mode, a, err)
			}
		}
		good := []float64{0.2, 0.3, 0.5}
		if err := m.Step(res, good); err != nil {
			t.Fatal(err)
		}
		if err := ref.Step(want, good); err != nil {
			t.Fatal(err)
		}
		if res.Info.Value != want.Info.Value || res.Reward != want.Reward || res.Info.Bar != want.Info.Bar {
			t.Fatalf("%s: invalid actions changed the env: value %v vs %v", mode, res.Info.Value, want.Info.Value)
		}
	}
	// Within tolerance: tiny negatives are clipped and the sum renormalised.
	m := mustNew(t, p, nil, nil, smallCfg())
	obs := make([]float64, m.Spec().Observation.Len())
	res := env.NewStepResult(m.Spec())
	m.Reset(obs, 9)
	if err := m.Step(res, []float64{-1e-8, 0.5, 0.5 + 5e-7}); err != nil {
		t.Fatal(err)
	}
	r := res.Info.Requested
	if r[0] != 0 || math.Abs(r[1]+r[2]-1) > 1e-15 || math.Abs(r[1]-0.5/(1+5e-7)) > 1e-15 {
		t.Errorf("renormalised request %v", r)
	}
}

// TestSoftmaxAction checks the logits mapping against the definition,
// including shift invariance and large logits (no overflow).
func TestSoftmaxAction(t *testing.T) {
	p := envtest.RandomPanel(80, 3, 17)
	cfg := smallCfg()
	cfg.Action = env.ActionLogits
	m := mustNew(t, p, nil, nil, cfg)
	if m.Spec().Action.Kind != env.Box {
		t.Fatal("logits action space is not a box")
	}
	obs := make([]float64, m.Spec().Observation.Len())
	res := env.NewStepResult(m.Spec())
	for _, a := range [][]float64{{0, 1, 2, 3}, {1000, 1001, 1002, 1003}, {-800, 0, -800, -800}} {
		m.Reset(obs, 1)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		var z float64
		for _, x := range a {
			z += math.Exp(x - a[3])
		}
		for i, x := range a {
			if want := math.Exp(x-a[3]) / z; math.Abs(res.Info.Requested[i]-want) > 1e-15 {
				t.Fatalf("softmax(%v)[%d] = %v, want %v", a, i, res.Info.Requested[i], want)
			}
		}
	}
}

func expectPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// TestProgrammerErrorsPanic: Step before Reset, after the end of an
// episode, and with buffers of the wrong length are programmer errors.
func TestProgrammerErrorsPanic(t *testing.T) {
	p := envtest.RandomPanel(80, 2, 18)
	cfg := smallCfg()
	cfg.EpisodeLen = 2
	m := mustNew(t, p, nil, nil, cfg)
	spec := m.Spec()
	res := env.NewStepResult(spec)
	a := []float64{1, 0, 0}
	expectPanic(t, "Step before Reset", func() { m.Step(res, a) })
	obs := make([]float64, spec.Observation.Len())
	expectPanic(t, "Reset with a short buffer", func() { m.Reset(obs[1:], 1) })
	m.Reset(obs, 1)
	expectPanic(t, "Step with a short action", func() { m.Step(res, a[1:]) })
	expectPanic(t, "Step with a short observation", func() { m.Step(&env.StepResult{Obs: obs[1:], Info: res.Info}, a) })
	expectPanic(t, "Step without info buffers", func() { m.Step(&env.StepResult{Obs: obs}, a) })
	m.Step(res, a)
	m.Step(res, a)
	if !res.Truncated {
		t.Fatal("episode of length 2 not truncated after 2 steps")
	}
	expectPanic(t, "Step after the end", func() { m.Step(res, a) })
	if m.Close() != nil || m.Close() != nil {
		t.Error("Close failed")
	}
	expectPanic(t, "Reset after Close", func() { m.Reset(obs, 1) })
}

// TestConformance runs envtest.Check, including the look-ahead probe and
// the zero-allocation check, over the configurations that change Step's
// code path: every reward, slippage model, execution, action mapping and
// fee model, and regime-restricted episodes.
func TestConformance(t *testing.T) {
	p := envtest.RandomPanel(200, 3, 19)
	// Fixed labels: three regimes in blocks, independent of the data so the
	// start distribution does not change under the probe's perturbations.
	labels := make([]market.Regime, p.T())
	for i := range labels {
		labels[i] = market.Regimes()[(i/15)%3]
	}
	type variant struct {
		name string
		mod  func(*env.Config)
	}
	vs := []variant{{"defaults", func(*env.Config) {}}}
	for _, r := range []string{env.RewardDifferentialSharpe, env.RewardDrawdownPenalised, env.RewardTurnoverPenalised, env.RewardVolScaled} {
		vs = append(vs, variant{"reward=" + r, func(c *env.Config) { c.Reward = r }})
	}
	for _, s := range []string{env.SlipNone, env.SlipSpread, env.SlipQuadratic} {
		vs = append(vs, variant{"slippage=" + s, func(c *env.Config) { c.Costs.Slippage = s }})
	}
	vs = append(vs,
		variant{"execution=next_open", func(c *env.Config) { c.Execution = env.ExecNextOpen }},
		variant{"action=logits", func(c *env.Config) { c.Action = env.ActionLogits }},
		variant{"fee_model=linear", func(c *env.Config) { c.Costs.FeeModel = env.FeeLinear }},
		variant{"capital=1e9 (cap binds)", func(c *env.Config) { c.InitialCapital = 1e9 }},
		variant{"terminate_below", func(c *env.Config) { c.TerminateBelow = 0.9; c.Costs.TakerBps = 300 }},
		variant{"regimes=balanced", func(c *env.Config) { c.RegimeSampling = env.SampleBalanced }},
		variant{"regimes=bull,crash+truncate", func(c *env.Config) {
			c.Regimes = []string{"bull", "sideways"}
			c.RegimeTruncate = true
		}},
		variant{"episode_len=0", func(c *env.Config) { c.EpisodeLen = 0 }},
	)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			cfg := smallCfg()
			v.mod(&cfg)
			from := func(q *market.Panel) (env.Env, error) { return env.New(q, envtest.Features(q), labels, cfg) }
			envtest.Check(t, func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from, Steps: 80})
		})
	}
}

// TestNewErrors checks that New rejects inconsistent inputs with messages
// that say what is wrong.
func TestNewErrors(t *testing.T) {
	p := envtest.RandomPanel(60, 2, 20)
	fs := envtest.Features(p)
	other := envtest.Features(envtest.RandomPanel(50, 2, 20))
	cases := []struct {
		name string
		fs   *features.Set
		reg  []market.Regime
		mod  func(*env.Config)
	}{
		{"unknown feature", fs, nil, func(c *env.Config) { c.Features = []string{"nope"} }},
		{"unknown global", fs, nil, func(c *env.Config) { c.GlobalFeatures = []string{"nope"} }},
		{"features without set", nil, nil, func(c *env.Config) { c.Features = []string{envtest.FeatLogReturn} }},
		{"feature set of another panel", other, nil, func(*env.Config) {}},
		{"labels of another length", fs, make([]market.Regime, 10), func(*env.Config) {}},
		{"invalid label", fs, append(make([]market.Regime, 59), 9), func(*env.Config) {}},
		{"segment too short", fs, nil, func(c *env.Config) { c.EpisodeLen = 55 }},
		{"segment outside data", fs, nil, func(c *env.Config) { c.SegmentStart = p.Time(59).AddDate(1, 0, 0) }},
		{"unknown fee asset", fs, nil, func(c *env.Config) { c.Costs.Asset = []env.AssetFee{{Asset: "ZZZ"}} }},
		{"no regime to start in", fs, make([]market.Regime, 60), func(c *env.Config) { c.Regimes = []string{"bull"} }},
		{"invalid config", fs, nil, func(c *env.Config) { c.Window = 0 }},
	}
	for _, tc := range cases {
		cfg := smallCfg()
		tc.mod(&cfg)
		if _, err := env.New(p, tc.fs, tc.reg, cfg); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

// TestZeroVolumeBlocksTrading: without a liquidity cap, an asset with zero
// volume in the trade bar is not traded (its holding only loses its share of
// the costs), and in bars where every asset has volume the target is reached
// exactly, also right after a bar that blocked an asset.
func TestZeroVolumeBlocksTrading(t *testing.T) {
	p := envtest.RandomPanel(400, 4, 21) // about 2% zero-volume bars
	cfg := smallCfg()
	cfg.Costs.Slippage, cfg.Costs.LiquidityCap = env.SlipSpread, 0
	cfg.EpisodeLen = 0
	m := mustNew(t, p, nil, nil, cfg)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	first, _ := m.StartRange()
	info, _ := m.ResetAt(obs, first)
	rng := seed.New(1, seed.Test, 21)
	a := make([]float64, p.N()+1)
	bar, value := info.Bar, info.Value
	wPrev := append([]float64(nil), info.Weights...)
	blocked, afterBlocked := 0, 0
	prevBlocked := false
	for !res.Truncated && !res.Terminated {
		randWeights(rng, a)
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		in := &res.Info
		g := in.Executed[0]
		for i := 0; i < p.N(); i++ {
			g += in.Executed[i+1] * relClose(p, bar+1, i)
		}
		vHat := in.Value / g
		any := false
		for i := 0; i < p.N(); i++ {
			if p.Volume(bar, i) == 0 {
				any = true
				blocked++
				if d := vHat*in.Executed[i+1] - value*wPrev[i+1]; math.Abs(d) > 1e-9*value {
					t.Fatalf("bar %d: traded %v of zero-volume asset %d", bar, d, i)
				}
			}
		}
		if !any {
			for i := range a {
				if in.Executed[i] != in.Requested[i] {
					t.Fatalf("bar %d (all assets trade): executed %v, requested %v", bar, in.Executed, in.Requested)
				}
			}
			if prevBlocked {
				afterBlocked++
			}
		}
		prevBlocked = any
		bar, value = in.Bar, in.Value
		copy(wPrev, in.Weights)
	}
	if blocked == 0 || afterBlocked == 0 {
		t.Errorf("%d blocked trades, %d full fills right after a blocked bar: the panel does not exercise the rule", blocked, afterBlocked)
	}
}
