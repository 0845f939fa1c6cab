package env

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

// muClosedTol is the tolerance against closed forms: the iteration stops
// when successive iterates differ by ≤ muTol = 1e-15, leaving an error below
// muTol, and the closed forms themselves round a few times (~1e-16 each).
const muClosedTol = 2e-15

func assetNames(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("a%d", i)
	}
	return s
}

// testReb builds a rebalancer for n assets and prepares it for a portfolio
// worth value trading in a bar with dollar volumes dv.
func testReb(t *testing.T, c Costs, n int, value float64, dv []float64) *rebalancer {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := newRebalancer(c, assetNames(n))
	if err != nil {
		t.Fatal(err)
	}
	anyZero := false
	for _, v := range dv {
		anyZero = anyZero || !(v > 0)
	}
	r.prepare(value, dv, anyZero)
	return r
}

func feeOnly(bps float64) Costs {
	return Costs{FeeModel: FeeExact, FeeSide: SideTaker, TakerBps: bps, MakerBps: bps, Slippage: SlipNone}
}

func fill(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestRebalanceClosedForms checks μ and the executed weights against closed
// forms for cash + one or two assets, derived in each case's comment from
// μ = 1 − C(μ) (doc.go, "Costs").
func TestRebalanceClosedForms(t *testing.T) {
	const c, h, k = 0.001, 0.0002, 0.001
	// Positive root of aμ² + bμ − 1 = 0 in the form without cancellation.
	sqrtQ := func(a, b float64) float64 { return 2 / (b + math.Sqrt(b*b+4*a)) }
	type tc struct {
		name     string
		costs    Costs
		dvScale  []float64 // dollar volume / value per asset (limit = cap·dvScale)
		wp, w    []float64
		mu       float64
		exec     []float64 // nil: the target
		clippedW bool
	}
	over := feeOnly(10)
	over.Asset = []AssetFee{{Asset: "a0", BuyBps: 5, SellBps: 30}}
	spread := feeOnly(10)
	spread.Slippage, spread.HalfSpreadBps = SlipSpread, 2
	quad := feeOnly(10)
	quad.Slippage, quad.Quadratic = SlipQuadratic, k
	capped := feeOnly(10)
	capped.LiquidityCap = 0.1
	maker := feeOnly(10)
	maker.FeeSide, maker.MakerBps = SideMaker, 2
	muLam := (1 - 0.1*c + 0.9*c) / (1 + c)
	sqrtCap := feeOnly(10)
	sqrtCap.Slippage, sqrtCap.HalfSpreadBps, sqrtCap.Impact, sqrtCap.LiquidityCap = SlipSqrt, 2, 0.05, 0.1
	muSqrt := 1 - 0.1*(c+h+0.05*math.Sqrt(0.1))
	cases := []tc{
		// Buy from cash: d = 0.6μ > 0, μ = 1 − c·0.6μ ⇒ μ = 1/(1 + 0.6c).
		{"buy", feeOnly(10), []float64{1e9}, []float64{1, 0}, []float64{0.4, 0.6}, 1 / (1 + 0.6*c), nil, false},
		// Sell: d = 0.3μ − 0.8 < 0, μ = 1 − c(0.8 − 0.3μ) ⇒ μ = (1 − 0.8c)/(1 − 0.3c).
		{"sell", feeOnly(10), []float64{1e9}, []float64{0.2, 0.8}, []float64{0.7, 0.3}, (1 - 0.8*c) / (1 - 0.3*c), nil, false},
		// Maker side: the same buy at 2 bps.
		{"maker buy", maker, []float64{1e9}, []float64{1, 0}, []float64{0.4, 0.6}, 1 / (1 + 0.6*0.0002), nil, false},
		// Per-asset override: buys at 5 bps, sells at 30 bps.
		{"override buy", over, []float64{1e9}, []float64{1, 0}, []float64{0.4, 0.6}, 1 / (1 + 0.6*0.0005), nil, false},
		{"override sell", over, []float64{1e9}, []float64{0.2, 0.8}, []float64{0.7, 0.3}, (1 - 0.8*0.003) / (1 - 0.3*0.003), nil, false},
		// Spread adds h to the rate: μ = 1/(1 + 0.6(c + h)).
		{"spread buy", spread, []float64{1e9}, []float64{1, 0}, []float64{0.4, 0.6}, 1 / (1 + 0.6*(c+h)), nil, false},
		// Quadratic: μ = 1 − 0.6cμ − k(0.6μ)² ⇒ 0.36kμ² + (1 + 0.6c)μ − 1 = 0.
		{"quadratic buy", quad, []float64{1e9}, []float64{1, 0}, []float64{0.4, 0.6}, sqrtQ(0.36*k, 1+0.6*c), nil, false},
		// Two assets, buy one and sell the other: w' = (0.1, 0.5, 0.4),
		// w = (0.1, 0.2, 0.7): d1 = 0.2μ − 0.5 < 0, d2 = 0.7μ − 0.4 > 0,
		// μ = 1 − c(0.5 − 0.2μ) − c(0.7μ − 0.4) ⇒ μ = (1 − 0.1c)/(1 + 0.5c).
		{"swap", feeOnly(10), []float64{1e9, 1e9}, []float64{0.1, 0.5, 0.4}, []float64{0.1, 0.2, 0.7}, (1 - 0.1*c) / (1 + 0.5*c), nil, false},
		// Sell clipped at L = 0.1·1 = 0.1: d = −0.1, μ = 1 − 0.1c; the asset
		// keeps 0.9 of V, cash gets 0.1(1 − c): weights 0.9/μ and (μ − 0.9)/μ.
		{"sell clipped", capped, []float64{1}, []float64{0, 1}, []float64{1, 0}, 1 - 0.1*c, []float64{(0.1 - 0.1*c) / (1 - 0.1*c), 0.9 / (1 - 0.1*c)}, true},
		// Buy clipped at L = 0.25: μ = 1 − 0.25c, asset 0.25/μ.
		{"buy clipped", capped, []float64{2.5}, []float64{1, 0}, []float64{0, 1}, 1 - 0.25*c, []float64{(1 - 0.25*c - 0.25) / (1 - 0.25*c), 0.25 / (1 - 0.25*c)}, true},
		// Sqrt slippage on a sale clipped at L = 0.1 (participation = cap):
		// μ = 1 − 0.1(c + h + κ√0.1), κ = 0.05.
		{"sqrt clipped sell", sqrtCap, []float64{1}, []float64{0, 1}, []float64{1, 0}, muSqrt, []float64{(muSqrt - 0.9) / muSqrt, 0.9 / muSqrt}, true},
		// Zero volume: no trade, μ = 1, weights unchanged.
		{"zero volume", feeOnly(10), []float64{0}, []float64{0.3, 0.7}, []float64{1, 0}, 1, []float64{0.3, 0.7}, true},
		// Clipped sale does not fund the buy: w' = (0, 1, 0), w = (0, 0, 1),
		// asset 1 sells at most 0.1, asset 2 unlimited. Buys are scaled so
		// that cash ends at 0: holdings 0.9 and μ − 0.9, and
		// μ = 1 − 0.1c − c(μ − 0.9) ⇒ μ = (1 − 0.1c + 0.9c)/(1 + c); the
		// amount bought, μ − 0.9 = 0.1(1 − c)/(1 + c), is the sale's
		// proceeds net of both fees.
		{"buys scaled", capped, []float64{1, 1e9}, []float64{0, 1, 0}, []float64{0, 0, 1}, muLam, []float64{0, 0.9 / muLam, (muLam - 0.9) / muLam}, true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.wp) - 1
			const value = 1000.0
			dv := make([]float64, n)
			for i := range dv {
				dv[i] = tt.dvScale[i] * value
			}
			r := testReb(t, tt.costs, n, value, dv)
			exec := make([]float64, n+1)
			mu := r.rebalance(exec, tt.w, tt.wp)
			if math.Abs(mu-tt.mu) > muClosedTol {
				t.Errorf("μ = %.17g, want %.17g (diff %.3g)", mu, tt.mu, mu-tt.mu)
			}
			want := tt.exec
			if want == nil {
				want = tt.w
			}
			for i := range exec {
				if math.Abs(exec[i]-want[i]) > muClosedTol {
					t.Errorf("executed[%d] = %.17g, want %.17g", i, exec[i], want[i])
				}
			}
			if r.clipped != tt.clippedW {
				t.Errorf("clipped = %v, want %v", r.clipped, tt.clippedW)
			}
			// The post-trade value is exactly the pre-trade value minus what
			// was paid: 1 − μ = fee + slippage up to the rounding of 1 − x.
			if d := math.Abs((1 - mu) - (r.fee + r.slip)); d > 2.3e-16 {
				t.Errorf("1 − μ = %.17g but fee + slippage = %.17g", 1-mu, r.fee+r.slip)
			}
		})
	}
}

