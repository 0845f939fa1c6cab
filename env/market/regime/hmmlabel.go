package regime

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/folio-rl/folio/env/market"
)

// HMMConfig parameterises the HMM labeller. Its embedded configurations'
// keys sit in one TOML table: the Baum–Welch settings (states, restarts,
// max_iter, tol) and the rule configuration (trend_bars, vol_bars and the
// quantiles), which defines the features and maps states to regimes.
type HMMConfig struct {
	FitConfig
	RuleConfig
}

// DefaultHMM returns the default HMM labeller configuration.
func DefaultHMM() HMMConfig {
	return HMMConfig{FitConfig: DefaultFit(), RuleConfig: DefaultRules()}
}

// Validate reports the first invalid field by its TOML key.
func (c HMMConfig) Validate() error {
	if err := c.FitConfig.Validate(); err != nil {
		return err
	}
	return c.RuleConfig.Validate()
}

// HMM is a fitted Gaussian-HMM regime labeller. Its observation at bar t
// is the pair (trend, log volatility) of the equal-weight index as defined
// by RuleConfig (k-bar log return, log of the w-bar RMS log return),
// standardised with the fitting window's mean and standard deviation
// (frozen). Each hidden state is mapped to a regime by applying the rules
// (Thresholds.Classify) to the state's mean, with the quantile thresholds
// estimated on the fitting window's standardised features: a state centred
// on high volatility and a falling trend is a crash state, one centred on
// low volatility and a flat trend is sideways, and so on. Several states
// may map to the same regime and a regime may have no state.
type HMM struct {
	cfg    HMMConfig
	model  *GaussianHMM // Initial = stationary distribution of Trans
	center [hmmDim]float64
	scale  [hmmDim]float64
	states []market.Regime
	report FitReport
}

// hmmDim is the number of features of the HMM labeller.
const hmmDim = 2

// FitHMM fits the labeller on bars [from, to) of p by Baum–Welch (see
// FitGaussianHMM; restarts draw from rng, which must not be nil). Only
// bars < to are read. After
// fitting, transition probabilities are floored at 1e-12 (rows
// renormalised), so that no panel can have zero likelihood, and the initial
// distribution is replaced by the stationary distribution of the
// transition matrix, because the labeller is applied to series that start
// anywhere, not at the fitting window's first bar.
func FitHMM(p *market.Panel, from, to int, c HMMConfig, rng *rand.Rand) (*HMM, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if from < 0 || to > p.T() || from >= to {
		return nil, fmt.Errorf("regime: fitting window [%d, %d) out of range for %d bars", from, to, p.T())
	}
	lo := max(from, c.warmup())
	if to-lo < 50 {
		return nil, fmt.Errorf("regime: fitting window [%d, %d) has %d bars after a %d-bar warm-up, want ≥ 50", from, to, max(to-lo, 0), c.warmup())
	}
	raw := hmmFeatures(p, to, c.RuleConfig)[lo*hmmDim:]
	h := &HMM{cfg: c}
	mean, cov := sampleMoments(raw, hmmDim)
	for e := 0; e < hmmDim; e++ {
		h.center[e] = mean[e]
		h.scale[e] = math.Sqrt(cov[e*hmmDim+e])
		if !(h.scale[e] > 0) {
			return nil, errors.New("regime: index features are constant on the fitting window")
		}
	}
	x := h.standardise(raw)
	m, rep, err := FitGaussianHMM(x, hmmDim, c.FitConfig, rng)
	h.report = rep
	if err != nil {
		return nil, err
	}
	floorTransitions(m.Trans, m.K)
	m.Initial = stationaryDist(m.Trans, m.K)
	h.model = m

	tr := make([]float64, 0, len(x)/hmmDim)
	vo := make([]float64, 0, len(x)/hmmDim)
	for s := 0; s < len(x); s += hmmDim {
		tr = append(tr, x[s])
		vo = append(vo, x[s+1])
	}
	slices.Sort(tr)
	slices.Sort(vo)
	th := c.RuleConfig.thresholds(tr, vo)
	h.states = make([]market.Regime, m.K)
	for j := range h.states {
		h.states[j] = th.Classify(m.Mean[j*hmmDim], m.Mean[j*hmmDim+1])
	}
	return h, nil
}

// hmmFeatures returns the to×2 raw features of bars 0..to−1 (NaN before
// the warm-up): the k-bar index log return and the log of the w-bar RMS
// index log return. A zero RMS (a flat index) is floored at 1e-12.
func hmmFeatures(p *market.Panel, to int, c RuleConfig) []float64 {
	trend, vol := ruleStats(p, to, c)
	x := make([]float64, to*hmmDim)
	for t := 0; t < to; t++ {
		x[t*hmmDim] = trend[t]
		x[t*hmmDim+1] = math.Log(math.Max(vol[t], 1e-12))
	}
	return x
}

func (h *HMM) standardise(raw []float64) []float64 {
	x := make([]float64, len(raw))
	for i, v := range raw {
		e := i % hmmDim
		x[i] = (v - h.center[e]) / h.scale[e]
	}
	return x
}

// floorTransitions raises every transition probability below 1e-12 to
// 1e-12 and renormalises the rows.
func floorTransitions(a []float64, k int) {
	for i := 0; i < k; i++ {
		row := a[i*k : (i+1)*k]
		for j := range row {
			row[j] = math.Max(row[j], 1e-12)
		}
		normalise(row)
	}
}

