package risk

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/folio-rl/folio/internal/testrng"
	"github.com/folio-rl/folio/vol"
)

// Deterministic float64 arithmetic on O(1e-4) entries: agreement to 1e-12
// relative (tens of ulps through sums of a few hundred terms).
const tolRel = 1e-12

func TestHandChecked(t *testing.T) {
	// Returns in percent points ×0.01:
	//   x = (1, 3, −1, 1), y = (2, 1, 4, 1).
	// Means 1 and 2; deviations x (0, 2, −2, 0), y (0, −1, 2, −1);
	// Σdx² = 8, Σdy² = 6, Σdxdy = −2 − 4 = −6, so with 1/(T−1) = 1/3:
	// S = [[8/3, −2], [−2, 2]]·1e-4.
	r := mat.NewDense(4, 2, []float64{0.01, 0.02, 0.03, 0.01, -0.01, 0.04, 0.01, 0.01})
	mean, err := Mean(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if !scalar.EqualWithinAbsOrRel(mean[0], 0.01, 0, tolRel) || !scalar.EqualWithinAbsOrRel(mean[1], 0.02, 0, tolRel) {
		t.Fatalf("mean %v, want [0.01 0.02]", mean)
	}
	var s mat.SymDense
	if err := SampleCov(&s, r); err != nil {
		t.Fatal(err)
	}
	want := mat.NewSymDense(2, []float64{8.0 / 3 * 1e-4, -2e-4, -2e-4, 2e-4})
	if d := maxAbsDiffSym(&s, want); d > 1e-4*tolRel {
		t.Fatalf("sample covariance %v, want %v", mat.Formatted(&s), mat.Formatted(want))
	}

	// EWMA, T = 2, λ = 0.5: weights (1−λ)λᵏ/(1−λ²) are 2/3 (last row) and
	// 1/3 (first). Rows a = (1, 2), b = (3, −1) (×0.01):
	// 1/3·aaᵀ + 2/3·bbᵀ = [[1/3 + 6, 2/3 − 2], [·, 4/3 + 2/3]]
	//                   = [[19/3, −4/3], [−4/3, 2]]·1e-4.
	r2 := mat.NewDense(2, 2, []float64{0.01, 0.02, 0.03, -0.01})
	var e mat.SymDense
	if err := EWMACov(&e, r2, 0.5); err != nil {
		t.Fatal(err)
	}
	wantE := mat.NewSymDense(2, []float64{19.0 / 3 * 1e-4, -4.0 / 3 * 1e-4, -4.0 / 3 * 1e-4, 2e-4})
	if d := maxAbsDiffSym(&e, wantE); d > 1e-4*tolRel {
		t.Fatalf("EWMA covariance %v, want %v", mat.Formatted(&e), mat.Formatted(wantE))
	}

	// Correlation of S: −2/√(8/3·2) = −√3/2.
	var c mat.SymDense
	sd := CorrFromCov(&c, nil, &s)
	if !scalar.EqualWithinAbsOrRel(c.At(0, 1), -math.Sqrt(3)/2, 0, tolRel) || c.At(0, 0) != 1 {
		t.Fatalf("correlation %v", mat.Formatted(&c))
	}
	if !scalar.EqualWithinAbsOrRel(sd[1], math.Sqrt(2e-4), 0, tolRel) {
		t.Fatalf("sd %v", sd)
	}
}

func TestJamesSteinHand(t *testing.T) {
	// Four assets, two bars (×0.01): (1, 3), (0, 2), (−1, 1), (5, 7).
	// Means 0.02, 0.01, 0, 0.06; each unbiased variance 2e-4, so σ̄²/T = 1e-4.
	// Grand mean 0.0225; Σ(x̄ − m̄)² = 6.25e-6 + 1.5625e-4 + 5.0625e-4 +
	// 1.40625e-3 = 2.075e-3; c = (4−3)·1e-4/2.075e-3 = 0.048192771…
	r := mat.NewDense(2, 4, []float64{0.01, 0, -0.01, 0.05, 0.03, 0.02, 0.01, 0.07})
	mu, c, err := JamesSteinMean(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	wantC := 1e-4 / 2.075e-3
	if !scalar.EqualWithinAbsOrRel(c, wantC, 0, tolRel) {
		t.Fatalf("shrinkage %v, want %v", c, wantC)
	}
	for i, m := range []float64{0.02, 0.01, 0, 0.06} {
		want := 0.0225 + (1-wantC)*(m-0.0225)
		if !scalar.EqualWithinAbsOrRel(mu[i], want, 1e-17, tolRel) {
			t.Fatalf("mu[%d] = %v, want %v", i, mu[i], want)
		}
	}

	// Fewer than four assets: sample means, no shrinkage.
	mu3, c3, err := JamesSteinMean(nil, r.Slice(0, 2, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if c3 != 0 || math.Abs(mu3[0]-0.02) > 1e-17 {
		t.Fatalf("N = 3: mu %v, c %v", mu3, c3)
	}

	// Means far apart relative to their noise are barely shrunk; identical
	// means are left alone; the grand mean is always preserved.
	rng := testrng.New(t, 7)
	big := randReturns(rng, 500, 12)
	js, cb, err := JamesSteinMean(nil, big)
	if err != nil {
		t.Fatal(err)
	}
	sm, _ := Mean(nil, big)
	g1, g2 := 0.0, 0.0
	for i := range js {
		g1 += js[i]
		g2 += sm[i]
	}
	if !(cb >= 0 && cb <= 1) || math.Abs(g1-g2) > 1e-15 {
		t.Fatalf("shrinkage %v, grand means %v vs %v", cb, g1, g2)
	}
}

func TestSampleAndEWMAAgainstReferences(t *testing.T) {
	rng := testrng.New(t, 1)
	for _, dims := range [][2]int{{2, 1}, {30, 5}, {200, 12}, {10, 40}} {
		r := randReturns(rng, dims[0], dims[1])
		t.Run(fmt.Sprintf("T=%d,N=%d", dims[0], dims[1]), func(t *testing.T) {
			var s mat.SymDense
			if err := SampleCov(&s, r); err != nil {
				t.Fatal(err)
			}
			var ref mat.SymDense
			stat.CovarianceMatrix(&ref, r, nil) // gonum/stat, 1/(T−1)
			if d := maxAbsDiffSym(&s, &ref); d > tolRel*maxAbsSym(&ref) {
				t.Fatalf("SampleCov differs from stat.CovarianceMatrix by %g", d)
			}

			// EWMA against the RiskMetrics recursion Σₜ = λΣₜ₋₁ + (1−λ)rₜrₜᵀ
			// from Σ₋₁ = 0, divided by its total weight 1 − λ^T.
			for _, lambda := range []float64{0.94, 0.5, 0.999} {
				var e mat.SymDense
				if err := EWMACov(&e, r, lambda); err != nil {
					t.Fatal(err)
				}
				n := dims[1]
				rec := mat.NewSymDense(n, nil)
				for k := range dims[0] {
					rec.ScaleSym(lambda, rec)
					rec.SymRankOne(rec, 1-lambda, r.RowView(k))
				}
				rec.ScaleSym(1/(1-math.Pow(lambda, float64(dims[0]))), rec)
				if d := maxAbsDiffSym(&e, rec); d > 1e-11*maxAbsSym(rec) {
					t.Fatalf("λ=%v: EWMA differs from the recursion by %g", lambda, d)
				}
			}
		})
	}
}

// lwIdentityRef is the Ledoit–Wolf (2004, JMVA) estimator written from the
// paper's definitions, with an explicit loop over ‖xₜxₜᵀ − S‖².
func lwIdentityRef(r *mat.Dense) (*mat.SymDense, float64) {
	t, p := r.Dims()
	x := centred(r)
	s := mat.NewSymDense(p, nil)
	for k := range t {
		for i := range p {
			for j := i; j < p; j++ {
				s.SetSym(i, j, s.At(i, j)+x.At(k, i)*x.At(k, j)/float64(t))
			}
		}
	}
	norm2 := func(f func(i, j int) float64) float64 { // ‖A‖² = tr(AAᵀ)/p
		v := 0.0
		for i := range p {
			for j := range p {
				v += f(i, j) * f(i, j)
			}
		}
		return v / float64(p)
	}
	m := mat.Trace(s) / float64(p)
	d2 := norm2(func(i, j int) float64 {
		if i == j {
			return s.At(i, j) - m
		}
		return s.At(i, j)
	})
	bbar2 := 0.0
	for k := range t {
		bbar2 += norm2(func(i, j int) float64 { return x.At(k, i)*x.At(k, j) - s.At(i, j) })
	}
	bbar2 /= float64(t * t)
	b2 := math.Min(bbar2, d2)
	delta := b2 / d2
	out := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			v := (1 - delta) * s.At(i, j)
			if i == j {
				v += delta * m
			}
			out.SetSym(i, j, v)
		}
	}
	return out, delta
}

// lwConstCorrRef is Ledoit–Wolf (2004, JPM) from the paper's Appendix B,
// with explicit loops and the paper's two-term (r̄/2) form of ρ.
func lwConstCorrRef(r *mat.Dense) (*mat.SymDense, float64) {
	t, n := r.Dims()
	y := centred(r)
	tf := float64(t)
	sm := make([][]float64, n) // sᵢⱼ = 1/T Σₜ yₜᵢyₜⱼ, by explicit sums
	for i := range n {
		sm[i] = make([]float64, n)
		for j := range n {
			for k := range t {
				sm[i][j] += y.At(k, i) * y.At(k, j)
			}
			sm[i][j] /= tf
		}
	}
	s := func(i, j int) float64 { return sm[i][j] }
	rbar := 0.0
	for i := range n {
		for j := i + 1; j < n; j++ {
			rbar += s(i, j) / math.Sqrt(s(i, i)*s(j, j))
		}
	}
	rbar *= 2 / float64(n*(n-1))
	f := func(i, j int) float64 {
		if i == j {
			return s(i, i)
		}
		return rbar * math.Sqrt(s(i, i)*s(j, j))
	}
	piij := func(i, j int) float64 {
		v := 0.0
		for k := range t {
			d := y.At(k, i)*y.At(k, j) - s(i, j)
			v += d * d
		}
		return v / tf
	}
	theta := func(i, j int) float64 { // ϑ_ii,ij
		v := 0.0
		for k := range t {
			v += (y.At(k, i)*y.At(k, i) - s(i, i)) * (y.At(k, i)*y.At(k, j) - s(i, j))
		}
		return v / tf
	}
	pi, rho, gamma := 0.0, 0.0, 0.0
	for i := range n {
		for j := range n {
			pi += piij(i, j)
			gamma += (f(i, j) - s(i, j)) * (f(i, j) - s(i, j))
			if i == j {
				rho += piij(i, i)
			} else {
				rho += rbar / 2 * (math.Sqrt(s(j, j)/s(i, i))*theta(i, j) + math.Sqrt(s(i, i)/s(j, j))*theta(j, i))
			}
		}
	}
	delta := math.Max(0, math.Min(1, (pi-rho)/gamma/tf))
	out := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			out.SetSym(i, j, delta*f(i, j)+(1-delta)*s(i, j))
		}
	}
	return out, delta
}

