package env_test

import (
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/internal/seed"
)

// vecEnvs builds b clones of a small market env (episodes of 15 steps, so
// that a few hundred steps contain many autoresets).
func vecEnvs(t testing.TB, b int) []env.Env {
	t.Helper()
	p := envtest.RandomPanel(120, 3, 50)
	cfg := smallCfg()
	cfg.EpisodeLen = 15
	m := mustNew(t, p, envtest.Features(p), nil, cfg)
	envs := make([]env.Env, b)
	for i := range envs {
		envs[i] = m.Clone()
	}
	return envs
}

// vecActions draws B random allocations per step.
func vecActions(steps, b, a int) [][]float64 {
	rng := seed.New(1, seed.Test, 50)
	out := make([][]float64, steps)
	for k := range out {
		out[k] = make([]float64, b*a)
		for j := 0; j < b; j++ {
			randWeights(rng, out[k][j*a:(j+1)*a])
		}
	}
	return out
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func sameInfo(a, b env.Info) bool {
	return a.Bar == b.Bar && a.Time.Equal(b.Time) && a.Regime == b.Regime && a.Guard == b.Guard &&
		sameBits([]float64{a.Value, a.Return, a.Turnover, a.Fees, a.Slippage}, []float64{b.Value, b.Return, b.Turnover, b.Fees, b.Slippage}) &&
		sameBits(a.Requested, b.Requested) && sameBits(a.Executed, b.Executed) && sameBits(a.Weights, b.Weights)
}

// TestVecMatchesSequential drives a Vec and, by hand, B independent envs
// with the documented seeding (env b draws its reset seeds from
// seed.New(root, seed.Env, b)) and same-step autoreset; every output must
// be bitwise identical, including final observations and infos.
func TestVecMatchesSequential(t *testing.T) {
	const B, root, steps = 5, 77, 200
	v, err := env.NewVec(vecEnvs(t, B), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ref := vecEnvs(t, B)
	spec := v.Spec()
	D, A := spec.Observation.Len(), spec.Action.Len()
	streams := make([]interface{ Uint64() uint64 }, B)
	obs := make([][]float64, B)
	res := make([]*env.StepResult, B)
	vobs, vinfos, err := v.Reset(root)
	if err != nil {
		t.Fatal(err)
	}
	for b := range ref {
		streams[b] = seed.New(root, seed.Env, uint64(b))
		obs[b] = make([]float64, D)
		res[b] = env.NewStepResult(spec)
		info, _ := ref[b].Reset(obs[b], streams[b].Uint64())
		if !sameBits(vobs[b*D:(b+1)*D], obs[b]) || !sameInfo(vinfos[b], info) {
			t.Fatalf("reset of env %d differs", b)
		}
	}
	acts := vecActions(steps, B, A)
	resets := 0
	for k := 0; k < steps; k++ {
		out, err := v.Step(acts[k])
		if err != nil {
			t.Fatal(err)
		}
		for b := range ref {
			r := res[b]
			if err := ref[b].Step(r, acts[k][b*A:(b+1)*A]); err != nil {
				t.Fatal(err)
			}
			if out.Rewards[b] != r.Reward || out.Terminated[b] != r.Terminated || out.Truncated[b] != r.Truncated || !sameInfo(out.Infos[b], r.Info) {
				t.Fatalf("step %d env %d: outputs differ", k, b)
			}
			if out.Done(b) {
				resets++
				if !sameBits(out.FinalObs[b*D:(b+1)*D], r.Obs) {
					t.Fatalf("step %d env %d: final observation differs", k, b)
				}
				info, _ := ref[b].Reset(r.Obs, streams[b].Uint64())
				if !sameInfo(out.ResetInfos[b], info) {
					t.Fatalf("step %d env %d: reset info differs", k, b)
				}
			}
			if !sameBits(out.Obs[b*D:(b+1)*D], r.Obs) {
				t.Fatalf("step %d env %d: observation differs", k, b)
			}
		}
	}
	if resets < 50 {
		t.Errorf("only %d autoresets in %d steps", resets, steps)
	}
}

// TestVecWorkersBitIdentical: 2 and 3 workers (uneven blocks) give the same
// bits as the sequential path, both on the direct path (every env a
// *Market) and on the generic one (wrapped envs, stepped through Env),
// with every step made in parallel (pinned) and with the Vec choosing
// between parallel and caller-only steps as it measures them.
func TestVecWorkersBitIdentical(t *testing.T) {
	const B, steps = 7, 600
	run := func(workers int, wrapEnvs, pin bool) [][]float64 {
		envs := vecEnvs(t, B)
		if wrapEnvs {
			for i := range envs {
				envs[i] = wrapped{envs[i]}
			}
		}
		v, err := env.NewVec(envs, workers)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if pin {
			env.PinParallel(v)
		}
		spec := v.Spec()
		acts := vecActions(steps, B, spec.Action.Len())
		v.Reset(5)
		var rec [][]float64
		for k := 0; k < steps; k++ {
			out, err := v.Step(acts[k])
			if err != nil {
				t.Fatal(err)
			}
			row := append(append(append([]float64(nil), out.Obs...), out.Rewards...), out.FinalObs...)
			for b := 0; b < B; b++ {
				row = append(row, out.Infos[b].Value, out.Infos[b].Fees, float64(out.Infos[b].Bar))
				if out.Done(b) {
					row = append(row, 1, float64(out.ResetInfos[b].Bar))
				}
			}
			rec = append(rec, row)
		}
		return rec
	}
	seq := run(1, false, false)
	for _, w := range []int{1, 2, 3} {
		for _, wrapEnvs := range []bool{false, true} {
			for _, pin := range []bool{true, false} {
				par := run(w, wrapEnvs, pin)
				for k := range seq {
					if !sameBits(seq[k], par[k]) {
						t.Fatalf("workers=%d wrapped=%v pinned=%v step %d differs from the sequential path", w, wrapEnvs, pin, k)
					}
				}
			}
		}
	}
}

// TestVecZeroAllocs: Vec.Step, autoresets included, allocates nothing, on
// the direct and the generic path, in parallel (pinned) or choosing
// (probes included: 600 steps hold several).
func TestVecZeroAllocs(t *testing.T) {
	for _, tc := range []struct {
		workers   int
		wrap, pin bool // wrapped envs: the generic path
	}{{1, false, false}, {2, false, true}, {4, false, true}, {1, true, false}, {2, true, true}, {2, false, false}, {4, true, false}} {
		workers, pin := tc.workers, tc.pin
		envs := vecEnvs(t, 8)
		if tc.wrap {
			for i := range envs {
				envs[i] = wrapped{envs[i]}
			}
		}
		v, err := env.NewVec(envs, workers)
		if err != nil {
			t.Fatal(err)
		}
		if pin {
			env.PinParallel(v)
		}
		acts := vecActions(64, 8, v.Spec().Action.Len())
		v.Reset(1)
		k := 0
		allocs := testing.AllocsPerRun(600, func() {
			if _, err := v.Step(acts[k%64]); err != nil {
				t.Fatal(err)
			}
			k++
		})
		v.Close()
		if allocs != 0 {
			t.Errorf("workers=%d wrapped=%v pinned=%v: %v allocations per Vec.Step", workers, tc.wrap, pin, allocs)
		}
	}
}

// wrapped is a minimal wrapper, to show Vec works over any Env and that
// FindPortfolio reaches the market through it.
type wrapped struct{ env.Env }

func (w wrapped) Unwrap() env.Env { return w.Env }

func TestVecErrorsAndWrappers(t *testing.T) {
	envs := vecEnvs(t, 3)
	if _, err := env.NewVec([]env.Env{envs[0], envs[0]}, 1); err == nil {
		t.Error("NewVec accepted the same env twice")
	}
	p := envtest.RandomPanel(80, 2, 51)
	other := mustNew(t, p, nil, nil, smallCfg())
	if _, err := env.NewVec([]env.Env{envs[0], other}, 1); err == nil {
		t.Error("NewVec accepted envs of different shapes")
	}
	ws := []env.Env{wrapped{envs[0]}, wrapped{envs[1]}, wrapped{envs[2]}}
	v, err := env.NewVec(ws, 2)
	if err != nil {
		t.Fatal(err)
	}
	if pf, ok := env.FindPortfolio(v.Env(1)); !ok || pf.(*env.Market) != envs[1] {
		t.Error("FindPortfolio did not reach the market through the wrapper")
	}
	expectPanic(t, "Vec.Step before Reset", func() { v.Step(make([]float64, 3*v.Spec().Action.Len())) })
	v.Reset(1)
	acts := vecActions(1, 3, v.Spec().Action.Len())[0]
	acts[v.Spec().Action.Len()+1] = math.NaN() // env 1
	if _, err := v.Step(acts); !errors.Is(err, env.ErrInvalidAction) {
		t.Errorf("invalid action: error %v, want ErrInvalidAction", err)
	}
	if v.Close() != nil || v.Close() != nil {
		t.Error("Close failed")
	}
}
