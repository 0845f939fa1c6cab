package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env/market"
)

// Method names, the values of New's method argument.
const (
	EqualWeight     = "equal-weight"     // 1/N in the risky assets
	BuyAndHold      = "buy-and-hold"     // buy 1/N at the first decision, then hold the drifted weights
	Cash            = "cash"             // everything in cash
	Constant        = "constant"         // fixed weights from Config.Weights
	RandomDirichlet = "random-dirichlet" // a Dirichlet draw over cash and the assets
	InverseVol      = "inverse-vol"
	RiskParity      = "risk-parity"
	RiskBudget      = "risk-budget"
	MinVariance     = "min-variance"
	MeanVariance    = "mean-variance"
	MaxSharpe       = "max-sharpe"
	EfficientReturn = "efficient-return"
	HRP             = "hrp"
	BlackLitterman  = "black-litterman"
	UBAH            = "ubah"    // uniform buy-and-hold, tracked by its own price relatives
	UCRP            = "ucrp"    // uniform constant rebalanced portfolio
	BSH             = "bsh"     // best stock in hindsight: reads the future, not implementable
	EG              = "eg"      // exponentiated gradient (Helmbold et al. 1998)
	ONS             = "ons"     // online Newton step (Agarwal et al. 2006)
	OLMAR           = "olmar"   // OLMAR-1, moving-average reversion (Li and Hoi 2012)
	PAMR            = "pamr"    // passive–aggressive mean reversion (Li et al. 2012)
	Anticor         = "anticor" // Anticor_w, single window (Borodin, El-Yaniv and Gogan 2004)
)

// Methods returns every method New accepts, in a stable order.
func Methods() []string {
	return []string{
		EqualWeight, BuyAndHold, Cash, Constant, RandomDirichlet,
		InverseVol, RiskParity, RiskBudget, MinVariance, MeanVariance, MaxSharpe,
		EfficientReturn, HRP, BlackLitterman,
		UBAH, UCRP, BSH, EG, ONS, OLMAR, PAMR, Anticor,
	}
}

// Implementable reports whether a method can be traded: false only for
// bsh, which chooses its asset from prices after the decision bar.
func Implementable(method string) bool { return method != BSH }

// strategy is one method: it computes a target at a decision bar. The
// Policy around it handles the schedule, holding, validation and
// diagnostics.
type strategy interface {
	// target writes the target weights (cash first, length N+1) for a
	// decision at s.t into dst.
	target(dst []float64, s *step) error
	// reset forgets all state (a new episode).
	reset()
}

// step is what a strategy sees at one decision.
type step struct {
	obs   *agents.Observation
	h     market.View
	t     int // decision bar, panel index
	n     int // risky assets
	first bool
	rng   *rand.Rand
	rec   *recorder
	// horizon is the last bar bsh looks ahead to (Policy.SetHorizon);
	// negative means the panel's last bar.
	horizon int
}

func (s *step) fallback(kind, format string, args ...any) {
	s.rec.fallback(s.t, s.h.Time(s.h.T()-1), kind, fmt.Sprintf(format, args...))
}

// schedule says how a method uses the rebalancing schedule.
type schedule int

const (
	scheduled schedule = iota // decide every RebalanceEvery bars, hold in between
	banded                    // scheduled, and hold while within DriftBand of the target
	once                      // decide at the first bar, hold afterwards
	always                    // decide at every bar (cash, bsh: the target never changes)
)

// Policy is a baseline strategy. It implements agents.Policy,
// agents.Resetter and FallbackReporter. It is not safe for concurrent use;
// build one per backtest.
//
// Act takes a decision at obs.Bar using obs.History only (bsh excepted).
// The first Act call after New or Reset starts an episode: the schedule
// and any online state start at that bar. Calls must then move forward in
// time; a call at an earlier bar or on another panel starts a new episode
// (an implicit Reset), and a repeated call at the same bar returns the
// same weights. Between scheduled decisions Act returns the current
// drifted weights obs.Weights, so a baseline that holds never trades; when
// obs.Weights is empty it drifts its previous output with the closes
// itself (frictionless).
type Policy struct {
	method string
	cfg    Config
	strat  strategy
	sched  schedule
	rec    recorder
	// horizon is set by SetHorizon and survives Reset; -1 = panel end.
	horizon int

	// Episode state.
	started   bool
	panel     *market.Panel
	n         int
	last      int // bar of the last decision
	lastCheck int // bar of the last scheduled decision
	out       []float64
	tgt       []float64
	st        step // reused: a local would escape through the strategy interface
}

