package wrap

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// twoPass returns the mean and population variance of each column of xs by
// the textbook two-pass formulas (the independent reference).
func twoPass(xs [][]float64) (mean, variance []float64) {
	d := len(xs[0])
	mean, variance = make([]float64, d), make([]float64, d)
	for _, x := range xs {
		for k, v := range x {
			mean[k] += v
		}
	}
	for k := range mean {
		mean[k] /= float64(len(xs))
	}
	for _, x := range xs {
		for k, v := range x {
			variance[k] += (v - mean[k]) * (v - mean[k])
		}
	}
	for k := range variance {
		variance[k] /= float64(len(xs))
	}
	return mean, variance
}

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestMeanVarMatchesTwoPass(t *testing.T) {
	// Welford, the parallel merge and the two-pass formulas are all
	// backward stable; on 1000 values with |mean|/σ up to 1e3 they agree to
	// ~1e-13 relative, so 1e-10 leaves a wide margin while catching any
	// algebra slip.
	const rel = 1e-10
	rng := seed.New(1, seed.Test, 1)
	xs := make([][]float64, 1000)
	for j := range xs {
		xs[j] = []float64{rng.NormFloat64(), 1e3 + rng.NormFloat64(), 1e-3 * rng.ExpFloat64(), -7}
	}
	whole := NewMeanVar(4)
	for _, x := range xs {
		whole.Add(x)
	}
	a, b, c := NewMeanVar(4), NewMeanVar(4), NewMeanVar(4)
	for j, x := range xs {
		switch {
		case j < 123:
			a.Add(x)
		case j < 700:
			b.Add(x)
		default:
			c.Add(x)
		}
	}
	a.Merge(b)
	a.Merge(c)
	a.Merge(NewMeanVar(4)) // merging nothing changes nothing
	mean, variance := twoPass(xs)
	for _, s := range []*MeanVar{whole, a} {
		if s.Count() != 1000 {
			t.Fatalf("count %v", s.Count())
		}
		for k := range mean {
			if !near(s.Mean(k), mean[k], rel) || !near(s.Var(k), variance[k], rel) {
				t.Errorf("element %d: mean %v var %v, two-pass %v %v", k, s.Mean(k), s.Var(k), mean[k], variance[k])
			}
		}
	}
	if whole.Var(3) != 0 || whole.Mean(3) != -7 {
		t.Errorf("constant element: mean %v var %v", whole.Mean(3), whole.Var(3))
	}
	m, v := whole.MeanTo(make([]float64, 4)), whole.VarTo(make([]float64, 4))
	for k := range m {
		if m[k] != whole.Mean(k) || v[k] != whole.Var(k) {
			t.Error("MeanTo/VarTo disagree with Mean/Var")
		}
	}
}

func TestMeanVarBinaryRoundTrip(t *testing.T) {
	rng := seed.New(1, seed.Test, 2)
	s := NewMeanVar(3)
	for range 17 {
		s.Add([]float64{rng.NormFloat64(), rng.ExpFloat64(), math.Pi})
	}
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var r MeanVar
	if err := r.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	again, _ := r.MarshalBinary()
	if !bytes.Equal(data, again) || r.Count() != s.Count() {
		t.Fatal("round trip not exact")
	}
	for k := range 3 {
		if r.Mean(k) != s.Mean(k) || r.Var(k) != s.Var(k) {
			t.Fatalf("element %d differs after round trip", k)
		}
	}
	bad := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), data[4:]...),
		"version":   append(append([]byte(nil), data[:4]...), append([]byte{9, 0}, data[6:]...)...),
		"truncated": data[:len(data)-1],
		"trailing":  append(append([]byte(nil), data...), 0),
	}
	for name, b := range bad {
		if err := r.UnmarshalBinary(b); !errors.Is(err, ErrState) {
			t.Errorf("%s: err = %v, want ErrState", name, err)
		}
	}
}
