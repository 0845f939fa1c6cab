package agents

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Learner is a trainable agent as the training loop sees it, whatever the
// algorithm (PPO, DDPG). The loop is the same for all:
//
//	r := l.NewRollout()
//	for !done {
//		for t := range r.Steps {
//			copy(r.ObsAt(t), obs)                       // B×D current observations
//			l.Act(r.ActionsAt(t), r.ObsAt(t), rngAct, Sample)
//			vec.Step(r.ActionsAt(t).Weights)             // then record rewards, ends, final obs
//			r.Record(t, rewards, terminated, truncated, finals)
//			obs = next observations
//		}
//		copy(r.NextObs, obs)
//		r.Progress = fraction of the budget used so far
//		stats, err := l.Update(ctx, r, rngUpdate)
//	}
//
// On-policy learners (PPO) learn from the whole rollout; off-policy ones
// (DDPG) append it to their replay buffer and take their gradient steps.
// A Learner owns no RNG (STYLE.md 2.4): the caller passes one per call and
// checkpoints its own streams, so Save/Load hold everything else needed to
// resume bit-for-bit: weights, target weights, optimiser moments and step
// counts, counters, replay contents. SaveWeights/LoadWeights hold the
// weights alone (model files).
//
// A Learner is not safe for concurrent use.
type Learner interface {
	// Name identifies the algorithm ("ppo", "ddpg").
	Name() string
	// NewRollout allocates rollout storage of the shape the learner wants
	// (its number of envs and steps per update).
	NewRollout() *Rollout
	// Act chooses actions for a batch of B observations (obs is B×ObsDim,
	// row-major) and writes B rows into each slice of dst that is not nil.
	Act(dst Actions, obs []float64, rng *rand.Rand, mode Mode) error
	// Update learns from a filled rollout. rng drives minibatch shuffling,
	// replay sampling and target-policy noise. ctx is checked between
	// gradient steps; on cancellation Update returns an error wrapping
	// ctx.Err() and leaves a consistent state: PPO exactly as before the
	// call; DDPG with the rollout stored and the gradient steps not taken
	// recorded as owed (taken by the next Update, saved by Save). A
	// *NonFiniteError means the run diverged: the failing step was not
	// applied.
	Update(ctx context.Context, r *Rollout, rng *rand.Rand) (Stats, error)
	// Policy returns the current policy for evaluation. It shares the
	// learner's weights (it sees later updates) and has its own buffers,
	// so it may act while the learner is idle.
	Policy() Policy
	// Save writes the full training state; Load restores it into the
	// existing buffers. Load fails with an error naming both sides if the
	// file was written by another algorithm, architecture, configuration
	// (naming the hyperparameters that differ) or format version, or if it
	// holds weights only.
	Save(w io.Writer) error
	Load(r io.Reader) error
	// SaveWeights writes a model file: the network weights alone (PPO's
	// parameters; DDPG's actor and critic with their targets), without
	// optimiser state, counters, noise state or replay buffer.
	// LoadWeights copies the weights of a model file, or of a full state
	// written by Save, into the learner and leaves everything else as it
	// is (for evaluation and warm starts): it needs the same algorithm
	// and architecture, and accepts any other hyperparameters and either
	// precision (values are converted).
	SaveWeights(w io.Writer) error
	LoadWeights(r io.Reader) error
}

// Actions is where a learner writes its decisions for a batch of B envs.
// Every slice is row-major with B rows; nil slices are skipped.
type Actions struct {
	// Weights are the target portfolio weights sent to the env (cash
	// first, N+1 per row, each row on the simplex).
	Weights []float64
	// Raw is the learner's own action representation (ActDim per row):
	// the Gaussian sample over logits for PPO, the (noisy) logits for DDPG.
	// Learners learn from it; the env never sees it.
	Raw []float64
	// LogProb is log π(Raw | obs) (PPO; B values).
	LogProb []float64
	// Value is V(obs) (PPO; B values).
	Value []float64
}

// Metric is one named scalar of an update, keyed as in the training logs
// ("train/policy_loss", "train/approx_kl", ...).
type Metric struct {
	Key   string
	Value float64
}

// Stats is what an update reports. Algorithms return their own typed
// struct (ppo.Stats, ddpg.Stats); AppendMetrics flattens it for metric
// sinks.
type Stats interface {
	AppendMetrics(dst []Metric) []Metric
}

// NonFiniteError reports a NaN or infinite loss, gradient norm or output
// during an update: the update was not applied (parameters are unchanged
// since the last finite step). The training loop maps it to its divergence
// error.
type NonFiniteError struct {
	Quantity string // e.g. "policy loss", "grad norm"
	Value    float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("agents: non-finite %s (%v)", e.Quantity, e.Value)
}

// CheckFinite returns a *NonFiniteError if v is NaN or infinite.
func CheckFinite(quantity string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return &NonFiniteError{Quantity: quantity, Value: v}
	}
	return nil
}
