package baseline

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/portfolio"
	"github.com/folio-rl/folio/risk"
)

// windowAt builds the trailing lookback×N simple-return window ending at
// bar t directly from the closes (independently of View.ReturnsTo).
func windowAt(closes [][]float64, t, lookback int) *mat.Dense {
	n := len(closes[0])
	m := mat.NewDense(lookback, n, nil)
	for r := range lookback {
		u := t - lookback + 1 + r
		for i := range n {
			m.Set(r, i, closes[u][i]/closes[u-1][i]-1)
		}
	}
	return m
}

// TestAllocationMatchesPortfolio: every allocation method returns exactly
// portfolio.Allocate's weights on the trailing window ending at the
// decision bar, with cash 0, for each covariance estimator and with
// annualised rates converted per bar.
func TestAllocationMatchesPortfolio(t *testing.T) {
	const n, lookback = 5, 40
	closes := randomCloses(testRNG(20), 120, n, 0.001, 0.04)
	pan := panelFromCloses(t, closes)
	bpy := pan.BarsPerYear()
	methods := []string{InverseVol, RiskParity, RiskBudget, MinVariance, MeanVariance, MaxSharpe, EfficientReturn, HRP, BlackLitterman}
	for _, cov := range []string{portfolio.CovLedoitWolf, portfolio.CovSample, portfolio.CovEWMA} {
		for _, m := range methods {
			t.Run(cov+"/"+m, func(t *testing.T) {
				cfg := Defaults()
				cfg.Lookback, cfg.Cov, cfg.MaxWeight = lookback, cov, 0.4
				cfg.Budgets = []float64{2, 1, 1, 1, 1}
				cfg.RiskFree, cfg.TargetReturn = 0.05, 0.4
				cfg.BlackLitterman.MomentumWindow = 10
				p := mustNew(t, m, cfg)
				r := simulate(t, p, pan, 0, lookback, pan.T(), nil, false)
				bl := &portfolio.BLOptions{Delta: 2.5, Tau: 0.05}
				for j, d := range r.decisions {
					tb := lookback + j
					if j%7 != 0 {
						continue
					}
					win := windowAt(closes, tb, lookback)
					if m == BlackLitterman {
						// Momentum views: P = I, Q = mean of the last 10
						// returns minus the per-bar risk-free rate.
						q := make([]float64, n)
						for i := range n {
							for r := lookback - 10; r < lookback; r++ {
								q[i] += win.At(r, i)
							}
							q[i] = q[i]/10 - 0.05/bpy
						}
						eye := mat.NewDense(n, n, nil)
						for i := range n {
							eye.Set(i, i, 1)
						}
						bl.P, bl.Q = eye, q
					}
					want, err := portfolio.Allocate(m, portfolio.Inputs{Returns: win, Estimator: cov, EWMALambda: 0.94},
						portfolio.Options{MaxWeight: 0.4, RiskAversion: 10, Budgets: []float64{2.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6},
							TargetReturn: 0.4 / bpy, RiskFree: 0.05 / bpy, BL: bl})
					if err != nil {
						t.Fatal(err)
					}
					if d[0] != 0 || !slices.Equal(d[1:], want.Weights) {
						t.Fatalf("bar %d: policy %v, portfolio.Allocate %v", tb, d, want.Weights)
					}
				}
			})
		}
	}
}

// TestEqualWeightMatchesPortfolio: equal-weight does not call portfolio
// (it needs no estimate) but agrees with it.
func TestEqualWeightMatchesPortfolio(t *testing.T) {
	want, err := portfolio.Allocate(portfolio.EqualWeight, portfolio.Inputs{N: 7}, portfolio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 8)
	equalRisky(got)
	if got[0] != 0 {
		t.Fatalf("cash %v", got[0])
	}
	for i, w := range want.Weights {
		// equalRisky writes the correctly rounded 1/N; portfolio
		// renormalises seven copies of it, which moves the last bits:
		// 4 ulps of 1/7 ≈ 1e-16.
		if math.Abs(got[i+1]-w) > 1e-16 {
			t.Fatalf("equal-weight %v, portfolio %v", got, want.Weights)
		}
	}
}

// bearCloses is a crypto bear market: every asset loses about 1% a bar
// with 3% noise, so trailing mean returns are negative at most bars.
func bearCloses() [][]float64 {
	return randomCloses(testRNG(21), 150, 6, -0.01, 0.03)
}

