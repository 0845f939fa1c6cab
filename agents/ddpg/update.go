package ddpg

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/nets"
)

// Stats reports one Update call: means over its gradient steps (zero if
// it took none, e.g. during warm-up).
type Stats struct {
	CriticLoss     float64 // Σ over critics of mean (Q − y)²
	ActorLoss      float64 // −mean Q₁(s, π(s)), over actor steps
	PredLoss       float64 // dynamic embedding's prediction MSE (critic tower 1), before pred_coef
	Q              float64 // mean Q₁(s, a) of the sampled batches
	TargetQ        float64 // mean TD target y
	CriticGradNorm float64 // before clipping
	ActorGradNorm  float64 // before clipping, over actor steps
	GradientSteps  int     // gradient steps taken in this call
	ActorSteps     int     // actor (and target) updates in this call
	BufferSize     int     // transitions stored after this call
}

// AppendMetrics appends the stats under "train/" keys.
func (s Stats) AppendMetrics(dst []agents.Metric) []agents.Metric {
	return append(dst,
		agents.Metric{Key: "train/critic_loss", Value: s.CriticLoss},
		agents.Metric{Key: "train/actor_loss", Value: s.ActorLoss},
		agents.Metric{Key: "train/pred_loss", Value: s.PredLoss},
		agents.Metric{Key: "train/q", Value: s.Q},
		agents.Metric{Key: "train/target_q", Value: s.TargetQ},
		agents.Metric{Key: "train/critic_grad_norm", Value: s.CriticGradNorm},
		agents.Metric{Key: "train/actor_grad_norm", Value: s.ActorGradNorm},
		agents.Metric{Key: "train/gradient_steps", Value: float64(s.GradientSteps)},
		agents.Metric{Key: "train/actor_steps", Value: float64(s.ActorSteps)},
		agents.Metric{Key: "train/buffer_size", Value: float64(s.BufferSize)},
	)
}

// Update stores the rollout's transitions in the replay buffer (the
// critic's action is the executed weights; a truncated transition keeps
// the episode's final observation as its successor and is bootstrapped),
// resets the OU noise of envs whose episode ended, and takes
// updates_per_step gradient steps per transition collected beyond
// learning_starts. ctx is checked before each gradient step; steps not
// taken because of cancellation stay owed and are taken by the next
// Update (they are part of the checkpoint), so an interrupted run takes as
// many gradient steps as an uninterrupted one.
func (a *Agent) Update(ctx context.Context, r *agents.Rollout, rng *rand.Rand) (agents.Stats, error) {
	if err := a.checkRollout(r); err != nil {
		return nil, err
	}
	cfg := &a.cfg
	if cfg.CriticAction == CriticLogits {
		a.replay.AddRollout(r, r.Raw)
	} else {
		a.replay.AddRollout(r, r.Weights)
	}
	for k := 0; k < r.Len(); k++ {
		if r.Done(k) {
			e := k % r.Envs
			clear(a.ou[e*a.adim : (e+1)*a.adim])
		}
	}
	prev := a.steps
	a.steps += int64(r.Len())
	if due := a.steps - max(prev, int64(cfg.LearningStarts)); due > 0 {
		a.pending += due * int64(cfg.UpdatesPerStep)
	}

	var st, sum Stats
	for a.pending > 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ddpg: update: %w", err)
		}
		cs, actor, err := a.gradientStep(rng)
		if err != nil {
			return nil, fmt.Errorf("ddpg: update: %w", err)
		}
		a.pending--
		sum.CriticLoss += cs.CriticLoss
		sum.PredLoss += cs.PredLoss
		sum.Q += cs.Q
		sum.TargetQ += cs.TargetQ
		sum.CriticGradNorm += cs.CriticGradNorm
		st.GradientSteps++
		if actor {
			sum.ActorLoss += cs.ActorLoss
			sum.ActorGradNorm += cs.ActorGradNorm
			st.ActorSteps++
		}
	}
	if k := float64(st.GradientSteps); k > 0 {
		st.CriticLoss, st.PredLoss, st.Q = sum.CriticLoss/k, sum.PredLoss/k, sum.Q/k
		st.TargetQ, st.CriticGradNorm = sum.TargetQ/k, sum.CriticGradNorm/k
	}
	if k := float64(st.ActorSteps); k > 0 {
		st.ActorLoss, st.ActorGradNorm = sum.ActorLoss/k, sum.ActorGradNorm/k
	}
	st.BufferSize = a.replay.Len()
	return st, nil
}

