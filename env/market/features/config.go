package features

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Config selects and parameterises the features Compute builds. It maps
// one to one onto a TOML table; the lists' order is the observation layout.
type Config struct {
	// Asset lists the per-asset features to build, in layout order: logret,
	// rvol_W, ewma_vol, garch_vol, garch_fH, vol_ratio_S_L, volume_z_W,
	// drawdown, mom_K, pk_vol_W, gk_vol_W (W, K, H, S < L windows and
	// horizons in bars; README "Features" defines each). Default: logret,
	// rvol_5, rvol_21, rvol_63, ewma_vol, garch_vol, garch_f1, garch_f21,
	// vol_ratio_5_63, volume_z_63, drawdown, mom_21, mom_63. Names must be
	// unique across asset and global.
	Asset []string `toml:"asset"`
	// Global lists the market-wide features, in layout order: avg_corr_W,
	// avg_ewma_vol, index_drawdown. Default: avg_corr_63, avg_ewma_vol,
	// index_drawdown. May be empty.
	Global []string `toml:"global"`

	// EWMALambda is the decay λ of the EWMA variance behind ewma_vol,
	// avg_ewma_vol and the GARCH fallback; in (0, 1), default 0.94
	// (RiskMetrics daily). The effective memory is about 1/(1−λ) bars.
	EWMALambda float64 `toml:"ewma_lambda"`
	// EWMAMinBars is the number of returns the EWMA must have seen before
	// it is reported (earlier values are NaN); ≥ 1, default 20 bars.
	EWMAMinBars int `toml:"ewma_min_bars"`

	// GarchRefit is the number of bars between GARCH re-estimations; ≥ 1,
	// default 63 (a quarter of daily bars). Between refits the variance
	// recursion runs on with the last parameters.
	GarchRefit int `toml:"garch_refit"`
	// GarchMinBars is the number of returns required before the first
	// GARCH fit, at bar GarchMinBars; ≥ 50, default 250 (a year of daily
	// bars). Before it the GARCH features fall back to the EWMA.
	GarchMinBars int `toml:"garch_min_bars"`
	// GarchWindow is the length in returns of the estimation window ending
	// at a refit bar; 0 (default) means expanding (every return since the
	// panel's first bar), otherwise ≥ GarchMinBars. Fitting cost grows with
	// the window: for long hourly panels a rolling window (e.g. 4,000)
	// keeps Compute fast.
	GarchWindow int `toml:"garch_window"`
}

// DefaultAsset returns the default per-asset feature names.
func DefaultAsset() []string {
	return []string{
		"logret", "rvol_5", "rvol_21", "rvol_63", "ewma_vol",
		"garch_vol", "garch_f1", "garch_f21", "vol_ratio_5_63",
		"volume_z_63", "drawdown", "mom_21", "mom_63",
	}
}

// DefaultGlobal returns the default market-wide feature names.
func DefaultGlobal() []string {
	return []string{"avg_corr_63", "avg_ewma_vol", "index_drawdown"}
}

// Available returns one name of every feature family Compute knows, with
// default parameters: the defaults of DefaultAsset and DefaultGlobal plus
// the families not built by default (range volatilities). Families with a
// numeric suffix accept any valid window (rvol_10, mom_5, garch_f5, …);
// see the package documentation.
func Available() []string {
	return append(append(DefaultAsset(), "pk_vol_21", "gk_vol_21"), DefaultGlobal()...)
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		Asset:        DefaultAsset(),
		Global:       DefaultGlobal(),
		EWMALambda:   0.94,
		EWMAMinBars:  20,
		GarchRefit:   63,
		GarchMinBars: 250,
		GarchWindow:  0,
	}
}

// ErrUnknownFeature is wrapped by Validate for a name no family matches.
var ErrUnknownFeature = errors.New("features: unknown feature")

// maxWindow bounds every window and horizon: larger values are config
// mistakes (a million bars is over a century of daily data).
const maxWindow = 1_000_000

