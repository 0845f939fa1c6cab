package vol_test

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/realdata"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/vol"
)

const testRoot = 20240917 // root seed of every random stream in these tests

// simulate returns n returns from g started at its long-run variance.
func simulate(g vol.GARCH, n int, stream uint64) []float64 {
	r := make([]float64, n)
	s2 := g.LongRunVariance()
	if math.IsInf(s2, 0) {
		s2 = g.Omega * 100
	}
	g.SimulateTo(r, seed.New(testRoot, seed.Test, stream), s2)
	return r
}

// naiveBackcast is arch's backcast written out directly from its
// definition, with explicit powers instead of a running weight.
func naiveBackcast(r []float64) float64 {
	var mean float64
	for _, x := range r {
		mean += x
	}
	mean /= float64(len(r))
	tau := len(r)
	if tau > 75 {
		tau = 75
	}
	var num, den float64
	for k := 0; k < tau; k++ {
		w := math.Pow(0.94, float64(k))
		num += w * (r[k] - mean) * (r[k] - mean)
		den += w
	}
	return num / den
}

// naiveVariances writes the GARCH(1,1) recursion out term by term.
func naiveVariances(g vol.GARCH, r []float64, bc float64) []float64 {
	s := make([]float64, len(r))
	for t := range r {
		if t == 0 {
			s[t] = g.Omega + g.Alpha*bc + g.Beta*bc
			continue
		}
		e := r[t-1] - g.Mu
		s[t] = g.Omega + g.Alpha*e*e + g.Beta*s[t-1]
	}
	return s
}

// naiveLogLikelihood is −½ Σ (log 2π + log σ²_t + ε²_t/σ²_t) with one log
// per term.
func naiveLogLikelihood(g vol.GARCH, r []float64, bc float64) float64 {
	s := naiveVariances(g, r, bc)
	var ll float64
	for t := range r {
		e := r[t] - g.Mu
		ll += -0.5 * (math.Log(2*math.Pi) + math.Log(s[t]) + e*e/s[t])
	}
	return ll
}

func TestBackcast(t *testing.T) {
	// Hand-computed: (1·1 + 0.94·4 + 0.94²·9)/(1 + 0.94 + 0.94²) = 12.7124/2.8236.
	if got, want := vol.Backcast([]float64{1, 2, 3}), 12.7124/2.8236; !scalar.EqualWithinRel(got, want, 1e-15) {
		t.Errorf("Backcast(1,2,3) = %.17g, want %.17g", got, want)
	}
	// Only the first 75 residuals count; constant magnitude c gives c².
	e := make([]float64, 200)
	for i := range e {
		e[i] = 3
		if i%2 == 1 {
			e[i] = -3
		}
	}
	e[75], e[199] = 1e6, -1e6
	if got := vol.Backcast(e); !scalar.EqualWithinRel(got, 9, 1e-14) {
		t.Errorf("Backcast(±3, outliers after 75) = %v, want 9", got)
	}
	if !math.IsNaN(vol.Backcast(nil)) {
		t.Error("Backcast(nil) is not NaN")
	}
}

// TestLogLikelihoodIndependent compares LogLikelihood and FilterTo with the
// recursion and likelihood written out in the test (one log per term, no
// block products).
func TestLogLikelihoodIndependent(t *testing.T) {
	cases := []struct {
		name  string
		g     vol.GARCH
		scale float64 // multiplies the returns; 1e140 pushes variances to 1e280 to exercise the block-log fallback
	}{
		{"typical", vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 1},
		{"persistent", vol.GARCH{Mu: -0.01, Omega: 0.02, Alpha: 0.05, Beta: 0.94}, 1},
		{"integrated", vol.GARCH{Mu: 0, Omega: 0.01, Alpha: 0.2, Beta: 0.8}, 1},
		{"tiny", vol.GARCH{Mu: 0, Omega: 1e-290, Alpha: 0.1, Beta: 0.85}, 1e-143},
		{"huge", vol.GARCH{Mu: 0, Omega: 1e279, Alpha: 0.1, Beta: 0.85}, 1e140},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}
			r := simulate(base, 20000, uint64(100+k))
			for i := range r {
				r[i] *= c.scale
			}
			bc := naiveBackcast(r)
			got := c.g.LogLikelihood(r, bc)
			want := naiveLogLikelihood(c.g, r, bc)
			// Both sum 20,000 terms of size O(1) (O(700) for the scaled
			// cases): rounding is at most ~n·ε relative (2e-12), so 1e-11
			// relative separates a real discrepancy from summation order.
			if !scalar.EqualWithinRel(got, want, 1e-11) {
				t.Errorf("LogLikelihood = %.15g, independent %.15g", got, want)
			}
			s := make([]float64, len(r))
			next := c.g.FilterTo(s, r, bc)
			ws := naiveVariances(c.g, r, bc)
			for i := range s {
				// Same operations in the same order: equal to rounding.
				if !scalar.EqualWithinRel(s[i], ws[i], 1e-14) {
					t.Fatalf("σ²[%d] = %v, independent %v", i, s[i], ws[i])
				}
			}
			e := r[len(r)-1] - c.g.Mu
			if w := c.g.Omega + c.g.Alpha*e*e + c.g.Beta*ws[len(ws)-1]; !scalar.EqualWithinRel(next, w, 1e-14) {
				t.Errorf("next variance %v, independent %v", next, w)
			}
		})
	}
}