// gradientStep samples a batch from the replay buffer and takes one critic
// step, then, every policy_delay gradient steps, one actor step and the
// soft target updates (actor targets on one core, critic targets on the
// other). actor reports whether the actor stepped; cs then holds its loss
// and gradient norm too.
func (a *Agent) gradientStep(rng *rand.Rand) (cs Stats, actor bool, err error) {
	a.replay.Draw(a.batch, rng)
	a.runner.Run(&a.gather) // copy the sampled rows on both cores
	if cs, err = a.criticStep(rng); err != nil {
		return cs, false, err
	}
	a.gradSteps++
	if a.gradSteps%int64(a.cfg.PolicyDelay) != 0 {
		return cs, false, nil
	}
	if cs.ActorLoss, cs.ActorGradNorm, err = a.actorStep(); err != nil {
		return cs, false, err
	}
	a.w.softUpdate(a.cfg.Tau, a.runner)
	return cs, true, nil
}

// gatherTask copies the drawn transitions into the batch: the first half
// of the rows (part 0), the second half (part 1).
type gatherTask struct{ a *Agent }

func (t *gatherTask) Run(part int) {
	b := t.a.batch
	if h := b.Size / 2; part == 0 {
		t.a.replay.Gather(b, 0, h)
	} else {
		t.a.replay.Gather(b, h, b.Size)
	}
}

// criticStep regresses every Q tower on the TD target
// y = r + γ·(1 − terminated)·min_k Q'_k(s', w(π'(s') + ε)) with the target
// networks (ε: TD3's clipped smoothing noise, if configured), plus the
// prediction loss of the dynamic embedding, and takes one Adam step.
func (a *Agent) criticStep(rng *rand.Rand) (Stats, error) {
	st, total, err := a.criticLoss(rng)
	if err != nil {
		return st, err
	}
	if err := agents.CheckFinite("critic loss", total); err != nil {
		return st, err
	}
	st.CriticGradNorm = a.w.gradNorm(true)
	if err := agents.CheckFinite("critic gradient norm", st.CriticGradNorm); err != nil {
		return st, err
	}
	a.w.adamStep(true, a.cfg.CriticLR, nets.ClipScale(st.CriticGradNorm, a.cfg.MaxGradNorm), a.runner)
	return st, nil
}