// oasRef is OAS from traces: ρ = (tr(S²) + tr²(S)) / ((T+1)(tr(S²) −
// tr²(S)/p)), capped at 1 (Chen et al. 2010 eq. 23 without the 2/p terms,
// as in scikit-learn), with tr(S²) from the explicit product S·S.
func oasRef(r *mat.Dense) (*mat.SymDense, float64) {
	t, p := r.Dims()
	x := centred(r)
	var s mat.Dense
	s.Mul(x.T(), x)
	s.Scale(1/float64(t), &s)
	var s2 mat.Dense
	s2.Mul(&s, &s)
	tr, tr2 := mat.Trace(&s), mat.Trace(&s2)
	rho := math.Min(1, (tr2+tr*tr)/(float64(t+1)*(tr2-tr*tr/float64(p))))
	out := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			v := (1 - rho) * s.At(i, j)
			if i == j {
				v += rho * tr / float64(p)
			}
			out.SetSym(i, j, v)
		}
	}
	return out, rho
}

func centred(r *mat.Dense) *mat.Dense {
	t, n := r.Dims()
	x := mat.DenseCopyOf(r)
	for i := range n {
		m := 0.0
		for k := range t {
			m += r.At(k, i)
		}
		m /= float64(t)
		for k := range t {
			x.Set(k, i, r.At(k, i)-m)
		}
	}
	return x
}

