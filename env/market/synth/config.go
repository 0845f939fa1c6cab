package synth

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Day is the time unit of every rate, drift and volatility in Config.
const Day = 24 * time.Hour

// Config parameterises the synthetic market. It maps 1:1 onto the TOML table
// [market.synthetic]. Every per-regime slice has exactly four entries, in the
// order bull, bear, sideways, crash (market.Regimes()). Rates, drifts and
// volatilities are per day whatever the bar interval; Generate converts them
// to the bar length (see the package documentation, "Bar interval"). Returns
// are log returns.
type Config struct {
	// Assets is the number of risky assets, named SYN01, SYN02, …
	// Default 10; range [1, 1000].
	Assets int `toml:"assets"`
	// Bars is the number of bars per asset. Default 2920 (eight years of
	// daily bars); range [2, 10,000,000], and Assets×Bars ≤ 50,000,000.
	Bars int `toml:"bars"`
	// Interval is the bar length. Default 24h; range [1m, 7 days], a whole
	// number of seconds. Not a TOML key: an experiment's data.interval sets
	// it, so that one key gives the bar length of every data source.
	Interval time.Duration `toml:"-"`
	// Start is the open time of bar 0 (stored as Unix seconds UTC).
	// Default 2018-01-01T00:00:00Z; must be non-zero and a whole second.
	Start time.Time `toml:"start"`

	// Transition is the daily regime transition matrix: row r gives the
	// probabilities of the next day's regime given regime r. Rows are
	// probability vectors (sum 1 within 1e-9) and the chain must be
	// irreducible (every regime reachable from every other), so that it has
	// one stationary distribution. The initial regime is drawn from it.
	// Default: expected durations of about 83 (bull), 67 (bear), 67
	// (sideways) and 8 (crash) days, stationary shares about 33 %, 31 %,
	// 33 % and 3 %; see Defaults.
	Transition [][]float64 `toml:"transition"`
	// Drift is the mean daily log return of the market factor per regime,
	// applied to asset i as Drift·loading_i·volmult_i.
	// Default [0.008, -0.004, 0, -0.015]; range [-0.2, 0.2].
	Drift []float64 `toml:"drift"`
	// Volatility is the daily standard deviation of the diffusive log return
	// of an asset with volatility multiplier 1 per regime, before GARCH
	// scaling (whose mean is 1). Default [0.05, 0.065, 0.032, 0.13];
	// range (0, 1].
	Volatility []float64 `toml:"volatility"`
	// Correlation is the correlation of the diffusive returns of two assets
	// with market loading 1 per regime; assets i and j correlate
	// Correlation·loading_i·loading_j. Rising in crashes is the point.
	// Default [0.72, 0.82, 0.60, 0.93]; range [0, 1).
	Correlation []float64 `toml:"correlation"`
	// JumpIntensity is the expected number of market-wide jumps per day per
	// regime (a Poisson rate). Default [0.04, 0.06, 0.02, 0.30];
	// range [0, 1].
	JumpIntensity []float64 `toml:"jump_intensity"`
	// JumpMean is the mean log size of a market-wide jump per regime; asset
	// i moves loading_i·volmult_i times the jump. Default
	// [0.02, -0.03, 0, -0.06]; range [-1, 1].
	JumpMean []float64 `toml:"jump_mean"`
	// JumpVol is the standard deviation of a market-wide jump's log size.
	// Default 0.08; range [0, 1]; zero makes every jump exactly JumpMean.
	JumpVol float64 `toml:"jump_vol"`

	// IdioJumpIntensity is the expected number of asset-specific jumps per
	// asset per day (Poisson). Default 0.005; range [0, 1].
	IdioJumpIntensity float64 `toml:"idio_jump_intensity"`
	// IdioJumpMean is the mean log size of an asset-specific jump, scaled by
	// the asset's volatility multiplier. Default 0; range [-1, 1].
	IdioJumpMean float64 `toml:"idio_jump_mean"`
	// IdioJumpVol is the standard deviation of an asset-specific jump's log
	// size, scaled by the asset's volatility multiplier. Default 0.10;
	// range [0, 1].
	IdioJumpVol float64 `toml:"idio_jump_vol"`

	// GARCHAlpha and GARCHBeta are the daily GARCH(1,1) coefficients of the
	// unit-mean variance multipliers h (one for the market factor, one per
	// asset for its idiosyncratic part): h_t = (1−α−β) + α·h_{t−1}·ε²_{t−1}
	// + β·h_{t−1}, where ε is the unit-variance innovation (jumps do not
	// feed it). Defaults 0.14 and 0.81; α, β ≥ 0 and α+β < 1. Both zero
	// turn clustering off (h ≡ 1).
	GARCHAlpha float64 `toml:"garch_alpha"`
	// GARCHBeta: see GARCHAlpha.
	GARCHBeta float64 `toml:"garch_beta"`
	// TailDOF is the degrees of freedom ν of the Student-t innovations,
	// scaled to unit variance by √((ν−2)/ν). Default 3.5; range (2, 1000];
	// zero means Gaussian innovations.
	TailDOF float64 `toml:"tail_dof"`

	// VolDispersion is the log-standard deviation of the per-asset
	// volatility multipliers volmult_i = exp(VolDispersion·Z), Z standard
	// normal. Default 0.2; range [0, 2]; zero makes all multipliers 1.
	VolDispersion float64 `toml:"vol_dispersion"`
	// LoadingMin is the lower end of the per-asset market loadings, drawn
	// uniformly on [LoadingMin, 1]. Default 0.88; range [0, 1].
	LoadingMin float64 `toml:"loading_min"`
	// DriftDispersion is the standard deviation of the per-asset daily drift
	// offsets (alpha_i, daily log return), so that assets are not clones.
	// Default 0.0005; range [0, 0.05].
	DriftDispersion float64 `toml:"drift_dispersion"`

	// RangeScale multiplies the diffusive volatility used to draw each bar's
	// high and low from the Brownian-bridge extremes; 1 is a pure diffusion,
	// larger values give the longer wicks of real crypto bars. For a pure
	// diffusion the Parkinson over close-to-close volatility ratio is about
	// 1.01 at 1, 1.11 at 1.15 and 1.22 at 1.3 (real daily data: 1.08).
	// Default 1.15; range [0.5, 3].
	RangeScale float64 `toml:"range_scale"`
	// VolumeUSD is the median daily quote-currency (dollar) volume of an
	// asset in a typical-volatility day. Default 5e7; range (0, 1e13].
	// Base-asset volume is dollar volume / close.
	VolumeUSD float64 `toml:"volume_usd"`
	// VolumeDispersion is the log-standard deviation of the assets' median
	// dollar volumes. Default 1; range [0, 5].
	VolumeDispersion float64 `toml:"volume_dispersion"`
	// VolumeVolElasticity is the elasticity of dollar volume to the bar's
	// volatility (a blend of the conditional and the realised move).
	// Default 1; range [0, 5].
	VolumeVolElasticity float64 `toml:"volume_vol_elasticity"`
	// VolumeNoise is the stationary standard deviation of the AR(1) log-volume
	// noise. Default 0.6; range [0, 3].
	VolumeNoise float64 `toml:"volume_noise"`
	// VolumePersistence is the daily AR(1) coefficient of the log-volume
	// noise. Default 0.9; range [0, 1).
	VolumePersistence float64 `toml:"volume_persistence"`
}

