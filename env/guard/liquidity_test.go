package guard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// walkPanel draws a daily panel of random walks (2 % per bar) whose dollar
// volume close × volume at (bar, asset) is dollarVol(bar, asset).
func walkPanel(rng *rand.Rand, t, n int, dollarVol func(bar, asset int) float64) *market.Panel {
	names := make([]string, n)
	for i := range names {
		names[i] = string(rune('A' + i))
	}
	tn := t * n
	spec := market.PanelSpec{Assets: names, Times: make([]int64, t), Interval: 24 * time.Hour,
		Open: make([]float64, tn), High: make([]float64, tn), Low: make([]float64, tn),
		Close: make([]float64, tn), Volume: make([]float64, tn)}
	price := make([]float64, n)
	for i := range price {
		price[i] = 10 + 90*rng.Float64()
	}
	for s := range t {
		spec.Times[s] = 1_600_000_000 + int64(s)*86400
		for i := range n {
			k := s*n + i
			prev := price[i]
			if s > 0 {
				price[i] *= math.Exp(0.02 * rng.NormFloat64())
			}
			spec.Open[k], spec.Close[k] = prev, price[i]
			spec.High[k], spec.Low[k] = math.Max(prev, price[i]), math.Min(prev, price[i])
			spec.Volume[k] = dollarVol(s, i) / price[i]
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		panic(err)
	}
	return p
}

// TestGuardSellsIlliquidPositionAsFastAsLiquidityAllows is the audit's
// scenario: market env defaults (liquidity_cap 0.1, exact fees, sqrt
// slippage, capital 100 000), asset A trading about $5k per bar, 90 % of
// the portfolio in A at the start, max_weight 0.3 and max_participation
// left at 0. Until bar switchBar A sells at most 0.1 × ~$5k per bar, too
// little to get down to 0.3; from then on its volume is ample.
//
// Checked at every step: an executed weight above 0.3 is flagged
// (FlagConflict and/or Info.LiquidityLimited); whenever even the largest
// sale the env allows, cap × close_t × volume_t (execution at the close
// uses bar t's volume, computed here from the panel), leaves A above 0.3,
// exactly that much is sold (the env clips the guard's sale) and the step
// is counted as liquidity-limited; no step is a guard conflict (the guard
// does not plan with the env's cap); once A is liquid the limit holds and
// nothing is flagged.
func TestGuardSellsIlliquidPositionAsFastAsLiquidityAllows(t *testing.T) {
	const (
		switchBar = 60
		maxW      = 0.3
		liqCap    = 0.1 // env.Defaults().Costs.LiquidityCap
		// The sold notional is the difference of two values of order V
		// (≈ 1e5), each a few roundings from exact: 1e-10·V (1e-5 in
		// quote currency) is far above that and far below a sale (~$500).
		saleTol = 1e-10
	)
	rng := seed.New(1, seed.Test, 70)
	p := walkPanel(rng, 160, 2, func(bar, asset int) float64 {
		if asset == 0 && bar < switchBar {
			return 5000 * (0.8 + 0.4*rng.Float64())
		}
		return 1e9
	})
	policies := map[string]func(dst, cur []float64){
		"hold":   func(dst, cur []float64) { copy(dst, cur) },
		"all-in": func(dst, _ []float64) { clear(dst); dst[1] = 1 },
		"equal":  func(dst, _ []float64) { dst[0], dst[1], dst[2] = 1.0/3, 1.0/3, 1.0/3 },
	}
	for name, policy := range policies {
		t.Run(name, func(t *testing.T) {
			ecfg := env.Defaults()
			ecfg.Window, ecfg.EpisodeStart, ecfg.EpisodeLen = 1, env.StartFirst, 0
			ecfg.InitialWeights = []float64{0.1, 0.9, 0}
			if ecfg.Costs.LiquidityCap != liqCap {
				t.Fatalf("env default liquidity_cap %v, test assumes %v", ecfg.Costs.LiquidityCap, liqCap)
			}
			m, err := env.New(p, nil, nil, ecfg)
			if err != nil {
				t.Fatal(err)
			}
			gcfg := Defaults()
			gcfg.MaxWeight = maxW
			g, err := New(m, gcfg)
			if err != nil {
				t.Fatal(err)
			}
			// The guard does not plan with the env's cap (projecting onto it
			// would spread a clipped trade over assets nobody asked for);
			// the env clips, the excess stays in cash, and the step is
			// counted as liquidity-limited.
			if g.proj.Config().MaxParticipation != 0 {
				t.Fatalf("effective participation %v, want 0 (max_participation unset)", g.proj.Config().MaxParticipation)
			}
			spec := g.Spec()
			res := env.NewStepResult(spec)
			obs := make([]float64, spec.Observation.Len())
			if _, err := g.Reset(obs, 0); err != nil {
				t.Fatal(err)
			}
			req := make([]float64, 3)
			above, limited, stuck, worst := 0, 0, 0, 0.0
			for done := false; !done; {
				bar, v, w := m.Bar(), m.Value(), m.Weights()[1]
				policy(req, m.Weights())
				if err := g.Step(res, req); err != nil {
					t.Fatal(err)
				}
				in := &res.Info
				exec := in.Executed[1]
				conflict := in.Guard.Flags&FlagConflict != 0
				if in.LiquidityLimited > 0 {
					limited++
				}
				if exec > maxW+Tol {
					above++
					worst = math.Max(worst, exec)
					if !conflict && in.LiquidityLimited == 0 {
						t.Fatalf("bar %d: executed weight %v > %v but the step is not flagged (flags %s)", bar, exec, maxW, flagString(in.Guard.Flags))
					}
				}
				// Hand computation: the most A can be sold for is cap × bar
				// t's dollar volume; the post-trade value is V − fees −
				// slippage (env package doc, "Costs").
				maxSale := liqCap * p.Close(bar, 0) * p.Volume(bar, 0)
				if w*v-maxSale > maxW*v { // even the largest sale leaves A above the cap
					stuck++
					sold := w*v - exec*(v-in.Fees-in.Slippage)
					if math.Abs(sold-maxSale) > saleTol*v {
						t.Fatalf("bar %d: sold %v of A, the cap allows %v (weight %v -> %v)", bar, sold, maxSale, w, exec)
					}
					if exec <= maxW || in.LiquidityLimited < 1 {
						t.Fatalf("bar %d: weight %v -> %v, liquidity-limited assets %d: want a counted partial sale above %v",
							bar, w, exec, in.LiquidityLimited, maxW)
					}
				} else if conflict {
					t.Fatalf("bar %d: weight %v can reach %v, yet the step is a conflict", bar, w, maxW)
				}
				if bar >= switchBar {
					if exec > maxW+Tol || in.LiquidityLimited != 0 {
						t.Fatalf("bar %d (liquid): weight %v -> %v, liquidity-limited %d", bar, w, exec, in.LiquidityLimited)
					}
					if bar == switchBar && math.Abs(exec-maxW) > 1e-12 {
						t.Fatalf("bar %d: first liquid bar executes %v, want the cap %v", bar, exec, maxW)
					}
				}
				done = res.Truncated || res.Terminated
			}
			tot := g.Totals()
			// Not vacuous: most illiquid steps cannot reach the cap (at
			// ≤ $600 of sales per bar, 60 bars sell at most $36k of the
			// $90k position).
			if stuck < 50 || tot.LiquidityLimited != limited || limited < stuck {
				t.Errorf("%d steps stuck above %v, %d conflicts, %d liquidity-limited (totals %d)",
					stuck, maxW, tot.Count(FlagConflict), limited, tot.LiquidityLimited)
			}
			t.Logf("%d steps above %v (worst %.4f), %d of them unable to reach it: conflict %d, liquidity_limited %d",
				above, maxW, worst, stuck, tot.Count(FlagConflict), tot.LiquidityLimited)
		})
	}
}

// TestGuardNextOpenIlliquid is the same scenario with execution at the next
// open: the env then fills on bar t+1's volume, which the guard must not
// read, so it plans with bar t's. The env never sells more than its cap on
// bar t+1, every step above max_weight is still flagged, and from the first
// decision that sees ample volume on both bars the limit holds.
func TestGuardNextOpenIlliquid(t *testing.T) {
	const (
		switchBar = 100
		maxW      = 0.3
		liqCap    = 0.1
		saleTol   = 1e-10 // as in TestGuardSellsIlliquidPositionAsFastAsLiquidityAllows
	)
	rng := seed.New(1, seed.Test, 71)
	p := walkPanel(rng, 160, 2, func(bar, asset int) float64 {
		if asset == 0 && bar < switchBar {
			return 5000 * (0.5 + rng.Float64())
		}
		return 1e9
	})
	ecfg := env.Defaults()
	ecfg.Window, ecfg.EpisodeStart, ecfg.EpisodeLen = 1, env.StartFirst, 0
	ecfg.Execution = env.ExecNextOpen
	ecfg.InitialWeights = []float64{0.1, 0.9, 0}
	m, err := env.New(p, nil, nil, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	gcfg := Defaults()
	gcfg.MaxWeight = maxW
	g, err := New(m, gcfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := g.Spec()
	res := env.NewStepResult(spec)
	obs := make([]float64, spec.Observation.Len())
	if _, err := g.Reset(obs, 0); err != nil {
		t.Fatal(err)
	}
	req := make([]float64, 3)
	above, envClipped := 0, 0
	for done := false; !done; {
		bar, v := m.Bar(), m.Value()
		wp := append([]float64(nil), m.Weights()...)
		copy(req, wp)
		if err := g.Step(res, req); err != nil {
			t.Fatal(err)
		}
		in := &res.Info
		exec := in.Executed[1]
		flagged := in.Guard.Flags&FlagConflict != 0 || in.LiquidityLimited > 0
		if exec > maxW+Tol {
			above++
			if !flagged {
				t.Fatalf("bar %d: executed %v > %v unflagged", bar, exec, maxW)
			}
		}
		if bar < switchBar {
			// The trade happens at the open of t+1: the portfolio is worth
			// V_open = V·(w'_0 + Σ w'_i·open_{t+1,i}/close_{t,i}) there, A's
			// holding is w'_A·V·open/close before and exec·(V_open − fees −
			// slippage) after. The sale may not exceed cap × bar t+1's
			// dollar volume.
			vOpen := wp[0] * v
			for i := range 2 {
				vOpen += wp[i+1] * v * p.Open(bar+1, i) / p.Close(bar, i)
			}
			sold := wp[1]*v*p.Open(bar+1, 0)/p.Close(bar, 0) - exec*(vOpen-in.Fees-in.Slippage)
			maxSale := liqCap * p.Close(bar+1, 0) * p.Volume(bar+1, 0)
			if sold > maxSale+saleTol*v {
				t.Fatalf("bar %d: sold %v at the open, the env's cap on bar %d allows %v", bar, sold, bar+1, maxSale)
			}
			if in.LiquidityLimited > 0 {
				envClipped++
			}
		} else if exec > maxW+Tol {
			t.Fatalf("bar %d (ample volume on t and t+1): executed %v > %v", bar, exec, maxW)
		}
		done = res.Truncated || res.Terminated
	}
	if above < switchBar-1 || envClipped == 0 || g.Totals().LiquidityLimited != envClipped {
		t.Errorf("%d steps above the cap, %d clipped by the env (totals %d)", above, envClipped, g.Totals().LiquidityLimited)
	}
	t.Logf("next_open: %d steps above %v, all flagged; env clipped %d", above, maxW, envClipped)
}

// executedBreach returns a description of the first limit of c (its
// participation cap being the guard's effective one) that the executed
// allocation w breaches beyond Tol, or "". The vol cap is not checked here
// (TestGuardNeverBreachesLimits covers it on the allocation sent).
func executedBreach(c *limitChecker, s pre, w []float64, breakerOn bool) string {
	n := len(w)
	turn := 0.0
	for i := 1; i < n; i++ {
		d := math.Abs(w[i] - s.w[i])
		turn += d
		switch {
		case w[i] > c.maxW[i]+Tol:
			return fmt.Sprintf("asset %d weight %v above max %v", i, w[i], c.maxW[i])
		case d > c.room(s, i)+Tol:
			return fmt.Sprintf("asset %d trades %v, participation room %v", i, d, c.room(s, i))
		}
	}
	floor := c.cfg.MinCash
	if c.cfg.MaxGross > 0 {
		floor = math.Max(floor, 1-c.cfg.MaxGross)
	}
	if breakerOn {
		floor = math.Max(floor, 1-c.cfg.DrawdownGross)
	}
	if w[0] < floor-Tol {
		return fmt.Sprintf("cash %v below floor %v", w[0], floor)
	}
	if c.cfg.MaxTurnover > 0 && turn > c.cfg.MaxTurnover+Tol {
		return fmt.Sprintf("turnover %v above %v", turn, c.cfg.MaxTurnover)
	}
	return ""
}

// TestExecutedBreachesAreFlagged drives the guard over the market env
// (default exact fees and sqrt slippage, a random liquidity_cap, execution
// at the close or the next open) on random illiquid panels with zero-volume
// bars, concentrated starting portfolios, random guard configs and
// adversarial actions. At every step:
//
//   - the allocation sent (Info.Requested) meets every limit under the
//     documented precedence, with the env's cap as participation limit
//     where it is tighter (the limit checker of property_test.go);
//   - an unflagged fill is exact: Info.LiquidityLimited = 0 implies
//     Executed = Requested bit for bit;
//   - every step whose executed weights breach a limit (max weight, cash
//     floor, turnover, participation) carries FlagConflict or
//     Info.LiquidityLimited > 0;
//   - at the close the env fills on the same bar's volume the guard
//     planned with, so what it leaves undone is fee-sized: Info.Unfilled ≤
//     2·(fees + slippage)/V (a sale at the cap is clipped by at most
//     (1 − μ)·w_i, and buys lose at most what those clips cost in cash).
func TestExecutedBreachesAreFlagged(t *testing.T) {
	rng := seed.New(1, seed.Test, 72)
	type tally struct {
		steps, breaches, limitedOnly, limited int
		maxGap, maxUnfilled                   float64
	}
	var by [2]tally // execution close, next_open
	for world := range 160 {
		n := 1 + rng.IntN(4)
		pan := randomPanel(rng, panelOpts{t: 100, n: n, crashes: true,
			zeroVolP: []float64{0, 0.02, 0.1}[rng.IntN(3)], volScale: math.Pow(10, 3+2*rng.Float64())})
		ecfg := env.Defaults()
		ecfg.Window, ecfg.EpisodeLen = 1, 40
		mode := rng.IntN(2)
		if mode == 1 {
			ecfg.Execution = env.ExecNextOpen
		}
		ecfg.Costs.LiquidityCap = []float64{0.02, 0.1, 0.5}[rng.IntN(3)]
		iw := make([]float64, n+1)
		sum := 0.0
		for i := range iw {
			iw[i] = 0.01 + math.Pow(rng.Float64(), 4)
			sum += iw[i]
		}
		for i := range iw {
			iw[i] /= sum
		}
		ecfg.InitialWeights = iw
		m, err := env.New(pan, nil, nil, ecfg)
		if err != nil {
			t.Fatal(err)
		}
		gcfg := randomConfig(rng, pan.Assets())
		g, err := New(m, gcfg)
		if err != nil {
			t.Fatal(err)
		}
		eff := gcfg
		eff.MaxParticipation = g.proj.Config().MaxParticipation
		if eff.MaxParticipation != gcfg.MaxParticipation {
			t.Fatalf("world %d: effective participation %v, want max_participation %v (the env's cap %v is the env's business)",
				world, eff.MaxParticipation, gcfg.MaxParticipation, ecfg.Costs.LiquidityCap)
		}
		chk := newLimitChecker(eff, pan.Assets())
		spec := g.Spec()
		res := env.NewStepResult(spec)
		obs := make([]float64, spec.Observation.Len())
		req := make([]float64, n+1)
		gen := &actionGen{rng: rng, flip: rng.IntN(n + 1), flop: rng.IntN(n + 1)}
		limitedSteps := 0
		tl := &by[mode]
		for ep := range 5 {
			if _, err := g.Reset(obs, rng.Uint64()); err != nil {
				t.Fatal(err)
			}
			chk.reset()
			for done := false; !done; {
				s := pre{w: append([]float64(nil), m.Weights()...), value: m.Value(), peak: m.Peak(), bar: m.Bar(), p: pan}
				kind := gen.next(req, s.w)
				r := append([]float64(nil), req...)
				if err := g.Step(res, req); err != nil {
					t.Fatalf("world %d ep %d: %v", world, ep, err)
				}
				in := &res.Info
				on := chk.breaker(s.bar, s.value, s.peak)
				where := fmt.Sprintf("world %d (%s) ep %d bar %d (%s)", world, ecfg.Execution, ep, s.bar, kind)
				if msg := chk.check(s, r, in.Requested, in.Guard, g.LastReport(), on); msg != "" {
					t.Fatalf("%s: allocation sent: %s", where, msg)
				}
				tl.steps++
				if in.LiquidityLimited > 0 {
					limitedSteps++
					tl.limited++
					tl.maxUnfilled = math.Max(tl.maxUnfilled, in.Unfilled)
					for i := range in.Executed {
						tl.maxGap = math.Max(tl.maxGap, math.Abs(in.Executed[i]-in.Requested[i]))
					}
				} else {
					for i := range in.Executed {
						if math.Float64bits(in.Executed[i]) != math.Float64bits(in.Requested[i]) {
							t.Fatalf("%s: no partial fill reported, but executed %v ≠ requested %v", where, in.Executed, in.Requested)
						}
					}
					if in.Unfilled != 0 {
						t.Fatalf("%s: unfilled %v without a liquidity-limited asset", where, in.Unfilled)
					}
				}
				if msg := executedBreach(chk, s, in.Executed, on); msg != "" {
					tl.breaches++
					conflict := in.Guard.Flags&FlagConflict != 0
					if !conflict && in.LiquidityLimited == 0 {
						t.Fatalf("%s: executed %v breaches a limit unflagged: %s (flags %s)", where, in.Executed, msg, flagString(in.Guard.Flags))
					}
					if !conflict {
						tl.limitedOnly++
					}
				}
				done = res.Terminated || res.Truncated
			}
		}
		if tot := g.Totals(); tot.LiquidityLimited != limitedSteps {
			t.Fatalf("world %d: Totals.LiquidityLimited %d, %d steps reported a partial fill", world, tot.LiquidityLimited, limitedSteps)
		}
	}
	for mode, tl := range by {
		t.Logf("execution %d: %d steps, %d with executed weights breaching a limit (%d flagged only as liquidity-limited), %d liquidity-limited (largest |executed − requested| %.3g, unfilled %.3g of V)",
			mode, tl.steps, tl.breaches, tl.limitedOnly, tl.limited, tl.maxGap, tl.maxUnfilled)
		// Not vacuous: breaches and partial fills occur in both modes.
		if tl.breaches < 50 || tl.limited < 50 {
			t.Errorf("execution mode %d: only %d breaches and %d partial fills in %d steps", mode, tl.breaches, tl.limited, tl.steps)
		}
	}
}

// TestEnvCapChangesNothingWhenLiquidityIsAmple: with dollar volumes far
// above any trade, the guard over the market env (which now plans with the
// env's liquidity_cap) sends bit for bit what a Projector that knows
// nothing of the env's cap computes from the same states, with the same
// flags (except FlagLiquidity on requests that are not allocations, whose
// components may exceed any cap), and the env fills everything.
func TestEnvCapChangesNothingWhenLiquidityIsAmple(t *testing.T) {
	rng := seed.New(1, seed.Test, 73)
	steps, intervened := 0, 0
	for world := range 40 {
		n := 1 + rng.IntN(4)
		pan := randomPanel(rng, panelOpts{t: 100, n: n, crashes: true, volScale: 1e13})
		ecfg := env.Defaults()
		ecfg.Window, ecfg.EpisodeLen = 1, 40
		if rng.IntN(2) == 1 {
			ecfg.Execution = env.ExecNextOpen
		}
		m, err := env.New(pan, nil, nil, ecfg)
		if err != nil {
			t.Fatal(err)
		}
		gcfg := randomConfig(rng, pan.Assets())
		gcfg.MaxParticipation = 0
		g, err := New(m, gcfg)
		if err != nil {
			t.Fatal(err)
		}
		if g.proj.Config().MaxParticipation != 0 {
			t.Fatalf("effective participation %v, want 0", g.proj.Config().MaxParticipation)
		}
		ref := mustProjector(t, gcfg, n)
		if ref.Config().MaxParticipation != 0 {
			t.Fatalf("a bare Projector has participation %v, want 0", ref.Config().MaxParticipation)
		}
		spec := g.Spec()
		res := env.NewStepResult(spec)
		obs := make([]float64, spec.Observation.Len())
		req := make([]float64, n+1)
		want := make([]float64, n+1)
		gen := &actionGen{rng: rng, flip: rng.IntN(n + 1), flop: rng.IntN(n + 1)}
		for ep := range 3 {
			if _, err := g.Reset(obs, rng.Uint64()); err != nil {
				t.Fatal(err)
			}
			ref.Reset()
			for done := false; !done; {
				st := State{Weights: m.Weights(), Value: m.Value(), Peak: m.Peak(), Market: pan, Bar: m.Bar()}
				gen.next(req, st.Weights)
				rep, err := ref.Project(want, req, st)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Step(res, req); err != nil {
					t.Fatal(err)
				}
				in := &res.Info
				sent := g.Projected()
				for i := range want {
					if math.Float64bits(sent[i]) != math.Float64bits(want[i]) {
						t.Fatalf("world %d ep %d bar %d: guard sent %v, the cap-blind projection %v", world, ep, st.Bar, sent, want)
					}
				}
				// A request that is not an allocation (components up to
				// ±1e300) may also exceed the env's cap: then FlagLiquidity
				// is extra, with the same allocation sent.
				gi := in.Guard
				if rep.Flags&FlagInvalid != 0 && rep.Flags&FlagLiquidity == 0 && gi.Flags&FlagLiquidity != 0 {
					gi.Flags &^= FlagLiquidity
					gi.Interventions--
				}
				if gi != rep.Info() || in.LiquidityLimited != 0 || in.Unfilled != 0 {
					t.Fatalf("world %d bar %d: guard info %+v vs %+v, liquidity-limited %d, unfilled %v",
						world, st.Bar, in.Guard, rep.Info(), in.LiquidityLimited, in.Unfilled)
				}
				steps++
				if rep.Interventions > 0 {
					intervened++
				}
				done = res.Terminated || res.Truncated
			}
		}
	}
	if intervened < steps/10 {
		t.Errorf("only %d of %d steps intervened: the comparison is nearly vacuous", intervened, steps)
	}
	t.Logf("%d steps, %d with interventions, identical to the cap-blind projection", steps, intervened)
}

// TestLiquidityLimitedCountSurvivesRestore: Totals.LiquidityLimited is part
// of the Guard's saved state. A guard saved mid-way through the illiquid
// scenario, restored into a fresh stack and stepped with the same actions,
// ends with the same totals as the original.
func TestLiquidityLimitedCountSurvivesRestore(t *testing.T) {
	rng := seed.New(1, seed.Test, 74)
	p := walkPanel(rng, 80, 2, func(bar, asset int) float64 {
		if asset == 0 {
			return 5000
		}
		return 1e9
	})
	build := func() (*env.Market, *Guard) {
		ecfg := env.Defaults()
		ecfg.Window, ecfg.EpisodeStart, ecfg.EpisodeLen = 1, env.StartFirst, 0
		ecfg.InitialWeights = []float64{0.1, 0.9, 0}
		m, err := env.New(p, nil, nil, ecfg)
		if err != nil {
			t.Fatal(err)
		}
		gcfg := Defaults()
		gcfg.MaxWeight = 0.3
		g, err := New(m, gcfg)
		if err != nil {
			t.Fatal(err)
		}
		obs := make([]float64, g.Spec().Observation.Len())
		if _, err := g.Reset(obs, 0); err != nil {
			t.Fatal(err)
		}
		return m, g
	}
	run := func(m *env.Market, g *Guard, steps int) {
		res := env.NewStepResult(g.Spec())
		req := make([]float64, 3)
		for range steps {
			copy(req, m.Weights())
			if err := g.Step(res, req); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, g := build()
	run(m, g, 10)
	saved, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	run(m, g, 10)
	m2, g2 := build()
	if err := g2.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	run(m2, g2, 10)
	if a, b := g.Totals(), g2.Totals(); a != b || a.LiquidityLimited != 20 {
		t.Errorf("totals %+v after the restore and replay, %+v uninterrupted (want 20 partial fills)", b, a)
	}
}
