package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/folio-rl/folio/agents"
	"github.com/folio-rl/folio/agents/ddpg"
	"github.com/folio-rl/folio/agents/ppo"
	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/eval"
	"github.com/folio-rl/folio/internal/atomicfile"
	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/internal/version"
	"github.com/folio-rl/folio/train"
	"github.com/folio-rl/folio/vol"
)

// RunOptions controls Run and Train.
type RunOptions struct {
	// Out is the run directory to create; "" names one under
	// experiment.output_dir.
	Out string
	// Jobs is the number of seeds run in parallel goroutines.
	Jobs int
	// Quiet silences progress and status on Stderr.
	Quiet bool
	// Resume continues the run in this directory.
	Resume string
	// Stdout and Stderr receive results and diagnostics.
	Stdout, Stderr io.Writer
	// Now stamps the run directory name; zero uses the clock.
	Now time.Time
}

// RunResult says where a run's outputs are.
type RunResult struct {
	Dir        string
	ReportHTML string
	Report     *eval.Report
}

// Files of a run directory.
const (
	configFile  = "config.toml"
	runFile     = "run.json"
	resultsFile = "results.json"
	metricsFile = "metrics.jsonl"
)

// runInfo is run.json: provenance that is not part of the report.
type runInfo struct {
	Experiment      string             `json:"experiment"`
	Command         string             `json:"command,omitempty"`
	ConfigFile      string             `json:"config_file"`
	ConfigHash      string             `json:"config_hash"`
	Sets            []string           `json:"sets,omitempty"`
	RootSeed        uint64             `json:"root_seed"`
	Seeds           []uint64           `json:"seeds"`
	DataFingerprint string             `json:"data_fingerprint"`
	DataSource      string             `json:"data_source"`
	Code            version.Info       `json:"code"`
	Started         string             `json:"started"`
	Finished        string             `json:"finished,omitempty"`
	Status          string             `json:"status"`
	Timings         map[string]float64 `json:"timings_seconds,omitempty"`
}

// seeds returns the root seed of each repetition: the first is the
// experiment's seed, the others derived from it.
func (c *Config) seeds() []uint64 {
	out := []uint64{c.Experiment.Seed}
	for k := 1; k < c.Experiment.Seeds; k++ {
		out = append(out, seed.Sub(c.Experiment.Seed, seed.Fold, uint64(1<<40+k)))
	}
	return out
}

// status prints a progress line to stderr unless quiet.
type status struct {
	w     io.Writer
	quiet bool
	mu    sync.Mutex
}

