package eval

import (
	"reflect"
	"testing"

	"gonum.org/v1/plot"
)

// TestLogTicks checks the log axis labels: 1-2-5 per decade in range,
// minor ticks unlabelled, every integer multiple labelled on a narrow
// range, nothing for an invalid range.
func TestLogTicks(t *testing.T) {
	labels := func(lo, hi float64) (lab []string, n int) {
		for _, tk := range (logTicks{}).Ticks(lo, hi) {
			if tk.Label != "" {
				lab = append(lab, tk.Label)
			}
			n++
		}
		return lab, n
	}
	if got, n := labels(0.45, 8.3); !reflect.DeepEqual(got, []string{"0.5", "1", "2", "5"}) || n != 13 {
		t.Errorf("0.45–8.3: labels %v, %d ticks; want [0.5 1 2 5], 13 ticks (0.5–0.9, 1–8)", got, n)
	}
	// Fewer than two 1-2-5 labels: gonum's linear ticks.
	for _, r := range [][2]float64{{1.1, 1.9}, {0.95, 1.6}} {
		got, _ := labels(r[0], r[1])
		want := 0
		for _, tk := range (plot.DefaultTicks{}).Ticks(r[0], r[1]) {
			if tk.Label != "" {
				want++
			}
		}
		if len(got) != want || want < 2 {
			t.Errorf("%v: labels %v, want gonum's %d linear labels", r, got, want)
		}
	}
	if got, _ := labels(2.5, 4.2); !reflect.DeepEqual(got, []string{"3", "4"}) {
		t.Errorf("2.5–4.2 (narrow): labels %v, want [3 4]", got)
	}
	if got, _ := labels(0, 3); got != nil {
		t.Errorf("lo = 0: got %v, want no ticks", got)
	}
}