// stationaryDist returns the stationary distribution of the K×K row-major
// transition matrix a by power iteration from the uniform distribution
// (an EM-fitted chain has all entries positive unless a transition is never
// seen; iteration stops when the L1 change is below 1e-15 or after 100,000
// steps, when the average of the last two iterates is used, which also
// handles period-2 chains).
func stationaryDist(a []float64, k int) []float64 {
	p := make([]float64, k)
	q := make([]float64, k)
	for i := range p {
		p[i] = 1 / float64(k)
	}
	for it := 0; it < 100000; it++ {
		clear(q)
		for i, pi := range p {
			for j := 0; j < k; j++ {
				q[j] += pi * a[i*k+j]
			}
		}
		var diff float64
		for j := range q {
			diff += math.Abs(q[j] - p[j])
		}
		if diff < 1e-15 {
			normalise(q)
			return q
		}
		p, q = q, p
	}
	for j := range p {
		p[j] = 0.5 * (p[j] + q[j])
	}
	normalise(p)
	return p
}

// Model returns a copy of the fitted model, in standardised feature units,
// with the stationary initial distribution used for labelling.
func (h *HMM) Model() *GaussianHMM {
	m := *h.model
	m.Initial = slices.Clone(m.Initial)
	m.Trans = slices.Clone(m.Trans)
	m.Mean = slices.Clone(m.Mean)
	m.Cov = slices.Clone(m.Cov)
	return &m
}

// Report returns the Baum–Welch report of the fit.
func (h *HMM) Report() FitReport { return h.report }

// StateRegimes returns the regime of each HMM state.
func (h *HMM) StateRegimes() []market.Regime { return slices.Clone(h.states) }

// Config returns the configuration the labeller was fitted with.
func (h *HMM) Config() HMMConfig { return h.cfg }

// observations returns the standardised features of bars warm-up..T−1 of p.
func (h *HMM) observations(p *market.Panel) []float64 {
	w := h.cfg.warmup()
	if p.T() <= w {
		return nil
	}
	return h.standardise(hmmFeatures(p, p.T(), h.cfg.RuleConfig)[w*hmmDim:])
}

// regimeProbs folds state probabilities (rows of K) into regime
// probabilities (rows of market.NumRegimes, order bull, bear, sideways,
// crash) from the warm-up bar on, leaving earlier rows zero.
func (h *HMM) regimeProbs(dst []float64, states []float64, t int) []float64 {
	dst = resize(dst, t*market.NumRegimes)
	clear(dst)
	k := h.model.K
	w := h.cfg.warmup()
	for s := 0; s*k < len(states); s++ {
		row := dst[(s+w)*market.NumRegimes : (s+w+1)*market.NumRegimes]
		for j := 0; j < k; j++ {
			row[h.states[j]-market.Bull] += states[s*k+j]
		}
	}
	return dst
}

// must panics on an error that a successfully fitted model cannot produce
// (its covariances were positive definite when the fit ended).
func must[T any](v T, err error) T {
	if err != nil {
		panic("regime: fitted hmm failed on a panel: " + err.Error())
	}
	return v
}

// FilterTo writes, for every bar t of p, the filtered regime probabilities
// P(regime_t | bars ≤ t) into dst (T×4 row-major in the order bull, bear,
// sideways, crash; allocated when nil or too short) and returns it. Rows
// before the warm-up max(TrendBars, VolBars) are zero. Causal: row t is
// bit-identical whatever the bars after t are. The filter starts at the
// warm-up bar of p from the stationary distribution, so it depends on where
// p starts.
func (h *HMM) FilterTo(dst []float64, p *market.Panel) []float64 {
	x := h.observations(p)
	probs, _, err := h.model.FilterTo(nil, x)
	return h.regimeProbs(dst, must(probs, err), p.T())
}

// LabelTo writes the causal label of every bar of p into dst (length T;
// allocated when nil or too short) and returns it: the regime with the
// highest filtered probability (ties to the earlier regime in the order
// bull, bear, sideways, crash). Bars before the warm-up are Unlabelled.
func (h *HMM) LabelTo(dst []market.Regime, p *market.Panel) []market.Regime {
	return argmaxLabels(dst, h.FilterTo(nil, p), p.T(), h.cfg.warmup())
}

// SmoothNonCausalTo is FilterTo with smoothed probabilities
// P(regime_t | all bars of p). NOT causal: use it only to split data into
// episodes or for reports, never as an input to decisions.
func (h *HMM) SmoothNonCausalTo(dst []float64, p *market.Panel) []float64 {
	x := h.observations(p)
	return h.regimeProbs(dst, must(h.model.SmoothNonCausalTo(nil, x)), p.T())
}

// ViterbiNonCausalTo writes the regimes of the most likely state path given
// all bars of p into dst (length T; allocated when nil or too short) and
// returns it. NOT causal: use it only to split data into episodes or for
// reports. Bars before the warm-up are Unlabelled.
func (h *HMM) ViterbiNonCausalTo(dst []market.Regime, p *market.Panel) []market.Regime {
	t := p.T()
	if cap(dst) < t {
		dst = make([]market.Regime, t)
	}
	dst = dst[:t]
	clear(dst)
	x := h.observations(p)
	path, _, err := h.model.ViterbiNonCausalTo(nil, x)
	for s, j := range must(path, err) {
		dst[s+h.cfg.warmup()] = h.states[j]
	}
	return dst
}

func argmaxLabels(dst []market.Regime, probs []float64, t, warm int) []market.Regime {
	if cap(dst) < t {
		dst = make([]market.Regime, t)
	}
	dst = dst[:t]
	for s := range dst {
		if s < warm {
			dst[s] = market.Unlabelled
			continue
		}
		row := probs[s*market.NumRegimes : (s+1)*market.NumRegimes]
		best := 0
		for r := 1; r < len(row); r++ {
			if row[r] > row[best] {
				best = r
			}
		}
		dst[s] = market.Bull + market.Regime(best)
	}
	return dst
}