// Defaults returns the default configuration, calibrated against the real
// daily Binance data of 2017–2024 (see the package documentation for the
// stylized facts it reproduces and the measured numbers).
func Defaults() Config {
	return Config{
		Assets:   10,
		Bars:     2920,
		Interval: Day,
		Start:    time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC),
		Transition: [][]float64{
			// to: bull   bear   sideways crash
			{0.988, 0.003, 0.005, 0.004}, // from bull: ~83 days
			{0.003, 0.985, 0.006, 0.006}, // from bear: ~67 days
			{0.008, 0.004, 0.985, 0.003}, // from sideways: ~67 days
			{0.010, 0.070, 0.045, 0.875}, // from crash: ~8 days, mostly into bear or sideways
		},
		Drift:               []float64{0.008, -0.004, 0, -0.015},
		Volatility:          []float64{0.05, 0.065, 0.032, 0.13},
		Correlation:         []float64{0.72, 0.82, 0.60, 0.93},
		JumpIntensity:       []float64{0.04, 0.06, 0.02, 0.30},
		JumpMean:            []float64{0.02, -0.03, 0, -0.06},
		JumpVol:             0.08,
		IdioJumpIntensity:   0.005,
		IdioJumpMean:        0,
		IdioJumpVol:         0.10,
		GARCHAlpha:          0.14,
		GARCHBeta:           0.81,
		TailDOF:             3.5,
		VolDispersion:       0.2,
		LoadingMin:          0.88,
		DriftDispersion:     0.0005,
		RangeScale:          1.15,
		VolumeUSD:           5e7,
		VolumeDispersion:    1,
		VolumeVolElasticity: 1,
		VolumeNoise:         0.6,
		VolumePersistence:   0.9,
	}
}

