package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
)

// cappedKKT checks, independently of the solver's own residuals, the
// optimality conditions of the capped risk-budgeting portfolio: weights in
// [0, u] summing to 1, zero weight for zero budgets, and with
// RCᵢ = wᵢ(Σw)ᵢ/wᵀΣw and θ fitted on the assets below their cap,
// RCᵢ = θbᵢ below the cap and RCᵢ ≤ θbᵢ at it. It returns θ, the number
// of assets at their cap and the residual.
func cappedKKT(t *testing.T, cov mat.Symmetric, w, b, u []float64) (theta float64, capped int, resid float64) {
	t.Helper()
	n := len(w)
	if b == nil {
		b = constant(n, 1/float64(n))
	}
	s := 0.0
	for i, v := range w {
		if v < 0 || v > u[i] {
			t.Fatalf("weight %d = %.17g outside [0, %v]", i, v, u[i])
		}
		if b[i] == 0 && v != 0 {
			t.Fatalf("weight %d = %v for a zero budget", i, v)
		}
		s += v
	}
	// Σw = 1 exactly up to the rounding of n additions.
	if math.Abs(s-1) > 1e-12 {
		t.Fatalf("weights sum to %.17g", s)
	}
	rc := RiskContributions(nil, cov, w)
	atCap := func(i int) bool { return w[i] == u[i] }
	rcFree, bFree := 0.0, 0.0
	for i := range n {
		if !atCap(i) && b[i] > 0 {
			rcFree += rc[i]
			bFree += b[i]
		} else if atCap(i) {
			capped++
		}
	}
	theta = rcFree / bFree
	for i := range n {
		switch {
		case b[i] == 0:
		case atCap(i):
			resid = math.Max(resid, rc[i]-theta*b[i])
		default:
			resid = math.Max(resid, math.Abs(rc[i]-theta*b[i]))
		}
	}
	return theta, capped, resid
}

// randBudgets returns budgets 0.1 + U(0, 1), normalised.
func randBudgets(rng *rand.Rand, n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = 0.1 + rng.Float64()
	}
	s := sum(b)
	for i := range b {
		b[i] /= s
	}
	return b
}

// bindingCap returns a cap between 1/N and the largest unconstrained
// weight w0max, so that it binds: 1/N + frac·(w0max − 1/N).
func bindingCap(n int, w0max, frac float64) float64 {
	return 1/float64(n) + frac*(w0max-1/float64(n))
}

func TestRiskBudgetCappedNoBind(t *testing.T) {
	// Caps at or above the unconstrained weights (and caps ≥ 1, and nil)
	// leave the unconstrained solution: SolveCapped returns Solve's weights
	// (compared to 1e-10, the solver tolerance; they are in fact the same
	// computation) with θ = 1 and nothing capped.
	rng := testrng.New(t, 20)
	for _, n := range []int{2, 5, 10, 50} {
		cov := randCov(rng, n)
		b := randBudgets(rng, n)
		ref := make([]float64, n)
		if _, err := RiskBudget(ref, cov, b, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			upper []float64
		}{
			{"nil", nil},
			{"one", constant(n, 1)},
			{"inf", constant(n, math.Inf(1))},
			{"just above", constant(n, maxAbs(ref)*(1+1e-9))},
			{"at", append([]float64(nil), ref...)},
		} {
			w := make([]float64, n)
			res, err := RiskBudgetCapped(w, cov, b, c.upper, nil)
			if err != nil {
				t.Fatalf("N=%d %s: %v", n, c.name, err)
			}
			if d := maxAbsDiff(w, ref); d > 1e-10 {
				t.Fatalf("N=%d %s: weights differ from the unconstrained ones by %g", n, c.name, d)
			}
			if res.Capped != 0 || res.Scale != 1 || res.Lambdas != 0 {
				t.Fatalf("N=%d %s: %+v", n, c.name, res)
			}
		}
	}
}

