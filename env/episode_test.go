package env_test

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
)

// starts draws n episode starts with seeds 0..n−1.
func starts(t *testing.T, m *env.Market, n int) []int {
	t.Helper()
	obs := make([]float64, m.Spec().Observation.Len())
	s := make([]int, n)
	for k := range s {
		info, err := m.Reset(obs, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		s[k] = info.Bar
	}
	return s
}

// TestStartsUniformInValidRange: starts never precede warm-up + window − 1,
// leave room for the episode, cover the whole range and are uniform (the
// mean of 4000 draws within 4 standard errors of the midpoint). Equal seeds
// give equal starts.
func TestStartsUniformInValidRange(t *testing.T) {
	p := envtest.RandomPanel(150, 2, 40)
	fs := envtest.Features(p) // warm-up 10 (vol10)
	cfg := smallCfg()         // window 8, episode 40
	m := mustNew(t, p, fs, nil, cfg)
	first, last := m.StartRange()
	if first != 10+8-1 || last != 149-40 {
		t.Fatalf("start range [%d, %d], want [17, 109]", first, last)
	}
	s := starts(t, m, 4000)
	lo, hi, mean := s[0], s[0], 0.0
	for _, b := range s {
		lo, hi = min(lo, b), max(hi, b)
		mean += float64(b) / float64(len(s))
	}
	n := float64(last - first + 1)
	se := math.Sqrt((n*n-1)/12) / math.Sqrt(float64(len(s)))
	if lo != first || hi != last || math.Abs(mean-float64(first+last)/2) > 4*se {
		t.Errorf("starts in [%d, %d] with mean %.2f; want [%d, %d] and mean %.1f ± %.2f", lo, hi, mean, first, last, float64(first+last)/2, 4*se)
	}
	again := starts(t, m, 50)
	for k := range again {
		if again[k] != s[k] {
			t.Fatalf("seed %d: start %d then %d", k, s[k], again[k])
		}
	}
	cfg.EpisodeStart = env.StartFirst
	mf := mustNew(t, p, fs, nil, cfg)
	for _, b := range starts(t, mf, 5) {
		if b != first {
			t.Fatalf("episode_start = first started at %d, want %d", b, first)
		}
	}
	obs := make([]float64, m.Spec().Observation.Len())
	for _, b := range []int{first - 1, last + 1} {
		if _, err := m.ResetAt(obs, b); err == nil {
			t.Errorf("ResetAt(%d) outside [%d, %d] succeeded", b, first, last)
		}
	}
}

// TestSegment: with segment bounds the starts lie in the segment, an
// episode running to the end stops (truncated) at the segment's end bar,
// and data after the segment end is never read: perturbing it leaves whole
// trajectories unchanged.
func TestSegment(t *testing.T) {
	p := envtest.RandomPanel(200, 3, 41)
	cfg := smallCfg()
	cfg.EpisodeLen = 0
	cfg.SegmentStart = p.Time(60)
	cfg.SegmentEnd = p.Time(120).Add(time.Hour) // inside bar 120: bar 120 is the last
	m := mustNew(t, p, envtest.Features(p), nil, cfg)
	if first, last := m.StartRange(); first != 60 || last != 119 {
		t.Fatalf("start range [%d, %d], want [60, 119]", first, last)
	}
	// The same env on a panel whose bars after 120 are doubled.
	q := scaleAfter(t, p, 120, 2)
	mq := mustNew(t, q, envtest.Features(q), nil, cfg)
	spec := m.Spec()
	obs, obsQ := make([]float64, spec.Observation.Len()), make([]float64, spec.Observation.Len())
	res, resQ := env.NewStepResult(spec), env.NewStepResult(spec)
	m.ResetAt(obs, 60)
	mq.ResetAt(obsQ, 60)
	a := []float64{0.1, 0.3, 0.3, 0.3}
	steps := 0
	for {
		if err := m.Step(res, a); err != nil {
			t.Fatal(err)
		}
		mq.Step(resQ, a)
		steps++
		if res.Reward != resQ.Reward || res.Info.Value != resQ.Info.Value || res.Obs[0] != resQ.Obs[0] {
			t.Fatalf("step %d: data after the segment end changed the trajectory", steps)
		}
		if res.Terminated || res.Truncated {
			break
		}
	}
	if steps != 60 || res.Info.Bar != 120 || !res.Truncated || res.Terminated {
		t.Errorf("episode of %d steps ended at bar %d (truncated %v, terminated %v); want 60 steps to bar 120, truncated",
			steps, res.Info.Bar, res.Truncated, res.Terminated)
	}
}

// scaleAfter multiplies every price of the bars after cut by f.
func scaleAfter(t *testing.T, p *market.Panel, cut int, f float64) *market.Panel {
	t.Helper()
	return mapPanel(t, p, func(s, _ int, b ohlcv) ohlcv {
		if s > cut {
			b.o, b.h, b.l, b.c = f*b.o, f*b.h, f*b.l, f*b.c
		}
		return b
	})
}

// TestTruncationAndTermination: an episode of length L truncates after
// exactly L steps; falling below the wealth floor terminates. The crash
// panel halves asset A0 every bar, so an all-in portfolio is worth
// 0.5^k of its start after k steps: with terminate_below = 0.3 the episode
// terminates at step 2 (0.25 < 0.3), not at step 1 (0.5).
func TestTruncationAndTermination(t *testing.T) {
	p := envtest.RandomPanel(100, 2, 42)
	cfg := smallCfg()
	cfg.EpisodeLen = 7
	m := mustNew(t, p, nil, nil, cfg)
	obs := make([]float64, m.Spec().Observation.Len())
	res := env.NewStepResult(m.Spec())
	m.Reset(obs, 3)
	for k := 1; k <= 7; k++ {
		m.Step(res, []float64{1, 0, 0})
		if (res.Truncated || res.Terminated) != (k == 7) || res.Terminated {
			t.Fatalf("step %d: truncated %v terminated %v", k, res.Truncated, res.Terminated)
		}
	}

	const T = 30
	spec := market.PanelSpec{Assets: []string{"CRASH", "FLAT"}, Interval: 24 * time.Hour, Times: make([]int64, T),
		Open: make([]float64, 2*T), High: make([]float64, 2*T), Low: make([]float64, 2*T), Close: make([]float64, 2*T), Volume: make([]float64, 2*T)}
	for s := 0; s < T; s++ {
		spec.Times[s] = int64(s) * 86400
		c := math.Pow(0.5, float64(s))
		for i, price := range []float64{c, 1} {
			k := 2*s + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k], spec.Volume[k] = price, price, price, price, 1e12
		}
	}
	crash, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg = smallCfg()
	cfg.Costs = zeroCosts()
	cfg.TerminateBelow = 0.3
	cfg.EpisodeLen = 10
	mc := mustNew(t, crash, nil, nil, cfg)
	obs = make([]float64, mc.Spec().Observation.Len())
	res = env.NewStepResult(mc.Spec())
	mc.Reset(obs, 1)
	mc.Step(res, []float64{0, 1, 0})
	if res.Terminated || res.Truncated || res.Info.Value != 0.5*cfg.InitialCapital {
		t.Fatalf("step 1: value %v terminated %v", res.Info.Value, res.Terminated)
	}
	mc.Step(res, []float64{0, 1, 0})
	if !res.Terminated || res.Truncated {
		t.Fatalf("step 2: value %v terminated %v truncated %v, want terminated", res.Info.Value, res.Terminated, res.Truncated)
	}
}

