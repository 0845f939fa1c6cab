package guard

import (
	"math"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func TestVolCapScalesToTarget(t *testing.T) {
	// Only the vol cap is on, so a valid request is either executed as is or
	// its risky weights are scaled by one factor s into cash with forecast vol
	// exactly on target. Forecasts are compared with the independent gonum
	// computation (ewmaVol); the two differ by rounding in sums of ≤ 50
	// products, so 1e-9 relative is generous.
	const rel = 1e-9
	rng := seed.New(1, seed.Test, 30)
	pan := randomPanel(rng, panelOpts{t: 300, n: 4, crashes: true, volScale: 1e6})
	cfg := with(func(c *Config) { c.VolTarget, c.VolLambda, c.VolWindow = 0.6, 0.94, 50 })
	p := mustProjector(t, cfg, 4)
	cur := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	req, dst := make([]float64, 5), make([]float64, 5)
	scaled := 0
	for bar := range pan.T() {
		s := 0.0
		for i := range req {
			req[i] = rng.ExpFloat64() * float64(rng.IntN(2)+i/4)
			s += req[i]
		}
		if s == 0 {
			req[0], s = 1, 1
		}
		for i := range req {
			req[i] /= s
		}
		rep, err := p.Project(dst, req, State{Weights: cur, Value: 1e6, Peak: 1e6, Market: pan, Bar: bar})
		if err != nil {
			t.Fatal(err)
		}
		vol, ok := ewmaVol(pan, bar, cfg.VolLambda, cfg.VolWindow, dst)
		if !ok {
			if bar >= 2 || rep.VolForecast != 0 || rep.Flags != 0 {
				t.Fatalf("bar %d: forecast %v ok %v flags %s", bar, rep.VolForecast, ok, flagString(rep.Flags))
			}
			continue
		}
		if math.Abs(rep.VolForecast-vol) > rel*vol {
			t.Fatalf("bar %d: reported forecast %v, independent %v", bar, rep.VolForecast, vol)
		}
		if vol > cfg.VolTarget*(1+rel) {
			t.Fatalf("bar %d: forecast vol %v above target", bar, vol)
		}
		if rep.Flags&FlagVolTarget == 0 {
			for i := range dst {
				if math.Abs(dst[i]-req[i]) > 1e-15 {
					t.Fatalf("bar %d: unflagged output %v differs from request %v", bar, dst, req)
				}
			}
			continue
		}
		scaled++
		if vol < cfg.VolTarget*(1-rel) {
			t.Fatalf("bar %d: scaled below target: %v", bar, vol)
		}
		k := -1.0 // common scale factor of the risky weights
		for i := 1; i < 5; i++ {
			if req[i] == 0 {
				if dst[i] != 0 {
					t.Fatalf("bar %d: zero request got weight %v", bar, dst[i])
				}
				continue
			}
			if k < 0 {
				k = dst[i] / req[i]
			} else if math.Abs(dst[i]/req[i]-k) > 1e-12 {
				t.Fatalf("bar %d: risky weights not scaled by one factor: %v from %v", bar, dst, req)
			}
		}
		if !(k > 0 && k < 1) {
			t.Fatalf("bar %d: scale %v", bar, k)
		}
	}
	if scaled < 30 {
		t.Errorf("the cap bound only %d times of %d: test too weak", scaled, pan.T())
	}
}

func TestVolCapConflictWithLiquidity(t *testing.T) {
	// No volume at all: nothing can trade, so a portfolio above the vol
	// target must stay as it is (liquidity outranks the cap), flagged as a
	// conflict.
	rng := seed.New(1, seed.Test, 31)
	pan := randomPanel(rng, panelOpts{t: 30, n: 2, zeroVolP: 1, volScale: 1e6})
	cfg := with(func(c *Config) { c.VolTarget, c.MaxParticipation = 0.01, 0.1 })
	p := mustProjector(t, cfg, 2)
	cur := []float64{0.1, 0.6, 0.3}
	dst := make([]float64, 3)
	rep, err := p.Project(dst, []float64{1, 0, 0}, State{Weights: cur, Value: 1e6, Peak: 1e6, Market: pan, Bar: 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Flags&FlagConflict == 0 || rep.Flags&FlagLiquidity == 0 || rep.VolForecast <= 0.01 {
		t.Errorf("flags %s forecast %v", flagString(rep.Flags), rep.VolForecast)
	}
	for i := range dst {
		if math.Abs(dst[i]-cur[i]) > 1e-15 {
			t.Errorf("illiquid portfolio traded: %v → %v", cur, dst)
		}
	}
}
