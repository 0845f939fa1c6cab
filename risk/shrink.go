package risk

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Target is the shrinkage target of LedoitWolf.
type Target int

// Shrinkage targets.
const (
	// ScaledIdentity shrinks towards μI with μ = tr(S)/N, as in Ledoit and
	// Wolf (2004), "A well-conditioned estimator for large-dimensional
	// covariance matrices", J. Multivariate Anal. 88, and scikit-learn's
	// LedoitWolf. It is the default (the zero value).
	ScaledIdentity Target = iota
	// ConstantCorrelation shrinks towards the matrix with the sample
	// variances on the diagonal and the average sample correlation r̄ off
	// it, Fᵢⱼ = r̄√(sᵢᵢsⱼⱼ), as in Ledoit and Wolf (2004), "Honey, I shrunk
	// the sample covariance matrix", J. Portfolio Management 30(4), and
	// their covCor.m.
	ConstantCorrelation
)

func (t Target) String() string {
	switch t {
	case ScaledIdentity:
		return "scaled identity"
	case ConstantCorrelation:
		return "constant correlation"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// LedoitWolf sets dst to the Ledoit–Wolf shrinkage estimate
// (1−δ)S + δF of the covariance of the T×N returns r and returns the
// shrinkage intensity δ ∈ [0, 1]. S is the maximum-likelihood sample
// covariance (centred, 1/T): both papers derive the optimal intensity for
// that normalisation, and with it the results equal scikit-learn's
// LedoitWolf (ScaledIdentity) and the authors' covCor.m of 2004
// (ConstantCorrelation). For the difference from SampleCov, multiply by
// T/(T−1).
//
// ScaledIdentity (F = μI, μ = tr(S)/N), with ‖A‖² = tr(AAᵀ)/N:
//
//	d² = ‖S − μI‖²,  b̄² = 1/T² Σₜ ‖xₜxₜᵀ − S‖²,  b² = min(b̄², d²),  δ = b²/d²,
//
// where xₜ are the centred rows; Σₜ‖xₜxₜᵀ − S‖² = Σₜ‖xₜ‖⁴ − T‖S‖²_F is
// evaluated in O(TN).
//
// ConstantCorrelation: δ = max(0, min(1, κ/T)) with κ = (π − ρ)/γ, the
// estimates π of the sum of asymptotic variances of √T·sᵢⱼ, ρ of the
// asymptotic covariances of the target with S, and γ = ‖F − S‖²_F of the
// misspecification (the paper's Appendix B), in O(TN²).
//
// dst must be empty or N×N. It needs T ≥ 2; ConstantCorrelation also needs
// every variance positive (ErrDegenerate otherwise) and for N = 1 returns S
// with δ = 0.
func LedoitWolf(dst *mat.SymDense, r mat.Matrix, target Target) (float64, error) {
	xt, s, t, n, err := mleCov(r, "Ledoit–Wolf shrinkage")
	if err != nil {
		return 0, err
	}
	prepare(dst, n)
	switch target {
	case ScaledIdentity:
		return lwIdentity(dst, xt, s, t, n), nil
	case ConstantCorrelation:
		return lwConstCorr(dst, xt, s, t, n)
	}
	panic(fmt.Sprintf("risk: unknown shrinkage target %d", int(target)))
}

func lwIdentity(dst *mat.SymDense, xt []float64, s *mat.SymDense, t, n int) float64 {
	mu := mat.Trace(s) / float64(n)
	fro2 := froSq(s)
	sum4 := sumNorm4(xt, t, n)
	tf, nf := float64(t), float64(n)
	d2 := (fro2 - 2*mu*mat.Trace(s) + nf*mu*mu) / nf
	bbar2 := (sum4/tf - fro2) / (tf * nf)
	b2 := math.Min(bbar2, d2)
	delta := 0.0
	if b2 > 0 {
		delta = b2 / d2
	}
	shrinkTo(dst, s, delta, func(i, j int) float64 {
		if i == j {
			return mu
		}
		return 0
	})
	return delta
}

func lwConstCorr(dst *mat.SymDense, xt []float64, s *mat.SymDense, t, n int) (float64, error) {
	sd := make([]float64, n)
	for i := range n {
		v := s.At(i, i)
		if !(v > 0) {
			return 0, fmt.Errorf("%w: asset %d has zero variance; the constant-correlation target needs positive variances", ErrDegenerate, i)
		}
		sd[i] = math.Sqrt(v)
	}
	if n == 1 {
		dst.CopySym(s)
		return 0, nil
	}
	tf := float64(t)
	rbar := 0.0
	for i := range n {
		for j := i + 1; j < n; j++ {
			rbar += s.At(i, j) / (sd[i] * sd[j])
		}
	}
	rbar /= float64(n*(n-1)) / 2
	f := func(i, j int) float64 {
		if i == j {
			return s.At(i, i)
		}
		return rbar * sd[i] * sd[j]
	}

	// π = Σᵢⱼ πᵢⱼ,  πᵢⱼ = 1/T Σₜ (xₜᵢxₜⱼ − sᵢⱼ)² = 1/T Σₜ xₜᵢ²xₜⱼ² − sᵢⱼ²,
	// so π = 1/T Σₜ ‖xₜ‖⁴ − ‖S‖²_F.
	fro2 := froSq(s)
	pi := sumNorm4(xt, t, n)/tf - fro2

	// ρ = Σᵢ πᵢᵢ + r̄ Σ_{i≠j} √(sⱼⱼ/sᵢᵢ) ϑᵢᵢ,ᵢⱼ with
	// ϑᵢᵢ,ᵢⱼ = 1/T Σₜ (xₜᵢ² − sᵢᵢ)(xₜᵢxₜⱼ − sᵢⱼ) = 1/T Σₜ xₜᵢ³xₜⱼ − sᵢᵢsᵢⱼ.
	// (The paper writes r̄/2 times the sum of the ij and ji terms, which is
	// the same sum.) The matrix Θ = X³ᵀX/T is one O(TN²) product.
	x3 := make([]float64, n*t)
	for idx, v := range xt {
		x3[idx] = v * v * v
	}
	theta := make([]float64, n*n)
	blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, n, n, t, 1/tf, x3, t, xt, t, 0, theta, n)
	rho := 0.0
	for i := range n {
		sii := s.At(i, i)
		x4 := 0.0
		col := xt[i*t : i*t+t]
		for _, v := range col {
			x4 += v * v * v * v
		}
		rho += x4/tf - sii*sii // πᵢᵢ
		for j := range n {
			if j == i {
				continue
			}
			th := theta[i*n+j] - sii*s.At(i, j)
			rho += rbar * sd[j] / sd[i] * th
		}
	}

	gamma := 0.0
	for i := range n {
		for j := range n {
			d := f(i, j) - s.At(i, j)
			gamma += d * d
		}
	}
	// γ is zero in exact arithmetic when S already has constant correlation
	// (always for N = 2); the intensity is then immaterial and reported as 0.
	delta := 0.0
	if gamma > 1e-28*fro2 {
		delta = math.Max(0, math.Min(1, (pi-rho)/gamma/tf))
	}
	shrinkTo(dst, s, delta, f)
	return delta, nil
}

// OAS sets dst to the oracle approximating shrinkage estimate of Chen,
// Wiesel, Eldar and Hero (2010), "Shrinkage algorithms for MMSE covariance
// estimation", IEEE Trans. Signal Process. 58(10), in the form used by
// scikit-learn's OAS, and returns the shrinkage intensity:
//
//	(1−ρ)S + ρμI,  μ = tr(S)/N,
//	ρ = min(1, (tr(S²) + tr²(S)) / ((T+1)(tr(S²) − tr²(S)/N))),
//
// with S the maximum-likelihood covariance (centred, 1/T) for which the
// formula is derived. This is the paper's equation (23) without its 2/N
// correction terms, exactly as scikit-learn computes it; the terms vanish
// for large N. dst must be empty or N×N. It needs T ≥ 2.
func OAS(dst *mat.SymDense, r mat.Matrix) (float64, error) {
	_, s, t, n, err := mleCov(r, "OAS shrinkage")
	if err != nil {
		return 0, err
	}
	prepare(dst, n)
	nf := float64(n)
	mu := mat.Trace(s) / nf
	alpha := froSq(s) / (nf * nf) // mean of the squared entries
	num := alpha + mu*mu
	den := float64(t+1) * (alpha - mu*mu/nf)
	rho := 1.0
	if den != 0 {
		rho = math.Min(num/den, 1)
	}
	shrinkTo(dst, s, rho, func(i, j int) float64 {
		if i == j {
			return mu
		}
		return 0
	})
	return rho, nil
}

// JamesSteinMean writes into dst (length N; allocated if nil) the
// James–Stein estimate of the expected returns of the T×N returns r,
// shrinking the sample means towards their grand mean m̄ = Σᵢx̄ᵢ/N
// (Efron and Morris 1973, 1975):
//
//	μᵢ = m̄ + (1 − c)(x̄ᵢ − m̄),  c = min(1, (N−3)·σ̄²/T / Σᵢ(x̄ᵢ − m̄)²),
//
// and returns the shrinkage intensity c ∈ [0, 1] (1: every mean set to m̄).
// σ̄² is the average of the unbiased (1/(T−1)) sample variances, so σ̄²/T
// estimates the common variance of each sample mean; N−3 rather than N−2
// because the target m̄ is itself estimated. The positive part (c ≤ 1)
// never flips a mean across m̄. For N < 4 the estimator does not dominate
// the sample mean and dst gets the sample means with c = 0. It needs
// T ≥ 2. This is the equal-variance form: with very unequal volatilities
// the noisiest means are shrunk as much as the most precise ones.
func JamesSteinMean(dst []float64, r mat.Matrix) ([]float64, float64, error) {
	xt, t, n, err := columns(r, 2, "the James–Stein mean")
	if err != nil {
		return dst, 0, err
	}
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("risk: len(dst) = %d, want %d", len(dst), n))
	}
	mean := centre(xt, t, n)
	copy(dst, mean)
	if n < 4 {
		return dst, 0, nil
	}
	grand, vbar := 0.0, 0.0
	for i := range n {
		grand += mean[i]
		ss := 0.0
		for _, v := range xt[i*t : i*t+t] {
			ss += v * v
		}
		vbar += ss / float64(t-1)
	}
	grand /= float64(n)
	vbar /= float64(n)
	disp := 0.0
	for _, m := range mean {
		disp += (m - grand) * (m - grand)
	}
	c := 1.0
	if disp > 0 {
		c = math.Min(1, float64(n-3)*vbar/float64(t)/disp)
	}
	for i := range dst {
		dst[i] = grand + (1-c)*(mean[i]-grand)
	}
	return dst, c, nil
}

// froSq returns the squared Frobenius norm of s.
// sumNorm4 returns Σₜ ‖xₜ‖⁴ over the T observations of xt, the demeaned
// returns stored asset-major (xt[i·T + k] is observation k of asset i).
func sumNorm4(xt []float64, t, n int) float64 {
	sum := 0.0
	for k := range t {
		q := 0.0
		for i := range n {
			v := xt[i*t+k]
			q += v * v
		}
		sum += q * q
	}
	return sum
}

func froSq(s *mat.SymDense) float64 {
	n := s.SymmetricDim()
	f := 0.0
	for i := range n {
		for j := range n {
			v := s.At(i, j)
			f += v * v
		}
	}
	return f
}

// shrinkTo sets dst = (1−δ)S + δF.
func shrinkTo(dst, s *mat.SymDense, delta float64, f func(i, j int) float64) {
	n := s.SymmetricDim()
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	for i := range n {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, (1-delta)*s.At(i, j)+delta*f(i, j))
		}
	}
}