// TestFitRecoversParameters fits n = 20,000 simulated returns and requires
// every estimate within 4 classic standard errors of the truth (a
// two-sided 4σ band: false-alarm probability 6e-5 per parameter under the
// asymptotic normal law, 7e-4 over the 12 checks; the seed is fixed, so the
// outcome is deterministic anyway). The robust (sandwich) standard errors
// must agree with the classic ones within 25 % because the model is
// correctly specified (information-matrix equality; the observed gap at
// this n is below 10 %).
func TestFitRecoversParameters(t *testing.T) {
	cases := []struct {
		name string
		g    vol.GARCH
	}{
		{"moderate", vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}},
		{"high persistence", vol.GARCH{Mu: 0.02, Omega: 0.02, Alpha: 0.05, Beta: 0.94}},
		{"crypto daily", vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simulate(c.g, 20000, uint64(200+k))
			fit, err := vol.FitGARCH(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !fit.Converged || fit.AtBound {
				t.Errorf("converged %v (%s), at bound %v", fit.Converged, fit.Status, fit.AtBound)
			}
			est := []float64{fit.Params.Mu, fit.Params.Omega, fit.Params.Alpha, fit.Params.Beta}
			truth := []float64{c.g.Mu, c.g.Omega, c.g.Alpha, c.g.Beta}
			se := []float64{fit.StdErr.Mu, fit.StdErr.Omega, fit.StdErr.Alpha, fit.StdErr.Beta}
			rse := []float64{fit.RobustStdErr.Mu, fit.RobustStdErr.Omega, fit.RobustStdErr.Alpha, fit.RobustStdErr.Beta}
			for i, name := range []string{"mu", "omega", "alpha", "beta"} {
				z := (est[i] - truth[i]) / se[i]
				t.Logf("%-5s true %.4f est %.4f se %.4f robust se %.4f z %+.2f", name, truth[i], est[i], se[i], rse[i], z)
				if !(math.Abs(z) < 4) {
					t.Errorf("%s: estimate %v, truth %v, se %v: |z| = %.2f ≥ 4", name, est[i], truth[i], se[i], math.Abs(z))
				}
				if !(math.Abs(rse[i]/se[i]-1) < 0.25) {
					t.Errorf("%s: robust se %v vs classic %v", name, rse[i], se[i])
				}
			}
		})
	}
}

