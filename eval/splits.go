package eval

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
)

// Range is the half-open bar interval [Start, End).
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Len returns the number of bars in r.
func (r Range) Len() int { return r.End - r.Start }

// Contains reports whether bar t lies in r.
func (r Range) Contains(t int) bool { return t >= r.Start && t < r.End }

// ErrPlan is wrapped by every error about an impossible split plan.
var ErrPlan = errors.New("eval: impossible split plan")

// WalkForwardPlan describes walk-forward validation over the bars of a
// panel: train on a window, skip an embargo gap, test on the next window,
// move on by Step bars. All lengths are in bars.
//
// Fold k (k = 0, 1, …) tests on [s_k, s_k + Test) with
// s_k = Start + Train + Embargo + k·Step. A rolling plan trains on
// [s_k − Embargo − Train, s_k − Embargo); an expanding plan on
// [Start, s_k − Embargo). When Step = Test the test windows tile
// [Start + Train + Embargo, end of the last fold) without overlap or gap;
// Step < Test makes them overlap, Step > Test leaves gaps.
type WalkForwardPlan struct {
	// Train is the training window length (the first window, if Expanding).
	Train int `json:"train"`
	// Test is the test window length.
	Test int `json:"test"`
	// Step is the distance between consecutive test starts; 0 means Test.
	Step int `json:"step"`
	// Embargo is the number of bars dropped between the end of a training
	// window and the start of its test window, at least the label horizon
	// (a decision at t is judged by the close of t+1, so 1 bar keeps the
	// last training label out of the test window).
	Embargo int `json:"embargo"`
	// Expanding keeps every bar from Start in the training window instead
	// of rolling a fixed-length window.
	Expanding bool `json:"expanding"`
	// Start is the first bar the plan may use (e.g. after feature warm-up).
	Start int `json:"start"`
	// AllowPartial keeps a final fold whose test window is cut short by the
	// end of the data (at least one bar); otherwise such a fold is dropped.
	AllowPartial bool `json:"allow_partial"`
}

// Fold is one walk-forward fold.
type Fold struct {
	Index int   `json:"index"`
	Train Range `json:"train"`
	Test  Range `json:"test"`
}

// Folds returns the folds of the plan over bars 0..bars−1, in time order.
// It returns an error wrapping ErrPlan for non-positive Train or Test, a
// negative Step, Embargo or Start, or too few bars for one fold.
func (p WalkForwardPlan) Folds(bars int) ([]Fold, error) {
	step := p.Step
	if step == 0 {
		step = p.Test
	}
	switch {
	case p.Train < 1 || p.Test < 1:
		return nil, fmt.Errorf("%w: walk-forward train %d and test %d must be at least 1 bar", ErrPlan, p.Train, p.Test)
	case step < 1 || p.Embargo < 0 || p.Start < 0:
		return nil, fmt.Errorf("%w: walk-forward step %d must be positive, embargo %d and start %d non-negative", ErrPlan, p.Step, p.Embargo, p.Start)
	}
	first := p.Start + p.Train + p.Embargo
	need := first + p.Test
	if p.AllowPartial {
		need = first + 1
	}
	if bars < need {
		return nil, fmt.Errorf("%w: walk-forward needs at least %d bars for one fold (start %d + train %d + embargo %d + test %d, partial %v), have %d",
			ErrPlan, need, p.Start, p.Train, p.Embargo, p.Test, p.AllowPartial, bars)
	}
	var folds []Fold
	for s := first; s < bars; s += step {
		end := s + p.Test
		if end > bars {
			if !p.AllowPartial {
				break
			}
			end = bars
		}
		trainStart := s - p.Embargo - p.Train
		if p.Expanding {
			trainStart = p.Start
		}
		folds = append(folds, Fold{
			Index: len(folds),
			Train: Range{trainStart, s - p.Embargo},
			Test:  Range{s, end},
		})
	}
	return folds, nil
}

