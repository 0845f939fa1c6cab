package eval

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// noiseConfigs returns a T×M matrix of i.i.d. normal returns; column j has
// mean edge[j] (0 where edge is shorter) and standard deviation 0.01.
func noiseConfigs(rng *rand.Rand, t, m int, edge ...float64) *mat.Dense {
	x := mat.NewDense(t, m, nil)
	for i := range t {
		for j := range m {
			mu := 0.0
			if j < len(edge) {
				mu = edge[j]
			}
			x.Set(i, j, mu+0.01*rng.NormFloat64())
		}
	}
	return x
}

func TestPBOAgainstBruteForce(t *testing.T) {
	// Second algorithm: for every combination gather the in- and
	// out-of-sample rows explicitly, compute each Sharpe ratio with
	// gonum/stat, select and rank by counting. T = 50 is not a multiple of
	// S = 6, so the block sizes 9,9,8,8,8,8 are exercised. Sums of ≤ 50
	// values: tolReduction.
	const T, M, S = 50, 7, 6
	x := noiseConfigs(seed.New(16, seed.Test, 0), T, M, 0.002, 0.001)
	got, err := PBO(x, S, 365)
	if err != nil {
		t.Fatal(err)
	}
	parts := []Range{{0, 9}, {9, 18}, {18, 26}, {26, 34}, {34, 42}, {42, 50}}
	var combos [][]int
	for _, c := range combinations(S, S/2) {
		combos = append(combos, slices.Clone(c))
	}
	if got.Combinations != len(combos) || got.Combinations != 20 || got.Blocks != S || got.Configurations != M {
		t.Fatalf("result shape %+v", got)
	}
	sharpe := func(rows []int, j int) float64 {
		v := make([]float64, len(rows))
		for k, i := range rows {
			v[k] = x.At(i, j)
		}
		return stat.Mean(v, nil) / stat.StdDev(v, nil)
	}
	overfit := 0
	for c, combo := range combos {
		var is, oos []int
		for b, r := range parts {
			for i := r.Start; i < r.End; i++ {
				if contains(combo, b) {
					is = append(is, i)
				} else {
					oos = append(oos, i)
				}
			}
		}
		best := 0
		for j := 1; j < M; j++ {
			if sharpe(is, j) > sharpe(is, best) {
				best = j
			}
		}
		rank := 1
		for j := range M {
			if j != best && sharpe(oos, j) < sharpe(oos, best) {
				rank++
			}
		}
		w := float64(rank) / float64(M+1)
		lambda := math.Log(w / (1 - w))
		if lambda <= 0 {
			overfit++
		}
		if got.Selected[c] != best || !sameFloat(got.Logits[c], lambda, tolReduction) ||
			!sameFloat(got.ISSharpe[c], sharpe(is, best)*math.Sqrt(365), tolReduction) ||
			!sameFloat(got.OOSSharpe[c], sharpe(oos, best)*math.Sqrt(365), tolReduction) {
			t.Errorf("combination %v: selected %d λ %v, brute force %d λ %v", combo, got.Selected[c], got.Logits[c], best, lambda)
		}
	}
	if want := float64(overfit) / float64(len(combos)); got.PBO != want {
		t.Errorf("PBO %v, brute force %v", got.PBO, want)
	}
	a, b := stat.LinearRegression(got.ISSharpe, got.OOSSharpe, nil, false)
	if !sameFloat(got.DegradationSlope, b, tolReduction) || !sameFloat(got.DegradationIntercept, a, tolReduction) {
		t.Errorf("degradation (%v, %v), gonum (%v, %v)", got.DegradationIntercept, got.DegradationSlope, a, b)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Error(err)
	}
}