func TestShrinkageAgainstPaperFormulas(t *testing.T) {
	rng := testrng.New(t, 2)
	for _, dims := range [][2]int{{3, 2}, {60, 4}, {250, 15}, {20, 40}} {
		r := randReturns(rng, dims[0], dims[1])
		t.Run(fmt.Sprintf("T=%d,N=%d", dims[0], dims[1]), func(t *testing.T) {
			check := func(name string, got *mat.SymDense, gotDelta float64, want *mat.SymDense, wantDelta float64) {
				t.Helper()
				// The intensities go through differences of sums of fourth powers
				// (π − ρ, b̄² = Σ‖x‖⁴/T − ‖S‖²) evaluated in different orders:
				// 1e-10 relative (plus 1e-12 absolute near δ = 0).
				if !scalar.EqualWithinAbsOrRel(gotDelta, wantDelta, 1e-12, 1e-10) {
					t.Fatalf("%s: intensity %.17g, paper formula %.17g", name, gotDelta, wantDelta)
				}
				if d := maxAbsDiffSym(got, want); d > 1e-10*maxAbsSym(want) {
					t.Fatalf("%s: matrices differ by %g", name, d)
				}
				if !(gotDelta >= 0 && gotDelta <= 1) {
					t.Fatalf("%s: intensity %v outside [0, 1]", name, gotDelta)
				}
				// Positive semidefinite, strictly when shrinking towards a PD target.
				if ev := minEigen(t, got); ev < -1e-15*maxAbsSym(got) || (gotDelta > 0 && name != "constant correlation" && ev <= 0) {
					t.Fatalf("%s: smallest eigenvalue %g", name, ev)
				}
			}
			var lw mat.SymDense
			d, err := LedoitWolf(&lw, r, ScaledIdentity)
			if err != nil {
				t.Fatal(err)
			}
			ref, rd := lwIdentityRef(r)
			check("scaled identity", &lw, d, ref, rd)
			// Shrinking towards μI keeps the trace.
			if !scalar.EqualWithinAbsOrRel(mat.Trace(&lw), mat.Trace(ref), 0, tolRel) {
				t.Fatal("trace not preserved")
			}

			var cc mat.SymDense
			d, err = LedoitWolf(&cc, r, ConstantCorrelation)
			if err != nil {
				t.Fatal(err)
			}
			ref, rd = lwConstCorrRef(r)
			if dims[1] == 2 {
				// With two assets the target equals S (one correlation is its own
				// average): γ = 0, the intensity is 0/0 and only the matrix counts.
				rd = d
			}
			check("constant correlation", &cc, d, ref, rd)

			var oas mat.SymDense
			d, err = OAS(&oas, r)
			if err != nil {
				t.Fatal(err)
			}
			ref, rd = oasRef(r)
			check("OAS", &oas, d, ref, rd)
		})
	}
}

