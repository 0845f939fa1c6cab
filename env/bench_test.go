package env_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/internal/realdata"
)

type benchGolden struct {
	Episodes []struct {
		Start          int       `json:"start"`
		Obs0First3     []float64 `json:"obs0_first3"`
		Obs0Sum        float64   `json:"obs0_sum"`
		First5Rewards  []float64 `json:"first5_rewards"`
		First5Turnover []float64 `json:"first5_turnover"`
		EpisodeReturn  float64   `json:"episode_return"`
		FinalObsSum    float64   `json:"final_obs_sum"`
		FinalW         []float64 `json:"final_w"`
	} `json:"episodes"`
}

// loadBench reads bench task v1's data from ../shared/bench (skipping when
// absent).
func loadBench(t testing.TB) (*market.Panel, *features.Set, string) {
	t.Helper()
	dir := realdata.Shared(t, "bench")
	p, fs, err := env.LoadBench(filepath.Join(dir, "bench_prices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return p, fs, dir
}

// loadBenchEnv builds the bench task v1 env.
func loadBenchEnv(t testing.TB) (*env.Market, string) {
	t.Helper()
	p, fs, dir := loadBench(t)
	m, err := env.New(p, fs, nil, env.BenchConfig())
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// goldenAction is bench_env.py's golden_action: a_j = 2·sin(0.37·k + 1.3·j).
func goldenAction(dst []float64, k int) {
	for j := range dst {
		dst[j] = 2 * math.Sin(0.37*float64(k)+1.3*float64(j))
	}
}

// TestBenchGolden replays the golden trajectories of bench_env.py (numpy)
// through the Market env configured as bench task v1. Tolerance 1e-12
// absolute: both sides are deterministic float64 arithmetic on O(1)
// quantities; they differ only in summation order (numpy sums pairwise) and
// in the price relatives, which the env recomputes from cumulative-product
// closes (a few ulp each), so the 256-step sums agree to ~1e-14.
func TestBenchGolden(t *testing.T) {
	m, dir := loadBenchEnv(t)
	raw, err := os.ReadFile(filepath.Join(dir, "bench_env_golden.json"))
	if err != nil {
		t.Skipf("golden file not available: %v", err)
	}
	var g benchGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Episodes) != 3 {
		t.Fatalf("golden has %d episodes, want 3", len(g.Episodes))
	}
	const tol = 1e-12
	var worst float64
	defer func() { t.Logf("largest deviation from the numpy golden: %.3g", worst) }()
	check := func(what string, got, want float64) {
		t.Helper()
		worst = max(worst, math.Abs(got-want))
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.17g, want %.17g (diff %.3g)", what, got, want, got-want)
		}
	}
	// Bench index t is panel bar t+1; the bench start range [W−1, T−1−256]
	// (T = 20000) must be the env's.
	first, last := m.StartRange()
	if first != g.Episodes[0].Start+1 || last != g.Episodes[2].Start+1 {
		t.Errorf("start range [%d, %d], want bench [%d, %d] + 1", first, last, g.Episodes[0].Start, g.Episodes[2].Start)
	}
	spec := m.Spec()
	if spec.Observation.Len() != 311 || spec.Action.Len() != 11 {
		t.Fatalf("obs %d action %d, want 311 and 11", spec.Observation.Len(), spec.Action.Len())
	}
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	act := make([]float64, spec.Action.Len())
	for _, ep := range g.Episodes {
		if _, err := m.ResetAt(obs, ep.Start+1); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			check("obs0[j]", obs[j], ep.Obs0First3[j])
		}
		check("obs0 sum", sum(obs), ep.Obs0Sum)
		var ret float64
		for k := 0; k < 256; k++ {
			goldenAction(act, k)
			if err := m.Step(res, act); err != nil {
				t.Fatal(err)
			}
			ret += res.Reward
			if k < 5 {
				check("reward", res.Reward, ep.First5Rewards[k])
				check("turnover", res.Info.Turnover, ep.First5Turnover[k])
			}
			if done := res.Terminated || res.Truncated; done != (k == 255) || res.Terminated {
				t.Fatalf("start %d step %d: terminated %v truncated %v", ep.Start, k, res.Terminated, res.Truncated)
			}
		}
		check("episode return", ret, ep.EpisodeReturn)
		check("final obs sum", sum(res.Obs), ep.FinalObsSum)
		for j, w := range ep.FinalW {
			check("final w", res.Info.Weights[j], w)
		}
	}
}

func sum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

// benchActions pre-draws standard-normal logits (as bench_env_throughput.py's
// pregenerated case) so the benchmark measures the env only.
func benchActions(n, a int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n*a)
	for k := range x {
		x[k] = rng.NormFloat64()
	}
	return x
}

// stepCycling is the timed loop of the Step benchmarks: it steps the reset
// env m through the 4096 pre-drawn actions in acts in turn, resetting it
// with the next seed whenever an episode ends.
func stepCycling(b *testing.B, m *env.Market, obs []float64, res *env.StepResult, acts []float64) {
	A := len(acts) / 4096
	var k int
	var s uint64
	b.ReportAllocs()
	for b.Loop() {
		i := k & 4095
		k++
		if err := m.Step(res, acts[i*A:(i+1)*A]); err != nil {
			b.Fatal(err)
		}
		if res.Terminated || res.Truncated {
			s++
			m.Reset(obs, s)
		}
	}
}

