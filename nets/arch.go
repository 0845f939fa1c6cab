package nets

import (
	"errors"
	"fmt"
	"math"
)

// Trunk and embedding names (the TOML values).
const (
	TrunkFlat   = "flat"   // one MLP over the whole observation vector (CleanRL, bench task v1)
	TrunkAssets = "assets" // EIIE-style encoder shared across assets, pooled into a market state

	EmbeddingNone    = "none"    // heads read the trunk's features
	EmbeddingDynamic = "dynamic" // heads read a low-dimensional latent trained to predict the next bar
)

// Arch describes a network over an env observation. The first block of
// fields is the observation layout (env.Layout, filled by the agent from
// the env's Spec); the rest is the architecture (from the agent's TOML).
//
// The observation is, in order: for each asset i and per-asset feature f
// the window of W values oldest first at AssetOffset + (i·F+f)·W; for each
// global feature g its window at GlobalOffset + g·W; then the N+1 current
// weights, cash first, at WeightsOffset.
type Arch struct {
	Assets, Features, Globals, Window        int // N, F, G, W
	AssetOffset, GlobalOffset, WeightsOffset int
	ObsLen                                   int

	Trunk       string // TrunkFlat or TrunkAssets
	Hidden      []int  // flat: MLP widths over the observation; assets: market-embedding widths
	Activation  Act    // of every hidden layer
	AssetHidden []int  // assets trunk: widths of the per-asset encoder (shared weights)
	HeadHidden  []int  // hidden widths of the actor, critic and Q heads (empty: linear heads)
	// Embedding is EmbeddingNone or EmbeddingDynamic. Dynamic adds a latent
	// (Latent units, tanh) after the trunk and a decoder predicting, per
	// asset, the next bar's log return and volatility from the latent and
	// the action (the "pred" output, see ActorCritic.Pred).
	Embedding     string
	Latent        int
	DecoderHidden []int
	// VolTiming adds the volatility-timing gate: output 0 of the logits
	// becomes the gate logit (instead of the cash logit), computed from the
	// forecast-volatility features VolFeatures (per-asset feature indices;
	// their latest values, pooled over assets) and the market state.
	VolTiming   bool
	VolFeatures []int
	GateHidden  int // hidden width of the gate (0: linear in its inputs)
	// ReturnFeature is the per-asset feature index holding log returns, or
	// −1. The assets trunk computes cross-asset statistics from it (mean
	// and max volatility, mean pairwise correlation, mean return over the
	// window) as part of the market state.
	ReturnFeature int
	// Init is "orthogonal" (CleanRL: gain √2 hidden, 0.01 actor output,
	// 1 critic output) or "uniform" (PyTorch's nn.Linear default).
	Init string
}

// String describes the architecture for checkpoints: everything that
// determines the network's function except the number of assets and the
// observation offsets (the assets trunk runs on any N).
func (a *Arch) String() string {
	return fmt.Sprintf("trunk=%s hidden=%v activation=%s asset_hidden=%v head_hidden=%v embedding=%s latent=%d decoder_hidden=%v vol_timing=%v vol_features=%v gate_hidden=%d return_feature=%d init=%s features=%d globals=%d window=%d",
		a.Trunk, a.Hidden, a.Activation, a.AssetHidden, a.HeadHidden, a.Embedding, a.Latent, a.DecoderHidden,
		a.VolTiming, a.VolFeatures, a.GateHidden, a.ReturnFeature, a.Init, a.Features, a.Globals, a.Window)
}

// NumStats is the number of cross-asset statistics (Arch.ReturnFeature).
const NumStats = 4

func (a *Arch) n() int  { return a.Assets }
func (a *Arch) fw() int { return a.Features * a.Window }

