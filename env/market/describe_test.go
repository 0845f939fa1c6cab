package market

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/internal/seed"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
)

// closeSeries returns a daily series with the given closes (open = high =
// low = close).
func closeSeries(closes ...float64) *Series {
	s := &Series{Asset: "X", Interval: 24 * time.Hour}
	for k, c := range closes {
		s.Times = append(s.Times, ts("2021-01-01T00:00:00Z")+int64(k)*86400)
		s.Open, s.High, s.Low, s.Close, s.Volume = append(s.Open, c), append(s.High, c), append(s.Low, c), append(s.Close, c), append(s.Volume, 1)
	}
	return s
}

func TestDescribeByHand(t *testing.T) {
	// Deterministic float64 arithmetic on a handful of values: 1e-12 relative.
	const tol = 1e-12
	near := func(name string, got, want float64) {
		t.Helper()
		if !scalar.EqualWithinAbsOrRel(got, want, tol, tol) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	// Returns +0.5, −0.5, +0.5, −0.5: mean 0, m2 = 0.25, m3 = 0, m4 = 0.0625,
	// so skewness 0 and excess kurtosis 0.0625/0.25² − 3 = −2; sample
	// variance 1/3, volatility √(1/3)·√365; running peak 150, trough 56.25,
	// drawdown 1 − 56.25/150 = 0.625; growth 0.5625 over 4 days.
	st := Describe(closeSeries(100, 150, 75, 112.5, 56.25))
	near("volatility", st.Volatility, math.Sqrt(1.0/3)*math.Sqrt(365))
	near("skewness", st.Skewness+1, 1)
	near("excess kurtosis", st.ExcessKurtosis, -2)
	near("max drawdown", st.MaxDrawdown, 0.625)
	near("total return", st.TotalReturn, -0.4375)
	near("CAGR", st.CAGR, math.Pow(0.5625, 365.0/4)-1)
	if st.Returns != 4 || st.Bars != 5 || st.Gaps != 0 {
		t.Errorf("returns %d bars %d gaps %d", st.Returns, st.Bars, st.Gaps)
	}
	// Returns 0, 0, 0, 1 (a Bernoulli sample with p = 1/4): population
	// skewness (1−2p)/√(p(1−p)) = 2/√3, excess kurtosis
	// (1 − 6p(1−p))/(p(1−p)) = −2/3 (closed forms of the Bernoulli moments).
	st = Describe(closeSeries(100, 100, 100, 100, 200))
	near("bernoulli skewness", st.Skewness, 2/math.Sqrt(3))
	near("bernoulli kurtosis", st.ExcessKurtosis, -2.0/3)
	near("no drawdown", st.MaxDrawdown+1, 1)
	near("CAGR doubling in 4 days", st.CAGR, math.Pow(2, 365.0/4)-1)
}

// The moments agree with gonum's bias-corrected estimators after converting
// with the standard relations G1 = g1·√(n(n−1))/(n−2) and
// G2 = ((n+1)·g2 + 6)(n−1)/((n−2)(n−3)); volatility with stat.StdDev; max
// drawdown with a brute-force O(n²) search.
func TestDescribeMatchesIndependentComputation(t *testing.T) {
	// Sums over up to 2,000 terms computed in a different order: 1e-9 relative.
	const tol = 1e-9
	rng := seed.New(3, seed.Test, 4)
	for trial := range 20 {
		s := randomSeries(rng, "R", time.Hour, 20+rng.IntN(2000), 0)
		st := Describe(s)
		n := s.Len() - 1
		r := make([]float64, n)
		for k := range r {
			r[k] = s.Close[k+1]/s.Close[k] - 1
		}
		nf := float64(n)
		g1 := stat.Skew(r, nil) * (nf - 2) / math.Sqrt(nf*(nf-1))
		g2 := (stat.ExKurtosis(r, nil)*(nf-2)*(nf-3)/(nf-1) - 6) / (nf + 1)
		vol := stat.StdDev(r, nil) * math.Sqrt(24*365)
		dd := 0.0
		for i := range s.Close {
			for j := i; j < len(s.Close); j++ {
				dd = math.Max(dd, 1-s.Close[j]/s.Close[i])
			}
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"skewness", st.Skewness, g1}, {"excess kurtosis", st.ExcessKurtosis, g2}, {"volatility", st.Volatility, vol}, {"max drawdown", st.MaxDrawdown, dd}} {
			if !scalar.EqualWithinAbsOrRel(c.got, c.want, tol, tol) {
				t.Errorf("trial %d: %s = %.15g, independent computation %.15g", trial, c.name, c.got, c.want)
			}
		}
	}
}

func TestDescribeGapsAndPanel(t *testing.T) {
	// A series with a two-bar gap: the return across the gap is left out.
	s := flatSeries("G", "g.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10, 4, 5)...)
	st := Describe(s)
	if st.Gaps != 1 || st.Missing != 2 || st.Returns != 6 || st.Bars != 8 {
		t.Errorf("gaps %d missing %d returns %d bars %d", st.Gaps, st.Missing, st.Returns, st.Bars)
	}
	// CAGR uses the elapsed time (9 hours), not the bar count. One pow of
	// exactly computed inputs, evaluated differently: 1e-12 relative.
	want := math.Pow(s.Close[7]/s.Close[0], float64(Year)/float64(9*time.Hour)) - 1
	if !scalar.EqualWithinAbsOrRel(st.CAGR, want, 1e-12, 1e-12) {
		t.Errorf("CAGR %v, want %v", st.CAGR, want)
	}
	// The same gap forward-filled in a panel: one run of two filled bars.
	full := flatSeries("F", "f.csv", time.Hour, times("2021-01-01T00:00:00Z", time.Hour, 10)...)
	p, _, err := Align([]*Series{full, s}, AlignOptions{Fill: FillForward, MaxFillGap: 2})
	if err != nil {
		t.Fatal(err)
	}
	ps := DescribePanel(p)
	if ps[1].Gaps != 1 || ps[1].Missing != 2 || ps[1].Returns != 9 || ps[1].ZeroVolume != 2 {
		t.Errorf("panel column: %+v", ps[1])
	}
	// A gapless column describes exactly like its series: the same
	// arithmetic in the same order, so == is the point.
	if a, b := ps[0], Describe(full); a.Volatility != b.Volatility || a.Skewness != b.Skewness || a.MaxDrawdown != b.MaxDrawdown || a.CAGR != b.CAGR {
		t.Errorf("panel %+v\nseries %+v", a, b)
	}
	// Too little data gives NaN, not a panic.
	one := Describe(closeSeries(5))
	if !math.IsNaN(one.Volatility) || !math.IsNaN(one.CAGR) || one.MaxDrawdown != 0 || one.TotalReturn != 0 {
		t.Errorf("one bar: %+v", one)
	}
	if st := Describe(&Series{Asset: "E"}); !math.IsNaN(st.Volatility) || st.Bars != 0 {
		t.Errorf("empty: %+v", st)
	}
	if st := Describe(closeSeries(5, 5, 5)); st.Volatility != 0 || !math.IsNaN(st.Skewness) {
		t.Errorf("constant: %+v", st)
	}
}
