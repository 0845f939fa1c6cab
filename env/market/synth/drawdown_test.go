package synth

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
)

// TestDrawdownCorrHandPath checks computeDrawdownCorr on a two-asset path
// worked out by hand. With L the cumulated mean log return, the drawdowns
// after each day are 0.259, 0.451, 0.362, 0.313, 0.333, 0 (day 5 sets a new
// peak at L = 0.045) and 0.259; at depth 0.3 days 2–5 start in a drawdown and
// days 0, 1 and 6 do not. The drawdown days' returns lie on y = 2x and the
// other days' on y = −0.6 − x, so the two correlations are exactly +1 and −1.
// Classifying by the drawdown at a day's close instead would move day 1 into
// the drawdown bucket and day 5 out of it, and break both lines.
func TestDrawdownCorrHandPath(t *testing.T) {
	r := []float64{
		-0.3, -0.3,
		-0.1, -0.5,
		0.1, 0.2,
		0.05, 0.1,
		-0.02, -0.04,
		0.3, 0.6,
		0, -0.6,
	}
	dd, other, nDD, nOther := computeDrawdownCorr(r, 2, 0.3)
	if nDD != 4 || nOther != 3 {
		t.Fatalf("days: drawdown %d, other %d; want 4, 3", nDD, nOther)
	}
	const tol = 1e-12
	if !scalar.EqualWithinAbs(dd, 1, tol) || !scalar.EqualWithinAbs(other, -1, tol) {
		t.Errorf("correlations: drawdown %v, other %v; want 1, -1 within %g", dd, other, tol)
	}

	// No day starts deeper than 90 %: the drawdown bucket is empty and its
	// correlation NaN, and the other bucket holds every day.
	dd, other, nDD, nOther = computeDrawdownCorr(r, 2, 0.9)
	if nDD != 0 || nOther != 7 || !math.IsNaN(dd) {
		t.Errorf("depth 0.9: drawdown %v (%d days), other %d days; want NaN (0 days), 7 days", dd, nDD, nOther)
	}
	if want := avgPairCorr(r, 2, []int{0, 1, 2, 3, 4, 5, 6}); !scalar.EqualWithinAbs(other, want, tol) {
		t.Errorf("depth 0.9: other-day correlation %v, want the all-day correlation %v", other, want)
	}
}

// TestDrawdownCorrBruteForce checks computeDrawdownCorr on a synthetic
// panel against an independent computation: the index as a product of the
// geometric means of the assets' price relatives (from closes, not log
// returns), its peak by a scan over every earlier level, and gonum's
// stat.Correlation for each pair.
func TestDrawdownCorrBruteForce(t *testing.T) {
	c := Defaults()
	c.Assets, c.Bars = 5, 800
	p, _, err := Generate(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	const depth = 0.4
	n, days := p.N(), p.T()-1
	r := make([]float64, 0, days*n)
	for k := 1; k <= days; k++ {
		for i := 0; i < n; i++ {
			r = append(r, p.LogReturn(k, i))
		}
	}
	dd, other, nDD, nOther := computeDrawdownCorr(r, n, depth)

	// level[s] is the index after day s−1; level[0] = 1 before day 0.
	level := make([]float64, days+1)
	level[0] = 1
	for s := 0; s < days; s++ {
		rel := 1.0
		for i := 0; i < n; i++ {
			rel *= p.Close(s+1, i) / p.Close(s, i)
		}
		level[s+1] = level[s] * math.Pow(rel, 1/float64(n))
	}
	x := make([][2][]float64, n) // per asset: drawdown days, other days
	for s := 0; s < days; s++ {
		var peak float64
		for u := 0; u <= s; u++ {
			peak = math.Max(peak, level[u])
		}
		b := 1
		if 1-level[s]/peak > depth {
			b = 0
		}
		for i := 0; i < n; i++ {
			x[i][b] = append(x[i][b], r[s*n+i])
		}
	}
	if len(x[0][0]) < 50 || len(x[0][1]) < 50 {
		t.Fatalf("seed 7 gives %d drawdown days and %d other days; the check needs at least 50 in each", len(x[0][0]), len(x[0][1]))
	}
	var want [2]float64
	pairs := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			for b := range want {
				want[b] += stat.Correlation(x[i][b], x[j][b], nil)
			}
			pairs++
		}
	}
	if nDD != len(x[0][0]) || nOther != len(x[0][1]) {
		t.Errorf("days: drawdown %d, other %d; brute force %d, %d", nDD, nOther, len(x[0][0]), len(x[0][1]))
	}
	const tol = 1e-12
	if w := want[0] / float64(pairs); !scalar.EqualWithinAbs(dd, w, tol) {
		t.Errorf("drawdown-day correlation %.15g, brute force %.15g", dd, w)
	}
	if w := want[1] / float64(pairs); !scalar.EqualWithinAbs(other, w, tol) {
		t.Errorf("other-day correlation %.15g, brute force %.15g", other, w)
	}
}
