package experiments

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/train"
)

// cpcvPiece is what one strategy earned on one tested group of one split.
type cpcvPiece struct {
	Returns []float64 `json:"returns"`
}

// runCPCV runs combinatorial purged cross-validation (López de Prado 2018,
// ch. 12) over the usable bars: every split trains each agent on its
// (purged, embargoed) training blocks and backtests every strategy on its
// test groups; the φ backtest paths are assembled from the pieces. Agents
// train with their parallel envs spread round-robin over the split's
// training blocks (each env's episodes stay inside one contiguous block).
func (r *seedRunner) runCPCV(ctx context.Context, start int, strategies []strategy) ([]eval.CPCVStrategy, error) {
	_, res, err := r.cfg.cpcvPlan(r.ds, start)
	if err != nil {
		return nil, err
	}
	shift := func(rg eval.Range) eval.Range { return eval.Range{Start: rg.Start + start, End: rg.End + start} }
	// pieces[strategy][split][group] = returns
	pieces := make([]map[[2]int][]float64, len(strategies))
	for i := range pieces {
		pieces[i] = map[[2]int][]float64{}
	}
	for _, sp := range res.Splits {
		for si, s := range strategies {
			file := filepath.Join(r.dir, "cpcv", fmt.Sprintf("split-%d", sp.Index), slugName(s.name)+".json")
			var saved map[string]cpcvPiece
			ok, err := readJSON(file, &saved)
			if err != nil {
				return nil, err
			}
			if !ok {
				saved = map[string]cpcvPiece{}
				var pol agents.Policy
				if s.agent != nil {
					var blocks []eval.Range
					for _, tr := range sp.Train {
						blocks = append(blocks, shift(tr))
					}
					l, err := r.trainBlocks(ctx, sp.Index, blocks, s.agent)
					if err != nil {
						return nil, fmt.Errorf("CPCV split %d %s: %w", sp.Index, s.name, err)
					}
					if pol, err = l.(*trained).policy(); err != nil {
						return nil, err
					}
				} else {
					if pol, err = r.cfg.newBaseline(s.method); err != nil {
						return nil, err
					}
				}
				for gi, g := range sp.TestGroups {
					fold := eval.Fold{Index: sp.Index, Test: cpcvTested(shift(sp.Test[gi]), start)}
					path, _, err := r.backtest(ctx, sp.Index, fold, pol, -1, nil)
					if err != nil {
						return nil, fmt.Errorf("CPCV split %d group %d %s: %w", sp.Index, g, s.name, err)
					}
					saved[fmt.Sprint(g)] = cpcvPiece{Returns: path.Return}
				}
				if err := writeJSON(filepath.Join(mkdir(filepath.Dir(file)), filepath.Base(file)), saved); err != nil {
					return nil, err
				}
				if s.agent != nil {
					if err := dropCheckpoint(filepath.Join(r.dir, "cpcv", fmt.Sprintf("split-%d", sp.Index), slugName(s.name)+".train")); err != nil {
						return nil, err
					}
				}
			}
			for _, g := range sp.TestGroups {
				pieces[si][[2]int{sp.Index, g}] = saved[fmt.Sprint(g)].Returns
			}
		}
	}
	out := make([]eval.CPCVStrategy, len(strategies))
	for si, s := range strategies {
		cs := eval.CPCVStrategy{Name: s.name}
		for _, path := range res.Paths {
			var rets []float64
			for _, pc := range path {
				rets = append(rets, pieces[si][[2]int{pc.Split, pc.Group}]...)
			}
			cs.PathSharpe = append(cs.PathSharpe, eval.Sharpe(rets, r.ds.panel.BarsPerYear()))
			cs.PathReturn = append(cs.PathReturn, totalReturn(rets))
		}
		out[si] = cs
	}
	return out, nil
}

