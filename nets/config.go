package nets

import (
	"errors"
	"fmt"
	"slices"
)

// Config is the network part of an agent's hyperparameters, shared by PPO
// and DDPG (embedded in their Config structs, so its keys sit directly in
// the agent's TOML table). Defaults are set by each algorithm.
type Config struct {
	// Trunk is the feature extractor: "flat" (an MLP over the whole
	// observation vector, as CleanRL and bench task v1) or "assets" (an
	// encoder with weights shared across assets, EIIE-style, pooled into a
	// market state: any number and order of assets).
	Trunk string `toml:"trunk"`
	// Hidden are the hidden-layer widths: of the MLP for "flat", of the
	// market-state embedding for "assets". Non-empty, each ≥ 1.
	Hidden []int `toml:"hidden"`
	// Activation of hidden layers: "tanh" or "relu".
	Activation string `toml:"activation"`
	// AssetHidden are the widths of the per-asset encoder ("assets" trunk
	// only), each ≥ 1.
	AssetHidden []int `toml:"asset_hidden"`
	// HeadHidden are hidden widths inside the actor, critic and Q heads
	// (empty: the heads are linear in the trunk's features).
	HeadHidden []int `toml:"head_hidden"`
	// Init is the weight initialisation: "orthogonal" (CleanRL: gain √2
	// for hidden layers, 0.01 for the policy output, 1 for value outputs)
	// or "uniform" (PyTorch nn.Linear default, U(±1/√fan_in)).
	Init string `toml:"init"`
	// Embedding is "none" or "dynamic": a tanh latent of Latent units
	// after the trunk, read by the heads and trained jointly with a
	// decoder that predicts each asset's next log return and volatility
	// from the latent and the action (He et al. 2025).
	Embedding string `toml:"embedding"`
	// Latent is the latent size of the dynamic embedding. Default 8; ≥ 1
	// when embedding = "dynamic".
	Latent int `toml:"latent"`
	// DecoderHidden are the hidden widths of the dynamic embedding's
	// decoder (used only with embedding = "dynamic"). Default [32]; each
	// width ≥ 1.
	DecoderHidden []int `toml:"decoder_hidden"`
	// VolTiming adds the volatility-timing gate: an exposure head fed by
	// the forecast-volatility features VolFeatures outputs g ∈ (0,1), the
	// fraction of capital at risk; weights = (1−g)·cash + g·softmax(asset
	// logits).
	VolTiming bool `toml:"vol_timing"`
	// VolFeatures are per-asset feature indices (into the env's
	// Layout.Features, i.e. env.features or features.asset in order, from
	// 0) of volatility forecasts (e.g. EWMA or GARCH volatility); the gate
	// reads their latest values. Required with VolTiming. In an experiment
	// file it may be left out: it then resolves to the observed features
	// among garch_f1, ewma_vol, garch_vol and rvol_21 (`folio check` prints
	// the result); each index must be < the number of per-asset features.
	VolFeatures []int `toml:"vol_features"`
	// GateHidden is the volatility-timing gate's hidden width (0: a linear
	// gate). Default 16; range ≥ 0.
	GateHidden int `toml:"gate_hidden"`
	// ReturnFeature is the index of the per-asset log-return feature in
	// the env's Layout.Features, or −1 if there is none (in an experiment
	// file it defaults to the index of logret when observed, else −1).
	// The "assets" trunk derives cross-asset volatility and correlation
	// from it, and the dynamic embedding's return target is its latest
	// value in the next observation.
	ReturnFeature int `toml:"return_feature"`
	// Backend runs the networks: "native" (hand-written forward and
	// backward passes over an AVX2 matrix kernel) or "gorgonia" (the
	// reference graphs; same results to ~1e-12, much slower).
	Backend string `toml:"backend"`
	// Parallel runs independent towers (separate actor and critic, TD3's
	// twin critics), or else the halves of large matrix products, and the
	// optimiser step on two goroutines in the native backend. Results are
	// bit-identical either way.
	Parallel bool `toml:"parallel"`
	// Precision of the networks, gradients and optimiser state: "float64"
	// or "float32" (native backend only: the matrix kernel then runs eight
	// lanes per instruction instead of four and moves half the memory, as
	// PyTorch's default precision). Empty means "float64". Each algorithm
	// chooses its default by measurement (see its Defaults).
	Precision string `toml:"precision"`
}

// Float32 reports whether the configuration asks for float32 networks.
func (c *Config) Float32() bool { return c.Precision == PrecisionFloat32 }