// TestStdErrIndependentHessian recomputes the classic standard errors from
// gonum's second-order central differences (fd.Hessian) of the test's own
// log-likelihood, a different formula applied to a different
// implementation than FitGARCH's differences of the analytic score.
func TestStdErrIndependentHessian(t *testing.T) {
	r := simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 3000, 300)
	fit, err := vol.FitGARCH(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := fit.Params
	theta := []float64{p.Mu, p.Omega, p.Alpha, p.Beta}
	bc := naiveBackcast(r)
	f := func(z []float64) float64 {
		g := vol.GARCH{Mu: theta[0] * (1 + z[0]), Omega: theta[1] * (1 + z[1]), Alpha: theta[2] * (1 + z[2]), Beta: theta[3] * (1 + z[3])}
		return -naiveLogLikelihood(g, r, bc)
	}
	var hz mat.SymDense
	// Nested central differences (gonum applies the first-derivative
	// formula twice) with relative step h = 1e-4: rounding ε·|ℓ|/h² ≈
	// 1e-16·8e3/1e-8 ≈ 1e-4 on entries ≥ 1e3, truncation O(h²) relative.
	// Measured: step 3e-4 leaves 1e-4 of truncation error, 3e-5 1e-3 of
	// rounding noise, 1e-4 agrees to 3e-5.
	fd.Hessian(&hz, f, make([]float64, 4), &fd.Settings{Formula: fd.Central, Step: 1e-4})
	h := mat.NewSymDense(4, nil)
	for i := range 4 {
		for j := i; j < 4; j++ {
			h.SetSym(i, j, hz.At(i, j)/(theta[i]*theta[j]))
		}
	}
	var cov mat.SymDense
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		t.Fatal("independent Hessian is not positive definite")
	}
	if err := chol.InverseTo(&cov); err != nil {
		t.Fatal(err)
	}
	got := []float64{fit.StdErr.Mu, fit.StdErr.Omega, fit.StdErr.Alpha, fit.StdErr.Beta}
	for i := range got {
		want := math.Sqrt(cov.At(i, i))
		// The inverse amplifies the entries' errors by the condition
		// number (~1e3): 2e-4 relative, against the 3e-5 measured.
		if !scalar.EqualWithinRel(got[i], want, 2e-4) {
			t.Errorf("se[%d] = %.8g, independent %.8g", i, got[i], want)
		}
	}
}

// TestFitAgreesWithNelderMead maximises the test's own log-likelihood by a
// coarse grid followed by restarted Nelder–Mead on the untransformed
// parameters (no gradient, no reparameterisation) and requires FitGARCH's
// estimates to agree within 1e-4 (absolute for α and β, relative for μ and
// ω). Both optimisers stop within ~1e-6 of the optimum in each parameter,
// so 1e-4 is a real check of the same maximum, not of optimiser noise.
func TestFitAgreesWithNelderMead(t *testing.T) {
	type series struct {
		name string
		r    []float64
	}
	cases := []series{
		{"simulated crypto", simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 3000, 400)},
		{"simulated moderate", simulate(vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 2000, 401)},
		{"BTC daily 2017-08..2024-12", nil}, // read in the subtest, which skips when the data are absent
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.r == nil {
				c.r = btcPercentReturns(t)
			}
			fit, err := vol.FitGARCH(c.r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !fit.Converged {
				t.Fatalf("not converged: %s", fit.Status)
			}
			nm := nelderMeadFit(c.r)
			t.Logf("fit %+v ll %.8f", fit.Params, fit.LogLikelihood)
			t.Logf("nm  %+v ll %.8f", nm, naiveLogLikelihood(nm, c.r, naiveBackcast(c.r)))
			check := func(name string, got, want float64, rel bool) {
				d := math.Abs(got - want)
				if rel {
					d /= math.Abs(want)
				}
				if d > 1e-4 {
					t.Errorf("%s: fit %.8g, Nelder–Mead %.8g", name, got, want)
				}
			}
			check("mu", fit.Params.Mu, nm.Mu, true)
			check("omega", fit.Params.Omega, nm.Omega, true)
			check("alpha", fit.Params.Alpha, nm.Alpha, false)
			check("beta", fit.Params.Beta, nm.Beta, false)
			if ll := naiveLogLikelihood(fit.Params, c.r, naiveBackcast(c.r)); !scalar.EqualWithinRel(ll, fit.LogLikelihood, 1e-11) {
				t.Errorf("reported log-likelihood %.12g, independent at the estimates %.12g", fit.LogLikelihood, ll)
			}
		})
	}
}

// nelderMeadFit is the independent optimiser of TestFitAgreesWithNelderMead.
func nelderMeadFit(r []float64) vol.GARCH {
	var mean, v float64
	for _, x := range r {
		mean += x
	}
	mean /= float64(len(r))
	for _, x := range r {
		v += (x - mean) * (x - mean)
	}
	v /= float64(len(r))
	bc := naiveBackcast(r)
	sd := math.Sqrt(v)
	// Coordinates: μ/sd, ω/v, α, β; infeasible points are +Inf.
	negLL := func(x []float64) float64 {
		g := vol.GARCH{Mu: x[0] * sd, Omega: x[1] * v, Alpha: x[2], Beta: x[3]}
		if g.Omega <= 0 || g.Alpha < 0 || g.Beta < 0 || g.Alpha+g.Beta >= 1 {
			return math.Inf(1)
		}
		return -naiveLogLikelihood(g, r, bc)
	}
	best, bestF := []float64(nil), math.Inf(1)
	for a := 0.02; a < 0.35; a += 0.04 {
		for p := 0.6; p < 0.995; p += 0.05 {
			x := []float64{mean / sd, 1 - p, a, p - a}
			if f := negLL(x); f < bestF {
				best, bestF = x, f
			}
		}
	}
	step := 0.05
	for restart := 0; restart < 6; restart++ {
		best, bestF = nelderMead(negLL, best, step)
		step /= 4
	}
	return vol.GARCH{Mu: best[0] * sd, Omega: best[1] * v, Alpha: best[2], Beta: best[3]}
}

