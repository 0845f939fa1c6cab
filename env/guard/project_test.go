package guard

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

func benchName(k string, v int) string { return fmt.Sprintf("%s=%d", k, v) }

// flatPanel is 2 assets at price 1 for t bars with dollar volume dv per bar,
// so that with V = dv the liquidity room equals max_participation.
func flatPanel(t int, dv float64) *market.Panel {
	closes := make([][]float64, t)
	for s := range closes {
		closes[s] = []float64{1, 1}
	}
	return panelFromCloses(closes, dv)
}

func mustProjector(t testing.TB, cfg Config, n int) *Projector {
	t.Helper()
	assets := make([]string, n)
	for i := range assets {
		assets[i] = fmt.Sprintf("A%d", i)
	}
	p, err := NewProjector(cfg, assets)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func with(f func(*Config)) Config {
	c := Defaults()
	f(&c)
	return c
}

func TestProjectCases(t *testing.T) {
	// Expected allocations are hand-computed in the comments (closed forms of
	// the capped-simplex projection and of the precedence rule). Values are
	// sums of a few binary fractions: 1e-14 absolute covers the rounding.
	const tol = 1e-14
	pan := flatPanel(5, 1e6)
	nan := math.NaN()
	cases := []struct {
		name      string
		cfg       Config
		cur, req  []float64
		want      []float64
		flags     uint32
		theta     float64
		cashFloor float64
	}{
		{name: "within limits passes unchanged",
			cfg: with(func(c *Config) { c.MaxWeight = 0.6; c.MaxTurnover = 2 }),
			cur: []float64{1, 0, 0}, req: []float64{0.5, 0.3, 0.2}, want: []float64{0.5, 0.3, 0.2}, theta: 1},
		{name: "max weight caps all-in", // asset 1 at 0.5, the rest split 0.25/0.25 (λ = −0.25)
			cfg: with(func(c *Config) { c.MaxWeight = 0.5 }),
			cur: []float64{1, 0, 0}, req: []float64{0, 1, 0}, want: []float64{0.25, 0.5, 0.25},
			flags: FlagMaxWeight, theta: 1},
		{name: "asset override zero forbids holding", // asset 2 capped at 0: (0.5−λ, 0.5−λ) with λ = 0 → (0.5, 0.5, 0)
			cfg: with(func(c *Config) { c.AssetMaxWeight = map[string]float64{"A1": 0} }),
			cur: []float64{1, 0, 0}, req: []float64{0.25, 0.25, 0.5}, want: []float64{0.5, 0.5, 0},
			flags: FlagMaxWeight, theta: 1},
		{name: "max gross is a cash floor", // floor 0.4; (0.5 − λ) twice = 0.6 → λ = 0.2
			cfg: with(func(c *Config) { c.MaxGross = 0.6 }),
			cur: []float64{1, 0, 0}, req: []float64{0, 0.5, 0.5}, want: []float64{0.4, 0.3, 0.3},
			flags: FlagMaxGross, theta: 1, cashFloor: 0.4},
		{name: "turnover moves part of the way", // θ = 0.4/1
			cfg: with(func(c *Config) { c.MaxTurnover = 0.4 }),
			cur: []float64{1, 0, 0}, req: []float64{0, 1, 0}, want: []float64{0.6, 0.4, 0},
			flags: FlagTurnover, theta: 0.4},
		{name: "turnover swap", // rotating 0.5 from A0 to A1 costs 2θ·0.5 → θ = 0.3
			cfg: with(func(c *Config) { c.MaxTurnover = 0.3 }),
			cur: []float64{0.5, 0.5, 0}, req: []float64{0.5, 0, 0.5}, want: []float64{0.5, 0.35, 0.15},
			flags: FlagTurnover, theta: 0.3},
		{name: "negative request projected", // λ = 0.5: (0, 0.5, 0.5)
			cfg: Defaults(),
			cur: []float64{1, 0, 0}, req: []float64{-1, 1, 1}, want: []float64{0, 0.5, 0.5},
			flags: FlagInvalid, theta: 1},
		{name: "zero vector is uniform",
			cfg: Defaults(),
			cur: []float64{1, 0, 0}, req: []float64{0, 0, 0}, want: []float64{1. / 3, 1. / 3, 1. / 3},
			flags: FlagInvalid, theta: 1},
		{name: "huge all-in capped",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5 }),
			cur: []float64{1, 0, 0}, req: []float64{0, 1e308, 0}, want: []float64{0.25, 0.5, 0.25},
			flags: FlagInvalid | FlagMaxWeight, theta: 1},
		// Precedence 2 over 3: asset 0 drifted to 0.7 above its 0.5 cap; the
		// forced sale (turnover 0.2) exceeds max_turnover 0.1 and is made anyway.
		{name: "position limit beats turnover",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5; c.MaxTurnover = 0.1 }),
			cur: []float64{0.3, 0.7, 0}, req: []float64{0.3, 0.7, 0}, want: []float64{0.5, 0.5, 0},
			flags: FlagMaxWeight | FlagTurnover | FlagConflict, theta: 0},
		// ... and the turnover left after the forced sale is used: forced 0.2,
		// budget 0.3; target (0.25, 0.5, 0.25) lies 0.25 further → θ = 0.4.
		{name: "turnover budget after forced trades",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5; c.MaxTurnover = 0.3 }),
			cur: []float64{0.3, 0.7, 0}, req: []float64{0, 1, 0}, want: []float64{0.4, 0.5, 0.1},
			flags: FlagMaxWeight | FlagTurnover, theta: 0.4},
		// Precedence 1 over 2: room 0.05 (participation 5 % of a dollar volume
		// equal to the value) lets asset 0 fall only to 0.65, above its 0.5
		// cap; asset 1 may rise to 0.05; cash takes the rest.
		{name: "liquidity beats max weight",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5; c.MaxParticipation = 0.05 }),
			cur: []float64{0.3, 0.7, 0}, req: []float64{0.2, 0.4, 0.4}, want: []float64{0.3, 0.65, 0.05},
			flags: FlagLiquidity | FlagConflict, theta: 1},
		// Liquidity beats the cash floor: asset 0 can fall only to 0.8, so the
		// floor 0.3 is lowered to 0.2 and the guard sells as far as it can.
		{name: "liquidity beats min cash",
			cfg: with(func(c *Config) { c.MinCash = 0.3; c.MaxParticipation = 0.1 }),
			cur: []float64{0.1, 0.9, 0}, req: []float64{0.1, 0.9, 0}, want: []float64{0.2, 0.8, 0},
			flags: FlagMinCash | FlagConflict, theta: 1, cashFloor: 0.2},
		// NaN holds: the anchor, here the forced sale to the cap.
		{name: "nan holds drifted weights moved onto the limits",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5 }),
			cur: []float64{0.3, 0.7, 0}, req: []float64{nan, 0, 0}, want: []float64{0.5, 0.5, 0},
			flags: FlagNonFinite, theta: 1},
		// The hold's forced sale beats the turnover budget; turnover is not
		// flagged, as there is no move toward a target to shorten.
		{name: "nan hold with forced trades over budget",
			cfg: with(func(c *Config) { c.MaxWeight = 0.5; c.MaxTurnover = 0.1 }),
			cur: []float64{0.3, 0.7, 0}, req: []float64{0, nan, 0}, want: []float64{0.5, 0.5, 0},
			flags: FlagNonFinite | FlagConflict, theta: 1},
		{name: "inf holds feasible weights exactly",
			cfg: Defaults(),
			cur: []float64{0.2, 0.3, 0.5}, req: []float64{math.Inf(1), math.Inf(-1), 0}, want: []float64{0.2, 0.3, 0.5},
			flags: FlagNonFinite, theta: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustProjector(t, c.cfg, 2)
			got := make([]float64, 3)
			rep, err := p.Project(got, c.req, State{Weights: c.cur, Value: 1e6, Peak: 1e6, Market: pan, Bar: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !floats.EqualApprox(got, c.want, tol) {
				t.Errorf("allocation %v, want %v", got, c.want)
			}
			if rep.Flags != c.flags {
				t.Errorf("flags %s, want %s", flagString(rep.Flags), flagString(c.flags))
			}
			if math.Abs(rep.Theta-c.theta) > tol {
				t.Errorf("theta %v, want %v", rep.Theta, c.theta)
			}
			if math.Abs(rep.CashFloor-c.cashFloor) > tol {
				t.Errorf("cash floor %v, want %v", rep.CashFloor, c.cashFloor)
			}
			want := 0
			for b := range NumFlags {
				if c.flags&(1<<b) != 0 && uint32(1<<b) != FlagConflict {
					want++
				}
			}
			if rep.Interventions != want {
				t.Errorf("interventions %d, want %d", rep.Interventions, want)
			}
			tot := p.Totals()
			if tot.Steps != 1 || tot.Interventions != want || tot.Count(FlagConflict) != boolInt(c.flags&FlagConflict != 0) {
				t.Errorf("totals %+v", tot)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func flagString(f uint32) string {
	var parts []string
	for b := range NumFlags {
		if f&(1<<b) != 0 {
			parts = append(parts, FlagName(1<<b))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestProjectNonFiniteError(t *testing.T) {
	p := mustProjector(t, with(func(c *Config) { c.NonFinite = NonFiniteError; c.DrawdownLimit = 0.1 }), 2)
	dst := []float64{7, 7, 7}
	st := State{Weights: []float64{1, 0, 0}, Value: 50, Peak: 100, Bar: 3}
	_, err := p.Project(dst, []float64{math.NaN(), 0.5, 0.5}, st)
	if !errors.Is(err, env.ErrInvalidAction) {
		t.Fatalf("err = %v, want env.ErrInvalidAction", err)
	}
	if p.Totals() != (Totals{}) || p.brk != (breaker{}) || dst[0] != 7 {
		t.Errorf("state changed on error: totals %+v breaker %+v dst %v", p.Totals(), p.brk, dst)
	}
	// A finite request still works, and the breaker then trips (50 % drawdown).
	rep, err := p.Project(dst, []float64{0, 0.5, 0.5}, st)
	if err != nil || !rep.BreakerTripped || dst[0] != 1 {
		t.Fatalf("rep %+v err %v dst %v", rep, err, dst)
	}
}

func TestProjectStateErrors(t *testing.T) {
	p := mustProjector(t, Defaults(), 2)
	dst := make([]float64, 3)
	req := []float64{1, 0, 0}
	for _, st := range []State{
		{Weights: []float64{1, 0, 0}, Value: math.NaN()},
		{Weights: []float64{1, 0, 0}, Value: -1},
		{Weights: []float64{math.NaN(), 0, 1}, Value: 1},
		{Weights: []float64{0.2, 0.2, 0.2}, Value: 1},
	} {
		if _, err := p.Project(dst, req, st); err == nil {
			t.Errorf("state %+v: no error", st)
		}
	}
}

func TestProjectPanics(t *testing.T) {
	p := mustProjector(t, with(func(c *Config) { c.MaxParticipation = 0.1 }), 2)
	st := State{Weights: []float64{1, 0, 0}, Value: 1}
	for name, f := range map[string]func(){
		"length":     func() { p.Project(make([]float64, 2), []float64{1, 0, 0}, st) },
		"nil market": func() { p.Project(make([]float64, 3), []float64{1, 0, 0}, st) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestConfigValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := []struct {
		key string
		f   func(*Config)
	}{
		{"max_weight", func(c *Config) { c.MaxWeight = 1.5 }},
		{"min_cash", func(c *Config) { c.MinCash = -0.1 }},
		{"max_gross", func(c *Config) { c.MaxGross = math.NaN() }},
		{"max_turnover", func(c *Config) { c.MaxTurnover = 2.5 }},
		{"max_participation", func(c *Config) { c.MaxParticipation = 2 }},
		{"drawdown_limit", func(c *Config) { c.DrawdownLimit = 1 }},
		{"drawdown_gross", func(c *Config) { c.DrawdownGross = -1 }},
		{"drawdown_cooldown", func(c *Config) { c.DrawdownLimit = 0.2; c.DrawdownCooldown = 0 }},
		{"vol_target", func(c *Config) { c.VolTarget = math.Inf(1) }},
		{"vol_lambda", func(c *Config) { c.VolTarget = 0.5; c.VolLambda = 1 }},
		{"vol_window", func(c *Config) { c.VolTarget = 0.5; c.VolWindow = 1 }},
		{"asset_max_weight.BTC", func(c *Config) { c.AssetMaxWeight = map[string]float64{"BTC": 2} }},
		{"non_finite", func(c *Config) { c.NonFinite = "ignore" }},
	}
	for _, b := range bad {
		c := Defaults()
		b.f(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.key) {
			t.Errorf("%s: err = %v, want a message naming the key", b.key, err)
		}
	}
	if _, err := NewProjector(with(func(c *Config) { c.AssetMaxWeight = map[string]float64{"DOGE": 0.1} }), []string{"BTC"}); err == nil ||
		!strings.Contains(err.Error(), "DOGE") {
		t.Errorf("unknown asset override: err = %v", err)
	}
}

func TestFlagNames(t *testing.T) {
	seen := map[string]bool{}
	for b := range NumFlags {
		name := FlagName(1 << b)
		if name == "" || seen[name] {
			t.Errorf("flag bit %d: name %q", b, name)
		}
		seen[name] = true
	}
	if FlagName(1<<NumFlags) != "" || FlagName(FlagInvalid|FlagMaxWeight) != "" {
		t.Error("FlagName accepts a non-flag")
	}
}

func BenchmarkProject(b *testing.B) {
	// Every limit on; requests cycle through valid, all-in and invalid ones.
	for _, n := range []int{4, 10, 32} {
		b.Run(benchName("assets", n), func(b *testing.B) {
			rng := seed.New(1, seed.Test, 50)
			pan := randomPanel(rng, panelOpts{t: 300, n: n, volScale: 1e7})
			cfg := with(func(c *Config) {
				c.MaxWeight, c.MinCash, c.MaxTurnover, c.MaxParticipation = 0.3, 0.05, 0.5, 0.1
				c.DrawdownLimit, c.VolTarget = 0.2, 0.6
			})
			p := mustProjector(b, cfg, n)
			cur := make([]float64, n+1)
			for i := range cur {
				cur[i] = 1 / float64(n+1)
			}
			reqs := make([][]float64, 64)
			for k := range reqs {
				reqs[k] = make([]float64, n+1)
				for i := range reqs[k] {
					reqs[k][i] = rng.ExpFloat64() - 0.3*float64(k%2)
				}
			}
			dst := make([]float64, n+1)
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				// a new bar every call: the covariance forecast is recomputed
				bar := 100 + k%200
				p.Project(dst, reqs[k&63], State{Weights: cur, Value: 1e6, Peak: 1.1e6, Market: pan, Bar: bar})
				k++
			}
		})
	}
}
