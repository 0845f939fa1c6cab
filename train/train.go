package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// Config is the training-loop part of an [agents.NAME] table.
type Config struct {
	// TotalSteps is the training budget in env steps, summed over all
	// parallel envs. Training runs whole iterations (rollout + update), so
	// it stops at the first iteration boundary at or past the budget.
	// Default 100000 for PPO, 20000 for DDPG (one gradient step per env
	// step makes DDPG's steps far dearer); range ≥ 1.
	TotalSteps int `toml:"total_steps"`
	// EvalEvery runs the validation evaluation every this many env steps (at
	// the first iteration boundary past each multiple, and after the last
	// iteration), keeping the best-scoring model: the one with the highest
	// annualised Sharpe ratio on the validation bars; a NaN or infinite
	// score never counts as best. It needs a validation segment
	// (walkforward.validation > 0). 0 disables validation: the final model
	// is kept (so is it when no score was finite). Default 0.
	EvalEvery int `toml:"eval_every"`
	// LogEvery writes the metrics log every this many env steps (at the
	// first iteration boundary past each multiple, and at the last
	// iteration); an iteration that ran the validation is always logged
	// too, so every validation score is in the log. Default 1000; range ≥ 1.
	LogEvery int `toml:"log_every"`
	// CheckpointSeconds writes a checkpoint when this much wall time has
	// passed since the last one (at an iteration boundary), at the end and
	// on interruption. Checkpoints never change results: a resumed run
	// continues exactly. 0 writes only at the end and on interruption.
	// Default 60; range ≥ 0.
	CheckpointSeconds float64 `toml:"checkpoint_seconds"`
	// Workers is the number of goroutines stepping the vectorised envs.
	// Results are bit-identical for any value; it is an upper bound (the
	// vector env times parallel against single-goroutine steps and uses
	// the faster). Default 1; range 1–256.
	Workers int `toml:"workers"`
	// NormalizeObs standardises the agent's observations with running
	// means and variances (env/wrap.ObsNorm, clip ±10; the portfolio
	// weights are left as they are). Each training env keeps its own
	// statistics, saved in checkpoints; evaluation uses their merge, frozen.
	// Default false.
	NormalizeObs bool `toml:"normalize_obs"`
	// NormalizeReward divides training rewards by the running standard
	// deviation of the discounted return (env/wrap.RewardScale, as
	// Stable-Baselines3's VecNormalize(norm_reward=True): γ = the agent's
	// gamma, clip ±10, not centred). It changes what the learner sees and
	// the logged episode returns, never the portfolio values, validation
	// or backtests. Its statistics are per env and saved in checkpoints.
	// Default false.
	NormalizeReward bool `toml:"normalize_reward"`
}

// Defaults returns the default loop configuration.
func Defaults() Config {
	return Config{TotalSteps: 100000, LogEvery: 1000, CheckpointSeconds: 60, Workers: 1}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.TotalSteps < 1:
		return fmt.Errorf("train: total_steps = %d: must be ≥ 1", c.TotalSteps)
	case c.EvalEvery < 0:
		return fmt.Errorf("train: eval_every = %d: must be ≥ 0", c.EvalEvery)
	case c.LogEvery < 1:
		return fmt.Errorf("train: log_every = %d: must be ≥ 1", c.LogEvery)
	case !(c.CheckpointSeconds >= 0):
		return fmt.Errorf("train: checkpoint_seconds = %v: must be ≥ 0", c.CheckpointSeconds)
	case c.Workers < 1 || c.Workers > 256:
		return fmt.Errorf("train: workers = %d: must be in 1–256", c.Workers)
	}
	return nil
}

// ErrStop may be returned by a Hook to stop training cleanly.
var ErrStop = errors.New("train: stop requested")

// DivergedError reports a non-finite loss or gradient during an update.
type DivergedError struct {
	Iteration int
	Metric    string
	Value     float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("train: diverged at iteration %d: %s = %v (lower the learning rate or check the observations)", e.Iteration, e.Metric, e.Value)
}

// Hook observes training. A method returning ErrStop ends training cleanly
// (with a final checkpoint); any other error aborts it.
type Hook interface {
	// Iteration is called after each update with the iteration's metrics.
	Iteration(it Iteration) error
}

// Iteration summarises one rollout + update.
type Iteration struct {
	Index      int // 1-based
	Steps      int // env steps so far
	TotalSteps int
	Metrics    []agents.Metric
	// EpisodeMean and EpisodeLenMean are the mean return and length (env
	// steps) of the episodes finished in the current log window: since
	// the last logged iteration (exclusive) up to this iteration
	// (inclusive); NaN if none finished. At a logged iteration they are
	// the values logged as rollout/ep_return_mean and rollout/ep_len_mean.
	EpisodeMean    float64
	EpisodeLenMean float64
	Episodes       int // episodes finished so far
}