// regimeLabels labels bars in blocks of 10: bull 60%, bear 30%, crash 10%.
func regimeLabels(T int) []market.Regime {
	pattern := []market.Regime{market.Bull, market.Bull, market.Bull, market.Bull, market.Bull, market.Bull,
		market.Bear, market.Bear, market.Bear, market.Crash}
	l := make([]market.Regime, T)
	for t := range l {
		l[t] = pattern[(t/10)%len(pattern)]
	}
	return l
}

// TestRegimeSampling: uniform sampling follows the label frequencies,
// balanced sampling gives each present regime an equal share, and named
// regimes restrict the starts. Shares of 6000 draws are compared with 5
// binomial standard errors (≤ 0.033).
func TestRegimeSampling(t *testing.T) {
	p := envtest.RandomPanel(1000, 2, 43)
	labels := regimeLabels(p.T())
	share := func(cfg env.Config) map[market.Regime]float64 {
		m := mustNew(t, p, nil, labels, cfg)
		sh := map[market.Regime]float64{}
		const n = 6000
		for _, b := range starts(t, m, n) {
			sh[labels[b]] += 1.0 / n
		}
		return sh
	}
	const tol = 5 * 0.0065 // 5·√(0.5·0.5/6000)
	cfg := smallCfg()
	u := share(cfg)
	if math.Abs(u[market.Bull]-0.6) > tol || math.Abs(u[market.Bear]-0.3) > tol || math.Abs(u[market.Crash]-0.1) > tol {
		t.Errorf("uniform shares %v, want 0.6/0.3/0.1", u)
	}
	cfg.RegimeSampling = env.SampleBalanced
	b := share(cfg)
	for _, r := range []market.Regime{market.Bull, market.Bear, market.Crash} {
		if math.Abs(b[r]-1.0/3) > tol {
			t.Errorf("balanced share of %v = %.3f, want 1/3", r, b[r])
		}
	}
	cfg.Regimes = []string{"bear", "crash"}
	rb := share(cfg)
	if rb[market.Bull] != 0 || math.Abs(rb[market.Bear]-0.5) > tol {
		t.Errorf("balanced over bear, crash: shares %v", rb)
	}
	cfg.RegimeSampling = env.SampleUniform
	cfg.Regimes = []string{"crash"}
	if c := share(cfg); math.Abs(c[market.Crash]-1) > 1e-9 {
		t.Errorf("restricted to crash: shares %v", c)
	}
}