func TestShrinkageLimits(t *testing.T) {
	// With many observations per asset the sample covariance is precise
	// and every intensity is small; with T < N the scaled-identity and OAS
	// estimates are positive definite although S is singular.
	rng := testrng.New(t, 3)
	// Correlations far from constant (0.9 within the first pair, 0
	// elsewhere), so that the constant-correlation target is misspecified:
	// its intensity ~κ/T then vanishes like 1/T. (When the true
	// correlations are nearly equal the target is right and a large
	// intensity is correct.)
	r := mat.NewDense(5000, 4, nil)
	for k := range 5000 {
		f := rng.NormFloat64()
		r.Set(k, 0, 0.02*(f+0.33*rng.NormFloat64()))
		r.Set(k, 1, 0.03*(f+0.33*rng.NormFloat64()))
		r.Set(k, 2, 0.01*rng.NormFloat64())
		r.Set(k, 3, 0.04*rng.NormFloat64())
	}
	var dst mat.SymDense
	for _, target := range []Target{ScaledIdentity, ConstantCorrelation} {
		d, err := LedoitWolf(&dst, r, target)
		if err != nil {
			t.Fatal(err)
		}
		if d > 0.05 {
			t.Errorf("%v: intensity %v with T = 5000, N = 4", target, d)
		}
	}
	if d, _ := OAS(&dst, r); d > 0.05 {
		t.Errorf("OAS: intensity %v with T = 5000, N = 4", d)
	}

	short := randReturns(rng, 10, 30)
	var s mat.SymDense
	if err := SampleCov(&s, short); err != nil {
		t.Fatal(err)
	}
	if ev := minEigen(t, &s); ev > 1e-12*maxAbsSym(&s) {
		t.Fatalf("sample covariance with T < N has smallest eigenvalue %g", ev)
	}
	var lw, oas mat.SymDense
	if _, err := LedoitWolf(&lw, short, ScaledIdentity); err != nil {
		t.Fatal(err)
	}
	if _, err := OAS(&oas, short); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*mat.SymDense{"Ledoit–Wolf": &lw, "OAS": &oas} {
		if ev := minEigen(t, m); ev <= 1e-3*maxAbsSym(m)*1e-3 {
			t.Errorf("%s with T < N: smallest eigenvalue %g", name, ev)
		}
	}
}

