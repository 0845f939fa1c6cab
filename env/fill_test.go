package env

import (
	"math"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
)

// fillPanel is a panel of two assets at constant price 100 over three daily
// bars with the given dollar volumes per bar (bar-major, 2 per bar).
func fillPanel(t *testing.T, dollarVol [3][2]float64) *market.Panel {
	t.Helper()
	spec := market.PanelSpec{Assets: []string{"A", "B"}, Times: make([]int64, 3), Interval: 24 * time.Hour,
		Open: make([]float64, 6), High: make([]float64, 6), Low: make([]float64, 6),
		Close: make([]float64, 6), Volume: make([]float64, 6)}
	for s := range 3 {
		spec.Times[s] = 1_700_000_000 + int64(s)*86400
		for i := range 2 {
			k := 2*s + i
			spec.Open[k], spec.High[k], spec.Low[k], spec.Close[k] = 100, 100, 100, 100
			spec.Volume[k] = dollarVol[s][i] / 100
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMarketReportsPartialFills checks Info.LiquidityLimited and
// Info.Unfilled of Market.Step against closed forms. Costs: 10 bps fees on
// both sides, no slippage, liquidity_cap 0.1, capital 100 000, prices
// constant at 100. Values are hand-computed in each case's comment; 1e-12
// relative covers the fixed point's stopping rule (1e-15) and rounding.
func TestMarketReportsPartialFills(t *testing.T) {
	const c = 0.001 // 10 bps
	const ample = 1e12
	cases := []struct {
		name      string
		exec      string
		dv        [3][2]float64
		init, act []float64
		// want
		limited   int
		mu        float64
		unfilled  float64
		executedA float64
	}{
		// All cash into A, whose bar-0 dollar volume 20 000 allows a buy
		// of L = 0.1·20 000/100 000 = 0.02 of V. The fee is c·0.02 whatever
		// μ is, so μ = 1 − 2e-5; wanted μ·1, traded 0.02: unfilled μ − 0.02;
		// A ends at 0.02/μ.
		{name: "buy capped", exec: ExecClose, dv: [3][2]float64{{20000, ample}, {ample, ample}, {ample, ample}},
			init: []float64{1, 0, 0}, act: []float64{0, 1, 0},
			limited: 1, mu: 1 - c*0.02, unfilled: 1 - c*0.02 - 0.02, executedA: 0.02 / (1 - c*0.02)},
		// From (½ cash, ½ A) to (0, ½, ½) with A without volume at bar 0.
		// A cannot shrink by μ; the buy of B must then be scaled so that
		// cash ends at 0: d_B = μ − ½ (cash ½ minus its fee), so
		// μ = 1 − c·(μ − ½), μ = (1 + c/2)/(1 + c). Cut short: A (wanted
		// −(1−μ)/2) and B (wanted μ/2, traded μ − ½): unfilled (1−μ)/2 +
		// (½ − μ/2) = 1 − μ; A ends at ½/μ.
		{name: "zero volume held", exec: ExecClose, dv: [3][2]float64{{0, ample}, {ample, ample}, {ample, ample}},
			init: []float64{0.5, 0.5, 0}, act: []float64{0, 0.5, 0.5},
			limited: 2, mu: (1 + c/2) / (1 + c), unfilled: 1 - (1+c/2)/(1+c), executedA: 0.5 / ((1 + c/2) / (1 + c))},
		// Same trade, A without volume at bar 0 but traded at bar 1: at
		// the next open the env fills on bar 1's volume, so nothing is cut,
		// and fees are paid on the sale of A, (1 − μ)/2, and the buy of B,
		// μ/2: C = c/2, μ = 1 − c/2.
		{name: "next_open uses bar t+1", exec: ExecNextOpen, dv: [3][2]float64{{0, ample}, {ample, ample}, {ample, ample}},
			init: []float64{0.5, 0.5, 0}, act: []float64{0, 0.5, 0.5},
			limited: 0, mu: 1 - c/2, unfilled: 0, executedA: 0.5},
		// And the converse: volume at bar 0, none at bar 1: at the next
		// open A is cut as in "zero volume held".
		{name: "next_open zero at t+1", exec: ExecNextOpen, dv: [3][2]float64{{ample, ample}, {0, ample}, {ample, ample}},
			init: []float64{0.5, 0.5, 0}, act: []float64{0, 0.5, 0.5},
			limited: 2, mu: (1 + c/2) / (1 + c), unfilled: 1 - (1+c/2)/(1+c), executedA: 0.5 / ((1 + c/2) / (1 + c))},
	}
	const tol = 1e-12
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Window, cfg.EpisodeStart, cfg.EpisodeLen = 1, StartFirst, 1
			cfg.Execution = tc.exec
			cfg.InitialWeights = tc.init
			cfg.Costs = Costs{FeeModel: FeeExact, FeeSide: SideTaker, TakerBps: 10, MakerBps: 10, Slippage: SlipNone, LiquidityCap: 0.1}
			m, err := New(fillPanel(t, tc.dv), nil, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := NewStepResult(m.Spec())
			if _, err := m.Reset(res.Obs, 0); err != nil {
				t.Fatal(err)
			}
			if err := m.Step(res, tc.act); err != nil {
				t.Fatal(err)
			}
			in := &res.Info
			mu := 1 + in.Return // prices are constant: the growth is μ
			switch {
			case in.LiquidityLimited != tc.limited:
				t.Errorf("LiquidityLimited = %d, want %d", in.LiquidityLimited, tc.limited)
			case math.Abs(mu-tc.mu) > tol:
				t.Errorf("μ = %.17g, want %.17g", mu, tc.mu)
			case math.Abs(in.Unfilled-tc.unfilled) > tol:
				t.Errorf("Unfilled = %.17g, want %.17g", in.Unfilled, tc.unfilled)
			case math.Abs(in.Executed[1]-tc.executedA) > tol:
				t.Errorf("executed A = %.17g, want %.17g", in.Executed[1], tc.executedA)
			case tc.limited == 0 && !equalBits(in.Executed, in.Requested):
				t.Errorf("nothing cut, yet executed %v ≠ requested %v", in.Executed, in.Requested)
			}
		})
	}
}

func equalBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}