// Validate reports the first invalid field, naming it by its TOML key.
func (c Config) Validate() error {
	switch {
	case c.Assets < 1 || c.Assets > 1000:
		return fmt.Errorf("synth: assets = %d, want 1..1000", c.Assets)
	case c.Bars < 2 || c.Bars > 10_000_000:
		return fmt.Errorf("synth: bars = %d, want 2..10000000", c.Bars)
	case c.Assets*c.Bars > 50_000_000:
		return fmt.Errorf("synth: assets×bars = %d exceeds 50000000", c.Assets*c.Bars)
	case c.Interval < time.Minute || c.Interval > 7*Day:
		return fmt.Errorf("synth: interval = %v, want 1m..168h", c.Interval)
	case c.Interval%time.Second != 0:
		return fmt.Errorf("synth: interval = %v is not a whole number of seconds", c.Interval)
	case c.Start.IsZero():
		return errors.New("synth: start is not set")
	case c.Start.Nanosecond() != 0:
		return fmt.Errorf("synth: start = %v is not a whole second", c.Start)
	}
	if len(c.Transition) != numRegimes {
		return fmt.Errorf("synth: transition has %d rows, want %d (bull, bear, sideways, crash)", len(c.Transition), numRegimes)
	}
	for r, row := range c.Transition {
		if len(row) != numRegimes {
			return fmt.Errorf("synth: transition row %d has %d entries, want %d", r, len(row), numRegimes)
		}
		var sum float64
		for _, p := range row {
			if !(p >= 0 && p <= 1) {
				return fmt.Errorf("synth: transition row %d: probability %v outside [0, 1]", r, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			return fmt.Errorf("synth: transition row %d sums to %v, want 1", r, sum)
		}
	}
	if !irreducible(c.Transition) {
		return errors.New("synth: transition chain is not irreducible (some regime cannot reach another)")
	}
	perRegime := []struct {
		key    string
		v      []float64
		lo, hi float64
		openLo bool // lo excluded
		openHi bool // hi excluded
	}{
		{"drift", c.Drift, -0.2, 0.2, false, false},
		{"volatility", c.Volatility, 0, 1, true, false},
		{"correlation", c.Correlation, 0, 1, false, true},
		{"jump_intensity", c.JumpIntensity, 0, 1, false, false},
		{"jump_mean", c.JumpMean, -1, 1, false, false},
	}
	for _, f := range perRegime {
		if len(f.v) != numRegimes {
			return fmt.Errorf("synth: %s has %d entries, want %d (bull, bear, sideways, crash)", f.key, len(f.v), numRegimes)
		}
		for r, x := range f.v {
			if err := checkRange(fmt.Sprintf("%s[%d]", f.key, r), x, f.lo, f.hi, f.openLo, f.openHi); err != nil {
				return err
			}
		}
	}
	scalars := []struct {
		key            string
		x, lo, hi      float64
		openLo, openHi bool
	}{
		{"jump_vol", c.JumpVol, 0, 1, false, false},
		{"idio_jump_intensity", c.IdioJumpIntensity, 0, 1, false, false},
		{"idio_jump_mean", c.IdioJumpMean, -1, 1, false, false},
		{"idio_jump_vol", c.IdioJumpVol, 0, 1, false, false},
		{"garch_alpha", c.GARCHAlpha, 0, 1, false, true},
		{"garch_beta", c.GARCHBeta, 0, 1, false, true},
		{"vol_dispersion", c.VolDispersion, 0, 2, false, false},
		{"loading_min", c.LoadingMin, 0, 1, false, false},
		{"drift_dispersion", c.DriftDispersion, 0, 0.05, false, false},
		{"range_scale", c.RangeScale, 0.5, 3, false, false},
		{"volume_usd", c.VolumeUSD, 0, 1e13, true, false},
		{"volume_dispersion", c.VolumeDispersion, 0, 5, false, false},
		{"volume_vol_elasticity", c.VolumeVolElasticity, 0, 5, false, false},
		{"volume_noise", c.VolumeNoise, 0, 3, false, false},
		{"volume_persistence", c.VolumePersistence, 0, 1, false, true},
	}
	for _, s := range scalars {
		if err := checkRange(s.key, s.x, s.lo, s.hi, s.openLo, s.openHi); err != nil {
			return err
		}
	}
	if c.GARCHAlpha+c.GARCHBeta >= 1 {
		return fmt.Errorf("synth: garch_alpha + garch_beta = %v, want < 1 (covariance stationarity)", c.GARCHAlpha+c.GARCHBeta)
	}
	if c.TailDOF != 0 && !(c.TailDOF > 2 && c.TailDOF <= 1000) {
		return fmt.Errorf("synth: tail_dof = %v, want 0 (Gaussian) or in (2, 1000]", c.TailDOF)
	}
	return nil
}

func checkRange(key string, x, lo, hi float64, openLo, openHi bool) error {
	ok := !math.IsNaN(x) && x >= lo && x <= hi && !(openLo && x == lo) && !(openHi && x == hi)
	if ok {
		return nil
	}
	l, h := "[", "]"
	if openLo {
		l = "("
	}
	if openHi {
		h = ")"
	}
	return fmt.Errorf("synth: %s = %v, want in %s%v, %v%s", key, x, l, lo, hi, h)
}

// irreducible reports whether every state of the chain reaches every other.
func irreducible(p [][]float64) bool {
	n := len(p)
	for from := 0; from < n; from++ {
		seen := make([]bool, n)
		seen[from] = true
		stack := []int{from}
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for to, q := range p[s] {
				if q > 0 && !seen[to] {
					seen[to] = true
					stack = append(stack, to)
				}
			}
		}
		for _, s := range seen {
			if !s {
				return false
			}
		}
	}
	return true
}

// numRegimes is the number of regimes the chain switches between.
const numRegimes = 4

// barParams are the daily parameters of a Config converted to its bar
// interval (see the package documentation, "Bar interval").
type barParams struct {
	dt            float64 // bar length in days
	trans         [numRegimes][numRegimes]float64
	stationary    [numRegimes]float64
	drift, vol    [numRegimes]float64
	corr          [numRegimes]float64
	jumpRate      [numRegimes]float64
	jumpLimit     [numRegimes]float64 // exp(−jumpRate) for the Poisson sampler
	jumpMean      [numRegimes]float64
	jumpVol       float64
	idioRate      float64
	idioLimit     float64 // exp(−idioRate)
	alpha, beta   float64 // GARCH per bar
	driftDisp     float64 // per-bar sd of asset drift offsets
	volumePersist float64
	typicalVol    float64 // stationary RMS of Volatility, per bar
}

// barTransition converts the daily transition matrix to a bar of dt days:
// the probability of staying becomes p_rr^dt (so expected durations in days
// are preserved), and the exit probability is split among the other regimes
// in the daily proportions p_rs/(1−p_rr).
func barTransition(daily [][]float64, dt float64) [numRegimes][numRegimes]float64 {
	var out [numRegimes][numRegimes]float64
	for r := range numRegimes {
		stay := daily[r][r]
		stayBar := math.Pow(stay, dt)
		out[r][r] = stayBar
		for s := range numRegimes {
			if s != r {
				out[r][s] = (1 - stayBar) * daily[r][s] / (1 - stay)
			}
		}
	}
	return out
}

func (c Config) barParams() barParams {
	dt := float64(c.Interval) / float64(Day)
	var b barParams
	b.dt = dt
	b.trans = barTransition(c.Transition, dt)
	b.stationary = stationary(b.trans)
	sq := math.Sqrt(dt)
	var meanVar float64
	for r := range numRegimes {
		b.drift[r] = c.Drift[r] * dt
		b.vol[r] = c.Volatility[r] * sq
		b.corr[r] = c.Correlation[r]
		b.jumpRate[r] = c.JumpIntensity[r] * dt
		b.jumpLimit[r] = math.Exp(-b.jumpRate[r])
		b.jumpMean[r] = c.JumpMean[r]
		meanVar += b.stationary[r] * b.vol[r] * b.vol[r]
	}
	b.typicalVol = math.Sqrt(meanVar)
	b.jumpVol = c.JumpVol
	b.idioRate = c.IdioJumpIntensity * dt
	b.idioLimit = math.Exp(-b.idioRate)
	// GARCH: keep the persistence half-life in days, α+β → (α+β)^dt. For
	// bars shorter than a day α → α·dt, so the bars of one day move h like
	// one daily bar fed with the day's mean squared shock (a realised
	// variance) rather than with every intraday shock at full weight, which
	// would give h far heavier tails than the daily model has. For bars
	// longer than a day the split α/(α+β) is kept.
	if psi := c.GARCHAlpha + c.GARCHBeta; psi > 0 {
		psiBar := math.Pow(psi, dt)
		if dt <= 1 {
			b.alpha = math.Min(c.GARCHAlpha*dt, psiBar)
		} else {
			b.alpha = c.GARCHAlpha * psiBar / psi
		}
		b.beta = psiBar - b.alpha
	}
	b.driftDisp = c.DriftDispersion * dt
	b.volumePersist = math.Pow(c.VolumePersistence, dt)
	return b
}

// Stationary returns the stationary distribution of the regime chain at the
// configured bar interval, in the order bull, bear, sideways, crash. It is
// the distribution of the first bar's regime and the long-run share of bars
// in each regime. c must be valid.
func (c Config) Stationary() ([]float64, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pi := c.barParams().stationary
	return pi[:], nil
}

// stationary solves π P = π, Σπ = 1 for an irreducible chain by replacing
// one equation of (Pᵀ − I)π = 0 with the normalisation.
func stationary(p [numRegimes][numRegimes]float64) [numRegimes]float64 {
	a := mat.NewDense(numRegimes, numRegimes, nil)
	for i := range numRegimes {
		for j := range numRegimes {
			v := p[j][i]
			if i == j {
				v--
			}
			a.Set(i, j, v)
		}
	}
	b := mat.NewVecDense(numRegimes, nil)
	for j := range numRegimes {
		a.Set(numRegimes-1, j, 1)
	}
	b.SetVec(numRegimes-1, 1)
	var x mat.VecDense
	if err := x.SolveVec(a, b); err != nil {
		// An irreducible chain has a unique stationary distribution, so the
		// system is non-singular (Validate guarantees irreducibility). A
		// mat.Condition error only warns of ill-conditioning, e.g. for
		// minute bars whose exit probabilities are ~1e-5; x is still the
		// solution.
		var cond mat.Condition
		if !errors.As(err, &cond) {
			panic("synth: stationary distribution of a validated chain: " + err.Error())
		}
	}
	var pi [numRegimes]float64
	var sum float64
	for i := range pi {
		pi[i] = math.Max(x.AtVec(i), 0)
		sum += pi[i]
	}
	for i := range pi {
		pi[i] /= sum
	}
	return pi
}
