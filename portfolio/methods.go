package portfolio

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/optim"
)

func (a *allocator) equalWeight() outcome {
	w := make([]float64, a.n)
	for i := range w {
		w[i] = 1 / float64(a.n)
	}
	return outcome{w: w}
}

// vols returns the volatilities √Σᵢᵢ, failing when one is zero.
func (a *allocator) vols() ([]float64, error) {
	sd := make([]float64, a.n)
	for i := range sd {
		v := a.cov.At(i, i)
		if !(v > 0) {
			return nil, fmt.Errorf("asset %d has variance %v", i, v)
		}
		sd[i] = math.Sqrt(v)
	}
	return sd, nil
}

// inverseVol sets wᵢ ∝ 1/σᵢ (the risk-parity solution when correlations are
// all equal).
func (a *allocator) inverseVol() (outcome, error) {
	sd, err := a.vols()
	if err != nil {
		return outcome{}, err
	}
	w := make([]float64, a.n)
	sum := 0.0
	for i, s := range sd {
		w[i] = 1 / s
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	a.capped(w, InverseVol)
	return outcome{w: w}, nil
}

// riskBudget solves for risk contributions equal to b (nil: equal). With a
// cap below 1 it solves the constrained risk-budgeting problem of Richard
// and Roncalli (2019) (optim.RiskBudgeter.SolveCapped): the assets below
// the cap keep risk contributions proportional to their budgets, the
// capped ones contribute less. Without a binding cap the result is the
// unconstrained solution.
func (a *allocator) riskBudget(b []float64) (outcome, error) {
	w := make([]float64, a.n)
	var s optim.RiskBudgeter
	var res optim.RiskBudgetResult
	var err error
	if a.wmax < 1 {
		res, err = s.SolveCapped(w, a.cov, b, constant(a.n, a.wmax))
	} else {
		res, err = s.Solve(w, a.cov, b)
	}
	if err != nil {
		return outcome{}, err
	}
	if res.Capped > 0 {
		name := RiskParity
		if b != nil {
			name = RiskBudget
		}
		if res.Capped >= a.n {
			a.note("%s: constrained risk budgeting (Richard–Roncalli): every asset at the cap %g (the only feasible portfolio)", name, a.wmax)
		} else {
			a.note("%s: constrained risk budgeting (Richard–Roncalli): %d assets at the cap %g; the others have risk contributions %.4g × their budgets",
				name, res.Capped, a.wmax, res.Scale)
		}
	}
	return outcome{w: w, kkt: res.KKT, rcErr: res.RCError, iter: res.Iter}, nil
}

// capped caps w at a.wmax, handing the excess to the uncapped weights in
// proportion to their size (or equally if they are all zero), and repeats
// until no weight exceeds the cap. It reports whether anything changed.
func (a *allocator) capped(w []float64, name string) bool {
	if a.wmax >= 1 {
		return false
	}
	changed := 0
	atCap := make([]bool, len(w))
	for range len(w) {
		excess, free := 0.0, 0.0
		nfree := 0
		for i, v := range w {
			if v > a.wmax {
				excess += v - a.wmax
				w[i] = a.wmax
				if !atCap[i] {
					atCap[i] = true
					changed++
				}
			}
		}
		if excess <= 0 {
			break
		}
		for i, v := range w {
			if !atCap[i] {
				free += v
				nfree++
			}
		}
		for i, v := range w {
			if atCap[i] {
				continue
			}
			if free > 0 {
				w[i] = v + excess*v/free
			} else {
				w[i] = v + excess/float64(nfree)
			}
		}
	}
	if changed > 0 {
		a.note("%s weights capped at %g (%d assets), the excess redistributed proportionally", name, a.wmax, changed)
	}
	return changed > 0
}

// budgetQP returns the QP skeleton of the long-only, fully invested,
// capped problems: 1ᵀw = 1, 0 ≤ w ≤ wmax.
func (a *allocator) budgetQP(p mat.Symmetric, q []float64) *optim.QP {
	n := a.n
	qp := &optim.QP{
		P:     p,
		Q:     q,
		A:     mat.NewDense(1, n, ones(n)),
		B:     []float64{1},
		Lower: make([]float64, n),
	}
	if a.wmax < 1 {
		qp.Upper = constant(n, a.wmax)
	}
	return qp
}

// solve runs the QP solver and notes a ridge.
func (a *allocator) solve(name string, p *optim.QP) (*optim.Solution, error) {
	var sol optim.Solution
	err := a.qp.Solve(&sol, p)
	if err != nil {
		return nil, err
	}
	if sol.Ridge > 0 {
		a.note("%s: covariance is singular; the QP added a ridge %.3g and ran %d proximal steps (KKT residuals of the original problem: %.3g)",
			name, sol.Ridge, sol.Prox, sol.KKT.Max())
	}
	return &sol, nil
}

// minVariance minimises ½wᵀΣw.
func (a *allocator) minVariance() (outcome, error) {
	sol, err := a.solve(MinVariance, a.budgetQP(a.cov, nil))
	if err != nil {
		return outcome{}, err
	}
	return outcome{w: append([]float64(nil), sol.X...), kkt: sol.KKT, iter: sol.Iter}, nil
}

// meanVariance maximises μᵀw − λ/2·wᵀΣw, i.e. minimises ½wᵀ(λΣ)w − μᵀw.
func (a *allocator) meanVariance(mu []float64, cov mat.Symmetric, lambda float64) (outcome, error) {
	if mu == nil {
		return outcome{}, errors.New("no expected returns")
	}
	var p mat.SymDense
	p.ScaleSym(lambda, cov)
	q := make([]float64, a.n)
	for i := range q {
		q[i] = -mu[i]
	}
	sol, err := a.solve(MeanVariance, a.budgetQP(&p, q))
	if err != nil {
		return outcome{}, err
	}
	return outcome{w: append([]float64(nil), sol.X...), kkt: sol.KKT, iter: sol.Iter}, nil
}

// maxReturn returns the largest μᵀw over the capped simplex and its
// portfolio: the greedy solution of the linear programme, filling the
// highest returns up to the cap (ties in index order).
func maxReturn(mu []float64, wmax float64) (float64, []float64) {
	n := len(mu)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return mu[idx[x]] > mu[idx[y]] })
	w := make([]float64, n)
	left, r := 1.0, 0.0
	for _, i := range idx {
		if left <= 0 {
			break
		}
		w[i] = math.Min(wmax, left)
		left -= w[i]
		r += mu[i] * w[i]
	}
	return r, w
}

