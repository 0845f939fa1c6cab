package env_test

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/envtest"
	"github.com/folio-rl/folio/env/guard"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/wrap"
	"github.com/folio-rl/folio/internal/seed"
)

// The save/restore tests follow one pattern: run k random steps with
// autoresets, save, continue n steps recording everything the env emits,
// rebuild from scratch, restore and replay the same n actions (and reset
// seeds): every output must be bit-identical (==, on the float bits).

// stateWorld builds envs for the state tests from a reproducible panel.
type stateWorld struct {
	p   *market.Panel
	fs  *features.Set
	cfg env.Config
}

func newStateWorld() stateWorld {
	p := envtest.RandomPanel(260, 3, 61)
	cfg := smallCfg()
	cfg.EpisodeLen = 0 // the time limit decides the length (and the segment end truncates)
	cfg.Reward = env.RewardDifferentialSharpe
	return stateWorld{p: p, fs: envtest.Features(p), cfg: cfg}
}

func (w stateWorld) market(t testing.TB) *env.Market {
	t.Helper()
	return mustNew(t, w.p, w.fs, nil, w.cfg)
}

// stackEnv is the training stack of the tests: market → guard (every
// stateful mechanism enabled: breaker, vol cap, turnover) → TimeLimit →
// Monitor.
type stackEnv struct {
	top *wrap.Monitor
	g   *guard.Guard
	m   *env.Market
}

func guardCfg() guard.Config {
	c := guard.Defaults()
	c.MaxWeight, c.MaxTurnover, c.MaxParticipation = 0.6, 0.7, 0.05
	c.DrawdownLimit, c.DrawdownGross, c.DrawdownCooldown = 0.05, 0.3, 4
	c.VolTarget, c.VolWindow = 0.6, 20
	return c
}

func (w stateWorld) stack(t testing.TB) stackEnv {
	t.Helper()
	m := w.market(t)
	g, err := guard.New(m, guardCfg())
	if err != nil {
		t.Fatal(err)
	}
	tl, err := wrap.NewTimeLimit(g, 23)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := wrap.NewMonitor(tl, 5)
	if err != nil {
		t.Fatal(err)
	}
	return stackEnv{top: mon, g: g, m: m}
}

