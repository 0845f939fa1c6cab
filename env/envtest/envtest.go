package envtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

// Factory builds a fresh env. Each call must return a new, independent
// value.
type Factory func() (env.Env, error)

// PanelFactory builds a fresh env trading panel p (for the look-ahead
// probe): it must derive everything data-dependent (features, labels,
// normalisation statistics) from p, exactly as production code would.
type PanelFactory func(p *market.Panel) (env.Env, error)

// Options tune Check. The zero value checks everything except the
// look-ahead probe.
type Options struct {
	// Seed is the root of all reset seeds and random actions; 0 means 1.
	Seed uint64
	// Steps is the number of steps of each rollout (episodes that end are
	// reset and continued); 0 means 100.
	Steps int
	// Action, if set, writes the action for observation obs into dst using
	// rng; by default actions are random points of the action space.
	Action func(dst, obs []float64, rng *rand.Rand)
	// SeedInsensitive declares that the env ignores its Reset seed (e.g. a
	// fixed start), skipping the different-seeds check.
	SeedInsensitive bool
	// MaxAllocsPerStep is the allowed average number of allocations per
	// Step (default 0).
	MaxAllocsPerStep float64
	// NoState skips the save/restore check, which otherwise runs for every
	// env implementing encoding.BinaryMarshaler and BinaryUnmarshaler (set
	// it for a wrapper over an env that cannot save its state).
	NoState bool
	// Panel and FromPanel enable the look-ahead probe: FromPanel(Panel) is
	// the reference env and FromPanel(perturbed copies of Panel) the probes.
	Panel     *market.Panel
	FromPanel PanelFactory
}

// Check names, in the order Check runs them.
const (
	CheckSpec            = "spec"
	CheckStepBeforeReset = "step-before-reset"
	CheckSpaces          = "spaces"
	CheckDeterminism     = "determinism"
	CheckSeeds           = "seeds"
	CheckActionRetention = "action-retention"
	CheckObsAliasing     = "obs-aliasing"
	CheckAllocs          = "allocs"
	CheckClose           = "close"
	CheckState           = "state"
	CheckLookAhead       = "lookahead"
)

// Problem is a failed check.
type Problem struct {
	Check string // one of the Check* names
	Err   error
}

func (p Problem) Error() string { return "envtest: " + p.Check + ": " + p.Err.Error() }

type checkFn struct {
	name string
	run  func(*checker) error
	skip func(*checker) string // reason to skip, or ""
}

func checks() []checkFn {
	return []checkFn{
		{CheckSpec, (*checker).spec, nil},
		{CheckStepBeforeReset, (*checker).stepBeforeReset, nil},
		{CheckSpaces, (*checker).spaces, nil},
		{CheckDeterminism, (*checker).determinism, nil},
		{CheckSeeds, (*checker).seeds, func(c *checker) string {
			if c.opts.SeedInsensitive {
				return "Options.SeedInsensitive is set"
			}
			return ""
		}},
		{CheckActionRetention, (*checker).actionRetention, nil},
		{CheckObsAliasing, (*checker).obsAliasing, nil},
		{CheckAllocs, (*checker).allocs, nil},
		{CheckClose, (*checker).close, nil},
		{CheckState, (*checker).state, func(c *checker) string {
			if c.opts.NoState {
				return "Options.NoState is set"
			}
			e, _, err := c.build()
			if err != nil {
				return "" // the check reports the factory's error
			}
			defer e.Close()
			if _, ok := e.(stateful); !ok {
				return fmt.Sprintf("%T does not implement encoding.BinaryMarshaler and BinaryUnmarshaler", e)
			}
			return ""
		}},
		{CheckLookAhead, (*checker).lookAhead, func(c *checker) string {
			if c.opts.Panel == nil || c.opts.FromPanel == nil {
				return "no Options.Panel and FromPanel"
			}
			return ""
		}},
	}
}

// Check runs every check as a subtest of t and reports failures there.
func Check(t *testing.T, f Factory, opts Options) {
	t.Helper()
	c := newChecker(f, opts)
	for _, ch := range checks() {
		t.Run(ch.name, func(t *testing.T) {
			if ch.skip != nil {
				if why := ch.skip(c); why != "" {
					t.Skipf("skipped: %s", why)
				}
			}
			if err := c.safe(ch.run); err != nil {
				t.Error(Problem{ch.name, err})
			}
		})
	}
}

