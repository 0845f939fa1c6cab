package train

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the optional progress bar: steps done, steps per second and
// the recent episode return. It is advanced once per iteration.
type progress struct {
	bar   *progressbar.ProgressBar
	label string
}

func newProgress(w io.Writer, label string, total int) *progress {
	if w == nil {
		return &progress{}
	}
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar, label: label}
}

func (p *progress) set(steps int, epReturn float64) {
	if p.bar == nil {
		return
	}
	desc := p.label
	if !math.IsNaN(epReturn) {
		desc = fmt.Sprintf("%s ep_return %+.4f", p.label, epReturn)
	}
	p.bar.Describe(desc)
	_ = p.bar.Set64(int64(steps))
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