// Validator scores a policy on a validation segment (higher is better;
// folio's experiments use the annualised Sharpe ratio of a backtest over
// the validation bars). A NaN or infinite score is logged but never
// selects a model. It must not mutate the policy.
type Validator func(ctx context.Context, p agents.Policy) (float64, error)

// Options wires a training run.
type Options struct {
	// Seed is the root seed of this training run; action sampling, update
	// randomness and env resets draw from streams derived from it.
	Seed uint64
	// Validate, with Config.EvalEvery > 0, scores the policy periodically.
	Validate Validator
	// Dir is the directory for checkpoints (checkpoint.bin), the best model
	// (best.model), the final model (final.model), their observation
	// statistics (best.obsstats, final.obsstats; with ObsStats) and the
	// speed summary (perf.json); "" keeps nothing on disk.
	Dir string
	// Resume continues from Dir's checkpoint when it exists.
	Resume bool
	// ConfigHash identifies the configuration; a checkpoint written under
	// another hash is refused on resume.
	ConfigHash string
	// ObsStats, when not nil, returns the serialised observation
	// statistics the policy acts through at this moment (the frozen
	// normaliser a validation or a backtest puts in front of it), or nil
	// when observations are not normalised. Run calls it whenever it keeps
	// a model, so that the statistics travel with the weights: with the
	// best model (in the checkpoint too) and with the final one; the
	// statistics of the model the learner holds on return are in
	// Result.ObsStats.
	ObsStats func() ([]byte, error)
	// Metrics receives per-iteration metrics (may be nil).
	Metrics Sink
	// Progress, when non-nil, shows a progress bar there (use only for a
	// terminal).
	Progress io.Writer
	// Label prefixes the progress bar.
	Label string
	// Hooks observe iterations.
	Hooks []Hook
}

// Result summarises a finished (or interrupted) training run.
type Result struct {
	Iterations int
	Steps      int
	Episodes   int
	BestScore  float64 // NaN without validation or without a finite score
	BestIter   int     // iteration of the best model (0 without one)
	Selected   string  // "best" or "final": which model the learner holds on return
	// ObsStats are Options.ObsStats' statistics of the model the learner
	// holds on return: those taken with the best model when Selected is
	// "best", the final ones otherwise (nil without Options.ObsStats or
	// when they are nil).
	ObsStats  []byte
	Duration  time.Duration
	StepsPerS float64
}

// state is everything the loop itself carries between iterations; all of
// it is in the checkpoint.
type state struct {
	iter, steps, episodes int
	bestScore             float64
	bestIter              int
	actPCG, updPCG        rand.PCG
	epReturn              []float64 // per env: return of the running episode
	epLen                 []float64 // per env: steps of the running episode (integers)
	obs                   []float64
	best                  []byte // weights (SaveWeights) of the best model so far; nil: none
	bestStats             []byte // Options.ObsStats of the best model (nil without)
	win                   window
}

// window accumulates the episodes finished since the last log boundary.
type window struct {
	episodes          int
	returnSum, lenSum float64 // lenSum holds an integer (exact below 2^53)
}

func (w *window) add(ret, n float64) {
	w.episodes++
	w.returnSum += ret
	w.lenSum += n
}

// means returns the mean return and length, NaN for an empty window.
func (w *window) means() (ret, n float64) {
	if w.episodes == 0 {
		return math.NaN(), math.NaN()
	}
	k := float64(w.episodes)
	return w.returnSum / k, w.lenSum / k
}

