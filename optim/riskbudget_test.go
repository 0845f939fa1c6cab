package optim

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
)

func rcMaxErr(t *testing.T, cov mat.Symmetric, w, b []float64) float64 {
	t.Helper()
	rc := RiskContributions(nil, cov, w)
	e := 0.0
	for i := range rc {
		bi := 1 / float64(len(rc))
		if b != nil {
			bi = b[i]
		}
		e = math.Max(e, math.Abs(rc[i]-bi))
	}
	return e
}

func TestRiskBudgetClosedForms(t *testing.T) {
	t.Run("diagonal", func(t *testing.T) {
		// Uncorrelated assets: RCᵢ ∝ wᵢ²σᵢ², so wᵢ ∝ √bᵢ/σᵢ.
		sig := []float64{0.1, 0.25, 0.05, 0.4}
		b := []float64{0.4, 0.3, 0.2, 0.1}
		cov := mat.NewSymDense(4, nil)
		want := make([]float64, 4)
		sum := 0.0
		for i, s := range sig {
			cov.SetSym(i, i, s*s)
			want[i] = math.Sqrt(b[i]) / s
			sum += want[i]
		}
		for i := range want {
			want[i] /= sum
		}
		for _, warm := range []int{-1, 0} {
			w := make([]float64, 4)
			res, err := RiskBudget(w, cov, b, &RiskBudgetSettings{WarmSweeps: warm})
			if err != nil {
				t.Fatal(err)
			}
			// The starting point is already the solution up to scaling.
			if d := maxAbsDiff(w, want); d > 1e-14 {
				t.Fatalf("warm %d: w = %v, want %v", warm, w, want)
			}
			if res.Iter != 0 {
				t.Fatalf("warm %d: %d Newton iterations from the exact start", warm, res.Iter)
			}
		}
	})

	t.Run("two assets", func(t *testing.T) {
		// With x = w₁σ₁/(w₂σ₂), RC₁/RC₂ = x(x+ρ)/(1+ρx) = β := b₁/b₂, so
		// x² + ρ(1−β)x − β = 0: x = (−ρ(1−β) + √(ρ²(1−β)² + 4β))/2.
		// For β = 1 this gives x = 1 (inverse-volatility weights) for any ρ.
		for _, c := range []struct{ s1, s2, rho, b1 float64 }{
			{0.2, 0.5, 0.3, 0.5}, {0.2, 0.5, -0.6, 0.5}, {0.3, 0.1, 0.8, 0.7}, {0.05, 0.6, -0.2, 0.15},
		} {
			b := []float64{c.b1, 1 - c.b1}
			beta := b[0] / b[1]
			x := (-c.rho*(1-beta) + math.Sqrt(c.rho*c.rho*(1-beta)*(1-beta)+4*beta)) / 2
			r := x * c.s2 / c.s1 // w₁/w₂
			want := []float64{r / (1 + r), 1 / (1 + r)}
			cov := mat.NewSymDense(2, []float64{c.s1 * c.s1, c.rho * c.s1 * c.s2, c.rho * c.s1 * c.s2, c.s2 * c.s2})
			for _, warm := range []int{-1, 0} {
				w := make([]float64, 2)
				if _, err := RiskBudget(w, cov, b, &RiskBudgetSettings{Tol: 1e-14, WarmSweeps: warm}); err != nil {
					t.Fatal(err)
				}
				// Stopped at RC error 1e-14; the weights are O(1) functions of the
				// contributions with O(1) sensitivity here.
				if d := maxAbsDiff(w, want); d > 1e-12 {
					t.Errorf("%+v warm %d: w = %v, want %v", c, warm, w, want)
				}
			}
		}
	})

	t.Run("zero budget", func(t *testing.T) {
		// An asset with a zero budget gets no weight; the others solve the
		// reduced problem (here: two uncorrelated assets, w ∝ √b/σ).
		cov := mat.NewSymDense(3, []float64{0.04, 0.01, 0, 0.01, 0.09, 0, 0, 0, 0.01})
		w := make([]float64, 3)
		if _, err := RiskBudget(w, cov, []float64{0.5, 0, 0.5}, nil); err != nil {
			t.Fatal(err)
		}
		want := []float64{0.1 / (0.1 + 0.2), 0, 0.2 / (0.1 + 0.2)} // 1/σ: 5 and 10
		if d := maxAbsDiff(w, []float64{1.0 / 3, 0, 2.0 / 3}); d > 1e-12 {
			t.Fatalf("w = %v, want %v", w, want)
		}
	})
}

