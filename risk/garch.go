package risk

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/vol"
)

// GARCHCov sets dst to a constant-conditional-correlation covariance
// forecast for the bar after the last row of the T×N returns r:
//
//	Σᵢⱼ = σᵢσⱼRᵢⱼ,
//
// where σᵢ² is the one-step-ahead variance of a GARCH(1,1) with constant
// mean and normal errors fitted by maximum likelihood to asset i's returns
// (vol.FitGARCH), and R is the sample correlation of r (Bollerslev 1990's
// constant-correlation model with the correlation estimated by moments;
// the normalisation of the sample covariance cancels in R). The fits run on
// returns in percent, vol's convention, and the variances are converted
// back to the units of r.
//
// prev, if not nil, holds one previous fit per asset (for instance on the
// previous, overlapping window of a walk-forward schedule); they warm-start
// the optimiser (vol.FitOptions.Prev). The fits are returned so callers
// can check convergence (GARCHFit.Converged) and unit-root flags
// (NearUnitRoot): a fit that did not converge still gives its best
// feasible point and is used. Standard errors are not computed.
//
// dst must be empty or N×N. It needs T ≥ vol.MinObs (sensible fits need
// hundreds of bars) and every variance positive; fit failures are returned
// wrapped with the asset's column.
func GARCHCov(dst *mat.SymDense, r mat.Matrix, prev []*vol.GARCHFit) ([]*vol.GARCHFit, error) {
	xt, t, n, err := columns(r, vol.MinObs, "the GARCH covariance")
	if err != nil {
		return nil, err
	}
	prepare(dst, n)
	if prev != nil && len(prev) != n {
		panic(fmt.Sprintf("risk: len(prev) = %d, want %d", len(prev), n))
	}
	fits := make([]*vol.GARCHFit, n)
	sd := make([]float64, n)
	pct := make([]float64, t)
	for i := range n {
		for k, v := range xt[i*t : i*t+t] {
			pct[k] = 100 * v
		}
		opt := &vol.FitOptions{NoStdErr: true}
		if prev != nil {
			opt.Prev = prev[i]
		}
		fit, err := vol.FitGARCH(pct, opt)
		if err != nil {
			return nil, fmt.Errorf("risk: GARCH fit of column %d: %w", i, err)
		}
		if !(fit.NextVariance > 0) || math.IsInf(fit.NextVariance, 0) {
			return nil, fmt.Errorf("%w: GARCH forecast variance of column %d is %v", ErrDegenerate, i, fit.NextVariance)
		}
		fits[i] = fit
		sd[i] = math.Sqrt(fit.NextVariance) / 100
	}
	centre(xt, t, n)
	var s mat.SymDense
	s.SymOuterK(1, mat.NewDense(n, t, xt))
	corr := mat.NewSymDense(n, nil)
	ssd := CorrFromCov(corr, nil, &s)
	for i, v := range ssd {
		if !(v > 0) {
			return nil, fmt.Errorf("%w: column %d has zero sample variance", ErrDegenerate, i)
		}
	}
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	for i := range n {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, sd[i]*sd[j]*corr.At(i, j))
		}
	}
	return fits, nil
}
