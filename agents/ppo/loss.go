package ppo

import "math"

// lnSqrt2Pi is ½·ln(2π).
var lnSqrt2Pi = 0.5 * math.Log(2*math.Pi)

// logProb returns log N(u; μ, diag σ²) with σ = exp(logStd): the log
// density of the pre-softmax Gaussian sample (no change-of-variables term:
// it cancels in the probability ratio, and the entropy bonus is the
// Gaussian's).
func logProb(u, mu, logStd []float64) float64 {
	var lp float64
	for j, x := range u {
		z := (x - mu[j]) * math.Exp(-logStd[j])
		lp -= 0.5*z*z + logStd[j] + lnSqrt2Pi
	}
	return lp
}

// entropy returns the Gaussian's entropy Σ_j (½ + ½ln 2π + logσ_j).
func entropy(logStd []float64) float64 {
	var h float64
	for _, s := range logStd {
		h += 0.5 + lnSqrt2Pi + s
	}
	return h
}

// lossInput is one minibatch of M transitions with A action dimensions.
type lossInput struct {
	mu      []float64 // M×A, new policy means
	logStd  []float64 // A, new log standard deviations (per dimension)
	raw     []float64 // M×A, actions taken (Gaussian samples)
	oldLogp []float64 // M, log-probabilities under the rollout policy
	adv     []float64 // M, advantages (normalised by the caller if configured)
	ret     []float64 // M, value targets (GAE returns)
	oldV    []float64 // M, values at collection
	v       []float64 // M, new values
}

// lossGrad receives the gradient of the total loss.
type lossGrad struct {
	mu     []float64 // M×A, overwritten
	logStd []float64 // A, overwritten
	v      []float64 // M, overwritten
	invVar []float64 // A, scratch
}

func newLossGrad(m, a int) *lossGrad {
	return &lossGrad{mu: make([]float64, m*a), logStd: make([]float64, a), v: make([]float64, m), invVar: make([]float64, a)}
}

// lossStats are the minibatch's loss terms and diagnostics.
type lossStats struct {
	policy, value, entropy, total float64
	approxKL, oldApproxKL         float64
	clipFrac                      float64
}

// ppoLoss evaluates the PPO-clip objective of one minibatch and its
// gradient with respect to the policy means, the log standard deviations
// and the values (CleanRL's loss, written out):
//
//	ratio_i = exp(logπ(u_i) − logπ_old(u_i))
//	L_pg    = mean_i max(−Â_i·ratio_i, −Â_i·clip(ratio_i, 1−ε, 1+ε))
//	L_v     = ½·mean_i (v_i − R_i)²                        (unclipped)
//	        = ½·mean_i max((v_i−R_i)², (V_i + clip(v_i−V_i, −ε, ε) − R_i)²)
//	H       = mean_i Σ_j (½ + ½ln2π + logσ_j)
//	L       = L_pg − ent_coef·H + vf_coef·L_v
//
// Where the two branches of a max are equal the gradient is that of the
// unclipped branch (they coincide there except on the clip boundary).
func ppoLoss(g *lossGrad, in *lossInput, clip, entCoef, vfCoef float64, clipV bool) lossStats {
	m := len(in.v)
	a := len(in.logStd)
	inv := 1 / float64(m)
	var st lossStats
	invVar := g.invVar[:a]
	for j, s := range in.logStd {
		invVar[j] = math.Exp(-2 * s)
	}
	clear(g.logStd)
	for i := 0; i < m; i++ {
		u, mu := in.raw[i*a:(i+1)*a], in.mu[i*a:(i+1)*a]
		lp := logProb(u, mu, in.logStd)
		logRatio := lp - in.oldLogp[i]
		ratio := math.Exp(logRatio)
		st.approxKL += (ratio - 1) - logRatio
		st.oldApproxKL -= logRatio
		if math.Abs(ratio-1) > clip {
			st.clipFrac++
		}
		adv := in.adv[i]
		l1 := -adv * ratio
		l2 := -adv * math.Min(math.Max(ratio, 1-clip), 1+clip)
		var dlp float64 // d L_pg / d logπ(u_i)
		if l1 >= l2 {
			st.policy += l1
			dlp = -adv * ratio * inv
		} else {
			st.policy += l2
		}
		gm := g.mu[i*a : (i+1)*a]
		for j := range u {
			d := u[j] - mu[j]
			gm[j] = dlp * d * invVar[j]
			g.logStd[j] += dlp * (d*d*invVar[j] - 1)
		}

		diff := in.v[i] - in.ret[i]
		if clipV {
			vc := in.oldV[i] + math.Min(math.Max(in.v[i]-in.oldV[i], -clip), clip)
			dc := vc - in.ret[i]
			if diff*diff >= dc*dc {
				st.value += diff * diff
				g.v[i] = vfCoef * diff * inv
			} else {
				st.value += dc * dc
				g.v[i] = 0 // the clipped value is constant in v outside (V−ε, V+ε)
				if math.Abs(in.v[i]-in.oldV[i]) < clip {
					g.v[i] = vfCoef * dc * inv
				}
			}
		} else {
			st.value += diff * diff
			g.v[i] = vfCoef * diff * inv
		}
	}
	st.policy *= inv
	st.value *= 0.5 * inv
	st.approxKL *= inv
	st.oldApproxKL *= inv
	st.clipFrac *= inv
	st.entropy = entropy(in.logStd)
	for j := range g.logStd {
		g.logStd[j] -= entCoef
	}
	st.total = st.policy - entCoef*st.entropy + vfCoef*st.value
	return st
}

// predLoss returns the mean squared error between predictions and targets
// (equal lengths) scaled by coef, writing d(coef·MSE)/dpred into dpred.
func predLoss(dpred, pred, target []float64, coef float64) float64 {
	var s float64
	k := 2 * coef / float64(len(pred))
	for i, p := range pred {
		d := p - target[i]
		s += d * d
		dpred[i] = k * d
	}
	return s / float64(len(pred))
}

// normalise writes (x − mean)/(std + 1e-8) into dst, std with Bessel's
// correction (torch.Tensor.std, CleanRL's per-minibatch normalisation).
func normalise(dst, x []float64) {
	n := float64(len(x))
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= n
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	for i, v := range x {
		dst[i] = (v - mean) / (sd + 1e-8)
	}
}
