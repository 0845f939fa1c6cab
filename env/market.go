package env

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/internal/seed"
)

// Market is the market environment: a portfolio of cash and N assets traded
// on a panel, with exact costs. It implements Env and Portfolio. A Market is
// used by one goroutine at a time; Clone makes more envs sharing its
// read-only data (for a Vec or for parallel evaluation).
type Market struct {
	*data

	reb rebalancer
	rw  rewarder
	pcg rand.PCG
	rng *rand.Rand

	// Episode state.
	started, done, closed bool
	t, t0, k              int
	value, peak           float64
	wts                   []float64 // current drifted weights, cash first
	target, exec, pre     []float64 // scratch, N+1
	resetW                []float64 // 3·(N+1): Info slices returned by Reset
}

var (
	_ Env       = (*Market)(nil)
	_ Portfolio = (*Market)(nil)
)

// data is the read-only part of a Market, shared by its clones.
type data struct {
	cfg     Config
	p       *market.Panel
	regimes []market.Regime

	n, w, T    int
	nSeries    int       // N·F + G observation series
	series     []float64 // selected feature series, series-major: series s at [s·T, (s+1)·T)
	obsLen     int
	layout     Layout
	featNames  []string
	globNames  []string
	logits     bool
	nextOpen   bool
	bars       []float64 // per-bar rows of what Step reads, stride bs (see precompute)
	bs         int       // row stride
	tOff       int       // offset in a row of the bar's open time
	dv         []float64 // dollar volume close·volume, T×N
	lo, hi     int       // segment bars [lo, hi]
	warm       int       // first bar from which every selected feature is finite
	epLen      int
	startFirst bool
	samp       sampler
	allowed    [market.NumRegimes + 1]bool
	truncReg   bool
	floor      float64   // terminate below this value (quote currency); 0 = never
	initW      []float64 // weights at reset (N+1, cash first); nil = all cash

	// Digests identifying the configuration and the observation data, for
	// checking saved states (see MarshalBinary); computed on first use.
	digestOnce sync.Once
	cfgDigest  [32]byte
	dataDigest [32]byte
}

