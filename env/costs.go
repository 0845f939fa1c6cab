package env

import (
	"fmt"
	"math"
)

// The rebalancing model (see doc.go, "Costs"): all quantities are fractions
// of the pre-trade portfolio value V. Given pre-trade weights w' (cash
// first) and a target w, the trade in risky asset i is
//
//	d_i(μ) = clamp(μ·w_i − w'_i, −L_i, L_i)
//
// where μ is the post-trade value as a fraction of V and L_i the liquidity
// limit. Buys pay (1 + c_b,i + s_i) per unit of notional, sells receive
// (1 − c_s,i − s_i), and the quadratic model charges k·TO² on top, so cash
// after the trade is
//
//	cash = w'_0 − Σ_i d_i − C(μ),  C(μ) = Σ_i r_i·|d_i| + k·TO²,  TO = Σ_i |d_i|,
//
// with r_i the side's fee plus the slippage rate. The post-trade value is
// cash + Σ_i (w'_i + d_i) = 1 − C(μ) because Σ_{i≥0} w'_i = 1, so μ solves
//
//	μ = 1 − C(μ).
//
// C is non-negative with Lipschitz constant L < 0.5 in μ (Costs.lipschitz),
// so the iteration μ ← 1 − C(μ) started at μ = 1 contracts by L per step.
// Without clipping d_i = μ·w_i − w'_i and cash = μ·w_0 ≥ 0: the executed
// allocation is the target. With clipped sells, cash may not fund the buys;
// all buys are then scaled by one factor λ ∈ [0, 1] so that cash ends at 0.

const (
	// muTol stops the fixed-point iteration: once successive iterates differ
	// by at most muTol the error of the last one is below L/(1−L)·muTol <
	// muTol (L < 0.5), about 5 ulp of 1.
	muTol = 1e-15
	// maxMuIter bounds the iteration; contraction steps alone (L < 0.5)
	// reach muTol from an initial error below 1 within 50 evaluations, and
	// the secant-accelerated iteration needs 3–5 for realistic rates.
	maxMuIter = 64
)

type slipKind uint8

const (
	slipNone slipKind = iota
	slipSpread
	slipSqrt
	slipQuadratic
)

// rebalancer computes trades, costs and the executed allocation for one env.
// Per-asset slices have length N (risky assets only).
type rebalancer struct {
	exact  bool
	buy    []float64 // fee rate on buys, fraction of notional
	sell   []float64 // fee rate on sells
	kind   slipKind
	half   float64 // half-spread rate (spread, sqrt)
	quad   float64 // k of the quadratic model
	cap    float64 // liquidity cap, fraction of bar dollar volume; 0 = none
	impact float64 // sqrt coefficient

	// Per-trade inputs, set by prepare.
	needVol bool      // the cap or sqrt slippage read the bar's dollar volumes
	limited bool      // some limit is finite
	limit   []float64 // L_i, max |d_i|
	imp     []float64 // impact·√(V/DV_i): s_i = half + imp_i·√|d_i|

	// Outputs of the last costAt.
	d       []float64 // trades
	mu      float64   // the μ the trades were computed at
	to      float64   // turnover Σ|d_i|
	fee     float64   // fee fraction of V
	slip    float64   // slippage fraction of V
	clipped bool      // a limit bound (or buys were scaled): executed ≠ target
	iters   int       // evaluations of C in the last solve

	// Outputs of the last rebalance (set by executed).
	short    int     // assets whose trade a limit cut short: Info.LiquidityLimited
	unfilled float64 // Σ_i |μ·w_i − w'_i − d_i| over them: Info.Unfilled
}