type stateful interface {
	env.Env
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// drive steps e with random allocations for n steps, resetting with seeds
// from seeds when an episode ends; with rec set it appends every
// observation, reward, flag and info to rec and the actions and reset
// seeds used to acts and resets.
type drive struct {
	obs    []float64
	res    *env.StepResult
	rng    interface{ ExpFloat64() float64 }
	seeds  interface{ Uint64() uint64 }
	rec    bool
	out    []string
	acts   [][]float64
	resets []uint64
}

func newDrive(spec env.Spec, stream uint64) *drive {
	return &drive{obs: make([]float64, spec.Observation.Len()), res: env.NewStepResult(spec),
		rng: seed.New(3, seed.Test, stream), seeds: seed.New(4, seed.Test, stream)}
}

// fmtStep renders a step result exactly (%x prints the float bits).
func fmtStep(r *env.StepResult) string {
	in := r.Info
	return fmt.Sprintf("obs %x r %x term %v trunc %v bar %d time %d reg %d val %x ret %x req %x exe %x w %x to %x fee %x slip %x guard %+v",
		r.Obs, r.Reward, r.Terminated, r.Truncated, in.Bar, in.Time.Unix(), in.Regime, in.Value, in.Return,
		in.Requested, in.Executed, in.Weights, in.Turnover, in.Fees, in.Slippage, in.Guard)
}

func fmtInfo(in env.Info) string {
	return fmt.Sprintf("bar %d time %d reg %d val %x req %x exe %x w %x", in.Bar, in.Time.Unix(), in.Regime, in.Value, in.Requested, in.Executed, in.Weights)
}

func (d *drive) reset(t testing.TB, e env.Env, s uint64) {
	t.Helper()
	info, err := e.Reset(d.obs, s)
	if err != nil {
		t.Fatal(err)
	}
	if d.rec {
		d.resets = append(d.resets, s)
		d.out = append(d.out, fmt.Sprintf("reset %x %s", d.obs, fmtInfo(info)))
	}
}

func (d *drive) step(t testing.TB, e env.Env, a []float64, next func() uint64) (done bool) {
	t.Helper()
	if err := e.Step(d.res, a); err != nil {
		t.Fatal(err)
	}
	if d.rec {
		d.acts = append(d.acts, slices.Clone(a))
		d.out = append(d.out, fmtStep(d.res))
	}
	if d.res.Terminated || d.res.Truncated {
		d.reset(t, e, next())
		return true
	}
	return false
}

func (d *drive) run(t testing.TB, e env.Env, n int) (resets int) {
	t.Helper()
	a := make([]float64, e.Spec().Action.Len())
	for range n {
		randAlloc(d.rng, a)
		if d.step(t, e, a, d.seeds.Uint64) {
			resets++
		}
	}
	return resets
}

func (d *drive) replay(t testing.TB, e env.Env, src *drive) {
	t.Helper()
	k := 0
	next := func() uint64 { s := src.resets[k]; k++; return s }
	for _, a := range src.acts {
		d.step(t, e, a, next)
	}
}

func randAlloc(rng interface{ ExpFloat64() float64 }, a []float64) {
	var s float64
	for i := range a {
		a[i] = rng.ExpFloat64()
		s += a[i]
	}
	for i := range a {
		a[i] /= s
	}
}

func compareRecords(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d records after restoring, want %d", len(got), len(want))
	}
	for k := range want {
		if want[k] != got[k] {
			t.Fatalf("record %d differs after restoring:\n got %.300s\nwant %.300s", k, got[k], want[k])
		}
	}
}

func mustMarshal(t testing.TB, e encoding.BinaryMarshaler) []byte {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resumeCheck runs the save/continue/rebuild/restore/replay pattern on
// envs from build and returns the original and restored envs.
func resumeCheck[E stateful](t *testing.T, build func(testing.TB) E, k, n int) (orig, restored E) {
	t.Helper()
	a := build(t)
	da := newDrive(a.Spec(), 1)
	da.reset(t, a, 11)
	if r := da.run(t, a, k); r < 2 {
		t.Fatalf("only %d autoresets before saving", r)
	}
	saved := mustMarshal(t, a)
	da.rec = true
	da.run(t, a, n)

	b := build(t)
	// Use the new env first, so that the restore has to overwrite state.
	db := newDrive(b.Spec(), 2)
	db.reset(t, b, 99)
	db.run(t, b, k/3)
	if err := b.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustMarshal(t, b), saved) {
		t.Fatal("the restored state encodes differently")
	}
	db.rec = true
	db.replay(t, b, da)
	compareRecords(t, da.out, db.out)
	if !bytes.Equal(mustMarshal(t, a), mustMarshal(t, b)) {
		t.Fatal("states differ after the replay")
	}
	return a, b
}

// TestMarketResume: the market env alone, mid-episode, for every reward
// (each keeps different running state) and both execution times.
func TestMarketResume(t *testing.T) {
	w := newStateWorld()
	w.cfg.EpisodeLen = 17
	for _, rw := range []string{env.RewardLogGrowth, env.RewardDifferentialSharpe, env.RewardDrawdownPenalised, env.RewardVolScaled} {
		for _, ex := range []string{env.ExecClose, env.ExecNextOpen} {
			t.Run(rw+"/"+ex, func(t *testing.T) {
				w := w
				w.cfg.Reward, w.cfg.Execution = rw, ex
				resumeCheck(t, func(t testing.TB) *env.Market { return w.market(t) }, 60, 70)
			})
		}
	}
}