// Validate checks the layout and architecture.
func (a *Arch) Validate() error {
	if a.Assets < 1 || a.Features < 0 || a.Globals < 0 || a.Window < 1 {
		return fmt.Errorf("nets: arch: N=%d F=%d G=%d W=%d", a.Assets, a.Features, a.Globals, a.Window)
	}
	if a.AssetOffset < 0 || a.AssetOffset+a.Assets*a.fw() > a.ObsLen ||
		a.GlobalOffset < 0 || a.GlobalOffset+a.Globals*a.Window > a.ObsLen ||
		a.WeightsOffset < 0 || a.WeightsOffset+a.Assets+1 > a.ObsLen {
		return fmt.Errorf("nets: arch: observation blocks out of range of length %d", a.ObsLen)
	}
	switch a.Trunk {
	case TrunkFlat:
	case TrunkAssets:
		if a.Features < 1 {
			return errors.New("nets: arch: assets trunk needs per-asset features")
		}
		if len(a.AssetHidden) == 0 {
			return errors.New("nets: arch: assets trunk needs asset_hidden widths")
		}
	default:
		return fmt.Errorf("nets: arch: trunk %q (want %q or %q)", a.Trunk, TrunkFlat, TrunkAssets)
	}
	if len(a.Hidden) == 0 {
		return errors.New("nets: arch: hidden widths are empty")
	}
	for _, ws := range [][]int{a.Hidden, a.AssetHidden, a.HeadHidden, a.DecoderHidden} {
		for _, w := range ws {
			if w < 1 {
				return fmt.Errorf("nets: arch: layer width %d", w)
			}
		}
	}
	if !a.Activation.valid() || a.Activation == Linear {
		return fmt.Errorf("nets: arch: hidden activation %v", a.Activation)
	}
	switch a.Embedding {
	case EmbeddingNone:
	case EmbeddingDynamic:
		if a.Latent < 1 {
			return fmt.Errorf("nets: arch: latent size %d", a.Latent)
		}
	default:
		return fmt.Errorf("nets: arch: embedding %q (want %q or %q)", a.Embedding, EmbeddingNone, EmbeddingDynamic)
	}
	if a.VolTiming && len(a.VolFeatures) == 0 {
		return errors.New("nets: arch: vol_timing needs at least one volatility feature")
	}
	for _, f := range a.VolFeatures {
		if f < 0 || f >= a.Features {
			return fmt.Errorf("nets: arch: volatility feature index %d out of [0,%d)", f, a.Features)
		}
	}
	if a.GateHidden < 0 {
		return fmt.Errorf("nets: arch: gate hidden width %d", a.GateHidden)
	}
	if a.ReturnFeature < -1 || a.ReturnFeature >= a.Features {
		return fmt.Errorf("nets: arch: return feature index %d out of [-1,%d)", a.ReturnFeature, a.Features)
	}
	if a.Init != "orthogonal" && a.Init != "uniform" {
		return fmt.Errorf("nets: arch: init %q (want orthogonal or uniform)", a.Init)
	}
	return nil
}

// Inputs is what Feed writes into: a Pass or a Graph.
type Inputs interface {
	Input(x Node) []float64
}

// Feed copies observations into a net's input nodes.
type Feed struct {
	arch    Arch
	obs     Node // flat trunk: the whole vector, 1×ObsLen
	assets  Node // assets trunk: N×(F·W)
	weights Node // assets trunk: 1×(N+1)
	globals Node // assets trunk with G > 0: 1×(G·W)
	stats   Node // assets trunk with ReturnFeature ≥ 0: 1×NumStats
	vol     Node // VolTiming: N×len(VolFeatures)
}

// Whole returns the input node that holds the whole observation vector
// (the flat trunk's only observation input) and true, or false when the
// net reads the observation through several inputs (the assets trunk) and
// needs Fill. A batch of observations can then be written into the node
// directly (row-major, ObsLen values per row), or bound (BindInput).
func (f *Feed) Whole() (Node, bool) {
	only := f.obs >= 0 && f.assets < 0 && f.globals < 0 && f.stats < 0 && f.vol < 0
	return f.obs, only
}