// cpcvPlan lays the configured CPCV plan over the panel bars [start, T)
// (start is the first bar a decision can be made at).
func (c *Config) cpcvPlan(ds *dataset, start int) (eval.CPCV, eval.CPCVResult, error) {
	wf := c.WalkForward
	plan := eval.CPCV{Groups: wf.CPCVGroups, TestGroups: wf.CPCVTestGroups, Horizon: 1, Embargo: wf.Embargo}
	res, err := plan.Plan(ds.panel.T() - start)
	if err != nil {
		return plan, res, fmt.Errorf("experiments: CPCV: %w", err)
	}
	return plan, res, nil
}

// cpcvTested returns the bars whose returns a CPCV test group g (panel
// bars) backtests: all of them, except that the first usable bar start
// only carries the first decision.
func cpcvTested(g eval.Range, start int) eval.Range {
	return eval.Range{Start: max(g.Start, start+1), End: g.End}
}

// cpcvLayout returns the layout of the run's CPCV for the report, or nil
// when walkforward.cpcv_groups is off. It lays out the same plan as
// seedRunner.runCPCV, from the same first usable bar.
func (c *Config) cpcvLayout(ds *dataset) (*eval.CPCVLayout, error) {
	if c.WalkForward.CPCVGroups < 2 {
		return nil, nil
	}
	start := ds.warmUp + c.Env.Window - 1
	plan, res, err := c.cpcvPlan(ds, start)
	if err != nil {
		return nil, err
	}
	l := plan.Layout(res, start)
	for _, g := range l.GroupBars {
		l.PathReturns += cpcvTested(g, start).Len()
	}
	return &l, nil
}

func totalReturn(r []float64) float64 {
	g := 1.0
	for _, x := range r {
		g *= 1 + x
	}
	return g - 1
}

// trainBlocks trains a fresh learner with its envs spread round-robin over
// the training blocks (blocks too short for an episode are skipped).
func (r *seedRunner) trainBlocks(ctx context.Context, split int, blocks []eval.Range, a *Agent) (agents.Learner, error) {
	need := r.cfg.Env.EpisodeLen + 2
	var usable []eval.Range
	first := r.ds.warmUp + r.cfg.Env.Window - 1 // the first bar a decision can be made at
	for _, b := range blocks {
		b.Start = max(b.Start, first)
		if b.Len() >= need {
			usable = append(usable, b)
		}
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("no training block of the split is long enough for an episode of %d bars (use fewer CPCV groups or shorter episodes)", r.cfg.Env.EpisodeLen)
	}
	envs := make([]env.Env, a.numEnvs())
	for b := range envs {
		blk := usable[b%len(usable)]
		e, _, err := r.segmentEnv(blk.Start, blk.End-1, false, -1, nil)
		if err != nil {
			return nil, fmt.Errorf("training env on bars [%d, %d): %w", blk.Start, blk.End, err)
		}
		if envs[b], err = normalizer(e, a); err != nil {
			return nil, err
		}
	}
	vec, err := env.NewVec(envs, a.Train.Workers)
	if err != nil {
		return nil, err
	}
	defer vec.Close()
	root := agentRoot(seed.Sub(r.seed, seed.Fold, 1<<32|uint64(split)), a)
	l, err := newLearner(a, vec.Spec(), seed.New(root, seed.Init, 0))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(r.dir, "cpcv", fmt.Sprintf("split-%d", split), slugName(a.Name)+".train")
	mf, err := openMetrics(filepath.Join(mkdir(dir), metricsFile), dir)
	if err != nil {
		return nil, err
	}
	defer mf.Close()
	r.st.printf("folio: seed %d CPCV split %d: training %s on %d block(s)", r.index, split, a.Name, len(usable))
	if _, err := train.Run(ctx, l, vec, a.Train, train.Options{Seed: root, Dir: dir, Resume: true, ConfigHash: r.cfg.Hash(),
		Metrics: train.NewJSONLines(mf, true), Progress: r.progress, Label: fmt.Sprintf("cpcv %d %s", split, a.Name)}); err != nil {
		return nil, err
	}
	return &trained{Learner: l, stats: mergedStats(vec)}, nil
}