// nelderMead is the textbook simplex method (reflection 1, expansion 2,
// contraction ½, shrink ½) from x0 with an initial simplex of the given
// step, stopped when the simplex's function values agree to 1e-13 relative
// or after 4000 iterations.
func nelderMead(f func([]float64) float64, x0 []float64, step float64) ([]float64, float64) {
	n := len(x0)
	pts := make([][]float64, n+1)
	fs := make([]float64, n+1)
	for i := range pts {
		pts[i] = append([]float64(nil), x0...)
		if i > 0 {
			pts[i][i-1] += step * math.Max(math.Abs(x0[i-1]), 0.1)
		}
		fs[i] = f(pts[i])
	}
	point := func(c []float64, from []float64, t float64) []float64 {
		p := make([]float64, n)
		for j := range p {
			p[j] = c[j] + t*(from[j]-c[j])
		}
		return p
	}
	for it := 0; it < 4000; it++ {
		// Order: best first.
		for i := 1; i <= n; i++ {
			for j := i; j > 0 && fs[j] < fs[j-1]; j-- {
				fs[j], fs[j-1] = fs[j-1], fs[j]
				pts[j], pts[j-1] = pts[j-1], pts[j]
			}
		}
		if math.Abs(fs[n]-fs[0]) <= 1e-13*math.Abs(fs[0]) {
			break
		}
		c := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := range c {
				c[j] += pts[i][j] / float64(n)
			}
		}
		xr := point(c, pts[n], -1)
		fr := f(xr)
		switch {
		case fr < fs[0]:
			xe := point(c, pts[n], -2)
			if fe := f(xe); fe < fr {
				pts[n], fs[n] = xe, fe
			} else {
				pts[n], fs[n] = xr, fr
			}
		case fr < fs[n-1]:
			pts[n], fs[n] = xr, fr
		default:
			xc := point(c, pts[n], 0.5)
			if fr < fs[n] {
				xc = point(c, xr, 0.5)
			}
			if fc := f(xc); fc < math.Min(fr, fs[n]) {
				pts[n], fs[n] = xc, fc
			} else {
				for i := 1; i <= n; i++ {
					pts[i] = point(pts[0], pts[i], 0.5)
					fs[i] = f(pts[i])
				}
			}
		}
	}
	bi := 0
	for i := range fs {
		if fs[i] < fs[bi] {
			bi = i
		}
	}
	return pts[bi], fs[bi]
}

// TestForecast checks the closed-form h-step forecast against iterating
// the variance recursion in expectation, E[σ²_{t+1}] = ω + (α+β)E[σ²_t],
// written out here, including persistence 0, near 1, exactly 1 and above 1.
func TestForecast(t *testing.T) {
	for _, g := range []vol.GARCH{
		{Omega: 0.1, Alpha: 0.1, Beta: 0.85},
		{Omega: 0.3, Alpha: 0, Beta: 0},
		{Omega: 0.02, Alpha: 0.05, Beta: 0.95 - 1e-12},
		{Omega: 0.02, Alpha: 0.05, Beta: 0.95},
		{Omega: 0.02, Alpha: 0.1, Beta: 0.95},
	} {
		next := 3.0
		e := next
		dst := make([]float64, 500)
		g.ForecastTo(dst, next)
		for h := 1; h <= 500; h++ {
			got := g.Forecast(next, h)
			// The iteration accumulates ≤ h roundings: 1e-12 relative at h = 500.
			if !scalar.EqualWithinRel(got, e, 1e-12) {
				t.Fatalf("%+v: Forecast(h=%d) = %.17g, iterated %.17g", g, h, got, e)
			}
			if !scalar.EqualWithinRel(dst[h-1], e, 1e-12) {
				t.Fatalf("%+v: ForecastTo[%d] = %.17g, iterated %.17g", g, h-1, dst[h-1], e)
			}
			e = g.Omega + (g.Alpha+g.Beta)*e
		}
	}
	// Stationary case: the forecast tends to the long-run variance.
	g := vol.GARCH{Omega: 0.1, Alpha: 0.1, Beta: 0.85}
	if got := g.Forecast(3, 2000); !scalar.EqualWithinRel(got, g.LongRunVariance(), 1e-12) {
		t.Errorf("Forecast(h=2000) = %v, long-run %v", got, g.LongRunVariance())
	}
}

