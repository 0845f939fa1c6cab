package guard

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
)

// Flag bits reported in env.GuardInfo.Flags and Report.Flags. A limit's bit
// is set when the request itself breached the limit by more than Tol (and
// was therefore changed); FlagTurnover when the move toward the request was
// shortened; FlagConflict when the precedence rule had to give up a
// lower-ranked limit (see the package documentation).
const (
	FlagNonFinite uint32 = 1 << iota // the request held NaN or ±Inf and was replaced by the hold action
	FlagInvalid                      // the request was not an allocation (a component < 0 or Σ ≠ 1) and was projected
	FlagMaxWeight                    // a risky weight above its max_weight / asset_max_weight
	FlagMinCash                      // cash below min_cash
	FlagMaxGross                     // gross risky exposure above max_gross
	FlagLiquidity                    // a trade larger than max_participation of the bar's dollar volume
	FlagBreaker                      // gross exposure above drawdown_gross while the breaker is active
	FlagVolTarget                    // forecast volatility above vol_target: risky weights scaled into cash
	FlagTurnover                     // turnover above max_turnover: only part of the move was made
	FlagConflict                     // limits conflicted; a lower-ranked one was relaxed (not an intervention)
)

// NumFlags is the number of flag bits; Totals.ByFlag is indexed by bit
// position (bits.TrailingZeros32 of the flag).
const NumFlags = 10

// FlagName returns the snake_case name of a single flag bit ("" if f is not
// exactly one known flag). The names match the Config keys where one exists.
func FlagName(f uint32) string {
	switch f {
	case FlagNonFinite:
		return "non_finite"
	case FlagInvalid:
		return "invalid"
	case FlagMaxWeight:
		return "max_weight"
	case FlagMinCash:
		return "min_cash"
	case FlagMaxGross:
		return "max_gross"
	case FlagLiquidity:
		return "max_participation"
	case FlagBreaker:
		return "drawdown_breaker"
	case FlagVolTarget:
		return "vol_target"
	case FlagTurnover:
		return "max_turnover"
	case FlagConflict:
		return "conflict"
	}
	return ""
}

// Tol is the feasibility tolerance: a request within Tol of a limit is not
// flagged, and the guard's output satisfies every limit to within Tol
// (the measured error is a few ulps; see the property tests).
const Tol = 1e-12

// State is what the projection needs to know about the portfolio at the
// decision bar. Slices are read, never retained or modified.
type State struct {
	// Weights are the current drifted weights w', cash first (N+1).
	Weights []float64
	// Value is the portfolio value in quote currency before the trade (≥ 0).
	Value float64
	// Peak is the highest value seen this episode; the breaker's drawdown
	// reference until its first trip. Values below Value are raised to it.
	Peak float64
	// Market is the traded panel. The liquidity and vol caps need it; when
	// it is set, assets without volume at Bar are also kept from trading.
	// It may be nil when neither cap is configured.
	Market *market.Panel
	// Bar is the decision bar t, an index into Market: only bars ≤ t are read.
	Bar int
}

// Report describes one projection.
type Report struct {
	Flags          uint32  // bit set of Flag* constants
	Interventions  int     // number of flags set, FlagConflict excluded
	BreakerActive  bool    // the breaker limited this decision
	BreakerTripped bool    // the breaker tripped at this bar
	CashFloor      float64 // effective cash lower bound after the precedence rule
	Theta          float64 // fraction of the move from the anchor to the target made (1 = turnover did not shorten it)
	Turnover       float64 // Σ_{i≥1} |w_i − w'_i| of the output
	VolForecast    float64 // annualised forecast volatility of the output; 0 when the cap is off or has no forecast
}

// Info converts r to the env's GuardInfo.
func (r Report) Info() env.GuardInfo {
	return env.GuardInfo{Interventions: r.Interventions, Flags: r.Flags, BreakerActive: r.BreakerActive}
}

// Totals are running counts over every projection since the Projector was
// made or ResetTotals was called (they survive Reset, so they span episodes).
type Totals struct {
	Steps         int           // projections made
	Intervened    int           // projections with at least one intervention
	Interventions int           // sum of Report.Interventions
	ByFlag        [NumFlags]int // projections on which each flag was set, by bit position
	Trips         int           // breaker trips
	BreakerSteps  int           // projections with the breaker active
	// LiquidityLimited counts the steps on which the env below a Guard
	// filled only part of the allocation the guard sent
	// (env.Info.LiquidityLimited > 0); a Projector alone never sets it.
	// Not an intervention: the env, not the guard, changed the allocation.
	LiquidityLimited int
}

