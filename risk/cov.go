package risk

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Errors for data that cannot be estimated from. They are wrapped with
// context; use errors.Is.
var (
	// ErrTooShort is returned when there are too few observations (rows).
	ErrTooShort = errors.New("risk: too few observations")
	// ErrNonFinite is returned when the returns hold NaN or ±Inf.
	ErrNonFinite = errors.New("risk: non-finite return")
	// ErrDegenerate is returned when an estimator is undefined for the data,
	// such as a correlation-based estimator and an asset with zero variance.
	ErrDegenerate = errors.New("risk: degenerate data")
	// ErrParam is returned for an invalid parameter (a decay outside (0, 1)).
	ErrParam = errors.New("risk: invalid parameter")
)

// columns copies the T×N matrix r into an asset-major buffer (xt[i*T+t] =
// r[t][i], so each asset's series is contiguous) and checks that every
// value is finite and that there are at least minT rows.
func columns(r mat.Matrix, minT int, what string) (xt []float64, t, n int, err error) {
	t, n = r.Dims()
	if t < minT {
		return nil, t, n, fmt.Errorf("%w: %s needs at least %d returns per asset, got %d", ErrTooShort, what, minT, t)
	}
	xt = make([]float64, n*t)
	if rm, ok := r.(mat.RawMatrixer); ok {
		raw := rm.RawMatrix()
		for k := range t {
			row := raw.Data[k*raw.Stride : k*raw.Stride+n]
			for i, v := range row {
				xt[i*t+k] = v
			}
		}
	} else {
		for k := range t {
			for i := range n {
				xt[i*t+k] = r.At(k, i)
			}
		}
	}
	for idx, v := range xt {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, t, n, fmt.Errorf("%w: %v at row %d, column %d", ErrNonFinite, v, idx%t, idx/t)
		}
	}
	return xt, t, n, nil
}

// centre subtracts each asset's mean from its series in xt (asset-major,
// T per asset) and returns the means.
func centre(xt []float64, t, n int) []float64 {
	mean := make([]float64, n)
	for i := range n {
		col := xt[i*t : i*t+t]
		s := 0.0
		for _, v := range col {
			s += v
		}
		m := s / float64(t)
		// Second pass corrects the rounding of the first (as in gonum/stat).
		c := 0.0
		for _, v := range col {
			c += v - m
		}
		m += c / float64(t)
		for k := range col {
			col[k] -= m
		}
		mean[i] = m
	}
	return mean
}

// prepare checks that dst is empty or n×n, as gonum's dst-first methods
// require, and panics otherwise.
func prepare(dst *mat.SymDense, n int) {
	if !dst.IsEmpty() && dst.SymmetricDim() != n {
		panic(fmt.Sprintf("risk: dst is %d×%d, want %d×%d", dst.SymmetricDim(), dst.SymmetricDim(), n, n))
	}
}

// Mean writes the sample mean of each column of the T×N returns r into dst
// (length N; allocated if nil) and returns it. It needs T ≥ 1.
func Mean(dst []float64, r mat.Matrix) ([]float64, error) {
	xt, t, n, err := columns(r, 1, "the mean")
	if err != nil {
		return dst, err
	}
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("risk: len(dst) = %d, want %d", len(dst), n))
	}
	copy(dst, centre(xt, t, n))
	return dst, nil
}

// SampleCov sets dst to the unbiased sample covariance of the T×N returns
// r,
//
//	Sᵢⱼ = 1/(T−1) Σₜ (rₜᵢ − r̄ᵢ)(rₜⱼ − r̄ⱼ).
//
// The 1/(T−1) normalisation makes each entry unbiased (one degree of
// freedom goes to the estimated mean); it is what numpy.cov, gonum's
// stat.CovarianceMatrix and the benchmark data use, and the plug-in
// estimate for the optimisers. dst must be empty (it is then allocated) or
// N×N; other sizes panic. It needs T ≥ 2.
func SampleCov(dst *mat.SymDense, r mat.Matrix) error {
	xt, t, n, err := columns(r, 2, "the sample covariance")
	if err != nil {
		return err
	}
	prepare(dst, n)
	centre(xt, t, n)
	dst.SymOuterK(1/float64(t-1), mat.NewDense(n, t, xt))
	return nil
}

