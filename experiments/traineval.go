package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/wrap"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/atomicfile"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/internal/version"
)

// TrainResult says where `folio train` put its models.
type TrainResult struct {
	Dir    string
	Models []string
}

// trainInfo is train.json: the bars the models were trained on, so that
// `folio eval` defaults to the bars after them.
type trainInfo struct {
	TrainStart int    `json:"train_start"`
	TrainEnd   int    `json:"train_end"` // exclusive
	From       string `json:"from"`
	To         string `json:"to"`
}

// Train trains every agent of the experiment once, on the data range minus
// the last walkforward.test bars (held out for `folio eval`), with the last
// walkforward.validation bars of the range used for model selection, and
// saves models/NAME.model (the kept model's weights only) and, when it
// normalises observations, models/NAME.obsstats (the statistics that model
// was validated through).
func Train(ctx context.Context, c *Config, opt RunOptions) (*TrainResult, error) {
	if len(c.Agents) == 0 {
		return nil, &ConfigError{File: c.file, Key: "agents", Msg: "the experiment has no [agents.NAME] table to train"}
	}
	st := &status{w: opt.Stderr, quiet: opt.Quiet}
	dir, resumed, err := runDirFor(c, opt, commandTrain)
	if err != nil {
		return nil, err
	}
	var cfgText bytesBuilder
	if err := c.WriteTOML(&cfgText); err != nil {
		return nil, err
	}
	if !resumed {
		if err := atomicfile.WriteFile(filepath.Join(dir, configFile), cfgText.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	ds, err := loadData(c, c.trainOnlyEnd)
	if err != nil {
		return nil, err
	}
	if err := c.CheckAssets(ds.panel.Assets()); err != nil {
		return nil, err
	}
	start := ds.warmUp + c.Env.Window - 1
	end := ds.panel.T() - c.WalkForward.Test
	if end-start < 20+c.WalkForward.Validation {
		return nil, fmt.Errorf("experiments: %d bars leave only %d for training after the warm-up (%d) and the held-out walkforward.test (%d)",
			ds.panel.T(), end-start, start, c.WalkForward.Test)
	}
	info := runInfo{Experiment: c.Experiment.Name, Command: commandTrain, ConfigFile: c.file, ConfigHash: c.Hash(), Sets: c.sets, RootSeed: c.Experiment.Seed,
		Seeds: []uint64{c.Experiment.Seed}, DataFingerprint: ds.panel.Fingerprint(), DataSource: ds.source, Code: version.Get(),
		Started: time.Now().UTC().Format(time.RFC3339), Status: "training"}
	if err := writeJSON(filepath.Join(dir, runFile), info); err != nil {
		return nil, err
	}
	ti := trainInfo{TrainStart: start, TrainEnd: end, From: ds.panel.Time(start).Format(time.RFC3339), To: ds.panel.Time(end - 1).Format(time.RFC3339)}
	if err := writeJSON(filepath.Join(dir, "train.json"), ti); err != nil {
		return nil, err
	}
	r := &seedRunner{cfg: c, ds: ds, seed: c.Experiment.Seed, dir: dir, st: st, progress: progressWriter(opt, 1)}
	fold := eval.Fold{Index: 1, Train: eval.Range{Start: start, End: end}}
	res := &TrainResult{Dir: dir}
	for _, a := range c.Agents {
		l, tr, err := r.trainAgent(ctx, 0, fold, a)
		if err != nil {
			return nil, fmt.Errorf("training %s: %w", a.Name, err)
		}
		// The model (weights only) and the observation statistics of the
		// selected model, the statistics first: a model file is never newer
		// than the statistics beside it.
		path := filepath.Join(mkdir(filepath.Join(dir, "models")), slugName(a.Name)+".model")
		if ms := l.(*trained).stats; ms != nil {
			b, err := ms.MarshalBinary()
			if err != nil {
				return nil, err
			}
			if err := atomicfile.WriteFile(strings.TrimSuffix(path, ".model")+".obsstats", b, 0o644); err != nil {
				return nil, err
			}
		}
		err = atomicfile.Write(path, 0o644, func(w io.Writer) error { return l.SaveWeights(w) })
		if err != nil {
			return nil, err
		}
		kept := "final model kept"
		if tr.Selected == "best" {
			kept = fmt.Sprintf("best model kept: iteration %d, validation Sharpe ratio %.6g", tr.BestIter, tr.BestScore)
		}
		st.printf("folio: %s: %d env steps in %d iterations (%s) → %s", a.Name, tr.Steps, tr.Iterations, kept, path)
		res.Models = append(res.Models, path)
	}
	info.Status = "finished"
	info.Finished = time.Now().UTC().Format(time.RFC3339)
	if err := writeJSON(filepath.Join(dir, runFile), info); err != nil {
		return nil, err
	}
	return res, nil
}

type bytesBuilder struct{ b []byte }

func (w *bytesBuilder) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *bytesBuilder) Bytes() []byte { return w.b }

// EvalOptions are the flags of `folio eval`.
type EvalOptions struct {
	Start, End string
	Sets       []string
	Quiet      bool
	Stdout     io.Writer
	Stderr     io.Writer
}

// Eval backtests the models saved by Train, and the baselines, over a
// range (default: the bars after the training range) and writes a report
// into RUN_DIR/eval-<from>-<to>/, or eval-<from>-<to>-<hash>/ when --set
// overrides change the configuration (evalDir). It loads each model's
// weights only, so hyperparameters changed with --set (learning rate,
// precision, …) are accepted as long as the network architecture is the
// same, and puts a frozen normaliser with the model's saved statistics
// (NAME.obsstats) in front of it when there are any.
func Eval(ctx context.Context, dir string, o EvalOptions) (*RunResult, error) {
	var ti trainInfo
	if ok, err := readJSON(filepath.Join(dir, "train.json"), &ti); err != nil || !ok {
		if err == nil {
			err = errors.New("no train.json")
		}
		return nil, fmt.Errorf("experiments: %s is not a 'folio train' run directory (%v); make one with: folio train FILE --out DIR", dir, err)
	}
	c, err := Load(filepath.Join(dir, configFile), o.Sets)
	if err != nil {
		return nil, err
	}
	ds, err := loadData(c, c.trainOnlyEnd)
	if err != nil {
		return nil, err
	}
	from, to := ti.TrainEnd, ds.panel.T()
	if o.Start != "" {
		t, err := parseStart(o.Start)
		if err != nil {
			return nil, &usageErr{"--start: " + err.Error()}
		}
		from = ds.panel.Index(t)
	}
	if o.End != "" {
		t, err := parseEnd(o.End)
		if err != nil {
			return nil, &usageErr{"--end: " + err.Error()}
		}
		to = ds.panel.Index(t.Add(time.Second))
	}
	if from < ti.TrainEnd {
		fmt.Fprintf(o.Stderr, "folio: warning: the evaluation starts at %s, inside the training range (which ends %s): results are not out of sample\n",
			ds.panel.Time(from).Format("2006-01-02"), ti.To)
	}
	from = max(from, ds.warmUp+c.Env.Window)
	if to-from < 2 {
		asked := ""
		if o.Start != "" || o.End != "" {
			asked = fmt.Sprintf(" (--start %q --end %q)", o.Start, o.End)
		}
		return nil, fmt.Errorf("experiments: the evaluation range%s holds %d bar(s), it needs at least 2: the data covers %s – %s and the first decision needs %d bars of history; choose --start/--end inside it",
			asked, max(0, to-from), ds.panel.Time(0).Format("2006-01-02"), ds.panel.Time(ds.panel.T()-1).Format("2006-01-02"), ds.warmUp+c.Env.Window)
	}
	fold := eval.Fold{Index: 1, Train: eval.Range{Start: ti.TrainStart, End: ti.TrainEnd}, Test: eval.Range{Start: from, End: to}}
	out, err := evalDir(dir, c, ds.panel.Time(from), ds.panel.Time(to-1))
	if err != nil {
		return nil, err
	}
	r := &seedRunner{cfg: c, ds: ds, folds: []eval.Fold{fold}, seed: c.Experiment.Seed, dir: out, st: &status{w: o.Stderr, quiet: o.Quiet}}
	sr := eval.SeedResult{Seed: c.Experiment.Seed}
	add := func(name, kind, desc string, impl bool, fr foldResult) {
		fb := fr.Fallback
		if len(fb) == 0 {
			fb = nil
		}
		g := fr.Guard
		if len(g) == 0 {
			g = nil
		}
		sr.Strategies = append(sr.Strategies, eval.StrategyRun{Name: name, Kind: kind, Description: desc, Implementable: impl, Path: fr.Path, GuardCounts: g, Fallbacks: fb})
		sr.Costs = append(sr.Costs, fr.Costs...)
	}
	for _, a := range c.Agents {
		spec, err := r.spec(fold)
		if err != nil {
			return nil, err
		}
		l, err := newLearner(a, spec, seed.New(c.Experiment.Seed, seed.Init, 0))
		if err != nil {
			return nil, err
		}
		model := filepath.Join(dir, "models", slugName(a.Name)+".model")
		if err := loadModel(l, model); err != nil {
			return nil, fmt.Errorf("experiments: model of agent %s (%s): %w; retrain with folio train, or restore the file", a.Name, model, err)
		}
		// The statistics saved with the model are what it acts through,
		// whatever normalize_obs says now (a --set cannot change how the
		// model was trained); without them it must not be normalised.
		var stats *wrap.MeanVar
		statsFile := strings.TrimSuffix(model, ".model") + ".obsstats"
		b, err := os.ReadFile(statsFile)
		switch {
		case err == nil:
			stats = &wrap.MeanVar{}
			if err := stats.UnmarshalBinary(b); err != nil {
				return nil, fmt.Errorf("experiments: observation statistics of %s (%s): %w", a.Name, statsFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("experiments: observation statistics of %s: %w", a.Name, err)
		case a.Train.NormalizeObs:
			return nil, fmt.Errorf("experiments: %s normalises observations but its statistics are missing: %w", a.Name, err)
		}
		pol, err := normalized(l.Policy(), stats)
		if err != nil {
			return nil, err
		}
		fr, err := r.evalPolicy(ctx, 0, fold, pol, a.Name, carry{})
		if err != nil {
			return nil, err
		}
		add(a.Name, "agent", a.describe(), true, fr)
	}
	for _, m := range c.Baselines.Methods {
		fr, err := r.baselineFold(ctx, 0, fold, m, carry{})
		if err != nil {
			return nil, err
		}
		add(m, "baseline", c.describeBaseline(m), m != "bsh", fr)
	}
	var cfgText bytesBuilder
	if err := c.WriteTOML(&cfgText); err != nil {
		return nil, err
	}
	info := runInfo{ConfigHash: c.Hash(), Seeds: []uint64{c.Experiment.Seed}, DataFingerprint: ds.panel.Fingerprint()}
	res := c.results(ds, []eval.Fold{fold}, []eval.SeedResult{sr}, string(cfgText.Bytes()), info)
	res.Title = c.Experiment.Name + " — evaluation of trained models"
	res.InSample = from < ti.TrainEnd
	if err := eval.WriteResults(filepath.Join(out, resultsFile), res); err != nil {
		return nil, err
	}
	rep, err := eval.WriteReport(out, res)
	if err != nil {
		return nil, err
	}
	return &RunResult{Dir: out, ReportHTML: filepath.Join(out, eval.ReportHTML), Report: rep}, nil
}

// evalDir returns (and creates) the directory of an evaluation of the
// `folio train` run in dir over the bars first … last with configuration c
// (the run's config.toml with the --set overrides applied):
// eval-<first>-<last> (dates YYYYMMDD) when c equals the run's
// configuration, else eval-<first>-<last>-<8 hex>, the first 8 hex digits
// of c.Hash(), the hash of the resolved configuration that results.json
// records as provenance.config_hash. So evaluations with different
// overrides get different directories, while overrides with the same
// effect (reordered, respelled, or repeating a default) share one, since
// they give the same results. A directory whose results.json records
// another configuration hash (written by a build that did not name
// directories so, or a clash of the 8 digits) is refused, never
// overwritten.
func evalDir(dir string, c *Config, first, last time.Time) (string, error) {
	name := fmt.Sprintf("eval-%s-%s", first.Format("20060102"), last.Format("20060102"))
	hash := c.Hash()
	if hash == "" {
		return "", errors.New("experiments: the evaluation's configuration cannot be written as TOML, so it has no hash to name its directory")
	}
	if len(c.sets) > 0 {
		base, err := Load(filepath.Join(dir, configFile), nil)
		if err != nil {
			return "", err
		}
		if base.Hash() != hash {
			name += "-" + hash[:8]
		}
	}
	out := filepath.Join(dir, name)
	var prev struct {
		Provenance struct {
			ConfigHash string `json:"config_hash"`
		} `json:"provenance"`
	}
	ok, err := readJSON(filepath.Join(out, resultsFile), &prev)
	if err != nil {
		return "", fmt.Errorf("%w; an evaluation would overwrite it: rename or remove %s first", err, out)
	}
	if ok && prev.Provenance.ConfigHash != hash {
		return "", fmt.Errorf("experiments: %s holds an evaluation made with another configuration (hash %s, now %s), which this evaluation would overwrite; rename or remove that directory first",
			out, short(prev.Provenance.ConfigHash), short(hash))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("experiments: %w", err)
	}
	return out, nil
}

// spec returns the env spec of the fold's training segment (the shapes a
// learner needs).
func (r *seedRunner) spec(fold eval.Fold) (env.Spec, error) {
	e, _, err := r.segmentEnv(fold.Test.Start-1, fold.Test.End-1, true, -1, nil)
	if err != nil {
		return env.Spec{}, err
	}
	defer e.Close()
	return e.Spec(), nil
}