// TestStackResume: market behind guard, time limit and monitor. Besides
// the trajectory, the monitor's episodes and the guard's totals, last
// report and projected allocation continue identically.
func TestStackResume(t *testing.T) {
	w := newStateWorld()
	var stacks []stackEnv
	build := func(t testing.TB) *wrap.Monitor {
		s := w.stack(t)
		stacks = append(stacks, s)
		return s.top
	}
	resumeCheck(t, build, 80, 90)
	a, b := stacks[0], stacks[1]
	ea, eb := a.top.Episodes(nil), b.top.Episodes(nil)
	if len(ea) == 0 || !slices.Equal(ea, eb) || a.top.Current() != b.top.Current() ||
		a.top.Completed() != b.top.Completed() || a.top.Aborted() != b.top.Aborted() {
		t.Errorf("monitor differs after the replay: %d vs %d episodes, %d vs %d completed", len(ea), len(eb), a.top.Completed(), b.top.Completed())
	}
	ta, tb := a.g.Totals(), b.g.Totals()
	if ta != tb || a.g.LastReport() != b.g.LastReport() || !slices.Equal(a.g.Projected(), b.g.Projected()) {
		t.Errorf("guard differs after the replay: totals %+v vs %+v", ta, tb)
	}
	if ta.Trips == 0 || ta.Count(guard.FlagVolTarget) == 0 || ta.Count(guard.FlagTurnover) == 0 {
		t.Errorf("the guard's stateful limits did not act (totals %+v): the test would not see their state", ta)
	}
}

// vecRecord renders every output of a Vec step that is defined (final
// observations and reset infos only where an episode ended).
func vecRecord(out *env.VecStep, D int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "obs %x r %x term %v trunc %v", out.Obs, out.Rewards, out.Terminated, out.Truncated)
	for b := range out.Rewards {
		in := out.Infos[b]
		fmt.Fprintf(&sb, " | %d: val %x ret %x req %x exe %x w %x to %x fee %x slip %x guard %+v bar %d",
			b, in.Value, in.Return, in.Requested, in.Executed, in.Weights, in.Turnover, in.Fees, in.Slippage, in.Guard, in.Bar)
		if out.Done(b) {
			fmt.Fprintf(&sb, " final %x reset %s", out.FinalObs[b*D:(b+1)*D], fmtInfo(out.ResetInfos[b]))
		}
	}
	return sb.String()
}

// TestVecResume: a Vec of 5 stacks stepped by 2 workers is saved
// mid-episode, continued, and restored into a Vec rebuilt from scratch
// (once with 2 workers, once with 1: the worker count is not state).
func TestVecResume(t *testing.T) {
	const B, k, n = 5, 40, 60
	w := newStateWorld()
	var tops [][]stackEnv
	build := func(workers int) *env.Vec {
		envs := make([]env.Env, B)
		var ss []stackEnv
		for b := range envs {
			s := w.stack(t)
			envs[b], ss = s.top, append(ss, s)
		}
		tops = append(tops, ss)
		v, err := env.NewVec(envs, workers)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	spec := w.market(t).Spec()
	D, A := spec.Observation.Len(), spec.Action.Len()
	acts := vecActions(k+n, B, A)
	a := build(2)
	if _, _, err := a.Reset(7); err != nil {
		t.Fatal(err)
	}
	resets := 0
	for s := range k {
		out, err := a.Step(acts[s])
		if err != nil {
			t.Fatal(err)
		}
		for b := range B {
			if out.Done(b) {
				resets++
			}
		}
	}
	if resets < B {
		t.Fatalf("only %d autoresets before saving", resets)
	}
	saved := mustMarshal(t, a)
	var want []string
	for s := k; s < k+n; s++ {
		out, err := a.Step(acts[s])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, vecRecord(out, D))
	}
	for _, workers := range []int{2, 1} {
		v := build(workers)
		if _, _, err := v.Reset(12345); err != nil { // other episodes, other streams
			t.Fatal(err)
		}
		if _, err := v.Step(acts[0]); err != nil {
			t.Fatal(err)
		}
		if err := v.UnmarshalBinary(saved); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustMarshal(t, v), saved) {
			t.Fatal("the restored state encodes differently")
		}
		var got []string
		for s := k; s < k+n; s++ {
			out, err := v.Step(acts[s])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, vecRecord(out, D))
		}
		compareRecords(t, want, got)
		if !bytes.Equal(mustMarshal(t, a), mustMarshal(t, v)) {
			t.Fatalf("workers=%d: states differ after the replay", workers)
		}
		for b := range B {
			x, y := tops[0][b], tops[len(tops)-1][b]
			if !slices.Equal(x.top.Episodes(nil), y.top.Episodes(nil)) || x.g.Totals() != y.g.Totals() {
				t.Fatalf("workers=%d env %d: monitor or guard totals differ", workers, b)
			}
		}
	}
	// A Vec is restored only from its own kind of state, with as many envs.
	small := func() *env.Vec {
		envs := []env.Env{w.stack(t).top, w.stack(t).top}
		v, err := env.NewVec(envs, 1)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}()
	defer small.Close()
	expectStateErr(t, "vec with 2 envs", small.UnmarshalBinary(saved), "holds 5 envs")
	expectStateErr(t, "vec from a stack's state", a.UnmarshalBinary(mustMarshal(t, tops[0][0].top)), "Monitor state")
}