// Count returns how many projections had flag f set (f a single Flag*).
func (t Totals) Count(f uint32) int {
	if bits.OnesCount32(f) != 1 || bits.TrailingZeros32(f) >= NumFlags {
		panic("guard: Count needs exactly one known flag")
	}
	return t.ByFlag[bits.TrailingZeros32(f)]
}

// Projector maps requested allocations onto the feasible set of a Config
// for a fixed list of assets. It carries the breaker state between calls
// and the running Totals, and preallocates all scratch space, so Project
// allocates nothing. A Projector is not safe for concurrent use.
type Projector struct {
	cfg    Config
	n      int       // N+1
	maxW   []float64 // per-coordinate weight cap; maxW[0] = 1 (cash)
	capped []bool    // a max-weight cap is configured for the asset
	nonFin bool      // NonFinite == "error"

	cur, lo, hi  []float64 // clean drifted weights and the box of this call
	room         []float64 // liquidity room |w_i − w'_i| ≤ room_i of this call
	anchor, targ []float64
	tmp          []float64
	bp           []float64 // 2(N+1) breakpoints
	idx          []int     // N+1 scratch indices

	cov      []float64 // N×N EWMA covariance of the risky returns, row-major
	raw      []float64 // unnormalised S (lower triangle), see forecast
	sw       float64   // Σ_j λ^j over the window
	lamW     float64   // λ^VolWindow
	covAge   int       // recursive updates since the last full recomputation
	ret      []float64 // N returns of one bar
	covPanel *market.Panel
	covBar   int
	covOK    bool // cov holds the forecast for (covPanel, covBar)
	covHave  bool // that forecast exists (enough bars)

	brk    breaker
	totals Totals
}

// breaker is the drawdown circuit breaker's memory.
type breaker struct {
	active  bool
	until   int     // first bar after the cooldown
	rearmed bool    // hwm is the breaker's own high-water mark since re-arming
	hwm     float64 // highest value since re-arming
}

// NewProjector validates cfg and compiles it for the given risky assets (in
// action order after cash). Names in cfg.AssetMaxWeight must be among them.
func NewProjector(cfg Config, assets []string) (*Projector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(assets) == 0 {
		return nil, fmt.Errorf("guard: no assets")
	}
	n := len(assets) + 1
	p := &Projector{
		cfg:    cfg,
		n:      n,
		maxW:   make([]float64, n),
		capped: make([]bool, n),
		nonFin: cfg.NonFinite == NonFiniteError,
		cur:    make([]float64, n),
		lo:     make([]float64, n),
		hi:     make([]float64, n),
		room:   make([]float64, n),
		anchor: make([]float64, n),
		targ:   make([]float64, n),
		tmp:    make([]float64, n),
		bp:     make([]float64, 2*n),
		idx:    make([]int, n),
	}
	p.maxW[0] = 1
	for i := 1; i < n; i++ {
		p.maxW[i] = 1
		if cfg.MaxWeight > 0 {
			p.maxW[i], p.capped[i] = cfg.MaxWeight, true
		}
	}
	for name, w := range cfg.AssetMaxWeight {
		i := slices.Index(assets, name)
		if i < 0 {
			return nil, fmt.Errorf("guard: asset_max_weight names unknown asset %q (assets: %v)", name, assets)
		}
		p.maxW[i+1], p.capped[i+1] = w, true
	}
	if cfg.VolTarget > 0 {
		p.cov = make([]float64, (n-1)*(n-1))
		p.raw = make([]float64, (n-1)*(n-1))
		p.lamW = math.Pow(cfg.VolLambda, float64(cfg.VolWindow))
		p.ret = make([]float64, n-1)
	}
	return p, nil
}

// Config returns the configuration the Projector was built from.
func (p *Projector) Config() Config { return p.cfg }

// Reset starts a new episode: the breaker is disarmed and forgets its
// high-water mark. Totals are kept.
func (p *Projector) Reset() {
	p.brk = breaker{}
	p.covOK = false
}

// Totals returns the running totals.
func (p *Projector) Totals() Totals { return p.totals }

// ResetTotals zeroes the running totals.
func (p *Projector) ResetTotals() { p.totals = Totals{} }

