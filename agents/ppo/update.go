package ppo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/nets"
)

// Stats reports one PPO update. Losses, entropy, clip fraction and
// gradient norm are means over the minibatches taken; ApproxKL and
// OldApproxKL are those of the last minibatch (CleanRL logs the same).
type Stats struct {
	PolicyLoss        float64 // clipped surrogate
	ValueLoss         float64 // ½·(clipped) squared error, before vf_coef
	Entropy           float64 // Gaussian entropy per step (nats)
	PredLoss          float64 // dynamic embedding's prediction MSE, before pred_coef (0 without)
	ApproxKL          float64 // mean((r−1) − log r), Schulman's k3 estimator
	OldApproxKL       float64 // mean(−log r)
	ClipFrac          float64 // fraction of |r−1| > clip_coef
	ExplainedVariance float64 // 1 − Var[R−V]/Var[R] over the rollout (NaN if Var[R] = 0)
	GradNorm          float64 // global gradient norm before clipping
	LearningRate      float64
	Std               float64 // mean σ of the Gaussian over logits
	Exposure          float64 // mean fraction of capital at risk in the rollout (1 − cash weight)
	Epochs            int     // epochs started
	Minibatches       int     // gradient steps taken
	EarlyStop         bool    // stopped by target_kl
}

// AppendMetrics appends the stats under "train/" keys.
func (s Stats) AppendMetrics(dst []agents.Metric) []agents.Metric {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	return append(dst,
		agents.Metric{Key: "train/policy_loss", Value: s.PolicyLoss},
		agents.Metric{Key: "train/value_loss", Value: s.ValueLoss},
		agents.Metric{Key: "train/entropy", Value: s.Entropy},
		agents.Metric{Key: "train/pred_loss", Value: s.PredLoss},
		agents.Metric{Key: "train/approx_kl", Value: s.ApproxKL},
		agents.Metric{Key: "train/old_approx_kl", Value: s.OldApproxKL},
		agents.Metric{Key: "train/clipfrac", Value: s.ClipFrac},
		agents.Metric{Key: "train/explained_variance", Value: s.ExplainedVariance},
		agents.Metric{Key: "train/grad_norm", Value: s.GradNorm},
		agents.Metric{Key: "train/learning_rate", Value: s.LearningRate},
		agents.Metric{Key: "train/std", Value: s.Std},
		agents.Metric{Key: "train/exposure", Value: s.Exposure},
		agents.Metric{Key: "train/epochs", Value: float64(s.Epochs)},
		agents.Metric{Key: "train/minibatches", Value: float64(s.Minibatches)},
		agents.Metric{Key: "train/early_stop", Value: b(s.EarlyStop)},
	)
}

// updateScratch holds every buffer an update needs, allocated once.
type updateScratch struct {
	rew, adv, ret, finalV, nextV []float64 // per transition (nextV per env)
	done                         []bool
	trunc                        []int     // transitions truncated (not terminated) this rollout
	truncV                       []float64 // V(final observation) of those
	targets                      []float64 // per transition, 2N (dynamic embedding)
	idx                          []int
	// minibatch gathers
	raw, oldLogp, mbAdv, advN, ret2, oldV, mbTarget []float64
	lg                                              *lossGrad
	dLogStd                                         []float64
}

func newUpdateScratch(a *Agent) updateScratch {
	n := a.cfg.NumEnvs * a.cfg.NumSteps
	mb := a.cfg.MinibatchSize()
	s := updateScratch{
		rew: make([]float64, n), adv: make([]float64, n), ret: make([]float64, n), finalV: make([]float64, n),
		nextV: make([]float64, a.cfg.NumEnvs), done: make([]bool, n), idx: make([]int, n), trunc: make([]int, 0, n), truncV: make([]float64, n),
		raw: make([]float64, mb*a.adim), oldLogp: make([]float64, mb), mbAdv: make([]float64, mb),
		advN: make([]float64, mb), ret2: make([]float64, mb), oldV: make([]float64, mb),
		dLogStd: make([]float64, a.ac.LogStd.Len()),
	}
	if a.ac.Pred >= 0 {
		s.targets = make([]float64, n*2*a.n)
		s.mbTarget = make([]float64, mb*2*a.n)
	}
	// The loss writes its gradients straight into the engine's output
	// gradient buffers, which live as long as the engine.
	s.lg = &lossGrad{mu: a.train.OutputGrad(a.ac.Logits), v: a.train.OutputGrad(a.ac.Value),
		logStd: make([]float64, a.adim), invVar: make([]float64, a.adim)}
	return s
}

