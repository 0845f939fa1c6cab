package train

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the optional progress bar: env steps done out of the
// budget, and in its description the latest mean episode return and the
// training speed. It is advanced once per iteration, redrawn at most every
// 200 ms (and at the end), and writes only to the writer it was given
// (stderr when it is a terminal; a nil writer, for quiet runs and pipes,
// disables it).
//
// The throttle is ours, not the bar's: progressbar redraws on both
// Describe and Set64 and drops a redraw within its throttle, so with its
// own throttle one of the two updates of an iteration would show only an
// iteration later.
type progress struct {
	bar   *progressbar.ProgressBar
	label string
	total int
	every time.Duration
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	if w == nil {
		return &progress{}
	}
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(24),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar, label: label, total: total, every: 200 * time.Millisecond}
}

// describe returns the bar's description: the label, then the mean
// episode return and the env steps per second when they are known (not
// NaN).
func describe(label string, epReturn, stepsPerSec float64) string {
	desc := label
	if !math.IsNaN(epReturn) {
		desc += fmt.Sprintf(" ep_return %+.4f", epReturn)
	}
	if !math.IsNaN(stepsPerSec) && !math.IsInf(stepsPerSec, 0) {
		desc += fmt.Sprintf(" %.0f steps/s", stepsPerSec)
	}
	return strings.TrimSpace(desc)
}

func (p *progress) set(steps int, epReturn, stepsPerSec float64) {
	if p.bar == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.every || steps >= p.total {
		p.last = now
	} else {
		return
	}
	p.bar.Describe(describe(p.label, epReturn, stepsPerSec))
	_ = p.bar.Set64(int64(min(steps, p.total))) // whole iterations may overshoot the budget; the bar refuses counts past its max
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
