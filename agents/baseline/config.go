package baseline

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/folio-rl/folio/portfolio"
)

// ErrConfig is wrapped by every configuration error: an invalid Config
// value, an unknown method, or settings that do not fit the panel at the
// first decision (for instance constant weights of the wrong length).
var ErrConfig = errors.New("baseline: invalid config")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// Config holds the settings of every baseline; each method reads the
// fields it needs and ignores the others. It maps 1:1 onto a TOML table
// (the runner's [baselines] section). Return-like quantities (target
// return, risk-free rate, Black–Litterman views) are annualised simple
// returns and are converted to the per-bar units of package portfolio by
// dividing by the panel's bars per year (arithmetic scaling; variances of
// views likewise). Start from Defaults: the zero value is not valid.
type Config struct {
	// Lookback is the estimation window of the allocation methods in bars:
	// the trailing Lookback simple close-to-close returns ending at the
	// decision bar t (bars t−Lookback … t). Default 90, range ≥ 2.
	Lookback int `toml:"lookback"`
	// RebalanceEvery makes every method decide only every k-th bar after
	// its first decision and hold in between, returning the current drifted
	// weights (zero turnover). Online methods then run on the k-bar clock:
	// their price relatives are close_t/close_{t−k}. Default 1, range ≥ 1.
	RebalanceEvery int `toml:"rebalance_every"`
	// DriftBand, when positive, makes equal-weight and constant rebalance
	// at a scheduled bar only when some weight (cash included) differs from
	// its target by more than DriftBand (absolute weight). Default 0
	// (rebalance on schedule), range [0, 1).
	DriftBand float64 `toml:"drift_band"`
	// Cov is the covariance estimator of the allocation methods: sample,
	// ledoit-wolf (scaled-identity target), ledoit-wolf-cc
	// (constant-correlation target), oas, ewma or garch (package portfolio).
	// Default "ledoit-wolf".
	Cov string `toml:"cov"`
	// EWMALambda is the decay of the ewma estimator. Default 0.94
	// (RiskMetrics daily), range (0, 1).
	EWMALambda float64 `toml:"ewma_lambda"`
	// Mean is the expected-return estimator: sample or james-stein.
	// Default "sample".
	Mean string `toml:"mean"`
	// Lambda is the risk aversion λ of mean-variance, which maximises
	// μᵀw − λ/2·wᵀΣw. Scaling μ and Σ by the same horizon leaves the optimum
	// unchanged, so λ does not depend on the bar length. Default 10,
	// range > 0.
	Lambda float64 `toml:"lambda"`
	// MaxWeight caps each risky weight inside the allocation methods (the
	// guard's own cap still applies on top). Default 1, range (0, 1];
	// N·MaxWeight must be ≥ 1.
	MaxWeight float64 `toml:"max_weight"`
	// Budgets are the risk budgets of risk-budget, one per asset in panel
	// order, non-negative; they are normalised to sum to 1. Required by
	// risk-budget, ignored otherwise. Default none.
	Budgets []float64 `toml:"budgets"`
	// TargetReturn is the annualised expected return efficient-return must
	// reach (per bar: TargetReturn / bars per year). Default 0.3.
	TargetReturn float64 `toml:"target_return"`
	// RiskFree is the annualised risk-free rate of max-sharpe and of the
	// momentum views of black-litterman. Default 0.
	RiskFree float64 `toml:"risk_free"`
	// Weights are the fixed risky-asset weights of constant, in panel asset
	// order (length N), non-negative, summing to at most 1; cash gets the
	// rest. Required by constant. Default none.
	Weights []float64 `toml:"weights"`
	// DirichletAlpha is the concentration α of random-dirichlet, which
	// draws its target from Dirichlet(α,…,α) over cash and the N assets
	// (α = 1: uniform on the action simplex). Default 1, range > 0.
	DirichletAlpha float64 `toml:"dirichlet_alpha"`
	// BlackLitterman holds the black-litterman settings.
	BlackLitterman BLConfig `toml:"black_litterman"`
	// Online holds the parameters of the online-portfolio methods.
	Online OnlineConfig `toml:"online"`
}

// Black–Litterman view sources, the values of BLConfig.Views.
const (
	ViewsMomentum = "momentum" // one absolute view per asset from its trailing mean return
	ViewsExplicit = "explicit" // P, Q and optionally Omega from the config
	ViewsNone     = "none"     // no views: the allocation is the prior (market) portfolio
)