// New builds the named baseline (see Methods) from cfg, which must pass
// Validate. Errors wrap ErrConfig.
func New(method string, cfg Config) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Policy{method: method, cfg: cfg, sched: scheduled, horizon: -1}
	switch method {
	case EqualWeight:
		p.strat, p.sched = &fixed{kind: fixedEqual}, banded
	case BuyAndHold:
		p.strat, p.sched = &fixed{kind: fixedEqual}, once
	case Cash:
		p.strat, p.sched = &fixed{kind: fixedCash}, always
	case Constant:
		if len(cfg.Weights) == 0 {
			return nil, configErr("constant needs weights")
		}
		p.strat, p.sched = &fixed{kind: fixedConstant, weights: cfg.Weights}, banded
	case RandomDirichlet:
		p.strat = &dirichlet{alpha: cfg.DirichletAlpha}
	case InverseVol, RiskParity, RiskBudget, MinVariance, MeanVariance, MaxSharpe,
		EfficientReturn, HRP, BlackLitterman:
		a, err := newAllocation(method, cfg)
		if err != nil {
			return nil, err
		}
		p.strat = a
	case UBAH, UCRP, EG, ONS, OLMAR, PAMR, Anticor:
		p.strat = newOnline(method, cfg)
	case BSH:
		p.strat, p.sched = &bsh{}, always
	default:
		return nil, configErr("unknown method %q (known: %s)", method, strings.Join(Methods(), ", "))
	}
	return p, nil
}

// Name returns the method name; bsh is labelled "bsh (hindsight)" because
// it reads prices after the decision bar and cannot be traded.
func (p *Policy) Name() string {
	if p.method == BSH {
		return "bsh (hindsight)"
	}
	return p.method
}

// Method returns the method name as given to New.
func (p *Policy) Method() string { return p.method }

// Implementable reports whether the method can be traded (false for bsh).
func (p *Policy) Implementable() bool { return Implementable(p.method) }

// Config returns the configuration the policy was built with.
func (p *Policy) Config() Config { return p.cfg }

// Reset starts a new episode at the next Act call: the schedule, the
// online state and the held weights are forgotten. Diagnostics are kept.
func (p *Policy) Reset() {
	p.started = false
	p.strat.reset()
}

// SetHorizon sets the last bar (an index into the traded panel) that bsh
// looks ahead to: at its first decision it picks the asset whose close grows
// most from that bar to the close of bar last. A walk-forward runner sets
// it to the last bar of each test window before backtesting it, so that bsh
// is the best single asset of that window; a negative last (the default)
// means the panel's last bar, right for a backtest over the whole panel. A
// horizon at or before the first decision bar falls back to the panel's
// last bar (recorded in Diagnostics). Every other method ignores it. It is
// kept across Reset.
func (p *Policy) SetHorizon(last int) { p.horizon = last }

// Diagnostics returns a copy of the decisions and fallbacks recorded since
// New.
func (p *Policy) Diagnostics() Diagnostics {
	d := p.rec.snapshot()
	d.Method = p.method
	return d
}