// Validate checks every field and every name (family, window ranges,
// uniqueness, whether it is per-asset or global).
func (c Config) Validate() error {
	if !(c.EWMALambda > 0 && c.EWMALambda < 1) {
		return fmt.Errorf("features: ewma_lambda %v must be in (0, 1)", c.EWMALambda)
	}
	if c.EWMAMinBars < 1 {
		return fmt.Errorf("features: ewma_min_bars %d must be ≥ 1", c.EWMAMinBars)
	}
	if c.GarchRefit < 1 {
		return fmt.Errorf("features: garch_refit %d must be ≥ 1", c.GarchRefit)
	}
	if c.GarchMinBars < 50 {
		return fmt.Errorf("features: garch_min_bars %d must be ≥ 50", c.GarchMinBars)
	}
	if c.GarchWindow != 0 && c.GarchWindow < c.GarchMinBars {
		return fmt.Errorf("features: garch_window %d must be 0 (expanding) or ≥ garch_min_bars %d", c.GarchWindow, c.GarchMinBars)
	}
	if c.GarchRefit > maxWindow || c.GarchMinBars > maxWindow || c.GarchWindow > maxWindow || c.EWMAMinBars > maxWindow {
		return fmt.Errorf("features: garch or ewma bar counts above %d", maxWindow)
	}
	if len(c.Asset) == 0 {
		return errors.New("features: no per-asset features selected")
	}
	seen := make(map[string]bool, len(c.Asset)+len(c.Global))
	for _, list := range []struct {
		names  []string
		global bool
	}{{c.Asset, false}, {c.Global, true}} {
		for _, name := range list.names {
			if seen[name] {
				return fmt.Errorf("features: %q selected twice", name)
			}
			seen[name] = true
			s, err := parse(name)
			if err != nil {
				return err
			}
			if s.kind.global() != list.global {
				where := "asset"
				if list.global {
					where = "global"
				}
				return fmt.Errorf("features: %q is not a %s feature", name, where)
			}
		}
	}
	return nil
}

// kind is a feature family.
type kind int

const (
	kLogRet kind = iota
	kRVol
	kEWMAVol
	kGarchVol
	kGarchF
	kVolRatio
	kVolumeZ
	kDrawdown
	kMom
	kPKVol
	kGKVol
	// Global kinds follow.
	kAvgCorr
	kAvgEWMAVol
	kIndexDrawdown
)

func (k kind) global() bool { return k >= kAvgCorr }

// spec is a parsed feature name.
type spec struct {
	kind kind
	a, b int // window parameters
}

// family describes a feature family: its name prefix (the whole name when
// it takes no parameters), kind, number of integer parameters and their
// minimum value.
type family struct {
	prefix string
	kind   kind
	params int
	min    int
}

// families returns the family table (a function, not a package variable,
// so that it cannot be modified).
func families() [14]family {
	return [...]family{
		{"logret", kLogRet, 0, 0},
		{"ewma_vol", kEWMAVol, 0, 0},
		{"garch_vol", kGarchVol, 0, 0},
		{"drawdown", kDrawdown, 0, 0},
		{"avg_ewma_vol", kAvgEWMAVol, 0, 0},
		{"index_drawdown", kIndexDrawdown, 0, 0},
		{"rvol_", kRVol, 1, 2},
		{"garch_f", kGarchF, 1, 1},
		{"vol_ratio_", kVolRatio, 2, 2},
		{"volume_z_", kVolumeZ, 1, 2},
		{"mom_", kMom, 1, 1},
		{"pk_vol_", kPKVol, 1, 1},
		{"gk_vol_", kGKVol, 1, 1},
		{"avg_corr_", kAvgCorr, 1, 2},
	}
}

// parse maps a feature name to its spec. Numbers must be written
// canonically (no sign, no leading zeros) so that each feature has exactly
// one name.
func parse(name string) (spec, error) {
	for _, f := range families() {
		if f.params == 0 {
			if name == f.prefix {
				return spec{kind: f.kind}, nil
			}
			continue
		}
		rest, ok := strings.CutPrefix(name, f.prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "_")
		if len(parts) != f.params {
			continue
		}
		var v [2]int
		for j, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || strconv.Itoa(n) != p {
				return spec{}, fmt.Errorf("%w: %q (window %q is not a canonical integer)", ErrUnknownFeature, name, p)
			}
			if n < f.min || n > maxWindow {
				return spec{}, fmt.Errorf("features: %q: window %d out of range [%d, %d]", name, n, f.min, maxWindow)
			}
			v[j] = n
		}
		if f.kind == kVolRatio && v[0] >= v[1] {
			return spec{}, fmt.Errorf("features: %q: short window must be below long window", name)
		}
		return spec{kind: f.kind, a: v[0], b: v[1]}, nil
	}
	return spec{}, fmt.Errorf("%w: %q (families: logret, rvol_W, ewma_vol, garch_vol, garch_fH, vol_ratio_S_L, volume_z_W, drawdown, mom_K, pk_vol_W, gk_vol_W; global: avg_corr_W, avg_ewma_vol, index_drawdown)", ErrUnknownFeature, name)
}
