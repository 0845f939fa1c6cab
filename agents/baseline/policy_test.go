package baseline

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/agents"
)

func TestConfigDefaultsValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*Config)
		want  string // a fragment of the message naming the field
	}{
		{"lookback", func(c *Config) { c.Lookback = 1 }, "lookback"},
		{"rebalance", func(c *Config) { c.RebalanceEvery = 0 }, "rebalance_every"},
		{"band", func(c *Config) { c.DriftBand = 1 }, "drift_band"},
		{"band nan", func(c *Config) { c.DriftBand = math.NaN() }, "drift_band"},
		{"cov", func(c *Config) { c.Cov = "shrunk" }, "cov"},
		{"ewma", func(c *Config) { c.EWMALambda = 1 }, "ewma_lambda"},
		{"mean", func(c *Config) { c.Mean = "median" }, "mean"},
		{"lambda", func(c *Config) { c.Lambda = 0 }, "lambda"},
		{"max weight", func(c *Config) { c.MaxWeight = 1.5 }, "max_weight"},
		{"budgets negative", func(c *Config) { c.Budgets = []float64{1, -1} }, "budgets[1]"},
		{"budgets zero", func(c *Config) { c.Budgets = []float64{0, 0} }, "budgets sum"},
		{"target", func(c *Config) { c.TargetReturn = math.Inf(1) }, "target_return"},
		{"risk free", func(c *Config) { c.RiskFree = -1 }, "risk_free"},
		{"weights sum", func(c *Config) { c.Weights = []float64{0.6, 0.6} }, "weights sum"},
		{"weights negative", func(c *Config) { c.Weights = []float64{-0.1} }, "weights[0]"},
		{"alpha", func(c *Config) { c.DirichletAlpha = 0 }, "dirichlet_alpha"},
		{"views", func(c *Config) { c.BlackLitterman.Views = "gut" }, "black_litterman.views"},
		{"momentum window", func(c *Config) { c.BlackLitterman.MomentumWindow = 0 }, "momentum_window"},
		{"explicit without p", func(c *Config) { c.BlackLitterman.Views = ViewsExplicit }, "needs p and q"},
		{"explicit q length", func(c *Config) {
			c.BlackLitterman.Views, c.BlackLitterman.P, c.BlackLitterman.Q = ViewsExplicit, [][]float64{{1, 0}}, []float64{0.1, 0.2}
		}, "black_litterman.q"},
		{"omega asymmetric", func(c *Config) {
			b := &c.BlackLitterman
			b.Views, b.P, b.Q = ViewsExplicit, [][]float64{{1, 0}, {0, 1}}, []float64{0.1, 0.2}
			b.Omega = [][]float64{{1, 0.5}, {0.4, 1}}
		}, "not symmetric"},
		{"omega negative", func(c *Config) {
			b := &c.BlackLitterman
			b.Views, b.P, b.Q = ViewsExplicit, [][]float64{{1, 0}}, []float64{0.1}
			b.Omega = [][]float64{{-1}}
		}, "negative variance"},
		{"delta", func(c *Config) { c.BlackLitterman.Delta = 0 }, "delta"},
		{"tau", func(c *Config) { c.BlackLitterman.Tau = -1 }, "tau"},
		{"market weights", func(c *Config) { c.BlackLitterman.MarketWeights = []float64{0, 0} }, "market_weights"},
		{"warmup", func(c *Config) { c.Online.Warmup = -1 }, "warmup"},
		{"eg", func(c *Config) { c.Online.EGEta = -1 }, "eg_eta"},
		{"ons eta", func(c *Config) { c.Online.ONSEta = 2 }, "ons_eta"},
		{"ons beta", func(c *Config) { c.Online.ONSBeta = 0 }, "ons_beta"},
		{"ons delta", func(c *Config) { c.Online.ONSDelta = 0 }, "ons_delta"},
		{"olmar eps", func(c *Config) { c.Online.OLMAREpsilon = 0 }, "olmar_epsilon"},
		{"olmar window", func(c *Config) { c.Online.OLMARWindow = 1 }, "olmar_window"},
		{"pamr eps", func(c *Config) { c.Online.PAMREpsilon = -1 }, "pamr_epsilon"},
		{"pamr variant", func(c *Config) { c.Online.PAMRVariant = 3 }, "pamr_variant"},
		{"pamr c", func(c *Config) { c.Online.PAMRC = 0 }, "pamr_c"},
		{"anticor", func(c *Config) { c.Online.AnticorWindow = 1 }, "anticor_window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			tc.tweak(&c)
			err := c.Validate()
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an ErrConfig naming %q", err, tc.want)
			}
			if _, err := New(EqualWeight, c); !errors.Is(err, ErrConfig) {
				t.Fatalf("New accepted an invalid config: %v", err)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ method, want string }{
		{"best-guess", "unknown method"},
		{Constant, "constant needs weights"},
		{RiskBudget, "risk-budget needs budgets"},
		{BlackLitterman, "momentum_window 91 exceeds lookback 90"},
	} {
		cfg := Defaults()
		cfg.BlackLitterman.MomentumWindow = 91
		if _, err := New(tc.method, cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) = %v, want ErrConfig with %q", tc.method, err, tc.want)
		}
	}
}

