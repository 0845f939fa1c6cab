package guard

import (
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// crashCloses is one asset flat at 1 for bars 0–9, crashing to 0.7 at bar
// 10, −10 % to 0.63 at bar 20, −25 % to 0.4725 at bar 25, flat after.
func crashCloses() [][]float64 {
	c := make([][]float64, 40)
	for t := range c {
		switch {
		case t < 10:
			c[t] = []float64{1}
		case t < 20:
			c[t] = []float64{0.7}
		case t < 25:
			c[t] = []float64{0.63}
		default:
			c[t] = []float64{0.4725}
		}
	}
	return c
}

func TestBreakerCooldownAndRearm(t *testing.T) {
	// All-in every bar with drawdown_limit 0.2, cut to gross 0.1 for 5 bars.
	// Hand-derived path (frictionless, see crashCloses): the value is 0.7 at
	// bar 10 (drawdown 30 % > 20 %: trip, active for decisions 10–14; cash
	// held, value stays 0.7); re-armed at bar 15 with high-water mark 0.7;
	// at bar 20 the value is 0.63, a 10 % drawdown from 0.7 (but 37 % from
	// the episode peak 1): no trip; at bar 25 it is 0.4725, 32.5 % below 0.7:
	// trip, active for decisions 25–29.
	cfg := with(func(c *Config) { c.DrawdownLimit = 0.2; c.DrawdownGross = 0.1; c.DrawdownCooldown = 5 })
	fe := newFakeEnv(panelFromCloses(crashCloses(), 1e9), 1, 1)
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := env.NewStepResult(g.Spec())
	obs := make([]float64, g.Spec().Observation.Len())
	for run := range 2 { // a second episode must behave identically (Reset disarms)
		if _, err := g.Reset(obs, 0); err != nil {
			t.Fatal(err)
		}
		for bar := 1; bar < 39; bar++ {
			if fe.Bar() != bar {
				t.Fatalf("fake env at bar %d, want %d", fe.Bar(), bar)
			}
			if err := g.Step(res, []float64{0, 1}); err != nil {
				t.Fatal(err)
			}
			want := (bar >= 10 && bar < 15) || (bar >= 25 && bar < 30)
			gi := res.Info.Guard
			if gi.BreakerActive != want {
				t.Fatalf("run %d bar %d: breaker active %v, want %v", run, bar, gi.BreakerActive, want)
			}
			wantRisk := 1.0
			if want {
				wantRisk = 0.1
			}
			// Flat prices inside the windows; one rounding in the projection.
			if math.Abs(res.Info.Executed[1]-wantRisk) > 1e-15 {
				t.Fatalf("run %d bar %d: risky weight %v, want %v", run, bar, res.Info.Executed[1], wantRisk)
			}
			if want != (gi.Flags&FlagBreaker != 0) || want != (gi.Interventions == 1) {
				t.Fatalf("run %d bar %d: guard info %+v", run, bar, gi)
			}
		}
	}
	tot := g.Totals()
	if tot.Trips != 4 || tot.BreakerSteps != 20 || tot.Count(FlagBreaker) != 20 || tot.Steps != 76 {
		t.Errorf("totals %+v, want 4 trips and 20 breaker steps of 76", tot)
	}
}

func TestBreakerOutranksTurnover(t *testing.T) {
	// With max_turnover 0.05 the cut to gross 0.1 at bar 10 is forced
	// (precedence: position limits over turnover, flagged as a conflict);
	// after the cooldown the way back up is rate-limited to 0.05 per bar.
	cfg := with(func(c *Config) {
		c.DrawdownLimit, c.DrawdownGross, c.DrawdownCooldown = 0.2, 0.1, 5
		c.MaxTurnover = 0.05
	})
	// Flat at 1, then −70 % at bar 10: ramping up 0.05 per bar the weight is
	// 0.45 at bar 9, so the value at bar 10 is 0.55 + 0.45·0.3 = 0.685, a
	// 31.5 % drawdown; the drifted weight 0.135/0.685 ≈ 0.197 must drop to 0.1.
	closes := make([][]float64, 40)
	for t := range closes {
		closes[t] = []float64{1}
		if t >= 10 {
			closes[t][0] = 0.3
		}
	}
	fe := newFakeEnv(panelFromCloses(closes, 1e9), 1, 1)
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := env.NewStepResult(g.Spec())
	if _, err := g.Reset(make([]float64, g.Spec().Observation.Len()), 0); err != nil {
		t.Fatal(err)
	}
	risk := 0.0
	for bar := 1; bar < 19; bar++ {
		if err := g.Step(res, []float64{0, 1}); err != nil {
			t.Fatal(err)
		}
		got := res.Info.Executed[1]
		switch {
		case bar == 10:
			if math.Abs(got-0.1) > 1e-12 || res.Info.Guard.Flags&FlagConflict == 0 || !res.Info.Guard.BreakerActive {
				t.Fatalf("bar 10: risk %v flags %s", got, flagString(res.Info.Guard.Flags))
			}
		case bar > 10 && bar < 15:
			if math.Abs(got-0.1) > 1e-12 {
				t.Fatalf("bar %d: risk %v in cooldown", bar, got)
			}
		default:
			// the drifted weight equals the executed one at flat prices
			want := math.Min(1, risk+0.05)
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("bar %d: risk %v, want %v", bar, got, want)
			}
		}
		risk = fe.Weights()[1]
	}
}

