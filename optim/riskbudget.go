package optim

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// RiskBudgetSettings tunes the risk-budgeting solvers. The zero value
// selects every default.
type RiskBudgetSettings struct {
	// Tol is the stopping tolerance on max_i |RCᵢ − bᵢ|, where
	// RCᵢ = wᵢ(Σw)ᵢ / wᵀΣw are the risk contributions as fractions of the
	// portfolio variance. Zero means 1e-10.
	Tol float64
	// MaxIter bounds the Newton iterations (RiskBudget, default 100) or the
	// coordinate sweeps (RiskBudgetCCD, default 100000).
	MaxIter int
	// WarmSweeps bounds the coordinate-descent sweeps RiskBudgeter runs
	// before its Newton iterations (see RiskBudgeter). Zero means 20; a
	// negative value turns the warm start off (pure Newton).
	WarmSweeps int
}

// RiskBudgetResult reports a risk-budgeting solve.
type RiskBudgetResult struct {
	// Iter counts Newton iterations (each one Cholesky factorisation), or
	// sweeps for RiskBudgetCCD; for SolveCapped those of Solve plus those
	// of the capped phase.
	Iter int
	// Sweeps counts the coordinate-descent sweeps of RiskBudgeter's warm
	// start (each O(n²), against O(n³) for a Newton iteration).
	Sweeps int
	// RCError is the risk-contribution residual at the returned weights:
	// max_i |RCᵢ − bᵢ| for Solve, and for SolveCapped the largest of
	// |RCᵢ − θbᵢ| over the assets below their cap and (RCᵢ − θbᵢ)₊ over the
	// assets at it (θ = Scale), which is max_i |RCᵢ − bᵢ| again when no cap
	// binds.
	RCError float64
	// Scale is θ = λ/wᵀΣw of the capped problem (see SolveCapped): the
	// assets below their cap have risk contributions θbᵢ. It is 1 when no
	// cap binds and at least 1 otherwise.
	Scale float64
	// Capped counts the assets held at their cap.
	Capped int
	// KKT are the residuals of the optimality conditions in units of risk
	// contributions (fractions of wᵀΣw): Primal is the largest of |Σw − 1|
	// and the bound violations, Stationarity and Dual the two parts of
	// RCError (free assets, capped assets), Complementarity is zero by
	// construction (an asset is either at its cap with a multiplier or
	// below it without one).
	KKT KKT
	// Lambdas counts the values of λ tried by SolveCapped's outer
	// iteration (0 when no cap binds).
	Lambdas int
}

// ErrDegenerate is returned when a risk budget cannot be met, because an
// asset with a positive budget has zero variance.
var ErrDegenerate = errors.New("optim: risk budget is degenerate")

// RiskBudgeter finds long-only, fully invested weights whose risk
// contributions equal given budgets, by Newton's method on the convex
// problem of Spinu (2013) and Bai, Scheinberg and Tutuncu (2016):
//
//	minimise  f(y) = ½ yᵀΣy − Σᵢ bᵢ log yᵢ   over y > 0,
//
// whose stationarity condition yᵢ(Σy)ᵢ = bᵢ makes w = y/Σy have risk
// contributions RCᵢ = bᵢ (and yᵀΣy = Σb = 1 at the optimum). f is strictly
// convex on y > 0 for a positive semidefinite Σ, and it has a (unique)
// minimiser when no long-only combination of the assets has zero variance
// (in particular when Σ is positive definite).
//
// Each iteration solves (Σ + diag(b/y²)) d = −∇f by Cholesky. When the
// Newton decrement of the self-concordant f/b_min is below 1/4 the full
// step is taken (quadratic convergence region); otherwise y + αd > 0 is
// kept by a fraction-to-the-boundary rule (α ≤ 0.99 of the distance) and
// α is halved until the Armijo condition holds. The start is the
// diagonal-Σ solution yᵢ = √bᵢ/σᵢ scaled to yᵀΣy = 1, exact when the
// correlations are all equal. Assets with a zero budget get zero weight and
// are left out of the problem.
//
// Before the Newton iterations it runs up to Settings.WarmSweeps sweeps of
// cyclical coordinate descent (see RiskBudgetCCD) while they make fast
// progress (each sweep cutting the error at least in half) and the error
// is above √(Tol·min b), from where one Newton iteration is expected to
// reach Tol. A sweep costs O(n²) against the O(n³/3) of a factorisation;
// on covariance matrices of the kind used here (one dominant factor) three
// to five sweeps reach the switch point and one Newton iteration then
// lands below Tol (RC errors 2e-12 to 6e-11 on the benchmark problems,
// n = 10 to 200), where Newton from the diagonal start needs four or five
// factorisations. The last iteration is always
// Newton's, so the result does not depend on the warm start beyond
// rounding.
//
// The zero value is ready to use; it reuses its workspace and is not safe
// for concurrent use.
type RiskBudgeter struct {
	Settings RiskBudgetSettings
	w        rbWork
}