// jiangMu solves Jiang, Xu & Liang (2017) eq. 14 for one purchase rate cp
// (charged on cash spent) and one sale rate cs by their fixed-point
// iteration, run far past convergence:
//
//	μ = [1 − cp·w'_0 − (cs + cp − cs·cp)·Σ_i (w'_i − μ·w_i)⁺] / (1 − cp·w_0).
func jiangMu(w, wp []float64, cp, cs float64) float64 {
	mu := 1.0
	for it := 0; it < 200; it++ {
		var s float64
		for i := 1; i < len(w); i++ {
			s += max(wp[i]-mu*w[i], 0)
		}
		mu = (1 - cp*wp[0] - (cs+cp-cs*cp)*s) / (1 - cp*w[0])
	}
	return mu
}

func randSimplex(rng *rand.Rand, dst []float64) {
	var s float64
	for i := range dst {
		dst[i] = rng.ExpFloat64()
		if rng.IntN(4) == 0 {
			dst[i] = 0 // exercise untraded and fully sold assets
		}
		s += dst[i]
	}
	if s == 0 {
		dst[0], s = 1, 1
	}
	for i := range dst {
		dst[i] /= s
	}
}

// TestRebalanceMatchesJiang compares the generalised fixed point with
// Jiang's Theorem 1 formula for uniform rates. Their purchase fee is charged
// on cash spent, ours on notional bought, so our buy rate c_b corresponds to
// their c_p = c_b/(1 + c_b) (doc.go). Tolerance 1e-14: both iterations
// converge to within ~1e-16 of the same root; 1e-14 leaves room for the
// different rounding of the two formulas.
func TestRebalanceMatchesJiang(t *testing.T) {
	rng := seed.New(1, seed.Test, 1)
	const n = 6
	w, wp, exec := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for _, rates := range [][2]float64{{10, 10}, {25, 25}, {100, 100}, {5, 40}, {60, 0}} {
		c := Costs{FeeModel: FeeExact, FeeSide: SideTaker, TakerBps: rates[0], Slippage: SlipNone}
		for i := 0; i < n; i++ {
			c.Asset = append(c.Asset, AssetFee{Asset: fmt.Sprintf("a%d", i), BuyBps: rates[0], SellBps: rates[1]})
		}
		r := testReb(t, c, n, 1, fill(n, 1e12))
		cb, cs := rates[0]/1e4, rates[1]/1e4
		var worst float64
		for trial := 0; trial < 200; trial++ {
			randSimplex(rng, w)
			randSimplex(rng, wp)
			mu := r.rebalance(exec, w, wp)
			want := jiangMu(w, wp, cb/(1+cb), cs)
			worst = max(worst, math.Abs(mu-want))
			if math.Abs(mu-want) > 1e-14 {
				t.Fatalf("rates %v: μ = %.17g, Jiang eq. 14 gives %.17g (w %v, w' %v)", rates, mu, want, w, wp)
			}
		}
		t.Logf("buy %g bps, sell %g bps: largest |μ − μ_Jiang| = %.2g", rates[0], rates[1], worst)
	}
}

