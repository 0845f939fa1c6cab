package baseline

import (
	"math"
	"slices"

	"github.com/folio-rl/folio/env/market"
)

// online runs an online-portfolio rule on the k-bar clock (k =
// RebalanceEvery). The rule's portfolio b (risky assets only, on the
// simplex) is the paper's b_t: it starts uniform at the grid bar g₀ and is
// updated at every grid bar g = g₀ + jk with the price relatives
// x_g = close_g/close_{g−k} and data of bars ≤ g. A call at bar t applies
// every update due up to t, so a caller that skips bars still gets the
// portfolio of the latest grid bar ≤ t.
type online struct {
	k, warmup int
	rule      rule

	started bool
	n       int
	b       []float64 // current portfolio b, length n
	upd     int       // grid bar at which b was set
	x       []float64 // scratch: price relatives
	c       clock     // reused: a local would escape through the rule interface
}

// rule is one online-portfolio update.
type rule interface {
	// start resets the rule's state for n assets.
	start(n int)
	// update turns b, the portfolio held over the period ending at grid
	// bar g, into the portfolio for the next period, given the period's
	// price relatives x. It may read closes of bars ≤ g through c.
	update(b, x []float64, c *clock, g int, s *step)
}

func newOnline(method string, cfg Config) *online {
	o := &online{k: cfg.RebalanceEvery, warmup: cfg.Online.Warmup}
	oc := cfg.Online
	switch method {
	case UBAH:
		o.rule = ubah{}
	case UCRP:
		o.rule = ucrp{}
	case EG:
		o.rule = &eg{eta: oc.EGEta}
	case ONS:
		o.rule = &ons{eta: oc.ONSEta, beta: oc.ONSBeta, delta: oc.ONSDelta}
	case OLMAR:
		o.rule = &olmar{eps: oc.OLMAREpsilon, w: oc.OLMARWindow}
	case PAMR:
		o.rule = &pamr{eps: oc.PAMREpsilon, variant: oc.PAMRVariant, c: oc.PAMRC}
	case Anticor:
		o.rule = &anticor{w: oc.AnticorWindow}
	default:
		panic("baseline: no online rule for " + method)
	}
	return o
}

func (o *online) reset() { o.started = false }

func (o *online) target(dst []float64, s *step) error {
	o.c = clock{h: s.h, k: o.k}
	c := &o.c
	if s.first || !o.started || o.n != s.n {
		o.started, o.n = true, s.n
		o.b = grow(o.b, s.n)
		o.x = grow(o.x, s.n)
		for i := range o.b {
			o.b[i] = 1 / float64(s.n)
		}
		o.rule.start(s.n)
		// Warm-up: start up to Warmup periods earlier, on bars of the
		// history (all ≤ t).
		back := min(o.warmup, (s.t-s.h.Offset())/o.k)
		o.upd = s.t - back*o.k
	}
	for g := o.upd + o.k; g <= s.t; g += o.k {
		if c.relatives(o.x, g) {
			o.rule.update(o.b, o.x, c, g, s)
		}
		o.upd = g
	}
	dst[0] = 0
	copy(dst[1:], o.b)
	return nil
}

// clock reads closes on the k-bar grid from a causal view.
type clock struct {
	h market.View
	k int
}

// closes returns the closes of panel bar g, or false when g is outside
// the view (before its first bar: data the policy was not given).
func (c *clock) closes(g int) ([]float64, bool) {
	r := g - c.h.Offset()
	if r < 0 || r >= c.h.T() {
		return nil, false
	}
	return c.h.CloseRow(r), true
}

