package synth

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/internal/seed"
)

func mustGenerate(t testing.TB, c Config, root uint64) (*market.Panel, []market.Regime) {
	t.Helper()
	p, reg, err := Generate(c, root)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return p, reg
}

func small() Config {
	c := Defaults()
	c.Assets, c.Bars = 5, 400
	return c
}

func TestGenerateDeterministic(t *testing.T) {
	c := small()
	p1, r1 := mustGenerate(t, c, 42)
	p2, r2 := mustGenerate(t, c, 42)
	if p1.Fingerprint() != p2.Fingerprint() {
		t.Fatalf("same seed, different fingerprints %s vs %s", p1.Fingerprint(), p2.Fingerprint())
	}
	for k := range r1 {
		if r1[k] != r2[k] {
			t.Fatalf("same seed, regimes differ at bar %d", k)
		}
	}
	p3, r3 := mustGenerate(t, c, 43)
	if p3.Fingerprint() == p1.Fingerprint() {
		t.Fatal("seeds 42 and 43 give the same panel")
	}
	var diffReg int
	for k := range r1 {
		if r1[k] != r3[k] {
			diffReg++
		}
	}
	var diffClose int
	for k := 0; k < p1.T(); k++ {
		for i := 0; i < p1.N(); i++ {
			if p1.Close(k, i) != p3.Close(k, i) {
				diffClose++
			}
		}
	}
	// Independent streams: essentially every close differs.
	if diffClose < p1.T()*p1.N()*99/100 {
		t.Errorf("seeds 42 and 43 share %d of %d closes", p1.T()*p1.N()-diffClose, p1.T()*p1.N())
	}
	if diffReg == 0 {
		t.Error("seeds 42 and 43 give the same regime path")
	}
}

// TestGenerateStreams checks the stream layout documented on Generate:
// extending Bars keeps earlier bars, and asset i does not depend on how many
// assets are generated.
func TestGenerateStreams(t *testing.T) {
	c := small()
	long := c
	long.Bars = 2 * c.Bars
	wide := c
	wide.Assets = c.Assets + 3
	p, reg := mustGenerate(t, c, 7)
	pl, regl := mustGenerate(t, long, 7)
	pw, regw := mustGenerate(t, wide, 7)
	for k := 0; k < p.T(); k++ {
		if reg[k] != regl[k] || reg[k] != regw[k] {
			t.Fatalf("bar %d: regime differs across Bars/Assets", k)
		}
		for i := 0; i < p.N(); i++ {
			for _, q := range []*market.Panel{pl, pw} {
				if p.Open(k, i) != q.Open(k, i) || p.High(k, i) != q.High(k, i) || p.Low(k, i) != q.Low(k, i) ||
					p.Close(k, i) != q.Close(k, i) || p.Volume(k, i) != q.Volume(k, i) {
					t.Fatalf("bar %d asset %d differs when Bars or Assets change", k, i)
				}
			}
		}
	}
}

func TestGeneratePanelShape(t *testing.T) {
	c := small()
	c.Assets = 12
	c.Interval = 4 * time.Hour
	c.Start = time.Date(2020, 3, 1, 4, 0, 0, 0, time.UTC)
	p, reg := mustGenerate(t, c, 1)
	if p.T() != c.Bars || p.N() != c.Assets || len(reg) != c.Bars {
		t.Fatalf("shape %d×%d, %d regimes; want %d×%d", p.T(), p.N(), len(reg), c.Bars, c.Assets)
	}
	if p.Asset(0) != "SYN01" || p.Asset(11) != "SYN12" {
		t.Errorf("asset names %v", p.Assets())
	}
	if !p.Time(0).Equal(c.Start) || !p.Time(1).Equal(c.Start.Add(4*time.Hour)) || p.Interval() != 4*time.Hour {
		t.Errorf("times %v, %v, interval %v", p.Time(0), p.Time(1), p.Interval())
	}
	for _, r := range reg {
		if r < market.Bull || r > market.Crash {
			t.Fatalf("regime %v is not a labelled regime", r)
		}
	}
	c.Assets = 100
	c.Bars = 2
	p, _ = mustGenerate(t, c, 1)
	if p.Asset(0) != "SYN001" || p.Asset(99) != "SYN100" {
		t.Errorf("100 assets named %s..%s, want SYN001..SYN100", p.Asset(0), p.Asset(99))
	}
}