type rbWork struct {
	bmin                                  float64
	idx                                   []int
	s, h                                  []float64
	b, y, sy, g, d, sd, yt, tmp, sig, ful []float64

	// SolveCapped: the caps of the kept assets, which of them are held at
	// the cap, the free indices and dx_F/dλ.
	u, q []float64
	at   []bool
	fidx []int
}

// RiskBudget solves with a fresh RiskBudgeter; see RiskBudgeter.Solve.
func RiskBudget(dst []float64, cov mat.Symmetric, budgets []float64, set *RiskBudgetSettings) (RiskBudgetResult, error) {
	var s RiskBudgeter
	if set != nil {
		s.Settings = *set
	}
	return s.Solve(dst, cov, budgets)
}

// Solve writes into dst (length n) the weights whose risk contributions
// under cov are the budgets, and reports iterations and the final error.
// budgets may be nil for equal risk contributions (bᵢ = 1/n); otherwise
// they must be non-negative and sum to 1 (within 1e-9; they are then
// rescaled to sum exactly to 1). It returns an error wrapping ErrInvalid
// for bad budgets or NaN in cov, ErrDegenerate when an asset with a
// positive budget has zero variance, and ErrIterationLimit (with dst holding
// the last iterate) when MaxIter is reached. It panics if the lengths
// disagree.
func (s *RiskBudgeter) Solve(dst []float64, cov mat.Symmetric, budgets []float64) (RiskBudgetResult, error) {
	w := &s.w
	m, err := w.setup(dst, cov, budgets)
	if err != nil {
		return RiskBudgetResult{}, err
	}
	tol, maxIter := s.Settings.Tol, s.Settings.MaxIter
	if tol <= 0 {
		tol = 1e-10
	}
	if maxIter <= 0 {
		maxIter = 100
	}
	impl := blas64.Implementation()
	b, y, sy, g, d, sd, yt := w.b[:m], w.y[:m], w.sy[:m], w.g[:m], w.d[:m], w.sd[:m], w.yt[:m]
	var res RiskBudgetResult
	if warm := s.Settings.WarmSweeps; warm >= 0 {
		if warm == 0 {
			warm = 20
		}
		// Newton converges quadratically in the relative error of the
		// contributions, eₖ₊₁/b ≈ (eₖ/b)², so from e ≤ √(tol·b_min) one
		// iteration is expected to reach tol.
		switchTol := math.Sqrt(tol * w.bmin)
		symMulVec(sy, w.s, m, y)
		prev := rcError(y, sy, b, dot(y, sy))
		for res.Sweeps < warm && prev > switchTol {
			copy(yt, y)
			w.sweep(m)
			res.Sweeps++
			e := rcError(y, sy, b, dot(y, sy))
			if !(e <= 0.5*prev) {
				if !(e <= prev) {
					copy(y, yt) // keep the better point
				}
				break
			}
			prev = e
		}
	}
	for {
		symMulVec(sy, w.s, m, y)
		vy := dot(y, sy)
		res.RCError = rcError(y, sy, b, vy)
		if res.RCError <= tol {
			break
		}
		if res.Iter >= maxIter {
			w.scatter(dst, y)
			return res, fmt.Errorf("%w: risk budgeting: %d Newton iterations, RC error %g", ErrIterationLimit, res.Iter, res.RCError)
		}
		res.Iter++
		// Newton system (Σ + diag(b/y²)) d = −g with g = Σy − b/y.
		h := w.h[:m*m]
		copy(h, w.s[:m*m])
		for i := range m {
			g[i] = sy[i] - b[i]/y[i]
			h[i*m+i] += b[i] / (y[i] * y[i])
			d[i] = -g[i]
		}
		if !cholesky(h, m, 0, w.tmp) {
			w.scatter(dst, y)
			return res, fmt.Errorf("%w: risk budgeting: Newton matrix not positive definite", ErrNotConvex)
		}
		cholSolve(h, m, d)
		slope := dot(g, d)
		// f/b_min is self-concordant (each −(bᵢ/b_min) log yᵢ has a
		// coefficient ≥ 1), with Newton decrement λ² = −gᵀd/b_min. For
		// λ < 1/4 the full step stays inside y > 0 and converges
		// quadratically (Nesterov 2004, Thm 4.1.14), so it is taken without a
		// line search, which near the solution could only fail on rounding
		// (the decrease −gᵀd falls below the precision of f).
		if -slope < 0.0625*w.bmin {
			for i := range m {
				y[i] += d[i]
			}
			continue
		}
		alpha := 1.0
		for i := range m {
			if d[i] < 0 {
				alpha = math.Min(alpha, -0.99*y[i]/d[i])
			}
		}
		// f along the ray costs O(m) per trial given Σd: Σ(y+αd) = Σy + αΣd.
		impl.Dgemv(blas.NoTrans, m, m, 1, w.s, m, d, 1, 0, sd, 1)
		f0 := 0.5 * vy
		for i := range m {
			f0 -= b[i] * math.Log(y[i])
		}
		for {
			ft := 0.0
			for i := range m {
				yt[i] = y[i] + alpha*d[i]
				ft += 0.5*yt[i]*(sy[i]+alpha*sd[i]) - b[i]*math.Log(yt[i])
			}
			if ft <= f0+1e-4*alpha*slope || alpha < 1e-12 {
				break
			}
			alpha *= 0.5
		}
		copy(y, yt)
	}
	w.scatter(dst, y)
	res.Scale = 1
	res.KKT = KKT{Primal: math.Abs(sum(dst) - 1), Stationarity: res.RCError}
	return res, nil
}