func (s *status) printf(format string, args ...any) {
	if s.quiet || s.w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// The commands that make run directories, recorded in run.json.
const (
	commandRun   = "run"
	commandTrain = "train"
)

// madeBy returns the command that made a run directory: the one recorded
// in run.json, else (run.json written by a build that did not record it)
// "train" when the directory holds train.json, which only `folio train`
// writes, and "run" otherwise.
func madeBy(dir string, ri runInfo) string {
	if ri.Command != "" {
		return ri.Command
	}
	if _, err := os.Stat(filepath.Join(dir, "train.json")); err == nil {
		return commandTrain
	}
	return commandRun
}

// runDirFor creates (or, on resume, checks) the run directory of command
// cmd ("run" or "train"). A directory made by the other command is not
// resumed: its layout and outputs differ.
func runDirFor(c *Config, opt RunOptions, cmd string) (string, bool, error) {
	if opt.Resume != "" {
		saved, err := os.ReadFile(filepath.Join(opt.Resume, runFile))
		if err != nil {
			return "", false, fmt.Errorf("experiments: --resume %s: not a run directory (%w)", opt.Resume, err)
		}
		var ri runInfo
		if err := json.Unmarshal(saved, &ri); err != nil {
			return "", false, fmt.Errorf("experiments: --resume %s: %s is unreadable: %w", opt.Resume, runFile, err)
		}
		if by := madeBy(opt.Resume, ri); by != cmd {
			return "", false, fmt.Errorf("experiments: --resume %s: the directory was made by 'folio %s', not 'folio %s'; resume it with 'folio %s FILE --resume %s', or start a new 'folio %s' run",
				opt.Resume, by, cmd, by, opt.Resume, cmd)
		}
		if ri.ConfigHash != c.Hash() {
			return "", false, fmt.Errorf("experiments: --resume %s: the run was made with another configuration (hash %s, now %s); resume with the same file and --set overrides", opt.Resume, short(ri.ConfigHash), short(c.Hash()))
		}
		return opt.Resume, true, nil
	}
	dir := opt.Out
	if dir == "" {
		now := opt.Now
		if now.IsZero() {
			now = time.Now()
		}
		dir = filepath.Join(c.Experiment.OutputDir, fmt.Sprintf("%s-seed%d-%s", c.Experiment.Name, c.Experiment.Seed, now.UTC().Format("20060102T150405Z")))
	}
	if _, err := os.Stat(filepath.Join(dir, runFile)); err == nil {
		return "", false, fmt.Errorf("experiments: %s already holds a run; choose another --out or continue it with --resume %s", dir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("experiments: %w", err)
	}
	return dir, false, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("experiments: writing %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("experiments: %s: %w", path, err)
	}
	return true, nil
}

// plan returns the walk-forward folds over the dataset.
func (c *Config) plan(ds *dataset) ([]eval.Fold, int, error) {
	start := ds.warmUp + c.Env.Window - 1
	wf := c.WalkForward
	p := eval.WalkForwardPlan{Train: wf.Train, Test: wf.Test, Step: wf.Step, Embargo: wf.Embargo,
		Expanding: wf.Mode == "expanding", Start: start}
	folds, err := p.Folds(ds.panel.T())
	if err != nil {
		return nil, start, fmt.Errorf("experiments: walk-forward plan on %d bars (features usable from bar %d, window %d): %w; shorten walkforward.train/test or use more data",
			ds.panel.T(), ds.warmUp, c.Env.Window, err)
	}
	if wf.Folds > 0 && len(folds) > wf.Folds {
		folds = folds[len(folds)-wf.Folds:]
	}
	// Folds are numbered 1, 2, … in time order after the selection: the
	// same numbers name the fold directories (fold-1, …), the status
	// lines and the report.
	for i := range folds {
		folds[i].Index = i + 1
	}
	return folds, start, nil
}

// Run runs the whole experiment: data, training of every agent on every
// fold, backtests of agents and baselines on the test windows, cost
// sensitivity, and the report. It returns where the report is.
func Run(ctx context.Context, c *Config, opt RunOptions) (*RunResult, error) {
	st := &status{w: opt.Stderr, quiet: opt.Quiet}
	dir, resumed, err := runDirFor(c, opt, commandRun)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	var cfgText strings.Builder
	if err := c.WriteTOML(&cfgText); err != nil {
		return nil, err
	}
	if !resumed {
		if err := atomicfile.WriteFile(filepath.Join(dir, configFile), []byte(cfgText.String()), 0o644); err != nil {
			return nil, err
		}
	}
	st.printf("folio: run directory %s", dir)
	var plan []eval.Fold
	ds, err := loadData(c, c.firstTrainEnd)
	if err != nil {
		return nil, err
	}
	// Settings that depend on the number of assets fail here, before any
	// training, not at a baseline's first decision.
	if err := c.CheckAssets(ds.panel.Assets()); err != nil {
		return nil, err
	}
	plan, _, err = c.plan(ds)
	if err != nil {
		return nil, err
	}
	seeds := c.seeds()
	info := runInfo{Experiment: c.Experiment.Name, Command: commandRun, ConfigFile: c.file, ConfigHash: c.Hash(), Sets: c.sets, RootSeed: c.Experiment.Seed,
		Seeds: seeds, DataFingerprint: ds.panel.Fingerprint(), DataSource: ds.source, Code: version.Get(),
		Started: started.UTC().Format(time.RFC3339), Status: "running"}
	if resumed {
		var prev runInfo
		if _, err := readJSON(filepath.Join(dir, runFile), &prev); err == nil && prev.DataFingerprint != "" && prev.DataFingerprint != info.DataFingerprint {
			return nil, fmt.Errorf("experiments: --resume %s: the data changed since the run started (fingerprint %s, now %s)", dir, short(prev.DataFingerprint), short(info.DataFingerprint))
		}
	}
	if err := writeJSON(filepath.Join(dir, runFile), info); err != nil {
		return nil, err
	}
	st.printf("folio: %s; %d folds, %d agent(s), %d baseline(s), %d seed(s)", ds.source, len(plan), len(c.Agents), len(c.Baselines.Methods), len(seeds))

	jobs := max(1, min(opt.Jobs, len(seeds)))
	results := make([]eval.SeedResult, len(seeds))
	errs := make([]error, len(seeds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, jobs)
	for k, s := range seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &seedRunner{cfg: c, ds: ds, folds: plan, seed: s, index: k, dir: filepath.Join(dir, fmt.Sprintf("seed-%d", k)),
				st: st, progress: progressWriter(opt, jobs)}
			res, err := r.run(ctx)
			if err != nil {
				errs[k] = err
				return
			}
			results[k] = *res
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		info.Status = "interrupted or failed: " + firstLine(err.Error())
		_ = writeJSON(filepath.Join(dir, runFile), info)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("experiments: run stopped; continue it with: %s: %w", resumeCommand(c, dir), ctx.Err())
		}
		return nil, err
	}
	res := c.results(ds, plan, results, cfgText.String(), info)
	if res.CPCVLayout, err = c.cpcvLayout(ds); err != nil {
		return nil, err
	}
	if err := eval.WriteResults(filepath.Join(dir, resultsFile), res); err != nil {
		return nil, err
	}
	rep, err := eval.WriteReport(dir, res)
	if err != nil {
		return nil, err
	}
	info.Status = "finished"
	info.Finished = time.Now().UTC().Format(time.RFC3339)
	info.Timings = map[string]float64{"total": time.Since(started).Seconds()}
	if err := writeJSON(filepath.Join(dir, runFile), info); err != nil {
		return nil, err
	}
	out := &RunResult{Dir: dir, ReportHTML: filepath.Join(dir, eval.ReportHTML), Report: rep}
	if c.Report.PNG {
		if err := renderPNG(dir); err != nil {
			st.printf("folio: report.png not rendered: %v", err)
		}
	}
	return out, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// progressWriter returns where training progress bars go: stderr when it
// is a terminal, not quiet, and seeds run one at a time.
func progressWriter(opt RunOptions, jobs int) io.Writer {
	if opt.Quiet || jobs > 1 || opt.Stderr == nil {
		return nil
	}
	if f, ok := opt.Stderr.(*os.File); ok && isTerminal(f) {
		return f
	}
	return nil
}

// results assembles the report input.
func (c *Config) results(ds *dataset, plan []eval.Fold, seeds []eval.SeedResult, cfgText string, info runInfo) *eval.Results {
	times := make([]int64, ds.panel.T())
	for t := range times {
		times[t] = ds.panel.Unix(t)
	}
	var folds []eval.FoldWindow
	for _, f := range plan {
		folds = append(folds, eval.FoldWindow{Index: f.Index, TrainStart: f.Train.Start, TrainEnd: f.Train.End, TestStart: f.Test.Start, TestEnd: f.Test.End})
	}
	title := c.Experiment.Name
	v := version.Get()
	notes := append([]string(nil), ds.notes...)
	return &eval.Results{
		Version: eval.ResultsVersion, Title: title, Description: c.Experiment.Description,
		Provenance: eval.Provenance{Experiment: c.Experiment.Name, ConfigTOML: cfgText, ConfigHash: info.ConfigHash,
			RootSeed: c.Experiment.Seed, Seeds: info.Seeds, DataFingerprint: info.DataFingerprint, DataSource: ds.source,
			CodeVersion: v.String(), GoVersion: v.GoVersion, RegimeSource: ds.regSrc},
		PeriodsPerYear: ds.panel.BarsPerYear(), Interval: Duration(ds.panel.Interval()).String(), Assets: ds.panel.Assets(),
		Times: times, Folds: folds, Seeds: seeds,
		Settings: eval.ReportSettings{ExtraTrials: c.Report.ExtraTrials, Bootstrap: c.Report.Bootstrap, BlockLength: c.Report.BlockLength, Confidence: c.Report.Confidence,
			RollingWindow: c.Report.RollingWindow, Benchmarks: c.Report.Benchmarks, StatsSeed: seed.Sub(c.Experiment.Seed, seed.Bootstrap, 0)},
		Notes: notes,
	}
}

// strategy is an agent or a baseline of the experiment.
type strategy struct {
	name, kind, desc string
	implementable    bool
	agent            *Agent
	method           string
}

// strategies lists the agents, then the baselines.
func (c *Config) strategies() []strategy {
	var out []strategy
	for _, a := range c.Agents {
		out = append(out, strategy{name: a.Name, kind: "agent", desc: a.describe(), implementable: true, agent: a})
	}
	for _, m := range c.Baselines.Methods {
		out = append(out, strategy{name: m, kind: "baseline", desc: c.describeBaseline(m), implementable: m != "bsh", method: m})
	}
	return out
}

// seedRunner runs every fold of one seed.
type seedRunner struct {
	cfg      *Config
	ds       *dataset
	folds    []eval.Fold
	seed     uint64
	index    int
	dir      string
	st       *status
	progress io.Writer
	// fvol caches forecastVol's series; computed on first use.
	fvol []float64
}

// foldDir returns the directory of a fold's saved results and training
// runs: fold-N with the fold's 1-based number.
func (r *seedRunner) foldDir(fold eval.Fold) string {
	return filepath.Join(r.dir, fmt.Sprintf("fold-%d", fold.Index))
}

// carry holds a strategy's portfolio between test windows: at the
// configured fees (main) and at each cost-sensitivity fee level.
type carry struct {
	main  *holding
	costs map[float64]*holding
}

// foldResult is what one fold produced for one strategy; saved so that a
// resumed run skips finished work.
type foldResult struct {
	Path     *eval.Path            `json:"path"`
	Costs    []eval.CostRun        `json:"costs"`
	Guard    map[string]int        `json:"guard"`
	Fallback map[string]int        `json:"fallbacks,omitempty"`
	Training *eval.TrainingSummary `json:"training,omitempty"`
}

func (r *seedRunner) run(ctx context.Context) (*eval.SeedResult, error) {
	out := &eval.SeedResult{Seed: r.seed}
	if ok, err := readJSON(filepath.Join(r.dir, "result.json"), out); err != nil || ok {
		return out, err
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	strats := r.cfg.strategies()
	runs := make([]eval.StrategyRun, len(strats))
	for i, s := range strats {
		runs[i] = eval.StrategyRun{Name: s.name, Kind: s.kind, Description: s.desc, Implementable: s.implementable,
			Path: &eval.Path{}, GuardCounts: map[string]int{}, Fallbacks: map[string]int{}}
	}
	costs := map[string]map[float64]*eval.CostRun{}
	// Each strategy's test windows chain: a window starts from the holdings
	// the previous one ended with, at every fee level separately.
	carries := make([]carry, len(strats))
	for i := range carries {
		carries[i].costs = map[float64]*holding{}
	}
	for fi, fold := range r.folds {
		for i, s := range strats {
			file := filepath.Join(r.foldDir(fold), slugName(s.name)+".json")
			var fr foldResult
			ok, err := readJSON(file, &fr)
			if err != nil {
				return nil, err
			}
			if !ok {
				if s.agent != nil {
					fr, err = r.agentFold(ctx, fi, fold, s.agent, carries[i])
				} else {
					fr, err = r.baselineFold(ctx, fi, fold, s.method, carries[i])
				}
				if err != nil {
					return nil, fmt.Errorf("seed %d fold %d %s: %w", r.index, fold.Index, s.name, err)
				}
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return nil, err
				}
				if err := writeJSON(file, fr); err != nil {
					return nil, err
				}
				if s.agent != nil {
					if err := dropCheckpoint(filepath.Join(r.foldDir(fold), slugName(s.name)+".train")); err != nil {
						return nil, err
					}
				}
			}
			if err := runs[i].Path.Append(fr.Path); err != nil {
				return nil, err
			}
			carries[i].main = &holding{Weights: fr.Path.FinalWeights, Value: fr.Path.Value[fr.Path.Len()-1]}
			for _, cr := range fr.Costs {
				carries[i].costs[cr.FeeBps] = &holding{Weights: cr.FinalWeights, Value: cr.FinalValue}
			}
			addCounts(runs[i].GuardCounts, fr.Guard)
			addCounts(runs[i].Fallbacks, fr.Fallback)
			if fr.Training != nil {
				runs[i].Training = append(runs[i].Training, *fr.Training)
			}
			if costs[s.name] == nil {
				costs[s.name] = map[float64]*eval.CostRun{}
			}
			for _, cr := range fr.Costs {
				acc := costs[s.name][cr.FeeBps]
				if acc == nil {
					acc = &eval.CostRun{Strategy: s.name, FeeBps: cr.FeeBps}
					costs[s.name][cr.FeeBps] = acc
				}
				n0, n1 := float64(len(acc.Returns)), float64(len(cr.Returns))
				if n0+n1 > 0 {
					acc.Turnover = (acc.Turnover*n0 + cr.Turnover*n1) / (n0 + n1)
				}
				acc.Returns = append(acc.Returns, cr.Returns...)
			}
		}
	}
	for i := range runs {
		if len(runs[i].GuardCounts) == 0 {
			runs[i].GuardCounts = nil
		}
		if len(runs[i].Fallbacks) == 0 {
			runs[i].Fallbacks = nil
		}
	}
	out.Strategies = runs
	for _, s := range strats {
		for _, b := range r.cfg.Report.CostBps {
			if cr := costs[s.name][b]; cr != nil {
				out.Costs = append(out.Costs, *cr)
			}
		}
	}
	if r.cfg.WalkForward.CPCVGroups >= 2 {
		start := r.ds.warmUp + r.cfg.Env.Window - 1
		cp, err := r.runCPCV(ctx, start, strats)
		if err != nil {
			return nil, err
		}
		out.CPCV = cp
	}
	if err := writeJSON(filepath.Join(r.dir, "result.json"), out); err != nil {
		return nil, err
	}
	return out, nil
}

func addCounts(dst, src map[string]int) {
	for k, v := range src {
		dst[k] += v
	}
}

func slugName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// segmentEnv builds the env stack (market env behind the guard) trading
// decisions at bars [first, last) — the last step earns the move to the
// close of bar last. backtest selects a deterministic episode over the
// whole segment; otherwise episodes start at random (training).
func (r *seedRunner) segmentEnv(first, last int, backtest bool, feeBps float64, start *holding) (env.Env, *guard.Guard, error) {
	ec := r.cfg.envConfig()
	if start != nil {
		ec.InitialWeights = start.Weights
		ec.InitialCapital = start.Value
	}
	ec.SegmentStart = r.ds.panel.Time(first)
	ec.SegmentEnd = r.ds.panel.Time(last)
	if backtest {
		ec.EpisodeStart = env.StartFirst
		ec.EpisodeLen = 0
		ec.Regimes = nil
		ec.RegimeTruncate = false
	}
	if feeBps >= 0 {
		ec.Costs.TakerBps, ec.Costs.MakerBps = feeBps, feeBps
		ec.Costs.Asset = nil
	}
	m, err := env.New(r.ds.panel, r.ds.features, r.ds.regimes, ec)
	if err != nil {
		return nil, nil, err
	}
	g, err := guard.New(m, r.cfg.Guard)
	if err != nil {
		return nil, nil, err
	}
	return g, g, nil
}

// holding is a portfolio carried from one test window into the next.
type holding struct {
	Weights []float64
	Value   float64
}

// backtest runs p over the test window of a fold at the configured fees
// (feeBps < 0) or at feeBps, starting from start (nil: all cash at the
// initial capital).
func (r *seedRunner) backtest(ctx context.Context, fi int, fold eval.Fold, p agents.Policy, feeBps float64, start *holding) (*eval.Path, *guard.Guard, error) {
	e, g, err := r.segmentEnv(fold.Test.Start-1, fold.Test.End-1, true, feeBps, start)
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	if e, err = withFrozenNorm(e, p); err != nil {
		return nil, nil, err
	}
	// bsh ranks the assets by their growth to the end of this window, not
	// of the panel.
	if h, ok := p.(interface{ SetHorizon(last int) }); ok {
		h.SetHorizon(fold.Test.End - 1)
	}
	path, err := eval.Backtest(ctx, e, p, eval.BacktestOptions{
		Seed: seed.Sub(r.seed, seed.Eval, uint64(fi)), Features: r.ds.features, ForecastVol: r.forecastVol(), Fold: fold.Index,
		RNG: seed.New(r.seed, seed.Baseline, uint64(fi)),
	})
	if err != nil {
		return nil, nil, err
	}
	if path.Len() != fold.Test.Len() {
		return nil, nil, fmt.Errorf("experiments: backtest of %s covered %d bars, the test window has %d", p.Name(), path.Len(), fold.Test.Len())
	}
	return path, g, nil
}

// forecastLambda is the decay of the EWMA behind the forecast volatility
// of the vol-timing analysis: RiskMetrics' daily λ, fixed so that the
// analysis is the same whatever the experiment's features.
const forecastLambda = 0.94

// forecastVol returns the forecast volatility used in the vol-timing
// analysis: at decision bar t, the cross-sectional mean over the assets of
// √(EWMA of squared log returns), each a causal RiskMetrics EWMA (λ =
// forecastLambda, zero mean, weights renormalised over the history
// available, vol.EWMAAdjustedTo) of the returns of bars 1..t. It is
// computed from the panel, never from the observation's features, so every
// report has the analysis and reports of different feature sets compare;
// it equals the avg_ewma_vol feature at the default features.ewma_lambda
// once that feature's warm-up has passed. NaN at bar 0 (no return yet).
func (r *seedRunner) forecastVol() func(int) float64 {
	if r.fvol == nil {
		r.fvol = panelForecastVol(r.ds.panel)
	}
	fv := r.fvol
	return func(t int) float64 { return fv[t] }
}

// panelForecastVol computes forecastVol's series over the whole panel.
func panelForecastVol(p *market.Panel) []float64 {
	T, n := p.T(), p.N()
	out := make([]float64, T)
	if T == 0 {
		return out
	}
	out[0] = math.NaN()
	if T == 1 || n == 0 {
		for t := 1; t < T; t++ {
			out[t] = math.NaN()
		}
		return out
	}
	ret := make([]float64, T-1)
	v := make([]float64, T-1)
	var closes []float64
	for i := range n {
		closes = p.CloseSeriesTo(closes, i)
		for t := 1; t < T; t++ {
			ret[t-1] = math.Log(closes[t] / closes[t-1])
		}
		vol.EWMAAdjustedTo(v, ret, forecastLambda)
		for t := 1; t < T; t++ {
			out[t] += math.Sqrt(v[t-1])
		}
	}
	for t := 1; t < T; t++ {
		out[t] /= float64(n)
	}
	return out
}

// costRuns re-runs p at every report fee level, each level continuing
// from its own holdings of the previous window (starts; nil entries start
// from cash).
func (r *seedRunner) costRuns(ctx context.Context, fi int, fold eval.Fold, p agents.Policy, starts map[float64]*holding) ([]eval.CostRun, error) {
	var out []eval.CostRun
	for _, b := range r.cfg.Report.CostBps {
		path, _, err := r.backtest(ctx, fi, fold, p, b, starts[b])
		if err != nil {
			return nil, fmt.Errorf("cost run at %v bps: %w", b, err)
		}
		to := 0.0
		for _, x := range path.Turnover {
			to += x
		}
		out = append(out, eval.CostRun{Strategy: p.Name(), FeeBps: b, Returns: path.Return, Turnover: to / float64(max(1, path.Len())),
			FinalWeights: path.FinalWeights, FinalValue: path.Value[path.Len()-1]})
	}
	return out, nil
}

// guardCounts returns the guard's counts for the report's guard table: steps
// per flag (interventions by limit, and "conflict") plus
// "liquidity_limited", the steps on which the env filled only part of what
// the guard sent.
func guardCounts(g *guard.Guard) map[string]int {
	t := g.Totals()
	out := map[string]int{}
	for f := 0; f < guard.NumFlags; f++ {
		if n := t.Count(uint32(1) << f); n > 0 {
			out[guard.FlagName(uint32(1)<<f)] = n
		}
	}
	if t.LiquidityLimited > 0 {
		out["liquidity_limited"] = t.LiquidityLimited
	}
	return out
}

func (r *seedRunner) baselineFold(ctx context.Context, fi int, fold eval.Fold, method string, start carry) (foldResult, error) {
	p, err := r.cfg.newBaseline(method)
	if err != nil {
		return foldResult{}, err
	}
	if f, ok := p.(agents.Fitter); ok {
		train, err := r.ds.panel.Slice(fold.Train.Start, fold.Train.End)
		if err != nil {
			return foldResult{}, err
		}
		if err := f.Fit(train); err != nil {
			return foldResult{}, err
		}
	}
	path, g, err := r.backtest(ctx, fi, fold, p, -1, start.main)
	if err != nil {
		return foldResult{}, err
	}
	fr := foldResult{Path: path, Guard: guardCounts(g)}
	if d, ok := p.(interface{ Fallbacks() map[string]int }); ok {
		fr.Fallback = d.Fallbacks()
	}
	path.Strategy = method
	if fr.Costs, err = r.costRuns(ctx, fi, fold, p, start.costs); err != nil {
		return foldResult{}, err
	}
	for i := range fr.Costs {
		fr.Costs[i].Strategy = method
	}
	return fr, nil
}

// newLearner builds an agent's learner for a spec.
func newLearner(a *Agent, spec env.Spec, rng *rand.Rand) (agents.Learner, error) {
	switch a.Type {
	case "ppo":
		return ppo.New(spec, a.PPO, rng)
	case "ddpg":
		return ddpg.New(spec, a.DDPG, rng)
	}
	return nil, fmt.Errorf("experiments: unknown agent type %q", a.Type)
}

// numEnvs returns the number of parallel envs the agent trains on.
func (a *Agent) numEnvs() int {
	if a.Type == "ddpg" {
		return a.DDPG.NumEnvs
	}
	return a.PPO.NumEnvs
}

func (r *seedRunner) agentFold(ctx context.Context, fi int, fold eval.Fold, a *Agent, start carry) (foldResult, error) {
	l, tr, err := r.trainAgent(ctx, fi, fold, a)
	if err != nil {
		return foldResult{}, err
	}
	pol, err := l.(*trained).policy()
	if err != nil {
		return foldResult{}, err
	}
	fr, err := r.evalPolicy(ctx, fi, fold, pol, a.Name, start)
	if err != nil {
		return foldResult{}, err
	}
	fr.Training = &eval.TrainingSummary{Fold: fold.Index, Steps: tr.Steps, Iterations: tr.Iterations,
		Selected: tr.Selected, BestScore: tr.BestScore, BestIter: tr.BestIter}
	return fr, nil
}

// evalPolicy backtests a trained policy on the fold's test window and at
// every report fee level.
func (r *seedRunner) evalPolicy(ctx context.Context, fi int, fold eval.Fold, pol agents.Policy, name string, start carry) (foldResult, error) {
	path, g, err := r.backtest(ctx, fi, fold, pol, -1, start.main)
	if err != nil {
		return foldResult{}, err
	}
	path.Strategy = name
	fr := foldResult{Path: path, Guard: guardCounts(g)}
	if fr.Costs, err = r.costRuns(ctx, fi, fold, pol, start.costs); err != nil {
		return foldResult{}, err
	}
	for i := range fr.Costs {
		fr.Costs[i].Strategy = name
	}
	return fr, nil
}

// trainAgent trains a fresh learner for agent a on the fold's training
// window (minus the validation bars, which select the best model when
// walkforward.validation > 0). Training checkpoints into the fold's
// directory and resumes from a checkpoint found there.
func (r *seedRunner) trainAgent(ctx context.Context, fi int, fold eval.Fold, a *Agent) (agents.Learner, *train.Result, error) {
	wf := r.cfg.WalkForward
	trainLast := fold.Train.End - 1 - wf.Validation
	root := agentRoot(seed.Sub(r.seed, seed.Fold, uint64(fi)), a)
	envs := make([]env.Env, a.numEnvs())
	for b := range envs {
		e, _, err := r.segmentEnv(fold.Train.Start, trainLast, false, -1, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("training env: %w", err)
		}
		if envs[b], err = normalizer(e, a); err != nil {
			return nil, nil, err
		}
	}
	vec, err := env.NewVec(envs, a.Train.Workers)
	if err != nil {
		return nil, nil, err
	}
	defer vec.Close()
	l, err := newLearner(a, vec.Spec(), seed.New(root, seed.Init, 0))
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(r.foldDir(fold), slugName(a.Name)+".train")
	if wf.WarmStart && fi > 0 {
		prev := filepath.Join(r.foldDir(r.folds[fi-1]), slugName(a.Name)+".train", "final.model")
		if err := loadModel(l, prev); err != nil {
			return nil, nil, fmt.Errorf("warm start: %w", err)
		}
	}
	var validate train.Validator
	if wf.Validation > 0 {
		vFold := eval.Fold{Index: fold.Index, Test: eval.Range{Start: trainLast + 1, End: fold.Train.End}}
		validate = func(ctx context.Context, p agents.Policy) (float64, error) {
			p, err := normalized(p, mergedStats(vec))
			if err != nil {
				return 0, err
			}
			path, _, err := r.backtest(ctx, fi, vFold, p, -1, nil)
			if err != nil {
				return 0, err
			}
			return eval.Sharpe(path.Return, r.ds.panel.BarsPerYear()), nil
		}
	}
	mf, err := openMetrics(filepath.Join(mkdir(dir), metricsFile), dir)
	if err != nil {
		return nil, nil, err
	}
	defer mf.Close()
	// Folds are numbered from 1; folio train has one training range and
	// no folds.
	where, label := fmt.Sprintf("seed %d fold %d/%d", r.index, fold.Index, len(r.folds)), fmt.Sprintf("fold %d %s", fold.Index, a.Name)
	if len(r.folds) == 0 {
		where, label = fmt.Sprintf("seed %d", r.index), a.Name
	}
	r.st.printf("folio: %s: training %s (%s, %d env steps) on %s – %s", where, a.Name, a.Type,
		a.Train.TotalSteps, r.ds.panel.Time(fold.Train.Start).Format("2006-01-02"), r.ds.panel.Time(trainLast).Format("2006-01-02"))
	tr, err := train.Run(ctx, l, vec, a.Train, train.Options{
		Seed: root, Validate: validate, Dir: dir, Resume: true, ConfigHash: r.cfg.Hash(), ObsStats: obsStatsOf(vec),
		Metrics: train.NewJSONLines(mf, true), Progress: r.progress, Label: label,
	})
	if err != nil {
		return nil, nil, err
	}
	return selected(l, tr)
}

// openMetrics opens a training run's metrics log for appending. When the
// run resumes from a checkpoint, lines written after that checkpoint (by
// the interrupted run) are dropped first, so that the log of a resumed run
// equals that of an uninterrupted one.
func openMetrics(path, dir string) (*os.File, error) {
	steps, ok, unreadable := train.CheckpointState(dir)
	if unreadable {
		return nil, fmt.Errorf("experiments: %s: this build cannot read the checkpoint (another checkpoint format version, or a damaged file); start the run afresh in a new directory", filepath.Join(dir, "checkpoint.bin"))
	}
	if !ok {
		return os.Create(path)
	}
	if err := train.TruncateJSONLines(path, steps); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// firstTrainEnd bounds the bars a walk-forward run fits its regime labeller
// on: the end of the first training window.
func (c *Config) firstTrainEnd(warmUp, bars int) int {
	return min(bars, warmUp+c.Env.Window-1+c.WalkForward.Train)
}

// trainOnlyEnd bounds the bars `folio train` fits its regime labeller on:
// every bar but the last walkforward.test, which it holds out.
func (c *Config) trainOnlyEnd(warmUp, bars int) int {
	return max(warmUp+1, bars-c.WalkForward.Test)
}

// resumeCommand is the command line that continues an interrupted run:
// the same file and --set overrides (a resume with other settings is
// refused), plus --resume.
func resumeCommand(c *Config, dir string) string {
	parts := []string{"folio", "run", shellQuote(c.file)}
	for _, s := range c.sets {
		parts = append(parts, "--set", shellQuote(s))
	}
	return strings.Join(append(parts, "--resume", shellQuote(dir)), " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path and key characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// agentRoot derives the root seed of agent a's training from base (the
// seed of one fold): it depends on the agent's name, through a stable
// FNV-1a hash (of which the seed stream keeps the low 48 bits), and not on
// the agent's position among the agents, so adding, removing or renaming
// another agent leaves an agent's results unchanged.
func agentRoot(base uint64, a *Agent) uint64 {
	h := fnv.New64a()
	h.Write([]byte(a.Name))
	return seed.Sub(base, seed.Fold, h.Sum64())
}

// dropCheckpoint removes a training directory's checkpoint once the
// result it led to is on disk: a resume skips finished work by its result
// file, so the full training state (for DDPG mostly the replay buffer) is
// no longer needed; the model files stay.
func dropCheckpoint(trainDir string) error {
	if err := os.Remove(filepath.Join(trainDir, train.CheckpointFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func mkdir(d string) string {
	_ = os.MkdirAll(d, 0o755)
	return d
}

func loadModel(l agents.Learner, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return l.LoadWeights(f)
}