// Fill writes observation obs (length ObsLen) into batch row of dst.
func (f *Feed) Fill(dst Inputs, row int, obs []float64) {
	a := &f.arch
	if len(obs) != a.ObsLen {
		panic("nets: Feed.Fill: observation length mismatch")
	}
	n, fw := a.n(), a.fw()
	if f.obs >= 0 {
		copy(dst.Input(f.obs)[row*a.ObsLen:(row+1)*a.ObsLen], obs)
	}
	if f.assets >= 0 {
		copy(dst.Input(f.assets)[row*n*fw:(row+1)*n*fw], obs[a.AssetOffset:a.AssetOffset+n*fw])
		copy(dst.Input(f.weights)[row*(n+1):(row+1)*(n+1)], obs[a.WeightsOffset:a.WeightsOffset+n+1])
	}
	if f.globals >= 0 {
		gw := a.Globals * a.Window
		copy(dst.Input(f.globals)[row*gw:(row+1)*gw], obs[a.GlobalOffset:a.GlobalOffset+gw])
	}
	if f.stats >= 0 {
		MarketStatsTo(dst.Input(f.stats)[row*NumStats:(row+1)*NumStats], obs, a)
	}
	if f.vol >= 0 {
		k := len(a.VolFeatures)
		v := dst.Input(f.vol)[row*n*k : (row+1)*n*k]
		for i := 0; i < n; i++ {
			for j, ft := range a.VolFeatures {
				v[i*k+j] = obs[a.AssetOffset+(i*a.Features+ft)*a.Window+a.Window-1]
			}
		}
	}
}

// MarketStatsTo writes the cross-asset statistics of one observation into
// dst (length NumStats), computed from the log-return windows r_i (feature
// a.ReturnFeature, W values per asset):
//
//	dst[0] = mean_i σ_i, dst[1] = max_i σ_i    (σ_i: population std of r_i)
//	dst[2] = mean over pairs i≠j of corr(r_i, r_j)   (0 if N < 2)
//	dst[3] = mean_i mean_t r_i,t
//
// The mean pairwise correlation uses Σ_{i≠j} ρ_ij = |Σ_i z_i|² − Σ_i |z_i|²
// with z_i the standardised window scaled to unit norm (zero for a
// constant window), which is O(N·W) instead of O(N²·W).
func MarketStatsTo(dst, obs []float64, a *Arch) {
	n, w := a.n(), a.Window
	var sumSig, maxSig, sumMu, selfDot float64
	var zsum [64]float64
	var zs []float64
	if w <= len(zsum) {
		zs = zsum[:w]
	} else {
		zs = make([]float64, w)
	}
	clear(zs)
	for i := 0; i < n; i++ {
		off := a.AssetOffset + (i*a.Features+a.ReturnFeature)*w
		r := obs[off : off+w]
		var mu float64
		for _, v := range r {
			mu += v
		}
		mu /= float64(w)
		var ss float64
		for _, v := range r {
			ss += (v - mu) * (v - mu)
		}
		sig := math.Sqrt(ss / float64(w))
		sumSig += sig
		if i == 0 || sig > maxSig {
			maxSig = sig
		}
		sumMu += mu
		if ss > 0 {
			inv := 1 / math.Sqrt(ss)
			for t, v := range r {
				zs[t] += (v - mu) * inv
			}
			selfDot++
		}
	}
	var corr float64
	if n > 1 {
		var tot float64
		for _, v := range zs {
			tot += v * v
		}
		corr = (tot - selfDot) / float64(n*(n-1))
	}
	dst[0] = sumSig / float64(n)
	dst[1] = maxSig
	dst[2] = corr
	dst[3] = sumMu / float64(n)
}

func (a *Arch) hiddenInit() Init {
	if a.Init == "uniform" {
		return Uniform()
	}
	return Ortho(math.Sqrt2)
}

func (a *Arch) outInit(gain float64) Init {
	if a.Init == "uniform" {
		return Uniform()
	}
	return Ortho(gain)
}