// Run trains l on vec until the step budget is spent, ctx is cancelled or a
// hook stops it. On return the learner holds the selected model (the best
// validation model when validation is on, else the final one).
//
// Cancellation is noticed at iteration boundaries: the iteration in flight
// (its rollout, its update and, when due, its validation) runs to its end
// with ctx's cancellation ignored, so the interrupted run stops at a
// boundary, writes a checkpoint there (with Options.Dir) and returns an
// error wrapping ctx.Err(). Run with Options.Resume then continues to the
// same result, metrics log included, as an uninterrupted run.
func Run(ctx context.Context, l agents.Learner, vec *env.Vec, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := l.NewRollout()
	if r.Envs != vec.Len() {
		return nil, fmt.Errorf("train: learner wants %d envs, vec has %d", r.Envs, vec.Len())
	}
	spec := vec.Spec()
	if r.ObsDim != spec.Observation.Len() || r.WeightDim != len(spec.Assets)+1 {
		return nil, fmt.Errorf("train: learner observation %d / weights %d do not match env %d / %d",
			r.ObsDim, r.WeightDim, spec.Observation.Len(), len(spec.Assets)+1)
	}
	st := &state{bestScore: math.NaN(), epReturn: make([]float64, r.Envs), epLen: make([]float64, r.Envs),
		obs: make([]float64, r.Envs*r.ObsDim)}
	st.actPCG = *rand.NewPCG(opt.Seed, seed.Stream(seed.Action, 0))
	st.updPCG = *rand.NewPCG(opt.Seed, seed.Stream(seed.Shuffle, 0))
	resumed := false
	if opt.Resume && opt.Dir != "" {
		ok, err := loadCheckpoint(opt.Dir, opt.ConfigHash, l, vec, st)
		if err != nil {
			return nil, err
		}
		resumed = ok
	}
	if !resumed {
		obs, _, err := vec.Reset(seed.Sub(opt.Seed, seed.Env, 0))
		if err != nil {
			return nil, fmt.Errorf("train: reset: %w", err)
		}
		copy(st.obs, obs)
	}
	actRNG := rand.New(&st.actPCG)
	updRNG := rand.New(&st.updPCG)
	// The update and the validation of the iteration in flight are not
	// cut short by cancellation (see Run's documentation); ctx is checked
	// at iteration boundaries instead.
	detached := context.WithoutCancel(ctx)

	perIter := r.Envs * r.Steps
	totalIters := (cfg.TotalSteps + perIter - 1) / perIter
	bar := newProgress(opt.Progress, opt.Label, cfg.TotalSteps)
	defer bar.finish()
	bar.set(st.steps, math.NaN(), math.NaN())
	start := time.Now()
	lastCheckpoint := start
	startSteps := st.steps
	barReturn := math.NaN() // latest window mean shown by the progress bar
	var metrics []agents.Metric
	perf := func(interrupted bool) perfRecord {
		wall := time.Since(start).Seconds()
		return perfRecord{Steps: st.steps, Iterations: st.iter, Episodes: st.episodes, SessionSteps: st.steps - startSteps,
			WallSeconds: wall, StepsPerSec: float64(st.steps-startSteps) / math.Max(wall, 1e-9), Envs: vec.Len(),
			Workers: min(cfg.Workers, vec.Len()), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
			Resumed: resumed, Interrupted: interrupted}
	}

	for st.iter < totalIters {
		if err := ctx.Err(); err != nil {
			if opt.Dir != "" {
				if cerr := saveCheckpoint(opt.Dir, opt.ConfigHash, l, vec, st); cerr != nil {
					return nil, errors.Join(fmt.Errorf("train: interrupted: %w", err), cerr)
				}
				if perr := writePerf(opt.Dir, perf(true)); perr != nil {
					return nil, errors.Join(fmt.Errorf("train: interrupted: %w", err), perr)
				}
				return nil, fmt.Errorf("train: interrupted after iteration %d of %d (checkpoint at %d env steps written; resume to continue): %w",
					st.iter, totalIters, st.steps, err)
			}
			return nil, fmt.Errorf("train: interrupted after iteration %d of %d (no run directory, nothing saved): %w", st.iter, totalIters, err)
		}
		r.Progress = float64(st.steps) / float64(totalIters*perIter)
		finished := 0
		for t := 0; t < r.Steps; t++ {
			obsT := r.ObsAt(t)
			copy(obsT, st.obs)
			acts := r.ActionsAt(t)
			if err := l.Act(acts, obsT, actRNG, agents.Sample); err != nil {
				return nil, fmt.Errorf("train: iteration %d: act: %w", st.iter+1, err)
			}
			out, err := vec.Step(acts.Weights)
			if err != nil {
				return nil, fmt.Errorf("train: iteration %d: env step: %w", st.iter+1, err)
			}
			r.Record(t, out.Rewards, out.Terminated, out.Truncated, out.FinalObs)
			for b := 0; b < r.Envs; b++ {
				st.epReturn[b] += out.Rewards[b]
				st.epLen[b]++
				if out.Done(b) {
					finished++
					st.win.add(st.epReturn[b], st.epLen[b])
					st.epReturn[b], st.epLen[b] = 0, 0
				}
			}
			copy(st.obs, out.Obs)
		}
		copy(r.NextObs, st.obs)
		st.steps += perIter
		st.episodes += finished
		stats, err := l.Update(detached, r, updRNG)
		if err != nil {
			var nf *agents.NonFiniteError
			if errors.As(err, &nf) {
				return nil, &DivergedError{Iteration: st.iter + 1, Metric: nf.Quantity, Value: nf.Value}
			}
			return nil, fmt.Errorf("train: iteration %d: update: %w", st.iter+1, err)
		}
		st.iter++
		metrics = stats.AppendMetrics(metrics[:0])
		epMean, lenMean := st.win.means()
		elapsed := time.Since(start).Seconds()
		sps := float64(st.steps-startSteps) / math.Max(elapsed, 1e-9)
		metrics = append(metrics,
			agents.Metric{Key: "rollout/episodes", Value: float64(st.win.episodes)},
			agents.Metric{Key: "rollout/ep_return_mean", Value: epMean},
			agents.Metric{Key: "rollout/ep_len_mean", Value: lenMean},
			agents.Metric{Key: "rollout/reward_mean", Value: mean(r.Reward)},
			agents.Metric{Key: "perf/steps_per_sec", Value: sps},
		)
		last := st.iter == totalIters
		prevSteps := st.steps - perIter
		validated := false
		if opt.Validate != nil && cfg.EvalEvery > 0 && (crossed(prevSteps, st.steps, cfg.EvalEvery) || last) {
			score, err := opt.Validate(detached, l.Policy())
			if err != nil {
				return nil, fmt.Errorf("train: iteration %d: validation: %w", st.iter, err)
			}
			metrics = append(metrics, agents.Metric{Key: "eval/score", Value: score})
			validated = true
			if isBest(score, st) {
				st.bestScore, st.bestIter = score, st.iter
				if st.best, err = saveWeights(l); err != nil {
					return nil, err
				}
				if st.bestStats, err = obsStats(opt); err != nil {
					return nil, err
				}
				if opt.Dir != "" {
					if err := writeKept(opt.Dir, "best", st.best, st.bestStats); err != nil {
						return nil, err
					}
				}
			}
		}
		logNow := crossed(prevSteps, st.steps, cfg.LogEvery) || last || validated
		if opt.Metrics != nil && logNow {
			for _, m := range metrics {
				opt.Metrics.Record(st.steps, m.Key, m.Value)
			}
			if err := opt.Metrics.Flush(); err != nil {
				return nil, fmt.Errorf("train: metrics: %w", err)
			}
		}
		if !math.IsNaN(epMean) {
			barReturn = epMean
		}
		bar.set(st.steps, barReturn, sps)
		stop := false
		for _, h := range opt.Hooks {
			err := h.Iteration(Iteration{Index: st.iter, Steps: st.steps, TotalSteps: totalIters * perIter,
				Metrics: metrics, EpisodeMean: epMean, EpisodeLenMean: lenMean, Episodes: st.episodes})
			if errors.Is(err, ErrStop) {
				stop = true
			} else if err != nil {
				return nil, err
			}
		}
		if logNow {
			st.win = window{}
		}
		if opt.Dir != "" && (stop || last || (cfg.CheckpointSeconds > 0 && time.Since(lastCheckpoint).Seconds() >= cfg.CheckpointSeconds)) {
			if err := saveCheckpoint(opt.Dir, opt.ConfigHash, l, vec, st); err != nil {
				return nil, err
			}
			lastCheckpoint = time.Now()
		}
		if stop {
			break
		}
	}
	res := &Result{Iterations: st.iter, Steps: st.steps, Episodes: st.episodes, BestScore: st.bestScore,
		BestIter: st.bestIter, Selected: "final", Duration: time.Since(start)}
	res.StepsPerS = float64(st.steps-startSteps) / math.Max(res.Duration.Seconds(), 1e-9)
	finalStats, err := obsStats(opt)
	if err != nil {
		return nil, err
	}
	res.ObsStats = finalStats
	if opt.Dir != "" {
		final, err := saveWeights(l)
		if err != nil {
			return nil, err
		}
		if err := writeKept(opt.Dir, "final", final, finalStats); err != nil {
			return nil, err
		}
		p := perf(false)
		p.WallSeconds, p.StepsPerSec = res.Duration.Seconds(), res.StepsPerS
		if err := writePerf(opt.Dir, p); err != nil {
			return nil, err
		}
	}
	if st.best != nil {
		if err := l.LoadWeights(bytes.NewReader(st.best)); err != nil {
			return nil, fmt.Errorf("train: restoring the best model: %w", err)
		}
		res.Selected, res.ObsStats = "best", st.bestStats
	}
	return res, nil
}

// isBest reports whether a validation score selects the model: a finite
// score above the best so far (or the first finite one). NaN (a flat or
// too short validation window) and ±Inf (zero dispersion) are not
// comparable Sharpe ratios and never select a model.
func isBest(score float64, st *state) bool {
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return false
	}
	return st.best == nil || score > st.bestScore
}

// obsStats returns Options.ObsStats' statistics, nil without the option.
func obsStats(opt Options) ([]byte, error) {
	if opt.ObsStats == nil {
		return nil, nil
	}
	b, err := opt.ObsStats()
	if err != nil {
		return nil, fmt.Errorf("train: observation statistics: %w", err)
	}
	return b, nil
}

// crossed reports whether a multiple of every lies in (from, to].
func crossed(from, to, every int) bool { return to/every > from/every }

func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