// TestBearMarketFallbacks: where every expected return in the window is
// negative, max-sharpe is undefined: the policy never errors, never returns
// NaN, falls back to min-variance (exactly portfolio's min-variance) and
// records each fallback with its bar and time; where some asset has a
// positive mean it must not fall back. efficient-return falls back to the
// maximum-return portfolio exactly where the target exceeds the best mean.
// mean-variance stays defined in a bear market (it picks the least bad
// trade-off) and must return valid weights without fallbacks.
func TestBearMarketFallbacks(t *testing.T) {
	const lookback = 60
	closes := bearCloses()
	pan := panelFromCloses(t, closes)
	cfg := Defaults()
	cfg.Lookback = lookback
	for _, m := range []string{MaxSharpe, MeanVariance, EfficientReturn, BlackLitterman} {
		t.Run(m, func(t *testing.T) {
			p := mustNew(t, m, cfg)
			r := simulate(t, p, pan, 0, lookback, pan.T(), nil, false)
			fell := map[int]Fallback{}
			for _, f := range p.Diagnostics().Fallbacks {
				fell[f.Bar] = f
			}
			allNegative := 0
			for j, d := range r.decisions {
				bar := lookback + j
				checkSimplex(t, fmt.Sprintf("bar %d", bar), d)
				mu, err := risk.Mean(nil, windowAt(closes, bar, lookback))
				if err != nil {
					t.Fatal(err)
				}
				best := slices.Max(mu)
				if best < 0 {
					allNegative++
				}
				f, ok := fell[bar]
				switch m {
				case MaxSharpe:
					if ok != (best <= 0) {
						t.Fatalf("bar %d: best mean %v, fallback %v (%+v)", bar, best, ok, f)
					}
					if ok {
						if f.Kind != "max-sharpe → min-variance" || !f.Time.Equal(pan.Time(bar)) || !strings.Contains(f.Detail, "positive expected excess return") {
							t.Fatalf("fallback record %+v", f)
						}
						mv, _ := portfolio.Allocate(portfolio.MinVariance, portfolio.Inputs{Returns: windowAt(closes, bar, lookback), Estimator: cfg.Cov}, portfolio.Options{MaxWeight: 1})
						if !slices.Equal(d[1:], mv.Weights) {
							t.Fatalf("bar %d: fallback weights %v, min-variance %v", bar, d[1:], mv.Weights)
						}
					}
				case EfficientReturn:
					if target := cfg.TargetReturn / pan.BarsPerYear(); ok != (target > best) || ok && f.Kind != "efficient-return → max-return" {
						t.Fatalf("bar %d: target %v, best mean %v, fallback %+v", bar, target, best, f)
					}
				case MeanVariance:
					if ok {
						t.Fatalf("bar %d: mean-variance is defined in a bear market; fallback %+v", bar, f)
					}
				}
			}
			d := p.Diagnostics()
			t.Logf("%s: %d decisions, %d with every mean negative, fallbacks %v", m, d.Decisions, allNegative, d.Counts)
			if allNegative < d.Decisions/2 {
				t.Fatalf("only %d of %d windows are all-negative: the series is not a bear market", allNegative, d.Decisions)
			}
		})
	}
}

// TestInsufficientHistory: before Lookback+1 bars exist the allocation
// methods hold equal weights and record why.
func TestInsufficientHistory(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(22), 30, 3, 0, 0.03))
	cfg := Defaults()
	cfg.Lookback = 10
	p := mustNew(t, MinVariance, cfg)
	r := simulate(t, p, pan, 0, 0, 15, nil, false)
	d := p.Diagnostics()
	if d.Counts["insufficient history → equal-weight"] != 10 {
		t.Fatalf("fallbacks %v, want 10 insufficient-history (bars 0–9)", d.Counts)
	}
	for j := range 10 {
		if !slices.Equal(r.decisions[j], []float64{0, 1.0 / 3, 1.0 / 3, 1.0 / 3}) {
			t.Fatalf("bar %d: %v, want equal weights", j, r.decisions[j])
		}
	}
	if slices.Equal(r.decisions[10], r.decisions[9]) {
		t.Fatalf("bar 10 has %d returns and should be optimised", 10)
	}
}

