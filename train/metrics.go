package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"

	"fmt"
	"github.com/folio-rl/folio/internal/atomicfile"
	"io"
	"math"
	"sort"
	"strconv"
)

// Sink receives scalar metrics keyed by namespaced names ("train/…",
// "rollout/…", "eval/…", "perf/…") at a global env-step count.
type Sink interface {
	Record(step int, key string, v float64)
	Flush() error
}

// JSONLines writes one JSON object per step: {"step": S, "key": value, ...},
// keys sorted, non-finite values as null. Records of the same step are
// grouped until Flush. Wall-clock metrics (perf/…) can be excluded so that
// the log is reproducible byte for byte.
type JSONLines struct {
	w        *bufio.Writer
	step     int
	vals     map[string]float64
	skipPerf bool
}

// NewJSONLines returns a sink writing to w. With reproducible set, keys
// under "perf/" (wall-clock speed) are dropped.
func NewJSONLines(w io.Writer, reproducible bool) *JSONLines {
	return &JSONLines{w: bufio.NewWriter(w), vals: map[string]float64{}, skipPerf: reproducible}
}

// Record implements Sink.
func (j *JSONLines) Record(step int, key string, v float64) {
	if j.skipPerf && len(key) > 5 && key[:5] == "perf/" {
		return
	}
	if len(j.vals) > 0 && step != j.step {
		j.writeLine()
	}
	j.step = step
	j.vals[key] = v
}

func (j *JSONLines) writeLine() {
	keys := make([]string, 0, len(j.vals))
	for k := range j.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(j.w, `{"step":%d`, j.step)
	for _, k := range keys {
		v := j.vals[k]
		s := "null"
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s = strconv.FormatFloat(v, 'g', -1, 64)
		}
		fmt.Fprintf(j.w, `,%s:%s`, strconv.Quote(k), s)
	}
	j.w.WriteString("}\n")
	clear(j.vals)
}

// Flush implements Sink.
func (j *JSONLines) Flush() error {
	if len(j.vals) > 0 {
		j.writeLine()
	}
	return j.w.Flush()
}

// TruncateJSONLines rewrites a JSON-lines metrics log keeping only the
// records with "step" ≤ maxStep (a resumed run then appends the rest).
// A missing file is not an error.
func TruncateJSONLines(path string, maxStep int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec struct {
			Step int `json:"step"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Step > maxStep || !bytes.HasSuffix(line, []byte("\n")) {
			break
		}
		keep = append(keep, line...)
	}
	return atomicfile.WriteFile(path, keep, 0o644)
}
