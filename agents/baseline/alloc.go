package baseline

import (
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/portfolio"
)

// allocation wraps portfolio.Allocate: at each decision it estimates on
// the trailing Lookback returns ending at the decision bar and invests the
// resulting weights fully in the risky assets (cash 0).
type allocation struct {
	method string
	cfg    Config

	// Sized at the first decision for N assets.
	n       int
	buf     []float64  // Lookback×N returns, row-major, oldest first
	window  *mat.Dense // view of buf
	budgets []float64  // normalised
	bl      *portfolio.BLOptions
	q       []float64 // momentum views (per bar)
}

func newAllocation(method string, cfg Config) (*allocation, error) {
	if method == RiskBudget && len(cfg.Budgets) == 0 {
		return nil, configErr("risk-budget needs budgets")
	}
	if b := cfg.BlackLitterman; method == BlackLitterman && b.Views == ViewsMomentum && b.MomentumWindow > cfg.Lookback {
		return nil, configErr("black_litterman.momentum_window %d exceeds lookback %d", b.MomentumWindow, cfg.Lookback)
	}
	return &allocation{method: method, cfg: cfg}, nil
}

func (a *allocation) reset() {}

// setup sizes the buffers and converts the configuration for n assets
// and a panel with the given bars per year.
func (a *allocation) setup(n int, barsPerYear float64) error {
	cfg := a.cfg
	a.n = n
	a.buf = make([]float64, cfg.Lookback*n)
	a.window = mat.NewDense(cfg.Lookback, n, a.buf)
	a.budgets, a.bl, a.q = nil, nil, nil
	if float64(n)*cfg.MaxWeight < 1-1e-12 {
		return configErr("max_weight %v is infeasible for %d assets (needs ≥ 1/N = %v)", cfg.MaxWeight, n, 1/float64(n))
	}
	if a.method == RiskBudget {
		if len(cfg.Budgets) != n {
			return configErr("risk-budget: %d budgets for %d assets", len(cfg.Budgets), n)
		}
		sum := 0.0
		for _, b := range cfg.Budgets {
			sum += b
		}
		a.budgets = make([]float64, n)
		for i, b := range cfg.Budgets {
			a.budgets[i] = b / sum
		}
	}
	if a.method == BlackLitterman {
		b := cfg.BlackLitterman
		a.bl = &portfolio.BLOptions{Delta: b.Delta, Tau: b.Tau, PosteriorCov: b.PosteriorCov}
		if len(b.MarketWeights) > 0 {
			if len(b.MarketWeights) != n {
				return configErr("black-litterman: %d market weights for %d assets", len(b.MarketWeights), n)
			}
			a.bl.MarketWeights = b.MarketWeights
		}
		switch b.Views {
		case ViewsMomentum:
			p := mat.NewDense(n, n, nil)
			for i := range n {
				p.Set(i, i, 1)
			}
			a.q = make([]float64, n)
			a.bl.P, a.bl.Q = p, a.q
		case ViewsExplicit:
			k := len(b.P)
			p := mat.NewDense(k, n, nil)
			for r, row := range b.P {
				if len(row) != n {
					return configErr("black-litterman: view %d has %d entries for %d assets", r, len(row), n)
				}
				p.SetRow(r, row)
			}
			a.bl.P = p
			a.bl.Q = make([]float64, k)
			for r, v := range b.Q {
				a.bl.Q[r] = v / barsPerYear
			}
			if len(b.Omega) > 0 {
				om := mat.NewSymDense(k, nil)
				for i := range k {
					for j := i; j < k; j++ {
						om.SetSym(i, j, b.Omega[i][j]/barsPerYear)
					}
				}
				a.bl.Omega = om
			}
		}
	}
	return nil
}

func (a *allocation) target(dst []float64, s *step) error {
	cfg := a.cfg
	if s.first || a.window == nil || a.n != s.n {
		// Sized per episode: the panel (N, bar length) may have changed.
		if err := a.setup(s.n, s.h.BarsPerYear()); err != nil {
			a.window = nil
			return err
		}
	}
	if have := s.h.T() - 1; have < cfg.Lookback {
		s.fallback("insufficient history → equal-weight", "%s needs %d returns, the history has %d; using equal weights", a.method, cfg.Lookback, have)
		equalRisky(dst)
		return nil
	}
	s.h.ReturnsTo(a.buf, cfg.Lookback)
	bpy := s.h.BarsPerYear()
	if a.q != nil {
		// Momentum views: the mean of the last MomentumWindow returns of
		// each asset in excess of the per-bar risk-free rate.
		k := cfg.BlackLitterman.MomentumWindow
		clear(a.q)
		for r := cfg.Lookback - k; r < cfg.Lookback; r++ {
			row := a.buf[r*s.n : (r+1)*s.n]
			for i, v := range row {
				a.q[i] += v
			}
		}
		for i := range a.q {
			a.q[i] = a.q[i]/float64(k) - cfg.RiskFree/bpy
		}
	}
	res, err := portfolio.Allocate(a.method, a.inputs(), a.options(bpy))
	if err != nil {
		// Everything that depends on the configuration alone was checked
		// in setup, so what remains is data trouble: an estimator that
		// cannot cope with the window (a constant price series has zero
		// variance). Fall back rather than stop the backtest.
		s.fallback("estimation failed → equal-weight", "%s: %v; using equal weights", a.method, err)
		equalRisky(dst)
		return nil
	}
	if res.Fallback != "" {
		kind := res.Method + " → " + res.Used
		if i := strings.Index(res.Fallback, ": "); i > 0 {
			kind = res.Fallback[:i]
		}
		s.fallback(kind, "%s", res.Fallback)
	}
	dst[0] = 0
	copy(dst[1:], res.Weights)
	return nil
}

// inputs returns portfolio's inputs for the current window.
func (a *allocation) inputs() portfolio.Inputs {
	return portfolio.Inputs{
		Returns:       a.window,
		Estimator:     a.cfg.Cov,
		MeanEstimator: a.cfg.Mean,
		EWMALambda:    a.cfg.EWMALambda,
	}
}

// options returns portfolio's options, converting annualised rates to per
// bar.
func (a *allocation) options(barsPerYear float64) portfolio.Options {
	return portfolio.Options{
		MaxWeight:    a.cfg.MaxWeight,
		RiskAversion: a.cfg.Lambda,
		Budgets:      a.budgets,
		TargetReturn: a.cfg.TargetReturn / barsPerYear,
		RiskFree:     a.cfg.RiskFree / barsPerYear,
		BL:           a.bl,
	}
}
