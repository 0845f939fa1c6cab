package portfolio

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
	"github.com/folio-rl/folio/optim"
)

// equicorr returns Σ with the given volatilities and one correlation.
func equicorr(sd []float64, rho float64) *mat.SymDense {
	n := len(sd)
	c := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := rho * sd[i] * sd[j]
			if i == j {
				v = sd[i] * sd[i]
			}
			c.SetSym(i, j, v)
		}
	}
	return c
}

// Closed forms hold when no inequality binds; the solutions go through a
// Cholesky solve of a well-conditioned 4×4 matrix (both here and in the
// QP): agreement to 1e-10 on weights of order 0.25.
const tolClosed = 1e-10

func TestClosedForms(t *testing.T) {
	sd := []float64{0.02, 0.025, 0.03, 0.035}
	cov := equicorr(sd, 0.3)
	mu := []float64{0.001, 0.0012, 0.0008, 0.0011}
	n := len(sd)
	in := Inputs{Mu: mu, Cov: cov}
	sinv1 := solveSym(t, cov, ones(n))
	s1 := 0.0
	for _, v := range sinv1 {
		s1 += v
	}

	t.Run("equal-weight", func(t *testing.T) {
		res, err := Allocate(EqualWeight, Inputs{N: 5}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkWeights(t, res, 5, 1)
		for _, w := range res.Weights {
			if w != 0.2 {
				t.Fatalf("weights %v", res.Weights)
			}
		}
	})

	t.Run("inverse-vol", func(t *testing.T) {
		res, err := Allocate(InverseVol, in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := normalise([]float64{1 / 0.02, 1 / 0.025, 1 / 0.03, 1 / 0.035})
		if d := maxAbsDiff(res.Weights, want); d > 1e-15 {
			t.Fatalf("weights %v, want %v", res.Weights, want)
		}
		// With equal correlations inverse-vol is risk parity.
		for _, rc := range res.RiskContrib {
			if math.Abs(rc-0.25) > 1e-14 {
				t.Fatalf("risk contributions %v", res.RiskContrib)
			}
		}
		// Cap 0.3: the first weight (0.3529…) is capped and its excess is
		// spread over the others in proportion: w₁..₃ × (0.7/0.6471…).
		res, err = Allocate(InverseVol, in, Options{MaxWeight: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		checkWeights(t, res, n, 0.3)
		scale := 0.7 / (1 - want[0])
		for i := 1; i < n; i++ {
			if math.Abs(res.Weights[i]-want[i]*scale) > 1e-15 {
				t.Fatalf("capped weights %v", res.Weights)
			}
		}
		if !hasNote(res, "capped") {
			t.Fatalf("no note about the cap: %v", res.Notes)
		}
	})

	t.Run("min-variance", func(t *testing.T) {
		// Global minimum variance Σ⁻¹1/1ᵀΣ⁻¹1 (all positive here).
		want := normalise(sinv1)
		res, err := Allocate(MinVariance, in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkWeights(t, res, n, 1)
		if d := maxAbsDiff(res.Weights, want); d > tolClosed {
			t.Fatalf("weights %v, want %v", res.Weights, want)
		}
		// All risk contributions of the GMV equal its weights.
		for i := range n {
			if math.Abs(res.RiskContrib[i]-res.Weights[i]) > 1e-12 {
				t.Fatalf("GMV contributions %v vs weights %v", res.RiskContrib, res.Weights)
			}
		}
		if res.KKT.Max() > 1e-12 || res.Fallback != "" {
			t.Fatalf("KKT %+v, fallback %q", res.KKT, res.Fallback)
		}
	})

	t.Run("mean-variance", func(t *testing.T) {
		// max μᵀw − λ/2·wᵀΣw s.t. 1ᵀw = 1: w = Σ⁻¹(μ − ν1)/λ with
		// ν = (1ᵀΣ⁻¹μ − λ)/1ᵀΣ⁻¹1.
		for _, lambda := range []float64{20, 50, 200} {
			sinvMu := solveSym(t, cov, mu)
			smu := 0.0
			for _, v := range sinvMu {
				smu += v
			}
			nu := (smu - lambda) / s1
			want := make([]float64, n)
			for i := range want {
				want[i] = (sinvMu[i] - nu*sinv1[i]) / lambda
				if want[i] <= 0 {
					t.Fatalf("λ=%v: test setup: closed form has a non-positive weight %v", lambda, want)
				}
			}
			res, err := Allocate(MeanVariance, in, Options{RiskAversion: lambda})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(res.Weights, want); d > tolClosed {
				t.Fatalf("λ=%v: weights %v, want %v", lambda, res.Weights, want)
			}
			if !scalar.EqualWithinAbsOrRel(res.ExpReturn, dotv(mu, want), 1e-15, 1e-12) {
				t.Fatalf("expected return %v", res.ExpReturn)
			}
		}
	})

	t.Run("max-sharpe", func(t *testing.T) {
		// Tangency: w ∝ Σ⁻¹(μ − rf).
		rf := 0.0002
		ex := make([]float64, n)
		for i := range ex {
			ex[i] = mu[i] - rf
		}
		want := normalise(solveSym(t, cov, ex))
		for _, w := range want {
			if w <= 0 {
				t.Fatalf("test setup: tangency has a non-positive weight %v", want)
			}
		}
		res, err := Allocate(MaxSharpe, in, Options{RiskFree: rf})
		if err != nil {
			t.Fatal(err)
		}
		checkWeights(t, res, n, 1)
		if d := maxAbsDiff(res.Weights, want); d > tolClosed {
			t.Fatalf("weights %v, want %v", res.Weights, want)
		}
	})

	t.Run("risk-parity and risk-budget", func(t *testing.T) {
		res, err := Allocate(RiskParity, Inputs{Cov: equicorr(sd, 0.3)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Equal correlations: ERC = inverse volatility.
		want := normalise([]float64{1 / 0.02, 1 / 0.025, 1 / 0.03, 1 / 0.035})
		if d := maxAbsDiff(res.Weights, want); d > 1e-12 || res.RCError > 1e-10 {
			t.Fatalf("weights %v, want %v (RC error %g)", res.Weights, want, res.RCError)
		}
		b := []float64{0.1, 0.2, 0.3, 0.4}
		res, err = Allocate(RiskBudget, in, Options{Budgets: b})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if math.Abs(res.RiskContrib[i]-b[i]) > 1e-10 {
				t.Fatalf("risk contributions %v, budgets %v", res.RiskContrib, b)
			}
		}
	})
}

func dotv(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func hasNote(res Result, substr string) bool {
	for _, n := range res.Notes {
		if strings.Contains(n, substr) {
			return true
		}
	}
	return false
}

func TestMaxSharpeCappedAgainstGrid(t *testing.T) {
	// Three assets with a cap that binds: the Sharpe ratio of the QP's
	// answer is compared with the best point of a 0.0005 grid over the
	// capped simplex (an independent brute force). The grid's optimum is
	// within a grid step of the true one, and the Sharpe ratio is flat to
	// first order there: relative agreement 1e-5.
	cov := mat.NewSymDense(3, []float64{0.0004, 0.0001, 0.00005, 0.0001, 0.0009, 0.0002, 0.00005, 0.0002, 0.0016})
	mu := []float64{0.002, 0.0015, 0.003}
	rf := 0.0005
	const wmax = 0.45
	sharpe := func(w []float64) float64 {
		v := 0.0
		for i := range 3 {
			for j := range 3 {
				v += w[i] * cov.At(i, j) * w[j]
			}
		}
		return (dotv(mu, w) - rf) / math.Sqrt(v)
	}
	best := math.Inf(-1)
	const step = 0.0005
	for a := 0.0; a <= wmax+1e-12; a += step {
		for b := 0.0; b <= wmax+1e-12; b += step {
			c := 1 - a - b
			if c < -1e-12 || c > wmax+1e-12 {
				continue
			}
			best = math.Max(best, sharpe([]float64{a, b, c}))
		}
	}
	res, err := Allocate(MaxSharpe, Inputs{Mu: mu, Cov: cov}, Options{MaxWeight: wmax, RiskFree: rf})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 3, wmax)
	got := sharpe(res.Weights)
	if got < best*(1-1e-5) || got > best*(1+1e-5) {
		t.Fatalf("Sharpe %v, grid optimum %v (weights %v)", got, best, res.Weights)
	}
	if res.Fallback != "" {
		t.Fatalf("unexpected fallback %q", res.Fallback)
	}
	// The cap binds: without it the first asset would hold 0.66.
	free, err := Allocate(MaxSharpe, Inputs{Mu: mu, Cov: cov}, Options{RiskFree: rf})
	if err != nil {
		t.Fatal(err)
	}
	if free.Weights[0] <= wmax || math.Abs(res.Weights[0]-wmax) > 1e-9 {
		t.Fatalf("uncapped %v, capped %v: the cap does not bind as the test intends", free.Weights, res.Weights)
	}
}

func TestBearMarketFallbacks(t *testing.T) {
	// Every expected return negative (a crypto bear market): max-Sharpe is
	// undefined (no portfolio beats the risk-free rate) and falls back to
	// minimum variance, which it equals exactly; no error, no NaN.
	rng := testrng.New(t, 1)
	mu, cov := oneFactor(rng, 8, -0.003)
	in := Inputs{Mu: mu, Cov: cov}
	mv, err := Allocate(MinVariance, in, Options{MaxWeight: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Allocate(MaxSharpe, in, Options{MaxWeight: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 8, 0.3)
	if res.Used != MinVariance || !strings.HasPrefix(res.Fallback, "max-sharpe → min-variance") {
		t.Fatalf("used %q, fallback %q", res.Used, res.Fallback)
	}
	if !strings.Contains(res.Fallback, "positive expected excess return") || !hasNote(res, "max-sharpe failed") {
		t.Fatalf("fallback reason not recorded: %q, notes %v", res.Fallback, res.Notes)
	}
	if d := maxAbsDiff(res.Weights, mv.Weights); d != 0 {
		t.Fatalf("fallback weights differ from min-variance by %g", d)
	}
	if res.ExpReturn >= 0 {
		t.Fatalf("expected return %v should be negative", res.ExpReturn)
	}

	// Positive returns but all below the risk-free rate: same fallback.
	up := make([]float64, 8)
	for i := range up {
		up[i] = 0.0001 * float64(i+1)
	}
	res, err = Allocate(MaxSharpe, Inputs{Mu: up, Cov: cov}, Options{RiskFree: 0.01})
	if err != nil || res.Used != MinVariance {
		t.Fatalf("rf above every return: used %q, err %v", res.Used, err)
	}

	// Mean-variance needs no positive return: it just picks the least bad.
	res, err = Allocate(MeanVariance, in, Options{MaxWeight: 0.3, RiskAversion: 2})
	if err != nil || res.Fallback != "" {
		t.Fatalf("mean-variance: fallback %q, err %v", res.Fallback, err)
	}
	checkWeights(t, res, 8, 0.3)

	// Efficient return with an unreachable target: the maximum-return
	// portfolio (greedy: the highest returns filled to the cap).
	res, err = Allocate(EfficientReturn, in, Options{MaxWeight: 0.3, TargetReturn: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 8, 0.3)
	rmax, wmaxRet := maxReturn(mu, 0.3)
	if res.Used != MaxReturn || maxAbsDiff(res.Weights, wmaxRet) > 1e-15 || !strings.Contains(res.Fallback, "above the largest feasible") {
		t.Fatalf("used %q, weights %v, fallback %q", res.Used, res.Weights, res.Fallback)
	}
	if !scalar.EqualWithinAbsOrRel(res.ExpReturn, rmax, 1e-18, 1e-12) {
		t.Fatalf("expected return %v, max %v", res.ExpReturn, rmax)
	}
}

func TestEfficientReturn(t *testing.T) {
	rng := testrng.New(t, 2)
	mu, cov := oneFactor(rng, 10, 0.001)
	in := Inputs{Mu: mu, Cov: cov}
	opt := Options{MaxWeight: 0.25}
	gmv, err := Allocate(MinVariance, in, opt)
	if err != nil {
		t.Fatal(err)
	}
	rmax, _ := maxReturn(mu, 0.25)
	// A target between the GMV's return and the maximum binds: the
	// constraint holds with equality and variance rises with the target.
	prevVol := gmv.Vol
	for _, f := range []float64{0.25, 0.5, 0.75, 0.99} {
		target := gmv.ExpReturn + f*(rmax-gmv.ExpReturn)
		opt.TargetReturn = target
		res, err := Allocate(EfficientReturn, in, opt)
		if err != nil {
			t.Fatal(err)
		}
		checkWeights(t, res, 10, 0.25)
		if res.Fallback != "" || math.Abs(res.ExpReturn-target) > 1e-12 || res.KKT.Max() > 1e-12 {
			t.Fatalf("target %v: return %v, fallback %q, KKT %+v", target, res.ExpReturn, res.Fallback, res.KKT)
		}
		if res.Vol < prevVol-1e-15 {
			t.Fatalf("volatility %v fell below %v as the target rose", res.Vol, prevVol)
		}
		prevVol = res.Vol
	}
	// A target below the GMV's return does not bind: the result is the GMV.
	opt.TargetReturn = gmv.ExpReturn - 0.001
	res, err := Allocate(EfficientReturn, in, opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res.Weights, gmv.Weights); d > 1e-12 {
		t.Fatalf("non-binding target: weights differ from the GMV by %g", d)
	}
}

func TestInvalidInput(t *testing.T) {
	cov := equicorr([]float64{0.02, 0.03, 0.04}, 0.2)
	mu := []float64{0.001, 0.002, 0.003}
	in := Inputs{Mu: mu, Cov: cov}
	cases := []struct {
		name   string
		method string
		in     Inputs
		opt    Options
	}{
		{"unknown method", "kelly", in, Options{}},
		{"unknown estimator", MinVariance, Inputs{Returns: mat.NewDense(5, 3, nil), Estimator: "shrunk"}, Options{}},
		{"unknown mean estimator", MeanVariance, Inputs{Returns: mat.NewDense(5, 3, nil), MeanEstimator: "median"}, Options{}},
		{"no assets", EqualWeight, Inputs{}, Options{}},
		{"unknown estimator with Cov", MinVariance, Inputs{Cov: cov, Estimator: "ledoit"}, Options{}},
		{"EWMA decay", MinVariance, Inputs{Returns: mat.NewDense(5, 3, nil), Estimator: CovEWMA, EWMALambda: 1.5}, Options{}},
		{"mismatched mu", MinVariance, Inputs{Mu: mu[:2], Cov: cov}, Options{}},
		{"mismatched N", EqualWeight, Inputs{Mu: mu, N: 4}, Options{}},
		{"NaN mu", MeanVariance, Inputs{Mu: []float64{0, math.NaN(), 0}, Cov: cov}, Options{}},
		{"NaN cov", MinVariance, Inputs{Cov: mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1})}, Options{}},
		{"cap too small", MinVariance, in, Options{MaxWeight: 0.3}},
		{"negative cap", MinVariance, in, Options{MaxWeight: -0.5}},
		{"negative risk aversion", MeanVariance, in, Options{RiskAversion: -1}},
		{"missing mu", MeanVariance, Inputs{Cov: cov}, Options{}},
		{"missing cov", MinVariance, Inputs{Mu: mu}, Options{}},
		{"missing budgets", RiskBudget, in, Options{}},
		{"budgets do not sum to 1", RiskBudget, in, Options{Budgets: []float64{0.5, 0.5, 0.5}}},
		{"negative budget", RiskBudget, in, Options{Budgets: []float64{1.5, -0.5, 0}}},
		{"too few returns", MinVariance, Inputs{Returns: mat.NewDense(1, 3, nil)}, Options{}},
		{"NaN target", EfficientReturn, in, Options{TargetReturn: math.NaN()}},
		{"views without P", BlackLitterman, in, Options{BL: &BLOptions{Q: []float64{0.01}}}},
		{"P columns", BlackLitterman, in, Options{BL: &BLOptions{P: mat.NewDense(1, 2, []float64{1, 0}), Q: []float64{0.01}}}},
		{"negative tau", BlackLitterman, in, Options{BL: &BLOptions{Tau: -1}}},
		{"market weights", BlackLitterman, in, Options{BL: &BLOptions{MarketWeights: []float64{1, -1, 1}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Allocate(c.method, c.in, c.opt)
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error %v, want ErrInput", err)
			}
		})
	}
}

func TestDegenerateFallbacks(t *testing.T) {
	// A zero-variance asset makes inverse-vol, risk parity and HRP
	// undefined: they fall back to equal weight, recording why.
	cov := mat.NewSymDense(3, []float64{0.0004, 0, 0, 0, 0, 0, 0, 0, 0.0009})
	for _, m := range []string{InverseVol, RiskParity, HRP} {
		res, err := Allocate(m, Inputs{Cov: cov}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		checkWeights(t, res, 3, 1)
		if res.Used != EqualWeight || res.Fallback == "" {
			t.Fatalf("%s: used %q, fallback %q", m, res.Used, res.Fallback)
		}
	}
	// Minimum variance handles it exactly: all weight on the riskless asset.
	res, err := Allocate(MinVariance, Inputs{Cov: cov}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Weights[1]-1) > 1e-9 || res.Fallback != "" {
		t.Fatalf("min-variance with a riskless asset: %v (fallback %q)", res.Weights, res.Fallback)
	}
	if res.Vol > 1e-6 {
		t.Fatalf("volatility %v", res.Vol)
	}
}

func TestSingularCovariance(t *testing.T) {
	// T < N: the sample covariance is singular; the QP methods still return
	// valid weights (with a ridge note) and the shrinkage estimators give a
	// regular problem without one.
	rng := testrng.New(t, 3)
	mu, cov := oneFactor(rng, 12, 0.001)
	r := returnsFrom(rng, 8, mu, cov)
	for _, est := range []string{CovSample, CovLedoitWolf, CovOAS} {
		for _, m := range []string{MinVariance, MeanVariance, MaxSharpe} {
			res, err := Allocate(m, Inputs{Returns: r, Estimator: est}, Options{MaxWeight: 0.2})
			if err != nil {
				t.Fatalf("%s/%s: %v", est, m, err)
			}
			checkWeights(t, res, 12, 0.2)
			ridge := hasNote(res, "ridge")
			if est == CovSample && !ridge && res.Fallback == "" {
				t.Errorf("%s/%s: singular sample covariance without a ridge note: %v", est, m, res.Notes)
			}
			if est != CovSample && ridge {
				t.Errorf("%s/%s: ridge needed for a shrinkage estimate", est, m)
			}
			// max-sharpe's residuals are those of the homogenised problem, in
			// y = w/(μ−rf)ᵀw of order 1e3 here: checked in w-space methods only.
			if res.Fallback == "" && m != MaxSharpe && res.KKT.Max() > 1e-9 {
				t.Errorf("%s/%s: KKT %+v", est, m, res.KKT)
			}
		}
	}
}

func TestAllMethodsRandom(t *testing.T) {
	// Property test over random markets, estimators and caps: every method
	// returns valid weights without error.
	rng := testrng.New(t, 4)
	estimators := []string{CovSample, CovLedoitWolf, CovLWConstCor, CovOAS, CovEWMA}
	for trial := range 12 {
		n := 3 + rng.IntN(10)
		mu, cov := oneFactor(rng, n, 0.002*rng.NormFloat64())
		r := returnsFrom(rng, 40+rng.IntN(200), mu, cov)
		wmax := 1.0
		if trial%2 == 1 {
			wmax = math.Max(1/float64(n)+0.05, 0.3)
		}
		in := Inputs{Returns: r, Estimator: estimators[trial%len(estimators)]}
		if trial%3 == 0 {
			in.MeanEstimator = MeanJamesStein
		}
		budgets := normalise(constant(n, 1))
		budgets[0] *= 2
		budgets = normalise(budgets)
		for _, m := range Methods() {
			opt := Options{MaxWeight: wmax, Budgets: budgets, TargetReturn: 0.001, RiskFree: 0.0001}
			res, err := Allocate(m, in, opt)
			if err != nil {
				t.Fatalf("trial %d %s (%s): %v", trial, m, in.Estimator, err)
			}
			checkWeights(t, res, n, wmax)
			if res.Method != m {
				t.Fatalf("method %q recorded as %q", m, res.Method)
			}
		}
	}
}

func TestEstimatorsFromReturns(t *testing.T) {
	// Each estimator name reaches its estimator: the note names it and the
	// volatility reported matches √(wᵀΣw) with that estimator's Σ.
	rng := testrng.New(t, 5)
	mu, cov := oneFactor(rng, 5, 0.001)
	r := returnsFrom(rng, 300, mu, cov)
	for _, est := range Estimators() {
		res, err := Allocate(MinVariance, Inputs{Returns: r, Estimator: est}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", est, err)
		}
		checkWeights(t, res, 5, 1)
		if est != CovSample && est != CovGARCH && len(res.Notes) == 0 {
			t.Errorf("%s: no note", est)
		}
		if res.Vol <= 0 || res.Vol > 0.2 {
			t.Errorf("%s: volatility %v", est, res.Vol)
		}
	}
}

func TestRealDataAllMethods(t *testing.T) {
	// Daily returns of seven assets: the 2022 bear market (every asset lost
	// 50–80%) and the 2023–2024 recovery. In 2022 every sample mean is
	// negative, so max-sharpe must fall back; in 2023–24 it must not.
	assets := []string{"BTC", "ETH", "BNB", "XRP", "ADA", "LTC", "LINK"}
	for _, period := range []struct {
		from, to string
		bear     bool
	}{{"2022-01-01", "2022-12-31", true}, {"2023-01-01", "2024-12-31", false}} {
		r := realReturns(t, assets, period.from, period.to)
		t.Run(period.from[:4], func(t *testing.T) {
			in := Inputs{Returns: r, Estimator: CovLedoitWolf}
			for _, m := range Methods() {
				res, err := Allocate(m, in, Options{MaxWeight: 0.35, Budgets: normalise(constant(7, 1)), TargetReturn: 0.002})
				if err != nil {
					t.Fatalf("%s: %v", m, err)
				}
				checkWeights(t, res, 7, 0.35)
				t.Logf("%-16s used %-16s ret %8.5f vol %.4f w %.3f", m, res.Used, res.ExpReturn, res.Vol, res.Weights)
				if m == MaxSharpe && (res.Fallback != "") != period.bear {
					t.Errorf("max-sharpe in %s: fallback %q", period.from[:4], res.Fallback)
				}
			}
		})
	}
}

func TestQPResidualsReported(t *testing.T) {
	// The KKT residuals in the Result are the solver's.
	rng := testrng.New(t, 6)
	mu, cov := oneFactor(rng, 6, 0.001)
	res, err := Allocate(MeanVariance, Inputs{Mu: mu, Cov: cov}, Options{MaxWeight: 0.3, RiskAversion: 3})
	if err != nil {
		t.Fatal(err)
	}
	var p mat.SymDense
	p.ScaleSym(3, cov)
	q := make([]float64, 6)
	for i := range q {
		q[i] = -mu[i]
	}
	sol, err := optim.SolveQP(&optim.QP{P: &p, Q: q, A: mat.NewDense(1, 6, ones(6)), B: []float64{1}, Lower: make([]float64, 6), Upper: constant(6, 0.3)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.KKT != sol.KKT || res.Iterations != sol.Iter || maxAbsDiff(res.Weights, sol.X) > 1e-15 {
		t.Fatalf("result KKT %+v iter %d, solver %+v iter %d", res.KKT, res.Iterations, sol.KKT, sol.Iter)
	}
}

func TestTightCap(t *testing.T) {
	// MaxWeight = 1/N leaves a single feasible point, 1/N each; the QPs
	// meet redundant active constraints (the caps sum to the budget) and
	// must still return it.
	rng := testrng.New(t, 10)
	for _, n := range []int{3, 4, 7} {
		mu, cov := oneFactor(rng, n, 0.001)
		for _, m := range Methods() {
			opt := Options{MaxWeight: 1 / float64(n), Budgets: normalise(constant(n, 1)), TargetReturn: -1}
			res, err := Allocate(m, Inputs{Mu: mu, Cov: cov}, opt)
			if err != nil {
				t.Fatalf("N=%d %s: %v", n, m, err)
			}
			checkWeights(t, res, n, 1/float64(n))
			for _, w := range res.Weights {
				if math.Abs(w-1/float64(n)) > 1e-9 {
					t.Fatalf("N=%d %s: weights %v", n, m, res.Weights)
				}
			}
			if res.Fallback != "" {
				t.Errorf("N=%d %s: fallback %q", n, m, res.Fallback)
			}
		}
	}
}