// RiskBudgetCCD solves the same problem as RiskBudgeter by cyclical
// coordinate descent (Griveau-Billion, Richard and Roncalli 2013): each
// coordinate in turn minimises f exactly,
//
//	yᵢ ← (−cᵢ + √(cᵢ² + 4Σᵢᵢbᵢ)) / (2Σᵢᵢ),  cᵢ = (Σy)ᵢ − Σᵢᵢyᵢ,
//
// keeping Σy up to date in O(n) per coordinate. It converges linearly, so it
// needs many more (but cheaper, O(n²)) sweeps than Newton needs
// iterations; it is the independent second method against which the
// Newton solver is tested, and a fallback that never factorises a matrix.
// Arguments and errors are as for RiskBudgeter.Solve; Iter counts sweeps.
func RiskBudgetCCD(dst []float64, cov mat.Symmetric, budgets []float64, set *RiskBudgetSettings) (RiskBudgetResult, error) {
	var w rbWork
	m, err := w.setup(dst, cov, budgets)
	if err != nil {
		return RiskBudgetResult{}, err
	}
	tol, maxIter := 1e-10, 100000
	if set != nil && set.Tol > 0 {
		tol = set.Tol
	}
	if set != nil && set.MaxIter > 0 {
		maxIter = set.MaxIter
	}
	b, y, sy := w.b[:m], w.y[:m], w.sy[:m]
	symMulVec(sy, w.s, m, y)
	var res RiskBudgetResult
	for {
		res.RCError = rcError(y, sy, b, dot(y, sy))
		if res.RCError <= tol {
			// Confirm with a freshly computed Σy: the running one drifts.
			symMulVec(sy, w.s, m, y)
			res.RCError = rcError(y, sy, b, dot(y, sy))
			if res.RCError <= tol {
				break
			}
		}
		if res.Iter >= maxIter {
			w.scatter(dst, y)
			return res, fmt.Errorf("%w: risk budgeting (CCD): %d sweeps, RC error %g", ErrIterationLimit, res.Iter, res.RCError)
		}
		res.Iter++
		w.sweep(m)
	}
	w.scatter(dst, y)
	return res, nil
}

// sweep runs one cycle of coordinate descent over y, keeping sy = Σy up to
// date.
func (w *rbWork) sweep(m int) {
	impl := blas64.Implementation()
	b, y, sy := w.b[:m], w.y[:m], w.sy[:m]
	for i := range m {
		sii := w.s[i*m+i]
		c := sy[i] - sii*y[i]
		yi := (-c + math.Sqrt(c*c+4*sii*b[i])) / (2 * sii)
		if delta := yi - y[i]; delta != 0 {
			impl.Daxpy(m, delta, w.s[i*m:i*m+m], 1, sy, 1)
			y[i] = yi
		}
	}
}

