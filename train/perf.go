package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// perfFile is the name of the speed summary in the run directory.
const perfFile = "perf.json"

// perfRecord is perf.json: how fast the last call of Run went. It is kept
// apart from the metrics log, which leaves out wall-clock numbers so that
// it is reproducible byte for byte.
type perfRecord struct {
	Steps        int     `json:"steps"`         // env steps of the run so far (all sessions)
	Iterations   int     `json:"iterations"`    // iterations so far
	Episodes     int     `json:"episodes"`      // episodes finished so far
	SessionSteps int     `json:"session_steps"` // env steps taken by this call (steps minus those restored from the checkpoint)
	WallSeconds  float64 `json:"wall_seconds"`  // wall time of this call's training loop
	StepsPerSec  float64 `json:"steps_per_sec"` // session_steps / wall_seconds
	Envs         int     `json:"envs"`          // parallel envs
	Workers      int     `json:"workers"`       // env-stepping goroutines: train.workers capped at envs
	GOMAXPROCS   int     `json:"gomaxprocs"`
	NumCPU       int     `json:"num_cpu"`
	Resumed      bool    `json:"resumed"`     // this call continued from a checkpoint
	Interrupted  bool    `json:"interrupted"` // this call was cancelled before the budget was spent
}

// writePerf writes p as dir/perf.json, atomically.
func writePerf(dir string, p perfRecord) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("train: %s: %w", perfFile, err)
	}
	if err := writeModel(dir, perfFile, append(b, '\n')); err != nil {
		return fmt.Errorf("train: writing %s: %w", filepath.Join(dir, perfFile), err)
	}
	return nil
}
