package envtest_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// testCfg is a small default configuration for the synthetic panel.
func testCfg() env.Config {
	c := env.Defaults()
	c.Window = 8
	c.EpisodeLen = 40
	return c
}

func marketFrom(p *market.Panel, fs *features.Set, cfg env.Config) (env.Env, error) {
	return env.New(p, fs, nil, cfg)
}

// honest returns the factories of a conforming market env.
func honest(t *testing.T) (envtest.Factory, envtest.Options) {
	t.Helper()
	p := envtest.RandomPanel(160, 3, 1)
	from := func(p *market.Panel) (env.Env, error) { return marketFrom(p, envtest.Features(p), testCfg()) }
	return func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from, Steps: 60}
}

func TestHonestMarketPasses(t *testing.T) {
	f, opts := honest(t)
	envtest.Check(t, f, opts)
}

// failed returns the names of the failed checks.
func failed(probs []envtest.Problem) []string {
	var s []string
	for _, p := range probs {
		s = append(s, p.Check)
	}
	return s
}

// expectOnly asserts that exactly the named checks fail.
func expectOnly(t *testing.T, probs []envtest.Problem, want ...string) {
	t.Helper()
	got := failed(probs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("failed checks %v, want exactly %v", got, want)
	}
	for _, p := range probs {
		t.Logf("%v", p)
	}
}

// futureFeatures is a deliberately leaky feature builder: the "return"
// feature at t is the log return of bar t+1 (a one-bar shift mistake).
func futureFeatures(p *market.Panel) *features.Set {
	fs := features.NewSet(p.T(), p.N(), []string{"ret"}, nil)
	for i := 0; i < p.N(); i++ {
		s := fs.Series(i, 0)
		for t := 0; t+1 < p.T(); t++ {
			s[t] = p.LogReturn(t+1, i)
		}
		s[p.T()-1] = 0
	}
	return fs
}

// centredFeatures is a subtler leak: a centred 5-bar moving average of the
// close (a smoothing that reads two bars ahead), relative to the close.
func centredFeatures(p *market.Panel) *features.Set {
	fs := features.NewSet(p.T(), p.N(), []string{"ma"}, nil)
	for i := 0; i < p.N(); i++ {
		s := fs.Series(i, 0)
		for t := 2; t < p.T(); t++ {
			var m float64
			for k := t - 2; k <= min(t+2, p.T()-1); k++ {
				m += p.Close(k, i)
			}
			s[t] = m / 5 / p.Close(t, i)
		}
	}
	return fs
}

// volumeFeatures leaks only through the next bar's volume.
func volumeFeatures(p *market.Panel) *features.Set {
	fs := features.NewSet(p.T(), p.N(), []string{"vol"}, nil)
	for i := 0; i < p.N(); i++ {
		s := fs.Series(i, 0)
		for t := 0; t+1 < p.T(); t++ {
			s[t] = math.Log1p(p.Volume(t+1, i))
		}
		s[p.T()-1] = 0
	}
	return fs
}

// TestLookAheadCatchesLeakyFeatures builds market envs whose features read
// the future in three ways; the probe must fail each, and only the probe.
func TestLookAheadCatchesLeakyFeatures(t *testing.T) {
	for name, build := range map[string]func(*market.Panel) *features.Set{
		"next return": futureFeatures, "centred average": centredFeatures, "next volume": volumeFeatures,
	} {
		t.Run(name, func(t *testing.T) {
			p := envtest.RandomPanel(160, 3, 2)
			from := func(p *market.Panel) (env.Env, error) { return marketFrom(p, build(p), testCfg()) }
			probs := envtest.Run(func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from, Steps: 60})
			expectOnly(t, probs, envtest.CheckLookAhead)
		})
	}
}

// peekInfo leaks through Info: it reports the return of the bar after the
// new decision bar, read from the panel.
type peekInfo struct{ *env.Market }

func (e peekInfo) Step(dst *env.StepResult, a []float64) error {
	if err := e.Market.Step(dst, a); err != nil {
		return err
	}
	if t := dst.Info.Bar; t+1 < e.Market.Market().T() {
		dst.Info.Return = e.Market.Market().Return(t+1, 0)
	}
	return nil
}

// peekReward leaks into the reward: it adds the next bar's move of asset 0.
type peekReward struct{ *env.Market }