// tower holds a trunk's features: per-asset (rows N) and market-level
// (rows 1) for the assets trunk, market-level only for the flat one.
type tower struct {
	asset, market Node
}

type builder struct {
	*Builder
	a    *Arch
	feed *Feed
}

func (b *builder) mlp(name string, x Node, widths []int) Node {
	for i, w := range widths {
		x = b.Dense(fmt.Sprintf("%s%d", name, i+1), x, w, b.a.Activation, b.a.hiddenInit())
	}
	return x
}

func (b *builder) inputs() {
	a := b.a
	f := &Feed{arch: *a, obs: -1, assets: -1, weights: -1, globals: -1, stats: -1, vol: -1}
	if a.Trunk == TrunkFlat {
		f.obs = b.Input("obs", 1, a.ObsLen, false)
	} else {
		f.assets = b.Input("assets", a.n(), a.fw(), false)
		f.weights = b.Input("weights", 1, a.n()+1, false)
		if a.Globals > 0 {
			f.globals = b.Input("globals", 1, a.Globals*a.Window, false)
		}
		if a.ReturnFeature >= 0 {
			f.stats = b.Input("stats", 1, NumStats, false)
		}
	}
	if a.VolTiming {
		f.vol = b.Input("vol", a.n(), len(a.VolFeatures), false)
	}
	b.feed = f
}

// trunk builds the feature extractor named p. For the flat trunk, extra
// (if ≥ 0) is concatenated to the observation first (DDPG's critic input).
func (b *builder) trunk(p string, extra Node) tower {
	a, f := b.a, b.feed
	if a.Trunk == TrunkFlat {
		x := f.obs
		if extra >= 0 {
			x = b.Concat(p+"/in", x, extra)
		}
		return tower{asset: -1, market: b.mlp(p+"/fc", x, a.Hidden)}
	}
	n := a.n()
	e := b.mlp(p+"/enc", f.assets, a.AssetHidden)
	parts := []Node{b.PoolMean(p+"/emean", e, n), b.PoolMax(p+"/emax", e, n)}
	if f.globals >= 0 {
		parts = append(parts, b.Dense(p+"/glob", f.globals, a.AssetHidden[len(a.AssetHidden)-1], a.Activation, a.hiddenInit()))
	}
	if f.stats >= 0 {
		parts = append(parts, f.stats)
	}
	m := b.mlp(p+"/mkt", b.Concat(p+"/state", parts...), a.Hidden)
	return tower{asset: e, market: m}
}

// latent adds the dynamic embedding's encoder on top of a trunk.
func (b *builder) latent(p string, t tower) tower {
	a := b.a
	init := Ortho(1)
	if a.Init == "uniform" {
		init = Uniform()
	}
	zm := b.Dense(p+"/zmarket", t.market, a.Latent, Tanh, init)
	if t.asset < 0 {
		return tower{asset: -1, market: zm}
	}
	za := b.Dense(p+"/zasset", b.Concat(p+"/zin", t.asset, b.Broadcast(p+"/zmb", t.market, a.n())), a.Latent, Tanh, init)
	return tower{asset: za, market: zm}
}

// decoder predicts (log return, volatility) of the next bar per asset from
// the latent and the action weights (an input, 1×(N+1)); output 1×2N
// interleaved [r̂₁, v̂₁, r̂₂, v̂₂, …].
func (b *builder) decoder(p string, z tower, action Node) Node {
	a := b.a
	n := a.n()
	if z.asset < 0 {
		h := b.mlp(p+"/dec", b.Concat(p+"/decin", z.market, action), a.DecoderHidden)
		return b.Dense(p+"/decout", h, 2*n, Linear, a.outInit(1))
	}
	ai := b.Reshape(p+"/dai", b.Slice(p+"/darisky", action, 1, n), n, 1)
	h := b.mlp(p+"/dec", b.Concat(p+"/decin", z.asset, b.Broadcast(p+"/dzb", z.market, n), ai), a.DecoderHidden)
	out := b.Dense(p+"/decout", h, 2, Linear, a.outInit(1))
	return b.Reshape(p+"/pred", out, 1, 2*n)
}

