package regime_test

import (
	"fmt"

	"github.com/folio-rl/folio/env/market/regime"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/internal/seed"
)

// Fit the rule labeller on a training window of the synthetic market and
// compare its causal labels with the true regimes.
func ExampleFitRules() {
	p, truth, err := synth.Generate(synth.Defaults(), 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, err := regime.FitRules(p, 0, 2000, regime.DefaultRules())
	if err != nil {
		fmt.Println(err)
		return
	}
	th := rules.Thresholds()
	fmt.Printf("bull if the 30-day index return is ≥ %.3f; crash if 10-day RMS ≥ %.3f and trend ≤ %.3f\n",
		th.BullTrend, th.CrashVol, th.CrashTrend)
	labels := rules.LabelTo(nil, p)
	fmt.Println("bars 28-32:", labels[28:33])
	c := regime.Compare(truth[2000:], labels[2000:])
	fmt.Printf("out of sample: accuracy %.2f, chance %.2f\n", c.Accuracy(), c.Chance())
	// Output:
	// bull if the 30-day index return is ≥ 0.043; crash if 10-day RMS ≥ 0.065 and trend ≤ -0.090
	// bars 28-32: [unlabelled unlabelled bull bull bull]
	// out of sample: accuracy 0.63, chance 0.33
}

// Fit the Gaussian-HMM labeller and read its causal filtered probabilities.
func ExampleFitHMM() {
	p, truth, err := synth.Generate(synth.Defaults(), 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := regime.DefaultHMM()
	h, err := regime.FitHMM(p, 0, 2000, cfg, seed.New(1, seed.Test, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("states:", h.StateRegimes())
	probs := h.FilterTo(nil, p) // T×4: bull, bear, sideways, crash
	fmt.Printf("P(regime | bars ≤ 2500) = %.2f\n", probs[2500*4:2501*4])
	labels := h.LabelTo(nil, p)
	c := regime.Compare(truth[2000:], labels[2000:])
	fmt.Printf("out of sample: accuracy %.2f, chance %.2f\n", c.Accuracy(), c.Chance())
	// Output:
	// states: [sideways bear bull bull]
	// P(regime | bars ≤ 2500) = [0.00 0.00 1.00 0.00]
	// out of sample: accuracy 0.57, chance 0.35
}