// TestGenerateOHLC checks bar consistency on a long sample: open equals the
// previous close, high ≥ max(open, close), low ≤ min(open, close), volume
// positive; and that the intrabar range is right for the volatility: for a
// pure diffusion (no jumps, Gaussian, no GARCH, RangeScale 1) Parkinson's
// estimator √(E[ln²(H/L)]/(4 ln 2)) equals the close-to-close volatility
// (Parkinson 1980, closed form). Drawing the two extremes independently
// rather than jointly raises E[ln²(H/L)] by 2.8 % (a separate Monte Carlo
// of 2·10⁶ bridges against 1,000-step paths), so the ratio is 1.014; we
// allow ±0.02, about 8 standard errors at n = 40,000.
func TestGenerateOHLC(t *testing.T) {
	c := Defaults()
	c.Assets, c.Bars = 4, 5000
	p, _ := mustGenerate(t, c, 3)
	for k := 0; k < p.T(); k++ {
		for i := 0; i < p.N(); i++ {
			o, h, l, cl, v := p.Open(k, i), p.High(k, i), p.Low(k, i), p.Close(k, i), p.Volume(k, i)
			if k > 0 && o != p.Close(k-1, i) {
				t.Fatalf("bar %d asset %d: open %v != previous close %v", k, i, o, p.Close(k-1, i))
			}
			if h < math.Max(o, cl) || l > math.Min(o, cl) || l <= 0 || !(v > 0) {
				t.Fatalf("bar %d asset %d: o %v h %v l %v c %v v %v", k, i, o, h, l, cl, v)
			}
		}
	}

	d := Defaults()
	d.Assets, d.Bars = 1, 40000
	d.TailDOF, d.GARCHAlpha, d.GARCHBeta = 0, 0, 0
	d.JumpIntensity = []float64{0, 0, 0, 0}
	d.IdioJumpIntensity = 0
	d.Drift = []float64{0, 0, 0, 0}
	d.DriftDispersion = 0
	d.Volatility = []float64{0.03, 0.03, 0.03, 0.03}
	d.RangeScale = 1
	q, _ := mustGenerate(t, d, 4)
	var park, cc float64
	for k := 1; k < q.T(); k++ {
		hl := math.Log(q.High(k, 0) / q.Low(k, 0))
		park += hl * hl
		r := q.LogReturn(k, 0)
		cc += r * r
	}
	ratio := math.Sqrt(park / (4 * math.Ln2) / cc)
	if math.Abs(ratio-1.014) > 0.02 {
		t.Errorf("Parkinson/close-to-close ratio %.4f, want 1.014 ± 0.02", ratio)
	}
}

// theoreticalVariance is an independent computation of the variance of one
// bar's log return of asset a under c (in the stationary regime mix, with
// E[h] = 1): per regime the conditional mean and variance of drift +
// diffusion + compound-Poisson jumps, combined by the law of total variance.
func theoreticalVariance(c Config, a asset) float64 {
	dt := float64(c.Interval) / float64(Day)
	pi, _ := c.Stationary()
	bm := a.loading * a.volMult
	var m1, m2 float64
	for r := range numRegimes {
		lj := c.JumpIntensity[r] * dt
		li := c.IdioJumpIntensity * dt
		mean := c.Drift[r]*dt*bm + a.alpha + lj*bm*c.JumpMean[r] + li*a.volMult*c.IdioJumpMean
		v := c.Volatility[r]*c.Volatility[r]*dt*a.volMult*a.volMult +
			lj*bm*bm*(c.JumpMean[r]*c.JumpMean[r]+c.JumpVol*c.JumpVol) +
			li*a.volMult*a.volMult*(c.IdioJumpMean*c.IdioJumpMean+c.IdioJumpVol*c.IdioJumpVol)
		m1 += pi[r] * mean
		m2 += pi[r] * (v + mean*mean)
	}
	return m2 - m1*m1
}