// Run runs every check and returns the failures (nil when the env
// conforms). Skipped checks are not reported.
func Run(f Factory, opts Options) []Problem {
	c := newChecker(f, opts)
	var probs []Problem
	for _, ch := range checks() {
		if ch.skip != nil && ch.skip(c) != "" {
			continue
		}
		if err := c.safe(ch.run); err != nil {
			probs = append(probs, Problem{ch.name, err})
		}
	}
	return probs
}

type checker struct {
	f    Factory
	opts Options
}

func newChecker(f Factory, opts Options) *checker {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Steps <= 0 {
		opts.Steps = 100
	}
	return &checker{f: f, opts: opts}
}

// safe runs a check, turning an unexpected panic into a failure.
func (c *checker) safe(run func(*checker) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return run(c)
}

func (c *checker) build() (env.Env, env.Spec, error) {
	e, err := c.f()
	if err != nil {
		return nil, env.Spec{}, fmt.Errorf("factory: %w", err)
	}
	if e == nil {
		return nil, env.Spec{}, errors.New("factory returned a nil env")
	}
	return e, e.Spec(), nil
}

// --- rollouts ---------------------------------------------------------------

// record is one observation with what led to it: the reset (step −1) or a
// step's reward, flags and info.
type record struct {
	obs        []float64
	reward     float64
	terminated bool
	truncated  bool
	reset      bool
	info       env.Info
}

// rollout drives an env for a number of steps with reproducible seeds and
// actions. Hooks let checks tamper with caller buffers.
type rollout struct {
	steps      int
	seeds      *rand.Rand // reset seeds
	actRNG     *rand.Rand
	action     func(dst, obs []float64, rng *rand.Rand)
	stopAtDone bool
	// scribble, if set, overwrites caller-owned buffers after each use
	// (action slices, observation and info buffers) and alternates two sets
	// of them, to catch envs that retain or alias them.
	scribbleAction bool
	scribbleObs    bool
}

func (c *checker) newRollout(seedIndex uint64) *rollout {
	return &rollout{
		steps:  c.opts.Steps,
		seeds:  seed.New(c.opts.Seed, seed.Test, 2*seedIndex),
		actRNG: seed.New(c.opts.Seed, seed.Test, 2*seedIndex+1),
		action: c.opts.Action,
	}
}

func copyInfo(in env.Info) env.Info {
	out := in
	out.Requested = append([]float64(nil), in.Requested...)
	out.Executed = append([]float64(nil), in.Executed...)
	out.Weights = append([]float64(nil), in.Weights...)
	return out
}

func scribble(x []float64) {
	for i := range x {
		x[i] = math.NaN()
	}
}

func (r *rollout) run(e env.Env, spec env.Spec) ([]record, error) {
	obsLen := spec.Observation.Len()
	bufs := [2]*env.StepResult{env.NewStepResult(spec), env.NewStepResult(spec)}
	acts := [2][]float64{make([]float64, spec.Action.Len()), make([]float64, spec.Action.Len())}
	obs := make([]float64, obsLen)
	var recs []record
	reset := func() error {
		info, err := e.Reset(obs, r.seeds.Uint64())
		if err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		recs = append(recs, record{obs: append([]float64(nil), obs...), reset: true, info: copyInfo(info)})
		return nil
	}
	if err := reset(); err != nil {
		return nil, err
	}
	cur := append([]float64(nil), obs...) // observation the next action sees
	if r.scribbleObs {
		scribble(obs)
	}
	for k := 0; k < r.steps; k++ {
		a, res := acts[k%2], bufs[k%2]
		if r.action != nil {
			r.action(a, cur, r.actRNG)
		} else {
			randomAction(a, spec.Action, r.actRNG)
		}
		if err := e.Step(res, a); err != nil {
			return recs, fmt.Errorf("step %d: %w", k, err)
		}
		recs = append(recs, record{obs: append([]float64(nil), res.Obs...), reward: res.Reward,
			terminated: res.Terminated, truncated: res.Truncated, info: copyInfo(res.Info)})
		copy(cur, res.Obs)
		if r.scribbleAction {
			scribble(a)
		}
		if r.scribbleObs {
			scribble(res.Obs)
			scribble(res.Info.Requested)
			scribble(res.Info.Executed)
			scribble(res.Info.Weights)
		}
		if res.Terminated || res.Truncated {
			if r.stopAtDone {
				break
			}
			if err := reset(); err != nil {
				return recs, err
			}
			copy(cur, obs)
			if r.scribbleObs {
				scribble(obs)
			}
		}
	}
	return recs, nil
}