func TestRiskBudgetCappedDiagonal(t *testing.T) {
	// Uncorrelated assets (closed form): RCᵢ ∝ wᵢ²σᵢ², so the free assets
	// have wᵢ = c·√bᵢ/σᵢ with c set by Σw = 1 − Σ caps. Unconstrained,
	// w₀ ∝ √0.4/0.05 = 12.6 is 0.59 of the total; a cap of 0.4 binds on
	// asset 0 only (the free weights come out at 0.39 and less).
	sig := []float64{0.05, 0.1, 0.2, 0.3}
	b := []float64{0.4, 0.3, 0.2, 0.1}
	cov := mat.NewSymDense(4, nil)
	for i, s := range sig {
		cov.SetSym(i, i, s*s)
	}
	const u = 0.4
	want := make([]float64, 4)
	want[0] = u
	z := 0.0
	for i := 1; i < 4; i++ {
		want[i] = math.Sqrt(b[i]) / sig[i]
		z += want[i]
	}
	for i := 1; i < 4; i++ {
		want[i] *= (1 - u) / z
	}
	v := 0.0
	for i, s := range sig {
		v += want[i] * want[i] * s * s
	}
	// θ = RCᵢ/bᵢ = c²/V for the free assets, c = (1 − u)/z.
	c := (1 - u) / z
	wantTheta := c * c / v
	w := make([]float64, 4)
	res, err := RiskBudgetCapped(w, cov, b, constant(4, u), &RiskBudgetSettings{Tol: 1e-13})
	if err != nil {
		t.Fatal(err)
	}
	// Direct formulas, evaluated to rounding: 1e-14 on weights of order 0.1.
	if d := maxAbsDiff(w, want); d > 1e-14 {
		t.Fatalf("w = %v, want %v", w, want)
	}
	if res.Capped != 1 || math.Abs(res.Scale-wantTheta) > 1e-12 {
		t.Fatalf("capped %d, θ = %v, want 1 and %v", res.Capped, res.Scale, wantTheta)
	}
	if _, _, r := cappedKKT(t, cov, w, b, constant(4, u)); r > 1e-13 {
		t.Fatalf("residual %g", r)
	}
}