func (e peekReward) Step(dst *env.StepResult, a []float64) error {
	if err := e.Market.Step(dst, a); err != nil {
		return err
	}
	if t := dst.Info.Bar; t+1 < e.Market.Market().T() {
		dst.Reward += 1e-3 * e.Market.Market().LogReturn(t+1, 0)
	}
	return nil
}

func TestLookAheadCatchesLeakyInfoAndReward(t *testing.T) {
	for name, wrap := range map[string]func(*env.Market) env.Env{
		"info":   func(m *env.Market) env.Env { return peekInfo{m} },
		"reward": func(m *env.Market) env.Env { return peekReward{m} },
	} {
		t.Run(name, func(t *testing.T) {
			p := envtest.RandomPanel(160, 3, 3)
			from := func(p *market.Panel) (env.Env, error) {
				m, err := env.New(p, envtest.Features(p), nil, testCfg())
				return wrap(m), err
			}
			probs := envtest.Run(func() (env.Env, error) { return from(p) }, envtest.Options{Panel: p, FromPanel: from, Steps: 60})
			expectOnly(t, probs, envtest.CheckLookAhead)
		})
	}
}

// retainCaller retains the caller's slice on every step.
type retainCaller struct {
	*env.Market
	prev, buf []float64
}

func (e *retainCaller) Step(dst *env.StepResult, a []float64) error {
	use := a
	if e.prev != nil {
		for i := range a {
			e.buf[i] = 0.5*a[i] + 0.5*e.prev[i]
		}
		use = e.buf
	}
	e.prev = a // the bug: no copy
	return e.Market.Step(dst, use)
}

func (e *retainCaller) Reset(dst []float64, s uint64) (env.Info, error) {
	e.prev = nil
	return e.Market.Reset(dst, s)
}

// obsKeeper keeps the caller's observation buffer and reads its own state
// (the weights) back from it at the next step.
type obsKeeper struct {
	*env.Market
	last []float64
}

func (e *obsKeeper) Reset(dst []float64, s uint64) (env.Info, error) {
	e.last = dst
	return e.Market.Reset(dst, s)
}

func (e *obsKeeper) Step(dst *env.StepResult, a []float64) error {
	prev := e.last
	if err := e.Market.Step(dst, a); err != nil {
		return err
	}
	dst.Reward += 1e-9 * prev[len(prev)-1] // "cash weight before the step", read from the caller's buffer
	e.last = dst.Obs
	return nil
}

// allocator allocates on every step.
type allocator struct {
	*env.Market
	hist [][]float64
}

func (e *allocator) Step(dst *env.StepResult, a []float64) error {
	e.hist = append(e.hist, append([]float64(nil), a...))
	return e.Market.Step(dst, a)
}

// noisy adds reward noise from a generator that Reset does not reseed.
type noisy struct {
	*env.Market
	rng *rand.Rand
}

func (e *noisy) Step(dst *env.StepResult, a []float64) error {
	if err := e.Market.Step(dst, a); err != nil {
		return err
	}
	dst.Reward += 1e-6 * e.rng.NormFloat64()
	return nil
}

// lenient silently ignores Step before Reset.
type lenient struct {
	*env.Market
	started bool
}

func (e *lenient) Reset(dst []float64, s uint64) (env.Info, error) {
	e.started = true
	return e.Market.Reset(dst, s)
}

func (e *lenient) Step(dst *env.StepResult, a []float64) error {
	if !e.started {
		return nil
	}
	return e.Market.Step(dst, a)
}

// closeOnce fails on a second Close.
type closeOnce struct {
	*env.Market
	closed bool
}

func (e *closeOnce) Close() error {
	if e.closed {
		return errors.New("already closed")
	}
	e.closed = true
	return nil
}

// forgetful carries per-episode state (a step count that shifts rewards)
// that its MarshalBinary, promoted from the market env, does not save.
type forgetful struct {
	*env.Market
	k int
}

func (e *forgetful) Reset(dst []float64, s uint64) (env.Info, error) {
	e.k = 0
	return e.Market.Reset(dst, s)
}

func (e *forgetful) Step(dst *env.StepResult, a []float64) error {
	if err := e.Market.Step(dst, a); err != nil {
		return err
	}
	e.k++
	dst.Reward += 1e-6 * float64(e.k)
	return nil
}

