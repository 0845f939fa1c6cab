package env

import (
	"fmt"
	"math/rand/v2"

	"github.com/folio-rl/folio/env/market"
)

// sampler draws episode start bars. Valid starts are the decision bars s in
// [first, last]: s ≥ warm-up + window − 1 so that the whole observation
// window is defined, s ≥ the segment start, and s + episode length ≤ the
// segment end (or s < the segment end when episodes run to the end).
type sampler struct {
	first, last int
	// classes is nil when every start in [first, last] is allowed and
	// sampling is uniform. Otherwise a start is drawn by picking a class
	// uniformly, then a start in it uniformly: one class holding every
	// allowed start for uniform sampling, one class per regime present for
	// balanced sampling.
	classes [][]int32
}

// newSampler builds the sampler. allowed[r] says whether starts labelled r
// are allowed (all true when no regimes are named); labels may be nil.
func newSampler(first, last int, labels []market.Regime, allowed *[market.NumRegimes + 1]bool, restricted, balanced bool) (sampler, error) {
	s := sampler{first: first, last: last}
	if !restricted && (!balanced || labels == nil) {
		return s, nil
	}
	var byRegime [market.NumRegimes + 1][]int32
	for b := first; b <= last; b++ {
		r := regimeAt(labels, b)
		if allowed[r] {
			byRegime[r] = append(byRegime[r], int32(b))
		}
	}
	if balanced {
		// Unlabelled bars (warm-up of a labeller) form no class of their own
		// unless nothing is labelled.
		for r := market.Bull; r <= market.Crash; r++ {
			if len(byRegime[r]) > 0 {
				s.classes = append(s.classes, byRegime[r])
			}
		}
		if len(s.classes) == 0 && len(byRegime[market.Unlabelled]) > 0 {
			s.classes = append(s.classes, byRegime[market.Unlabelled])
		}
	} else {
		var all []int32
		for b := first; b <= last; b++ {
			if allowed[regimeAt(labels, b)] {
				all = append(all, int32(b))
			}
		}
		if len(all) > 0 {
			s.classes = [][]int32{all}
		}
	}
	if len(s.classes) == 0 {
		return s, fmt.Errorf("env: no valid episode start in bars [%d, %d] is labelled with an allowed regime", first, last)
	}
	return s, nil
}

// draw returns a random start.
func (s *sampler) draw(rng *rand.Rand) int {
	if s.classes == nil {
		return s.first + rng.IntN(s.last-s.first+1)
	}
	c := s.classes[0]
	if len(s.classes) > 1 {
		c = s.classes[rng.IntN(len(s.classes))]
	}
	return int(c[rng.IntN(len(c))])
}

// firstStart returns the earliest allowed start.
func (s *sampler) firstStart() int {
	if s.classes == nil {
		return s.first
	}
	best := int(s.classes[0][0])
	for _, c := range s.classes[1:] {
		best = min(best, int(c[0]))
	}
	return best
}

func regimeAt(labels []market.Regime, t int) market.Regime {
	if labels == nil {
		return market.Unlabelled
	}
	return labels[t]
}
