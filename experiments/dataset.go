package experiments

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
	"github.com/folio-rl/folio/env/market/regime"
	"github.com/folio-rl/folio/env/market/synth"
	"github.com/folio-rl/folio/internal/seed"
)

// dataset is the market an experiment runs on.
type dataset struct {
	panel    *market.Panel
	regimes  []market.Regime
	features *features.Set
	warmUp   int    // first bar at which every feature is finite
	source   string // human-readable description of the data
	regSrc   string // where the regime labels come from
	notes    []string
}

// resolvePath makes a data path relative to the experiment file's directory.
func (c *Config) resolvePath(p string) string {
	if filepath.IsAbs(p) || c.file == "" {
		return p
	}
	cand := filepath.Join(filepath.Dir(c.file), p)
	return cand
}

// loadData builds the panel, regime labels and features of the experiment.
// regimeFitEnd bounds the bars the regime labeller may be fitted on (the
// first training window), keeping labels used in training causal.
func loadData(c *Config, regimeFitEnd func(warmUp, bars int) int) (*dataset, error) {
	ds := &dataset{}
	switch c.Data.Source {
	case "synthetic":
		sc := c.synthConfig()
		p, truth, err := synth.Generate(sc, c.Experiment.Seed)
		if err != nil {
			return nil, fmt.Errorf("experiments: synthetic market: %w", err)
		}
		ds.panel, ds.regimes = p, truth
		ds.source = fmt.Sprintf("synthetic market (seed %d): %d assets × %d bars of %s", c.Experiment.Seed, sc.Assets, sc.Bars, Duration(sc.Interval))
	case "files":
		opt := market.Defaults()
		opt.Format = market.Format(c.Data.Format)
		opt.Assets = c.Data.Assets
		opt.Interval = timeDuration(c.Data.Interval)
		opt.Resample = timeDuration(c.Data.Resample)
		opt.Fill = market.FillPolicy(c.Data.Fill)
		if c.Data.Fill != "none" {
			opt.MaxFillGap = c.Data.MaxFillGap
		}
		// Validated with the config; a date-only end includes its whole
		// UTC day (dates.go).
		opt.Start, _ = parseStart(c.Data.Start)
		opt.End, _ = parseEnd(c.Data.End)
		paths := make([]string, len(c.Data.Paths))
		for i, p := range c.Data.Paths {
			paths[i] = c.resolvePath(p)
		}
		p, rep, err := market.Load(paths, opt)
		if err != nil {
			if e := c.intervalMismatch(err); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("experiments: data: %w", err)
		}
		ds.panel = p
		ds.source = fmt.Sprintf("files %s: %d assets × %d bars of %s", strings.Join(c.Data.Paths, ", "), p.N(), p.T(), Duration(p.Interval()))
		if s := rep.Summary(3); s != "" {
			ds.notes = append(ds.notes, "data: "+strings.ReplaceAll(strings.TrimSpace(s), "\n", "; "))
		}
	}
	if c.Data.SkipFirstBars > 0 {
		if c.Data.SkipFirstBars >= ds.panel.T()-10 {
			return nil, &ConfigError{Key: "data.skip_first_bars", Msg: fmt.Sprintf("%d leaves fewer than 10 of %d bars", c.Data.SkipFirstBars, ds.panel.T())}
		}
		p, err := ds.panel.Slice(c.Data.SkipFirstBars, ds.panel.T())
		if err != nil {
			return nil, err
		}
		ds.panel = p
		if ds.regimes != nil {
			ds.regimes = ds.regimes[c.Data.SkipFirstBars:]
		}
	}
	fs, frep, err := features.ComputeReport(ds.panel, c.Features)
	if err != nil {
		return nil, fmt.Errorf("experiments: features: %w", err)
	}
	ds.features = fs
	ds.warmUp = fs.WarmUp()
	if frep.GarchFailed > 0 || frep.GarchNotConverged > 0 || frep.GarchNearUnitRoot > 0 {
		ds.notes = append(ds.notes, fmt.Sprintf("features: %d GARCH fits; %d failed (previous parameters or EWMA kept), %d did not converge, %d near a unit root",
			frep.GarchFits, frep.GarchFailed, frep.GarchNotConverged, frep.GarchNearUnitRoot))
	}
	if ds.warmUp >= ds.panel.T() {
		return nil, fmt.Errorf("experiments: the features never become finite on %d bars (warm-up needs more data)", ds.panel.T())
	}
	src := c.Data.Regimes
	if src == "auto" {
		src = "rules"
		if c.Data.Source == "synthetic" {
			src = "true"
		}
	}
	fitEnd := regimeFitEnd(ds.warmUp, ds.panel.T())
	switch src {
	case "true":
		ds.regSrc = "true regimes of the synthetic market"
	case "none":
		ds.regimes = nil
		ds.regSrc = "none"
	case "rules":
		rc := regime.DefaultRules()
		r, err := regime.FitRules(ds.panel, 0, fitEnd, rc)
		if err != nil {
			return nil, fmt.Errorf("experiments: regime rules: %w", err)
		}
		ds.regimes = r.LabelTo(nil, ds.panel)
		ds.regSrc = fmt.Sprintf("rule-based labeller (trend %d bars, volatility %d bars; thresholds fitted on bars before %s)",
			rc.TrendBars, rc.VolBars, ds.panel.Time(min(fitEnd, ds.panel.T()-1)).Format("2006-01-02"))
	case "hmm":
		hc := regime.DefaultHMM()
		h, err := regime.FitHMM(ds.panel, 0, fitEnd, hc, seed.New(c.Experiment.Seed, seed.Baseline, 1))
		if err != nil {
			return nil, fmt.Errorf("experiments: regime HMM: %w", err)
		}
		ds.regimes = h.ViterbiNonCausalTo(nil, ds.panel)
		ds.regSrc = "Gaussian HMM, Viterbi (non-causal: used only to split episodes and for reporting, never observed by a policy)"
	}
	return ds, nil
}

// intervalMismatch rephrases market's interval-mismatch error in the terms
// of the experiment file: it names data.interval (in the file, or --set)
// and writes both intervals as the config does ("1d", not "24h"). It
// returns nil for any other error.
func (c *Config) intervalMismatch(err error) error {
	var ie *market.IntervalError
	if !errors.As(err, &ie) {
		return nil
	}
	file := ""
	var de *market.DataError
	if errors.As(err, &de) {
		file = de.File
	}
	e := fieldErr("data.interval", "= %q does not match the data: %s has a bar every %s", Duration(ie.Want).String(), file, Duration(ie.Got).String())
	e.Fix = fmt.Sprintf(`set data.interval = "%s", or "" to infer it from the files`, Duration(ie.Got).String())
	c.locate(ConfigErrors{e}, nil)
	return e
}