// criticLoss evaluates the critic loss on the current batch and leaves its
// gradient in a.criticG.
func (a *Agent) criticLoss(rng *rand.Rand) (st Stats, total float64, err error) {
	cfg, b, s := &a.cfg, a.batch, &a.s
	m, na, d := b.Size, a.adim, a.obsDim

	// Target policy on the next observations, squashed to weights.
	if err := a.actorForward(a.actTarget, s.logits, a.unbound(b.Next)); err != nil {
		return st, 0, err
	}
	for i := 0; i < m; i++ {
		row := s.logits[i*na : (i+1)*na]
		if cfg.TargetNoise > 0 {
			for j := range row {
				eps := math.Min(math.Max(cfg.TargetNoise*rng.NormFloat64(), -cfg.TargetNoiseClip), cfg.TargetNoiseClip)
				row[j] = math.Min(math.Max(row[j]+eps, -cfg.ActionScale), cfg.ActionScale)
			}
		}
		a.criticActionTo(s.wNext[i*na:(i+1)*na], row)
	}

	// Target critics: y = r + γ(1 − terminated)·min_k Q'_k.
	cr := a.critic
	if !a.bound {
		for i := 0; i < m; i++ {
			cr.Feed.Fill(a.crTarget, i, b.Next[i*d:(i+1)*d])
		}
	}
	for _, x := range cr.Action {
		copy(a.crTarget.Input(x), s.wNext)
	}
	for _, x := range cr.DecAct {
		clear(a.crTarget.Input(x))
	}
	if err := a.crTarget.Forward(); err != nil {
		return st, 0, err
	}
	for i := 0; i < m; i++ {
		q := math.Inf(1)
		for _, qn := range cr.Q {
			q = math.Min(q, a.crTarget.Output(qn)[i])
		}
		y := b.Reward[i]
		if !b.Terminated[i] {
			y += cfg.Gamma * q
		}
		s.y[i] = y
		st.TargetQ += y / float64(m)
	}

	// Current critics on (s, a): loss Σ_k mean (Q_k − y)².
	e := a.crTrain
	if !a.bound {
		for i := 0; i < m; i++ {
			cr.Feed.Fill(e, i, b.Obs[i*d:(i+1)*d])
		}
	}
	for _, x := range cr.Action {
		copy(e.Input(x), b.Action)
	}
	for _, x := range cr.DecAct {
		copy(e.Input(x), b.Action)
	}
	if err := e.Forward(); err != nil {
		return st, 0, err
	}
	for k, qn := range cr.Q {
		q, dq := e.Output(qn), e.OutputGrad(qn)
		for i := 0; i < m; i++ {
			diff := q[i] - s.y[i]
			st.CriticLoss += diff * diff / float64(m)
			dq[i] = 2 * diff / float64(m)
			if k == 0 {
				st.Q += q[i] / float64(m)
			}
		}
	}
	total = st.CriticLoss
	if len(cr.Pred) > 0 {
		a.targetsTo(s.targets, b.Next)
		for k, pn := range cr.Pred {
			l := predLoss(e.OutputGrad(pn), e.Output(pn), s.targets, cfg.PredCoef)
			total += cfg.PredCoef * l
			if k == 0 {
				st.PredLoss = l
			}
		}
	}
	a.w.clearGrad(true)
	if err := e.Backward(); err != nil {
		return st, 0, err
	}
	return st, total, nil
}

// actorStep ascends Q₁(s, w(π(s))) (loss −mean Q₁) through the updated
// critic, plus the actor's prediction loss, and takes one Adam step. The
// gradient reaches the logits through dQ₁/dw (the critic's input
// gradient, without its weight gradients), the softmax/gate Jacobian and
// the A·tanh output.
func (a *Agent) actorStep() (loss, norm float64, err error) {
	loss, total, err := a.actorLoss()
	if err != nil {
		return 0, 0, err
	}
	if err := agents.CheckFinite("actor loss", total); err != nil {
		return 0, 0, err
	}
	norm = a.w.gradNorm(false)
	if err := agents.CheckFinite("actor gradient norm", norm); err != nil {
		return 0, 0, err
	}
	a.w.adamStep(false, a.cfg.ActorLR, nets.ClipScale(norm, a.cfg.MaxGradNorm), a.runner)
	return loss, norm, nil
}