// BLConfig configures black-litterman (He and Litterman 1999): the prior
// π = δΣw_mkt, views Pμ = Q + ε with ε ~ N(0, Ω), then mean-variance with
// risk aversion δ on the posterior mean (package portfolio).
type BLConfig struct {
	// Views is the source of the views: momentum, explicit or none.
	// Momentum views are P = I and Qᵢ = the mean simple return of asset i
	// over the last MomentumWindow bars minus the per-bar risk-free rate,
	// with Ω from He and Litterman's rule diag(P τΣ Pᵀ). Default "momentum".
	Views string `toml:"views"`
	// MomentumWindow is the trailing window of the momentum views in bars,
	// at most Lookback. Default 30.
	MomentumWindow int `toml:"momentum_window"`
	// Delta is the risk aversion δ of the equilibrium and of the
	// mean-variance step. Default 2.5, range > 0.
	Delta float64 `toml:"delta"`
	// Tau scales the uncertainty of the prior mean, τΣ. Default 0.05,
	// range > 0.
	Tau float64 `toml:"tau"`
	// P are the explicit views' portfolios, K rows of N entries in panel
	// asset order (Views = "explicit").
	P [][]float64 `toml:"p"`
	// Q are the explicit views' annualised expected returns, length K.
	Q []float64 `toml:"q"`
	// Omega is the K×K covariance of the explicit views in annualised
	// variance units, or empty for He and Litterman's diag(P τΣ Pᵀ).
	Omega [][]float64 `toml:"omega"`
	// MarketWeights are the market portfolio of the prior (length N,
	// non-negative, normalised), or empty for equal weights.
	MarketWeights []float64 `toml:"market_weights"`
	// PosteriorCov uses the posterior covariance Σ + M in the
	// mean-variance step instead of the prior Σ. Default false.
	PosteriorCov bool `toml:"posterior_cov"`
}

// PAMR variants, the values of OnlineConfig.PAMRVariant (Li, Zhao, Hoi and
// Gopalkrishnan 2012, eq. for τ).
const (
	PAMR0 = 0 // τ = ℓ/‖x − x̄1‖²
	PAMR1 = 1 // τ = min(C, ℓ/‖x − x̄1‖²)
	PAMR2 = 2 // τ = ℓ/(‖x − x̄1‖² + 1/(2C))
)