// TestConstantPriceFallsBack: an asset with a constant price (a stablecoin
// held as a risky asset) makes the window degenerate for some estimators;
// the policy must neither error nor return NaN.
func TestConstantPriceFallsBack(t *testing.T) {
	closes := randomCloses(testRNG(23), 60, 3, 0, 0.03)
	for _, row := range closes {
		row[1] = 1
	}
	pan := panelFromCloses(t, closes)
	for _, m := range []string{InverseVol, RiskParity, MinVariance, MaxSharpe, HRP, BlackLitterman} {
		for _, cov := range []string{portfolio.CovSample, portfolio.CovLedoitWolf, portfolio.CovOAS} {
			cfg := Defaults()
			cfg.Lookback, cfg.Cov = 20, cov
			cfg.BlackLitterman.MomentumWindow = 10
			p := mustNew(t, m, cfg)
			r := simulate(t, p, pan, 0, 20, pan.T(), nil, false)
			for j, d := range r.decisions {
				checkSimplex(t, fmt.Sprintf("%s/%s bar %d", m, cov, 20+j), d)
			}
			d := p.Diagnostics()
			t.Logf("%s/%s: fallbacks %v", m, cov, d.Counts)
			// The sample covariance has a zero variance: inverse-vol is
			// undefined at every bar and must say so.
			if m == InverseVol && cov == portfolio.CovSample && d.Counts["inverse-vol → equal-weight"] != d.Decisions {
				t.Fatalf("inverse-vol with a zero variance: fallbacks %v over %d decisions", d.Counts, d.Decisions)
			}
		}
	}
}

// TestConfigMisfitErrors: settings that do not fit the panel are errors,
// not fallbacks.
func TestConfigMisfitErrors(t *testing.T) {
	pan := panelFromCloses(t, randomCloses(testRNG(24), 40, 3, 0, 0.03))
	obs := &agents.Observation{Bar: 30, History: pan.View(0, 31)}
	for name, tweak := range map[string]func(*Config) string{
		"budgets": func(c *Config) string { c.Budgets = []float64{1, 1}; return RiskBudget },
		"cap":     func(c *Config) string { c.MaxWeight = 0.2; return MinVariance },
		"views": func(c *Config) string {
			c.BlackLitterman.Views, c.BlackLitterman.P, c.BlackLitterman.Q = ViewsExplicit, [][]float64{{1, -1}}, []float64{0.1}
			return BlackLitterman
		},
		"market": func(c *Config) string { c.BlackLitterman.MarketWeights = []float64{1}; return BlackLitterman },
	} {
		cfg := Defaults()
		cfg.Lookback = 20
		cfg.BlackLitterman.MomentumWindow = 10
		m := tweak(&cfg)
		p := mustNew(t, m, cfg)
		if err := p.Act(make([]float64, 4), obs, nil, agents.Deterministic); err == nil || !strings.Contains(err.Error(), "invalid config") {
			t.Errorf("%s: Act = %v, want a config error", name, err)
		}
		if p.Diagnostics().Decisions != 0 {
			t.Errorf("%s: a failed decision was counted", name)
		}
	}
}

// TestExplicitViews: explicit annualised views are converted per bar and
// passed to portfolio; a strong view on asset 0 raises its weight over the
// no-view allocation.
func TestExplicitViews(t *testing.T) {
	closes := randomCloses(testRNG(25), 80, 4, 0, 0.03)
	pan := panelFromCloses(t, closes)
	act := func(views string) []float64 {
		cfg := Defaults()
		cfg.Lookback = 60
		cfg.BlackLitterman.Views = views
		cfg.BlackLitterman.P = [][]float64{{1, 0, 0, 0}}
		cfg.BlackLitterman.Q = []float64{3.65} // 1% a day
		cfg.BlackLitterman.Omega = [][]float64{{0.0365}}
		p := mustNew(t, BlackLitterman, cfg)
		dst := make([]float64, 5)
		if err := p.Act(dst, &agents.Observation{Bar: 70, History: pan.View(0, 71)}, nil, agents.Deterministic); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	none, explicit := act(ViewsNone), act(ViewsExplicit)
	// No views: the prior, equal market weights.
	for i := 1; i <= 4; i++ {
		if math.Abs(none[i]-0.25) > 1e-9 {
			t.Fatalf("no views: %v, want the equal market weights", none)
		}
	}
	win := windowAt(closes, 70, 60)
	want, err := portfolio.Allocate(portfolio.BlackLitterman, portfolio.Inputs{Returns: win, Estimator: portfolio.CovLedoitWolf},
		portfolio.Options{MaxWeight: 1, RiskAversion: 10, BL: &portfolio.BLOptions{
			P: mat.NewDense(1, 4, []float64{1, 0, 0, 0}), Q: []float64{3.65 / 365}, Omega: mat.NewSymDense(1, []float64{0.0365 / 365}),
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(explicit[1:], want.Weights) || explicit[1] <= 0.25 {
		t.Fatalf("explicit view: %v, portfolio %v", explicit, want.Weights)
	}
}
