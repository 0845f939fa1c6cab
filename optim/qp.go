package optim

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// QP is a dense convex quadratic programme:
//
//	minimise    ½ xᵀPx + qᵀx
//	subject to  A x = b,  G x ≤ h,  Lower ≤ x ≤ Upper.
//
// P must be symmetric positive semidefinite. Every part but P may be nil:
// nil Q means q = 0, nil A (with nil B) no equalities, nil G (with nil H) no
// general inequalities, nil Lower or Upper no bound on that side. Individual
// bounds may be ±Inf. The solver only reads a QP.
type QP struct {
	P mat.Symmetric // n×n, positive semidefinite
	Q []float64     // length n, or nil

	A mat.Matrix // me×n equality rows, or nil
	B []float64  // length me

	G mat.Matrix // mi×n inequality rows (G x ≤ h), or nil
	H []float64  // length mi

	Lower []float64 // length n, or nil; -Inf for a free side
	Upper []float64 // length n, or nil; +Inf for a free side
}

// Settings tunes a QP solve. The zero value selects every default.
type Settings struct {
	// Tol is the feasibility tolerance used to decide whether a constraint is
	// violated: constraint k, written nₖᵀx ≥ bₖ, is violated when
	// (nₖᵀx − bₖ)/‖nₖ‖ < −Tol·(1 + |bₖ|/‖nₖ‖). Zero means 1e-12. Solutions
	// satisfy every constraint to about this tolerance in that scaled sense.
	Tol float64
	// MaxIter bounds the number of dual active-set iterations (one per
	// constraint added or dropped) of each dual solve (one per proximal
	// step when a ridge is used). Zero means 10·(3n + me + mi) + 100,
	// ten times the largest possible number of constraints plus a margin;
	// the method itself needs about as many iterations as there are active
	// constraints at the solution.
	MaxIter int
	// Ridge is the multiple of the identity added to P when P is not
	// numerically positive definite. Zero means 1e-7 times the mean of P's
	// diagonal (or 1e-7 if that is zero). It is used only when the Cholesky
	// factorisation of P fails.
	Ridge float64
	// MaxProx bounds the proximal-point iterations run when a ridge was
	// needed (see Solution.Ridge). Zero means 200.
	MaxProx int
}

// Status says how a solve ended.
type Status int

// Solve statuses.
const (
	// Optimal: every constraint is satisfied to Settings.Tol and the
	// multipliers of the active inequalities are non-negative.
	Optimal Status = iota + 1
	// Infeasible: the constraints have no common point (the dual is
	// unbounded).
	Infeasible
	// IterationLimit: Settings.MaxIter or Settings.MaxProx was reached.
	IterationLimit
	// NotConvex: P is not positive semidefinite (its Cholesky factorisation
	// failed even after the ridge).
	NotConvex
)