func TestMethodsNamesAndInterfaces(t *testing.T) {
	ms := Methods()
	if len(ms) != 22 {
		t.Fatalf("%d methods, want 22", len(ms))
	}
	for _, m := range ms {
		p := mustNew(t, m, configFor(Defaults(), 3))
		var _ agents.Policy = p
		var _ agents.Resetter = p
		var _ FallbackReporter = p
		if p.Method() != m {
			t.Errorf("Method() = %q, want %q", p.Method(), m)
		}
		if m == BSH {
			if p.Name() != "bsh (hindsight)" || p.Implementable() || Implementable(m) {
				t.Errorf("bsh must be labelled as hindsight and not implementable: %q %v", p.Name(), p.Implementable())
			}
		} else if p.Name() != m || !p.Implementable() {
			t.Errorf("%s: Name() = %q, Implementable() = %v", m, p.Name(), p.Implementable())
		}
	}
}

// TestEveryMethodOnSimplex runs every method over a random walk with
// enough history and checks every decision is a valid allocation, the
// online and allocation methods keep cash at zero, and the diagnostics
// count the decisions.
func TestEveryMethodOnSimplex(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(5), 150, 5, 0.0005, 0.04))
	cfg := configFor(Defaults(), 5)
	cfg.Lookback, cfg.Online.AnticorWindow = 30, 10
	cfg.BlackLitterman.MomentumWindow = 20
	for _, m := range Methods() {
		t.Run(m, func(t *testing.T) {
			p := mustNew(t, m, cfg)
			r := simulate(t, p, pan, 0, 40, pan.T(), testRNG(6), false)
			for j, d := range r.decisions {
				checkSimplex(t, fmt.Sprintf("bar %d", 40+j), d)
				if _, isAlloc := p.strat.(*allocation); isAlloc || isOnline(p) {
					if d[0] != 0 {
						t.Fatalf("bar %d: cash %v, want 0", 40+j, d[0])
					}
				}
			}
			d := p.Diagnostics()
			if d.Method != m || d.Decisions != len(r.decisions) || d.Rebalances+d.Holds != d.Decisions {
				t.Fatalf("diagnostics %+v for %d decisions", d, len(r.decisions))
			}
			if len(d.Fallbacks) != 0 {
				t.Fatalf("unexpected fallbacks on a benign market: %v", d.Fallbacks)
			}
		})
	}
}

func isOnline(p *Policy) bool {
	_, ok := p.strat.(*online)
	return ok
}

// TestRebalanceEveryHolds: with k = 5 a method decides at its first bar
// and every 5 bars; in between it returns obs.Weights exactly (zero
// turnover).
func TestRebalanceEveryHolds(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(7), 80, 4, 0, 0.05))
	for _, m := range []string{EqualWeight, MinVariance, RandomDirichlet, EG, Anticor, Constant} {
		t.Run(m, func(t *testing.T) {
			cfg := configFor(Defaults(), 4)
			cfg.RebalanceEvery, cfg.Lookback, cfg.Online.AnticorWindow = 5, 20, 3
			r := simulate(t, mustNew(t, m, cfg), pan, 0, 21, pan.T(), testRNG(8), false)
			for j, d := range r.decisions {
				if j%5 == 0 {
					// Anticor returns the drifted portfolio when no asset
					// claims (zero turnover), and the fixed targets trade
					// only the drift back: only these always trade.
					if r.turnover[j] == 0 && j > 0 && (m == MinVariance || m == RandomDirichlet || m == EG) {
						t.Errorf("bar %d: scheduled decision did not trade", 21+j)
					}
					continue
				}
				if !slices.Equal(d, r.pre[j]) || r.turnover[j] != 0 {
					t.Fatalf("bar %d (off schedule): returned %v, held %v", 21+j, d, r.pre[j])
				}
			}
		})
	}
}