func TestGARCHCov(t *testing.T) {
	// Three assets with GARCH(1,1) volatilities and constant correlation
	// 0.6 between the standardised shocks.
	rng := testrng.New(t, 4)
	const T = 1500
	params := []vol.GARCH{
		{Mu: 0.05, Omega: 0.05, Alpha: 0.08, Beta: 0.9},
		{Mu: 0, Omega: 0.2, Alpha: 0.12, Beta: 0.85},
		{Mu: -0.02, Omega: 0.1, Alpha: 0.05, Beta: 0.9},
	}
	const rho = 0.6
	r := mat.NewDense(T, 3, nil)
	s2 := []float64{1, 3, 2}
	for k := range T {
		common := rng.NormFloat64()
		for i, g := range params {
			z := rho*common + math.Sqrt(1-rho*rho)*rng.NormFloat64()
			z /= math.Sqrt(rho*rho + 1 - rho*rho)
			e := math.Sqrt(s2[i]) * z
			r.Set(k, i, (g.Mu+e)/100) // simulate in percent, store fractions
			s2[i] = g.Omega + g.Alpha*e*e + g.Beta*s2[i]
		}
	}
	var cov mat.SymDense
	fits, err := GARCHCov(&cov, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The diagonal is each fit's next-bar variance converted from percent²,
	// the off-diagonal the sample correlation times the GARCH volatilities.
	var sample mat.SymDense
	stat.CovarianceMatrix(&sample, r, nil)
	for i := range 3 {
		if !scalar.EqualWithinAbsOrRel(cov.At(i, i), fits[i].NextVariance/1e4, 0, tolRel) {
			t.Fatalf("Σ[%d][%d] = %v, fit next variance %v %%²", i, i, cov.At(i, i), fits[i].NextVariance)
		}
		for j := range 3 {
			rs := sample.At(i, j) / math.Sqrt(sample.At(i, i)*sample.At(j, j))
			want := rs * math.Sqrt(cov.At(i, i)*cov.At(j, j))
			if !scalar.EqualWithinAbsOrRel(cov.At(i, j), want, 0, 1e-10) {
				t.Fatalf("Σ[%d][%d] = %v, want %v", i, j, cov.At(i, j), want)
			}
		}
		// Units and the forecast: against the true next variance (the
		// simulation's s2) the estimate is within ±50% (a loose bound: the
		// forecast error of fitted parameters at T = 1500 is ~10–30%).
		ratio := cov.At(i, i) / (s2[i] / 1e4)
		if ratio < 0.5 || ratio > 1.5 {
			t.Errorf("asset %d: forecast/true next variance = %v", i, ratio)
		}
	}
	if ev := minEigen(t, &cov); ev <= 0 {
		t.Fatalf("GARCH covariance not positive definite: %g", ev)
	}

	// Warm start from the fits gives the same covariance to the optimiser's
	// tolerance (relative 1e-4 on variances, which sit in a flat likelihood).
	var warm mat.SymDense
	if _, err := GARCHCov(&warm, r, fits); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiffSym(&warm, &cov); d > 1e-4*maxAbsSym(&cov) {
		t.Fatalf("warm-started covariance differs by %g", d)
	}

	// Too short and constant series are errors.
	if _, err := GARCHCov(&mat.SymDense{}, r.Slice(0, 5, 0, 3), nil); !errors.Is(err, ErrTooShort) {
		t.Fatalf("short series: %v", err)
	}
	flat := mat.NewDense(50, 2, nil)
	for k := range 50 {
		flat.Set(k, 0, 0.01*math.Sin(float64(k)))
	}
	if _, err := GARCHCov(&mat.SymDense{}, flat, nil); !errors.Is(err, vol.ErrConstant) {
		t.Fatalf("constant series: %v", err)
	}
}

func TestErrors(t *testing.T) {
	one := mat.NewDense(1, 3, []float64{0.01, 0.02, 0.03})
	nan := mat.NewDense(3, 2, []float64{0.01, 0.02, math.NaN(), 0, 0.01, 0.01})
	var dst mat.SymDense
	if err := SampleCov(&dst, one); !errors.Is(err, ErrTooShort) {
		t.Errorf("SampleCov T=1: %v", err)
	}
	if err := SampleCov(&dst, nan); !errors.Is(err, ErrNonFinite) {
		t.Errorf("SampleCov NaN: %v", err)
	}
	if _, err := LedoitWolf(&dst, one, ScaledIdentity); !errors.Is(err, ErrTooShort) {
		t.Errorf("LedoitWolf T=1: %v", err)
	}
	if _, err := OAS(&dst, nan); !errors.Is(err, ErrNonFinite) {
		t.Errorf("OAS NaN: %v", err)
	}
	if _, _, err := JamesSteinMean(nil, one); !errors.Is(err, ErrTooShort) {
		t.Errorf("JamesSteinMean T=1: %v", err)
	}
	for _, l := range []float64{0, 1, -0.5, math.NaN()} {
		if err := EWMACov(&dst, one, l); !errors.Is(err, ErrParam) {
			t.Errorf("EWMACov λ=%v: %v", l, err)
		}
	}
	constant := mat.NewDense(3, 2, []float64{0.01, 0.02, 0.01, 0.03, 0.01, 0.01})
	if _, err := LedoitWolf(&dst, constant, ConstantCorrelation); !errors.Is(err, ErrDegenerate) {
		t.Errorf("constant-correlation target with a zero variance: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic for a dst of the wrong size")
			}
		}()
		SampleCov(mat.NewSymDense(3, nil), mat.NewDense(3, 2, []float64{0.01, 0.02, 0.03, 0, 0.01, 0.01}))
	}()
}