// mleCov returns the centred asset-major data and the maximum-likelihood
// covariance S = XᵀX/T of the T×N returns r, the normalisation under
// which the shrinkage formulas of Ledoit–Wolf and OAS are derived.
func mleCov(r mat.Matrix, what string) (xt []float64, s *mat.SymDense, t, n int, err error) {
	xt, t, n, err = columns(r, 2, what)
	if err != nil {
		return nil, nil, t, n, err
	}
	centre(xt, t, n)
	s = mat.NewSymDense(n, nil)
	s.SymOuterK(1/float64(t), mat.NewDense(n, t, xt))
	return xt, s, t, n, nil
}

// EWMACov sets dst to the exponentially weighted covariance of the T×N
// returns r with decay lambda (RiskMetrics, J.P. Morgan/Reuters 1996: 0.94
// for daily data):
//
//	Σ = Σₜ wₜ rₜrₜᵀ,  wₜ = (1−λ)λ^(T−1−t) / (1−λ^T),  t = 0..T−1.
//
// As in RiskMetrics the mean is taken to be zero (for daily or finer bars
// it is negligible against the volatility and estimating it adds noise).
// The weights are normalised to sum to one over the T bars available,
// which is the recursion Σₜ = λΣₜ₋₁ + (1−λ)rₜrₜᵀ started from zero and
// divided by its total weight 1−λ^T; so a constant covariance with zero
// mean is estimated without bias for any T. The result is the forecast for
// the bar after the last row of r. dst must be empty or N×N. It needs
// T ≥ 1 and 0 < lambda < 1.
func EWMACov(dst *mat.SymDense, r mat.Matrix, lambda float64) error {
	if !(lambda > 0 && lambda < 1) {
		return fmt.Errorf("%w: EWMA decay %v must be in (0, 1)", ErrParam, lambda)
	}
	xt, t, n, err := columns(r, 1, "the EWMA covariance")
	if err != nil {
		return err
	}
	prepare(dst, n)
	// Scale row t by √wₜ so that XᵀX is the weighted sum.
	total := -math.Expm1(float64(t) * math.Log(lambda)) // 1 − λ^T without cancellation
	w := (1 - lambda) / total
	for k := t - 1; k >= 0; k-- {
		sw := math.Sqrt(w)
		for i := range n {
			xt[i*t+k] *= sw
		}
		w *= lambda
	}
	dst.SymOuterK(1, mat.NewDense(n, t, xt))
	return nil
}

// CorrFromCov sets dst to the correlation matrix of the covariance cov and
// writes the standard deviations into sd (length N; allocated if nil),
// returning sd. An asset with zero variance has correlation 0 with every
// other asset and 1 with itself. dst must be empty or N×N.
func CorrFromCov(dst *mat.SymDense, sd []float64, cov mat.Symmetric) []float64 {
	n := cov.SymmetricDim()
	prepare(dst, n)
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	if sd == nil {
		sd = make([]float64, n)
	}
	if len(sd) != n {
		panic(fmt.Sprintf("risk: len(sd) = %d, want %d", len(sd), n))
	}
	for i := range n {
		sd[i] = math.Sqrt(math.Max(cov.At(i, i), 0))
	}
	for i := range n {
		for j := i; j < n; j++ {
			v := 0.0
			switch {
			case i == j:
				v = 1
			case sd[i] > 0 && sd[j] > 0:
				v = cov.At(i, j) / (sd[i] * sd[j])
			}
			dst.SetSym(i, j, v)
		}
	}
	return sd
}