// maxSharpe maximises (μ − rf)ᵀw/√(wᵀΣw) through the homogenised convex
// QP of Cornuejols and Tütüncü (2007, §8.2): minimise ½yᵀΣy subject to
// (μ − rf)ᵀy = 1 and y ≥ 0, with the cap wᵢ ≤ wmax written as
// yᵢ − wmax·Σⱼyⱼ ≤ 0; then w = y/Σy. It needs a feasible portfolio with a
// positive expected excess return, which fails in markets where every
// expected return is below the risk-free rate.
func (a *allocator) maxSharpe() (outcome, error) {
	if a.mu == nil {
		return outcome{}, errors.New("no expected returns")
	}
	n := a.n
	ex := make([]float64, n)
	for i := range ex {
		ex[i] = a.mu[i] - a.opt.RiskFree
	}
	if best, _ := maxReturn(ex, a.wmax); !(best > 0) {
		return outcome{}, fmt.Errorf("no feasible portfolio has a positive expected excess return (largest %.4g): the maximum Sharpe ratio is not attained", best)
	}
	qp := &optim.QP{
		P:     a.cov,
		A:     mat.NewDense(1, n, ex),
		B:     []float64{1},
		Lower: make([]float64, n),
	}
	if a.wmax < 1 {
		g := mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				g.Set(i, j, -a.wmax)
			}
			g.Set(i, i, 1-a.wmax)
		}
		qp.G, qp.H = g, make([]float64, n)
	}
	sol, err := a.solve(MaxSharpe, qp)
	if err != nil {
		return outcome{}, err
	}
	sum := 0.0
	for _, y := range sol.X {
		sum += y
	}
	if !(sum > 0) {
		return outcome{}, fmt.Errorf("homogenised solution sums to %v", sum)
	}
	w := make([]float64, n)
	for i, y := range sol.X {
		w[i] = y / sum
	}
	return outcome{w: w, kkt: sol.KKT, iter: sol.Iter}, nil
}

// efficientReturn minimises ½wᵀΣw subject to μᵀw ≥ target; when the target
// is above the largest feasible return it returns the maximum-return
// portfolio instead.
func (a *allocator) efficientReturn() (outcome, error) {
	if a.mu == nil {
		return outcome{}, errors.New("no expected returns")
	}
	target := a.opt.TargetReturn
	rmax, wmax := maxReturn(a.mu, a.wmax)
	if target > rmax+1e-12*math.Max(1, math.Abs(rmax)) {
		return outcome{w: wmax, fallback: fmt.Sprintf("target return %.6g is above the largest feasible expected return %.6g; using the maximum-return portfolio", target, rmax), used: MaxReturn}, nil
	}
	qp := a.budgetQP(a.cov, nil)
	qp.G = mat.NewDense(1, a.n, nil)
	for i, m := range a.mu {
		qp.G.(*mat.Dense).Set(0, i, -m)
	}
	qp.H = []float64{-target}
	sol, err := a.solve(EfficientReturn, qp)
	if err != nil {
		return outcome{}, err
	}
	return outcome{w: append([]float64(nil), sol.X...), kkt: sol.KKT, iter: sol.Iter}, nil
}

func ones(n int) []float64 { return constant(n, 1) }

func constant(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}
