package env_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
)

// TestInitialWeights: every Reset and ResetAt starts from the configured
// allocation — in the reset info, the observation's weights block and the
// Portfolio — and the first step trades from it.
func TestInitialWeights(t *testing.T) {
	p := liquid(t, envtest.RandomPanel(200, 3, 21))
	fs := envtest.Features(p)
	w0 := []float64{0.1, 0.5, 0, 0.4}
	cfg := smallCfg()
	cfg.Costs = zeroCosts()
	cfg.InitialWeights = w0
	cfg.InitialCapital = 12345
	m := mustNew(t, p, fs, nil, cfg)
	w0[1] = 0.9 // the env keeps its own copy
	w0 = []float64{0.1, 0.5, 0, 0.4}
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	off := spec.Layout.WeightsOffset
	first, _ := m.StartRange()
	for _, reset := range []func() (env.Info, error){
		func() (env.Info, error) { return m.Reset(obs, 3) },
		func() (env.Info, error) { return m.ResetAt(obs, first+5) },
	} {
		info, err := reset()
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range w0 {
			if info.Weights[i] != x || info.Executed[i] != x || info.Requested[i] != x || obs[off+i] != x || m.Weights()[i] != x {
				t.Fatalf("reset weight %d: info %v, obs %v, portfolio %v; want %v", i, info.Weights[i], obs[off+i], m.Weights()[i], x)
			}
		}
		if info.Value != 12345 || m.Peak() != 12345 {
			t.Fatalf("reset value %v, peak %v, want 12345", info.Value, m.Peak())
		}
		// Without costs the turnover of the first step is Σ_{i≥1}|a_i − w0_i|
		// exactly (μ = 1, d_i = a_i − w0_i); from all cash it would be 1 − a_0.
		a := []float64{0.3, 0.2, 0.25, 0.25}
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		want := math.Abs(0.2-0.5) + math.Abs(0.25-0) + math.Abs(0.25-0.4)
		if math.Abs(res.Info.Turnover-want) > 1e-15 { // three rounded differences summed: a few ulp
			t.Errorf("first-step turnover %v, want %v", res.Info.Turnover, want)
		}
	}

	// With costs, holding the initial allocation trades nothing and pays
	// nothing; the all-cash env pays to buy the same allocation.
	cfg.Costs = env.Defaults().Costs
	for _, init := range [][]float64{w0, nil} {
		c := cfg
		c.InitialWeights = init
		m := mustNew(t, p, fs, nil, c)
		if _, err := m.ResetAt(obs, first+5); err != nil {
			t.Fatal(err)
		}
		if err := m.Step(res, w0); err != nil {
			t.Fatal(err)
		}
		paid := res.Info.Fees + res.Info.Slippage
		if init != nil && (res.Info.Turnover != 0 || paid != 0) {
			t.Errorf("holding the initial weights: turnover %v, costs %v; want 0", res.Info.Turnover, paid)
		}
		if init == nil && !(res.Info.Turnover > 0.8 && paid > 0) {
			t.Errorf("buying in from cash: turnover %v, costs %v", res.Info.Turnover, paid)
		}
	}
}

// TestInitialWeightsCarryAcrossFolds: a test window that starts from the
// previous window's final drifted weights and value continues the same
// portfolio: with no costs, one env over both windows and two chained
// envs give the same values and weights at the boundary and after it.
func TestInitialWeightsCarryAcrossFolds(t *testing.T) {
	p := liquid(t, envtest.RandomPanel(160, 2, 22))
	fs := envtest.Features(p)
	cfg := smallCfg()
	cfg.Costs = zeroCosts()
	cfg.EpisodeStart, cfg.EpisodeLen = env.StartFirst, 0
	at := func(b int) time.Time { return p.Time(b) }
	whole := cfg
	whole.SegmentStart, whole.SegmentEnd = at(20), at(100)
	first := cfg
	first.SegmentStart, first.SegmentEnd = at(20), at(60)
	a := []float64{0.2, 0.5, 0.3}
	run := func(m *env.Market, steps int) *env.StepResult {
		spec := m.Spec()
		obs := make([]float64, spec.Observation.Len())
		res := env.NewStepResult(spec)
		if _, err := m.Reset(obs, 0); err != nil {
			t.Fatal(err)
		}
		for range steps {
			if err := m.Step(res, a); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	ref := run(mustNew(t, p, fs, nil, whole), 80)
	fold1 := run(mustNew(t, p, fs, nil, first), 40)
	if !fold1.Truncated {
		t.Fatal("the first fold did not end at its segment end")
	}
	second := cfg
	second.SegmentStart, second.SegmentEnd = at(60), at(100)
	second.InitialWeights = fold1.Info.Weights
	second.InitialCapital = fold1.Info.Value
	fold2 := run(mustNew(t, p, fs, nil, second), 40)
	// Frictionless rebalancing to the same target from the same drifted
	// weights reaches it bit for bit, so the chained value equals the
	// single run's up to the rounding of the products of growth factors
	// (value·g per step in both), i.e. bit for bit as well.
	if fold2.Info.Value != ref.Info.Value || !sameBits(fold2.Info.Weights, ref.Info.Weights) {
		t.Errorf("chained folds end at %v %v, one run at %v %v", fold2.Info.Value, fold2.Info.Weights, ref.Info.Value, ref.Info.Weights)
	}
}

func TestInitialWeightsValidation(t *testing.T) {
	p := envtest.RandomPanel(100, 3, 23)
	for _, c := range []struct {
		w    []float64
		want string
	}{
		{[]float64{1}, "N+1"},
		{[]float64{0.5, -0.1, 0.3, 0.3}, "≥ 0"},
		{[]float64{0.5, math.NaN(), 0.25, 0.25}, "≥ 0"},
		{[]float64{0.5, math.Inf(1), 0, 0}, "≥ 0"},
		{[]float64{0.5, 0.2, 0.2, 0.2}, "sum to"},
		{[]float64{0.5, 0.3, 0.2}, "want 4"},
	} {
		cfg := smallCfg()
		cfg.InitialWeights = c.w
		_, err := env.New(p, envtest.Features(p), nil, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "initial_weights") {
			t.Errorf("initial weights %v: error %v, want one mentioning %q", c.w, err, c.want)
		}
	}
	// Within WeightTolerance of the simplex: accepted and divided by the
	// sum; exact allocations are kept bit for bit (checked above).
	cfg := smallCfg()
	cfg.InitialWeights = []float64{0.25, 0.25, 0.25, 0.25 + 5e-7}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := mustNew(t, p, envtest.Features(p), nil, cfg)
	obs := make([]float64, m.Spec().Observation.Len())
	info, _ := m.Reset(obs, 1)
	if s := sum(info.Weights); math.Abs(s-1) > 4e-16 { // four terms: ≤ 2 ulp of 1
		t.Errorf("normalised initial weights sum to %v", s)
	}
}