// expectStateErr checks that err wraps env.ErrState and mentions want.
func expectStateErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !errors.Is(err, env.ErrState) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %v, want env.ErrState mentioning %q", what, err, want)
	}
}

// withVersion returns data with the layer's format version replaced.
func withVersion(data []byte, v uint16) []byte {
	d := slices.Clone(data)
	binary.LittleEndian.PutUint16(d[4:], v)
	return d
}

// TestMarketStateErrors: every kind of mismatch is an error wrapping
// ErrState that names it, and leaves the env unchanged.
func TestMarketStateErrors(t *testing.T) {
	w := newStateWorld()
	src := w.market(t)
	d := newDrive(src.Spec(), 5)
	d.reset(t, src, 3)
	d.run(t, src, 7)
	saved := mustMarshal(t, src)

	otherPanel := newStateWorld()
	otherPanel.p = envtest.RandomPanel(260, 3, 62)
	otherPanel.fs = envtest.Features(otherPanel.p)
	otherCfg := newStateWorld()
	otherCfg.cfg.Costs.TakerBps = 7
	otherWindow := newStateWorld()
	otherWindow.cfg.Window = 9
	otherData := newStateWorld()
	otherData.fs = envtest.Features(otherData.p)
	otherData.fs.Series(1, 0)[200] += 1e-9
	otherInit := newStateWorld()
	otherInit.cfg.InitialWeights = []float64{0.5, 0.5, 0, 0}

	g, err := guard.New(w.market(t), guard.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	gs := mustMarshal(t, g)
	corrupt := slices.Clone(saved)
	// The decision bar follows the magic, version, fingerprint, three
	// shape integers, two digests and two flags.
	off := 6 + 8 + 64 + 3*8 + 2*(8+32) + 2
	binary.LittleEndian.PutUint64(corrupt[off:], 1<<40)

	cases := []struct {
		name string
		into *env.Market
		data []byte
		want string
	}{
		{"other panel", otherPanel.market(t), saved, "panel with fingerprint"},
		{"other costs", otherCfg.market(t), saved, "another configuration"},
		{"other initial weights", otherInit.market(t), saved, "another configuration"},
		{"other window", otherWindow.market(t), saved, "window 8"},
		{"other features", otherData.market(t), saved, "other observation data"},
		{"guard state", w.market(t), gs, "is a Guard state, not a Market state"},
		{"not a state", w.market(t), []byte("hello, world"), "not an env state"},
		{"version", w.market(t), withVersion(saved, 2), "format version 2"},
		{"truncated", w.market(t), saved[:len(saved)-5], "truncated"},
		{"too short", w.market(t), saved[:3], "too short"},
		{"trailing bytes", w.market(t), append(slices.Clone(saved), 1, 2), "trailing"},
		{"corrupt bar", w.market(t), corrupt, "inconsistent"},
	}
	for _, c := range cases {
		before := mustMarshal(t, c.into)
		expectStateErr(t, c.name, c.into.UnmarshalBinary(c.data), c.want)
		if !bytes.Equal(before, mustMarshal(t, c.into)) {
			t.Errorf("%s: the env changed on a failed restore", c.name)
		}
	}
	// A clone shares the data and accepts the state.
	if err := src.Clone().UnmarshalBinary(saved); err != nil {
		t.Errorf("clone: %v", err)
	}
}

// TestStackStateErrors: each wrapper refuses states of other layers and
// of other configurations, and a stack refused by an inner layer is left
// unchanged as a whole.
func TestStackStateErrors(t *testing.T) {
	w := newStateWorld()
	src := w.stack(t)
	d := newDrive(src.top.Spec(), 6)
	d.reset(t, src.top, 3)
	d.run(t, src.top, 30)
	saved := mustMarshal(t, src.top)
	tlState := mustMarshal(t, src.top.Unwrap().(*wrap.TimeLimit))
	gState := mustMarshal(t, src.g)
	mState := mustMarshal(t, src.m)

	otherPanel := newStateWorld()
	otherPanel.p = envtest.RandomPanel(260, 3, 63)
	otherPanel.fs = envtest.Features(otherPanel.p)

	build := func(mod func(*guard.Config), limit, capacity int, wl stateWorld) (*wrap.Monitor, *guard.Guard, *wrap.TimeLimit) {
		gc := guardCfg()
		if mod != nil {
			mod(&gc)
		}
		g, err := guard.New(wl.market(t), gc)
		if err != nil {
			t.Fatal(err)
		}
		tl, _ := wrap.NewTimeLimit(g, limit)
		mon, _ := wrap.NewMonitor(tl, capacity)
		return mon, g, tl
	}
	mon, g, tl := build(nil, 23, 5, w)
	expectStateErr(t, "market state into a guard", g.UnmarshalBinary(mState), "is a Market state, not a Guard state")
	expectStateErr(t, "guard state into a time limit", tl.UnmarshalBinary(gState), "is a Guard state, not a TimeLimit state")
	expectStateErr(t, "time limit state into a monitor", mon.UnmarshalBinary(tlState), "is a TimeLimit state, not a Monitor state")
	expectStateErr(t, "monitor state into a market", w.market(t).UnmarshalBinary(saved), "is a Monitor state, not a Market state")
	for name, c := range map[string]struct {
		top  stateful
		want string
	}{
		"other guard config":  {first(build(func(c *guard.Config) { c.MaxTurnover = 0.5 }, 23, 5, w)), "guard with another configuration"},
		"other time limit":    {first(build(nil, 24, 5, w)), "limit of 23 steps"},
		"other capacity":      {first(build(nil, 23, 6, w)), "keeping 5 episodes"},
		"other market panel":  {first(build(nil, 23, 5, otherPanel)), "panel with fingerprint"},
		"monitor truncated":   {mon, "truncated"},
		"monitor new version": {mon, "format version 9"},
	} {
		data := saved
		switch name {
		case "monitor truncated":
			data = saved[:len(saved)/2]
		case "monitor new version":
			data = withVersion(saved, 9)
		}
		// Use the stack first so that "unchanged" is a real check.
		dd := newDrive(c.top.Spec(), 7)
		dd.reset(t, c.top, 5)
		dd.run(t, c.top, 9)
		before := mustMarshal(t, c.top)
		expectStateErr(t, name, c.top.UnmarshalBinary(data), c.want)
		if !bytes.Equal(before, mustMarshal(t, c.top)) {
			t.Errorf("%s: the stack changed on a failed restore", name)
		}
	}
	// Wrappers over an env that cannot save its state refuse to save a
	// partial one.
	plain, _ := wrap.NewTimeLimit(opaque{w.market(t)}, 5)
	if _, err := plain.MarshalBinary(); err == nil {
		t.Error("TimeLimit over an env without state saved a state")
	}
	v, err := env.NewVec([]env.Env{opaque{w.market(t)}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "cannot save") {
		t.Errorf("Vec over an env without state: %v", err)
	}
}

func first[A, B, C any](a A, _ B, _ C) A { return a }

// opaque hides the state encoding of the env it holds.
type opaque struct{ env.Env }

// TestVecRestoreIsAtomic: when one env of a Vec rejects its part, the envs
// restored before it are put back.
func TestVecRestoreIsAtomic(t *testing.T) {
	w := newStateWorld()
	mk := func(wl stateWorld) *env.Vec {
		v, err := env.NewVec([]env.Env{wl.stack(t).top, wl.stack(t).top, wl.stack(t).top}, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	a := mk(w)
	a.Reset(1)
	acts := vecActions(30, 3, a.Spec().Action.Len())
	for _, x := range acts {
		a.Step(x)
	}
	saved := mustMarshal(t, a)
	// A vec whose last env trades another panel: envs 0 and 1 accept their
	// parts, env 2 refuses.
	b := mk(w)
	other := newStateWorld()
	other.p = envtest.RandomPanel(260, 3, 64)
	other.fs = envtest.Features(other.p)
	envs := []env.Env{w.stack(t).top, w.stack(t).top, other.stack(t).top}
	b, err := env.NewVec(envs, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Reset(2)
	for _, x := range acts[:11] {
		b.Step(x)
	}
	before := mustMarshal(t, b)
	err = b.UnmarshalBinary(saved)
	expectStateErr(t, "one env of another panel", err, "env 2")
	if !bytes.Equal(before, mustMarshal(t, b)) {
		t.Error("a failed restore changed the vec")
	}
	expectStateErr(t, "vec version", b.UnmarshalBinary(withVersion(saved, 3)), "format version 3")
	expectStateErr(t, "vec truncated", b.UnmarshalBinary(saved[:40]), "truncated")
}

// BenchmarkVecStack steps 64 training stacks (market → guard with every
// stateful limit → time limit → monitor; 3 assets, 3 features and one
// global feature over 8 bars) through a Vec on the generic path, with
// pre-drawn random allocations; and measures saving the whole Vec's state.
func BenchmarkVecStack(b *testing.B) {
	const B = 64
	w := newStateWorld()
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("envs=%d/workers=%d", B, workers), func(b *testing.B) {
			envs := make([]env.Env, B)
			for i := range envs {
				envs[i] = w.stack(b).top
			}
			v, err := env.NewVec(envs, workers)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			acts := vecActions(256, B, v.Spec().Action.Len())
			v.Reset(1)
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Step(acts[k&255]); err != nil {
					b.Fatal(err)
				}
				k++
			}
			b.ReportMetric(float64(b.N)*B/b.Elapsed().Seconds(), "env-steps/s")
		})
	}
	b.Run(fmt.Sprintf("envs=%d/marshal", B), func(b *testing.B) {
		envs := make([]env.Env, B)
		for i := range envs {
			envs[i] = w.stack(b).top
		}
		v, err := env.NewVec(envs, 1)
		if err != nil {
			b.Fatal(err)
		}
		defer v.Close()
		v.Reset(1)
		var n int
		b.ReportAllocs()
		for b.Loop() {
			s, err := v.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			n = len(s)
		}
		b.ReportMetric(float64(n), "bytes")
	})
}
