package regime

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/internal/seed"
)

// perturbAfter returns a copy of p whose bars after t are changed: every
// later bar of every asset is scaled by its own random factor (OHLC scaled
// together, so bars stay consistent) and its volume redrawn.
func perturbAfter(t *testing.T, p *market.Panel, after int, root uint64) *market.Panel {
	t.Helper()
	rng := seed.New(root, seed.Test, 99)
	n := p.N()
	spec := market.PanelSpec{Assets: p.Assets(), Interval: p.Interval()}
	for k := 0; k < p.T(); k++ {
		spec.Times = append(spec.Times, p.Unix(k))
		for i := 0; i < n; i++ {
			f, v := 1.0, p.Volume(k, i)
			if k > after {
				f = math.Exp(0.2 * rng.NormFloat64())
				v *= rng.Float64()
			}
			spec.Open = append(spec.Open, f*p.Open(k, i))
			spec.High = append(spec.High, f*p.High(k, i))
			spec.Low = append(spec.Low, f*p.Low(k, i))
			spec.Close = append(spec.Close, f*p.Close(k, i))
			spec.Volume = append(spec.Volume, v)
		}
	}
	q, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func synthPanel(t testing.TB, assets, bars int, root uint64) (*market.Panel, []market.Regime) {
	t.Helper()
	c := synth.Defaults()
	c.Assets, c.Bars = assets, bars
	p, reg, err := synth.Generate(c, root)
	if err != nil {
		t.Fatal(err)
	}
	return p, reg
}

func fastHMM() HMMConfig {
	c := DefaultHMM()
	c.Restarts = 3
	return c
}

// TestCausality perturbs every bar after t and checks that each causal
// output at or before t is bit-identical: rule labels, HMM filtered
// probabilities and HMM labels. It also checks that fitting on [0, to)
// reads nothing at or after to, and, to show the test has teeth, that the
// non-causal smoothed probabilities do change before t.
func TestCausality(t *testing.T) {
	p, _ := synthPanel(t, 6, 700, 21)
	const fitTo = 450
	rules, err := FitRules(p, 0, fitTo, DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	h, err := FitHMM(p, 0, fitTo, fastHMM(), seed.New(1, seed.Test, 0))
	if err != nil {
		t.Fatal(err)
	}
	baseRules := rules.LabelTo(nil, p)
	baseFilt := h.FilterTo(nil, p)
	baseHMM := h.LabelTo(nil, p)
	baseSmooth := h.SmoothNonCausalTo(nil, p)
	smoothChanged := false
	for _, cut := range []int{0, 29, 30, 31, 200, fitTo - 1, 601, 698} {
		q := perturbAfter(t, p, cut, uint64(cut)+1)
		lr := rules.LabelTo(nil, q)
		lf := h.FilterTo(nil, q)
		lh := h.LabelTo(nil, q)
		ls := h.SmoothNonCausalTo(nil, q)
		for k := 0; k <= cut; k++ {
			if lr[k] != baseRules[k] || lh[k] != baseHMM[k] {
				t.Fatalf("cut %d: label of bar %d changed (rules %v→%v, hmm %v→%v)", cut, k, baseRules[k], lr[k], baseHMM[k], lh[k])
			}
			for r := 0; r < market.NumRegimes; r++ {
				if lf[k*market.NumRegimes+r] != baseFilt[k*market.NumRegimes+r] {
					t.Fatalf("cut %d: filtered probability of bar %d changed", cut, k)
				}
				if ls[k*market.NumRegimes+r] != baseSmooth[k*market.NumRegimes+r] {
					smoothChanged = true
				}
			}
		}
		if cut >= fitTo-1 {
			// The fitting window [0, fitTo) is untouched: refitting on the
			// perturbed panel must give the same labeller.
			r2, err := FitRules(q, 0, fitTo, DefaultRules())
			if err != nil || r2.Thresholds() != rules.Thresholds() {
				t.Fatalf("cut %d: rule thresholds depend on bars ≥ %d", cut, fitTo)
			}
			h2, err := FitHMM(q, 0, fitTo, fastHMM(), seed.New(1, seed.Test, 0))
			if err != nil {
				t.Fatal(err)
			}
			m1, m2 := h.Model(), h2.Model()
			for i := range m1.Mean {
				if m1.Mean[i] != m2.Mean[i] {
					t.Fatalf("cut %d: hmm fit depends on bars ≥ %d", cut, fitTo)
				}
			}
		}
	}
	if !smoothChanged {
		t.Error("smoothed probabilities never changed: the perturbation is too weak to test causality")
	}
}

// TestHMMLabeller checks the labeller's outputs for internal consistency:
// filtered and smoothed rows are probability vectors after the warm-up and
// zero before, labels are the argmax of the filtered probabilities, the
// Viterbi path uses only mapped regimes, Model returns a copy, and every
// restart's log-likelihood history never decreases (here with tens of EM
// iterations, unlike the well-separated recovery test).
func TestHMMLabeller(t *testing.T) {
	p, _ := synthPanel(t, 5, 900, 31)
	cfg := fastHMM()
	h, err := FitHMM(p, 100, 900, cfg, seed.New(2, seed.Test, 0))
	if err != nil {
		t.Fatal(err)
	}
	rep := h.Report()
	for r, hist := range rep.History {
		for i := 1; i < len(hist); i++ {
			if hist[i] < hist[i-1]-1e-9*math.Abs(hist[i-1]) {
				t.Errorf("restart %d: log-likelihood fell from %.10g to %.10g", r, hist[i-1], hist[i])
			}
		}
	}
	t.Logf("EM iterations per restart %v, best %d, log-likelihood %.2f, states %v", rep.Iterations, rep.Best, rep.LogLik, h.StateRegimes())
	warm := cfg.warmup()
	filt := h.FilterTo(nil, p)
	smooth := h.SmoothNonCausalTo(nil, p)
	labels := h.LabelTo(nil, p)
	vit := h.ViterbiNonCausalTo(nil, p)
	mapped := map[market.Regime]bool{}
	for _, r := range h.StateRegimes() {
		mapped[r] = true
	}
	for k := 0; k < p.T(); k++ {
		var sf, ss float64
		best := 0
		for r := 0; r < market.NumRegimes; r++ {
			f := filt[k*market.NumRegimes+r]
			sf += f
			ss += smooth[k*market.NumRegimes+r]
			if f > filt[k*market.NumRegimes+best] {
				best = r
			}
		}
		if k < warm {
			if sf != 0 || ss != 0 || labels[k] != market.Unlabelled || vit[k] != market.Unlabelled {
				t.Fatalf("warm-up bar %d has output", k)
			}
			continue
		}
		if math.Abs(sf-1) > 1e-12 || math.Abs(ss-1) > 1e-12 {
			t.Fatalf("bar %d: probabilities sum to %v (filtered), %v (smoothed)", k, sf, ss)
		}
		if labels[k] != market.Bull+market.Regime(best) {
			t.Fatalf("bar %d: label %v is not the filtered argmax", k, labels[k])
		}
		if !mapped[vit[k]] {
			t.Fatalf("bar %d: viterbi regime %v has no state", k, vit[k])
		}
	}
	m := h.Model()
	m.Mean[0] = 1e9
	if h.Model().Mean[0] == 1e9 {
		t.Error("Model returns a view of the labeller's parameters")
	}
	if err := h.Model().Validate(); err != nil {
		t.Errorf("fitted model invalid: %v", err)
	}

	flat := closePanel(t, func() [][]float64 {
		rows := make([][]float64, 200)
		for k := range rows {
			rows[k] = []float64{5, 7}
		}
		return rows
	}())
	if _, err := FitHMM(flat, 0, 200, cfg, seed.New(3, seed.Test, 0)); err == nil {
		t.Error("flat panel accepted")
	}
	if _, err := FitHMM(p, 0, 60, cfg, seed.New(3, seed.Test, 0)); err == nil {
		t.Error("60-bar window accepted with a 30-bar warm-up")
	}
}

// TestRecoverSyntheticRegimes fits both labellers on the first 2,000 bars of
// the default synthetic market (10 assets × 2,920 daily bars, seed 1) and
// compares their causal labels with the true regimes, in the fitting
// window and out of sample (bars 2,000–2,919).
//
// The bar is accuracy ≥ 1.5 × chance, where chance is Cohen's expected
// agreement of independent labellings with the same label shares (random
// guessing with the labeller's own frequencies; uniform guessing would be
// 0.25). Measured for seed 1: rules 0.611 in sample (chance 0.317), 0.626
// out of sample (0.331); HMM 0.590 (0.355) and 0.575 (0.351), ratios
// 1.64–1.93. Over seeds 1–10 the ratio ranged 1.49–2.21 (rules, one
// out-of-sample segment at 1.49) and 1.53–2.0 (HMM). Accuracy is bounded
// well below 1 by construction: bull and bear differ by ~1.2 %/day of
// drift against ~5 %/day of volatility, and trailing windows lag each
// regime switch.
func TestRecoverSyntheticRegimes(t *testing.T) {
	p, truth := synthPanel(t, 10, 2920, 1)
	const fit = 2000
	rules, err := FitRules(p, 0, fit, DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	h, err := FitHMM(p, 0, fit, DefaultHMM(), seed.New(1, seed.Test, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, lab := range []struct {
		name string
		l    Labeller
	}{{"rules", rules}, {"hmm", h}} {
		labels := lab.l.LabelTo(nil, p)
		for _, seg := range []struct {
			name     string
			from, to int
		}{{"in sample", 0, fit}, {"out of sample", fit, p.T()}} {
			c := Compare(truth[seg.from:seg.to], labels[seg.from:seg.to])
			t.Logf("%s %s: accuracy %.3f, chance %.3f, majority %.3f, kappa %.3f\n%s",
				lab.name, seg.name, c.Accuracy(), c.Chance(), c.Majority(), c.Kappa(), c.String())
			if c.Accuracy() < 1.5*c.Chance() {
				t.Errorf("%s %s: accuracy %.3f < 1.5 × chance %.3f", lab.name, seg.name, c.Accuracy(), c.Chance())
			}
		}
	}
}