// TestDriftBand: equal-weight with a band trades exactly when some weight
// has drifted more than the band from 1/N, and holds otherwise.
func TestDriftBand(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(9), 200, 4, 0, 0.03))
	cfg := Defaults()
	cfg.DriftBand = 0.03
	r := simulate(t, mustNew(t, EqualWeight, cfg), pan, 0, 0, pan.T(), nil, false)
	target := []float64{0, 0.25, 0.25, 0.25, 0.25}
	trades, holds := 0, 0
	for j, d := range r.decisions {
		dev := maxAbsDiff(r.pre[j], target)
		switch {
		case j == 0 || dev > cfg.DriftBand:
			if !slices.Equal(d, target) {
				t.Fatalf("bar %d: deviation %v > band but returned %v", j, dev, d)
			}
			trades++
		default:
			if !slices.Equal(d, r.pre[j]) {
				t.Fatalf("bar %d: deviation %v ≤ band but returned %v, held %v", j, dev, d, r.pre[j])
			}
			holds++
		}
	}
	if trades < 3 || holds < 10 {
		t.Fatalf("%d trades and %d holds: the series does not exercise the band", trades, holds)
	}
	t.Logf("band %.2f: %d trades, %d holds", cfg.DriftBand, trades, holds)
}

// TestBuyAndHoldZeroTurnover: buy-and-hold buys 1/N once and then returns
// the drifted weights, so turnover after the first bar is exactly zero.
func TestBuyAndHoldZeroTurnover(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(10), 100, 6, 0.001, 0.05))
	r := simulate(t, mustNew(t, BuyAndHold, Defaults()), pan, 0, 10, pan.T(), nil, false)
	if want := []float64{0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6}; !slices.Equal(r.decisions[0], want) {
		t.Fatalf("first decision %v, want %v", r.decisions[0], want)
	}
	for j := 1; j < len(r.decisions); j++ {
		if r.turnover[j] != 0 {
			t.Fatalf("bar %d: turnover %v, want 0", 10+j, r.turnover[j])
		}
	}
}

// TestUBAHEqualsBuyAndHoldFrictionless: without costs the online ubah
// (self-tracked drift) and buy-and-hold (the env's drifted weights) hold
// the same portfolio.
func TestUBAHEqualsBuyAndHoldFrictionless(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(11), 120, 5, 0, 0.05))
	a := simulate(t, mustNew(t, UBAH, Defaults()), pan, 0, 5, pan.T(), nil, false)
	b := simulate(t, mustNew(t, BuyAndHold, Defaults()), pan, 0, 5, pan.T(), nil, false)
	for j := range a.decisions {
		for i := range a.decisions[j] {
			// The same drift computed along two paths (per-bar products
			// versus the simulator's renormalisations): 1e-12 absolute.
			if !scalar.EqualWithinAbs(a.decisions[j][i], b.decisions[j][i], 1e-12) {
				t.Fatalf("bar %d: ubah %v, buy-and-hold %v", 5+j, a.decisions[j], b.decisions[j])
			}
		}
	}
}

// TestWealthHandComputed checks the wealth paths of UCRP and buy-and-hold
// on a two-asset series against the hand computation below (close to
// close, no costs).
//
//	closes A: 10, 12, 9, 9.9     relatives 1.2, 0.75, 1.1
//	closes B: 20, 20, 25, 20     relatives 1.0, 1.25, 0.8
//
// UCRP (½, ½):  growth ½(1.2+1.0) = 1.1, ½(0.75+1.25) = 1.0, ½(1.1+0.8) = 0.95
//
//	wealth 1.1, 1.1, 1.045
//
// buy-and-hold: wealth = ½(A_t/A_0 + B_t/B_0)
//
//	½(1.2 + 1.0) = 1.1, ½(0.9 + 1.25) = 1.075, ½(0.99 + 1.0) = 0.995
func TestWealthHandComputed(t *testing.T) {
	pan := panelFromCloses(t, [][]float64{{10, 20}, {12, 20}, {9, 25}, {9.9, 20}})
	for _, tc := range []struct {
		method string
		want   []float64
	}{
		{UCRP, []float64{1.1, 1.1, 1.045}},
		{BuyAndHold, []float64{1.1, 1.075, 0.995}},
		{UBAH, []float64{1.1, 1.075, 0.995}},
		{Cash, []float64{1, 1, 1}},
		{EqualWeight, []float64{1.1, 1.1, 1.045}},
	} {
		r := simulate(t, mustNew(t, tc.method, Defaults()), pan, 0, 0, pan.T(), nil, false)
		for j, w := range r.wealth {
			// Three multiplications of decimal inputs: 1e-12 relative.
			if !scalar.EqualWithinRel(w, tc.want[j], 1e-12) {
				t.Errorf("%s: wealth after bar %d = %.15g, hand computation %v", tc.method, j, w, tc.want[j])
			}
		}
	}
}