// Act writes target weights (cash first, length N+1, non-negative,
// summing to one) for the decision at obs.Bar into dst. rng is used only
// by random-dirichlet, which panics when it is nil; mode is ignored
// (random-dirichlet draws in both modes: its draws are the baseline).
// It returns an error only for configuration that does not fit the panel
// (wrapping ErrConfig); numerical trouble falls back and is recorded in
// Diagnostics. It panics on programmer errors: dst or obs.Weights of the
// wrong length, or obs.Bar not the last bar of obs.History.
func (p *Policy) Act(dst []float64, obs *agents.Observation, rng *rand.Rand, mode agents.Mode) error {
	h := obs.History
	n := h.N()
	if len(dst) != n+1 {
		panic(fmt.Sprintf("baseline: dst has length %d, want N+1 = %d", len(dst), n+1))
	}
	if len(obs.Weights) != 0 && len(obs.Weights) != n+1 {
		panic(fmt.Sprintf("baseline: obs.Weights has length %d, want N+1 = %d", len(obs.Weights), n+1))
	}
	t := obs.Bar
	if h.T() == 0 || h.Offset()+h.T()-1 != t {
		panic(fmt.Sprintf("baseline: obs.Bar %d is not the last bar of the history [%d, %d)", t, h.Offset(), h.Offset()+h.T()))
	}
	if p.started && p.panel == h.Panel() && p.n == n && t == p.last {
		copy(dst, p.out)
		return nil
	}
	first := !p.started || p.panel != h.Panel() || p.n != n || t < p.last
	if first {
		if p.started {
			p.strat.reset()
		}
		p.started, p.panel, p.n = true, h.Panel(), n
		p.out = grow(p.out, n+1)
		p.tgt = grow(p.tgt, n+1)
	}
	p.rec.d.Decisions++

	due := first
	switch p.sched {
	case always:
		due = true
	case scheduled, banded:
		due = first || t-p.lastCheck >= p.cfg.RebalanceEvery
	}
	if !due {
		p.hold(dst, obs, t)
		return nil
	}
	p.lastCheck = t
	p.st = step{obs: obs, h: h, t: t, n: n, first: first, rng: rng, rec: &p.rec, horizon: p.horizon}
	s := &p.st
	err := p.strat.target(p.tgt, s)
	p.st = step{} // do not retain the caller's observation or rng
	if err != nil {
		// Configuration that does not fit the panel: end the episode so a
		// corrected retry starts cleanly.
		p.started = false
		p.rec.d.Decisions--
		return err
	}
	if !valid(p.tgt) {
		p.rec.fallback(t, h.Time(h.T()-1), "invalid weights → equal-weight", fmt.Sprintf("%s produced invalid weights %v; using equal weights", p.method, p.tgt))
		equalRisky(p.tgt)
	}
	if p.sched == banded && p.cfg.DriftBand > 0 && !first {
		p.current(dst, obs, t)
		if maxAbsDiff(dst, p.tgt) <= p.cfg.DriftBand {
			p.finish(dst, t, false)
			return nil
		}
	}
	copy(dst, p.tgt)
	p.finish(dst, t, true)
	return nil
}

// hold returns the current drifted weights.
func (p *Policy) hold(dst []float64, obs *agents.Observation, t int) {
	p.current(dst, obs, t)
	p.finish(dst, t, false)
}

func (p *Policy) finish(dst []float64, t int, rebalanced bool) {
	if rebalanced {
		p.rec.d.Rebalances++
	} else {
		p.rec.d.Holds++
	}
	copy(p.out, dst)
	p.last = t
}

// current writes the weights held at bar t into dst: obs.Weights when the
// caller provides them, otherwise the previous output drifted with the
// closes from the previous decision bar to t (cash unchanged).
func (p *Policy) current(dst []float64, obs *agents.Observation, t int) {
	if len(obs.Weights) != 0 {
		copy(dst, obs.Weights)
		return
	}
	// Both bars are ≤ t: reading them through the panel is causal.
	pan := obs.History.Panel()
	prev, cur := pan.CloseRow(p.last), pan.CloseRow(t)
	dst[0] = p.out[0]
	sum := dst[0]
	for i := range prev {
		dst[i+1] = p.out[i+1] * (cur[i] / prev[i])
		sum += dst[i+1]
	}
	for i := range dst {
		dst[i] /= sum
	}
}

// valid reports whether w is a usable allocation; it clamps rounding
// negatives (above −1e-12) to zero.
func valid(w []float64) bool {
	sum := 0.0
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < -1e-12 {
			return false
		}
		if v < 0 {
			w[i] = 0
		}
		sum += w[i]
	}
	return math.Abs(sum-1) <= 1e-9
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// equalRisky writes cash 0 and 1/N in each risky asset.
func equalRisky(dst []float64) {
	dst[0] = 0
	for i := 1; i < len(dst); i++ {
		dst[i] = 1 / float64(len(dst)-1)
	}
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}