// Update runs PPO on a filled rollout: bootstrap truncated rewards,
// compute GAE advantages, then update_epochs passes of shuffled
// minibatches of clipped-surrogate, value and entropy (and prediction)
// loss steps. It is atomic: on cancellation (checked at minibatch
// boundaries) or a non-finite loss or gradient norm, the parameters and
// optimiser state are restored to their values before the call and the
// error is returned.
func (a *Agent) Update(ctx context.Context, r *agents.Rollout, rng *rand.Rand) (agents.Stats, error) {
	if err := a.checkRollout(r); err != nil {
		return nil, err
	}
	cfg, s := &a.cfg, &a.upd
	n, mb := r.Len(), cfg.MinibatchSize()
	var st Stats

	// Learning rate, annealed linearly over the budget (CleanRL's frac).
	lr := cfg.LearningRate
	if cfg.AnnealLR {
		lr *= 1 - r.Progress
	}
	st.LearningRate = lr

	// Rewards; at truncations add γ·V(final observation) (SB3).
	copy(s.rew, r.Reward)
	for k := range s.done {
		s.done[k] = r.Terminated[k] || r.Truncated[k]
	}
	if cfg.BootstrapTruncated {
		// V(final observation) only where an episode was truncated.
		s.trunc = s.trunc[:0]
		for k := range s.done {
			if r.Truncated[k] && !r.Terminated[k] {
				s.trunc = append(s.trunc, k)
			}
		}
		vals := s.truncV[:len(s.trunc)]
		if err := a.valuesTo(vals, func(i int) []float64 {
			d, k := a.obsDim, s.trunc[i]
			return r.FinalObs[k*d : (k+1)*d]
		}); err != nil {
			return nil, fmt.Errorf("ppo: update: %w", err)
		}
		for i, k := range s.trunc {
			s.finalV[k] = vals[i]
		}
		agents.BootstrapTruncated(s.rew, r.Terminated, r.Truncated, s.finalV, cfg.Gamma)
	}

	// Generalised advantage estimation, bootstrapping from V(next obs).
	if err := a.valuesTo(s.nextV, func(e int) []float64 {
		d := a.obsDim
		return r.NextObs[e*d : (e+1)*d]
	}); err != nil {
		return nil, fmt.Errorf("ppo: update: %w", err)
	}
	agents.GAETo(s.adv, s.ret, s.rew, r.Value, s.done, s.nextV, r.Envs, cfg.Gamma, cfg.GAELambda)

	// Prediction targets of the dynamic embedding: each asset's log return
	// and volatility in the next observation.
	if a.ac.Pred >= 0 {
		for k := 0; k < n; k++ {
			a.targetsTo(s.targets[k*2*a.n:(k+1)*2*a.n], r.NextObsOf(k))
		}
	}

	a.w.save()
	restore := a.w.restore

	for k := range s.idx {
		s.idx[k] = k
	}
	var sum Stats
epochs:
	for epoch := 0; epoch < cfg.UpdateEpochs; epoch++ {
		st.Epochs++
		rng.Shuffle(n, func(i, j int) { s.idx[i], s.idx[j] = s.idx[j], s.idx[i] })
		for start := 0; start < n; start += mb {
			if err := ctx.Err(); err != nil {
				restore()
				return nil, fmt.Errorf("ppo: update: %w", err)
			}
			ls, pred, norm, stop, err := a.step(r, s.idx[start:start+mb], lr)
			if err != nil {
				restore()
				return nil, fmt.Errorf("ppo: update: %w", err)
			}
			st.ApproxKL, st.OldApproxKL = ls.approxKL, ls.oldApproxKL
			if stop {
				st.EarlyStop = true
				break epochs
			}
			st.Minibatches++
			sum.PolicyLoss += ls.policy
			sum.ValueLoss += ls.value
			sum.Entropy += ls.entropy
			sum.PredLoss += pred
			sum.ClipFrac += ls.clipFrac
			sum.GradNorm += norm
		}
	}
	if k := float64(st.Minibatches); k > 0 {
		st.PolicyLoss, st.ValueLoss, st.Entropy = sum.PolicyLoss/k, sum.ValueLoss/k, sum.Entropy/k
		st.PredLoss, st.ClipFrac, st.GradNorm = sum.PredLoss/k, sum.ClipFrac/k, sum.GradNorm/k
	}
	st.ExplainedVariance = explainedVariance(s.ret, r.Value)
	a.expandLogStd()
	for _, ls := range a.logStd {
		st.Std += math.Exp(ls) / float64(a.adim)
	}
	for k := 0; k < n; k++ {
		st.Exposure += (1 - r.Weights[k*a.adim]) / float64(n)
	}
	a.updates++
	a.steps += int64(n)
	return st, nil
}