// Project writes into dst the allocation (cash first, N+1) that the guard
// executes for the requested allocation req in state st, and advances the
// breaker to st.Bar. Call it once per decision bar, in bar order, with Reset
// at each episode start.
//
// It panics when a length disagrees with the Projector's assets or when
// st.Market is nil although the liquidity or vol cap needs it. It returns an
// error for a state that is not a portfolio (non-finite or negative value or
// weights) and, when NonFinite is "error", for a request holding NaN or Inf
// (wrapping env.ErrInvalidAction); state is unchanged then.
func (p *Projector) Project(dst, req []float64, st State) (Report, error) {
	n := p.n
	if len(dst) != n || len(req) != n || len(st.Weights) != n {
		panic("guard: allocation length mismatch")
	}
	if (p.cfg.MaxParticipation > 0 || p.cfg.VolTarget > 0) && st.Market == nil {
		panic("guard: State.Market is nil but the liquidity or vol cap needs it")
	}
	if st.Market != nil && (st.Market.N() != n-1 || st.Bar < 0 || st.Bar >= st.Market.T()) {
		panic("guard: State.Market or State.Bar does not match the projector")
	}
	if !(st.Value >= 0) || math.IsInf(st.Value, 0) {
		return Report{}, fmt.Errorf("guard: portfolio value %v is not finite and non-negative", st.Value)
	}
	if err := p.cleanWeights(st.Weights); err != nil {
		return Report{}, err
	}
	nonFinite := false
	for _, x := range req {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			nonFinite = true
			break
		}
	}
	if nonFinite && p.nonFin {
		return Report{Flags: FlagNonFinite}, fmt.Errorf("guard: action holds NaN or Inf: %w", env.ErrInvalidAction)
	}

	var rep Report
	var flags uint32
	active, tripped := p.stepBreaker(st)
	rep.BreakerActive, rep.BreakerTripped = active, tripped

	// Bounds. Position limits become a box: the cash floor collects
	// min_cash, max_gross and the breaker (Σ_{i≥1} w_i = 1 − w_0 for a
	// long-only allocation), max_weight caps each asset. Liquidity is a box
	// around w'. Precedence: liquidity is physical and always holds, so where
	// it cannot reach the position box the asset trades as far as it can.
	cashLo := p.cfg.MinCash
	if p.cfg.MaxGross > 0 {
		cashLo = max(cashLo, 1-p.cfg.MaxGross)
	}
	if active {
		cashLo = max(cashLo, 1-p.cfg.DrawdownGross)
	}
	conflict := false
	sumLo := 0.0
	for i := 1; i < n; i++ {
		w := p.cur[i]
		lo, hi := 0.0, p.maxW[i]
		room := p.liquidity(st, i-1)
		p.room[i] = room
		if !math.IsInf(room, 1) {
			lo, hi = max(lo, w-room), min(hi, w+room)
			if lo > hi { // drifted above its cap and cannot sell enough
				hi = lo
				conflict = true
			}
		}
		p.lo[i], p.hi[i] = lo, hi
		sumLo += lo
	}
	if sumLo > 1-cashLo { // liquidity keeps more risk than the cash floor allows
		cashLo = max(0, 1-sumLo)
		conflict = true
	}
	p.lo[0], p.hi[0] = cashLo, 1
	rep.CashFloor = cashLo

	// Vol cap: a variance bound per bar for the risky part.
	varMax := math.Inf(1)
	haveVol := p.cfg.VolTarget > 0 && p.forecast(st.Market, st.Bar)
	if haveVol {
		varMax = p.cfg.VolTarget * p.cfg.VolTarget / st.Market.BarsPerYear()
	}

	// Anchor: the feasible allocation with the least turnover (the forced
	// trades), scaled down if it breaches the vol cap.
	p.anchorTo(p.anchor, cashLo)
	if haveVol {
		if _, c := p.volScale(p.anchor, varMax); c {
			conflict = true
		}
	}

	// Target: the Euclidean projection of the request onto the box set,
	// then the vol cap; the hold action when the request is not finite.
	if nonFinite {
		flags |= FlagNonFinite
		copy(p.targ, p.anchor)
	} else {
		flags |= p.requestFlags(req, active)
		if p.inBox(req) {
			// Feasible to within Tol: keep the request bit for bit except
			// for the rounding repair (cash absorbs a residual sum), rather
			// than spreading a 1e-17 residual over every asset.
			copy(p.targ, req)
		} else {
			projectBox(p.targ, req, p.lo, p.hi, p.bp, p.idx)
		}
		repair(p.targ, p.lo, p.hi)
		if haveVol {
			if scaled, c := p.volScale(p.targ, varMax); scaled {
				flags |= FlagVolTarget
				if c {
					conflict = true
				}
			}
		}
	}

	// Turnover: move from the anchor toward the target as far as the
	// budget allows (see mix).
	tau := math.Inf(1)
	if p.cfg.MaxTurnover > 0 {
		tau = p.cfg.MaxTurnover
	}
	theta, tConflict := p.mix(dst, p.anchor, p.targ, tau)
	if tConflict {
		conflict = true
	}
	if theta < 1 {
		flags |= FlagTurnover
	}
	repair(dst, p.lo, p.hi)
	rep.Theta = theta
	rep.Turnover = p.turnover(dst)
	if haveVol {
		rep.VolForecast = math.Sqrt(p.quad(dst) * st.Market.BarsPerYear())
	}
	if conflict {
		flags |= FlagConflict
	}
	rep.Flags = flags
	rep.Interventions = bits.OnesCount32(flags &^ FlagConflict)

	t := &p.totals
	t.Steps++
	t.Interventions += rep.Interventions
	if rep.Interventions > 0 {
		t.Intervened++
	}
	for b := range NumFlags {
		if flags&(1<<b) != 0 {
			t.ByFlag[b]++
		}
	}
	if tripped {
		t.Trips++
	}
	if active {
		t.BreakerSteps++
	}
	return rep, nil
}