// TestForecastMonteCarlo compares the analytic forecasts with the mean of
// squared shocks over 40,000 simulated paths, within 4 Monte Carlo
// standard errors at each horizon (false-alarm probability 6e-5 per
// horizon).
func TestForecastMonteCarlo(t *testing.T) {
	g := vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}
	const paths, horizon = 40000, 15
	next := 5.0 // elevated: the forecasts decay towards ω̄ = 2
	rng := seed.New(testRoot, seed.Test, 500)
	sum := make([]float64, horizon)
	sum2 := make([]float64, horizon)
	for p := 0; p < paths; p++ {
		s2 := next
		for h := 0; h < horizon; h++ {
			e := math.Sqrt(s2) * rng.NormFloat64()
			sum[h] += e * e
			sum2[h] += e * e * e * e
			s2 = g.Omega + g.Alpha*e*e + g.Beta*s2
		}
	}
	for h := 0; h < horizon; h++ {
		mean := sum[h] / paths
		se := math.Sqrt((sum2[h]/paths - mean*mean) / paths)
		want := g.Forecast(next, h+1)
		if math.Abs(mean-want) > 4*se {
			t.Errorf("h=%d: Monte Carlo %.4f ± %.4f, analytic %.4f", h+1, mean, se, want)
		}
	}
}

func TestFitDegenerateInputs(t *testing.T) {
	ok := simulate(vol.GARCH{Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 100, 600)
	withNaN := append([]float64(nil), ok...)
	withNaN[50] = math.NaN()
	withInf := append([]float64(nil), ok...)
	withInf[0] = math.Inf(-1)
	cases := []struct {
		name string
		r    []float64
		want error
	}{
		{"nil", nil, vol.ErrTooShort},
		{"nine returns", ok[:9], vol.ErrTooShort},
		{"constant", []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, vol.ErrConstant},
		{"all zero", make([]float64, 500), vol.ErrConstant},
		{"NaN", withNaN, vol.ErrNonFinite},
		{"Inf", withInf, vol.ErrNonFinite},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fit, err := vol.FitGARCH(c.r, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if fit != nil {
				t.Errorf("fit %+v returned with error", fit)
			}
			t.Log(err)
		})
	}
	// Ten returns is the floor: accepted, whatever the estimate.
	fit, err := vol.FitGARCH(ok[:10], nil)
	if err != nil {
		t.Fatalf("10 returns: %v", err)
	}
	if err := fit.Params.Validate(); err != nil || fit.Params.Persistence() >= 1 {
		t.Errorf("10 returns: infeasible estimate %+v (%v)", fit.Params, err)
	}
	if _, err := vol.FitGARCH(ok, &vol.FitOptions{Start: &vol.GARCH{Omega: -1}}); err == nil {
		t.Error("invalid start accepted")
	}
}

// TestFitNearUnitRoot fits data whose likelihood rises towards α+β = 1:
// iid normal returns whose variance jumps ninefold halfway (GARCH reads the
// level shift as an integrated variance) and an exactly integrated
// GARCH. The fit must return a feasible, finite result, flag it
// consistently, and give finite long-horizon forecasts.
func TestFitNearUnitRoot(t *testing.T) {
	rng := seed.New(testRoot, seed.Test, 700)
	shift := make([]float64, 4000)
	for i := range shift {
		sd := 1.0
		if i >= 2000 {
			sd = 3
		}
		shift[i] = sd * rng.NormFloat64()
	}
	igarch := simulate(vol.GARCH{Omega: 0.001, Alpha: 0.1, Beta: 0.9}, 5000, 701)
	cases := []struct {
		name     string
		r        []float64
		wantFlag bool
	}{
		{"variance level shift", shift, true},
		{"IGARCH", igarch, true}, // α+β = 1 exactly
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fit, err := vol.FitGARCH(c.r, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := fit.Params
			t.Logf("%+v persistence 1−%.3g status %s near unit root %v se %+v", p, 1-p.Persistence(), fit.Status, fit.NearUnitRoot, fit.StdErr)
			if err := p.Validate(); err != nil || !(p.Persistence() < 1) {
				t.Fatalf("infeasible estimate %+v (%v)", p, err)
			}
			if fit.NearUnitRoot != (1-p.Persistence() < vol.UnitRootTol) || (fit.NearUnitRoot && !fit.AtBound) {
				t.Errorf("inconsistent flags: near unit root %v, at bound %v", fit.NearUnitRoot, fit.AtBound)
			}
			if fit.NearUnitRoot != c.wantFlag {
				t.Errorf("near unit root %v, want %v", fit.NearUnitRoot, c.wantFlag)
			}
			if math.IsNaN(fit.LogLikelihood) || math.IsInf(fit.LogLikelihood, 0) {
				t.Errorf("log-likelihood %v", fit.LogLikelihood)
			}
			for _, h := range []int{1, 10, 1000, 100000} {
				if f := fit.VarianceForecast(h); !(f > 0) || math.IsInf(f, 0) {
					t.Errorf("forecast h=%d: %v", h, f)
				}
			}
		})
	}
}

