package portfolio

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/internal/testrng"
)

// hrpExample is the hand-worked four-asset example: volatilities
// σ = (0.10, 0.20, 0.15, 0.25) and correlations
//
//	ρ01 = 0.2, ρ02 = 0.7, ρ03 = 0.1, ρ12 = 0.3, ρ13 = 0.8, ρ23 = 0.25.
func hrpExample() *mat.SymDense {
	sd := []float64{0.10, 0.20, 0.15, 0.25}
	rho := [4][4]float64{
		{1, 0.2, 0.7, 0.1},
		{0.2, 1, 0.3, 0.8},
		{0.7, 0.3, 1, 0.25},
		{0.1, 0.8, 0.25, 1},
	}
	c := mat.NewSymDense(4, nil)
	for i := range 4 {
		for j := i; j < 4; j++ {
			c.SetSym(i, j, rho[i][j]*sd[i]*sd[j])
		}
	}
	return c
}

func TestHRPHandWorked(t *testing.T) {
	// Distances √((1−ρ)/2): d13 = √0.10 = 0.3162 (smallest), d02 = √0.15 =
	// 0.3873, then between {1,3} and {0,2} the single link
	// min(d01, d03, d12, d23) = min(0.6325, 0.6708, 0.5916, 0.6124) = d12.
	// Linkage (scipy format): (1, 3, 0.3162, 2) → id 4; (0, 2, 0.3873, 2) →
	// id 5; (4, 5, 0.5916, 4). Quasi-diagonal order: 4 → (1, 3), 5 → (0, 2):
	// [1 3 0 2].
	//
	// Bisection of [1 3 | 0 2]:
	//   {1,3}: inverse variances 25 and 16, w = (25, 16)/41,
	//     V₁ = (625·0.04 + 256·0.0625 + 2·400·0.8·0.2·0.25)/41² = 73/1681;
	//   {0,2}: inverse variances 100 and 400/9, w = (9, 4)/13,
	//     V₂ = (81·0.01 + 16·0.0225 + 2·36·0.7·0.1·0.15)/169 = 1.926/169;
	//   α = 1 − V₁/(V₁+V₂) = 0.207877232977… for {1,3}, 1 − α for {0,2}.
	// Then [1 | 3]: 1 − 0.04/0.1025 = 0.0625/0.1025 for asset 1;
	// [0 | 2]: 0.0225/0.0325 for asset 0. So
	//   w0 = (1−α)·0.0225/0.0325, w1 = α·0.0625/0.1025,
	//   w2 = (1−α)·0.01/0.0325,   w3 = α·0.04/0.1025.
	v1, v2 := 73.0/1681, 1.926/169
	alpha := v2 / (v1 + v2)
	want := []float64{
		(1 - alpha) * 0.0225 / 0.0325, alpha * 0.0625 / 0.1025,
		(1 - alpha) * 0.01 / 0.0325, alpha * 0.04 / 0.1025,
	}
	// Numerically: 0.548392685, 0.126754410, 0.243730082, 0.081122823.
	w, order, link, err := HRPWeights(hrpExample())
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := []int{1, 3, 0, 2}
	for i := range order {
		if order[i] != wantOrder[i] {
			t.Fatalf("order %v, want %v", order, wantOrder)
		}
	}
	wantLink := []Linkage{{1, 3, math.Sqrt(0.1), 2}, {0, 2, math.Sqrt(0.15), 2}, {4, 5, math.Sqrt(0.35), 4}}
	for k, l := range link {
		if l.A != wantLink[k].A || l.B != wantLink[k].B || l.Size != wantLink[k].Size || math.Abs(l.Distance-wantLink[k].Distance) > 1e-15 {
			t.Fatalf("linkage %v, want %v", link, wantLink)
		}
	}
	// A few operations on exact inputs: 1e-14.
	if d := maxAbsDiff(w, want); d > 1e-14 {
		t.Fatalf("weights %v, want %v", w, want)
	}
	res, err := Allocate(HRP, Inputs{Cov: hrpExample()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res.Weights, want); d > 1e-14 {
		t.Fatalf("Allocate weights %v", res.Weights)
	}
	// With a cap of 0.5, asset 0 (0.548) is capped and 0.048 spread over the
	// others in proportion.
	res, err = Allocate(HRP, Inputs{Cov: hrpExample()}, Options{MaxWeight: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 4, 0.5)
	if math.Abs(res.Weights[0]-0.5) > 1e-15 || math.Abs(res.Weights[1]/res.Weights[3]-want[1]/want[3]) > 1e-12 {
		t.Fatalf("capped weights %v", res.Weights)
	}
}

func TestHRPLinkageAgainstNaive(t *testing.T) {
	// The MST-based single linkage against the textbook O(n³) agglomeration
	// (merge the two closest clusters, cluster distance = minimum pairwise
	// distance) on random correlation structures: same merge distances.
	rng := testrng.New(t, 7)
	for trial := range 20 {
		n := 2 + rng.IntN(15)
		_, cov := oneFactor(rng, n, 0)
		for i := range n { // add a second factor so clusters differ
			for j := i; j < n; j++ {
				if (i%3 == 0) == (j%3 == 0) {
					cov.SetSym(i, j, cov.At(i, j)+0.0002)
				}
			}
		}
		w, _, link, err := HRPWeights(cov)
		if err != nil {
			t.Fatal(err)
		}
		sd := make([]float64, n)
		for i := range n {
			sd[i] = math.Sqrt(cov.At(i, i))
		}
		d := func(i, j int) float64 { return math.Sqrt(math.Max(0, (1-cov.At(i, j)/(sd[i]*sd[j]))/2)) }
		clusters := make([][]int, n)
		for i := range n {
			clusters[i] = []int{i}
		}
		alive := make([]bool, n)
		for i := range alive {
			alive[i] = true
		}
		for k := range n - 1 {
			best, ba, bb := math.Inf(1), -1, -1
			for a := range clusters {
				for b := a + 1; b < len(clusters); b++ {
					if !alive[a] || !alive[b] {
						continue
					}
					for _, i := range clusters[a] {
						for _, j := range clusters[b] {
							if v := d(i, j); v < best {
								best, ba, bb = v, a, b
							}
						}
					}
				}
			}
			if math.Abs(link[k].Distance-best) > 1e-15 {
				t.Fatalf("trial %d merge %d: distance %v, naive %v", trial, k, link[k].Distance, best)
			}
			clusters = append(clusters, append(append([]int(nil), clusters[ba]...), clusters[bb]...))
			alive[ba], alive[bb] = false, false
			alive = append(alive, true)
			if link[k].Size != len(clusters[len(clusters)-1]) {
				t.Fatalf("trial %d merge %d: size %d, naive %d", trial, k, link[k].Size, len(clusters[len(clusters)-1]))
			}
		}
		sum := 0.0
		for _, v := range w {
			if !(v > 0) {
				t.Fatalf("weight %v", v)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-14 {
			t.Fatalf("weights sum to %v", sum)
		}
	}
}

// blReference is the He–Litterman posterior in its original (inverse)
// form: M = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹, μ = M[(τΣ)⁻¹π + PᵀΩ⁻¹Q], Σ_BL = Σ + M.
func blReference(t *testing.T, cov *mat.SymDense, wm []float64, delta, tau float64, p *mat.Dense, q []float64, omega *mat.Dense) ([]float64, *mat.Dense) {
	t.Helper()
	n := len(wm)
	var pi mat.VecDense
	pi.MulVec(cov, mat.NewVecDense(n, wm))
	pi.ScaleVec(delta, &pi)
	var ts mat.Dense
	ts.Scale(tau, cov)
	var tsInv, omInv mat.Dense
	if err := tsInv.Inverse(&ts); err != nil {
		t.Fatal(err)
	}
	if err := omInv.Inverse(omega); err != nil {
		t.Fatal(err)
	}
	var ptoi, prec mat.Dense
	ptoi.Mul(p.T(), &omInv)
	prec.Mul(&ptoi, p)
	prec.Add(&prec, &tsInv)
	var m mat.Dense
	if err := m.Inverse(&prec); err != nil {
		t.Fatal(err)
	}
	var a, b mat.VecDense
	a.MulVec(&tsInv, &pi)
	b.MulVec(&ptoi, mat.NewVecDense(len(q), q))
	a.AddVec(&a, &b)
	var mu mat.VecDense
	mu.MulVec(&m, &a)
	var post mat.Dense
	post.Add(cov, &m)
	return mu.RawVector().Data, &post
}

func TestBlackLittermanPosterior(t *testing.T) {
	rng := testrng.New(t, 8)
	_, cov := oneFactor(rng, 5, 0)
	wm := normalise([]float64{5, 3, 1, 0.5, 0.5})
	const delta, tau = 3.0, 0.025
	var pi mat.VecDense
	pi.MulVec(cov, mat.NewVecDense(5, wm))
	pi.ScaleVec(delta, &pi)
	// Two views: asset 0 outperforms asset 1 by 0.1%/bar; asset 3 returns
	// twice its equilibrium return.
	p := mat.NewDense(2, 5, []float64{1, -1, 0, 0, 0, 0, 0, 0, 1, 0})
	q := []float64{0.001, 2 * pi.AtVec(3)}
	// Ω = diag(PτΣPᵀ), He and Litterman's default.
	var tsp, pts mat.Dense
	tsp.Mul(cov, p.T())
	pts.Mul(p, &tsp)
	omega := mat.NewDense(2, 2, []float64{tau * pts.At(0, 0), 0, 0, tau * pts.At(1, 1)})
	wantMu, wantPost := blReference(t, cov, wm, delta, tau, p, q, omega)
	mu, post, err := BLPosterior(cov, &BLOptions{Delta: delta, Tau: tau, MarketWeights: []float64{5, 3, 1, 0.5, 0.5}, P: p, Q: q})
	if err != nil {
		t.Fatal(err)
	}
	// Two algebraically equal forms (Woodbury) through inverses of matrices
	// with condition ~1e2–1e3 and entries ~1e-4: 1e-10 relative.
	for i := range mu {
		if math.Abs(mu[i]-wantMu[i]) > 1e-10*math.Abs(wantMu[i]) {
			t.Fatalf("μ_BL %v, inverse form %v", mu, wantMu)
		}
		for j := range mu {
			if math.Abs(post.At(i, j)-wantPost.At(i, j)) > 1e-10*math.Abs(wantPost.At(i, i)) {
				t.Fatalf("Σ_BL[%d][%d] = %v, inverse form %v", i, j, post.At(i, j), wantPost.At(i, j))
			}
		}
	}
	// A view that asset 3 returns more than its equilibrium raises its
	// posterior mean; the view is only partly believed.
	if !(mu[3] > pi.AtVec(3) && mu[3] < q[1]) {
		t.Fatalf("μ₃: equilibrium %v, posterior %v, view %v", pi.AtVec(3), mu[3], q[1])
	}
}

func TestBlackLittermanNoViews(t *testing.T) {
	rng := testrng.New(t, 9)
	_, cov := oneFactor(rng, 6, 0)
	caps := []float64{40, 25, 15, 10, 6, 4}
	wm := normalise(caps)
	// Prior covariance (default): with no views μ_BL = π = δΣw_mkt, and
	// mean-variance with risk aversion δ returns w_mkt exactly.
	res, err := Allocate(BlackLitterman, Inputs{Cov: cov}, Options{BL: &BLOptions{MarketWeights: caps}})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res.Weights, wm); d > 1e-12 {
		t.Fatalf("no views: weights %v, market %v", res.Weights, wm)
	}
	// Posterior covariance (He–Litterman): Σ_BL = (1+τ)Σ, so the fully
	// invested optimum is (w_mkt + τ·w_gmv)/(1+τ) (when long-only does not
	// bind), and the unconstrained one (δΣ_BL)⁻¹μ_BL = w_mkt/(1+τ).
	const tau = 0.05
	mu, post, err := BLPosterior(cov, &BLOptions{Tau: tau, MarketWeights: caps})
	if err != nil {
		t.Fatal(err)
	}
	unc := solveSym(t, post, mu)
	for i := range unc {
		unc[i] /= 2.5
		if math.Abs(unc[i]-wm[i]/(1+tau)) > 1e-12 {
			t.Fatalf("unconstrained posterior optimum %v, want w_mkt/(1+τ)", unc)
		}
	}
	gmv := normalise(solveSym(t, cov, ones(6)))
	want := make([]float64, 6)
	for i := range want {
		want[i] = (wm[i] + tau*gmv[i]) / (1 + tau)
		if want[i] <= 0 {
			t.Fatalf("test setup: %v has a non-positive weight", want)
		}
	}
	res, err = Allocate(BlackLitterman, Inputs{Cov: cov}, Options{BL: &BLOptions{Tau: tau, MarketWeights: caps, PosteriorCov: true}})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res.Weights, want); d > 1e-10 {
		t.Fatalf("posterior covariance, no views: weights %v, want %v", res.Weights, want)
	}

	// A bullish view on the smallest asset (0.5%/bar above its equilibrium
	// return). With the prior covariance the unconstrained optimum moves
	// from w_mkt by (δΣ)⁻¹(μ_BL − π) = (τ/δ)·Pᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ): on
	// that asset alone, upwards (He and Litterman 1999, §4). (The fully
	// invested weight need not rise: the budget takes back the tilt in
	// proportion to the unconstrained minimum-variance portfolio, whose
	// weight on a low-volatility asset can exceed one.)
	p := mat.NewDense(1, 6, []float64{0, 0, 0, 0, 0, 1})
	pi, _, err := BLPosterior(cov, &BLOptions{MarketWeights: caps})
	if err != nil {
		t.Fatal(err)
	}
	view := &BLOptions{MarketWeights: caps, P: p, Q: []float64{pi[5] + 0.005}}
	muBL, _, err := BLPosterior(cov, view)
	if err != nil {
		t.Fatal(err)
	}
	tilt := solveSym(t, cov, muBL)
	for i := range tilt {
		tilt[i] = tilt[i]/2.5 - wm[i]
		if (i < 5 && math.Abs(tilt[i]) > 1e-12) || (i == 5 && !(tilt[i] > 1e-3)) {
			t.Fatalf("unconstrained tilt %v: want zero except a positive entry on asset 5", tilt)
		}
	}
	// The allocation is mean-variance on (μ_BL, Σ) with risk aversion δ.
	res, err = Allocate(BlackLitterman, Inputs{Cov: cov}, Options{BL: view, MaxWeight: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	checkWeights(t, res, 6, 0.5)
	mv, err := Allocate(MeanVariance, Inputs{Mu: muBL, Cov: cov}, Options{RiskAversion: 2.5, MaxWeight: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(res.Weights, mv.Weights); d > 1e-15 || res.ExpReturn != mv.ExpReturn {
		t.Fatalf("black-litterman %v, mean-variance on the posterior %v", res.Weights, mv.Weights)
	}
}