// New builds a Market env trading panel p. fs holds the causal features the
// observation is built from (nil for an observation of weights only); it is
// copied, so later changes to fs do not affect the env. regimes holds one
// label per panel bar, or is nil. The panel and the labels are retained and
// must not be modified.
func New(p *market.Panel, fs *features.Set, regimes []market.Regime, cfg Config) (*Market, error) {
	if p == nil {
		panic("env: nil panel")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone()
	n, T := p.N(), p.T()
	d := &data{
		cfg: cfg, p: p, regimes: regimes, n: n, w: cfg.Window, T: T,
		logits:     cfg.Action == ActionLogits,
		nextOpen:   cfg.Execution == ExecNextOpen,
		epLen:      cfg.EpisodeLen,
		startFirst: cfg.EpisodeStart == StartFirst,
		truncReg:   cfg.RegimeTruncate,
		floor:      cfg.TerminateBelow * cfg.InitialCapital,
	}
	m := &Market{data: d}
	if err := m.selectFeatures(fs); err != nil {
		return nil, err
	}
	if w := cfg.InitialWeights; w != nil {
		if len(w) != n+1 {
			return nil, fmt.Errorf("env: initial_weights has %d values; the panel has %d assets, so want %d (cash first)", len(w), n, n+1)
		}
		var sum float64
		for _, x := range w {
			sum += x
		}
		d.initW = make([]float64, n+1)
		for i, x := range w {
			d.initW[i] = x / sum
		}
	}
	if regimes != nil {
		if len(regimes) != T {
			return nil, fmt.Errorf("env: %d regime labels for %d bars", len(regimes), T)
		}
		for t, r := range regimes {
			if r < 0 || int(r) > market.NumRegimes {
				return nil, fmt.Errorf("env: invalid regime label %d at bar %d", r, t)
			}
		}
	}
	if err := m.segment(); err != nil {
		return nil, err
	}
	reb, err := newRebalancer(cfg.Costs, p.Assets())
	if err != nil {
		return nil, err
	}
	m.precompute()
	m.init(reb)
	return m, nil
}

// init allocates the per-env state around the shared data.
// The per-env vectors share one allocation, so that a step touches few
// cache lines (it matters when a Vec interleaves many envs).
func (m *Market) init(reb *rebalancer) {
	n, n1 := m.n, m.n+1
	cfg := &m.cfg
	m.rw = rewarder{kind: parseReward(cfg.Reward), eta: cfg.RewardEta, kappa: cfg.RewardKappa, floor: cfg.RewardVolFloor}
	m.rng = rand.New(&m.pcg)
	buf := make([]float64, 7*n1+3*n)
	take := func(k int) []float64 {
		s := buf[:k:k]
		buf = buf[k:]
		return s
	}
	m.wts, m.target, m.exec, m.pre, m.resetW = take(n1), take(n1), take(n1), take(n1), take(3*n1)
	m.reb = *reb
	m.reb.limit, m.reb.imp, m.reb.d = take(n), take(n), take(n)
	copy(m.reb.limit, reb.limit)
}

// Clone returns a new env with the same configuration that shares m's
// read-only data (panel, features, price relatives, sampler): building B
// envs for a Vec this way costs O(N) memory each instead of O(T·N) and
// keeps the shared arrays hot in cache. The clone has its own state and
// must be Reset before use; m and its clones may run on different
// goroutines.
func (m *Market) Clone() *Market {
	c := &Market{data: m.data}
	c.init(&m.reb)
	return c
}

// selectFeatures copies the configured series of fs into m.series and sets
// the layout and the warm-up bar.
func (m *data) selectFeatures(fs *features.Set) error {
	cfg := &m.cfg
	var fi, gi []int
	if fs == nil {
		if len(cfg.Features) > 0 || len(cfg.GlobalFeatures) > 0 {
			return fmt.Errorf("env: features %v %v requested but no feature set given", cfg.Features, cfg.GlobalFeatures)
		}
	} else {
		if fs.T() != m.T || fs.N() != m.n {
			return fmt.Errorf("env: feature set is %d bars × %d assets, panel is %d × %d", fs.T(), fs.N(), m.T, m.n)
		}
		m.featNames = cfg.Features
		if len(m.featNames) == 0 {
			m.featNames = fs.Names()
		}
		m.globNames = cfg.GlobalFeatures
		if len(m.globNames) == 0 {
			m.globNames = fs.GlobalNames()
		}
		for _, name := range m.featNames {
			f := fs.Index(name)
			if f < 0 {
				return fmt.Errorf("env: features: unknown feature %q (have %v)", name, fs.Names())
			}
			fi = append(fi, f)
		}
		for _, name := range m.globNames {
			g := fs.GlobalIndex(name)
			if g < 0 {
				return fmt.Errorf("env: global_features: unknown feature %q (have %v)", name, fs.GlobalNames())
			}
			gi = append(gi, g)
		}
		m.featNames = append([]string(nil), m.featNames...)
		m.globNames = append([]string(nil), m.globNames...)
	}
	F, G := len(fi), len(gi)
	m.nSeries = m.n*F + G
	m.series = make([]float64, m.nSeries*m.T)
	s := 0
	for i := 0; i < m.n; i++ {
		for _, f := range fi {
			copy(m.series[s*m.T:(s+1)*m.T], fs.Series(i, f))
			s++
		}
	}
	for _, g := range gi {
		copy(m.series[s*m.T:(s+1)*m.T], fs.GlobalSeries(g))
		s++
	}
	// Warm-up: first bar from which every selected series is finite.
	for s := 0; s < m.nSeries; s++ {
		x := m.series[s*m.T : (s+1)*m.T]
		for t := m.T - 1; t >= m.warm; t-- {
			if math.IsNaN(x[t]) || math.IsInf(x[t], 0) {
				m.warm = t + 1
				break
			}
		}
	}
	m.obsLen = m.nSeries*m.w + m.n + 1
	m.layout = Layout{
		Features:       append([]string(nil), m.featNames...),
		GlobalFeatures: append([]string(nil), m.globNames...),
		AssetOffset:    0,
		GlobalOffset:   m.n * F * m.w,
		WeightsOffset:  m.nSeries * m.w,
		Len:            m.obsLen,
	}
	return nil
}

// segment resolves the segment bounds and builds the start sampler.
func (m *data) segment() error {
	cfg := &m.cfg
	m.lo, m.hi = 0, m.T-1
	if !cfg.SegmentStart.IsZero() {
		m.lo = m.p.Index(cfg.SegmentStart)
	}
	if !cfg.SegmentEnd.IsZero() {
		m.hi = m.p.Index(cfg.SegmentEnd.Add(time.Second)) - 1
	}
	if m.lo > m.hi {
		return fmt.Errorf("env: segment_start %s, segment_end %s: no bars of the panel (it covers %s to %s)",
			timeOrOpen(cfg.SegmentStart), timeOrOpen(cfg.SegmentEnd),
			m.p.Time(0).Format(time.RFC3339), m.p.Time(m.T-1).Format(time.RFC3339))
	}
	first := max(m.lo, m.warm+m.w-1)
	last := m.hi - 1
	if m.epLen > 0 {
		last = m.hi - m.epLen
	}
	if first > last {
		need := max(m.epLen, 1)
		return fmt.Errorf("env: segment bars [%d, %d] are too short: the first decision bar is %d (segment start, or warm-up %d + window %d − 1) and an episode needs %d more bars",
			m.lo, m.hi, first, m.warm, m.w, need)
	}
	restricted := len(cfg.Regimes) > 0
	for r := range m.allowed {
		m.allowed[r] = !restricted
	}
	for _, name := range cfg.Regimes {
		r, _ := market.ParseRegime(name) // validated
		m.allowed[r] = true
	}
	var err error
	m.samp, err = newSampler(first, last, m.regimes, &m.allowed, restricted, cfg.RegimeSampling == SampleBalanced)
	return err
}

func timeOrOpen(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.Format(time.RFC3339)
}

// precompute fills the per-bar rows and dollar volumes of bars ≤ hi.
//
// Row t of bars holds everything a step to bar t reads, so that a step
// touches one row, one or two cache lines. In a Vec of many envs at
// different bars these are cache misses; with separate arrays of relatives,
// times, flags and labels a step missed on each (measured: a Vec step of 64
// bench envs ~11 % slower). Layout:
//
//	[0, N)       close_t/close_{t−1}  (row 0: 1)
//	[N, 2N)      open_t/close_{t−1}   (next_open only)
//	[2N, 3N)     close_t/open_t       (next_open only)
//	tOff         open time of bar t, Unix seconds (exact in a float64)
//	tOff+1       1 if some asset has zero volume in bar t, else 0
//	tOff+2       regime label of bar t
func (m *data) precompute() {
	n, p := m.n, m.p
	rows := m.hi + 1
	m.tOff = n
	if m.nextOpen {
		m.tOff = 3 * n
	}
	m.bs = m.tOff + 3
	m.bars = make([]float64, rows*m.bs)
	m.dv = make([]float64, rows*n)
	for t := 0; t < rows; t++ {
		row := m.bars[t*m.bs : (t+1)*m.bs]
		row[m.tOff] = float64(p.Unix(t))
		row[m.tOff+2] = float64(regimeAt(m.regimes, t))
		for i := 0; i < n; i++ {
			m.dv[t*n+i] = p.DollarVolume(t, i)
			if !(p.Volume(t, i) > 0) {
				row[m.tOff+1] = 1
			}
			if t == 0 {
				row[i] = 1
				continue
			}
			row[i] = p.Close(t, i) / p.Close(t-1, i)
			if m.nextOpen {
				row[n+i] = p.Open(t, i) / p.Close(t-1, i)
				row[2*n+i] = p.Close(t, i) / p.Open(t, i)
			}
		}
	}
}

// Spec returns the static description of the env. The result is a copy.
func (m *Market) Spec() Spec {
	obs := Space{Kind: Box, Shape: []int{m.obsLen}, Low: make([]float64, m.obsLen), High: make([]float64, m.obsLen)}
	for k := 0; k < m.layout.WeightsOffset; k++ {
		obs.Low[k], obs.High[k] = math.Inf(-1), math.Inf(1)
	}
	for k := m.layout.WeightsOffset; k < m.obsLen; k++ {
		obs.Low[k], obs.High[k] = 0, 1
	}
	act := Space{Kind: Simplex, Shape: []int{m.n + 1}}
	if m.logits {
		act = Space{Kind: Box, Shape: []int{m.n + 1}, Low: make([]float64, m.n+1), High: make([]float64, m.n+1)}
		for k := range act.Low {
			act.Low[k], act.High[k] = math.Inf(-1), math.Inf(1)
		}
	}
	l := m.layout
	l.Features = append([]string(nil), l.Features...)
	l.GlobalFeatures = append([]string(nil), l.GlobalFeatures...)
	return Spec{
		Observation: obs,
		Action:      act,
		Assets:      m.p.Assets(),
		Interval:    m.p.Interval(),
		Window:      m.w,
		Layout:      l,
	}
}

// Config returns the configuration the env was built with.
func (m *Market) Config() Config { return m.cfg.clone() }

// StartRange returns the first and last valid episode start bars (decision
// bars), before any regime restriction.
func (m *Market) StartRange() (first, last int) { return m.samp.first, m.samp.last }

// Reset starts an episode at a start bar drawn from seed (or the first valid
// bar when episode_start = "first") and writes the first observation into
// dst (length Spec().Observation.Len()). The returned Info's slices are
// owned by the env and valid until the next call.
func (m *Market) Reset(dst []float64, seedv uint64) (Info, error) {
	m.checkOpen()
	m.checkObs(dst)
	if m.startFirst {
		return m.begin(dst, m.samp.firstStart()), nil
	}
	m.pcg.Seed(seedv, seed.Stream(seed.Env, 0))
	return m.begin(dst, m.samp.draw(m.rng)), nil
}

// ResetAt starts an episode at decision bar start, which must lie in
// StartRange (regime restrictions are not applied), and writes the first
// observation into dst. It is deterministic and for backtests, golden tests
// and probes.
func (m *Market) ResetAt(dst []float64, start int) (Info, error) {
	m.checkOpen()
	m.checkObs(dst)
	if start < m.samp.first || start > m.samp.last {
		return Info{}, fmt.Errorf("env: start bar %d outside the valid range [%d, %d]", start, m.samp.first, m.samp.last)
	}
	return m.begin(dst, start), nil
}

func (m *Market) checkOpen() {
	if m.closed {
		panic("env: use of a closed env")
	}
}

func (m *Market) checkObs(dst []float64) {
	if len(dst) != m.obsLen {
		panic("env: observation buffer length mismatch")
	}
}

func (m *Market) begin(dst []float64, start int) Info {
	m.started, m.done = true, false
	m.t, m.t0, m.k = start, start, 0
	m.value, m.peak = m.cfg.InitialCapital, m.cfg.InitialCapital
	if m.initW != nil {
		copy(m.wts, m.initW)
	} else {
		clear(m.wts)
		m.wts[0] = 1
	}
	m.rw.reset()
	m.writeObs(dst)
	n1 := m.n + 1
	for k := 0; k < 3; k++ {
		copy(m.resetW[k*n1:(k+1)*n1], m.wts)
	}
	return Info{
		Bar:       start,
		Time:      m.p.Time(start),
		Regime:    regimeAt(m.regimes, start),
		Value:     m.value,
		Requested: m.resetW[:n1:n1],
		Executed:  m.resetW[n1 : 2*n1 : 2*n1],
		Weights:   m.resetW[2*n1 : 3*n1 : 3*n1],
	}
}

// writeObs writes the observation of decision bar m.t: each series' window
// t−W+1..t, oldest first, then the drifted weights.
func (m *Market) writeObs(dst []float64) {
	o := m.nSeries * m.w
	if o > 0 {
		copyWindows(dst[:o], m.series[m.t-m.w+1:], m.nSeries, m.w, m.T)
	}
	copy(dst[o:], m.wts)
}

// Step maps action to a target allocation, trades to it with costs, moves
// the market one bar and writes the next observation, reward, flags and
// info into dst (allocate it with NewStepResult(m.Spec())). An invalid
// action returns an error wrapping ErrInvalidAction and leaves the env
// unchanged. Step before Reset, after the episode ended, after Close, or
// with buffers of the wrong length panics.
func (m *Market) Step(dst *StepResult, action []float64) error {
	m.checkStep(action, dst.Obs, &dst.Info)
	r, term, trunc, err := m.step(dst.Obs, &dst.Info, action)
	if err != nil {
		return err
	}
	dst.Reward, dst.Terminated, dst.Truncated = r, term, trunc
	return nil
}

// checkStep panics on the programmer errors Step documents.
func (m *Market) checkStep(action, obs []float64, in *Info) {
	if !m.started {
		panic("env: Step before Reset")
	}
	m.checkOpen()
	if m.done {
		panic("env: Step after the episode ended; call Reset")
	}
	n1 := m.n + 1
	if len(action) != n1 {
		panic("env: action length mismatch")
	}
	m.checkObs(obs)
	if len(in.Requested) != n1 || len(in.Executed) != n1 || len(in.Weights) != n1 {
		panic("env: StepResult info slices have the wrong length (allocate with NewStepResult)")
	}
}

// step is Step after checkStep, writing the observation into obs and the
// info into in, and returning the reward and flags. Vec calls it directly,
// with obs and in being its batched buffers, so that nothing is copied
// twice.
func (m *Market) step(obs []float64, in *Info, action []float64) (reward float64, terminated, truncated bool, err error) {
	if err := m.mapAction(action); err != nil {
		return 0, false, false, err
	}
	n, t, bs := m.n, m.t, m.bs
	next := (t + 1) * n
	row := m.bars[(t+1)*bs : (t+2)*bs : (t+2)*bs] // bar t+1
	var g, tradeValue float64                     // growth V_{t+1}/V_t; portfolio value at the trade
	if m.nextOpen {
		// Drift from close t to open t+1, trade there, drift to close t+1.
		gOpen := drift(m.pre, m.wts, row[n:2*n])
		tradeValue = m.value * gOpen
		m.reb.prepare(tradeValue, m.dv[next:next+n], row[m.tOff+1] != 0)
		mu := m.reb.rebalance(m.exec, m.target, m.pre)
		g = gOpen * mu * drift(m.wts, m.exec, row[2*n:3*n])
	} else {
		tradeValue = m.value
		m.reb.prepare(tradeValue, m.dv[t*n:next], m.bars[t*bs+m.tOff+1] != 0)
		mu := m.reb.rebalance(m.exec, m.target, m.wts)
		g = mu * drift(m.wts, m.exec, row[:n])
	}
	prev := m.value
	m.value = prev * g
	m.peak = max(m.peak, m.value)
	reward = m.rw.reward(g, m.reb.to, 1-m.value/m.peak)
	m.t++
	m.k++
	t = m.t
	reg := market.Regime(row[m.tOff+2])
	terminated = m.floor > 0 && m.value < m.floor
	truncated = (m.epLen > 0 && m.k == m.epLen) || t == m.hi || (m.truncReg && !m.allowed[reg])
	m.done = terminated || truncated
	m.writeObs(obs)

	in.Bar = t
	in.Time = time.Unix(int64(row[m.tOff]), 0).UTC() // = m.p.Time(t)
	in.Regime = reg
	in.Value = m.value
	in.Return = g - 1
	copy(in.Requested, m.target)
	copy(in.Executed, m.exec)
	copy(in.Weights, m.wts)
	in.Turnover = m.reb.to
	in.Fees = tradeValue * m.reb.fee
	in.Slippage = tradeValue * m.reb.slip
	in.LiquidityLimited = m.reb.short
	in.Unfilled = m.reb.unfilled
	in.Guard = GuardInfo{}
	return reward, terminated, truncated, nil
}

// drift writes the weights of w after the assets move by relatives y
// (cash relative 1) into dst and returns the growth factor w·[1, y].
// The products are rounded before summing (explicit conversions forbid
// fused multiply-adds) so that results do not depend on the architecture.
// The weights are the products times the rounded reciprocal of the growth
// (one division instead of N+1), each within 1.5 ulp of the exact ratio,
// and clamped to 1: fl(a·fl(1/g)) may exceed 1 by an ulp when a = g (all in
// one asset), and drifted weights must stay in [0, 1]. dst may alias w.
func drift(dst, w, y []float64) float64 {
	w1, d1 := w[1:len(y)+1], dst[1:len(y)+1]
	g := w[0]
	for i, x := range y {
		p := float64(w1[i] * x)
		d1[i] = p
		g += p
	}
	inv := 1 / g
	dst[0] = min(w[0]*inv, 1)
	for i, p := range d1 {
		d1[i] = min(p*inv, 1)
	}
	return g
}

// mapAction writes the target allocation of action into m.target.
func (m *Market) mapAction(a []float64) error {
	w := m.target
	if m.logits {
		if softmaxTo(w, a) {
			return nil
		}
		for i, x := range a {
			if x-x != 0 { // NaN or ±Inf
				return fmt.Errorf("%w: logit %d is %v", ErrInvalidAction, i, x)
			}
		}
		return fmt.Errorf("%w: logits are not finite", ErrInvalidAction)
	}
	var sum float64
	neg := false
	for i, x := range a {
		if !(x >= -WeightTolerance) || math.IsInf(x, 1) {
			return fmt.Errorf("%w: weight %d is %v", ErrInvalidAction, i, x)
		}
		if x < 0 {
			neg = true
		}
		sum += x
	}
	if !(math.Abs(sum-1) <= WeightTolerance) {
		return fmt.Errorf("%w: weights sum to %v, not 1", ErrInvalidAction, sum)
	}
	if neg {
		sum = 0
		for _, x := range a {
			sum += max(x, 0)
		}
	}
	for i, x := range a {
		w[i] = max(x, 0) / sum
	}
	return nil
}

// Close releases the env. It is idempotent; the env must not be used after.
func (m *Market) Close() error {
	m.closed = true
	return nil
}

// Market returns the panel being traded.
func (m *Market) Market() *market.Panel { return m.p }

// Bar returns the current decision bar t.
func (m *Market) Bar() int { return m.t }

// Weights returns the current drifted weights, cash first (read-only, valid
// until the next Step or Reset).
func (m *Market) Weights() []float64 { return m.wts }

// Value returns the current portfolio value in quote currency.
func (m *Market) Value() float64 { return m.value }

// Peak returns the highest portfolio value seen this episode.
func (m *Market) Peak() float64 { return m.peak }

// Start returns the start bar of the current episode.
func (m *Market) Start() int { return m.t0 }