// TestRegimeTruncate: with regime_truncate an episode restricted to bear
// truncates at the first decision bar not labelled bear; without it the
// episode runs its full length.
func TestRegimeTruncate(t *testing.T) {
	p := envtest.RandomPanel(400, 2, 44)
	labels := regimeLabels(p.T())
	for _, trunc := range []bool{true, false} {
		cfg := smallCfg()
		cfg.Regimes = []string{"bear"}
		cfg.RegimeTruncate = trunc
		m := mustNew(t, p, nil, labels, cfg)
		obs := make([]float64, m.Spec().Observation.Len())
		res := env.NewStepResult(m.Spec())
		for s := uint64(0); s < 20; s++ {
			info, _ := m.Reset(obs, s)
			if labels[info.Bar] != market.Bear || info.Regime != market.Bear {
				t.Fatalf("start %d labelled %v", info.Bar, labels[info.Bar])
			}
			steps := 0
			for {
				m.Step(res, []float64{0.5, 0.25, 0.25})
				steps++
				if res.Info.Regime != labels[res.Info.Bar] {
					t.Fatalf("info regime %v at bar %d labelled %v", res.Info.Regime, res.Info.Bar, labels[res.Info.Bar])
				}
				if res.Truncated || res.Terminated {
					break
				}
				if trunc && labels[res.Info.Bar] != market.Bear {
					t.Fatalf("episode continued into bar %d labelled %v", res.Info.Bar, labels[res.Info.Bar])
				}
			}
			left := labels[res.Info.Bar] != market.Bear
			if trunc && steps < cfg.EpisodeLen && !left {
				t.Fatalf("truncated after %d steps inside the regime", steps)
			}
			if !trunc && steps != cfg.EpisodeLen {
				t.Fatalf("without regime_truncate the episode lasted %d steps, want %d", steps, cfg.EpisodeLen)
			}
		}
	}
}
