package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// PBOResult is the outcome of combinatorially symmetric cross-validation.
type PBOResult struct {
	// PBO is the probability of backtest overfitting: the share of
	// combinations whose in-sample best configuration ranks at or below the
	// out-of-sample median (logit ≤ 0).
	PBO float64 `json:"pbo"`
	// Blocks is S, Configurations is M, Combinations is C(S, S/2).
	Blocks         int `json:"blocks"`
	Configurations int `json:"configurations"`
	Combinations   int `json:"combinations"`
	// Logits holds λ_c = log(ω_c/(1−ω_c)) per combination, ω_c the relative
	// out-of-sample rank of the in-sample best configuration.
	Logits []float64 `json:"logits"`
	// Selected holds the in-sample best configuration (column) per
	// combination.
	Selected []int `json:"selected"`
	// ISSharpe and OOSSharpe are the Sharpe ratios of the selected
	// configuration in and out of sample per combination, annualised with
	// the periodsPerYear passed to PBO.
	ISSharpe  []float64 `json:"is_sharpe"`
	OOSSharpe []float64 `json:"oos_sharpe"`
	// DegradationSlope, DegradationIntercept and DegradationR2 describe the
	// OLS fit OOSSharpe = intercept + slope·ISSharpe over the combinations
	// (Bailey et al. 2015, "performance degradation"): a slope below zero
	// means the better a configuration looked in sample, the worse it did
	// out of sample. NaN when the in-sample Sharpe ratios do not vary.
	DegradationSlope     float64 `json:"degradation_slope"`
	DegradationIntercept float64 `json:"degradation_intercept"`
	DegradationR2        float64 `json:"degradation_r2"`
	// ProbOOSLoss is the share of combinations whose selected configuration
	// has a negative out-of-sample Sharpe ratio.
	ProbOOSLoss float64 `json:"prob_oos_loss"`
}

// MarshalJSON encodes r with NaN and ±Inf as null.
func (r PBOResult) MarshalJSON() ([]byte, error) { return marshalFinite(r) }

// UnmarshalJSON decodes r, reading null as NaN.
func (r *PBOResult) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, r) }