// refSolve is an independent, slow solver of the rebalancing model written
// as a cash ledger: for a post-trade value μ and buy scale λ it books every
// trade in cash (buys pay notional·(1 + fee + slip), sales receive
// notional·(1 − fee − slip), the quadratic charge is paid from cash), and
// the value balance cash + Σ holdings = μ is solved for μ by bisection.
// λ < 1 is found by an outer bisection on the requirement cash ≥ 0.
type refModel struct {
	buy, sell []float64 // fee rates
	kind      slipKind
	half, imp []float64 // per-asset half spread, impact·√(V/DV)
	quad      float64
	limit     []float64
}

func (m *refModel) ledger(mu, lam float64, w, wp []float64) (cash, holdings float64) {
	cash = wp[0]
	var to float64
	for i := 1; i < len(w); i++ {
		want := mu*w[i] - wp[i]
		d := math.Max(math.Min(want, m.limit[i-1]), -m.limit[i-1])
		if d > 0 {
			d *= lam
		}
		a := math.Abs(d)
		s := 0.0
		switch m.kind {
		case slipSpread:
			s = m.half[i-1]
		case slipSqrt:
			s = m.half[i-1] + m.imp[i-1]*math.Sqrt(a)
		}
		if d > 0 {
			cash -= a * (1 + m.buy[i-1] + s)
		} else {
			cash += a * (1 - m.sell[i-1] - s)
		}
		to += a
		holdings += wp[i] + d
	}
	if m.kind == slipQuadratic {
		cash -= m.quad * to * to
	}
	return cash, holdings
}

