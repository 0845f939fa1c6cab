package guard

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// ewmaVol is the test's independent forecast of annualised portfolio
// volatility: the weighted returns matrix R (row j = √(λ^j/Σλ^k)·r_{t−j},
// weights from math.Pow, returns from Panel.Return) gives Σ = RᵀR by gonum,
// and σ = √(wᵀΣw · bars per year). ok is false with fewer than two returns.
func ewmaVol(p *market.Panel, t int, lambda float64, window int, w []float64) (vol float64, ok bool) {
	first := max(1, t-window+1)
	k := t - first + 1
	if k < 2 {
		return 0, false
	}
	n := p.N()
	sw := 0.0
	for j := range k {
		sw += math.Pow(lambda, float64(j))
	}
	r := mat.NewDense(k, n, nil)
	for j := range k {
		s := math.Sqrt(math.Pow(lambda, float64(j)) / sw)
		for i := range n {
			r.Set(j, i, s*p.Return(t-j, i))
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1, r.T())
	x := mat.NewVecDense(n, append([]float64(nil), w[1:]...))
	return math.Sqrt(math.Max(mat.Inner(x, &cov, x), 0) * p.BarsPerYear()), true
}

// limitChecker re-derives every limit from the config and the pre-trade
// state, independently of the Projector, and checks an executed allocation.
// It models the breaker from its documented rule.
type limitChecker struct {
	cfg  Config
	maxW []float64 // cash first; +Inf where no cap
	// breaker model
	active, rearmed bool
	until           int
	hwm             float64
}

func newLimitChecker(cfg Config, assets []string) *limitChecker {
	c := &limitChecker{cfg: cfg, maxW: make([]float64, len(assets)+1)}
	for i := range c.maxW {
		c.maxW[i] = math.Inf(1)
		if i > 0 && cfg.MaxWeight > 0 {
			c.maxW[i] = cfg.MaxWeight
		}
	}
	for i, a := range assets {
		if w, ok := cfg.AssetMaxWeight[a]; ok {
			c.maxW[i+1] = w
		}
	}
	return c
}

func (c *limitChecker) reset() { c.active, c.rearmed, c.until, c.hwm = false, false, 0, 0 }

// breaker advances the model to a decision at bar with value v and episode
// peak peak, returning whether the breaker is active for it.
func (c *limitChecker) breaker(bar int, v, peak float64) bool {
	if c.cfg.DrawdownLimit == 0 {
		return false
	}
	if c.active && bar >= c.until {
		c.active, c.rearmed, c.hwm = false, true, v
	}
	ref := math.Max(peak, v)
	if c.rearmed {
		c.hwm = math.Max(c.hwm, v)
		ref = c.hwm
	}
	if !c.active && v < ref*(1-c.cfg.DrawdownLimit) {
		c.active, c.until = true, bar+c.cfg.DrawdownCooldown
	}
	return c.active
}

type pre struct {
	w           []float64 // drifted weights before the trade
	value, peak float64
	bar         int
	p           *market.Panel
}

// check returns a description of the first limit w breaches that the
// documented precedence does not explain, or "".
func (c *limitChecker) check(s pre, req, w []float64, gi env.GuardInfo, rep Report, breakerOn bool) string {
	n := len(w)
	if gi.Interventions != bits.OnesCount32(gi.Flags&^FlagConflict) || gi.Flags != rep.Flags || gi.BreakerActive != breakerOn {
		return fmt.Sprintf("guard info %+v inconsistent (breaker model %v)", gi, breakerOn)
	}
	sum := 0.0
	for i, x := range w {
		if !(x >= -Tol) {
			return fmt.Sprintf("w[%d] = %v negative or NaN", i, x)
		}
		sum += x
	}
	if math.Abs(sum-1) > Tol {
		return fmt.Sprintf("weights sum to %v", sum)
	}
	// Liquidity (precedence 1): always.
	room := make([]float64, n)
	liqLo := make([]float64, n)
	sumLiqLo := 0.0
	for i := 1; i < n; i++ {
		room[i] = c.room(s, i)
		if d := math.Abs(w[i] - s.w[i]); d > room[i]+Tol {
			return fmt.Sprintf("asset %d trades %v > liquidity room %v", i, d, room[i])
		}
		liqLo[i] = math.Max(0, s.w[i]-room[i])
		sumLiqLo += liqLo[i]
	}
	// Position limits (precedence 2), relaxed only as far as liquidity forces.
	for i := 1; i < n; i++ {
		if w[i] > math.Max(c.maxW[i], liqLo[i])+Tol {
			return fmt.Sprintf("asset %d weight %v above cap %v (liquidity floor %v)", i, w[i], c.maxW[i], liqLo[i])
		}
	}
	floor := c.cfg.MinCash
	if c.cfg.MaxGross > 0 {
		floor = math.Max(floor, 1-c.cfg.MaxGross)
	}
	if breakerOn {
		floor = math.Max(floor, 1-c.cfg.DrawdownGross)
	}
	if w[0] < math.Min(floor, 1-sumLiqLo)-Tol {
		return fmt.Sprintf("cash %v below floor %v (liquidity allows %v; breaker %v)", w[0], floor, 1-sumLiqLo, breakerOn)
	}
	volOn := false
	if c.cfg.VolTarget > 0 {
		vol, ok := ewmaVol(s.p, s.bar, c.cfg.VolLambda, c.cfg.VolWindow, w)
		if ok {
			volOn = true
			// Independent forecasts agree to ~1e-15 relative; 1e-9 leaves room.
			if vol > c.cfg.VolTarget*(1+1e-9) {
				lo := append([]float64(nil), liqLo...)
				if lv, _ := ewmaVol(s.p, s.bar, c.cfg.VolLambda, c.cfg.VolWindow, lo); lv <= c.cfg.VolTarget*(1+1e-9) {
					return fmt.Sprintf("forecast vol %v above target %v (liquidity floor has %v)", vol, c.cfg.VolTarget, lv)
				}
			}
		}
	}
	// Turnover (precedence 3): only forced trades may exceed it.
	turn := 0.0
	for i := 1; i < n; i++ {
		turn += math.Abs(w[i] - s.w[i])
	}
	if c.cfg.MaxTurnover > 0 && turn > c.cfg.MaxTurnover+Tol {
		tmin := c.minTurnover(s, breakerOn)
		// Explained only if the output is the anchor made of forced trades
		// (the least ones, or those the vol cap forces on top): θ = 0, or
		// θ = 1 because the target was the anchor itself (a hold), since
		// with a target within budget the turnover would not be over it.
		anchor := rep.Theta == 0 || rep.Theta == 1 && gi.Flags&FlagTurnover == 0
		if gi.Flags&FlagConflict == 0 || !anchor || (turn > tmin+Tol && !volOn) {
			return fmt.Sprintf("turnover %v above max %v, forced minimum %v, theta %v, flags %s",
				turn, c.cfg.MaxTurnover, tmin, rep.Theta, flagString(gi.Flags))
		}
	}
	// The turnover step is maximal: a shortened move uses the whole budget.
	if gi.Flags&FlagTurnover != 0 && rep.Theta > 0 && math.Abs(turn-c.cfg.MaxTurnover) > 1e-12 {
		return fmt.Sprintf("turnover %v shortened (theta %v) but budget %v not used", turn, rep.Theta, c.cfg.MaxTurnover)
	}
	// No spurious interventions: an unflagged step executes the request.
	if gi.Flags&^FlagConflict == 0 {
		for i := range w {
			if math.Abs(w[i]-req[i]) > 1e-12 {
				return fmt.Sprintf("no flag set but w %v differs from request %v", w, req)
			}
		}
	}
	return ""
}

// room is how far risky asset i may trade: nothing on a bar without
// volume, p·DV/V under a participation cap, unlimited otherwise.
func (c *limitChecker) room(s pre, i int) float64 {
	dv := s.p.DollarVolume(s.bar, i-1)
	switch {
	case dv == 0:
		return 0
	case c.cfg.MaxParticipation > 0 && s.value > 0:
		return c.cfg.MaxParticipation * dv / s.value
	}
	return math.Inf(1)
}

// minTurnover is the least turnover of any allocation meeting the position
// limits as relaxed by liquidity: Σ_i dist(w'_i, [lo_i, hi_i]) plus the
// shortfall of cash below its (liquidity-adjusted) floor after clipping.
func (c *limitChecker) minTurnover(s pre, breakerOn bool) float64 {
	n := len(s.w)
	floor := c.cfg.MinCash
	if c.cfg.MaxGross > 0 {
		floor = math.Max(floor, 1-c.cfg.MaxGross)
	}
	if breakerOn {
		floor = math.Max(floor, 1-c.cfg.DrawdownGross)
	}
	tmin, clipped, sumLiqLo := 0.0, 0.0, 0.0
	for i := 1; i < n; i++ {
		room := c.room(s, i)
		liqLo := math.Max(0, s.w[i]-room)
		sumLiqLo += liqLo
		hi := math.Max(math.Min(c.maxW[i], s.w[i]+room), liqLo)
		x := math.Min(s.w[i], hi)
		tmin += s.w[i] - x
		clipped += x
	}
	return tmin + math.Max(0, clipped-(1-math.Min(floor, 1-sumLiqLo)))
}

// randomConfig enables each limit with probability ½.
func randomConfig(rng *rand.Rand, assets []string) Config {
	c := Defaults()
	on := func() bool { return rng.IntN(2) == 0 }
	if on() {
		c.MaxWeight = 0.05 + 0.95*rng.Float64()
	}
	if rng.IntN(3) == 0 {
		c.AssetMaxWeight = map[string]float64{assets[rng.IntN(len(assets))]: rng.Float64() * float64(rng.IntN(2))}
	}
	if on() {
		c.MinCash = 0.5 * rng.Float64()
	}
	if on() {
		c.MaxGross = 0.2 + 0.8*rng.Float64()
	}
	if on() {
		c.MaxTurnover = 0.01 + 1.5*rng.Float64()
	}
	if on() {
		c.MaxParticipation = []float64{0.001, 0.01, 0.1, 0.5}[rng.IntN(4)]
	}
	if on() {
		c.DrawdownLimit = 0.05 + 0.35*rng.Float64()
		c.DrawdownGross = rng.Float64()
		c.DrawdownCooldown = 1 + rng.IntN(10)
	}
	if on() {
		c.VolTarget = 0.1 + 1.4*rng.Float64()
		c.VolLambda = 0.8 + 0.19*rng.Float64()
		c.VolWindow = 2 + rng.IntN(60)
	}
	return c
}

// actionGen draws adversarial requests; flip and flop are two all-in
// allocations the flip-flopping kind alternates between.
type actionGen struct {
	rng        *rand.Rand
	flip, flop int
	step       int
}

func (g *actionGen) next(dst, cur []float64) string {
	n := len(dst)
	g.step++
	clear(dst)
	switch k := g.rng.IntN(13); k {
	case 0: // random valid allocation
		s := 0.0
		for i := range dst {
			dst[i] = g.rng.ExpFloat64()
			s += dst[i]
		}
		for i := range dst {
			dst[i] /= s
		}
		return "dirichlet"
	case 1:
		dst[g.rng.IntN(n)] = 1
		return "all-in"
	case 2:
		if g.step%2 == 0 {
			dst[g.flip] = 1
		} else {
			dst[g.flop] = 1
		}
		return "flip-flop"
	case 3:
		for i := range dst {
			dst[i] = (g.rng.Float64()*2 - 1) * 1e300
		}
		return "huge"
	case 4:
		for i := range dst {
			dst[i] = 10 * g.rng.NormFloat64()
		}
		return "normal"
	case 5:
		copy(dst, cur)
		dst[g.rng.IntN(n)] = math.NaN()
		return "nan"
	case 6:
		copy(dst, cur)
		dst[g.rng.IntN(n)] = math.Inf(2*g.rng.IntN(2) - 1)
		return "inf"
	case 7:
		return "zero"
	case 8:
		copy(dst, cur)
		return "hold"
	case 9:
		for i := range dst {
			dst[i] = 5e-324 * float64(g.rng.IntN(3))
		}
		return "denormal"
	case 10:
		for i := range dst {
			dst[i] = g.rng.Float64() * 7
		}
		return "unnormalised"
	case 11:
		for i := range dst {
			dst[i] = []float64{math.MaxFloat64, -math.MaxFloat64, 0, math.SmallestNonzeroFloat64}[g.rng.IntN(4)]
		}
		return "max-float"
	default: // all in the most volatile direction: everything but cash
		for i := 1; i < n; i++ {
			dst[i] = 1 / float64(n-1)
		}
		return "all-risky"
	}
}

// TestGuardNeverBreachesLimits drives Guard over the fake env on random
// panels (jumps, zero-volume bars) with random configs and adversarial
// action sequences, checking every limit after every step.
func TestGuardNeverBreachesLimits(t *testing.T) {
	rng := seed.New(1, seed.Test, 10)
	steps, episodes := 0, 0
	counts := map[string]int{}
	var all Totals
	for world := range 300 {
		n := 1 + rng.IntN(6)
		pan := randomPanel(rng, panelOpts{t: 60 + rng.IntN(100), n: n, crashes: true,
			zeroVolP: []float64{0, 0.05, 0.5}[rng.IntN(3)], volScale: math.Pow(10, 4+3*rng.Float64())})
		capital := math.Pow(10, 3+6*rng.Float64())
		fe := newFakeEnv(pan, 1+rng.IntN(5), capital)
		cfg := randomConfig(rng, pan.Assets())
		g, err := New(fe, cfg)
		if err != nil {
			t.Fatalf("world %d: %v", world, err)
		}
		chk := newLimitChecker(cfg, pan.Assets())
		spec := g.Spec()
		res := env.NewStepResult(spec)
		obs := make([]float64, spec.Observation.Len())
		req := make([]float64, n+1)
		gen := &actionGen{rng: rng, flip: rng.IntN(n + 1), flop: rng.IntN(n + 1)}
		for ep := range 10 {
			if _, err := g.Reset(obs, rng.Uint64()); err != nil {
				t.Fatal(err)
			}
			chk.reset()
			episodes++
			for k := 0; k < 40; k++ {
				s := pre{w: append([]float64(nil), fe.Weights()...), value: fe.Value(), peak: fe.Peak(), bar: fe.Bar(), p: pan}
				kind := gen.next(req, s.w)
				counts[kind]++
				reqCopy := append([]float64(nil), req...)
				if err := g.Step(res, req); err != nil {
					t.Fatalf("world %d ep %d step %d (%s): %v", world, ep, k, kind, err)
				}
				steps++
				on := chk.breaker(s.bar, s.value, s.peak)
				if msg := chk.check(s, reqCopy, res.Info.Executed, res.Info.Guard, g.LastReport(), on); msg != "" {
					t.Fatalf("world %d ep %d step %d bar %d (%s request %v)\ncfg %+v\nw' %v value %v\nexecuted %v\n%s",
						world, ep, k, s.bar, kind, reqCopy, cfg, s.w, s.value, res.Info.Executed, msg)
				}
				if res.Truncated {
					break
				}
			}
		}
		tot := g.Totals()
		all.Steps += tot.Steps
		all.Trips += tot.Trips
		for b := range NumFlags {
			all.ByFlag[b] += tot.ByFlag[b]
		}
	}
	// The sample must exercise every limit, or the test proves nothing.
	for b := range NumFlags {
		if all.ByFlag[b] < 100 {
			t.Errorf("flag %s bound only %d times", FlagName(1<<b), all.ByFlag[b])
		}
	}
	if all.Trips < 100 {
		t.Errorf("breaker tripped only %d times", all.Trips)
	}
	t.Logf("%d steps in %d episodes; action kinds %v", steps, episodes, counts)
	t.Logf("flags bound: %s; breaker trips %d", flagCounts(all), all.Trips)
}

func flagCounts(t Totals) string {
	s := ""
	for b := range NumFlags {
		s += fmt.Sprintf("%s=%d ", FlagName(1<<b), t.ByFlag[b])
	}
	return s
}

// TestHoldIsMinimumTurnover checks the NaN safe action on random states:
// its turnover equals the closed-form least turnover onto the limits (the
// lower bound proved at anchorTo), it breaches nothing, and it is w' itself
// whenever w' is feasible (least turnover 0).
func TestHoldIsMinimumTurnover(t *testing.T) {
	rng := seed.New(1, seed.Test, 11)
	zeroes := 0
	for trial := range 3000 {
		n := 1 + rng.IntN(6)
		pan := randomPanel(rng, panelOpts{t: 5, n: n, zeroVolP: 0.2, volScale: 1e5})
		cfg := randomConfig(rng, pan.Assets())
		cfg.VolTarget, cfg.MaxTurnover = 0, 0
		p := mustProjector(t, cfg, n)
		w := make([]float64, n+1) // a random drifted allocation, often concentrated
		s := 0.0
		for i := range w {
			w[i] = math.Pow(rng.Float64(), 4)
			s += w[i]
		}
		for i := range w {
			w[i] /= s
		}
		st := State{Weights: w, Value: math.Pow(10, 3+4*rng.Float64()), Market: pan, Bar: 4}
		st.Peak = st.Value * (1 + 0.5*rng.Float64())
		req := make([]float64, n+1)
		req[rng.IntN(n+1)] = math.NaN()
		dst := make([]float64, n+1)
		rep, err := p.Project(dst, req, st)
		if err != nil {
			t.Fatal(err)
		}
		chk := newLimitChecker(cfg, pan.Assets())
		on := chk.breaker(st.Bar, st.Value, st.Peak)
		s0 := pre{w: w, value: st.Value, peak: st.Peak, bar: st.Bar, p: pan}
		if msg := chk.check(s0, req, dst, rep.Info(), rep, on); msg != "" {
			t.Fatalf("trial %d: %s", trial, msg)
		}
		tmin := chk.minTurnover(s0, on)
		if tmin == 0 {
			zeroes++
		}
		// Both are sums of ≤ 6 terms of order one: 1e-12 absolute.
		if rep.Flags&FlagNonFinite == 0 || math.Abs(rep.Turnover-tmin) > 1e-12 {
			t.Fatalf("trial %d: hold turnover %v, least possible %v, flags %s\ncfg %+v w' %v -> %v",
				trial, rep.Turnover, tmin, flagString(rep.Flags), cfg, w, dst)
		}
	}
	if zeroes == 0 || zeroes == 3000 {
		t.Errorf("degenerate sample: %d of 3000 states feasible", zeroes)
	}
}