// randomAction writes a random point of space s into dst.
func randomAction(dst []float64, s env.Space, rng *rand.Rand) {
	switch s.Kind {
	case env.Simplex:
		switch u := rng.IntN(8); {
		case u == 0:
			clear(dst)
			dst[rng.IntN(len(dst))] = 1
		case u == 1:
			for i := range dst {
				dst[i] = 1 / float64(len(dst))
			}
		default:
			var sum float64
			for i := range dst {
				dst[i] = rng.ExpFloat64()
				sum += dst[i]
			}
			for i := range dst {
				dst[i] /= sum
			}
		}
	default:
		for i := range dst {
			lo, hi := math.Inf(-1), math.Inf(1)
			if s.Low != nil {
				lo, hi = s.Low[i], s.High[i]
			}
			if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
				dst[i] = lo + (hi-lo)*rng.Float64()
			} else {
				dst[i] = min(max(2*rng.NormFloat64(), lo), hi)
			}
		}
	}
}

// same reports the first difference between two records, bitwise.
func same(a, b record) error {
	if a.reset != b.reset {
		return errors.New("one is a reset, the other a step")
	}
	if err := sameFloats("observation", a.obs, b.obs); err != nil {
		return err
	}
	if math.Float64bits(a.reward) != math.Float64bits(b.reward) {
		return fmt.Errorf("reward %v vs %v", a.reward, b.reward)
	}
	if a.terminated != b.terminated || a.truncated != b.truncated {
		return fmt.Errorf("flags terminated/truncated %v/%v vs %v/%v", a.terminated, a.truncated, b.terminated, b.truncated)
	}
	return sameInfo(a.info, b.info)
}

func sameFloats(what string, a, b []float64) error {
	if len(a) != len(b) {
		return fmt.Errorf("%s length %d vs %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return fmt.Errorf("%s[%d] = %v vs %v", what, i, a[i], b[i])
		}
	}
	return nil
}

func sameInfo(a, b env.Info) error {
	sc := func(what string, x, y float64) error {
		if math.Float64bits(x) != math.Float64bits(y) {
			return fmt.Errorf("info %s %v vs %v", what, x, y)
		}
		return nil
	}
	switch {
	case a.Bar != b.Bar:
		return fmt.Errorf("info bar %d vs %d", a.Bar, b.Bar)
	case !a.Time.Equal(b.Time):
		return fmt.Errorf("info time %v vs %v", a.Time, b.Time)
	case a.Regime != b.Regime:
		return fmt.Errorf("info regime %v vs %v", a.Regime, b.Regime)
	case a.Guard != b.Guard:
		return fmt.Errorf("info guard %+v vs %+v", a.Guard, b.Guard)
	case a.LiquidityLimited != b.LiquidityLimited:
		return fmt.Errorf("info liquidity-limited assets %d vs %d", a.LiquidityLimited, b.LiquidityLimited)
	}
	for _, e := range []error{
		sc("value", a.Value, b.Value), sc("return", a.Return, b.Return), sc("turnover", a.Turnover, b.Turnover),
		sc("fees", a.Fees, b.Fees), sc("slippage", a.Slippage, b.Slippage), sc("unfilled", a.Unfilled, b.Unfilled),
		sameFloats("info requested", a.Requested, b.Requested), sameFloats("info executed", a.Executed, b.Executed),
		sameFloats("info weights", a.Weights, b.Weights),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

func compare(ref, got []record) error {
	if len(ref) != len(got) {
		return fmt.Errorf("%d records vs %d", len(ref), len(got))
	}
	for k := range ref {
		if err := same(ref[k], got[k]); err != nil {
			return fmt.Errorf("record %d (%s): %w", k, kind(ref[k]), err)
		}
	}
	return nil
}

func kind(r record) string {
	if r.reset {
		return "reset"
	}
	return "step"
}

// --- checks -------------------------------------------------------------------

func (c *checker) spec() error {
	e, s, err := c.build()
	if err != nil {
		return err
	}
	defer e.Close()
	for _, sp := range []struct {
		name string
		s    env.Space
	}{{"observation", s.Observation}, {"action", s.Action}} {
		if len(sp.s.Shape) == 0 || sp.s.Len() <= 0 {
			return fmt.Errorf("%s space has shape %v", sp.name, sp.s.Shape)
		}
		if sp.s.Kind == env.Box && (sp.s.Low != nil || sp.s.High != nil) {
			if len(sp.s.Low) != sp.s.Len() || len(sp.s.High) != sp.s.Len() {
				return fmt.Errorf("%s box bounds have lengths %d and %d for %d elements", sp.name, len(sp.s.Low), len(sp.s.High), sp.s.Len())
			}
			for k := range sp.s.Low {
				if math.IsNaN(sp.s.Low[k]) || math.IsNaN(sp.s.High[k]) || sp.s.Low[k] > sp.s.High[k] {
					return fmt.Errorf("%s box bounds [%v, %v] at %d", sp.name, sp.s.Low[k], sp.s.High[k], k)
				}
			}
		}
	}
	if s.Layout.Len != 0 && s.Layout.Len != s.Observation.Len() {
		return fmt.Errorf("layout length %d, observation length %d", s.Layout.Len, s.Observation.Len())
	}
	if s.Action.Kind == env.Simplex && s.Action.Len() != len(s.Assets)+1 {
		return fmt.Errorf("simplex action of %d for %d assets plus cash", s.Action.Len(), len(s.Assets))
	}
	return nil
}

func (c *checker) stepBeforeReset() (err error) {
	e, s, err := c.build()
	if err != nil {
		return err
	}
	defer e.Close()
	a := make([]float64, s.Action.Len())
	randomAction(a, s.Action, seed.New(c.opts.Seed, seed.Test, 1000))
	panicked := false
	func() {
		defer func() {
			if recover() != nil {
				panicked = true
			}
		}()
		err = e.Step(env.NewStepResult(s), a)
	}()
	if panicked || err != nil {
		return nil
	}
	return errors.New("Step before Reset neither panicked nor returned an error")
}

// simplexTol is the tolerance for Info weights on the simplex: they are
// computed as w ⊙ y / (w · y) and similar, so they sum to one within a few
// ulp per element; 1e-9 admits any sane computation and rejects real errors.
const simplexTol = 1e-9

func onSimplex(what string, w []float64) error {
	var s float64
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return fmt.Errorf("%s[%d] = %v", what, i, x)
		}
		s += x
	}
	if math.Abs(s-1) > simplexTol {
		return fmt.Errorf("%s sums to %v", what, s)
	}
	return nil
}