// TestFitWarmStart checks that warm starts (Prev, Start) reach the same
// maximum as the cold grid start, including from a start on the boundary.
func TestFitWarmStart(t *testing.T) {
	r := simulate(vol.GARCH{Mu: 0.2, Omega: 0.5, Alpha: 0.08, Beta: 0.88}, 3063, 800)
	prev, err := vol.FitGARCH(r[:3000], &vol.FitOptions{NoStdErr: true})
	if err != nil {
		t.Fatal(err)
	}
	cold, err := vol.FitGARCH(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []*vol.FitOptions{
		{Prev: prev},
		{Start: &vol.GARCH{Mu: 0, Omega: 1, Alpha: 0.5, Beta: 0.5}},
		{Start: &vol.GARCH{Mu: 1, Omega: 0.01, Alpha: 0, Beta: 0.2}},
	} {
		warm, err := vol.FitGARCH(r, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Both stop at ‖∇‖∞ < 1e-9 in O(1) coordinates: 1e-6 is loose.
		for i, pair := range [][2]float64{
			{warm.Params.Mu, cold.Params.Mu}, {warm.Params.Omega, cold.Params.Omega},
			{warm.Params.Alpha, cold.Params.Alpha}, {warm.Params.Beta, cold.Params.Beta},
		} {
			if !scalar.EqualWithinAbsOrRel(pair[0], pair[1], 1e-6, 1e-6) {
				t.Errorf("start %+v: parameter %d = %.10g, cold %.10g", opt.Start, i, pair[0], pair[1])
			}
		}
		t.Logf("warm iterations %d, cold %d", warm.Iterations, cold.Iterations)
	}
}

// TestFitScaleEquivariance: fitting 10·r must give 10·μ, 100·ω and the same
// α, β, because the Gaussian GARCH likelihood is scale-equivariant.
func TestFitScaleEquivariance(t *testing.T) {
	r := simulate(vol.GARCH{Mu: 0.05, Omega: 0.1, Alpha: 0.1, Beta: 0.85}, 3000, 900)
	r10 := make([]float64, len(r))
	for i, x := range r {
		r10[i] = 10 * x
	}
	a, err := vol.FitGARCH(r, &vol.FitOptions{NoStdErr: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := vol.FitGARCH(r10, &vol.FitOptions{NoStdErr: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, pair := range [][2]float64{
		{b.Params.Mu / 10, a.Params.Mu}, {b.Params.Omega / 100, a.Params.Omega},
		{b.Params.Alpha, a.Params.Alpha}, {b.Params.Beta, a.Params.Beta},
	} {
		// Same optimisation path up to rounding, stopped at ‖∇‖∞ < 1e-9.
		if !scalar.EqualWithinAbsOrRel(pair[0], pair[1], 1e-7, 1e-6) {
			t.Errorf("parameter %d: scaled %.10g, original %.10g", i, pair[0], pair[1])
		}
	}
	if !math.IsNaN(a.StdErr.Alpha) {
		t.Error("NoStdErr still computed standard errors")
	}
}

// btcPercentReturns returns the daily simple returns of BTC in percent
// from the shared real data (to 2024-12-31; later bars are a held-back test
// period), skipping the test when the data are absent.
func btcPercentReturns(t testing.TB) []float64 {
	t.Helper()
	r := realdata.SimpleReturns(realdata.Closes(t, "daily/BTC.csv"))
	for i := range r {
		r[i] *= 100
	}
	return r
}