// contexts returns the per-asset and market contexts the heads read: the
// features plus the current weights and, with volatility timing, the
// volatility features (per asset, and pooled mean/max for the market).
func (b *builder) contexts(p string, t tower) (ctxA, ctxM Node) {
	a, f := b.a, b.feed
	n := a.n()
	if t.asset < 0 {
		return -1, t.market
	}
	wi := b.Reshape(p+"/wi", b.Slice(p+"/wrisky", f.weights, 1, n), n, 1)
	wc := b.Slice(p+"/wcash", f.weights, 0, 1)
	pa := []Node{t.asset, b.Broadcast(p+"/mb", t.market, n), wi}
	pm := []Node{t.market, wc}
	if f.vol >= 0 {
		pa = append(pa, f.vol)
		pm = append(pm, b.PoolMean(p+"/vmean", f.vol, n), b.PoolMax(p+"/vmax", f.vol, n))
	}
	return b.Concat(p+"/ctxa", pa...), b.Concat(p+"/ctxm", pm...)
}

// actor returns the 1×(N+1) logits: output 0 is the cash logit, or the
// gate logit with volatility timing; outputs 1..N score the assets.
func (b *builder) actor(p string, t tower, outAct Act) Node {
	a, f := b.a, b.feed
	n := a.n()
	ctxA, ctxM := b.contexts(p, t)
	if ctxA < 0 {
		h := b.mlp(p+"/head", ctxM, a.HeadHidden)
		if !a.VolTiming {
			return b.Dense(p+"/logits", h, n+1, outAct, a.outInit(0.01))
		}
		risky := b.Dense(p+"/risky", h, n, outAct, a.outInit(0.01))
		gin := b.Concat(p+"/gatein", h, b.Reshape(p+"/volflat", f.vol, 1, n*len(a.VolFeatures)))
		return b.Concat(p+"/logits", b.gate(p, gin, outAct), risky)
	}
	s := b.Dense(p+"/score", b.mlp(p+"/shead", ctxA, a.HeadHidden), 1, outAct, a.outInit(0.01))
	scores := b.Reshape(p+"/scores", s, 1, n)
	var first Node
	if a.VolTiming {
		first = b.gate(p, ctxM, outAct)
	} else {
		first = b.Dense(p+"/cash", b.mlp(p+"/chead", ctxM, a.HeadHidden), 1, outAct, a.outInit(0.01))
	}
	return b.Concat(p+"/logits", first, scores)
}

func (b *builder) gate(p string, in Node, outAct Act) Node {
	a := b.a
	if a.GateHidden > 0 {
		in = b.Dense(p+"/gate1", in, a.GateHidden, a.Activation, a.hiddenInit())
	}
	g := b.Dense(p+"/gate", in, 1, outAct, a.outInit(0.01))
	if outAct == Linear {
		// Start at the exposure of the gate-free policy's initial
		// allocation (uniform over N+1): σ(ln N) = N/(N+1). A tanh output
		// (DDPG) is scaled by the agent, so it starts at σ(0) = ½ instead.
		b.BiasInit(g, math.Log(float64(a.n())))
	}
	return g
}

// critic returns V(s) (1×1) from a tower.
func (b *builder) critic(p string, t tower) Node {
	a := b.a
	ctxA, ctxM := b.contexts(p, t)
	x := ctxM
	if ctxA >= 0 {
		u := b.Dense(p+"/vasset", ctxA, a.Hidden[len(a.Hidden)-1], a.Activation, a.hiddenInit())
		x = b.Concat(p+"/vin", ctxM, b.PoolMean(p+"/vmeanu", u, a.n()), b.PoolMax(p+"/vmaxu", u, a.n()))
	}
	return b.Dense(p+"/value", b.mlp(p+"/vhead", x, a.HeadHidden), 1, Linear, a.outInit(1))
}