// TestHoldWithoutObsWeights: with obs.Weights empty the policy drifts its
// previous output itself and the decisions equal those of a run that
// passes the simulator's weights.
func TestHoldWithoutObsWeights(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(12), 60, 3, 0, 0.05))
	cfg := Defaults()
	cfg.RebalanceEvery = 4
	a := simulate(t, mustNew(t, EqualWeight, cfg), pan, 0, 0, pan.T(), nil, false)
	b := simulate(t, mustNew(t, EqualWeight, cfg), pan, 0, 0, pan.T(), nil, true)
	for j := range a.decisions {
		for i := range a.decisions[j] {
			// The same drift along two orders of operations: 1e-12.
			if !scalar.EqualWithinAbs(a.decisions[j][i], b.decisions[j][i], 1e-12) {
				t.Fatalf("bar %d: with obs.Weights %v, without %v", j, a.decisions[j], b.decisions[j])
			}
		}
	}
}

// TestEpisodeHandling: a repeated bar returns the same weights without a
// new decision; going back in time or Reset starts a new episode that
// reproduces a fresh policy exactly.
func TestEpisodeHandling(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(13), 80, 4, 0, 0.05))
	cfg := Defaults()
	cfg.Online.AnticorWindow = 3
	for _, m := range []string{ONS, Anticor, OLMAR, RandomDirichlet} {
		t.Run(m, func(t *testing.T) {
			fresh := simulate(t, mustNew(t, m, cfg), pan, 0, 20, 60, testRNG(14), false)
			p := mustNew(t, m, cfg)
			simulate(t, p, pan, 0, 10, 70, testRNG(99), false)
			// Going back to bar 20 starts a new episode implicitly.
			again := simulate(t, p, pan, 0, 20, 60, testRNG(14), false)
			p.Reset()
			afterReset := simulate(t, p, pan, 0, 20, 60, testRNG(14), false)
			for j := range fresh.decisions {
				if !slices.Equal(fresh.decisions[j], again.decisions[j]) || !slices.Equal(fresh.decisions[j], afterReset.decisions[j]) {
					t.Fatalf("bar %d: fresh %v, implicit restart %v, after Reset %v", 20+j, fresh.decisions[j], again.decisions[j], afterReset.decisions[j])
				}
			}
			// A repeated call at the same bar returns the same weights.
			dec := p.Diagnostics().Decisions
			obs := &agents.Observation{Bar: 59, History: pan.View(0, 60), Weights: afterReset.pre[len(afterReset.pre)-1]}
			dst := make([]float64, 5)
			if err := p.Act(dst, obs, testRNG(15), agents.Deterministic); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dst, afterReset.decisions[len(afterReset.decisions)-1]) || p.Diagnostics().Decisions != dec {
				t.Fatalf("repeated bar: %v, want %v", dst, afterReset.decisions[len(afterReset.decisions)-1])
			}
		})
	}
}

// TestConstant checks the fixed weights (cash takes the rest) and the
// error for a length that does not match the panel.
func TestConstant(t *testing.T) {
	pan := panelFromCloses(t, tinyCloses)
	cfg := Defaults()
	cfg.Weights = []float64{0.4, 0.3, 0}
	r := simulate(t, mustNew(t, Constant, cfg), pan, 0, 0, 3, nil, false)
	// Cash is 1 − (0.4 + 0.3) in float64 arithmetic (variables: Go folds
	// constant expressions exactly).
	a, b := 0.4, 0.3
	if want := []float64{1 - (a + b), 0.4, 0.3, 0}; !slices.Equal(r.decisions[0], want) {
		t.Fatalf("constant: %v, want %v", r.decisions[0], want)
	}
	cfg.Weights = []float64{0.4, 0.3}
	p := mustNew(t, Constant, cfg)
	err := p.Act(make([]float64, 4), &agents.Observation{Bar: 0, History: pan.View(0, 1)}, nil, agents.Deterministic)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("2 weights for 3 assets: %v, want ErrConfig", err)
	}
}