// BenchmarkBenchStep is one bench-task-v1 env stepped with pre-drawn random
// logits, resetting at episode ends (as the numpy scalar reference).
func BenchmarkBenchStep(b *testing.B) {
	m, _ := loadBenchEnv(b)
	spec := m.Spec()
	obs := make([]float64, spec.Observation.Len())
	res := env.NewStepResult(spec)
	A := spec.Action.Len()
	acts := benchActions(4096, A)
	if _, err := m.Reset(obs, 0); err != nil {
		b.Fatal(err)
	}
	stepCycling(b, m, obs, res, acts)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkBenchVec steps B bench envs through a Vec, sequentially and with
// two workers, with pre-drawn random logits. With two workers the Vec
// chooses between parallel and caller-only steps by timing both (see
// crew.run); the "pinned" cases make every step parallel.
func BenchmarkBenchVec(b *testing.B) {
	for _, B := range []int{8, 64} {
		for _, workers := range []int{1, 2, -2} {
			name := fmt.Sprintf("envs=%d/workers=%d", B, workers)
			pin := workers < 0
			if pin {
				workers = -workers
				name = fmt.Sprintf("envs=%d/workers=%d/pinned", B, workers)
			}
			b.Run(name, func(b *testing.B) {
				m0, _ := loadBenchEnv(b)
				envs := make([]env.Env, B)
				for i := range envs {
					envs[i] = m0.Clone()
				}
				v, err := env.NewVec(envs, workers)
				if err != nil {
					b.Fatal(err)
				}
				defer v.Close()
				if pin {
					env.PinParallel(v)
				}
				A := v.Spec().Action.Len()
				acts := benchActions(256*B, A)
				if _, _, err := v.Reset(0); err != nil {
					b.Fatal(err)
				}
				var k int
				b.ReportAllocs()
				for b.Loop() {
					i := k & 255
					k++
					if _, err := v.Step(acts[i*B*A : (i+1)*B*A]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*float64(B)/b.Elapsed().Seconds(), "env-steps/s")
			})
		}
	}
}

// BenchmarkStep measures Market.Step in the configurations that change its
// code path, on a synthetic panel of 10 assets with 3 per-asset features
// and one global feature over a 30-bar window (observation of 1,241
// values), with random allocations (weights) pre-drawn.
func BenchmarkStep(b *testing.B) {
	p := envtest.RandomPanel(3000, 10, 70)
	fs := envtest.Features(p)
	cases := []struct {
		name string
		mod  func(*env.Config)
	}{
		{"cfg=defaults", func(*env.Config) {}},
		{"cfg=no_costs", func(c *env.Config) {
			c.Costs.TakerBps, c.Costs.MakerBps, c.Costs.Slippage, c.Costs.LiquidityCap = 0, 0, env.SlipNone, 0
		}},
		{"cfg=linear_spread", func(c *env.Config) { c.Costs.FeeModel, c.Costs.Slippage = env.FeeLinear, env.SlipSpread }},
		{"cfg=quadratic", func(c *env.Config) { c.Costs.Slippage = env.SlipQuadratic }},
		{"cfg=next_open", func(c *env.Config) { c.Execution = env.ExecNextOpen }},
		{"cfg=dsr", func(c *env.Config) { c.Reward = env.RewardDifferentialSharpe }},
		{"cfg=logits", func(c *env.Config) { c.Action = env.ActionLogits }},
	}
	for _, tc := range cases {
		b.Run(tc.name+"/assets=10/window=30", func(b *testing.B) {
			cfg := env.Defaults()
			cfg.Window = 30
			tc.mod(&cfg)
			m, err := env.New(p, fs, nil, cfg)
			if err != nil {
				b.Fatal(err)
			}
			spec := m.Spec()
			obs := make([]float64, spec.Observation.Len())
			res := env.NewStepResult(spec)
			A := spec.Action.Len()
			rng := rand.New(rand.NewPCG(3, 4))
			acts := make([]float64, 4096*A)
			for k := 0; k < 4096; k++ {
				randWeights(rng, acts[k*A:(k+1)*A])
			}
			m.Reset(obs, 0)
			stepCycling(b, m, obs, res, acts)
		})
	}
}

// TestBenchPanel checks the bench index mapping on a tiny hand-made file:
// bench index t is panel bar t+1, closes are cumulative products of the
// relatives from a base bar of 1, the feature is log X[t] at bar t+1, and
// malformed files are rejected with their line.
func TestBenchPanel(t *testing.T) {
	rel, names, err := env.ReadBenchPrices(strings.NewReader("a,b\n1.5,0.5\n2,1\n0.25,4\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, fs, err := env.NewBenchPanel(rel, names)
	if err != nil {
		t.Fatal(err)
	}
	wantClose := [][]float64{{1, 1}, {1.5, 0.5}, {3, 0.5}, {0.75, 2}} // exact in binary
	for s, row := range wantClose {
		for i, c := range row {
			if p.Close(s, i) != c || (s > 0 && p.Open(s, i) != wantClose[s-1][i]) {
				t.Fatalf("bar %d asset %d: open %v close %v", s, i, p.Open(s, i), p.Close(s, i))
			}
			if s > 0 && math.Abs(fs.Series(i, 0)[s]-math.Log(rel[(s-1)*2+i])) > 1e-15 {
				t.Fatalf("feature at bar %d asset %d: %v, want log %v", s, i, fs.Series(i, 0)[s], rel[(s-1)*2+i])
			}
		}
	}
	for _, bad := range []string{"", "a,b\n", "a,b\n1,2,3\n", "a,b\n1,-2\n", "a,b\n1,x\n", "a,b\n1,0\n"} {
		if _, _, err := env.ReadBenchPrices(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadBenchPrices(%q) succeeded", bad)
		}
	}
}
