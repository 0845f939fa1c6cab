package train

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestDescribe: the progress bar's description carries the label, the
// mean episode return and the speed, each only when known.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		label    string
		ret, sps float64
		want     string
	}{
		{"fold 1 ppo", 0.01234, 1234.4, "fold 1 ppo ep_return +0.0123 1234 steps/s"},
		{"fold 1 ppo", -0.5, math.NaN(), "fold 1 ppo ep_return -0.5000"},
		{"fold 1 ppo", math.NaN(), 88, "fold 1 ppo 88 steps/s"},
		{"", math.NaN(), math.Inf(1), ""},
		{"", 1, 2, "ep_return +1.0000 2 steps/s"},
	} {
		if got := describe(tc.label, tc.ret, tc.sps); got != tc.want {
			t.Errorf("describe(%q, %v, %v) = %q, want %q", tc.label, tc.ret, tc.sps, got, tc.want)
		}
	}
}

// TestProgressWrites: the bar writes its count and description to the
// writer it was given (the caller passes stderr, or nil when quiet); a
// nil writer makes every call a no-op.
func TestProgressWrites(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "fold 2 ddpg", 100)
	p.every = 0 // no throttle: every call draws
	p.set(40, 0.25, 1500)
	p.set(120, 0.5, 1600) // whole iterations may overshoot the budget
	out := b.String()
	for _, want := range []string{"fold 2 ddpg ep_return +0.2500 1500 steps/s", "(40/100)", "fold 2 ddpg ep_return +0.5000 1600 steps/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%q", want, out)
		}
	}
	// Past the budget the bar is full and finished (and clears itself),
	// rather than refusing the count.
	if !p.bar.IsFinished() {
		t.Errorf("bar not finished after the budget was overshot:\n%q", out)
	}
	p.finish()

	q := newProgress(nil, "quiet", 100)
	q.set(50, 1, 1)
	q.finish()
}