// enumerateCapped finds every point satisfying the capped risk-budgeting
// conditions by brute force: for each set A of assets fixed at their caps
// it solves the reduced problem on the others (Σ_FF x_F + Σ_FA u_A =
// λ b_F/x_F with Σx_F = 1 − Σu_A) by bisection on log λ with cyclical
// coordinate descent for each λ, then keeps the solutions with x_F ≤ u_F
// and uᵢ(Σx)ᵢ ≤ λbᵢ on A. Budgets must be positive. It shares no code
// with SolveCapped.
func enumerateCapped(cov *mat.SymDense, b, u []float64) [][]float64 {
	n := len(b)
	var found [][]float64
	for mask := 0; mask < 1<<n; mask++ {
		inA := func(i int) bool { return mask&(1<<i) != 0 }
		rest := 1.0
		nf := 0
		for i := range n {
			if inA(i) {
				rest -= u[i]
			} else {
				nf++
			}
		}
		if nf == 0 || rest <= 0 {
			continue
		}
		x := make([]float64, n)
		for i := range n {
			if inA(i) {
				x[i] = u[i]
			} else {
				x[i] = rest / float64(nf)
			}
		}
		solve := func(lam float64) float64 {
			for range 100000 {
				change := 0.0
				for i := range n {
					if inA(i) {
						continue
					}
					c := 0.0
					for j := range n {
						if j != i {
							c += cov.At(i, j) * x[j]
						}
					}
					s := cov.At(i, i)
					xi := (-c + math.Sqrt(c*c+4*s*lam*b[i])) / (2 * s)
					change = math.Max(change, math.Abs(xi-x[i])/xi)
					x[i] = xi
				}
				if change < 1e-15 {
					break
				}
			}
			f := 0.0
			for i := range n {
				if !inA(i) {
					f += x[i]
				}
			}
			return f - rest
		}
		lo, hi := math.Log(1e-12), math.Log(1e6)
		if solve(math.Exp(lo)) > 0 || solve(math.Exp(hi)) < 0 {
			continue
		}
		for range 200 {
			mid := 0.5 * (lo + hi)
			if solve(math.Exp(mid)) < 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		lam := math.Exp(0.5 * (lo + hi))
		solve(lam)
		ok := true
		for i := range n {
			sx := 0.0
			for j := range n {
				sx += cov.At(i, j) * x[j]
			}
			if inA(i) {
				ok = ok && x[i]*sx <= lam*b[i]*(1+1e-9)
			} else {
				ok = ok && x[i] <= u[i]*(1+1e-9)
			}
		}
		if !ok {
			continue
		}
		dup := false
		for _, f := range found {
			dup = dup || maxAbsDiff(f, x) < 1e-7
		}
		if !dup {
			found = append(found, x)
		}
	}
	return found
}

func TestRiskBudgetCappedEnumeration(t *testing.T) {
	// N = 2…5, equal and random budgets, caps that bind on one or more
	// assets: the brute-force enumeration over active sets finds exactly
	// one point satisfying the conditions (the portfolio is unique), and
	// SolveCapped returns it. Both are solved to ~1e-13 relative; the
	// comparison allows 1e-9 (the enumeration's acceptance slack).
	rng := testrng.New(t, 21)
	for _, n := range []int{2, 3, 4, 5} {
		for trial := range 6 {
			t.Run(fmt.Sprintf("N=%d/%d", n, trial), func(t *testing.T) {
				var cov *mat.SymDense
				if trial%2 == 0 {
					cov = randCov(rng, n)
				} else {
					cov = randSPD(rng, n, n+2, 0.05)
				}
				b := constant(n, 1/float64(n))
				if trial >= 2 {
					b = randBudgets(rng, n)
				}
				w0 := make([]float64, n)
				if _, err := RiskBudget(w0, cov, b, nil); err != nil {
					t.Fatal(err)
				}
				u := constant(n, bindingCap(n, maxAbs(w0), 0.2+0.6*rng.Float64()))
				if trial >= 4 {
					// Per-asset caps, each between 1/N and above w0.
					// Per-asset caps around w0, the largest weight's below it.
					imax := 0
					for i := range u {
						u[i] = math.Max(w0[i]*(0.6+0.8*rng.Float64()), 1.02/float64(n))
						if w0[i] > w0[imax] {
							imax = i
						}
					}
					u[imax] = 0.5 * (w0[imax] + 1/float64(n))
					if sum(u) < 1.01 {
						u = constant(n, bindingCap(n, maxAbs(w0), 0.5))
					}
				}
				w := make([]float64, n)
				res, err := RiskBudgetCapped(w, cov, b, u, nil)
				if err != nil {
					t.Fatal(err)
				}
				pts := enumerateCapped(cov, b, u)
				if len(pts) != 1 {
					t.Fatalf("enumeration found %d KKT points: %v", len(pts), pts)
				}
				if d := maxAbsDiff(w, pts[0]); d > 1e-9 {
					t.Fatalf("w = %v, enumeration %v (diff %g)", w, pts[0], d)
				}
				theta, capped, r := cappedKKT(t, cov, w, b, u)
				if r > 1e-10 || capped != res.Capped || capped == 0 || math.Abs(theta-res.Scale) > 1e-12 {
					t.Fatalf("residual %g, capped %d, θ %v; solver reports %+v", r, capped, theta, res)
				}
			})
		}
	}
}

func TestRiskBudgetCappedRandom(t *testing.T) {
	// N up to 200, one-factor and dense random covariances, equal, random
	// and partly zero budgets, uniform and per-asset binding caps: the
	// conditions hold to the solver tolerance 1e-10 (checked here from the
	// weights alone), the reported residual is the one computed here (to
	// rounding, 1e-13), Σw = 1 to 1e-12, and θ ≥ 1.
	rng := testrng.New(t, 22)
	for _, n := range []int{10, 50, 200} {
		for trial := range 4 {
			t.Run(fmt.Sprintf("N=%d/%d", n, trial), func(t *testing.T) {
				cov := randCov(rng, n)
				if trial%2 == 1 {
					cov = randSPD(rng, n, n+3, 0.01)
				}
				var b []float64
				if trial >= 2 {
					b = randBudgets(rng, n)
				}
				if trial == 3 {
					b[0], b[n-1] = 0, 0
					s := sum(b)
					for i := range b {
						b[i] /= s
					}
				}
				w0 := make([]float64, n)
				if _, err := RiskBudget(w0, cov, b, nil); err != nil {
					t.Fatal(err)
				}
				kept := n
				if trial == 3 {
					kept = n - 2 // the caps must cover the assets with budgets
				}
				u := constant(n, bindingCap(kept, maxAbs(w0), 0.3))
				if trial == 2 {
					// Per-asset caps around w0, the largest weight's below it.
					imax := 0
					for i := range u {
						u[i] = math.Max(w0[i]*(0.7+0.6*rng.Float64()), 1.5/float64(n))
						if w0[i] > w0[imax] {
							imax = i
						}
					}
					u[imax] = 0.5 * (w0[imax] + 1/float64(n))
				}
				w := make([]float64, n)
				res, err := RiskBudgetCapped(w, cov, b, u, nil)
				if err != nil {
					t.Fatal(err)
				}
				theta, capped, r := cappedKKT(t, cov, w, b, u)
				if r > 1e-10 || math.Abs(r-res.RCError) > 1e-13 {
					t.Fatalf("residual %g, reported %g", r, res.RCError)
				}
				if capped == 0 || capped != res.Capped || !(theta >= 1) || math.Abs(theta-res.Scale) > 1e-12 {
					t.Fatalf("capped %d θ %v; reported %+v", capped, theta, res)
				}
				if res.KKT.Primal > 1e-12 {
					t.Fatalf("primal residual %g", res.KKT.Primal)
				}
				t.Logf("%d capped, θ = %.6f, residual %.2g, %d Newton iterations (%d sweeps) over %d values of λ",
					capped, theta, r, res.Iter, res.Sweeps, res.Lambdas)
			})
		}
	}
}

func TestRiskBudgetCappedEdges(t *testing.T) {
	cov := mat.NewSymDense(3, []float64{0.04, 0.01, -0.005, 0.01, 0.09, 0.02, -0.005, 0.02, 0.01})
	w := make([]float64, 3)
	t.Run("single feasible point", func(t *testing.T) {
		// Caps summing to 1 leave w = u.
		u := []float64{0.5, 0.3, 0.2}
		res, err := RiskBudgetCapped(w, cov, nil, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(w, u); d > 1e-15 || res.Capped != 3 || res.RCError != 0 {
			t.Fatalf("w = %v, %+v", w, res)
		}
	})
	t.Run("zero budget", func(t *testing.T) {
		// A zero-budget asset gets no weight even with a zero cap; the two
		// others are capped at 0.6 or free.
		b := []float64{0.5, 0, 0.5}
		u := []float64{0.6, 0, 0.6}
		if _, err := RiskBudgetCapped(w, cov, b, u, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, r := cappedKKT(t, cov, w, b, u); r > 1e-10 || w[1] != 0 {
			t.Fatalf("w = %v, residual %g", w, r)
		}
	})
	for _, c := range []struct {
		name string
		b, u []float64
		want error
	}{
		{"infeasible", nil, []float64{0.3, 0.3, 0.3}, ErrInfeasible},
		{"infeasible without the zero budget", []float64{0.5, 0.5, 0}, []float64{0.4, 0.5, 1}, ErrInfeasible},
		{"NaN cap", nil, []float64{math.NaN(), 1, 1}, ErrInvalid},
		{"negative cap", nil, []float64{-0.1, 1, 1}, ErrInvalid},
		{"zero cap, positive budget", nil, []float64{0, 1, 1}, ErrInvalid},
		{"bad budgets", []float64{0.5, 0.6, 0.1}, []float64{0.5, 0.5, 0.5}, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := RiskBudgetCapped(w, cov, c.b, c.u, nil); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
	t.Run("iteration limit", func(t *testing.T) {
		// One Newton iteration cannot solve the unconstrained problem and
		// then the capped one: an iteration-limit error, dst a valid
		// (normalised, capped) iterate.
		u := constant(3, 0.36)
		_, err := RiskBudgetCapped(w, cov, nil, u, &RiskBudgetSettings{MaxIter: 1, WarmSweeps: -1})
		if !errors.Is(err, ErrIterationLimit) {
			t.Fatalf("error %v, want iteration limit", err)
		}
		for i, v := range w {
			if !(v > 0 && v <= u[i]) {
				t.Fatalf("last iterate %v", w)
			}
		}
		if math.Abs(sum(w)-1) > 1e-12 {
			t.Fatalf("last iterate sums to %v", sum(w))
		}
	})
}

// TestRiskBudgetCappedFlatSum is a review's counterexample: two strongly
// negatively correlated assets with equal budgets and a cap of 0.5458. The
// outer Newton step on log λ used to jump to λ = +Inf (Σx*(λ) is nearly
// flat there) and return both assets at the cap, summing to 1.0916, with no
// error. The answer is (0.5458, 0.4542): unconstrained risk parity puts
// 0.6129 in the first asset, so the cap binds there only.
func TestRiskBudgetCappedFlatSum(t *testing.T) {
	cov := mat.NewSymDense(2, []float64{2372.82, -3755.85, -3755.85, 5946.93})
	b := []float64{0.5, 0.5}
	u := []float64{0.5458, 0.5458}
	w := make([]float64, 2)
	var s RiskBudgeter
	res, err := s.SolveCapped(w, cov, b, u)
	if err != nil {
		// A clear failure is acceptable (the caller falls back); a wrong
		// answer without an error is not.
		if !errors.Is(err, ErrIterationLimit) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		t.Logf("solver gave up cleanly: %v", err)
		return
	}
	if math.Abs(w[0]+w[1]-1) > 1e-12 || math.Abs(w[0]-0.5458) > 1e-9 {
		t.Fatalf("weights %v (sum %v, KKT %+v), want (0.5458, 0.4542)", w, w[0]+w[1], res.KKT)
	}
}