// cleanWeights copies the drifted weights into p.cur, removing rounding
// noise: negative zeros-by-rounding are clipped and the sum is made 1.
func (p *Projector) cleanWeights(w []float64) error {
	s := 0.0
	for i, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < -1e-9 {
			return fmt.Errorf("guard: drifted weight %d = %v is not a valid allocation", i, x)
		}
		p.cur[i] = max(x, 0)
		s += p.cur[i]
	}
	if !(math.Abs(s-1) <= 1e-6) {
		return fmt.Errorf("guard: drifted weights sum to %v, not 1", s)
	}
	for i := range p.cur {
		p.cur[i] /= s
	}
	return nil
}

// liquidity returns how far (in weight) risky asset a may trade at st.Bar:
// max_participation · dollar volume / value, 0 for a bar without volume
// (such an asset cannot trade, as in the market env, whether or not
// max_participation is set), +Inf without a cap or without st.Market.
func (p *Projector) liquidity(st State, a int) float64 {
	if st.Market == nil {
		return math.Inf(1)
	}
	dv := st.Market.DollarVolume(st.Bar, a)
	switch {
	case dv == 0:
		return 0
	case p.cfg.MaxParticipation == 0 || st.Value == 0:
		return math.Inf(1)
	}
	return p.cfg.MaxParticipation * dv / st.Value
}

// inBox reports whether req lies in the box of this call and sums to one,
// both to within Tol.
func (p *Projector) inBox(req []float64) bool {
	s := 0.0
	for i, x := range req {
		if x < p.lo[i]-Tol || x > p.hi[i]+Tol {
			return false
		}
		s += x
	}
	return math.Abs(s-1) <= Tol
}

// requestFlags returns the flags of the limits a finite request breaches.
func (p *Projector) requestFlags(req []float64, breakerOn bool) uint32 {
	var f uint32
	sum, gross := 0.0, 0.0
	neg := false
	for i, x := range req {
		sum += x
		if x < -Tol {
			neg = true
		}
		if i > 0 {
			gross += x
			if p.capped[i] && x > p.maxW[i]+Tol {
				f |= FlagMaxWeight
			}
			if math.Abs(x-p.cur[i]) > p.room[i]+Tol {
				f |= FlagLiquidity
			}
		}
	}
	if neg || !(math.Abs(sum-1) <= Tol) {
		f |= FlagInvalid
	}
	if p.cfg.MinCash > 0 && req[0] < p.cfg.MinCash-Tol {
		f |= FlagMinCash
	}
	if p.cfg.MaxGross > 0 && gross > p.cfg.MaxGross+Tol {
		f |= FlagMaxGross
	}
	if breakerOn && gross > p.cfg.DrawdownGross+Tol {
		f |= FlagBreaker
	}
	return f
}

// anchorTo writes the minimum-turnover feasible allocation into a: each
// risky weight clipped into its box, then, if cash is short of the floor,
// the risky weights reduced pro rata to their room above the lower bound.
//
// Minimality: lo_i ≤ w'_i always (lo_i = max(0, w'_i − room_i)), so the
// clipped weight c_i = min(w'_i, hi_i) ≤ w'_i and any feasible w pays
// |w_i − w'_i| ≥ (w'_i − c_i) + (c_i − w_i)⁺. Summing and using
// Σ_{i≥1} w_i ≤ 1 − cashLo gives turnover(w) ≥ Σ(w'_i − c_i) +
// (Σc_i − (1 − cashLo))⁺, which a attains. The room Σ(c_i − lo_i) covers the
// shortfall because the precedence rule made Σlo_i ≤ 1 − cashLo.
func (p *Projector) anchorTo(a []float64, cashLo float64) {
	s := 0.0
	for i := 1; i < p.n; i++ {
		a[i] = clamp(p.cur[i], p.lo[i], p.hi[i])
		s += a[i]
	}
	if short := cashLo - (1 - s); short > 0 {
		room := s
		for i := 1; i < p.n; i++ {
			room -= p.lo[i]
		}
		f := min(short/room, 1)
		s = 0
		for i := 1; i < p.n; i++ {
			a[i] -= f * (a[i] - p.lo[i])
			s += a[i]
		}
	}
	a[0] = 1 - s
	repair(a, p.lo, p.hi)
}

