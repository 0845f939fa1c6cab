package portfolio

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// BLOptions are the Black–Litterman inputs (He and Litterman 1999, "The
// intuition behind Black–Litterman model portfolios", Goldman Sachs).
type BLOptions struct {
	// Delta is the risk aversion δ of the equilibrium π = δΣw_mkt and of
	// the mean-variance step (maximise μᵀw − δ/2·wᵀΣw). Zero means 2.5. δ
	// is a ratio of excess return to variance, so it does not depend on
	// the bar length.
	Delta float64
	// Tau scales the uncertainty of the prior mean, τΣ. Zero means 0.05.
	Tau float64
	// MarketWeights are the market portfolio (e.g. market capitalisations;
	// they are normalised to sum to 1), non-negative, length N. Nil means
	// equal weights.
	MarketWeights []float64
	// P (K×N) and Q (length K) are the views Pμ = Q + ε, ε ~ N(0, Ω). Nil P
	// means no views.
	P *mat.Dense
	Q []float64
	// Omega is the K×K covariance of the views; nil means He and
	// Litterman's diag(P τΣ Pᵀ). It may be singular (a certain view).
	Omega mat.Symmetric
	// PosteriorCov selects the covariance of the mean-variance step: false
	// (default) uses the prior Σ with the posterior mean, as in Idzorek
	// (2005), so that with no views the allocation is exactly the market
	// portfolio (π = δΣw_mkt is reverse-optimised with Σ); true uses the
	// posterior covariance Σ + M of He and Litterman, under which the
	// unconstrained optimum with no views is w_mkt/(1+τ) and the fully
	// invested one (w_mkt + τ·w_gmv)/(1+τ), w_gmv the global minimum
	// variance portfolio.
	PosteriorCov bool
}

// resolveBL validates the options and fills the defaults.
func resolveBL(o *BLOptions, n int) (BLOptions, error) {
	var bl BLOptions
	if o != nil {
		bl = *o
	}
	if bl.Delta == 0 {
		bl.Delta = 2.5
	}
	if bl.Tau == 0 {
		bl.Tau = 0.05
	}
	if !(bl.Delta > 0) || math.IsInf(bl.Delta, 0) {
		return bl, inputErr("Black–Litterman δ = %v must be positive", bl.Delta)
	}
	if !(bl.Tau > 0) || math.IsInf(bl.Tau, 0) {
		return bl, inputErr("Black–Litterman τ = %v must be positive", bl.Tau)
	}
	if bl.MarketWeights == nil {
		bl.MarketWeights = constant(n, 1/float64(n))
	} else {
		if len(bl.MarketWeights) != n {
			return bl, inputErr("MarketWeights has %d entries, want %d", len(bl.MarketWeights), n)
		}
		sum := 0.0
		for i, v := range bl.MarketWeights {
			if !(v >= 0) || math.IsInf(v, 0) {
				return bl, inputErr("market weight %d is %v", i, v)
			}
			sum += v
		}
		if !(sum > 0) {
			return bl, inputErr("market weights sum to %v", sum)
		}
		w := make([]float64, n)
		for i, v := range bl.MarketWeights {
			w[i] = v / sum
		}
		bl.MarketWeights = w
	}
	if bl.P != nil {
		k, c := bl.P.Dims()
		if c != n {
			return bl, inputErr("views P has %d columns, want %d", c, n)
		}
		if len(bl.Q) != k {
			return bl, inputErr("views Q has %d entries, want %d (rows of P)", len(bl.Q), k)
		}
		if err := finite("Q", bl.Q); err != nil {
			return bl, err
		}
		for i := range k {
			if err := finite(fmt.Sprintf("P row %d", i), bl.P.RawRowView(i)); err != nil {
				return bl, err
			}
		}
		if bl.Omega != nil && bl.Omega.SymmetricDim() != k {
			return bl, inputErr("Omega is %d×%d, want %d×%d", bl.Omega.SymmetricDim(), bl.Omega.SymmetricDim(), k, k)
		}
	} else if bl.Q != nil || bl.Omega != nil {
		return bl, inputErr("views Q or Omega given without P")
	}
	return bl, nil
}