func TestRealData(t *testing.T) {
	// Daily returns of six large assets over the last two years of the
	// shared data: every estimator runs, gives a PSD matrix of the right
	// scale (daily crypto volatility 2–8%) and a valid intensity.
	r := realReturns(t, []string{"BTC", "ETH", "BNB", "XRP", "ADA", "SOL"}, 730)
	var s mat.SymDense
	if err := SampleCov(&s, r); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if v := math.Sqrt(s.At(i, i)); v < 0.01 || v > 0.1 {
			t.Errorf("asset %d: daily volatility %v", i, v)
		}
	}
	ests := map[string]func(*mat.SymDense) (float64, error){
		"ledoit-wolf": func(d *mat.SymDense) (float64, error) { return LedoitWolf(d, r, ScaledIdentity) },
		"lw-cc":       func(d *mat.SymDense) (float64, error) { return LedoitWolf(d, r, ConstantCorrelation) },
		"oas":         func(d *mat.SymDense) (float64, error) { return OAS(d, r) },
		"ewma":        func(d *mat.SymDense) (float64, error) { return 0, EWMACov(d, r, 0.94) },
		"garch": func(d *mat.SymDense) (float64, error) {
			_, err := GARCHCov(d, r, nil)
			return 0, err
		},
	}
	for name, est := range ests {
		var c mat.SymDense
		delta, err := est(&c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev := minEigen(t, &c); ev <= 0 {
			t.Errorf("%s: smallest eigenvalue %g", name, ev)
		}
		if !(delta >= 0 && delta <= 1) {
			t.Errorf("%s: intensity %v", name, delta)
		}
		for i := range 6 {
			if ratio := c.At(i, i) / s.At(i, i); ratio < 0.1 || ratio > 10 {
				t.Errorf("%s: variance of asset %d is %v times the sample's", name, i, ratio)
			}
		}
		t.Logf("%-12s intensity %.4f, BTC vol %.4f", name, delta, math.Sqrt(c.At(0, 0)))
	}
}