// solveMu bisects the value balance cash(μ) + holdings(μ) − μ = 0 for a
// fixed λ; the balance is decreasing in μ on [0, 1].
func (m *refModel) solveMu(lam float64, w, wp []float64) float64 {
	lo, hi := 0.0, 1.0
	for it := 0; it < 200 && hi-lo > 1e-17; it++ {
		mid := (lo + hi) / 2
		c, h := m.ledger(mid, lam, w, wp)
		if c+h-mid > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func (m *refModel) solve(w, wp []float64) (mu, lam float64) {
	mu = m.solveMu(1, w, wp)
	if c, _ := m.ledger(mu, 1, w, wp); c >= -1e-15 {
		return mu, 1
	}
	lo, hi := 0.0, 1.0
	for it := 0; it < 100; it++ {
		lam = (lo + hi) / 2
		mu = m.solveMu(lam, w, wp)
		if c, _ := m.ledger(mu, lam, w, wp); c >= 0 {
			lo = lam
		} else {
			hi = lam
		}
	}
	lam = lo
	return m.solveMu(lam, w, wp), lam
}

// randCosts draws a valid cost configuration with per-asset buy/sell rates.
func randCosts(rng *rand.Rand, n int) Costs {
	c := Costs{FeeModel: FeeExact, FeeSide: SideTaker, TakerBps: 30 * rng.Float64(), MakerBps: 5}
	if rng.IntN(2) == 0 {
		c.FeeSide = SideMaker
	}
	for i := 0; i < n; i++ {
		if rng.IntN(2) == 0 {
			c.Asset = append(c.Asset, AssetFee{Asset: fmt.Sprintf("a%d", i), BuyBps: 60 * rng.Float64(), SellBps: 60 * rng.Float64()})
		}
	}
	c.Slippage = []string{SlipNone, SlipSpread, SlipSqrt, SlipQuadratic}[rng.IntN(4)]
	c.HalfSpreadBps = 10 * rng.Float64()
	c.Impact = 0.2 * rng.Float64()
	c.Quadratic = 0.01 * rng.Float64()
	if rng.IntN(2) == 0 || c.Slippage == SlipSqrt {
		c.LiquidityCap = 0.05 + 0.5*rng.Float64()
	}
	return c
}

// TestRebalanceMatchesLedger checks μ and the executed weights against the
// independent ledger solver on random configurations (per-asset and
// buy/sell rates, every slippage model, liquidity caps that bind, zero
// volumes, scaled buys). Tolerance 1e-13: the bisections stop at widths of
// 1e-17 and 2⁻¹⁰⁰ but the ledger's cancellations (cash ≈ 1 − holdings)
// lose a few digits; 1e-13 is still far below any cost (≥ 1e-9 here).
func TestRebalanceMatchesLedger(t *testing.T) {
	rng := seed.New(2, seed.Test, 2)
	const n = 5
	w, wp, exec := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	dv := make([]float64, n)
	var worstMu, worstW, worstFill float64
	var clipped, scaled, cut int
	for trial := 0; trial < 400; trial++ {
		c := randCosts(rng, n)
		value := math.Exp(4 + 10*rng.Float64())
		for i := range dv {
			dv[i] = value * math.Exp(-2+5*rng.Float64())
			if rng.IntN(10) == 0 {
				dv[i] = 0
			}
		}
		r := testReb(t, c, n, value, dv)
		randSimplex(rng, w)
		randSimplex(rng, wp)
		mu := r.rebalance(exec, w, wp)
		ref := refModel{buy: r.buy, sell: r.sell, kind: r.kind, quad: r.quad, limit: r.limit,
			half: fill(n, r.half), imp: r.imp}
		muRef, lam := ref.solve(w, wp)
		if r.clipped {
			clipped++
		}
		if lam < 1 {
			scaled++
		}
		worstMu = max(worstMu, math.Abs(mu-muRef))
		if math.Abs(mu-muRef) > 1e-13 {
			t.Fatalf("trial %d (%+v): μ = %.17g, ledger gives %.17g", trial, c, mu, muRef)
		}
		// Executed weights from the ledger: holdings / μ, cash the rest.
		var risky float64
		for i := 1; i <= n; i++ {
			d := math.Max(math.Min(muRef*w[i]-wp[i], ref.limit[i-1]), -ref.limit[i-1])
			if d > 0 {
				d *= lam
			}
			hw := (wp[i] + d) / muRef
			risky += hw
			worstW = max(worstW, math.Abs(exec[i]-hw))
			if math.Abs(exec[i]-hw) > 1e-12 {
				t.Fatalf("trial %d: executed[%d] = %.17g, ledger %.17g", trial, i, exec[i], hw)
			}
		}
		if math.Abs(exec[0]-(1-risky)) > 1e-12 {
			t.Fatalf("trial %d: executed cash %.17g, ledger %.17g", trial, exec[0], 1-risky)
		}
		// The partial-fill report (Info.LiquidityLimited, Info.Unfilled):
		// an asset is cut short when its ledger trade differs from the
		// wanted μ·w_i − w'_i, and Unfilled is Σ|wanted − traded|, to
		// 1e-12 as the weights. The count is exact except where the
		// ledger's λ is within its bisection width of 1, so it is checked
		// between the assets cut by more than 1e-12 and every asset the
		// ledger clips or scales.
		var unfilled float64
		strict, loose := 0, 0
		for i := 1; i <= n; i++ {
			want := muRef*w[i] - wp[i]
			d := math.Max(math.Min(want, ref.limit[i-1]), -ref.limit[i-1])
			if d > 0 {
				d *= lam
			}
			gap := math.Abs(want - d)
			unfilled += gap
			if gap > 1e-12 {
				strict++
			}
			if d != want {
				loose++
			}
		}
		if r.short < strict || r.short > loose {
			t.Fatalf("trial %d: %d assets reported cut short, the ledger cuts %d (%d by more than 1e-12)", trial, r.short, loose, strict)
		}
		worstFill = max(worstFill, math.Abs(r.unfilled-unfilled))
		if math.Abs(r.unfilled-unfilled) > 1e-12 {
			t.Fatalf("trial %d: unfilled %.17g, ledger %.17g", trial, r.unfilled, unfilled)
		}
		if r.short == 0 {
			for i := range w {
				if exec[i] != w[i] {
					t.Fatalf("trial %d: no asset cut short but executed %v ≠ target %v", trial, exec, w)
				}
			}
		} else {
			cut++
		}
	}
	if cut < 50 {
		t.Errorf("only %d of 400 trials cut a trade short", cut)
	}
	if clipped < 50 || scaled < 5 {
		t.Errorf("only %d clipped and %d cash-scaled cases out of 400: the test does not exercise partial fills", clipped, scaled)
	}
	t.Logf("largest deviations from the ledger: μ %.2g, weights %.2g, unfilled %.2g (%d clipped, %d with scaled buys, %d cut short)", worstMu, worstW, worstFill, clipped, scaled, cut)
}

// TestLinearIsFirstOrder checks that the linear model agrees with the exact
// one to first order: with rates c·ρ_i and a fixed trade direction s_i,
// the exact root is μ* = (1 + a)/(1 + b) with a = Σ c ρ_i s_i w'_i and
// b = Σ c ρ_i s_i w_i, the linear one μ_lin = 1 − b + a, so
// (μ* − μ_lin)/c² = b̃(b̃ − ã)/(1 + c b̃) → b̃(b̃ − ã) (b = c b̃, a = c ã).
func TestLinearIsFirstOrder(t *testing.T) {
	w := []float64{0.1, 0.3, 0.05, 0.55}
	wp := []float64{0.25, 0.1, 0.4, 0.25}
	rho := []float64{1, 2, 0.5} // relative rates per asset
	var at, bt float64
	for i := 1; i < len(w); i++ {
		s := math.Copysign(1, w[i]-wp[i])
		at += rho[i-1] * s * wp[i]
		bt += rho[i-1] * s * w[i]
	}
	limit := bt * (bt - at)
	for _, c := range []float64{1e-2, 1e-3, 1e-4} {
		var costs [2]Costs
		for k, model := range []string{FeeExact, FeeLinear} {
			costs[k] = Costs{FeeModel: model, FeeSide: SideTaker, Slippage: SlipNone}
			for i, r := range rho {
				bps := c * r * 1e4
				costs[k].Asset = append(costs[k].Asset, AssetFee{Asset: fmt.Sprintf("a%d", i), BuyBps: bps, SellBps: bps})
			}
		}
		exec := make([]float64, len(w))
		muExact := testReb(t, costs[0], 3, 1, fill(3, 1e12)).rebalance(exec, w, wp)
		muLin := testReb(t, costs[1], 3, 1, fill(3, 1e12)).rebalance(exec, w, wp)
		ratio := (muExact - muLin) / (c * c)
		// Exact finite-c value, then the limit with its O(c) correction:
		// rounding of μ (~1e-16) divided by c² adds ≤ 1e-8 at c = 1e-4.
		exact := bt * (bt - at) / (1 + c*bt)
		if math.Abs(ratio-exact) > 1e-16/(c*c)*4 {
			t.Errorf("c = %g: (μ* − μ_lin)/c² = %.12g, closed form %.12g", c, ratio, exact)
		}
		if math.Abs(ratio-limit) > 2*c*math.Abs(bt*limit)+1e-16/(c*c)*4 {
			t.Errorf("c = %g: ratio %.12g does not approach b̃(b̃ − ã) = %.12g at rate O(c)", c, ratio, limit)
		}
		t.Logf("c = %g: μ* − μ_lin = %.3g, ratio to c² %.9g (limit %.9g)", c, muExact-muLin, ratio, limit)
	}
}

// TestMuIterations bounds the number of cost evaluations of the solver.
// The default costs (10 bps taker, 2 bps half spread, sqrt impact 0.05 with
// a 10% cap) must take at most 5, random valid configurations at most the
// bound of plain contraction from an initial error ≤ 1,
// ⌈log(muTol/2)/log L⌉ + 1, and configurations at the validity limit
// (L just below 0.5) must still converge before maxMuIter and agree with the
// ledger solver.
func TestMuIterations(t *testing.T) {
	rng := seed.New(3, seed.Test, 3)
	const n = 10
	w, wp, exec := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	dv := make([]float64, n)
	extreme := Costs{FeeModel: FeeExact, FeeSide: SideTaker, TakerBps: 1000, Slippage: SlipSqrt,
		HalfSpreadBps: 500, Impact: 0.5, LiquidityCap: 0.15}
	worst := map[string]int{}
	total := map[string]int{}
	for trial := 0; trial < 900; trial++ {
		var c Costs
		var name string
		switch trial % 3 {
		case 0:
			c, name = Defaults().Costs, "defaults"
		case 1:
			c, name = randCosts(rng, n), "random"
		default:
			c, name = extreme, "extreme"
		}
		value := 1e5
		for i := range dv {
			dv[i] = value * math.Exp(-1+4*rng.Float64())
		}
		r := testReb(t, c, n, value, dv)
		randSimplex(rng, w)
		randSimplex(rng, wp)
		mu := r.rebalance(exec, w, wp)
		var bound int
		switch name {
		case "defaults":
			bound = 5
		case "random":
			bound = int(math.Ceil(math.Log(muTol/2)/math.Log(c.lipschitz()))) + 1
		default:
			bound = maxMuIter - 1
			if trial < 90 { // the ledger solver is slow; 30 cases suffice
				ref := refModel{buy: r.buy, sell: r.sell, kind: r.kind, quad: r.quad, limit: r.limit, half: fill(n, r.half), imp: r.imp}
				if muRef, _ := ref.solve(w, wp); math.Abs(mu-muRef) > 1e-13 {
					t.Fatalf("extreme trial %d: μ = %.17g, ledger %.17g", trial, mu, muRef)
				}
			}
		}
		if r.iters > bound {
			t.Fatalf("%s trial %d: %d evaluations, bound %d (L = %.3g)", name, trial, r.iters, bound, c.lipschitz())
		}
		worst[name] = max(worst[name], r.iters)
		total[name] += r.iters
	}
	t.Logf("evaluations of C, most (mean over 300): defaults %d (%.2f), random %d (%.2f), extreme L = %.2f: %d (%.2f)",
		worst["defaults"], float64(total["defaults"])/300, worst["random"], float64(total["random"])/300,
		extreme.lipschitz(), worst["extreme"], float64(total["extreme"])/300)
}

// TestSlippageNeverImproves is a property test: adding any slippage model
// to the same fees never increases the post-trade value, slippage paid is
// never negative, and per unit of notional every trade pays at least its
// fee. It includes clipped trades and scaled buys.
func TestSlippageNeverImproves(t *testing.T) {
	rng := seed.New(4, seed.Test, 4)
	const n = 4
	w, wp, exec := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	dv := make([]float64, n)
	for trial := 0; trial < 2000; trial++ {
		c := randCosts(rng, n)
		value := math.Exp(3 + 12*rng.Float64())
		for i := range dv {
			dv[i] = value * math.Exp(-3+6*rng.Float64())
			if rng.IntN(8) == 0 {
				dv[i] = 0
			}
		}
		randSimplex(rng, w)
		randSimplex(rng, wp)
		none := c
		none.Slippage = SlipNone
		for _, model := range []string{SlipSpread, SlipSqrt, SlipQuadratic} {
			with := c
			with.Slippage = model
			if model == SlipSqrt && with.LiquidityCap == 0 {
				with.LiquidityCap = 0.3
			}
			base := none
			base.LiquidityCap = with.LiquidityCap
			r0 := testReb(t, base, n, value, dv)
			mu0 := r0.rebalance(exec, w, wp)
			r1 := testReb(t, with, n, value, dv)
			mu1 := r1.rebalance(exec, w, wp)
			if mu1 > mu0+1e-15 || r1.slip < 0 {
				t.Fatalf("trial %d %s: μ with slippage %.17g > without %.17g (slippage %g)", trial, model, mu1, mu0, r1.slip)
			}
			if r1.fee+r1.slip < minFee(r1)-1e-18 {
				t.Fatalf("trial %d %s: costs %g below the fees of the trades %g", trial, model, r1.fee+r1.slip, minFee(r1))
			}
		}
	}
}

// minFee is Σ_i min(buy_i, sell_i)·|d_i| for the last trades of r.
func minFee(r *rebalancer) float64 {
	var f float64
	for i, d := range r.d {
		f += math.Min(r.buy[i], r.sell[i]) * math.Abs(d)
	}
	return f
}

// TestZeroCostIsIdentity checks that without costs μ is exactly 1 after one
// evaluation and the executed weights are the target bit for bit.
func TestZeroCostIsIdentity(t *testing.T) {
	rng := seed.New(5, seed.Test, 5)
	const n = 7
	w, wp, exec := make([]float64, n+1), make([]float64, n+1), make([]float64, n+1)
	for _, model := range []string{FeeExact, FeeLinear} {
		c := Costs{FeeModel: model, FeeSide: SideTaker, Slippage: SlipNone}
		r := testReb(t, c, n, 1, fill(n, 1))
		for trial := 0; trial < 100; trial++ {
			randSimplex(rng, w)
			randSimplex(rng, wp)
			if mu := r.rebalance(exec, w, wp); mu != 1 || r.iters != 1 {
				t.Fatalf("%s: μ = %v after %d evaluations, want exactly 1 after 1", model, mu, r.iters)
			}
			for i := range w {
				if exec[i] != w[i] {
					t.Fatalf("%s: executed %v, want %v", model, exec, w)
				}
			}
		}
	}
}
