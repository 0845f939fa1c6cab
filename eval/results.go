package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/folio-rl/folio/internal/atomicfile"
)

// ResultsVersion is the format version of results.json that this
// package writes. ReadResults also reads older versions back to
// MinResultsVersion:
//
//   - 1: the first format.
//   - 2: adds cpcv_layout (Results.CPCVLayout), required when a seed holds
//     CPCV results. A version 1 file has none; its report shows the CPCV
//     statistics without the layout, as it did when it was written.
//   - 3: adds in_sample (Results.InSample) and replaces settings.trials
//     (total trials, 0 = every strategy) by settings.extra_trials
//     (configurations tried outside the run). ReadResults converts a
//     version 1–2 file's non-zero trials to extra_trials (the total less
//     the run's own trials, see DSRTrialSet) and says so in the notes; an
//     older folio refuses a version 3 file rather than label an in-sample
//     evaluation out of sample.
const ResultsVersion = 3

// MinResultsVersion is the oldest format version of results.json that
// ReadResults reads.
const MinResultsVersion = 1

// Results is everything a run produced that the report is computed from:
// the stitched out-of-sample paths of every strategy for every seed, the
// cost-sensitivity re-runs, the folds and the provenance. It is stored as
// results.json in the run directory; `folio report` recomputes the report
// from it, byte for byte.
type Results struct {
	Version     int        `json:"version"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Provenance  Provenance `json:"provenance"`
	// PeriodsPerYear annualises every metric (365-day year / bar interval).
	PeriodsPerYear float64 `json:"periods_per_year"`
	// Interval is the bar interval, e.g. "1d".
	Interval string   `json:"interval"`
	Assets   []string `json:"assets"`
	// Times holds the open time (Unix seconds) of every panel bar, so bar
	// indices in paths can be shown as dates.
	Times []int64      `json:"times"`
	Folds []FoldWindow `json:"folds"`
	Seeds []SeedResult `json:"seeds"`
	// CPCVLayout records the combinatorial purged cross-validation plan
	// when one was run (format version 2; nil in version 1 files).
	CPCVLayout *CPCVLayout `json:"cpcv_layout,omitempty"`
	// Settings of the statistics.
	Settings ReportSettings `json:"settings"`
	// Notes are warnings and facts the report must show (data fills,
	// dropped buckets, fallbacks, non-converged fits, …).
	Notes []string `json:"notes,omitempty"`
	// InSample is set by the runner when the agents were trained on some
	// of the evaluated bars (folio eval with --start inside the training
	// range). The report is then titled and headed "in sample" and warns
	// in its findings and in report.json. BuildReport also detects it
	// without the flag, from a fold whose test bars overlap its own
	// training bars.
	InSample bool `json:"in_sample"`
}

// Provenance records what was run.
type Provenance struct {
	Experiment      string   `json:"experiment"`
	ConfigTOML      string   `json:"config_toml"`
	ConfigHash      string   `json:"config_hash"`
	RootSeed        uint64   `json:"root_seed"`
	Seeds           []uint64 `json:"seeds"`
	DataFingerprint string   `json:"data_fingerprint"`
	DataSource      string   `json:"data_source"`
	CodeVersion     string   `json:"code_version"`
	GoVersion       string   `json:"go_version"`
	RegimeSource    string   `json:"regime_source"`
}

// FoldWindow is one walk-forward fold: training bars [TrainStart,
// TrainEnd) and test bars [TestStart, TestEnd) (the returns of the test
// bars are out of sample).
type FoldWindow struct {
	Index      int `json:"index"`
	TrainStart int `json:"train_start"`
	TrainEnd   int `json:"train_end"`
	TestStart  int `json:"test_start"`
	TestEnd    int `json:"test_end"`
}

// SeedResult holds one seed's strategies.
type SeedResult struct {
	Seed       uint64        `json:"seed"`
	Strategies []StrategyRun `json:"strategies"`
	// Costs holds the cost-sensitivity re-runs: the same strategies (the
	// same trained agents) at other fee levels.
	Costs []CostRun `json:"costs,omitempty"`
	// CPCV holds the combinatorial purged cross-validation paths, when run.
	CPCV []CPCVStrategy `json:"cpcv,omitempty"`
}

// CPCVStrategy is one strategy's results over the φ backtest paths of a
// combinatorial purged cross-validation.
type CPCVStrategy struct {
	Name       string    `json:"name"`
	PathSharpe []float64 `json:"path_sharpe"`
	PathReturn []float64 `json:"path_return"`
}

// MarshalJSON encodes c with NaN as null.
func (c CPCVStrategy) MarshalJSON() ([]byte, error) { return marshalFinite(c) }

// UnmarshalJSON decodes c, reading null as NaN.
func (c *CPCVStrategy) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, c) }

// StrategyRun is one strategy's stitched out-of-sample path and what
// happened along it.
type StrategyRun struct {
	Name string `json:"name"`
	// Kind is "agent" or "baseline".
	Kind string `json:"kind"`
	// Description says what the strategy is (method and key parameters).
	Description string `json:"description,omitempty"`
	// Implementable is false for strategies that use the future (best stock
	// in hindsight); the report labels them.
	Implementable bool  `json:"implementable"`
	Path          *Path `json:"path"`
	// GuardCounts counts guard interventions by limit over the path.
	GuardCounts map[string]int `json:"guard_counts,omitempty"`
	// Fallbacks counts optimisation fallbacks by reason.
	Fallbacks map[string]int `json:"fallbacks,omitempty"`
	// Training summarises the agent's training per fold (agents only).
	Training []TrainingSummary `json:"training,omitempty"`
}

// TrainingSummary is one fold's training of one agent.
type TrainingSummary struct {
	Fold       int     `json:"fold"`
	Steps      int     `json:"steps"`
	Iterations int     `json:"iterations"`
	Selected   string  `json:"selected"`
	BestScore  float64 `json:"best_score"`
	BestIter   int     `json:"best_iter"`
}

// MarshalJSON encodes s with NaN as null.
func (s TrainingSummary) MarshalJSON() ([]byte, error) { return marshalFinite(s) }

// UnmarshalJSON decodes s, reading null as NaN.
func (s *TrainingSummary) UnmarshalJSON(data []byte) error { return unmarshalFinite(data, s) }

// CostRun is one strategy re-run at one fee level: its per-step returns.
type CostRun struct {
	Strategy string    `json:"strategy"`
	FeeBps   float64   `json:"fee_bps"`
	Returns  []float64 `json:"returns"`
	Turnover float64   `json:"turnover"` // mean per step
	// FinalWeights and FinalValue are the holdings at the end (a following
	// test window at the same fee level starts from them).
	FinalWeights []float64 `json:"final_weights,omitempty"`
	FinalValue   float64   `json:"final_value,omitempty"`
}

// ReportSettings configures the report's statistics.
type ReportSettings struct {
	Bootstrap     int      `json:"bootstrap"`
	BlockLength   float64  `json:"block_length"`
	Confidence    float64  `json:"confidence"`
	RollingWindow int      `json:"rolling_window"`
	Benchmarks    []string `json:"benchmarks"`
	// ExtraTrials is the number of configurations tried outside this run
	// (earlier hyperparameter searches, discarded agents or reward
	// designs), for the deflated Sharpe ratio. The DSR deflates for
	// N = the run's own trials (DSRTrialSet: the implementable strategies
	// with a defined Sharpe ratio, cash excluded) + ExtraTrials. The Sharpe
	// variance of the trials is estimated from the run's own trials only.
	// 0 = none; never negative.
	ExtraTrials int `json:"extra_trials"`
	// StatsSeed seeds the bootstrap.
	StatsSeed uint64 `json:"stats_seed"`
}

// WriteResults writes r as indented JSON to path atomically.
func WriteResults(path string, r *Results) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(r)
	})
}

// ReadResults reads a results.json.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	if r.Settings.ExtraTrials < 0 {
		return nil, fmt.Errorf("eval: %s: settings.extra_trials is %d; it counts configurations tried outside the run and must be ≥ 0", path, r.Settings.ExtraTrials)
	}
	switch {
	case r.Version > ResultsVersion:
		return nil, fmt.Errorf("eval: %s has results format version %d, written by a newer folio; this folio reads versions %d–%d (update folio to read it)", path, r.Version, MinResultsVersion, ResultsVersion)
	case r.Version < MinResultsVersion:
		return nil, fmt.Errorf("eval: %s has results format version %d; this folio reads versions %d–%d (re-run the experiment with this version)", path, r.Version, MinResultsVersion, ResultsVersion)
	}
	if r.Version >= 2 && r.CPCVLayout == nil {
		for _, s := range r.Seeds {
			if len(s.CPCV) > 0 {
				return nil, fmt.Errorf("eval: %s: seed %d holds CPCV results but cpcv_layout is missing (required from results format version 2); the file is damaged: re-run the experiment", path, s.Seed)
			}
		}
	}
	if err := r.checkCPCV(); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	if r.Version < 3 {
		// Versions 1–2 held settings.trials: the total number of trials,
		// 0 for "every strategy of the run".
		var legacy struct {
			Settings struct {
				Trials int `json:"trials"`
			} `json:"settings"`
		}
		if err := json.Unmarshal(b, &legacy); err != nil {
			return nil, fmt.Errorf("eval: %s: %w", path, err)
		}
		if t := legacy.Settings.Trials; t > 0 && len(r.Seeds) > 0 {
			own := len(DSRTrialSet(r.Seeds[0].Strategies))
			r.Settings.ExtraTrials = max(0, t-own)
			r.Notes = append(r.Notes, fmt.Sprintf("Results format version %d: settings.trials = %d (total trials) read as %d trial(s) outside the run besides the run's own %d.", r.Version, t, r.Settings.ExtraTrials, own))
		}
	}
	return &r, nil
}
