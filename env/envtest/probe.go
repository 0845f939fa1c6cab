package envtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// lookAhead is the look-ahead probe (see the package documentation).
func (c *checker) lookAhead() error {
	p := c.opts.Panel
	ref, err := c.panelRollout(p)
	if err != nil {
		return fmt.Errorf("reference env: %w", err)
	}
	if len(ref) < 2 {
		return errors.New("the reference rollout ended before its first step")
	}
	// Cuts: the start bar, then decision bars spread over the rollout.
	var cuts []int
	for _, k := range []int{0, 1, len(ref) / 3, 2 * len(ref) / 3, len(ref) - 2} {
		if k >= 0 && k < len(ref)-1 {
			if b := ref[k].info.Bar; len(cuts) == 0 || b > cuts[len(cuts)-1] {
				cuts = append(cuts, b)
			}
		}
	}
	rng := seed.New(c.opts.Seed, seed.Test, 3000)
	for _, cut := range cuts {
		if cut >= p.T()-1 {
			continue
		}
		q, err := perturbAfter(p, cut, rng)
		if err != nil {
			return err
		}
		got, err := c.panelRollout(q)
		if err != nil {
			return fmt.Errorf("env on the panel perturbed after bar %d: %w", cut, err)
		}
		if got[0].info.Bar != ref[0].info.Bar {
			return fmt.Errorf("perturbing the bars after %d moved the episode start from bar %d to %d: the start depends on later data",
				cut, ref[0].info.Bar, got[0].info.Bar)
		}
		// Records up to and including the observation of the decision at cut.
		for k := range ref {
			if k >= len(got) {
				return fmt.Errorf("perturbing the bars after %d ended the episode at record %d, before the decision at the cut", cut, k)
			}
			if err := same(ref[k], got[k]); err != nil {
				return fmt.Errorf("perturbing the bars after %d changed record %d (%s, decision bar %d): %w",
					cut, k, kind(ref[k]), ref[k].info.Bar, err)
			}
			if ref[k].info.Bar >= cut {
				break
			}
		}
	}
	return nil
}

// panelRollout runs one episode (no resets) on FromPanel(p).
func (c *checker) panelRollout(p *market.Panel) ([]record, error) {
	e, err := c.opts.FromPanel(p)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	r := c.newRollout(7)
	r.stopAtDone = true
	return r.run(e, e.Spec())
}

// perturbAfter returns a copy of p whose bars after cut follow a different
// random path: for every asset, open and close move by independent
// log-normal factors (σ = 5%) from the previous perturbed close, highs and
// lows widen by |N(0, 2%)|, and volumes are rescaled by a log-normal factor
// (zero volumes become positive). Bars ≤ cut are copied bit for bit.
func perturbAfter(p *market.Panel, cut int, rng *rand.Rand) (*market.Panel, error) {
	T, n := p.T(), p.N()
	spec := market.PanelSpec{
		Assets: p.Assets(), Interval: p.Interval(), Times: make([]int64, T),
		Open: make([]float64, T*n), High: make([]float64, T*n), Low: make([]float64, T*n),
		Close: make([]float64, T*n), Volume: make([]float64, T*n),
	}
	if p.HasFilled() {
		spec.Filled = make([]bool, T*n)
	}
	for t := 0; t < T; t++ {
		spec.Times[t] = p.Unix(t)
		for i := 0; i < n; i++ {
			k := t*n + i
			if spec.Filled != nil {
				spec.Filled[k] = p.Filled(t, i)
			}
			if t <= cut {
				spec.Open[k], spec.High[k], spec.Low[k] = p.Open(t, i), p.High(t, i), p.Low(t, i)
				spec.Close[k], spec.Volume[k] = p.Close(t, i), p.Volume(t, i)
				continue
			}
			o := spec.Close[k-n] * math.Exp(0.05*rng.NormFloat64())
			cl := o * math.Exp(0.05*rng.NormFloat64())
			spec.Open[k], spec.Close[k] = o, cl
			spec.High[k] = max(o, cl) * math.Exp(math.Abs(0.02*rng.NormFloat64()))
			spec.Low[k] = min(o, cl) * math.Exp(-math.Abs(0.02*rng.NormFloat64()))
			spec.Volume[k] = (p.Volume(t, i) + 1) * math.Exp(rng.NormFloat64())
		}
	}
	q, err := market.NewPanel(spec)
	if err != nil {
		return nil, fmt.Errorf("perturbing the panel after bar %d: %w", cut, err)
	}
	return q, nil
}