// MaxCPCVSplits bounds the number of combinations a CPCV plan may produce.
const MaxCPCVSplits = 1 << 20

// CPCV describes combinatorial purged cross-validation (López de Prado
// 2018, ch. 12): the bars are cut into Groups contiguous groups; every
// choice of TestGroups groups is one split, tested on those groups and
// trained on the rest after purging and embargo.
//
// The label of bar t depends on bars t..t+Horizon (a decision at t earning
// close t → close t+1 has Horizon 1). For a test group [a, b) the training
// bars [a−Horizon, a) are purged (their labels reach into the test group),
// and so are [b, b+Horizon+Embargo): bars whose labels overlap the test
// labels plus the embargo after the group. Purging and embargo only remove
// training bars; test groups are never shortened.
type CPCV struct {
	Groups     int `json:"groups"`      // N ≥ 2
	TestGroups int `json:"test_groups"` // k, 1 ≤ k < N
	Horizon    int `json:"horizon"`     // label horizon in bars, ≥ 0
	Embargo    int `json:"embargo"`     // bars embargoed after each test group, ≥ 0
}

// CPCVSplit is one train/test split of a CPCV plan.
type CPCVSplit struct {
	Index int `json:"index"`
	// TestGroups lists the tested groups in increasing order.
	TestGroups []int `json:"test_groups"`
	// Test holds one range per tested group, in the same order.
	Test []Range `json:"test"`
	// Train holds the training bars as disjoint ranges in increasing order.
	Train []Range `json:"train"`
}

// PathPiece is the part of a backtest path that one group contributes: the
// predictions for Group's bars made by the model of Split.
type PathPiece struct {
	Split int   `json:"split"`
	Group int   `json:"group"`
	Bars  Range `json:"bars"`
}

// CPCVResult is a CPCV plan laid out over a number of bars.
type CPCVResult struct {
	// Groups holds the bar range of every group. Sizes differ by at most one
	// bar: the first bars mod N groups have one extra bar (numpy.array_split).
	Groups []Range `json:"groups"`
	// Splits lists the C(N, k) splits with the test groups in lexicographic
	// order.
	Splits []CPCVSplit `json:"splits"`
	// Paths holds the φ = k/N·C(N, k) backtest paths. Path j takes, for
	// every group g, the j-th split (in split order) that tests g, so each
	// path covers every bar exactly once and every bar is tested in exactly
	// φ paths.
	Paths [][]PathPiece `json:"paths"`
}

// NumSplits returns C(N, k), the number of splits of the plan.
func (c CPCV) NumSplits() int { return binomial(c.Groups, c.TestGroups) }

// NumPaths returns φ = k/N · C(N, k) = C(N−1, k−1), the number of backtest
// paths of the plan.
func (c CPCV) NumPaths() int { return binomial(c.Groups-1, c.TestGroups-1) }

