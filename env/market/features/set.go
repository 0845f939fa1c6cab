package features

import (
	"fmt"
	"math"
)

// Set holds causal feature values for a panel: F per-asset features for each
// of N assets and G market-wide (global) features, each a series of T values
// aligned with the panel's bars. Value t of every series uses bars ≤ t only.
// Values before a feature's warm-up are NaN; WarmUp reports the first bar at
// which every series is finite.
//
// Storage is series-major so that a window of one series is contiguous:
// asset feature f of asset i occupies asset[(i*F+f)*T : (i*F+f+1)*T].
type Set struct {
	names  []string
	global []string
	t, n   int
	asset  []float64
	glob   []float64
}

// NewSet returns a Set of T bars and N assets with the given per-asset and
// global feature names, every value NaN.
func NewSet(t, n int, names, global []string) *Set {
	s := &Set{
		names: append([]string(nil), names...), global: append([]string(nil), global...),
		t: t, n: n,
		asset: make([]float64, t*n*len(names)),
		glob:  make([]float64, t*len(global)),
	}
	for k := range s.asset {
		s.asset[k] = math.NaN()
	}
	for k := range s.glob {
		s.glob[k] = math.NaN()
	}
	return s
}

// T returns the number of bars.
func (s *Set) T() int { return s.t }

// N returns the number of assets.
func (s *Set) N() int { return s.n }

// Names returns the per-asset feature names.
func (s *Set) Names() []string { return append([]string(nil), s.names...) }

// GlobalNames returns the market-wide feature names.
func (s *Set) GlobalNames() []string { return append([]string(nil), s.global...) }

// F returns the number of per-asset features.
func (s *Set) F() int { return len(s.names) }

// G returns the number of global features.
func (s *Set) G() int { return len(s.global) }

// Series returns per-asset feature f of asset i as a slice of length T.
// The slice is the Set's storage: builders fill it, readers must not modify it.
func (s *Set) Series(i, f int) []float64 {
	k := (i*len(s.names) + f) * s.t
	return s.asset[k : k+s.t : k+s.t]
}

// GlobalSeries returns global feature g as a slice of length T (see Series).
func (s *Set) GlobalSeries(g int) []float64 {
	k := g * s.t
	return s.glob[k : k+s.t : k+s.t]
}

// Index returns the position of the named per-asset feature, or -1.
func (s *Set) Index(name string) int {
	for f, n := range s.names {
		if n == name {
			return f
		}
	}
	return -1
}

// GlobalIndex returns the position of the named global feature, or -1.
func (s *Set) GlobalIndex(name string) int {
	for g, n := range s.global {
		if n == name {
			return g
		}
	}
	return -1
}

// WarmUp returns the first bar t at which every value of every series at
// bars ≥ t is finite; T if there is none.
func (s *Set) WarmUp() int {
	w := 0
	scan := func(x []float64) {
		for t := s.t - 1; t >= 0; t-- {
			if math.IsNaN(x[t]) || math.IsInf(x[t], 0) {
				if t+1 > w {
					w = t + 1
				}
				return
			}
		}
	}
	for k := 0; k < len(s.asset); k += s.t {
		scan(s.asset[k : k+s.t])
	}
	for k := 0; k < len(s.glob); k += s.t {
		scan(s.glob[k : k+s.t])
	}
	return w
}

// Validate returns an error naming the first non-finite value at or after
// bar from.
func (s *Set) Validate(from int) error {
	for i := 0; i < s.n; i++ {
		for f, name := range s.names {
			for t, x := range s.Series(i, f)[from:] {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("features: %s of asset %d is %v at bar %d", name, i, x, from+t)
				}
			}
		}
	}
	for g, name := range s.global {
		for t, x := range s.GlobalSeries(g)[from:] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("features: global %s is %v at bar %d", name, x, from+t)
			}
		}
	}
	return nil
}
