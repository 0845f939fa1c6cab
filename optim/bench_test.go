package optim

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

// The problems of ../shared/bench/opt_bench.py, on its data files:
//
//	minvar: minimise wᵀΣw                  (P = 2Σ, q = 0)
//	mv:     maximise μᵀw − λ wᵀΣw, λ = 5   (P = 2λΣ, q = −μ)
//
// both subject to 1ᵀw = 1 and 0 ≤ w ≤ 0.4, and ERC risk parity stopped at a
// risk-contribution error of 1e-10.
const (
	benchLambda = 5.0
	benchWMax   = 0.4
)

var benchSizes = []int{10, 50, 200}

func benchQP(cov *mat.SymDense, mu []float64, meanVar bool) *QP {
	n := cov.SymmetricDim()
	p := &QP{
		A:     mat.NewDense(1, n, ones(n)),
		B:     []float64{1},
		Lower: make([]float64, n),
		Upper: constant(n, benchWMax),
	}
	var pm mat.SymDense
	if meanVar {
		pm.ScaleSym(2*benchLambda, cov)
		p.Q = make([]float64, n)
		for i := range mu {
			p.Q[i] = -mu[i]
		}
	} else {
		pm.ScaleSym(2, cov)
	}
	p.P = &pm
	return p
}

// dualBound returns the Lagrangian dual function of p at the solution's
// multipliers (negative parts clipped to zero),
//
//	g = −½cᵀP⁻¹c − bᵀν − hᵀλ + loᵀλₗ − hiᵀλᵤ,  c = q + Aᵀν + Gᵀλ − λₗ + λᵤ,
//
// computed with gonum's Cholesky. By weak duality g ≤ f* for any such
// multipliers, so f(x) − g bounds the suboptimality of a feasible x
// independently of how x and the multipliers were found.
func dualBound(t *testing.T, p *QP, sol *Solution) float64 {
	t.Helper()
	n := p.P.SymmetricDim()
	c := mat.NewVecDense(n, nil)
	g := 0.0
	for i := range n {
		v := 0.0
		if p.Q != nil {
			v = p.Q[i]
		}
		lo, hi := math.Max(sol.Lower[i], 0), math.Max(sol.Upper[i], 0)
		if lo > 0 {
			g += p.Lower[i] * lo
		}
		if hi > 0 {
			g -= p.Upper[i] * hi
		}
		c.SetVec(i, v-lo+hi)
	}
	if p.A != nil {
		c.AddVec(c, mat.NewVecDense(n, nil))
		var at mat.VecDense
		at.MulVec(p.A.T(), mat.NewVecDense(len(sol.Eq), sol.Eq))
		c.AddVec(c, &at)
		for k, nu := range sol.Eq {
			g -= p.B[k] * nu
		}
	}
	if p.G != nil {
		lam := make([]float64, len(sol.Ineq))
		for i, v := range sol.Ineq {
			lam[i] = math.Max(v, 0)
			g -= p.H[i] * lam[i]
		}
		var gt mat.VecDense
		gt.MulVec(p.G.T(), mat.NewVecDense(len(lam), lam))
		c.AddVec(c, &gt)
	}
	var ch mat.Cholesky
	if !ch.Factorize(p.P) {
		t.Fatal("dualBound needs a positive definite P")
	}
	var pc mat.VecDense
	if err := ch.SolveVecTo(&pc, c); err != nil {
		t.Fatal(err)
	}
	return g - 0.5*mat.Dot(c, &pc)
}

// boxBudgetEnum solves min ½xᵀPx + qᵀx s.t. 1ᵀx = 1, 0 ≤ x ≤ wmax by
// enumerating which variables sit at 0, at wmax or strictly between (at
// most ⌊1/wmax⌋ at the cap), solving the equality-constrained problem on
// the free ones by LU and keeping the feasible point with valid multipliers.
func boxBudgetEnum(p *QP, wmax float64) ([]float64, float64) {
	n := p.P.SymmetricDim()
	maxCap := int(math.Floor(1/wmax + 1e-12))
	state := make([]int, n) // 0 free, 1 at 0, 2 at cap
	best, bestX := math.Inf(1), []float64(nil)
	var rec func(i, caps int)
	rec = func(i, caps int) {
		if i < n {
			for s := 0; s < 3; s++ {
				if s == 2 && caps == maxCap {
					continue
				}
				state[i] = s
				c := caps
				if s == 2 {
					c++
				}
				rec(i+1, c)
			}
			return
		}
		var free []int
		x := make([]float64, n)
		rest := 1.0
		for j, s := range state {
			switch s {
			case 0:
				free = append(free, j)
			case 2:
				x[j] = wmax
				rest -= wmax
			}
		}
		k := len(free)
		if k == 0 {
			return
		}
		kkt := mat.NewDense(k+1, k+1, nil)
		rhs := mat.NewVecDense(k+1, nil)
		for a, i := range free {
			v := -p.Q[i]
			for j := range n {
				v -= p.P.At(i, j) * x[j]
			}
			for b, j := range free {
				kkt.Set(a, b, p.P.At(i, j))
			}
			kkt.Set(a, k, 1)
			kkt.Set(k, a, 1)
			rhs.SetVec(a, v)
		}
		rhs.SetVec(k, rest)
		var sol mat.VecDense
		if err := sol.SolveVec(kkt, rhs); err != nil {
			return
		}
		for a, i := range free {
			x[i] = sol.AtVec(a)
			if x[i] < -1e-12 || x[i] > wmax+1e-12 {
				return
			}
		}
		// The rows above read (Px)_F + ν = −q_F, so the gradient of the
		// Lagrangian is Px + q + ν1; a variable at 0 needs it ≥ 0, one at the
		// cap ≤ 0.
		nu := sol.AtVec(k)
		for j, s := range state {
			if s == 0 {
				continue
			}
			gj := p.Q[j] + nu
			for l := range n {
				gj += p.P.At(j, l) * x[l]
			}
			if (s == 1 && gj < -1e-12) || (s == 2 && gj > 1e-12) {
				return
			}
		}
		if f := quadForm(p.P, p.Q, x); f < best {
			best, bestX = f, x
		}
	}
	rec(0, 0)
	return bestX, best
}