// actorLoss evaluates the actor loss on the current batch (returning the
// Q term and the total with the prediction loss) and leaves its gradient
// in a.actorG.
func (a *Agent) actorLoss() (loss, total float64, err error) {
	cfg, b, s := &a.cfg, a.batch, &a.s
	m, na, d := b.Size, a.adim, a.obsDim
	ea := a.actTrain
	if !a.bound {
		for i := 0; i < m; i++ {
			a.actor.Feed.Fill(ea, i, b.Obs[i*d:(i+1)*d])
		}
	}
	if a.actor.Action >= 0 {
		copy(ea.Input(a.actor.Action), b.Action)
	}
	if err := ea.Forward(); err != nil {
		return 0, 0, err
	}
	t := ea.Output(a.actor.Logits)
	for i := range s.logits {
		s.logits[i] = cfg.ActionScale * t[i]
	}
	for i := 0; i < m; i++ {
		a.criticActionTo(s.wCur[i*na:(i+1)*na], s.logits[i*na:(i+1)*na])
	}

	q1, eq := a.q1, a.q1Loss
	if !a.bound {
		for i := 0; i < m; i++ {
			q1.Feed.Fill(eq, i, b.Obs[i*d:(i+1)*d])
		}
	}
	copy(eq.Input(q1.Action[0]), s.wCur)
	for _, x := range q1.DecAct {
		clear(eq.Input(x))
	}
	if err := eq.Forward(); err != nil {
		return 0, 0, err
	}
	for _, v := range eq.Output(q1.Q[0]) {
		loss -= v / float64(m)
	}
	eq.ZeroOutputGrads()
	dq := eq.OutputGrad(q1.Q[0])
	for i := range dq {
		dq[i] = -1 / float64(m)
	}
	if err := eq.BackwardInputs(); err != nil {
		return 0, 0, err
	}
	dw := eq.InputGrad(q1.Action[0])
	dt := ea.OutputGrad(a.actor.Logits)
	for i := 0; i < m; i++ {
		r := i * na
		du := dw[r : r+na] // the critic's action is the logits
		if cfg.CriticAction == CriticWeights {
			nets.WeightsGradTo(s.du, dw[r:r+na], s.logits[r:r+na], s.wCur[r:r+na], a.gate)
			du = s.du
		}
		for j, g := range du {
			dt[r+j] = cfg.ActionScale * g // logits = A·t
		}
	}
	total = loss
	if a.actor.Pred >= 0 {
		a.targetsTo(s.targets, b.Next)
		total += cfg.PredCoef * predLoss(ea.OutputGrad(a.actor.Pred), ea.Output(a.actor.Pred), s.targets, cfg.PredCoef)
	}
	a.w.clearGrad(false)
	if err := ea.Backward(); err != nil {
		return 0, 0, err
	}
	return loss, total, nil
}

// criticActionTo writes the critic's action input for one row of logits:
// the weights they map to, or the logits themselves (critic_action).
func (a *Agent) criticActionTo(dst, logits []float64) {
	if a.cfg.CriticAction == CriticLogits {
		copy(dst, logits)
		return
	}
	nets.WeightsTo(dst, logits, a.gate)
}

// softUpdate sets target ← τ·online + (1−τ)·target (Polyak averaging).
func softUpdate(target, online []float64, tau float64) { nets.SoftUpdate(target, online, tau) }

// predLoss returns the mean squared error between predictions and targets
// and writes d(coef·MSE)/dpred into dpred.
func predLoss(dpred, pred, target []float64, coef float64) float64 {
	var s float64
	k := 2 * coef / float64(len(pred))
	for i, p := range pred {
		diff := p - target[i]
		s += diff * diff
		dpred[i] = k * diff
	}
	return s / float64(len(pred))
}

// targetsTo writes the dynamic embedding's targets for each row of next
// (batch×D): per asset [latest log return, latest volatility target].
func (a *Agent) targetsTo(dst, next []float64) {
	ar, d := &a.arch, a.obsDim
	for r := 0; r < len(next)/d; r++ {
		o := next[r*d : (r+1)*d]
		for i := 0; i < a.n; i++ {
			last := func(f int) float64 { return o[ar.AssetOffset+(i*ar.Features+f)*ar.Window+ar.Window-1] }
			ret := last(ar.ReturnFeature)
			vol := math.Abs(ret)
			if a.cfg.VolTargetFeature >= 0 {
				vol = last(a.cfg.VolTargetFeature)
			}
			dst[(r*a.n+i)*2], dst[(r*a.n+i)*2+1] = ret, vol
		}
	}
}

func (a *Agent) checkRollout(r *agents.Rollout) error {
	if r.Envs != a.cfg.NumEnvs || r.Steps != a.cfg.TrainFreq || r.ObsDim != a.obsDim || r.ActDim != a.adim || r.WeightDim != a.adim {
		return fmt.Errorf("ddpg: update: rollout of %d envs × %d steps (obs %d, action %d) but the agent expects %d × %d (obs %d, action %d)",
			r.Envs, r.Steps, r.ObsDim, r.ActDim, a.cfg.NumEnvs, a.cfg.TrainFreq, a.obsDim, a.adim)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("ddpg: update: %w", err)
	}
	return nil
}