// Plan lays the CPCV plan over bars 0..bars−1. It returns an error wrapping
// ErrPlan for N < 2, k outside [1, N), negative Horizon or Embargo, fewer
// bars than groups, more than MaxCPCVSplits splits, or a split left without
// training bars.
func (c CPCV) Plan(bars int) (CPCVResult, error) {
	switch {
	case c.Groups < 2:
		return CPCVResult{}, fmt.Errorf("%w: CPCV needs at least 2 groups, got %d", ErrPlan, c.Groups)
	case c.TestGroups < 1 || c.TestGroups >= c.Groups:
		return CPCVResult{}, fmt.Errorf("%w: CPCV test groups %d must be in [1, %d)", ErrPlan, c.TestGroups, c.Groups)
	case c.Horizon < 0 || c.Embargo < 0:
		return CPCVResult{}, fmt.Errorf("%w: CPCV horizon %d and embargo %d must be non-negative", ErrPlan, c.Horizon, c.Embargo)
	case bars < c.Groups:
		return CPCVResult{}, fmt.Errorf("%w: CPCV with %d groups needs at least %d bars, have %d", ErrPlan, c.Groups, c.Groups, bars)
	}
	if ns := c.NumSplits(); ns < 0 || ns > MaxCPCVSplits {
		return CPCVResult{}, fmt.Errorf("%w: C(%d, %d) splits exceed the limit %d", ErrPlan, c.Groups, c.TestGroups, MaxCPCVSplits)
	}
	res := CPCVResult{Groups: equalParts(bars, c.Groups)}
	excluded := make([]bool, bars)
	for idx, combo := range combinations(c.Groups, c.TestGroups) {
		clear(excluded)
		sp := CPCVSplit{Index: idx, TestGroups: slices.Clone(combo)}
		for _, g := range combo {
			r := res.Groups[g]
			sp.Test = append(sp.Test, r)
			for t := max(r.Start-c.Horizon, 0); t < min(r.End+c.Horizon+c.Embargo, bars); t++ {
				excluded[t] = true
			}
		}
		sp.Train = ranges(excluded, false)
		if len(sp.Train) == 0 {
			return CPCVResult{}, fmt.Errorf("%w: CPCV split %v leaves no training bars after purge %d and embargo %d", ErrPlan, combo, c.Horizon, c.Embargo)
		}
		res.Splits = append(res.Splits, sp)
	}
	res.Paths = make([][]PathPiece, c.NumPaths())
	seen := make([]int, c.Groups) // splits so far that test each group
	for _, sp := range res.Splits {
		for i, g := range sp.TestGroups {
			j := seen[g]
			seen[g]++
			res.Paths[j] = append(res.Paths[j], PathPiece{Split: sp.Index, Group: g, Bars: sp.Test[i]})
		}
	}
	// Pieces were appended in split order; a path must run in group order.
	for _, p := range res.Paths {
		sortPieces(p)
	}
	return res, nil
}

func sortPieces(p []PathPiece) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].Group < p[j-1].Group; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// ranges returns the maximal runs of bars whose flag equals want.
func ranges(flags []bool, want bool) []Range {
	var out []Range
	for t := 0; t < len(flags); {
		if flags[t] != want {
			t++
			continue
		}
		s := t
		for t < len(flags) && flags[t] == want {
			t++
		}
		out = append(out, Range{s, t})
	}
	return out
}

// equalParts cuts n items into k contiguous ranges whose sizes differ by at
// most one, the larger ones first (numpy.array_split).
func equalParts(n, k int) []Range {
	out := make([]Range, k)
	base, extra := n/k, n%k
	s := 0
	for i := range out {
		l := base
		if i < extra {
			l++
		}
		out[i] = Range{s, s + l}
		s += l
	}
	return out
}

// combinations yields every k-subset of {0..n−1} in lexicographic order,
// with its position in that order. The yielded slice is reused: clone it
// to keep it.
func combinations(n, k int) iter.Seq2[int, []int] {
	return func(yield func(int, []int) bool) {
		c := make([]int, k)
		for i := range c {
			c[i] = i
		}
		for idx := 0; ; idx++ {
			if !yield(idx, c) {
				return
			}
			i := k - 1
			for i >= 0 && c[i] == n-k+i {
				i--
			}
			if i < 0 {
				return
			}
			c[i]++
			for j := i + 1; j < k; j++ {
				c[j] = c[j-1] + 1
			}
		}
	}
}

// binomial returns C(n, k), 0 outside 0 ≤ k ≤ n, and −1 if it overflows int.
func binomial(n, k int) int {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	r := 1
	for i := 1; i <= k; i++ {
		// r·(n−k+i)/i is C(n−k+i, i), an integer. Dividing by g = gcd(r, i)
		// first leaves i/g coprime with r/g, so i/g divides n−k+i and the
		// product is formed without overflowing unless the result does.
		g := gcd(r, i)
		num := (n - k + i) / (i / g)
		r /= g
		if r > math.MaxInt/num {
			return -1
		}
		r *= num
	}
	return r
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
