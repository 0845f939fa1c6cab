package env

import "math"

type rewardKind uint8

const (
	rwLogGrowth rewardKind = iota
	rwDSR
	rwDrawdown
	rwTurnover
	rwVolScaled
)

func parseReward(s string) rewardKind {
	switch s {
	case RewardDifferentialSharpe:
		return rwDSR
	case RewardDrawdownPenalised:
		return rwDrawdown
	case RewardTurnoverPenalised:
		return rwTurnover
	case RewardVolScaled:
		return rwVolScaled
	}
	return rwLogGrowth
}

// dsrMinVar is the variance estimate B − A² below which the differential
// Sharpe ratio is defined as 0: at the first step of an episode (A = B = 0)
// and while the portfolio has taken no risk (all cash), the Sharpe ratio and
// its derivative are undefined. 1e-16 is a per-bar standard deviation of
// 1e-8, far below any traded asset's.
const dsrMinVar = 1e-16

// rewarder holds the per-episode state of the stateful rewards.
type rewarder struct {
	kind  rewardKind
	eta   float64
	kappa float64
	floor float64

	a, b   float64 // DSR: EMAs of R and R² (Moody & Saffell)
	varEst float64 // vol_scaled: EMA of squared log growth
	dd     float64 // drawdown_penalised: drawdown after the last step
}

func (r *rewarder) reset() {
	r.a, r.b, r.dd = 0, 0, 0
	r.varEst = r.floor * r.floor
}

// reward returns the reward of a step with gross growth factor g = V_{t+1}/V_t
// (after all costs), turnover to and drawdown dd = 1 − V_{t+1}/peak.
func (r *rewarder) reward(g, to, dd float64) float64 {
	lg := math.Log(g)
	switch r.kind {
	case rwDSR:
		return r.dsr(g - 1)
	case rwDrawdown:
		inc := dd - r.dd
		r.dd = dd
		if inc > 0 {
			return lg - r.kappa*inc
		}
		return lg
	case rwTurnover:
		return lg - r.kappa*to
	case rwVolScaled:
		sd := max(math.Sqrt(r.varEst), r.floor)
		r.varEst += r.eta * (lg*lg - r.varEst)
		return lg / sd
	}
	return lg
}

// dsr returns the differential Sharpe ratio of return R and updates the
// moving averages (Moody & Wu 1997; Moody & Saffell 1998, 2001):
//
//	D_t = (B_{t−1}·ΔA_t − ½·A_{t−1}·ΔB_t) / (B_{t−1} − A²_{t−1})^{3/2},
//	ΔA_t = R_t − A_{t−1},  ΔB_t = R_t² − B_{t−1},
//	A_t = A_{t−1} + η·ΔA_t,  B_t = B_{t−1} + η·ΔB_t.
//
// D_t is the derivative of the moving Sharpe ratio A_t/√(B_t − A_t²) with
// respect to η at η = 0.
func (r *rewarder) dsr(ret float64) float64 {
	da, db := ret-r.a, ret*ret-r.b
	var d float64
	if v := r.b - r.a*r.a; v > dsrMinVar {
		d = (r.b*da - 0.5*r.a*db) / (v * math.Sqrt(v))
	}
	r.a += r.eta * da
	r.b += r.eta * db
	return d
}