// PBO estimates the probability of backtest overfitting by combinatorially
// symmetric cross-validation (Bailey, Borwein, López de Prado & Zhu 2015).
//
// returns is T×M: row t holds the per-period returns of the M
// configurations tried over bar t. The rows are cut into `blocks` (S, even)
// contiguous blocks whose sizes differ by at most one row. For each of the
// C(S, S/2) ways to choose S/2 blocks as the in-sample set (the other half
// is out of sample):
//
//   - the configuration n* with the highest in-sample Sharpe ratio is
//     selected (the lowest column index on ties);
//   - its out-of-sample rank among all M (1 = worst; tied values share the
//     average rank) gives ω = rank/(M+1) and the logit λ = log(ω/(1−ω)).
//
// PBO is the share of λ ≤ 0. Sharpe ratios are mean/std (sample std) times
// √periodsPerYear (pass 1 for per-period values); a configuration with
// zero variance on a set scores 0 if its mean is 0 and ±Inf by the sign of
// its mean otherwise, so flat configurations rank consistently.
//
// Errors: odd or < 2 blocks, fewer than 2 configurations, fewer than
// 2·blocks rows, non-finite entries, more than MaxCPCVSplits combinations.
func PBO(returns mat.Matrix, blocks int, periodsPerYear float64) (PBOResult, error) {
	t, m := returns.Dims()
	switch {
	case blocks < 2 || blocks%2 != 0:
		return PBOResult{}, fmt.Errorf("%w: PBO needs an even number of blocks ≥ 2, got %d", ErrPlan, blocks)
	case m < 2:
		return PBOResult{}, fmt.Errorf("%w: PBO needs at least 2 configurations, got %d", ErrPlan, m)
	case t < 2*blocks:
		return PBOResult{}, fmt.Errorf("%w: PBO with %d blocks needs at least %d rows, have %d", ErrPlan, blocks, 2*blocks, t)
	}
	if err := checkPeriodsPerYear(periodsPerYear); err != nil {
		return PBOResult{}, err
	}
	if nc := binomial(blocks, blocks/2); nc < 0 || nc > MaxCPCVSplits {
		return PBOResult{}, fmt.Errorf("%w: C(%d, %d) combinations exceed the limit %d", ErrPlan, blocks, blocks/2, MaxCPCVSplits)
	}

	// Centre each column on its full-sample mean, then keep per-block sums
	// of d and d²: any union of blocks is then a sum of block rows, and the
	// out-of-sample sums are the totals minus the in-sample ones.
	x := mat.DenseCopyOf(returns)
	mean := make([]float64, m)
	for i := range t {
		row := x.RawRowView(i)
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return PBOResult{}, fmt.Errorf("eval: PBO returns[%d][%d] = %v is not finite", i, j, v)
			}
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(t)
	}
	parts := equalParts(t, blocks)
	s1 := make([]float64, blocks*m) // block b, column j at b*m+j
	s2 := make([]float64, blocks*m)
	tot1 := make([]float64, m)
	tot2 := make([]float64, m)
	for b, r := range parts {
		for i := r.Start; i < r.End; i++ {
			row := x.RawRowView(i)
			for j, v := range row {
				d := v - mean[j]
				s1[b*m+j] += d
				s2[b*m+j] += d * d
			}
		}
		for j := range m {
			tot1[j] += s1[b*m+j]
			tot2[j] += s2[b*m+j]
		}
	}

	nc := binomial(blocks, blocks/2)
	res := PBOResult{
		Blocks:         blocks,
		Configurations: m,
		Combinations:   nc,
		Logits:         make([]float64, nc),
		Selected:       make([]int, nc),
		ISSharpe:       make([]float64, nc),
		OOSSharpe:      make([]float64, nc),
	}
	ann := math.Sqrt(periodsPerYear)
	is1 := make([]float64, m)
	is2 := make([]float64, m)
	oos := make([]float64, m)
	var overfit, loss int
	for c, combo := range combinations(blocks, blocks/2) {
		clear(is1)
		clear(is2)
		nIS := 0
		for _, b := range combo {
			nIS += parts[b].Len()
			for j := range m {
				is1[j] += s1[b*m+j]
				is2[j] += s2[b*m+j]
			}
		}
		isN, oosN := newCount(nIS), newCount(t-nIS)
		best, bestSR := 0, math.Inf(-1)
		for j := range m {
			sr := isN.sharpe(mean[j], is1[j], is2[j])
			if sr > bestSR || j == 0 {
				best, bestSR = j, sr
			}
			oos[j] = oosN.sharpe(mean[j], tot1[j]-is1[j], tot2[j]-is2[j])
		}
		var below, tied float64
		for j, v := range oos {
			switch {
			case v < oos[best]:
				below++
			case v == oos[best] && j != best:
				tied++
			}
		}
		rank := 1 + below + tied/2
		omega := rank / float64(m+1)
		lambda := math.Log(omega / (1 - omega))
		if lambda <= 0 {
			overfit++
		}
		if oos[best] < 0 {
			loss++
		}
		res.Logits[c] = lambda
		res.Selected[c] = best
		res.ISSharpe[c] = bestSR * ann
		res.OOSSharpe[c] = oos[best] * ann
	}
	res.PBO = float64(overfit) / float64(nc)
	res.ProbOOSLoss = float64(loss) / float64(nc)
	res.DegradationSlope, res.DegradationIntercept, res.DegradationR2 = math.NaN(), math.NaN(), math.NaN()
	if reg, err := Regress(res.ISSharpe, res.OOSSharpe, 0); err == nil {
		res.DegradationSlope, res.DegradationIntercept, res.DegradationR2 = reg.Slope, reg.Intercept, reg.R2
	}
	return res, nil
}

// count holds 1/n and 1/(n−1) for a set of n rows, so a Sharpe ratio
// costs one division and one square root.
type count struct{ inv, inv1 float64 }

func newCount(n int) count { return count{1 / float64(n), 1 / float64(n-1)} }

// sharpe returns the per-period Sharpe ratio of the rows whose deviations d
// from the full-sample mean mu sum to s1 with squares summing to s2, with
// PBO's zero-variance rule.
func (c count) sharpe(mu, s1, s2 float64) float64 {
	mean := mu + s1*c.inv
	v := (s2 - s1*s1*c.inv) * c.inv1
	if v <= 1e-300 || v <= 1e-24*mean*mean {
		// No dispersion, to rounding: a riskless return.
		switch {
		case mean > 0:
			return math.Inf(1)
		case mean < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return mean / math.Sqrt(v)
}