// relatives writes x_g = close_g/close_{g−k} into dst.
func (c *clock) relatives(dst []float64, g int) bool {
	cur, ok1 := c.closes(g)
	prev, ok2 := c.closes(g - c.k)
	if !ok1 || !ok2 {
		return false
	}
	for i := range dst {
		dst[i] = cur[i] / prev[i]
	}
	return true
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func mean(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s / float64(len(a))
}

// ubah is uniform buy-and-hold in the online form: b drifts with the
// prices, b ← b⊙x/(b·x) (frictionless; buy-and-hold holds the env's
// actual weights instead).
type ubah struct{}

func (ubah) start(int) {}

func (ubah) update(b, x []float64, _ *clock, _ int, _ *step) {
	bx := dot(b, x)
	for i := range b {
		b[i] *= x[i] / bx
	}
}

// ucrp is the uniform constant rebalanced portfolio: b stays uniform.
type ucrp struct{}

func (ucrp) start(int) {}

func (ucrp) update([]float64, []float64, *clock, int, *step) {}

// eg is the exponentiated-gradient update of Helmbold, Schapire, Singer
// and Warmuth (1998): bᵢ ← bᵢ exp(η xᵢ/(b·x)) / Z.
type eg struct {
	eta float64
}

func (*eg) start(int) {}

func (e *eg) update(b, x []float64, _ *clock, _ int, _ *step) {
	bx := dot(b, x)
	z := 0.0
	for i := range b {
		b[i] *= math.Exp(e.eta * x[i] / bx)
		z += b[i]
	}
	for i := range b {
		b[i] /= z
	}
}

// pamr is passive–aggressive mean reversion (Li, Zhao, Hoi and
// Gopalkrishnan 2012): with the ε-insensitive loss ℓ = max(0, b·x − ε)
// and d = x − x̄1, b ← Π_Δ(b − τd) where τ is ℓ/‖d‖² (PAMR),
// min(C, ℓ/‖d‖²) (PAMR-1) or ℓ/(‖d‖² + 1/(2C)) (PAMR-2); τ = 0 when
// ‖d‖ = 0 for PAMR and PAMR-1 (every asset moved alike: nothing to
// revert).
type pamr struct {
	eps     float64
	variant int
	c       float64
	buf     []float64
}

func (p *pamr) start(n int) { p.buf = grow(p.buf, n) }

func (p *pamr) update(b, x []float64, _ *clock, _ int, _ *step) {
	loss := math.Max(0, dot(b, x)-p.eps)
	xbar := mean(x)
	den := 0.0
	for _, v := range x {
		den += (v - xbar) * (v - xbar)
	}
	var tau float64
	switch p.variant {
	case PAMR0, PAMR1:
		if den > 0 {
			tau = loss / den
		}
		if p.variant == PAMR1 {
			tau = math.Min(p.c, tau)
		}
	case PAMR2:
		tau = loss / (den + 1/(2*p.c))
	}
	if tau == 0 {
		return
	}
	for i := range b {
		b[i] -= tau * (x[i] - xbar)
	}
	projectSimplex(b, p.buf)
}

// olmar is OLMAR-1 (Li and Hoi 2012): the predicted relative is the
// w-period simple moving average of prices over the current price,
// x̃ᵢ = (1/w) Σ_{j<w} p_{g−jk,i} / p_{g,i}; then
// b ← Π_Δ(b + λ(x̃ − x̄1)) with λ = max(0, ε − b·x̃)/‖x̃ − x̄1‖² (0 when the
// denominator is 0). While fewer than w prices are available it predicts
// x̃ = x_g, as the OLPS toolbox does.
type olmar struct {
	eps  float64
	w    int
	pred []float64
	buf  []float64
}

func (o *olmar) start(n int) {
	o.pred = grow(o.pred, n)
	o.buf = grow(o.buf, n)
}

func (o *olmar) update(b, x []float64, c *clock, g int, _ *step) {
	cur, _ := c.closes(g)
	if _, ok := c.closes(g - (o.w-1)*c.k); ok {
		clear(o.pred)
		for j := range o.w {
			row, _ := c.closes(g - j*c.k)
			for i := range o.pred {
				o.pred[i] += row[i] / cur[i]
			}
		}
		for i := range o.pred {
			o.pred[i] /= float64(o.w)
		}
	} else {
		copy(o.pred, x)
	}
	xbar := mean(o.pred)
	den := 0.0
	for _, v := range o.pred {
		den += (v - xbar) * (v - xbar)
	}
	loss := math.Max(0, o.eps-dot(b, o.pred))
	if den == 0 || loss == 0 {
		return
	}
	lambda := loss / den
	for i := range b {
		b[i] += lambda * (o.pred[i] - xbar)
	}
	projectSimplex(b, o.buf)
}

// projectSimplex replaces v by its Euclidean projection onto the
// probability simplex, by the sort-based method of Duchi, Shalev-Shwartz,
// Singer and Chandra (2008, Fig. 1): θ = (Σ_{j≤ρ} u_j − 1)/ρ for u sorted
// in decreasing order and ρ the largest j with u_j > (Σ_{i≤j} u_i − 1)/j;
// vᵢ ← max(vᵢ − θ, 0). buf (length ≥ len(v)) is scratch.
func projectSimplex(v, buf []float64) {
	u := buf[:len(v)]
	copy(u, v)
	slices.Sort(u) // ascending: u[len−1] is the largest
	sum, theta := 0.0, 0.0
	for j := 1; j <= len(u); j++ {
		sum += u[len(u)-j]
		if t := (sum - 1) / float64(j); u[len(u)-j] > t {
			theta = t
		}
	}
	for i := range v {
		v[i] = math.Max(v[i]-theta, 0)
	}
}