// q returns Q(s, a) (1×1); action is the 1×(N+1) weights input.
func (b *builder) q(p string, t tower, action Node, actionInTrunk bool) Node {
	a := b.a
	n := a.n()
	ctxA, ctxM := b.contexts(p, t)
	if ctxA < 0 {
		x := ctxM
		if !actionInTrunk {
			x = b.Concat(p+"/qin", ctxM, action)
		}
		return b.Dense(p+"/q", b.mlp(p+"/qhead", x, a.HeadHidden), 1, Linear, a.outInit(1))
	}
	ai := b.Reshape(p+"/qai", b.Slice(p+"/qarisky", action, 1, n), n, 1)
	u := b.Dense(p+"/qasset", b.Concat(p+"/qctxa", ctxA, ai), a.Hidden[len(a.Hidden)-1], a.Activation, a.hiddenInit())
	x := b.Concat(p+"/qin", ctxM, b.Slice(p+"/qacash", action, 0, 1), b.PoolMean(p+"/qmeanu", u, n), b.PoolMax(p+"/qmaxu", u, n))
	return b.Dense(p+"/q", b.mlp(p+"/qhead", x, a.HeadHidden), 1, Linear, a.outInit(1))
}

// BiasInit sets the initial value of Dense node x's bias.
func (b *Builder) BiasInit(x Node, v float64) {
	if !b.ok(x) {
		return
	}
	nd := b.n.nodes[x]
	if nd.op != opDense {
		b.fail("BiasInit: node %q is not dense", nd.name)
		return
	}
	b.n.layout.Segments[nd.b].Init = Const(v)
}

// ActorCritic is PPO's network: Gaussian-policy logits and a state value
// in one Net. With EmbeddingNone actor and critic are separate towers
// (CleanRL), which the Pass runs concurrently; with EmbeddingDynamic they
// share the trunk and the latent, which is also trained by the decoder.
type ActorCritic struct {
	Net       *Net
	Feed      *Feed
	sharedStd bool
	// Logits is the mean of the Gaussian over the N+1 action logits,
	// batch×(N+1); entry 0 is the cash logit, or the gate logit with
	// volatility timing.
	Logits Node
	Value  Node // V(s), batch×1
	// Pred (dynamic embedding only, else −1) is the decoder's prediction,
	// batch×2N: per asset [next log return, next volatility].
	Pred Node
	// Action (dynamic embedding only, else −1) is the decoder's action
	// input, batch×(N+1) portfolio weights; the caller fills it.
	Action Node
	// LogStd is the segment of the state-independent log standard
	// deviations: N+1 values for the flat trunk (CleanRL); two for the
	// assets trunk, one for action dimension 0 and one shared by every
	// asset, so that the policy stays permutation-equivariant and
	// independent of N. StdIndex maps an action dimension to its entry.
	LogStd Segment
}

// StdIndex returns the index into LogStd of action dimension j.
func (ac *ActorCritic) StdIndex(j int) int {
	if ac.LogStd.Cols == 2 && ac.sharedStd {
		return min(j, 1)
	}
	return j
}