// TestActPanics: shape mismatches are programmer errors.
func TestActPanics(t *testing.T) {
	pan := panelFromCloses(t, tinyCloses)
	p := mustNew(t, EqualWeight, Defaults())
	for name, f := range map[string]func(){
		"dst": func() { p.Act(make([]float64, 3), &agents.Observation{Bar: 2, History: pan.View(0, 3)}, nil, 0) },
		"weights": func() {
			p.Act(make([]float64, 4), &agents.Observation{Bar: 2, History: pan.View(0, 3), Weights: []float64{1}}, nil, 0)
		},
		"bar": func() { p.Act(make([]float64, 4), &agents.Observation{Bar: 5, History: pan.View(0, 3)}, nil, 0) },
		"rng": func() {
			mustNew(t, RandomDirichlet, Defaults()).Act(make([]float64, 4), &agents.Observation{Bar: 2, History: pan.View(0, 3)}, nil, 0)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestDirichletMoments compares the sample moments of random-dirichlet's
// draws with Dirichlet(α) over N+1 = 4 components: E wᵢ = 1/4 and
// Var wᵢ = (1/4)(3/4)/(4α + 1). Tolerances at n = 40000 draws: 5 standard
// errors √(Var/n) for the mean; 10% for the variance, whose relative
// standard error √((κ−1)/n) is about 0.01 for the kurtosis κ ≤ 5 of these
// Beta marginals, so 10% is about 10 standard errors.
func TestDirichletMoments(t *testing.T) {
	pan := panelFromCloses(t, tinyCloses)
	for _, alpha := range []float64{0.3, 1, 4} {
		cfg := Defaults()
		cfg.DirichletAlpha = alpha
		p := mustNew(t, RandomDirichlet, cfg)
		rng := testRNG(16)
		const draws = 40000
		var sum, sum2 [4]float64
		dst := make([]float64, 4)
		for k := range draws {
			p.Reset()
			if err := p.Act(dst, &agents.Observation{Bar: k % 10, History: pan.View(0, k%10+1)}, rng, agents.Sample); err != nil {
				t.Fatal(err)
			}
			for i, v := range dst {
				sum[i] += v
				sum2[i] += v * v
			}
		}
		wantVar := 0.25 * 0.75 / (4*alpha + 1)
		for i := range 4 {
			m := sum[i] / draws
			v := sum2[i]/draws - m*m
			if math.Abs(m-0.25) > 5*math.Sqrt(wantVar/draws) {
				t.Errorf("α=%g component %d: mean %v, want 0.25 ± %v", alpha, i, m, 5*math.Sqrt(wantVar/draws))
			}
			if math.Abs(v-wantVar) > 0.1*wantVar {
				t.Errorf("α=%g component %d: variance %v, want %v ± 10%%", alpha, i, v, wantVar)
			}
		}
	}
}

// nanStrategy produces an invalid target, to exercise the policy's guard.
type nanStrategy struct{}

func (nanStrategy) reset() {}

func (nanStrategy) target(dst []float64, _ *step) error {
	for i := range dst {
		dst[i] = math.NaN()
	}
	return nil
}

// TestInvalidTargetFallsBack: whatever a strategy produces, Act never
// returns NaN; it trades equal weights and records the fallback.
func TestInvalidTargetFallsBack(t *testing.T) {
	pan := panelFromCloses(t, tinyCloses)
	p := &Policy{method: "broken", cfg: Defaults(), strat: nanStrategy{}}
	r := simulate(t, p, pan, 0, 2, 5, nil, false)
	for j, d := range r.decisions {
		if !slices.Equal(d, []float64{0, 1.0 / 3, 1.0 / 3, 1.0 / 3}) {
			t.Fatalf("decision %d: %v, want equal weights", j, d)
		}
	}
	d := p.Diagnostics()
	if d.Counts["invalid weights → equal-weight"] != 3 || d.Fallbacks[1].Bar != 3 || !d.Fallbacks[1].Time.Equal(pan.Time(3)) {
		t.Fatalf("diagnostics %+v", d)
	}
}

// TestONSProjectionFailure: if the projection QP fails (here: a NaN
// planted in A), ons keeps its previous portfolio and records why.
func TestONSProjectionFailure(t *testing.T) {
	pan := panelFromCloses(t, tinyCloses)
	p := mustNew(t, ONS, Defaults())
	simulate(t, p, pan, 0, 0, 3, nil, false)
	o := p.strat.(*online).rule.(*ons)
	o.a.SetSym(0, 1, math.NaN())
	before := slices.Clone(p.strat.(*online).b)
	dst := make([]float64, 4)
	if err := p.Act(dst, &agents.Observation{Bar: 3, History: pan.View(0, 4)}, nil, agents.Deterministic); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst[1:], before) {
		t.Fatalf("after a failed projection: %v, want the previous portfolio %v", dst[1:], before)
	}
	if d := p.Diagnostics(); d.Counts["ons projection failed → previous portfolio"] != 1 {
		t.Fatalf("fallbacks %v", d.Counts)
	}
}