// rcError returns max_i |yᵢ(Σy)ᵢ/yᵀΣy − bᵢ|.
func rcError(y, sy, b []float64, vy float64) float64 {
	e := 0.0
	for i := range y {
		e = math.Max(e, math.Abs(y[i]*sy[i]/vy-b[i]))
	}
	if math.IsNaN(vy) || vy <= 0 {
		return math.Inf(1)
	}
	return e
}

// setup validates the inputs, keeps the assets with positive budgets
// (their indices in idx), copies their covariance block into s and sets
// the starting point. It returns the number m of assets kept.
func (w *rbWork) setup(dst []float64, cov mat.Symmetric, budgets []float64) (int, error) {
	n := cov.SymmetricDim()
	if len(dst) != n {
		panic(fmt.Sprintf("optim: len(dst) = %d, want %d", len(dst), n))
	}
	if budgets != nil && len(budgets) != n {
		panic(fmt.Sprintf("optim: len(budgets) = %d, want %d", len(budgets), n))
	}
	sum := 0.0
	for i := range n {
		bi := 1 / float64(n)
		if budgets != nil {
			bi = budgets[i]
		}
		if !(bi >= 0) || math.IsInf(bi, 0) {
			return 0, fmt.Errorf("%w: budget %d is %v; budgets must be finite and non-negative", ErrInvalid, i, bi)
		}
		sum += bi
	}
	if math.Abs(sum-1) > 1e-9 {
		return 0, fmt.Errorf("%w: budgets sum to %.17g, want 1", ErrInvalid, sum)
	}
	w.ful = grow(w.ful, n*n)
	copySym(w.ful, cov)
	for _, v := range w.ful {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: covariance has a non-finite entry", ErrInvalid)
		}
	}
	w.idx = w.idx[:0]
	for i := range n {
		if budgets == nil || budgets[i] > 0 {
			w.idx = append(w.idx, i)
		}
	}
	m := len(w.idx)
	w.s = grow(w.s, m*m)
	w.h = grow(w.h, m*m)
	for _, s := range []*[]float64{&w.b, &w.y, &w.sy, &w.g, &w.d, &w.sd, &w.yt, &w.tmp, &w.sig} {
		*s = grow(*s, m)
	}
	for a, i := range w.idx {
		for c, j := range w.idx {
			w.s[a*m+c] = w.ful[i*n+j]
		}
		if budgets == nil {
			w.b[a] = 1 / float64(n)
		} else {
			w.b[a] = budgets[i] / sum
		}
		v := w.s[a*m+a]
		if !(v > 0) {
			return 0, fmt.Errorf("%w: asset %d has variance %v and budget %v", ErrDegenerate, i, v, w.b[a])
		}
		w.sig[a] = math.Sqrt(v)
		w.y[a] = math.Sqrt(w.b[a]) / w.sig[a]
	}
	w.bmin = math.Inf(1)
	for _, v := range w.b[:m] {
		w.bmin = math.Min(w.bmin, v)
	}
	symMulVec(w.sy[:m], w.s, m, w.y[:m])
	scale := 1 / math.Sqrt(dot(w.y[:m], w.sy[:m]))
	for a := range m {
		w.y[a] *= scale
	}
	return m, nil
}

// scatter writes w = y/Σy into dst at the kept indices and zero elsewhere.
func (w *rbWork) scatter(dst, y []float64) {
	clear(dst)
	sum := 0.0
	for _, v := range y {
		sum += v
	}
	for a, i := range w.idx {
		dst[i] = y[a] / sum
	}
}

// RiskContributions writes into dst the risk contributions of the weights
// w under cov as fractions of the portfolio variance,
// RCᵢ = wᵢ(Σw)ᵢ / wᵀΣw, which sum to 1. If dst is nil a new slice is
// allocated. When wᵀΣw is not positive the contributions are undefined and
// dst is filled with NaN.
func RiskContributions(dst []float64, cov mat.Symmetric, w []float64) []float64 {
	n := cov.SymmetricDim()
	if len(w) != n {
		panic(fmt.Sprintf("optim: len(w) = %d, want %d", len(w), n))
	}
	if dst == nil {
		dst = make([]float64, n)
	}
	sw := mat.NewVecDense(n, nil)
	sw.MulVec(cov, mat.NewVecDense(n, w))
	v := mat.Dot(sw, mat.NewVecDense(n, w))
	for i := range n {
		if v > 0 {
			dst[i] = w[i] * sw.AtVec(i) / v
		} else {
			dst[i] = math.NaN()
		}
	}
	return dst
}