// NewActorCritic builds PPO's network for arch with the log standard
// deviations initialised to logStd.
func NewActorCritic(arch Arch, logStd float64) (*ActorCritic, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	b := &builder{Builder: NewBuilder(), a: &arch}
	b.inputs()
	ac := &ActorCritic{Pred: -1, Action: -1}
	if arch.Embedding == EmbeddingDynamic {
		z := b.latent("shared", b.trunk("shared", -1))
		ac.Logits = b.actor("actor", z, Linear)
		ac.Value = b.critic("critic", z)
		ac.Action = b.Input("action", 1, arch.n()+1, false)
		ac.Pred = b.decoder("decoder", z, ac.Action)
	} else {
		ac.Logits = b.actor("actor", b.trunk("actor", -1), Linear)
		ac.Value = b.critic("critic", b.trunk("critic", -1))
	}
	stdCols := arch.n() + 1
	if arch.Trunk == TrunkAssets {
		stdCols, ac.sharedStd = 2, true
	}
	b.Param("logstd", 1, stdCols, Const(logStd))
	b.Output("logits", ac.Logits)
	b.Output("value", ac.Value)
	if ac.Pred >= 0 {
		b.Output("pred", ac.Pred)
	}
	net, err := b.Build()
	if err != nil {
		return nil, err
	}
	ac.Net, ac.Feed = net, b.feed
	ac.LogStd, _ = net.layout.Find("logstd")
	return ac, nil
}

// Actor is DDPG's deterministic policy network: tanh logits in (−1, 1)
// (the agent scales them), plus the decoder with the dynamic embedding.
type Actor struct {
	Net    *Net
	Feed   *Feed
	Logits Node // batch×(N+1), tanh output
	Pred   Node // as ActorCritic.Pred, or −1
	Action Node // decoder action input, or −1
}

// NewActor builds DDPG's actor for arch.
func NewActor(arch Arch) (*Actor, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	b := &builder{Builder: NewBuilder(), a: &arch}
	b.inputs()
	ac := &Actor{Pred: -1, Action: -1}
	t := b.trunk("actor", -1)
	if arch.Embedding == EmbeddingDynamic {
		t = b.latent("actor", t)
		ac.Action = b.Input("action", 1, arch.n()+1, false)
		ac.Pred = b.decoder("actor", t, ac.Action)
	}
	ac.Logits = b.actor("actor", t, Tanh)
	b.Output("logits", ac.Logits)
	if ac.Pred >= 0 {
		b.Output("pred", ac.Pred)
	}
	net, err := b.Build()
	if err != nil {
		return nil, err
	}
	ac.Net, ac.Feed = net, b.feed
	return ac, nil
}

// Critic is DDPG's Q network, with two independent Q towers for TD3's
// twin critics. Each tower has its own action input (differentiated), so
// that the towers stay independent and run concurrently.
type Critic struct {
	Net    *Net
	Feed   *Feed
	Q      []Node // batch×1 each
	Action []Node // batch×(N+1) weights inputs, one per tower; fill all with the same action
	Pred   []Node // per tower with the dynamic embedding, else nil
	DecAct []Node // per tower decoder action inputs, else nil
}

// NewCritic builds DDPG's critic (twin: two Q towers) for arch. With the
// flat trunk and no embedding the action joins the observation at the
// input layer, as in CleanRL's QNetwork.
func NewCritic(arch Arch, twin bool) (*Critic, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	b := &builder{Builder: NewBuilder(), a: &arch}
	b.inputs()
	c := &Critic{}
	towers := 1
	if twin {
		towers = 2
	}
	for k := 0; k < towers; k++ {
		p := fmt.Sprintf("q%d", k+1)
		act := b.Input(p+"/action", 1, arch.n()+1, true)
		inTrunk := arch.Trunk == TrunkFlat && arch.Embedding == EmbeddingNone
		extra := Node(-1)
		if inTrunk {
			extra = act
		}
		t := b.trunk(p, extra)
		if arch.Embedding == EmbeddingDynamic {
			t = b.latent(p, t)
			da := b.Input(p+"/decaction", 1, arch.n()+1, false)
			c.DecAct = append(c.DecAct, da)
			pr := b.decoder(p, t, da)
			c.Pred = append(c.Pred, pr)
			b.Output(p+"/pred", pr)
		}
		q := b.q(p, t, act, inTrunk)
		b.Output(p, q)
		c.Q = append(c.Q, q)
		c.Action = append(c.Action, act)
	}
	net, err := b.Build()
	if err != nil {
		return nil, err
	}
	c.Net, c.Feed = net, b.feed
	return c, nil
}
