package portfolio

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
)

func TestRiskBudgetCapConstrained(t *testing.T) {
	// risk-parity and risk-budget with a cap that binds solve the
	// constrained risk-budgeting problem (Richard–Roncalli): weights in
	// [0, cap] summing to 1, the uncapped assets' risk contributions equal
	// θ·bᵢ with one θ ≥ 1 (checked here from RiskContrib, 1e-10 the solver
	// tolerance), the capped ones at most θ·bᵢ, RCError and KKT reporting
	// that residual, and a note. A cap that does not bind changes nothing
	// (the weights without a cap, to 1e-10).
	rng := testrng.New(t, 11)
	for trial := range 6 {
		n := 4 + rng.IntN(8)
		_, cov := oneFactor(rng, n, 0)
		budgets := make([]float64, n)
		for i := range budgets {
			budgets[i] = 0.2 + rng.Float64()
		}
		budgets = normalise(budgets)
		for _, m := range []string{RiskParity, RiskBudget} {
			b := budgets
			if m == RiskParity {
				b = constant(n, 1/float64(n))
			}
			opt := Options{Budgets: budgets}
			free, err := Allocate(m, Inputs{Cov: cov}, opt)
			if err != nil {
				t.Fatal(err)
			}
			w0max := 0.0
			for _, v := range free.Weights {
				w0max = math.Max(w0max, v)
			}
			opt.MaxWeight = w0max + 1e-3
			loose, err := Allocate(m, Inputs{Cov: cov}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(loose.Weights, free.Weights); d > 1e-10 || hasNote(loose, "constrained") {
				t.Fatalf("%s: a cap that does not bind moved the weights by %g (notes %v)", m, d, loose.Notes)
			}

			wmax := 1/float64(n) + 0.4*(w0max-1/float64(n))
			opt.MaxWeight = wmax
			res, err := Allocate(m, Inputs{Cov: cov}, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkWeights(t, res, n, wmax)
			if res.Used != m || res.Fallback != "" || !hasNote(res, "constrained risk budgeting") {
				t.Fatalf("%s: used %q, fallback %q, notes %v", m, res.Used, res.Fallback, res.Notes)
			}
			rcFree, bFree, capped := 0.0, 0.0, 0
			for i, w := range res.Weights {
				if w == wmax {
					capped++
				} else {
					rcFree += res.RiskContrib[i]
					bFree += b[i]
				}
			}
			theta := rcFree / bFree
			resid := 0.0
			for i, w := range res.Weights {
				r := res.RiskContrib[i] - theta*b[i]
				if w == wmax {
					resid = math.Max(resid, r)
				} else {
					resid = math.Max(resid, math.Abs(r))
				}
			}
			if capped == 0 || !(theta >= 1) || resid > 1e-10 {
				t.Fatalf("%s trial %d: %d capped, θ = %v, residual %g", m, trial, capped, theta, resid)
			}
			// The solver's residual is computed on the same weights (before
			// sanitize's renormalisation, which moves them by ~1e-16).
			if math.Abs(res.RCError-resid) > 1e-12 || res.RCError != math.Max(res.KKT.Stationarity, res.KKT.Dual) {
				t.Fatalf("%s: RCError %g, KKT %+v, residual here %g", m, res.RCError, res.KKT, resid)
			}
		}
	}
}

func TestRiskParityCapDiffersFromRedistribution(t *testing.T) {
	// Three correlated assets, the first with the lowest volatility, so
	// unconstrained ERC gives it more than the cap 0.4. Cap-and-redistribute
	// (the treatment before the constrained solver) scales the other two by
	// the same factor, which keeps their weight ratio but not their risk
	// contributions once the first asset's weight changes; the constrained
	// portfolio keeps the two uncapped contributions equal (1e-10, the
	// solver tolerance) and so differs from it.
	sd := []float64{0.01, 0.02, 0.04}
	rho := [3][3]float64{{1, 0.5, 0}, {0.5, 1, 0.6}, {0, 0.6, 1}}
	cov := mat.NewSymDense(3, nil)
	for i := range 3 {
		for j := i; j < 3; j++ {
			cov.SetSym(i, j, rho[i][j]*sd[i]*sd[j])
		}
	}
	free, err := Allocate(RiskParity, Inputs{Cov: cov}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if free.Weights[0] <= 0.4 {
		t.Fatalf("unconstrained weights %v: the cap does not bind as the test intends", free.Weights)
	}
	redis := []float64{0.4, 0, 0}
	for i := 1; i < 3; i++ {
		redis[i] = free.Weights[i] * 0.6 / (1 - free.Weights[0])
	}
	rcRedis := make([]float64, 3)
	v := 0.0
	for i := range 3 {
		for j := range 3 {
			rcRedis[i] += redis[i] * cov.At(i, j) * redis[j]
		}
		v += rcRedis[i]
	}
	res, err := Allocate(RiskParity, Inputs{Cov: cov}, Options{MaxWeight: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 3, 0.4)
	if res.Weights[0] != 0.4 || math.Abs(res.RiskContrib[1]-res.RiskContrib[2]) > 1e-10 {
		t.Fatalf("weights %v, contributions %v", res.Weights, res.RiskContrib)
	}
	if d := math.Abs(rcRedis[1]-rcRedis[2]) / v; d < 1e-3 {
		t.Fatalf("redistribution's uncapped contributions differ by only %g: the case does not separate the two", d)
	}
	if d := maxAbsDiff(res.Weights, redis); d < 1e-3 {
		t.Fatalf("constrained %v and redistributed %v weights agree to %g", res.Weights, redis, d)
	}
	t.Logf("constrained %.4f (RC %.4f), redistributed %.4f (RC %.4f)", res.Weights, res.RiskContrib, redis,
		[]float64{rcRedis[0] / v, rcRedis[1] / v, rcRedis[2] / v})
}