func TestGuardWrapperContract(t *testing.T) {
	rng := seed.New(1, seed.Test, 20)
	pan := randomPanel(rng, panelOpts{t: 120, n: 3, crashes: true, volScale: 1e6})
	cfg := with(func(c *Config) {
		c.MaxWeight, c.MinCash, c.MaxTurnover, c.MaxParticipation = 0.5, 0.05, 0.5, 0.1
		c.DrawdownLimit, c.VolTarget = 0.1, 0.5
	})
	fe := newFakeEnv(pan, 4, 1e6)
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g.Unwrap() != env.Env(fe) {
		t.Error("Unwrap")
	}
	if p, ok := env.FindPortfolio(g); !ok || p != env.Portfolio(fe) {
		t.Error("FindPortfolio through the guard")
	}
	res := env.NewStepResult(g.Spec())
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Step before Reset did not panic")
			}
		}()
		g.Step(res, []float64{1, 0, 0, 0})
	}()
	obs := make([]float64, g.Spec().Observation.Len())
	if _, err := g.Reset(obs, 3); err != nil {
		t.Fatal(err)
	}
	act := []float64{0, 1, 0, 0}
	if err := g.Step(res, act); err != nil {
		t.Fatal(err)
	}
	if act[1] != 1 {
		t.Error("guard modified the caller's action")
	}
	if res.Info.Guard.Flags&FlagMaxWeight == 0 || res.Info.Guard.Interventions == 0 {
		t.Errorf("guard info %+v after an all-in request", res.Info.Guard)
	}
	for i, x := range g.Projected() {
		if x != res.Info.Requested[i] {
			t.Errorf("inner env saw %v, guard projected %v", res.Info.Requested, g.Projected())
			break
		}
	}
	// Zero allocations per Step, with every limit enabled and adversarial
	// actions cycling.
	acts := [][]float64{{0, 1, 0, 0}, {math.NaN(), 0, 0, 0}, {1e300, -1e300, 5, 0}, {0.25, 0.25, 0.25, 0.25}, {0, 0, 0, 0}}
	k := 0
	allocs := testing.AllocsPerRun(200, func() {
		if res.Truncated {
			if _, err := g.Reset(obs, uint64(k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Step(res, acts[k%len(acts)]); err != nil {
			t.Fatal(err)
		}
		k++
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v times per call", allocs)
	}
	if err := g.Close(); err != nil {
		t.Error(err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestGuardNonFiniteErrorDoesNotStep(t *testing.T) {
	rng := seed.New(1, seed.Test, 21)
	fe := newFakeEnv(randomPanel(rng, panelOpts{t: 30, n: 2, volScale: 1e6}), 2, 1e6)
	g, err := New(fe, with(func(c *Config) { c.NonFinite = NonFiniteError }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Reset(make([]float64, g.Spec().Observation.Len()), 0); err != nil {
		t.Fatal(err)
	}
	bar := fe.Bar()
	err = g.Step(env.NewStepResult(g.Spec()), []float64{0, math.Inf(1), 0})
	if !errors.Is(err, env.ErrInvalidAction) || fe.Bar() != bar {
		t.Errorf("err %v, bar %d → %d", err, bar, fe.Bar())
	}
}

// boxActionEnv hides the fake env's simplex action space behind a Box.
type boxActionEnv struct{ *fakeEnv }

func (b boxActionEnv) Spec() env.Spec {
	s := b.fakeEnv.Spec()
	s.Action.Kind = env.Box
	return s
}

// noPortfolio hides the fake env's Portfolio methods.
type noPortfolio struct{ e *fakeEnv }

func (n noPortfolio) Spec() env.Spec                                     { return n.e.Spec() }
func (n noPortfolio) Reset(dst []float64, seed uint64) (env.Info, error) { return n.e.Reset(dst, seed) }
func (n noPortfolio) Step(dst *env.StepResult, a []float64) error        { return n.e.Step(dst, a) }
func (n noPortfolio) Close() error                                       { return nil }

func TestNewErrors(t *testing.T) {
	rng := seed.New(1, seed.Test, 22)
	fe := newFakeEnv(randomPanel(rng, panelOpts{t: 30, n: 2, volScale: 1e6}), 2, 1e6)
	if _, err := New(boxActionEnv{fe}, Defaults()); err == nil {
		t.Error("logits (Box) action space accepted")
	}
	if _, err := New(noPortfolio{fe}, Defaults()); err == nil {
		t.Error("env without Portfolio accepted")
	}
	if _, err := New(fe, with(func(c *Config) { c.MaxWeight = 2 })); err == nil {
		t.Error("invalid config accepted")
	}
}

func BenchmarkGuardStep(b *testing.B) {
	// limits=position: weight caps, cash floor, turnover, liquidity;
	// limits=all adds the breaker and the vol cap (EWMA forecast per bar).
	for _, n := range []int{4, 10, 32} {
		for _, all := range []bool{false, true} {
			name := benchName("assets", n) + "/limits=position"
			if all {
				name = benchName("assets", n) + "/limits=all"
			}
			b.Run(name, func(b *testing.B) {
				rng := seed.New(1, seed.Test, 23)
				pan := randomPanel(rng, panelOpts{t: 5000, n: n, volScale: 1e7})
				cfg := with(func(c *Config) {
					c.MaxWeight, c.MinCash, c.MaxTurnover, c.MaxParticipation = 0.3, 0.05, 0.5, 0.1
					if all {
						c.DrawdownLimit, c.VolTarget = 0.2, 0.6
					}
				})
				fe := newFakeEnv(pan, 1, 1e6)
				g, err := New(fe, cfg)
				if err != nil {
					b.Fatal(err)
				}
				obs := make([]float64, g.Spec().Observation.Len())
				res := env.NewStepResult(g.Spec())
				acts := make([][]float64, 64)
				for k := range acts { // random allocations; every fourth unnormalised
					acts[k] = make([]float64, n+1)
					s := 0.0
					for i := range acts[k] {
						acts[k][i] = rng.ExpFloat64()
						s += acts[k][i]
					}
					for i := range acts[k] {
						if k%4 != 0 {
							acts[k][i] /= s
						}
					}
				}
				g.Reset(obs, 0)
				k := 0
				b.ReportAllocs()
				for b.Loop() {
					if res.Truncated {
						g.Reset(obs, 0)
					}
					g.Step(res, acts[k&63])
					k++
				}
			})
		}
	}
}

// failingEnv fails every other Step without stepping.
type failingEnv struct {
	*fakeEnv
	calls int
}

func (f *failingEnv) Step(dst *env.StepResult, a []float64) error {
	f.calls++
	if f.calls%2 == 1 {
		return errors.New("transient")
	}
	return f.fakeEnv.Step(dst, a)
}

func TestGuardInnerErrorDoesNotCount(t *testing.T) {
	// Same crash as TestBreakerCooldownAndRearm: every failed attempt is
	// retried, and the totals and breaker must match a run without failures.
	cfg := with(func(c *Config) { c.DrawdownLimit = 0.2; c.DrawdownGross = 0.1; c.DrawdownCooldown = 5 })
	fe := &failingEnv{fakeEnv: newFakeEnv(panelFromCloses(crashCloses(), 1e9), 1, 1)}
	g, err := New(fe, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := env.NewStepResult(g.Spec())
	g.Reset(make([]float64, g.Spec().Observation.Len()), 0)
	for range 38 {
		if err := g.Step(res, []float64{0, 1}); err == nil {
			t.Fatal("odd call did not fail")
		}
		if err := g.Step(res, []float64{0, 1}); err != nil {
			t.Fatal(err)
		}
	}
	if tot := g.Totals(); tot.Steps != 38 || tot.Trips != 2 || tot.BreakerSteps != 10 {
		t.Errorf("totals %+v, want 38 steps, 2 trips, 10 breaker steps", tot)
	}
}
