package features

import (
	"github.com/folio-rl/folio/vol"
)

// garchRun is the outcome of one asset's GARCH refit schedule. Variances
// are in percent² of log returns (the series fitted is 100·ret).
type garchRun struct {
	params []vol.GARCH // parameters of each successful refit, in order
	regime []int32     // regime[t]: index into params in force at bar t, −1 before the first successful fit
	cond   []float64   // cond[t] = σ²_{t|t−1}: conditional variance of ret[t] under params[regime[t]]
	next   []float64   // next[t] = σ²_{t+1|t}: one-step-ahead forecast made at the end of bar t
}

// runGarch runs the refit schedule of Config over the log returns ret
// (ret[0] is not a return). Refit bars are t = GarchMinBars + k·GarchRefit
// (k = 0, 1, …): at a refit bar, vol.FitGARCH estimates the parameters on
// 100·ret over the window ending at t (returns 1..t when expanding, the
// last GarchWindow returns when rolling), warm-started from the previous
// successful fit, and the fit's own filter gives cond[t] and next[t].
// Between refits the recursion continues with those parameters:
// cond[t] = next[t−1], next[t] = ω + α(100·ret[t] − μ)² + β·cond[t].
// Every quantity at bar t therefore uses ret[1..t] only. A refit that
// fails leaves the previous parameters in force (or the fallback, before
// the first success).
func runGarch(ret []float64, c Config) (*garchRun, Report) {
	T := len(ret)
	g := &garchRun{regime: make([]int32, T), cond: make([]float64, T), next: make([]float64, T)}
	r := make([]float64, T)
	for t := 1; t < T; t++ {
		r[t] = 100 * ret[t]
	}
	var rep Report
	var prev *vol.GARCHFit
	var theta vol.GARCH
	var next float64
	have := false
	g.regime[0] = -1
	for t := 1; t < T; t++ {
		if t >= c.GarchMinBars && (t-c.GarchMinBars)%c.GarchRefit == 0 {
			from := 1
			if c.GarchWindow > 0 {
				from = max(1, t-c.GarchWindow+1)
			}
			fit, err := vol.FitGARCH(r[from:t+1], &vol.FitOptions{NoStdErr: true, Prev: prev})
			if err != nil {
				rep.GarchFailed++
			} else {
				rep.GarchFits++
				if !fit.Converged {
					rep.GarchNotConverged++
				}
				if fit.NearUnitRoot {
					rep.GarchNearUnitRoot++
				}
				prev, theta, have = fit, fit.Params, true
				g.params = append(g.params, theta)
				g.regime[t] = int32(len(g.params) - 1)
				g.cond[t], g.next[t] = fit.LastVariance, fit.NextVariance
				next = fit.NextVariance
				continue
			}
		}
		if !have {
			g.regime[t] = -1
			continue
		}
		g.regime[t] = int32(len(g.params) - 1)
		cond := next
		e := r[t] - theta.Mu
		next = theta.Omega + theta.Alpha*e*e + theta.Beta*cond
		g.cond[t], g.next[t] = cond, next
	}
	return g, rep
}