func (s Status) String() string {
	switch s {
	case Optimal:
		return "optimal"
	case Infeasible:
		return "infeasible"
	case IterationLimit:
		return "iteration limit"
	case NotConvex:
		return "not convex"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Errors returned by the solvers. Use errors.Is: they are wrapped with
// context.
var (
	ErrInfeasible     = errors.New("optim: problem is infeasible")
	ErrIterationLimit = errors.New("optim: iteration limit reached")
	ErrNotConvex      = errors.New("optim: matrix is not positive semidefinite")
	ErrInvalid        = errors.New("optim: invalid problem data")
)

// KKT holds the residuals of the Karush–Kuhn–Tucker conditions at a
// solution, all in absolute terms and infinity norms, evaluated on the
// problem as given (without any ridge). With the Lagrangian
//
//	½xᵀPx + qᵀx + νᵀ(Ax − b) + λᵀ(Gx − h) + λₗᵀ(lo − x) + λᵤᵀ(x − hi)
//
// they are:
type KKT struct {
	// Primal is the largest constraint violation: |Ax − b|, (Gx − h)₊,
	// (lo − x)₊, (x − hi)₊.
	Primal float64
	// Dual is the largest negative part of an inequality or bound
	// multiplier (λ, λₗ, λᵤ must be ≥ 0).
	Dual float64
	// Complementarity is the largest |multiplier × slack| over the
	// inequalities and bounds.
	Complementarity float64
	// Stationarity is ‖Px + q + Aᵀν + Gᵀλ − λₗ + λᵤ‖∞.
	Stationarity float64
}

// Max returns the largest of the four residuals.
func (k KKT) Max() float64 {
	return math.Max(math.Max(k.Primal, k.Dual), math.Max(k.Complementarity, k.Stationarity))
}

// Solution is the result of a QP solve.
type Solution struct {
	X         []float64 // minimiser, length n
	Objective float64   // ½xᵀPx + qᵀx at X, with the P given (no ridge)
	Status    Status
	// Iter counts dual active-set iterations (constraint additions and
	// drops), summed over proximal iterations.
	Iter int
	// Ridge is the multiple of the identity that was added to P because P
	// was not numerically positive definite, or 0. When it is positive the
	// solver ran the proximal-point method (each step a QP with P + Ridge·I
	// and the linear term shifted by −Ridge·xₖ), whose fixed point solves
	// the original problem; Prox counts those steps.
	Ridge float64
	Prox  int
	// Multipliers, signs as in the Lagrangian documented on KKT: Eq (length
	// me, free sign), Ineq (length mi), Lower and Upper (length n; zero for
	// absent bounds). Inequality multipliers are non-negative.
	Eq, Ineq, Lower, Upper []float64
	// Active lists the constraints active at the solution, in the order
	// they were added: equalities as 0..me-1, inequality rows as me..me+mi-1,
	// lower bounds as me+mi+j and upper bounds as me+mi+n+j.
	Active []int
	KKT    KKT
}

// SolveQP solves p with the Goldfarb–Idnani dual active-set method (see
// QPSolver). set may be nil for the defaults. It allocates a fresh
// workspace; use a QPSolver to reuse one across solves.
func SolveQP(p *QP, set *Settings) (*Solution, error) {
	var s QPSolver
	if set != nil {
		s.Settings = *set
	}
	sol := new(Solution)
	err := s.Solve(sol, p)
	return sol, err
}

// QPSolver solves dense convex QPs with the dual active-set method of
// Goldfarb and Idnani (1983), in the numerically stable form of Powell's and
// Turlach's implementations (quadprog): it keeps J = L⁻ᵀQ and the upper
// triangular R of the QR factorisation of L⁻¹N, where P = LLᵀ and N holds
// the active constraint normals, updating both with Householder reflections
// (additions) and Givens rotations (drops). It starts from the unconstrained
// minimiser −P⁻¹q and adds violated constraints one at a time, each step
// keeping the dual feasible, so it terminates in a finite number of steps
// with the exact solution up to rounding, or proves infeasibility.
//
// Bounds are handled as constraints with unit normals, which makes their
// slacks and their products with J cost O(n) rather than O(n²).
//
// P must be positive definite for the method; when its Cholesky
// factorisation fails, the solver adds a ridge ρI and iterates the proximal
// point method x₊ = argmin ½xᵀPx + qᵀx + ½ρ‖x − x₀‖² over the constraints,
// whose fixed points are exactly the solutions of the original problem. The
// ridge and the number of proximal steps are reported in the Solution.
//
// The zero value is ready to use. A QPSolver reuses its workspace across
// calls and is not safe for concurrent use.
type QPSolver struct {
	Settings Settings
	w        giWork
}

// Solve solves p and writes the result into dst, reusing dst's slices when
// they are large enough. It panics if the dimensions of p disagree
// (a programming error) and returns an error wrapping ErrInvalid for NaN
// data or Lower > Upper, ErrInfeasible, ErrIterationLimit or ErrNotConvex;
// dst.Status agrees with the error and dst.X holds the last iterate.
func (s *QPSolver) Solve(dst *Solution, p *QP) error {
	n, me, mi := checkDims(p)
	w := &s.w
	w.setup(p, n, me, mi, &s.Settings)
	dst.X = grow(dst.X, n)
	dst.Eq = grow(dst.Eq, me)
	dst.Ineq = grow(dst.Ineq, mi)
	dst.Lower = grow(dst.Lower, n)
	dst.Upper = grow(dst.Upper, n)
	dst.Ridge, dst.Prox, dst.Iter = 0, 0, 0
	dst.Active = dst.Active[:0]
	if err := w.validate(); err != nil {
		dst.Status = 0
		for i := range dst.X {
			dst.X[i] = math.NaN()
		}
		return err
	}

	status, err := w.run(dst)
	dst.Status = status
	copy(dst.X, w.x)
	w.multipliers(dst)
	dst.Objective = w.objective(dst.X)
	dst.KKT = w.kkt(dst)
	return err
}

func checkDims(p *QP) (n, me, mi int) {
	if p.P == nil {
		panic("optim: QP.P is nil")
	}
	n = p.P.SymmetricDim()
	if p.Q != nil && len(p.Q) != n {
		panic(fmt.Sprintf("optim: len(Q) = %d, want %d", len(p.Q), n))
	}
	if p.A != nil {
		r, c := p.A.Dims()
		if c != n || len(p.B) != r {
			panic(fmt.Sprintf("optim: A is %d×%d and len(B) = %d, want %d columns and %d values", r, c, len(p.B), n, r))
		}
		me = r
	} else if len(p.B) != 0 {
		panic("optim: B given without A")
	}
	if p.G != nil {
		r, c := p.G.Dims()
		if c != n || len(p.H) != r {
			panic(fmt.Sprintf("optim: G is %d×%d and len(H) = %d, want %d columns and %d values", r, c, len(p.H), n, r))
		}
		mi = r
	} else if len(p.H) != 0 {
		panic("optim: H given without G")
	}
	if p.Lower != nil && len(p.Lower) != n {
		panic(fmt.Sprintf("optim: len(Lower) = %d, want %d", len(p.Lower), n))
	}
	if p.Upper != nil && len(p.Upper) != n {
		panic(fmt.Sprintf("optim: len(Upper) = %d, want %d", len(p.Upper), n))
	}
	return n, me, mi
}