// TestChecksCatchBrokenEnvs shows that each check fails for an env with
// the matching bug, and that the other checks still pass. The broken envs
// embed the market env and so its state encoding, which does not cover
// what they add: the state check is off for them (Options.NoState) except
// for the case made to fail it.
func TestChecksCatchBrokenEnvs(t *testing.T) {
	p := envtest.RandomPanel(160, 3, 4)
	fs := envtest.Features(p)
	newMarket := func(c env.Config) *env.Market {
		m, err := env.New(p, fs, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := func() *env.Market { return newMarket(testCfg()) }
	// fromFirstBar starts every episode at the first bar, whatever the seed.
	fromFirstBar := func() env.Env {
		c := testCfg()
		c.EpisodeStart = env.StartFirst
		return newMarket(c)
	}
	cases := []struct {
		name  string
		build func() env.Env
		opts  envtest.Options
		want  []string
	}{
		{"retains action", func() env.Env { return &retainCaller{Market: base(), buf: make([]float64, 4)} }, envtest.Options{}, []string{envtest.CheckActionRetention}},
		{"keeps obs buffer", func() env.Env { return &obsKeeper{Market: base()} }, envtest.Options{}, []string{envtest.CheckObsAliasing}},
		{"allocates", func() env.Env { return &allocator{Market: base()} }, envtest.Options{}, []string{envtest.CheckAllocs}},
		{"unseeded noise", func() env.Env { return &noisy{Market: base(), rng: rand.New(rand.NewPCG(1, 2))} }, envtest.Options{}, []string{envtest.CheckDeterminism}},
		{"step before reset", func() env.Env { return &lenient{Market: base()} }, envtest.Options{}, []string{envtest.CheckStepBeforeReset}},
		{"close twice", func() env.Env { return &closeOnce{Market: base()} }, envtest.Options{}, []string{envtest.CheckClose}},
		{"ignores seed", fromFirstBar, envtest.Options{}, []string{envtest.CheckSeeds}},
		{"unsaved state", func() env.Env { return &forgetful{Market: base()} }, envtest.Options{}, []string{envtest.CheckState}},
		{"ignores seed, declared", fromFirstBar, envtest.Options{SeedInsensitive: true}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Steps = 60
			tc.opts.NoState = tc.name != "unsaved state"
			probs := envtest.Run(func() (env.Env, error) { return tc.build(), nil }, tc.opts)
			expectOnly(t, probs, tc.want...)
		})
	}
}

// TestRandomPanelAndFeatures checks the fixtures: the features equal a
// direct computation from the panel, and the global feature is the
// cross-sectional mean of the log returns.
func TestRandomPanelAndFeatures(t *testing.T) {
	p := envtest.RandomPanel(50, 4, 9)
	q := envtest.RandomPanel(50, 4, 9)
	if p.Fingerprint() != q.Fingerprint() {
		t.Fatal("RandomPanel is not reproducible")
	}
	fs := envtest.Features(p)
	if w := fs.WarmUp(); w != 10 {
		t.Errorf("warm-up %d, want 10 (the 10-bar volatility)", w)
	}
	var zero int
	for tt := 0; tt < p.T(); tt++ {
		var mean float64
		for i := 0; i < p.N(); i++ {
			if p.Volume(tt, i) == 0 {
				zero++
			}
			if tt == 0 {
				continue
			}
			lr := math.Log(p.Close(tt, i)) - math.Log(p.Close(tt-1, i))
			if math.Abs(fs.Series(i, 0)[tt]-lr) > 1e-12 {
				t.Fatalf("log return of asset %d at %d: %v, want %v", i, tt, fs.Series(i, 0)[tt], lr)
			}
			mean += lr / float64(p.N())
			if tt >= 10 {
				// Volatility by the one-pass formula (independent of the
				// two-pass one in Features): s² = (Σx² − (Σx)²/n)/(n − 1).
				var s1, s2 float64
				for k := tt - 9; k <= tt; k++ {
					x := math.Log(p.Close(k, i) / p.Close(k-1, i))
					s1 += x
					s2 += x * x
				}
				v := math.Sqrt((s2 - s1*s1/10) / 9)
				if math.Abs(fs.Series(i, 1)[tt]-v) > 1e-9 {
					t.Fatalf("vol10 of asset %d at %d: %v, want %v", i, tt, fs.Series(i, 1)[tt], v)
				}
			}
		}
		if tt > 0 && math.Abs(fs.GlobalSeries(0)[tt]-mean) > 1e-12 {
			t.Fatalf("global mean at %d: %v, want %v", tt, fs.GlobalSeries(0)[tt], mean)
		}
	}
	t.Logf("%d zero-volume bars of %d", zero, p.T()*p.N())
}
