package env_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/folio-rl/folio/env"
)

func TestDefaultsValid(t *testing.T) {
	for name, c := range map[string]env.Config{"defaults": env.Defaults(), "bench": env.BenchConfig()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidateNamesField: every invalid setting is rejected with an error
// that names its TOML key.
func TestValidateNamesField(t *testing.T) {
	cases := []struct {
		field string
		mod   func(*env.Config)
	}{
		{"window", func(c *env.Config) { c.Window = 0 }},
		{"features", func(c *env.Config) { c.Features = []string{"a", "a"} }},
		{"global_features", func(c *env.Config) { c.GlobalFeatures = []string{""} }},
		{"action", func(c *env.Config) { c.Action = "softmax" }},
		{"reward", func(c *env.Config) { c.Reward = "sharpe" }},
		{"reward_eta", func(c *env.Config) { c.RewardEta = 1 }},
		{"reward_kappa", func(c *env.Config) { c.RewardKappa = -1 }},
		{"reward_vol_floor", func(c *env.Config) { c.RewardVolFloor = 0 }},
		{"execution", func(c *env.Config) { c.Execution = "open" }},
		{"episode_len", func(c *env.Config) { c.EpisodeLen = -1 }},
		{"episode_start", func(c *env.Config) { c.EpisodeStart = "last" }},
		{"regime_sampling", func(c *env.Config) { c.RegimeSampling = "stratified" }},
		{"regimes", func(c *env.Config) { c.Regimes = []string{"boom"} }},
		{"regimes", func(c *env.Config) { c.Regimes = []string{"bull", "Bull"} }},
		{"regime_truncate", func(c *env.Config) { c.RegimeTruncate = true }},
		{"segment_start", func(c *env.Config) {
			c.SegmentStart = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
			c.SegmentEnd = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
		{"initial_capital", func(c *env.Config) { c.InitialCapital = 0 }},
		{"terminate_below", func(c *env.Config) { c.TerminateBelow = 1 }},
		{"costs.fee_model", func(c *env.Config) { c.Costs.FeeModel = "approx" }},
		{"costs.fee_side", func(c *env.Config) { c.Costs.FeeSide = "both" }},
		{"costs.taker_bps", func(c *env.Config) { c.Costs.TakerBps = -1 }},
		{"costs.maker_bps", func(c *env.Config) { c.Costs.MakerBps = 2000 }},
		{"costs.half_spread_bps", func(c *env.Config) { c.Costs.HalfSpreadBps = -3 }},
		{"costs.slippage", func(c *env.Config) { c.Costs.Slippage = "linear" }},
		{"costs.impact", func(c *env.Config) { c.Costs.Impact = 2 }},
		{"costs.quadratic", func(c *env.Config) { c.Costs.Quadratic = 0.5 }},
		{"costs.liquidity_cap", func(c *env.Config) { c.Costs.LiquidityCap = 1.5 }},
		{"costs.liquidity_cap", func(c *env.Config) { c.Costs.LiquidityCap = 0 }}, // with sqrt slippage
		{"costs.asset[0].asset", func(c *env.Config) { c.Costs.Asset = []env.AssetFee{{}} }},
		{"costs.asset[1].sell_bps", func(c *env.Config) {
			c.Costs.Asset = []env.AssetFee{{Asset: "BTC"}, {Asset: "ETH", SellBps: -1}}
		}},
		{"costs:", func(c *env.Config) { c.Costs.Impact, c.Costs.LiquidityCap = 1, 1 }}, // combined rates too large
	}
	for _, tc := range cases {
		c := env.Defaults()
		tc.mod(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: invalid config accepted", tc.field)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %q does not name the field", tc.field, err)
		}
	}
}

// TestConfigTOML decodes a TOML experiment section into a Config strictly
// (every key maps onto a field) and checks that the tags are the
// documented snake_case names, including the [costs] table and
// [[costs.asset]] entries.
func TestConfigTOML(t *testing.T) {
	const doc = `
window = 16
features = ["log_return", "vol10"]
global_features = []
action = "logits"
reward = "differential_sharpe"
reward_eta = 0.02
reward_kappa = 0.5
reward_vol_floor = 0.02
execution = "next_open"
episode_len = 128
episode_start = "first"
regime_sampling = "balanced"
regimes = ["bull", "bear"]
regime_truncate = true
terminate_below = 0.2
`
	const costsDoc = `
fee_model = "linear"
fee_side = "maker"
taker_bps = 7.5
maker_bps = 2.0
slippage = "spread"
half_spread_bps = 1.5
impact = 0.1
quadratic = 0.002
liquidity_cap = 0.05

[[asset]]
asset = "BTC"
buy_bps = 1.0
sell_bps = 3.0
`
	c := env.Defaults()
	c.SegmentStart = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	c.SegmentEnd = time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)
	c.InitialCapital = 250000
	if _, err := toml.Decode(costsDoc, &c.Costs); err != nil {
		t.Fatal(err)
	}
	md, err := toml.Decode(doc, &c)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("keys without a field: %v", u)
	}
	want := env.Config{
		Window: 16, Features: []string{"log_return", "vol10"}, GlobalFeatures: []string{},
		Action: "logits", Reward: "differential_sharpe", RewardEta: 0.02, RewardKappa: 0.5, RewardVolFloor: 0.02,
		Execution: "next_open", EpisodeLen: 128, EpisodeStart: "first", RegimeSampling: "balanced",
		Regimes: []string{"bull", "bear"}, RegimeTruncate: true,
		SegmentStart: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), SegmentEnd: time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC),
		InitialCapital: 250000, TerminateBelow: 0.2,
		Costs: env.Costs{FeeModel: "linear", FeeSide: "maker", TakerBps: 7.5, MakerBps: 2, Slippage: "spread",
			HalfSpreadBps: 1.5, Impact: 0.1, Quadratic: 0.002, LiquidityCap: 0.05,
			Asset: []env.AssetFee{{Asset: "BTC", BuyBps: 1, SellBps: 3}}},
	}
	if !c.SegmentStart.Equal(want.SegmentStart) || !c.SegmentEnd.Equal(want.SegmentEnd) {
		t.Fatalf("segment %v – %v", c.SegmentStart, c.SegmentEnd)
	}
	c.SegmentStart, c.SegmentEnd = want.SegmentStart, want.SegmentEnd
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Every field has a snake_case toml tag, except those set in code or
	// held by another table.
	inCode := map[string]bool{"SegmentStart": true, "SegmentEnd": true, "InitialCapital": true, "InitialWeights": true, "Costs": true}
	for _, typ := range []reflect.Type{reflect.TypeOf(env.Config{}), reflect.TypeOf(env.Costs{}), reflect.TypeOf(env.AssetFee{})} {
		for i := 0; i < typ.NumField(); i++ {
			tag := typ.Field(i).Tag.Get("toml")
			if typ == reflect.TypeOf(env.Config{}) && inCode[typ.Field(i).Name] {
				if tag != "-" {
					t.Errorf("%s.%s should not be a TOML key, has tag %q", typ.Name(), typ.Field(i).Name, tag)
				}
				continue
			}
			if tag == "" || strings.ToLower(tag) != tag || strings.Contains(tag, "-") {
				t.Errorf("%s.%s has toml tag %q", typ.Name(), typ.Field(i).Name, tag)
			}
		}
	}
}