func newRebalancer(c Costs, assets []string) (*rebalancer, error) {
	n := len(assets)
	r := &rebalancer{
		exact:  c.FeeModel == FeeExact,
		buy:    make([]float64, n),
		sell:   make([]float64, n),
		quad:   c.Quadratic,
		cap:    c.LiquidityCap,
		impact: c.Impact,
		limit:  make([]float64, n),
		imp:    make([]float64, n),
		d:      make([]float64, n),
	}
	for i := range r.limit {
		r.limit[i] = math.Inf(1)
	}
	base := c.TakerBps
	if c.FeeSide == SideMaker {
		base = c.MakerBps
	}
	for i := range assets {
		r.buy[i], r.sell[i] = base/1e4, base/1e4
	}
	for _, a := range c.Asset {
		i := indexOf(assets, a.Asset)
		if i < 0 {
			return nil, fmt.Errorf("env: costs.asset: unknown asset %q (have %v)", a.Asset, assets)
		}
		r.buy[i], r.sell[i] = a.BuyBps/1e4, a.SellBps/1e4
	}
	r.needVol = c.LiquidityCap > 0 || c.Slippage == SlipSqrt
	switch c.Slippage {
	case SlipSpread:
		r.kind, r.half = slipSpread, c.HalfSpreadBps/1e4
	case SlipSqrt:
		r.kind, r.half = slipSqrt, c.HalfSpreadBps/1e4
	case SlipQuadratic:
		r.kind = slipQuadratic
	}
	return r, nil
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// prepare sets the per-trade limits and impact scales for a trade of a
// portfolio worth value (quote currency) in a bar with dollar volumes dv
// (length N); anyZero says whether some asset has zero volume in the bar.
// A zero-volume asset gets limit 0: it cannot be traded. Without a cap or
// sqrt slippage, bars where every asset trades need no per-asset work, and
// dv is not read (it is the main cache miss of a step in a large Vec).
func (r *rebalancer) prepare(value float64, dv []float64, anyZero bool) {
	if !r.needVol && !anyZero {
		if r.limited {
			for i := range r.limit {
				r.limit[i] = math.Inf(1)
			}
			r.limited = false
		}
		return
	}
	r.limited = true
	for i, v := range dv {
		switch {
		case !(v > 0):
			r.limit[i], r.imp[i] = 0, 0
			continue
		case r.cap > 0:
			r.limit[i] = r.cap * v / value
		default:
			r.limit[i] = math.Inf(1)
		}
		if r.kind == slipSqrt {
			r.imp[i] = r.impact * math.Sqrt(value/v)
		}
	}
}

// costAt sets the trades for post-trade value fraction mu, target w and
// pre-trade weights wp (both N+1, cash first) and returns C(mu).
func (r *rebalancer) costAt(mu float64, w, wp []float64) float64 {
	d := r.d
	w1, wp1, lim := w[1:len(d)+1], wp[1:len(d)+1], r.limit[:len(d)]
	buy, sell := r.buy[:len(d)], r.sell[:len(d)]
	// One pass computes the trades and, for the usual case that no limit
	// binds, their fees and turnover. Branch-free sums: trade signs are as
	// good as random, and mispredicted branches on them cost more than the
	// arithmetic.
	clipped := false
	var fee, to float64
	for i := range d {
		x := mu*w1[i] - wp1[i]
		if l := lim[i]; x > l {
			x, clipped = l, true
		} else if x < -l {
			x, clipped = -l, true
		}
		d[i] = x
		fee += buy[i]*max(x, 0) - sell[i]*min(x, 0)
		to += math.Abs(x)
	}
	if clipped {
		// Cash after the trade is mu − Σ(w'_i + d_i) (see the comment at the
		// top); if the clipped sells do not fund the buys, scale the buys.
		var held, buys float64
		for i, x := range d {
			held += wp1[i] + x
			if x > 0 {
				buys += x
			}
		}
		if cash := mu - held; cash < 0 && buys > 0 {
			lam := max((buys+cash)/buys, 0)
			for i, x := range d {
				if x > 0 {
					d[i] = x * lam
				}
			}
		}
		fee, to = 0, 0
		for i, x := range d {
			fee += buy[i]*max(x, 0) - sell[i]*min(x, 0)
			to += math.Abs(x)
		}
	}
	var slip float64
	switch r.kind {
	case slipSpread:
		slip = r.half * to
	case slipSqrt:
		imp := r.imp[:len(d)]
		for i, x := range d {
			a := math.Abs(x)
			slip += a * (r.half + imp[i]*math.Sqrt(a))
		}
	case slipQuadratic:
		slip = r.quad * to * to
	}
	r.mu, r.to, r.fee, r.slip, r.clipped = mu, to, fee, slip, clipped
	return fee + slip
}

// rebalance trades from pre-trade weights wp toward target w (both N+1,
// cash first, on the simplex), writes the executed allocation (weights of
// the post-trade portfolio) into exec and returns μ, the post-trade value
// as a fraction of the pre-trade value. After it, r.to, r.fee and r.slip
// hold turnover, fees and slippage as fractions of the pre-trade value, and
// 1 − μ = r.fee + r.slip up to one rounding.
func (r *rebalancer) rebalance(exec, w, wp []float64) float64 {
	if !r.exact {
		// Linear model: trade to the target at the pre-cost value, then pay
		// the costs pro rata (proportions unchanged).
		c := r.costAt(1, w, wp)
		r.iters = 1
		r.executed(exec, w, wp, 1)
		return 1 - c
	}
	// Fixed-point iteration on μ = g(μ) = 1 − C(μ), accelerated by secant
	// steps on F(μ) = g(μ) − μ. F is decreasing (F' = −1 − C', |C'| ≤ L <
	// 0.5) with F(0) > 0 ≥ F(1), so every evaluation tightens a bracket
	// [lo, hi] around the root; a secant step is taken when it lands inside
	// the bracket, the contraction step g(μ) otherwise. For piecewise-linear
	// costs (fees, spread) the secant is exact once two iterates share a
	// linear piece; with sqrt or quadratic slippage it converges
	// superlinearly. Typically 3–4 evaluations instead of 5–8.
	mu, lo, hi := 1.0, 0.0, 1.0
	var prevMu, prevF float64
	for it := 1; ; it++ {
		g := 1 - r.costAt(mu, w, wp)
		f := g - mu
		if math.Abs(f) <= muTol || it == maxMuIter {
			r.iters = it
			// The trades were computed at mu, within muTol of g.
			r.executed(exec, w, wp, g)
			return g
		}
		if f > 0 {
			lo = mu
		} else {
			hi = mu
		}
		next := g
		if it > 1 && f != prevF {
			if s := mu - f*(mu-prevMu)/(f-prevF); s > lo && s < hi {
				next = s
			}
		}
		prevMu, prevF, mu = mu, f, next
	}
}

// executed writes the post-trade weights for post-trade value mu and sets
// r.short and r.unfilled. Unclipped trades reach the target exactly, so
// exec = w bit for bit (which keeps a zero-cost env bit-identical to
// frictionless growth).
//
// An asset counts as cut short when its trade differs from the one the
// target asks for, μ·w_i − w'_i at the μ the trades were computed at: a
// limit clipped it (the liquidity cap, or no volume in the bar) or buys
// were scaled down because clipped sales did not fund them. This includes
// fee-sized shortfalls: a position that cannot trade (no volume) while
// fees shrink the portfolio by μ cannot follow the shrinking, and its
// weight rises by 1/μ.
func (r *rebalancer) executed(exec, w, wp []float64, mu float64) {
	r.short, r.unfilled = 0, 0
	if !r.clipped {
		copy(exec, w)
		return
	}
	var risky float64
	for i, x := range r.d {
		if want := r.mu*w[i+1] - wp[i+1]; want != x {
			r.short++
			r.unfilled += math.Abs(want - x)
		}
		h := (wp[i+1] + x) / mu
		if h < 0 { // rounding of a complete sale
			h = 0
		}
		exec[i+1] = h
		risky += h
	}
	exec[0] = max(1-risky, 0)
}