func inSpace(s env.Space, x []float64) error {
	if len(x) != s.Len() {
		return fmt.Errorf("length %d, space %d", len(x), s.Len())
	}
	for k, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("element %d is %v", k, v)
		}
		if s.Kind == env.Box && s.Low != nil && (v < s.Low[k] || v > s.High[k]) {
			return fmt.Errorf("element %d = %v outside [%v, %v]", k, v, s.Low[k], s.High[k])
		}
	}
	if s.Kind == env.Simplex {
		return onSimplex("simplex element", x)
	}
	return nil
}

func checkInfo(in env.Info, reset bool) error {
	fin := func(what string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("info %s = %v", what, v)
		}
		return nil
	}
	for _, e := range []error{fin("value", in.Value), fin("return", in.Return), fin("turnover", in.Turnover),
		fin("fees", in.Fees), fin("slippage", in.Slippage)} {
		if e != nil {
			return e
		}
	}
	if !(in.Value > 0) {
		return fmt.Errorf("info value %v is not positive", in.Value)
	}
	if in.Turnover < 0 || in.Fees < 0 || in.Slippage < 0 {
		return fmt.Errorf("negative turnover %v, fees %v or slippage %v", in.Turnover, in.Fees, in.Slippage)
	}
	if err := onSimplex("info weights", in.Weights); err != nil {
		return err
	}
	if !reset {
		if err := onSimplex("info executed", in.Executed); err != nil {
			return err
		}
		if err := onSimplex("info requested", in.Requested); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) spaces() error {
	e, s, err := c.build()
	if err != nil {
		return err
	}
	defer e.Close()
	recs, err := c.newRollout(0).run(e, s)
	if err != nil {
		return err
	}
	for k, r := range recs {
		if err := inSpace(s.Observation, r.obs); err != nil {
			return fmt.Errorf("record %d (%s): observation: %w", k, kind(r), err)
		}
		if math.IsNaN(r.reward) || math.IsInf(r.reward, 0) {
			return fmt.Errorf("record %d: reward %v", k, r.reward)
		}
		if err := checkInfo(r.info, r.reset); err != nil {
			return fmt.Errorf("record %d (%s): %w", k, kind(r), err)
		}
	}
	return nil
}

func (c *checker) determinism() error {
	e1, s, err := c.build()
	if err != nil {
		return err
	}
	defer e1.Close()
	ref, err := c.newRollout(0).run(e1, s)
	if err != nil {
		return err
	}
	again, err := c.newRollout(0).run(e1, s)
	if err != nil {
		return err
	}
	if err := compare(ref, again); err != nil {
		return fmt.Errorf("the same env reset with the same seeds diverged: %w", err)
	}
	e2, _, err := c.build()
	if err != nil {
		return err
	}
	defer e2.Close()
	fresh, err := c.newRollout(0).run(e2, s)
	if err != nil {
		return err
	}
	if err := compare(ref, fresh); err != nil {
		return fmt.Errorf("two fresh envs with the same seeds diverged: %w", err)
	}
	return nil
}