func TestPBONoiseIsHalf(t *testing.T) {
	// With M = 10 skill-less configurations the out-of-sample rank of the
	// in-sample winner is uniform on 1..10, so P(λ ≤ 0) = P(rank ≤ 5) = 0.5.
	// One estimate averages strongly dependent combinations, so the band
	// comes from the spread across R = 40 independent data sets: the mean
	// must lie within 4 standard errors of 0.5 (measured SE ≈ 0.04).
	const R = 40
	vals := make([]float64, R)
	for k := range vals {
		res, err := PBO(noiseConfigs(seed.New(17, seed.Test, uint64(k)), 400, 10), 8, 365)
		if err != nil {
			t.Fatal(err)
		}
		vals[k] = res.PBO
	}
	mean, sd := meanStd(vals)
	se := sd / math.Sqrt(R)
	t.Logf("noise: mean PBO %.4f, SE %.4f", mean, se)
	if math.Abs(mean-0.5) > 4*se || se > 0.08 {
		t.Errorf("noise PBO mean %.4f (SE %.4f), want 0.5 within 4 SE", mean, se)
	}
}

func TestPBOTrueEdgeIsZero(t *testing.T) {
	// Configuration 0 earns 0.3 standard deviations per bar; the others are
	// noise. Over ≥ 500 in-sample bars its Sharpe ratio beats 19 noise
	// Sharpe ratios (SE ≈ 0.045) in every combination, and it is also the
	// out-of-sample best: every logit is log(20/1) > 0.
	res, err := PBO(noiseConfigs(seed.New(18, seed.Test, 0), 1000, 20, 0.003), 16, 365)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("true edge: PBO %.4f, degradation slope %.3f, P(OOS loss) %.4f", res.PBO, res.DegradationSlope, res.ProbOOSLoss)
	if res.PBO > 0.01 || res.ProbOOSLoss > 0 {
		t.Errorf("PBO %v, P(loss) %v with a strong true edge, want ≈ 0", res.PBO, res.ProbOOSLoss)
	}
	for _, s := range res.Selected {
		if s != 0 {
			t.Fatalf("selected %d, want the configuration with the edge", s)
		}
	}
}

func TestPBOFlatConfigurations(t *testing.T) {
	// A flat column (cash) scores Sharpe 0 and a constant positive column
	// +Inf under the zero-variance rule; neither breaks the ranking.
	x := noiseConfigs(seed.New(19, seed.Test, 0), 80, 4)
	for i := range 80 {
		x.Set(i, 2, 0)
		x.Set(i, 3, 0.001)
	}
	res, err := PBO(x, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for c := range res.Selected {
		// The riskless positive column wins in and out of sample: rank 4 of
		// 4, λ = log(4/5 / (1/5)) = log 4.
		if res.Selected[c] != 3 || !sameFloat(res.Logits[c], math.Log(4), tolExact) || !math.IsInf(res.ISSharpe[c], 1) {
			t.Fatalf("combination %d: selected %d λ %v IS %v", c, res.Selected[c], res.Logits[c], res.ISSharpe[c])
		}
	}
	if res.PBO != 0 || !math.IsNaN(res.DegradationSlope) {
		t.Errorf("PBO %v slope %v", res.PBO, res.DegradationSlope)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("infinite Sharpe ratios do not encode: %v", err)
	}
}

func TestPBOErrors(t *testing.T) {
	x := noiseConfigs(seed.New(20, seed.Test, 0), 40, 3)
	for _, tc := range []struct {
		m      mat.Matrix
		blocks int
		ppy    float64
	}{
		{x, 3, 1}, {x, 0, 1}, {x, 24, 1}, {x.Slice(0, 40, 0, 1), 4, 1}, {x, 4, 0},
	} {
		if _, err := PBO(tc.m, tc.blocks, tc.ppy); err == nil {
			t.Errorf("PBO accepted %d blocks, ppy %v", tc.blocks, tc.ppy)
		} else if tc.ppy > 0 && !errors.Is(err, ErrPlan) {
			t.Errorf("%v does not wrap ErrPlan", err)
		}
	}
	x.Set(3, 1, math.NaN())
	if _, err := PBO(x, 4, 1); err == nil {
		t.Error("NaN accepted")
	}
}

func BenchmarkPBO(b *testing.B) {
	x := noiseConfigs(seed.New(1, seed.Test, 0), 2000, 50)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PBO(x, 16, 365); err != nil {
			b.Fatal(err)
		}
	}
}