// ObsLayout is the observation layout an architecture is built for (from
// the env's Spec and Layout).
type ObsLayout struct {
	Assets, Features, Globals, Window        int
	AssetOffset, GlobalOffset, WeightsOffset int
	Len                                      int
}

// Validate checks the fields that do not depend on the observation.
func (c *Config) Validate() error {
	if c.Trunk != TrunkFlat && c.Trunk != TrunkAssets {
		return fmt.Errorf("trunk %q (want %q or %q)", c.Trunk, TrunkFlat, TrunkAssets)
	}
	if _, err := ParseAct(c.Activation); err != nil || (c.Activation != "tanh" && c.Activation != "relu") {
		return fmt.Errorf("activation %q (want tanh or relu)", c.Activation)
	}
	if len(c.Hidden) == 0 {
		return errors.New("hidden is empty")
	}
	if c.Trunk == TrunkAssets && len(c.AssetHidden) == 0 {
		return errors.New("asset_hidden is empty for the assets trunk")
	}
	for _, ws := range [][]int{c.Hidden, c.AssetHidden, c.HeadHidden, c.DecoderHidden} {
		if slices.ContainsFunc(ws, func(w int) bool { return w < 1 }) {
			return fmt.Errorf("layer widths %v must be ≥ 1", ws)
		}
	}
	if c.Init != "orthogonal" && c.Init != "uniform" {
		return fmt.Errorf("init %q (want orthogonal or uniform)", c.Init)
	}
	switch c.Embedding {
	case EmbeddingNone:
	case EmbeddingDynamic:
		if c.Latent < 1 {
			return fmt.Errorf("latent %d must be ≥ 1 with the dynamic embedding", c.Latent)
		}
		if c.ReturnFeature < 0 {
			return errors.New("the dynamic embedding needs return_feature (its prediction target)")
		}
	default:
		return fmt.Errorf("embedding %q (want %q or %q)", c.Embedding, EmbeddingNone, EmbeddingDynamic)
	}
	if c.VolTiming && len(c.VolFeatures) == 0 {
		return errors.New("vol_timing needs vol_features")
	}
	if c.GateHidden < 0 {
		return fmt.Errorf("gate_hidden %d must be ≥ 0", c.GateHidden)
	}
	if c.ReturnFeature < -1 {
		return fmt.Errorf("return_feature %d must be ≥ −1", c.ReturnFeature)
	}
	if c.Backend != BackendNative && c.Backend != BackendGorgonia {
		return fmt.Errorf("backend %q (want %q or %q)", c.Backend, BackendNative, BackendGorgonia)
	}
	switch c.Precision {
	case "", PrecisionFloat64:
	case PrecisionFloat32:
		if c.Backend != BackendNative {
			return fmt.Errorf("precision %q needs backend %q (gorgonia graphs run in float64)", c.Precision, BackendNative)
		}
	default:
		return fmt.Errorf("precision %q (want %q or %q)", c.Precision, PrecisionFloat64, PrecisionFloat32)
	}
	return nil
}

// Arch combines the configuration with an observation layout.
func (c *Config) Arch(o ObsLayout) (Arch, error) {
	if err := c.Validate(); err != nil {
		return Arch{}, fmt.Errorf("nets: %w", err)
	}
	act, _ := ParseAct(c.Activation)
	a := Arch{
		Assets: o.Assets, Features: o.Features, Globals: o.Globals, Window: o.Window,
		AssetOffset: o.AssetOffset, GlobalOffset: o.GlobalOffset, WeightsOffset: o.WeightsOffset, ObsLen: o.Len,
		Trunk: c.Trunk, Hidden: slices.Clone(c.Hidden), Activation: act,
		AssetHidden: slices.Clone(c.AssetHidden), HeadHidden: slices.Clone(c.HeadHidden),
		Embedding: c.Embedding, Latent: c.Latent, DecoderHidden: slices.Clone(c.DecoderHidden),
		VolTiming: c.VolTiming, VolFeatures: slices.Clone(c.VolFeatures), GateHidden: c.GateHidden,
		ReturnFeature: c.ReturnFeature, Init: c.Init,
	}
	if a.ReturnFeature >= a.Features {
		return Arch{}, fmt.Errorf("nets: return_feature %d but the observation has %d per-asset features", a.ReturnFeature, a.Features)
	}
	if err := a.Validate(); err != nil {
		return Arch{}, err
	}
	return a, nil
}