// TestBenchProblems checks the solutions of the benchmark problems: the
// constraints hold to 1e-10, the multipliers certify optimality (weak-duality
// gap below 1e-8 relative) and, for N = 10, the objective matches exhaustive
// enumeration to 1e-8 relative.
func TestBenchProblems(t *testing.T) {
	for _, n := range benchSizes {
		cov, mu := benchProblem(t, n)
		for _, meanVar := range []bool{false, true} {
			name := fmt.Sprintf("minvar/N=%d", n)
			if meanVar {
				name = fmt.Sprintf("mv/N=%d", n)
			}
			t.Run(name, func(t *testing.T) {
				p := benchQP(cov, mu, meanVar)
				sol, err := SolveQP(p, nil)
				if err != nil {
					t.Fatal(err)
				}
				sum := 0.0
				for _, w := range sol.X {
					if w < -1e-10 || w > benchWMax+1e-10 {
						t.Fatalf("weight %v outside [0, %v]", w, benchWMax)
					}
					sum += w
				}
				if math.Abs(sum-1) > 1e-10 {
					t.Fatalf("weights sum to %v", sum)
				}
				if sol.KKT.Primal > 1e-10 || sol.KKT.Dual > 0 || sol.KKT.Stationarity > 1e-14 || sol.KKT.Complementarity > 1e-14 {
					t.Fatalf("KKT %+v", sol.KKT)
				}
				g := dualBound(t, p, sol)
				gap := sol.Objective - g
				if gap < -1e-15 || gap > 1e-8*math.Abs(sol.Objective) {
					t.Fatalf("objective %v, dual bound %v: gap %g", sol.Objective, g, gap)
				}
				t.Logf("objective %.15g, duality gap %.3g, %d iterations, %d active", sol.Objective, gap, sol.Iter, len(sol.Active))
				if n == 10 {
					q := p.Q
					if q == nil {
						p.Q = make([]float64, n)
					}
					x, f := boxBudgetEnum(p, benchWMax)
					p.Q = q
					if x == nil {
						t.Fatal("enumeration found no solution")
					}
					if !scalar.EqualWithinAbsOrRel(sol.Objective, f, 0, 1e-8) {
						t.Fatalf("objective %v, enumeration %v", sol.Objective, f)
					}
					// Both are direct methods on systems with condition numbers
					// ~1e2–1e3: errors ~1e-13 on weights of order 0.1.
					if d := maxAbsDiff(sol.X, x); d > 1e-9 {
						t.Fatalf("weights differ from enumeration by %g", d)
					}
				}
			})
		}
		t.Run(fmt.Sprintf("erc/N=%d", n), func(t *testing.T) {
			w := make([]float64, n)
			res, err := RiskBudget(w, cov, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e := rcMaxErr(t, cov, w, nil); e > 1e-10 {
				t.Fatalf("RC error %g", e)
			}
			ref := make([]float64, n)
			if _, err := RiskBudgetCCD(ref, cov, nil, &RiskBudgetSettings{Tol: 1e-13}); err != nil {
				t.Fatal(err)
			}
			// As in TestRiskBudgetRandom: 10·1e-10/b_min relative.
			if d := maxAbsDiff(w, ref); d > 10*1e-10*float64(n)*maxAbs(ref) {
				t.Fatalf("Newton and CCD differ by %g", d)
			}
			t.Logf("RC error %.3g after %d sweeps and %d Newton iterations", res.RCError, res.Sweeps, res.Iter)
		})
	}
}

// Benchmarks on the reference problems; compare with the cvxopt and numpy
// figures of ../shared/bench/README.md.
func BenchmarkMinVariance(b *testing.B) { benchQPSolve(b, false) }

func BenchmarkMeanVariance(b *testing.B) { benchQPSolve(b, true) }

func benchQPSolve(b *testing.B, meanVar bool) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			cov, mu := benchProblem(b, n)
			p := benchQP(cov, mu, meanVar)
			var s QPSolver
			var sol Solution
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Solve(&sol, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRiskParity(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			cov, _ := benchProblem(b, n)
			w := make([]float64, n)
			var s RiskBudgeter
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Solve(w, cov, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRiskParityNewton is pure Newton from the diagonal start, the
// algorithm of opt_bench.py's rp_newton.
func BenchmarkRiskParityNewton(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			cov, _ := benchProblem(b, n)
			w := make([]float64, n)
			s := RiskBudgeter{Settings: RiskBudgetSettings{WarmSweeps: -1}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Solve(w, cov, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRiskParityCapped is ERC with a cap that binds, the constrained
// risk-budgeting portfolio of SolveCapped: the cap is a quarter of the way
// from 1/N to the largest unconstrained weight (the number of assets it
// holds at the cap is reported as capped/op).
func BenchmarkRiskParityCapped(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			cov, _ := benchProblem(b, n)
			w := make([]float64, n)
			if _, err := RiskBudget(w, cov, nil, nil); err != nil {
				b.Fatal(err)
			}
			u := constant(n, 1/float64(n)+0.25*(maxAbs(w)-1/float64(n)))
			var s RiskBudgeter
			var res RiskBudgetResult
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if res, err = s.SolveCapped(w, cov, nil, u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Capped), "capped/op")
			b.ReportMetric(float64(res.Iter), "newton/op")
		})
	}
}
