package regime

import (
	"fmt"
	"strings"

	"github.com/folio-rl/folio/env/market"
)

// Confusion counts bars by true regime (row) and assigned regime (column),
// both in the order bull, bear, sideways, crash. Bars where either label is
// Unlabelled are not counted.
type Confusion [market.NumRegimes][market.NumRegimes]int

// Compare tallies truth against labels (same length, else it panics).
func Compare(truth, labels []market.Regime) Confusion {
	if len(truth) != len(labels) {
		panic("regime: compare: label slices differ in length")
	}
	var c Confusion
	for t, r := range truth {
		l := labels[t]
		if r < market.Bull || r > market.Crash || l < market.Bull || l > market.Crash {
			continue
		}
		c[r-market.Bull][l-market.Bull]++
	}
	return c
}

// Total returns the number of bars counted.
func (c *Confusion) Total() int {
	var n int
	for _, row := range c {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy returns the share of counted bars whose label equals the truth
// (NaN if none were counted).
func (c *Confusion) Accuracy() float64 {
	var hit int
	for r := range c {
		hit += c[r][r]
	}
	return float64(hit) / float64(c.Total())
}

// Majority returns the share of the most frequent true regime among the
// counted bars: the accuracy of always guessing that regime, the chance
// level a labeller must beat.
func (c *Confusion) Majority() float64 {
	var best int
	for _, row := range c {
		var n int
		for _, v := range row {
			n += v
		}
		best = max(best, n)
	}
	return float64(best) / float64(c.Total())
}

// Chance returns the agreement expected between independent labellings
// with the observed truth and label frequencies, Σ_k p_truth(k)·p_label(k)
// (the p_e of Cohen's kappa): the accuracy of guessing at random with the
// labeller's own label shares.
func (c *Confusion) Chance() float64 {
	n := float64(c.Total())
	var pe float64
	for k := range c {
		var row, col float64
		for j := range c {
			row += float64(c[k][j])
			col += float64(c[j][k])
		}
		pe += row / n * col / n
	}
	return pe
}

// Kappa returns Cohen's kappa, (accuracy − chance)/(1 − chance): 0 for
// chance-level agreement, 1 for perfect agreement.
func (c *Confusion) Kappa() float64 {
	pe := c.Chance()
	return (c.Accuracy() - pe) / (1 - pe)
}

// String formats the matrix with regime names, rows = truth.
func (c *Confusion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s", "true\\lbl")
	for _, r := range market.Regimes() {
		fmt.Fprintf(&b, " %8s", r)
	}
	b.WriteByte('\n')
	for i, r := range market.Regimes() {
		fmt.Fprintf(&b, "%-9s", r)
		for j := range c[i] {
			fmt.Fprintf(&b, " %8d", c[i][j])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Labeller assigns a causal regime label to every bar of a panel: the label
// of bar t depends on bars ≤ t only. *Rules and *HMM implement it.
type Labeller interface {
	// LabelTo writes one label per bar of p into dst (allocated when nil
	// or too short) and returns it; warm-up bars are Unlabelled.
	LabelTo(dst []market.Regime, p *market.Panel) []market.Regime
}