// OnlineConfig holds the parameters of the online-portfolio methods, with
// the defaults their papers (and the OLPS toolbox of Li, Sahoo and Hoi
// 2016) use. Windows count periods of RebalanceEvery bars.
type OnlineConfig struct {
	// Warmup replays a method's updates over up to this many periods of
	// history before its first decision (bars ≤ t only), so a backtest that
	// starts mid-history begins in a warmed-up state. Default 0: the first
	// decision is the uniform portfolio b₁, as in the papers.
	Warmup int `toml:"warmup"`
	// EGEta is the learning rate η of eg (Helmbold et al. 1998). Default
	// 0.05, range ≥ 0 (0 keeps the uniform portfolio).
	EGEta float64 `toml:"eg_eta"`
	// ONSEta is the mixing weight η of ons with the uniform portfolio
	// (Agarwal et al. 2006). Default 0, range [0, 1].
	ONSEta float64 `toml:"ons_eta"`
	// ONSBeta is β of ons. Default 1, range > 0.
	ONSBeta float64 `toml:"ons_beta"`
	// ONSDelta is δ of ons. Default 1/8, range > 0.
	ONSDelta float64 `toml:"ons_delta"`
	// OLMAREpsilon is the reversion threshold ε of olmar (Li and Hoi
	// 2012). Default 10, range > 0.
	OLMAREpsilon float64 `toml:"olmar_epsilon"`
	// OLMARWindow is the moving-average window w of olmar in periods.
	// Default 5, range ≥ 2.
	OLMARWindow int `toml:"olmar_window"`
	// PAMREpsilon is the sensitivity ε of pamr (Li et al. 2012). Default
	// 0.5, range ≥ 0.
	PAMREpsilon float64 `toml:"pamr_epsilon"`
	// PAMRVariant selects PAMR (0), PAMR-1 (1) or PAMR-2 (2). Default 0,
	// the paper's main algorithm.
	PAMRVariant int `toml:"pamr_variant"`
	// PAMRC is the aggressiveness C of PAMR-1 and PAMR-2. Default 500,
	// range > 0.
	PAMRC float64 `toml:"pamr_c"`
	// AnticorWindow is the window w of anticor (Borodin, El-Yaniv and
	// Gogan 2004) in periods; it compares two consecutive windows, so it
	// trades only once 2w price relatives are available. Default 30,
	// range ≥ 2.
	AnticorWindow int `toml:"anticor_window"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		Lookback:       90,
		RebalanceEvery: 1,
		Cov:            portfolio.CovLedoitWolf,
		EWMALambda:     0.94,
		Mean:           portfolio.MeanSample,
		Lambda:         10,
		MaxWeight:      1,
		TargetReturn:   0.3,
		DirichletAlpha: 1,
		BlackLitterman: BLConfig{
			Views:          ViewsMomentum,
			MomentumWindow: 30,
			Delta:          2.5,
			Tau:            0.05,
		},
		Online: OnlineConfig{
			EGEta:         0.05,
			ONSBeta:       1,
			ONSDelta:      1.0 / 8,
			OLMAREpsilon:  10,
			OLMARWindow:   5,
			PAMREpsilon:   0.5,
			PAMRVariant:   PAMR0,
			PAMRC:         500,
			AnticorWindow: 30,
		},
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkWeights validates a vector of non-negative finite entries and
// returns its sum.
func checkWeights(key string, w []float64) (float64, error) {
	sum := 0.0
	for i, v := range w {
		if !finite(v) || v < 0 {
			return 0, configErr("%s[%d] = %v must be finite and non-negative", key, i, v)
		}
		sum += v
	}
	return sum, nil
}

// Validate checks every field against its documented range. Settings that
// depend on the number of assets (lengths of Weights, Budgets, views) are
// checked at the first decision.
func (c Config) Validate() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if c.Lookback < 2 {
		add("lookback %d must be ≥ 2", c.Lookback)
	}
	if c.RebalanceEvery < 1 {
		add("rebalance_every %d must be ≥ 1", c.RebalanceEvery)
	}
	if !(c.DriftBand >= 0 && c.DriftBand < 1) {
		add("drift_band %v is outside [0, 1)", c.DriftBand)
	}
	if !slices.Contains(portfolio.Estimators(), c.Cov) {
		add("cov %q is not one of %s", c.Cov, strings.Join(portfolio.Estimators(), ", "))
	}
	if !(c.EWMALambda > 0 && c.EWMALambda < 1) {
		add("ewma_lambda %v is outside (0, 1)", c.EWMALambda)
	}
	if c.Mean != portfolio.MeanSample && c.Mean != portfolio.MeanJamesStein {
		add("mean %q is not one of %s, %s", c.Mean, portfolio.MeanSample, portfolio.MeanJamesStein)
	}
	if !(c.Lambda > 0) || !finite(c.Lambda) {
		add("lambda %v must be finite and > 0", c.Lambda)
	}
	if !(c.MaxWeight > 0 && c.MaxWeight <= 1) {
		add("max_weight %v is outside (0, 1]", c.MaxWeight)
	}
	if len(c.Budgets) > 0 {
		if sum, err := checkWeights("budgets", c.Budgets); err != nil {
			add("%s", strings.TrimPrefix(err.Error(), ErrConfig.Error()+": "))
		} else if !(sum > 0) {
			add("budgets sum to %v, want > 0", sum)
		}
	}
	if !finite(c.TargetReturn) {
		add("target_return %v must be finite", c.TargetReturn)
	}
	if !finite(c.RiskFree) || c.RiskFree <= -1 {
		add("risk_free %v must be finite and > −1", c.RiskFree)
	}
	if len(c.Weights) > 0 {
		if sum, err := checkWeights("weights", c.Weights); err != nil {
			add("%s", strings.TrimPrefix(err.Error(), ErrConfig.Error()+": "))
		} else if sum > 1+1e-9 {
			add("weights sum to %v, want ≤ 1 (cash takes the rest)", sum)
		}
	}
	if !(c.DirichletAlpha > 0) || !finite(c.DirichletAlpha) {
		add("dirichlet_alpha %v must be finite and > 0", c.DirichletAlpha)
	}
	errs = append(errs, c.BlackLitterman.problems()...)
	errs = append(errs, c.Online.problems()...)
	if len(errs) > 0 {
		return configErr("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (b BLConfig) problems() []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	switch b.Views {
	case ViewsMomentum:
		// black-litterman also needs it ≤ lookback (checked by New).
		if b.MomentumWindow < 1 {
			add("black_litterman.momentum_window %d must be ≥ 1", b.MomentumWindow)
		}
	case ViewsExplicit:
		if len(b.P) == 0 {
			add("black_litterman.views = %q needs p and q", ViewsExplicit)
		}
		if len(b.Q) != len(b.P) {
			add("black_litterman.q has %d entries, want %d (rows of p)", len(b.Q), len(b.P))
		}
		for k, row := range b.P {
			if len(row) != len(b.P[0]) {
				add("black_litterman.p row %d has %d entries, row 0 has %d", k, len(row), len(b.P[0]))
			}
			for j, v := range row {
				if !finite(v) {
					add("black_litterman.p[%d][%d] = %v is not finite", k, j, v)
				}
			}
		}
		for k, v := range b.Q {
			if !finite(v) {
				add("black_litterman.q[%d] = %v is not finite", k, v)
			}
		}
		if len(b.Omega) > 0 {
			errs = append(errs, omegaProblems(b.Omega, len(b.P))...)
		}
	case ViewsNone:
	default:
		add("black_litterman.views %q is not one of %s, %s, %s", b.Views, ViewsMomentum, ViewsExplicit, ViewsNone)
	}
	if !(b.Delta > 0) || !finite(b.Delta) {
		add("black_litterman.delta %v must be finite and > 0", b.Delta)
	}
	if !(b.Tau > 0) || !finite(b.Tau) {
		add("black_litterman.tau %v must be finite and > 0", b.Tau)
	}
	if len(b.MarketWeights) > 0 {
		if sum, err := checkWeights("black_litterman.market_weights", b.MarketWeights); err != nil {
			add("%s", strings.TrimPrefix(err.Error(), ErrConfig.Error()+": "))
		} else if !(sum > 0) {
			add("black_litterman.market_weights sum to %v, want > 0", sum)
		}
	}
	return errs
}

func omegaProblems(om [][]float64, k int) []string {
	if len(om) != k {
		return []string{fmt.Sprintf("black_litterman.omega has %d rows, want %d", len(om), k)}
	}
	for i, row := range om {
		if len(row) != k {
			return []string{fmt.Sprintf("black_litterman.omega row %d has %d entries, want %d", i, len(row), k)}
		}
	}
	var errs []string
	for i, row := range om {
		for j, v := range row {
			switch {
			case !finite(v):
				errs = append(errs, fmt.Sprintf("black_litterman.omega[%d][%d] = %v is not finite", i, j, v))
			case v != om[j][i]:
				if j < i {
					errs = append(errs, fmt.Sprintf("black_litterman.omega is not symmetric at [%d][%d]", i, j))
				}
			case i == j && v < 0:
				errs = append(errs, fmt.Sprintf("black_litterman.omega[%d][%d] = %v is a negative variance", i, i, v))
			}
		}
	}
	return errs
}

func (o OnlineConfig) problems() []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.Warmup < 0 {
		add("online.warmup %d must be ≥ 0", o.Warmup)
	}
	if !(o.EGEta >= 0) || !finite(o.EGEta) {
		add("online.eg_eta %v must be finite and ≥ 0", o.EGEta)
	}
	if !(o.ONSEta >= 0 && o.ONSEta <= 1) {
		add("online.ons_eta %v is outside [0, 1]", o.ONSEta)
	}
	if !(o.ONSBeta > 0) || !finite(o.ONSBeta) {
		add("online.ons_beta %v must be finite and > 0", o.ONSBeta)
	}
	if !(o.ONSDelta > 0) || !finite(o.ONSDelta) {
		add("online.ons_delta %v must be finite and > 0", o.ONSDelta)
	}
	if !(o.OLMAREpsilon > 0) || !finite(o.OLMAREpsilon) {
		add("online.olmar_epsilon %v must be finite and > 0", o.OLMAREpsilon)
	}
	if o.OLMARWindow < 2 {
		add("online.olmar_window %d must be ≥ 2", o.OLMARWindow)
	}
	if !(o.PAMREpsilon >= 0) || !finite(o.PAMREpsilon) {
		add("online.pamr_epsilon %v must be finite and ≥ 0", o.PAMREpsilon)
	}
	if o.PAMRVariant < PAMR0 || o.PAMRVariant > PAMR2 {
		add("online.pamr_variant %d is not 0, 1 or 2", o.PAMRVariant)
	}
	if !(o.PAMRC > 0) || !finite(o.PAMRC) {
		add("online.pamr_c %v must be finite and > 0", o.PAMRC)
	}
	if o.AnticorWindow < 2 {
		add("online.anticor_window %d must be ≥ 2", o.AnticorWindow)
	}
	return errs
}