func TestRiskBudgetRandom(t *testing.T) {
	// ERC and random budgets on random covariance matrices up to N = 200:
	// the contributions match to the requested 1e-10, with and without the
	// warm start, and agree with coordinate descent (an independent method
	// with its own stopping rule, run to 1e-13).
	rng := testrng.New(t, 4)
	for _, n := range []int{2, 3, 10, 50, 200} {
		for trial := range 3 {
			t.Run(fmt.Sprintf("N=%d/%d", n, trial), func(t *testing.T) {
				var cov *mat.SymDense
				if trial == 0 {
					cov = randCov(rng, n)
				} else {
					cov = randSPD(rng, n, n+3, 0.01)
				}
				var b []float64
				if trial == 2 {
					b = make([]float64, n)
					s := 0.0
					for i := range b {
						b[i] = 0.1 + rng.Float64()
						s += b[i]
					}
					for i := range b {
						b[i] /= s
					}
				}
				ref := make([]float64, n)
				if _, err := RiskBudgetCCD(ref, cov, b, &RiskBudgetSettings{Tol: 1e-13}); err != nil {
					t.Fatal(err)
				}
				for _, warm := range []int{-1, 0} {
					w := make([]float64, n)
					res, err := RiskBudget(w, cov, b, &RiskBudgetSettings{WarmSweeps: warm})
					if err != nil {
						t.Fatal(err)
					}
					e := rcMaxErr(t, cov, w, b)
					if e > 1e-10 || math.Abs(e-res.RCError) > 1e-13 {
						t.Fatalf("warm %d: RC error %g (reported %g)", warm, e, res.RCError)
					}
					// An absolute RC error e is a relative error e/bᵢ in a
					// contribution and moves the weights by a comparable relative
					// amount (times a condition factor of order one): allow ten
					// times 1e-10/b_min relative to the largest weight.
					bmin := 1 / float64(n)
					for _, v := range b {
						bmin = math.Min(bmin, v)
					}
					if d := maxAbsDiff(w, ref); d > 10*1e-10/bmin*maxAbs(ref) {
						t.Fatalf("warm %d: Newton and CCD weights differ by %g", warm, d)
					}
					sum := 0.0
					for _, v := range w {
						if !(v > 0) {
							t.Fatalf("non-positive weight %v", v)
						}
						sum += v
					}
					if math.Abs(sum-1) > 1e-14 {
						t.Fatalf("weights sum to %v", sum)
					}
				}
			})
		}
	}
}

func TestRiskBudgetErrors(t *testing.T) {
	cov := mat.NewSymDense(2, []float64{0.04, 0, 0, 0.09})
	w := make([]float64, 2)
	cases := []struct {
		name string
		cov  *mat.SymDense
		b    []float64
		want error
	}{
		{"budgets do not sum to one", cov, []float64{0.5, 0.6}, ErrInvalid},
		{"negative budget", cov, []float64{1.5, -0.5}, ErrInvalid},
		{"NaN budget", cov, []float64{math.NaN(), 1}, ErrInvalid},
		{"zero variance", mat.NewSymDense(2, []float64{0.04, 0, 0, 0}), nil, ErrDegenerate},
		{"NaN covariance", mat.NewSymDense(2, []float64{0.04, math.NaN(), math.NaN(), 0.09}), nil, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := RiskBudget(w, c.cov, c.b, nil); !errors.Is(err, c.want) {
				t.Fatalf("Newton: error %v, want %v", err, c.want)
			}
			if _, err := RiskBudgetCCD(w, c.cov, c.b, nil); !errors.Is(err, c.want) {
				t.Fatalf("CCD: error %v, want %v", err, c.want)
			}
		})
	}
	t.Run("iteration limit", func(t *testing.T) {
		c := mat.NewSymDense(3, []float64{0.04, 0.03, -0.01, 0.03, 0.09, 0.02, -0.01, 0.02, 0.01})
		w := make([]float64, 3)
		_, err := RiskBudget(w, c, nil, &RiskBudgetSettings{MaxIter: 1, Tol: 1e-300, WarmSweeps: -1})
		if !errors.Is(err, ErrIterationLimit) {
			t.Fatalf("error %v, want iteration limit", err)
		}
		for _, v := range w {
			if !(v > 0) {
				t.Fatalf("last iterate %v is not a valid weight vector", w)
			}
		}
	})
}

func TestCholeskyAgainstGonum(t *testing.T) {
	// The package's Cholesky kernel against mat.Cholesky (LAPACK's dpotrf):
	// both are backward stable, so the factors agree to a small multiple of
	// cond(A)·ε ≈ 1e3·1e-16.
	rng := testrng.New(t, 5)
	for _, n := range []int{1, 2, 7, 64, 131} {
		s := randSPD(rng, n, n+5, 0.1)
		a := make([]float64, n*n)
		copySym(a, s)
		if !cholesky(a, n, 0, make([]float64, n)) {
			t.Fatalf("n=%d: factorisation failed", n)
		}
		var ch mat.Cholesky
		if !ch.Factorize(s) {
			t.Fatal("gonum factorisation failed")
		}
		var l mat.TriDense
		ch.LTo(&l)
		for i := range n {
			for j := 0; j <= i; j++ {
				if d := math.Abs(a[i*n+j] - l.At(i, j)); d > 1e-11 {
					t.Fatalf("n=%d: L[%d][%d] = %v, gonum %v", n, i, j, a[i*n+j], l.At(i, j))
				}
			}
		}
		inv := make([]float64, n*n)
		lowerInverse(inv, a, n)
		for i := range n {
			for j := range n {
				s := 0.0
				for k := 0; k <= i; k++ { // the strict upper triangle of a still holds A
					s += a[i*n+k] * inv[k*n+j]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(s-want) > 1e-10 {
					t.Fatalf("n=%d: (L·L⁻¹)[%d][%d] = %v", n, i, j, s)
				}
			}
		}
	}
	if cholesky([]float64{1, 2, 2, 1}, 2, 0, make([]float64, 2)) {
		t.Fatal("indefinite matrix factorised")
	}
}