func (c *checker) seeds() error {
	e, s, err := c.build()
	if err != nil {
		return err
	}
	defer e.Close()
	var first []record
	for k := uint64(0); k < 4; k++ {
		r := c.newRollout(0)
		r.seeds = seed.New(c.opts.Seed, seed.Test, 500+k) // different reset seeds, same actions
		r.steps = min(c.opts.Steps, 5)
		recs, err := r.run(e, s)
		if err != nil {
			return err
		}
		if k == 0 {
			first = recs
		} else if compare(first, recs) != nil {
			return nil
		}
	}
	return errors.New("four different seeds gave bitwise-identical trajectories (set Options.SeedInsensitive if the env ignores its seed)")
}

func (c *checker) tampered(action, obs bool) error {
	e, s, err := c.build()
	if err != nil {
		return err
	}
	defer e.Close()
	ref, err := c.newRollout(0).run(e, s)
	if err != nil {
		return err
	}
	e2, _, err := c.build()
	if err != nil {
		return err
	}
	defer e2.Close()
	r := c.newRollout(0)
	r.scribbleAction, r.scribbleObs = action, obs
	got, err := r.run(e2, s)
	if err != nil {
		return err
	}
	return compare(ref, got)
}

func (c *checker) actionRetention() error {
	if err := c.tampered(true, false); err != nil {
		return fmt.Errorf("overwriting action slices after Step changed the trajectory (the env retains them): %w", err)
	}
	return nil
}

func (c *checker) obsAliasing() error {
	if err := c.tampered(false, true); err != nil {
		return fmt.Errorf("overwriting observation and info buffers after use changed the trajectory (the env keeps state in them): %w", err)
	}
	return nil
}

// allocs measures allocations around Step calls only (resets excluded).
// runtime.MemStats counts every goroutine's allocations, so a stray
// allocation elsewhere in the process (another test, the race runtime) can
// land in the window; the check therefore passes if any of three
// measurements is within the budget, while an env that allocates in Step
// fails all three.
func (c *checker) allocs() error {
	var last float64
	for attempt := 0; attempt < 3; attempt++ {
		avg, err := c.measureAllocs(uint64(attempt))
		if err != nil {
			return err
		}
		if avg <= c.opts.MaxAllocsPerStep {
			return nil
		}
		last = avg
	}
	return fmt.Errorf("%.2f allocations per Step (allowed %g)", last, c.opts.MaxAllocsPerStep)
}

func (c *checker) measureAllocs(attempt uint64) (float64, error) {
	e, s, err := c.build()
	if err != nil {
		return 0, err
	}
	defer e.Close()
	obs := make([]float64, s.Observation.Len())
	res := env.NewStepResult(s)
	rng := seed.New(c.opts.Seed, seed.Test, 2000+2*attempt)
	seeds := seed.New(c.opts.Seed, seed.Test, 2001+2*attempt)
	steps := max(c.opts.Steps, 100)
	acts := make([][]float64, steps)
	for k := range acts {
		acts[k] = make([]float64, s.Action.Len())
		if c.opts.Action == nil {
			randomAction(acts[k], s.Action, rng)
		}
	}
	if _, err := e.Reset(obs, seeds.Uint64()); err != nil {
		return 0, err
	}
	cur := append([]float64(nil), obs...)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	var mallocs uint64
	for k := -10; k < steps; k++ { // 10 warm-up steps
		a := acts[max(k, 0)]
		if c.opts.Action != nil {
			c.opts.Action(a, cur, rng)
		}
		runtime.ReadMemStats(&before)
		err := e.Step(res, a)
		runtime.ReadMemStats(&after)
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", k, err)
		}
		if k >= 0 {
			mallocs += after.Mallocs - before.Mallocs
		}
		copy(cur, res.Obs)
		if res.Terminated || res.Truncated {
			if _, err := e.Reset(obs, seeds.Uint64()); err != nil {
				return 0, err
			}
			copy(cur, obs)
		}
	}
	return float64(mallocs) / float64(steps), nil
}

func (c *checker) close() error {
	e, _, err := c.build()
	if err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("first Close: %w", err)
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("second Close: %w", err)
	}
	return nil
}