// mix writes w = a + θ(b − a) into dst with the largest θ ∈ [0, 1] such that
// turnover(w) ≤ tau, and returns θ and whether the anchor alone already
// exceeded tau (a conflict: position limits outrank turnover, so then θ = 0
// and w = a).
//
// Feasibility: a and b lie in the convex set C of every other limit, so
// every w on the segment does too. The turnover f(θ) = Σ_{i≥1}|a_i +
// θ(b_i − a_i) − w'_i| is convex and piecewise linear in θ with breakpoints
// θ_i = (w'_i − a_i)/(b_i − a_i). With f(0) ≤ tau < f(1) the set {f ≤ tau}
// is an interval [0, θ*] and f(θ*) = tau; walking the sorted breakpoints to
// the first one with f > tau and interpolating on that linear piece gives θ*
// exactly (up to rounding).
func (p *Projector) mix(dst, a, b []float64, tau float64) (theta float64, conflict bool) {
	fa, fb := p.turnover(a), p.turnover(b)
	switch {
	case fb <= tau || slices.Equal(a, b): // nothing to shorten
		theta, conflict = 1, fa > tau+Tol
	case fa >= tau:
		theta, conflict = 0, fa > tau+Tol
	default:
		k := 0
		for i := 1; i < p.n; i++ {
			if d := b[i] - a[i]; d != 0 {
				if t := (p.cur[i] - a[i]) / d; t > 0 && t < 1 {
					p.bp[k] = t
					k++
				}
			}
		}
		slices.Sort(p.bp[:k])
		prevT, prevF := 0.0, fa
		theta = -1
		for _, t := range p.bp[:k] {
			f := p.turnoverAt(a, b, t)
			if f > tau {
				theta = prevT + (tau-prevF)*(t-prevT)/(f-prevF)
				break
			}
			prevT, prevF = t, f
		}
		if theta < 0 {
			theta = prevT + (tau-prevF)*(1-prevT)/(fb-prevF)
		}
		theta = clamp(theta, 0, 1)
	}
	for i := range dst {
		dst[i] = a[i] + theta*(b[i]-a[i])
	}
	return theta, conflict
}

// turnover returns Σ_{i≥1} |w_i − w'_i|.
func (p *Projector) turnover(w []float64) float64 {
	s := 0.0
	for i := 1; i < p.n; i++ {
		s += math.Abs(w[i] - p.cur[i])
	}
	return s
}

// turnoverAt returns the turnover of a + θ(b − a).
func (p *Projector) turnoverAt(a, b []float64, theta float64) float64 {
	s := 0.0
	for i := 1; i < p.n; i++ {
		s += math.Abs(a[i] + theta*(b[i]-a[i]) - p.cur[i])
	}
	return s
}

// stepBreaker advances the drawdown breaker to st.Bar and reports whether it
// is active for this decision and whether it tripped now.
//
// Rule: the drawdown is 1 − V/H with H the high-water mark: the episode peak
// (st.Peak) until the first trip, afterwards the highest value since the
// last re-arm. When the drawdown exceeds DrawdownLimit the breaker trips
// and stays active for the decisions at bars [trip, trip + cooldown). At
// the first bar ≥ trip + cooldown it re-arms with H reset to the current
// value, so it can only trip again after a fresh drawdown of the limit.
func (p *Projector) stepBreaker(st State) (active, tripped bool) {
	if p.cfg.DrawdownLimit <= 0 {
		return false, false
	}
	b := &p.brk
	if b.active && st.Bar >= b.until {
		b.active, b.rearmed, b.hwm = false, true, st.Value
	}
	h := max(st.Peak, st.Value)
	if b.rearmed {
		b.hwm = max(b.hwm, st.Value)
		h = b.hwm
	}
	if !b.active && h > 0 && 1-st.Value/h > p.cfg.DrawdownLimit {
		b.active, b.until, tripped = true, st.Bar+p.cfg.DrawdownCooldown, true
	}
	return b.active, tripped
}