// BLPosterior returns the Black–Litterman posterior mean and covariance of
// returns for the prior covariance cov (He and Litterman 1999):
//
//	π = δΣw_mkt
//	μ_BL = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ)
//	M    = τΣ − τΣPᵀ(PτΣPᵀ + Ω)⁻¹PτΣ
//	Σ_BL = Σ + M
//
// M = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹ is the posterior covariance of the mean; the
// forms above are the same by the Woodbury identity, but need neither Σ nor
// Ω to be invertible, only PτΣPᵀ + Ω. With no views μ_BL = π and
// Σ_BL = (1+τ)Σ. o may be nil for the defaults; it is validated as by
// Allocate.
func BLPosterior(cov mat.Symmetric, o *BLOptions) (mu []float64, post *mat.SymDense, err error) {
	n := cov.SymmetricDim()
	bl, err := resolveBL(o, n)
	if err != nil {
		return nil, nil, err
	}
	return blPosterior(cov, bl)
}

func blPosterior(cov mat.Symmetric, bl BLOptions) ([]float64, *mat.SymDense, error) {
	n := cov.SymmetricDim()
	var pi mat.VecDense
	pi.MulVec(cov, mat.NewVecDense(n, bl.MarketWeights))
	pi.ScaleVec(bl.Delta, &pi)
	var tauS mat.SymDense
	tauS.ScaleSym(bl.Tau, cov)
	post := mat.NewSymDense(n, nil)
	post.AddSym(cov, &tauS)
	mu := append([]float64(nil), pi.RawVector().Data...)
	if bl.P == nil {
		return mu, post, nil
	}
	k, _ := bl.P.Dims()
	// B = τΣPᵀ (N×K), A = PτΣPᵀ + Ω (K×K).
	var b mat.Dense
	b.Mul(&tauS, bl.P.T())
	var a mat.Dense
	a.Mul(bl.P, &b)
	omega := bl.Omega
	if omega == nil {
		d := mat.NewSymDense(k, nil)
		for i := range k {
			d.SetSym(i, i, a.At(i, i))
		}
		omega = d
	}
	as := mat.NewSymDense(k, nil)
	for i := range k {
		for j := i; j < k; j++ {
			as.SetSym(i, j, 0.5*(a.At(i, j)+a.At(j, i))+omega.At(i, j))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(as) {
		return nil, nil, errors.New("PτΣPᵀ + Ω is not positive definite (redundant or contradictory views)")
	}
	// μ_BL = π + B A⁻¹ (Q − Pπ).
	resid := mat.NewVecDense(k, nil)
	resid.MulVec(bl.P, &pi)
	resid.SubVec(mat.NewVecDense(k, bl.Q), resid)
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, resid); err != nil {
		return nil, nil, err
	}
	var adj mat.VecDense
	adj.MulVec(&b, &x)
	for i := range n {
		mu[i] += adj.AtVec(i)
	}
	// Σ_BL = Σ + τΣ − B A⁻¹ Bᵀ.
	var ainvBt mat.Dense
	if err := ch.SolveTo(&ainvBt, b.T()); err != nil {
		return nil, nil, err
	}
	var m mat.Dense
	m.Mul(&b, &ainvBt)
	for i := range n {
		for j := i; j < n; j++ {
			post.SetSym(i, j, post.At(i, j)-0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	for _, v := range mu {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, errors.New("posterior mean is not finite")
		}
	}
	return mu, post, nil
}

// blackLitterman runs mean-variance with risk aversion δ on the posterior
// mean, with the prior or posterior covariance (BLOptions.PosteriorCov);
// when that fails it falls back to the market weights (capped).
func (a *allocator) blackLitterman() (outcome, error) {
	mu, post, err := blPosterior(a.cov, a.bl)
	var out outcome
	if err == nil {
		cov := a.cov
		if a.bl.PosteriorCov {
			cov = post
		}
		out, err = a.meanVariance(mu, cov, a.bl.Delta)
		if err == nil {
			out.mu = mu
			out.cov = cov
			return out, nil
		}
	}
	w := append([]float64(nil), a.bl.MarketWeights...)
	a.capped(w, "market")
	return outcome{w: w, mu: mu, fallback: fmt.Sprintf("posterior allocation failed (%v); using the market weights", err), used: MarketWeights}, nil
}