// step takes one gradient step on the minibatch of transitions idx:
// forward pass and losses (minibatch), the KL early-stop test, backward
// pass, global gradient clipping and Adam. stop reports that target_kl
// stopped the update before the step.
func (a *Agent) step(r *agents.Rollout, idx []int, lr float64) (ls lossStats, pred, norm float64, stop bool, err error) {
	cfg, s := &a.cfg, &a.upd
	if ls, pred, err = a.minibatch(r, idx); err != nil {
		return
	}
	if cfg.TargetKL > 0 && ls.approxKL > 1.5*cfg.TargetKL {
		return ls, pred, 0, true, nil
	}
	if err = agents.CheckFinite("loss", ls.total+pred*cfg.PredCoef); err != nil {
		return
	}
	a.w.clearGrad()
	if err = a.train.Backward(); err != nil {
		return
	}
	a.w.addLogStdGrad(a.ac.LogStd, a.stdIdx, s.lg.logStd)
	// Global gradient clipping folded into the Adam step, which runs on
	// two goroutines over the two halves of the parameter vector.
	norm = a.w.gradNorm()
	if err = agents.CheckFinite("gradient norm", norm); err != nil {
		return
	}
	a.w.adamStep(lr, nets.ClipScale(norm, cfg.MaxGradNorm), a.runner)
	return ls, pred, norm, false, nil
}

// minibatch gathers the transitions idx into the training engine, runs
// the forward pass and evaluates the losses, leaving their gradients in
// the engine's output-gradient buffers (and s.lg.logStd). It returns the
// loss terms and the prediction MSE.
func (a *Agent) minibatch(r *agents.Rollout, idx []int) (lossStats, float64, error) {
	cfg, s, e := &a.cfg, &a.upd, a.train
	d, na := a.obsDim, a.adim
	for i, k := range idx {
		a.ac.Feed.Fill(e, i, r.Obs[k*d:(k+1)*d])
		copy(s.raw[i*na:(i+1)*na], r.Raw[k*na:(k+1)*na])
		s.oldLogp[i], s.mbAdv[i], s.ret2[i], s.oldV[i] = r.LogProb[k], s.adv[k], s.ret[k], r.Value[k]
		if a.ac.Pred >= 0 {
			copy(e.Input(a.ac.Action)[i*na:(i+1)*na], r.Weights[k*na:(k+1)*na])
			w := 2 * a.n
			copy(s.mbTarget[i*w:(i+1)*w], s.targets[k*w:(k+1)*w])
		}
	}
	if err := e.Forward(); err != nil {
		return lossStats{}, 0, err
	}
	adv := s.mbAdv
	if cfg.NormAdv {
		normalise(s.advN, s.mbAdv)
		adv = s.advN
	}
	a.expandLogStd()
	ls := ppoLoss(s.lg, &lossInput{mu: e.Output(a.ac.Logits), logStd: a.logStd, raw: s.raw, oldLogp: s.oldLogp,
		adv: adv, ret: s.ret2, oldV: s.oldV, v: e.Output(a.ac.Value)}, cfg.ClipCoef, cfg.EntCoef, cfg.VFCoef, cfg.ClipValueLoss)
	var pred float64
	if a.ac.Pred >= 0 {
		pred = predLoss(e.OutputGrad(a.ac.Pred), e.Output(a.ac.Pred), s.mbTarget, cfg.PredCoef)
	}
	return ls, pred, nil
}

// targetsTo writes the dynamic embedding's targets from a next
// observation: per asset i, [log return, volatility] = the latest value of
// the return feature and of the volatility-target feature (|log return|
// if none).
func (a *Agent) targetsTo(dst, next []float64) {
	ar := &a.arch
	last := func(i, f int) float64 { return next[ar.AssetOffset+(i*ar.Features+f)*ar.Window+ar.Window-1] }
	for i := 0; i < a.n; i++ {
		ret := last(i, ar.ReturnFeature)
		vol := math.Abs(ret)
		if a.cfg.VolTargetFeature >= 0 {
			vol = last(i, a.cfg.VolTargetFeature)
		}
		dst[2*i], dst[2*i+1] = ret, vol
	}
}

func (a *Agent) checkRollout(r *agents.Rollout) error {
	if r.Envs != a.cfg.NumEnvs || r.Steps != a.cfg.NumSteps || r.ObsDim != a.obsDim || r.ActDim != a.adim || r.WeightDim != a.adim {
		return fmt.Errorf("ppo: update: rollout of %d envs × %d steps (obs %d, action %d) but the agent expects %d × %d (obs %d, action %d)",
			r.Envs, r.Steps, r.ObsDim, r.ActDim, a.cfg.NumEnvs, a.cfg.NumSteps, a.obsDim, a.adim)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("ppo: update: %w", err)
	}
	return nil
}

// explainedVariance returns 1 − Var[y − ŷ]/Var[y] (NaN if Var[y] = 0).
func explainedVariance(y, yhat []float64) float64 {
	n := float64(len(y))
	var my, md float64
	for i := range y {
		my += y[i]
		md += y[i] - yhat[i]
	}
	my /= n
	md /= n
	var vy, vd float64
	for i := range y {
		vy += (y[i] - my) * (y[i] - my)
		dd := y[i] - yhat[i] - md
		vd += dd * dd
	}
	if vy == 0 {
		return math.NaN()
	}
	return 1 - vd/vy
}