// TestIntervalScaling generates the market on daily, 4-hour and hourly bars
// and compares each sample's annualised volatility with the theoretical
// one: variance, drift, jump rates and transition probabilities all scale
// with the bar length, so the three agree. Innovations are Gaussian here:
// with ν = 3.5 the sample variance has infinite variance and no finite
// tolerance would be honest.
func TestIntervalScaling(t *testing.T) {
	for _, tc := range []struct {
		iv   time.Duration
		bars int
	}{{Day, 20000}, {4 * time.Hour, 6 * 10000}, {time.Hour, 24 * 10000}} {
		c := Defaults()
		c.Assets, c.Bars, c.Interval = 1, tc.bars, tc.iv
		c.TailDOF = 0
		p, _ := mustGenerate(t, c, 8)
		a := newAsset(seed.New(8, seed.Synth, 1), c, c.barParams())
		want := math.Sqrt(theoreticalVariance(c, a) * p.BarsPerYear())
		r := make([]float64, p.T()-1)
		for k := range r {
			r[k] = p.LogReturn(k+1, 0)
		}
		_, sd := meanStd(r)
		got := sd * math.Sqrt(p.BarsPerYear())
		// Regime shares over 27–55 years vary by a few per cent (crash alone
		// carries ~20 % of the variance at a share of 3 % ± 1 %): ±10 %.
		// A wrong scaling (dt instead of √dt) is off by a factor ≥ 2.
		if math.Abs(got/want-1) > 0.1 {
			t.Errorf("interval %v: annualised vol %.3f, theory %.3f", tc.iv, got, want)
		}
		t.Logf("interval %v: annualised vol %.3f, theory %.3f", tc.iv, got, want)
	}
}

// TestBarParams checks the per-bar conversion of daily parameters.
func TestBarParams(t *testing.T) {
	c := Defaults()
	c.Interval = time.Hour
	b := c.barParams()
	dt := 1.0 / 24
	const tol = 1e-14 // a handful of float64 operations
	eq := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	for r := range numRegimes {
		eq("drift", b.drift[r], c.Drift[r]*dt)
		eq("vol", b.vol[r], c.Volatility[r]*math.Sqrt(dt))
		eq("jump rate", b.jumpRate[r], c.JumpIntensity[r]*dt)
		eq("stay", b.trans[r][r], math.Pow(c.Transition[r][r], dt))
		for s := range numRegimes {
			if s != r {
				// Exit split in the daily proportions.
				eq("exit split", b.trans[r][s]/(1-b.trans[r][r]), c.Transition[r][s]/(1-c.Transition[r][r]))
			}
		}
	}
	psi := c.GARCHAlpha + c.GARCHBeta
	eq("garch persistence", b.alpha+b.beta, math.Pow(psi, dt))
	eq("garch alpha", b.alpha, c.GARCHAlpha*dt)
	eq("volume persistence", b.volumePersist, math.Pow(c.VolumePersistence, dt))
	w := c
	w.Interval = 7 * Day
	bw := w.barParams()
	eq("weekly garch persistence", bw.alpha+bw.beta, math.Pow(psi, 7))
	eq("weekly garch split", bw.alpha/(bw.alpha+bw.beta), c.GARCHAlpha/psi)
	d := Defaults().barParams()
	eq("daily alpha", d.alpha, c.GARCHAlpha)
	eq("daily beta", d.beta, c.GARCHBeta)
}

func TestDefaultsValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("Defaults invalid: %v", err)
	}
	a, b := Defaults(), Defaults()
	a.Drift[0] = 1
	a.Transition[0][0] = 0
	if b.Drift[0] == 1 || b.Transition[0][0] == 0 {
		t.Fatal("Defaults shares slices between calls")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		key  string // the TOML key the message must name
	}{
		{"no assets", func(c *Config) { c.Assets = 0 }, "assets"},
		{"one bar", func(c *Config) { c.Bars = 1 }, "bars"},
		{"too large", func(c *Config) { c.Assets, c.Bars = 1000, 100000 }, "assets×bars"},
		{"short interval", func(c *Config) { c.Interval = time.Second }, "interval"},
		{"fractional interval", func(c *Config) { c.Interval = time.Hour + time.Millisecond }, "interval"},
		{"zero start", func(c *Config) { c.Start = time.Time{} }, "start"},
		{"three rows", func(c *Config) { c.Transition = c.Transition[:3] }, "transition"},
		{"short row", func(c *Config) { c.Transition[1] = c.Transition[1][:3] }, "transition row 1"},
		{"row sum", func(c *Config) { c.Transition[2][2] += 0.01 }, "transition row 2"},
		{"negative probability", func(c *Config) { c.Transition[0] = []float64{1.1, -0.1, 0, 0} }, "transition row 0"},
		{"absorbing", func(c *Config) { c.Transition[3] = []float64{0, 0, 0, 1} }, "irreducible"},
		{"drift length", func(c *Config) { c.Drift = c.Drift[:2] }, "drift"},
		{"zero vol", func(c *Config) { c.Volatility[1] = 0 }, "volatility[1]"},
		{"corr one", func(c *Config) { c.Correlation[3] = 1 }, "correlation[3]"},
		{"NaN jump", func(c *Config) { c.JumpMean[0] = math.NaN() }, "jump_mean[0]"},
		{"jump rate", func(c *Config) { c.JumpIntensity[3] = 2 }, "jump_intensity[3]"},
		{"jump vol", func(c *Config) { c.JumpVol = -1 }, "jump_vol"},
		{"idio rate", func(c *Config) { c.IdioJumpIntensity = 1.5 }, "idio_jump_intensity"},
		{"garch sum", func(c *Config) { c.GARCHAlpha, c.GARCHBeta = 0.3, 0.7 }, "garch_alpha + garch_beta"},
		{"garch neg", func(c *Config) { c.GARCHBeta = -0.1 }, "garch_beta"},
		{"dof", func(c *Config) { c.TailDOF = 2 }, "tail_dof"},
		{"vol dispersion", func(c *Config) { c.VolDispersion = 3 }, "vol_dispersion"},
		{"loading", func(c *Config) { c.LoadingMin = 1.2 }, "loading_min"},
		{"drift dispersion", func(c *Config) { c.DriftDispersion = 0.1 }, "drift_dispersion"},
		{"range", func(c *Config) { c.RangeScale = 0.1 }, "range_scale"},
		{"volume", func(c *Config) { c.VolumeUSD = 0 }, "volume_usd"},
		{"volume persistence", func(c *Config) { c.VolumePersistence = 1 }, "volume_persistence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %q", err, tc.key)
			}
			if _, _, gerr := Generate(c, 1); gerr == nil {
				t.Error("Generate accepted an invalid config")
			}
		})
	}
	c := Defaults()
	c.TailDOF = 0
	c.GARCHAlpha, c.GARCHBeta = 0, 0
	if err := c.Validate(); err != nil {
		t.Errorf("Gaussian, no-GARCH config rejected: %v", err)
	}
}

// TestStationary checks the linear-solve stationary distribution against
// an independent computation: the rows of P^(2^60), obtained by repeated
// squaring, all equal π for an irreducible aperiodic chain.
func TestStationary(t *testing.T) {
	for _, iv := range []time.Duration{Day, time.Hour, time.Minute, 7 * Day} {
		c := Defaults()
		c.Interval = iv
		got, err := c.Stationary()
		if err != nil {
			t.Fatal(err)
		}
		p := barTransition(c.Transition, float64(iv)/float64(Day))
		var sum float64
		for r := range p {
			var row float64
			for _, q := range p[r] {
				row += q
			}
			if math.Abs(row-1) > 1e-12 {
				t.Errorf("interval %v: bar transition row %d sums to %v", iv, r, row)
			}
		}
		m := p
		for range 60 {
			var sq [numRegimes][numRegimes]float64
			for i := range m {
				for j := range m {
					for k := range m {
						sq[i][j] += m[i][k] * m[k][j]
					}
				}
			}
			// Renormalise the rows: their sums drift by rounding, and
			// 60 squarings would amplify a drift of ε to (1+ε)^(2^60).
			for i := range sq {
				var row float64
				for _, q := range sq[i] {
					row += q
				}
				for j := range sq[i] {
					sq[i][j] /= row
				}
			}
			m = sq
		}
		pi := m[0][:]
		for k := range got {
			sum += got[k]
			// 60 squarings leave no convergence error; what remains is the
			// rounding of ~180 matrix products and of an LU solve whose
			// condition number reaches ~1e6 for minute bars: 1e-9.
			if math.Abs(got[k]-pi[k]) > 1e-9 {
				t.Errorf("interval %v: stationary[%d] = %.12f, matrix power %.12f", iv, k, got[k], pi[k])
			}
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("interval %v: stationary sums to %v", iv, sum)
		}
	}
	d, _ := Defaults().Stationary()
	if math.Abs(d[3]-0.0332) > 0.001 {
		t.Errorf("default crash share %.4f, documented ≈ 3 %%", d[3])
	}
}
