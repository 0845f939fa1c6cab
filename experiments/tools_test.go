package experiments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats/scalar"

	"github.com/folio-rl/folio/internal/testrng"
	"github.com/folio-rl/folio/vol"
)

// toolsBars are crafted bars: open times and closes (open = previous close,
// high and low bracket both, volume 1).
type toolsBars struct {
	times  []time.Time
	closes []float64
}

// randomWalkBars draws n bars spaced by step from t0, with log returns of
// standard deviation sd.
func randomWalkBars(rng *rand.Rand, t0 time.Time, step time.Duration, n int, sd float64) toolsBars {
	b := toolsBars{times: make([]time.Time, n), closes: make([]float64, n)}
	p := 100.0
	for k := range n {
		p *= math.Exp(sd * rng.NormFloat64())
		b.times[k], b.closes[k] = t0.Add(time.Duration(k)*step), p
	}
	return b
}

// writeToolsCSV writes bars as a folio CSV. Prices are written with
// strconv's shortest representation, so the file reads back bit for bit.
func writeToolsCSV(t *testing.T, path string, b toolsBars) {
	t.Helper()
	var s strings.Builder
	s.WriteString("timestamp,open,high,low,close,volume\n")
	for k, c := range b.closes {
		o := c
		if k > 0 {
			o = b.closes[k-1]
		}
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		fmt.Fprintf(&s, "%s,%s,%s,%s,%s,1\n", b.times[k].UTC().Format(time.RFC3339), f(o), f(math.Max(o, c)*1.001), f(math.Min(o, c)*0.999), f(c))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func describeJSON(t *testing.T, paths ...string) []AssetDescription {
	t.Helper()
	var out bytes.Buffer
	if err := DataDescribe(DataOptions{Paths: paths, JSON: true, Stdout: &out, Stderr: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	var d struct{ Assets []AssetDescription }
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return d.Assets
}

func TestDataValidateInterval(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "HOURLY.csv")
	writeToolsCSV(t, path, randomWalkBars(testrng.New(t, 1), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Hour, 48, 0.01))

	var out bytes.Buffer
	err := DataValidate(DataOptions{Paths: []string{path}, Interval: "1d", Stdout: &out})
	if !errors.Is(err, ErrInvalidData) {
		t.Fatalf("--interval 1d on hourly bars: err %v, want ErrInvalidData\n%s", err, out.String())
	}
	for _, want := range []string{"HOURLY.csv", "does not match", "fix: set the interval to 1h"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--interval 1d: output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := DataValidate(DataOptions{Paths: []string{path}, Interval: "1h", Stdout: &out}); err != nil {
		t.Errorf("--interval 1h on hourly bars: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := DataValidate(DataOptions{Paths: []string{path}, Stdout: &out}); err != nil {
		t.Errorf("no --interval: %v\n%s", err, out.String())
	}
	for _, bad := range []string{"hourly", "1500ms"} {
		err := DataValidate(DataOptions{Paths: []string{path}, Interval: bad, Stdout: &out})
		if !IsUsageError(err) || !strings.Contains(err.Error(), "--interval") {
			t.Errorf("--interval %s: err %v, want a usage error naming --interval", bad, err)
		}
	}
}

// TestDataDescribeJoinsFilesOfOneAsset checks that describe joins the files
// of one asset (same asset name) like market.Load, and keeps other assets
// apart.
func TestDataDescribeJoinsFilesOfOneAsset(t *testing.T) {
	rng := testrng.New(t, 2)
	day := 24 * time.Hour
	all := randomWalkBars(rng, time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC), day, 92, 0.03) // 2023-11-01 .. 2024-01-31
	split := 61                                                                             // 2024-01-01
	part := func(b toolsBars, from, to int) toolsBars { return toolsBars{b.times[from:to], b.closes[from:to]} }

	t.Run("two directories", func(t *testing.T) {
		dir := t.TempDir()
		writeToolsCSV(t, filepath.Join(dir, "2023", "BTC.csv"), part(all, 0, split))
		writeToolsCSV(t, filepath.Join(dir, "2024", "BTC.csv"), part(all, split, len(all.times)))
		writeToolsCSV(t, filepath.Join(dir, "2024", "ETH.csv"), part(all, split, len(all.times)))
		got := describeJSON(t, filepath.Join(dir, "2024"), filepath.Join(dir, "2023")) // newer first: joining sorts by time
		if len(got) != 2 || got[0].Name != "BTC" || got[1].Name != "ETH" {
			t.Fatalf("assets %+v, want BTC (joined) and ETH", got)
		}
		btc := got[0]
		if btc.Bars != 92 || len(btc.Files) != 2 || btc.First != "2023-11-01T00:00:00Z" || btc.Last != "2024-01-31T00:00:00Z" || btc.Gaps != 0 || btc.Returns != 91 {
			t.Errorf("BTC: %d bars from %d files, %s .. %s, %d gaps, %d returns; want 92 bars from 2 files, 2023-11-01 .. 2024-01-31, 0 gaps, 91 returns",
				btc.Bars, len(btc.Files), btc.First, btc.Last, btc.Gaps, btc.Returns)
		}
		// The joined series describes like the whole series in one file.
		one := t.TempDir()
		writeToolsCSV(t, filepath.Join(one, "BTC.csv"), all)
		whole := describeJSON(t, one)[0]
		const tol = 1e-12 // same bars, same arithmetic
		if !scalar.EqualWithinAbsOrRel(btc.AnnVol, whole.AnnVol, tol, tol) || !scalar.EqualWithinAbsOrRel(btc.ExcessKurtosis, whole.ExcessKurtosis, tol, tol) ||
			btc.GARCH == nil || whole.GARCH == nil || !scalar.EqualWithinAbsOrRel(btc.GARCH.Beta, whole.GARCH.Beta, tol, tol) {
			t.Errorf("joined BTC %+v differs from the single-file BTC %+v", btc, whole)
		}
	})

	t.Run("binance monthly set", func(t *testing.T) {
		dir := t.TempDir()
		writeToolsCSV(t, filepath.Join(dir, "BTCUSDT-1d-2023-12.csv"), part(all, 30, split))
		writeToolsCSV(t, filepath.Join(dir, "BTCUSDT-1d-2024-01.csv"), part(all, split, len(all.times)))
		got := describeJSON(t, dir)
		if len(got) != 1 || got[0].Name != "BTCUSDT" || got[0].Bars != 62 || got[0].First != "2023-12-01T00:00:00Z" || got[0].Last != "2024-01-31T00:00:00Z" {
			t.Fatalf("describe of a monthly set: %+v, want one asset BTCUSDT of 62 bars 2023-12-01 .. 2024-01-31", got)
		}
	})

	t.Run("overlap is an error", func(t *testing.T) {
		dir := t.TempDir()
		writeToolsCSV(t, filepath.Join(dir, "a", "BTC.csv"), part(all, 0, split+1))
		writeToolsCSV(t, filepath.Join(dir, "b", "BTC.csv"), part(all, split, len(all.times)))
		err := DataDescribe(DataOptions{Paths: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
		if err == nil || !strings.Contains(err.Error(), "overlaps") || !strings.Contains(err.Error(), filepath.Join("b", "BTC.csv")) {
			t.Errorf("overlapping files: err %v, want an overlap error naming b/BTC.csv", err)
		}
	})
}

// TestDescribeGARCHExcludesGapReturns checks that the GARCH fit of describe
// uses only returns between consecutive bars: it must equal a fit of the
// returns computed here from the closes with the gap-spanning return left
// out, and differ from a fit that keeps it.
func TestDescribeGARCHExcludesGapReturns(t *testing.T) {
	rng := testrng.New(t, 3)
	b := randomWalkBars(rng, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, 600, 0.03)
	// Remove 7 bars after bar 299 and make the price jump across the gap,
	// so the spanning return is large and its presence would show.
	gapAt, missing := 300, 7
	b.times = append(b.times[:gapAt], b.times[gapAt+missing:]...)
	b.closes = append(b.closes[:gapAt], b.closes[gapAt+missing:]...)
	for k := gapAt; k < len(b.closes); k++ {
		b.closes[k] *= 1.4
	}
	dir := t.TempDir()
	writeToolsCSV(t, filepath.Join(dir, "GAPPY.csv"), b)

	d := describeJSON(t, dir)[0]
	n := len(b.closes)
	if d.Gaps != 1 || d.GapReturnsExcluded != 1 || d.Returns != n-2 {
		t.Fatalf("gaps %d, gap returns excluded %d, returns %d; want 1, 1, %d", d.Gaps, d.GapReturnsExcluded, d.Returns, n-2)
	}
	if d.GARCH == nil {
		t.Fatalf("no GARCH fit: %s", d.GARCHError)
	}
	var kept, all []float64
	for k := 1; k < n; k++ {
		r := 100 * (b.closes[k]/b.closes[k-1] - 1)
		all = append(all, r)
		if k != gapAt {
			kept = append(kept, r)
		}
	}
	want, err := vol.FitGARCH(kept, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same returns reach the same deterministic fit; the tolerance
	// only allows for the JSON round trip (shortest representation, exact).
	const tol = 1e-12
	got := []float64{d.GARCH.Mu, d.GARCH.Omega, d.GARCH.Alpha, d.GARCH.Beta, d.GARCH.LogLik}
	exp := []float64{want.Params.Mu, want.Params.Omega, want.Params.Alpha, want.Params.Beta, want.LogLikelihood}
	for i := range got {
		if !scalar.EqualWithinAbsOrRel(got[i], exp[i], tol, tol) {
			t.Errorf("GARCH parameter %d: describe %v, direct fit of the one-bar returns %v", i, got[i], exp[i])
		}
	}
	if d.GARCH.NObs != n-2 {
		t.Errorf("GARCH fitted %d returns, want %d", d.GARCH.NObs, n-2)
	}
	with, err := vol.FitGARCH(all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if scalar.EqualWithinAbsOrRel(with.Params.Omega, d.GARCH.Omega, 1e-6, 1e-6) && scalar.EqualWithinAbsOrRel(with.LogLikelihood, d.GARCH.LogLik, 1e-6, 1e-6) {
		t.Errorf("the fit with the 40%% gap return (ω %v, ℓ %v) equals describe's (ω %v, ℓ %v): the test cannot tell them apart",
			with.Params.Omega, with.LogLikelihood, d.GARCH.Omega, d.GARCH.LogLik)
	}
	var text bytes.Buffer
	if err := DataDescribe(DataOptions{Paths: []string{dir}, Stdout: &text, Stderr: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	if w := fmt.Sprintf("GAPPY: 1 return(s) spanning a gap excluded from ann.vol, skew, ex.kurt and GARCH (%d one-bar returns used)", n-2); !strings.Contains(text.String(), w) {
		t.Errorf("describe text lacks %q:\n%s", w, text.String())
	}
}

// writeReturnsCSV writes a T×N matrix of returns with a header.
func writeReturnsCSV(t *testing.T, path string, names []string, r [][]float64) {
	t.Helper()
	var s strings.Builder
	s.WriteString(strings.Join(names, ",") + "\n")
	for _, row := range r {
		for j, v := range row {
			if j > 0 {
				s.WriteByte(',')
			}
			s.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		s.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// factorReturns draws T returns of N assets with one common factor and
// different volatilities: a well-conditioned covariance.
func factorReturns(rng *rand.Rand, T, n int) [][]float64 {
	r := make([][]float64, T)
	for t := range r {
		m := 0.01 * rng.NormFloat64()
		r[t] = make([]float64, n)
		for i := range n {
			sd := 0.01 * float64(i+1)
			r[t][i] = 0.0005*float64(i) + 0.6*m + sd*rng.NormFloat64()
		}
	}
	return r
}

// sampleCov is the 1/(T−1) sample covariance, written out.
func sampleCov(r [][]float64) [][]float64 {
	T, n := len(r), len(r[0])
	mean := make([]float64, n)
	for _, row := range r {
		for i, v := range row {
			mean[i] += v / float64(T)
		}
	}
	c := make([][]float64, n)
	for i := range c {
		c[i] = make([]float64, n)
		for j := range c[i] {
			for _, row := range r {
				c[i][j] += (row[i] - mean[i]) * (row[j] - mean[j])
			}
			c[i][j] /= float64(T - 1)
		}
	}
	return c
}

// TestOptimizeRiskBudgetResidual checks that risk-parity and risk-budget
// report the solver's risk-contribution residual (not 0), that it is tiny
// for a well-conditioned problem, and that it matches max_i |RC_i − b_i|
// recomputed here from the returned weights and the sample covariance.
func TestOptimizeRiskBudgetResidual(t *testing.T) {
	rng := testrng.New(t, 4)
	names := []string{"A", "B", "C", "D"}
	r := factorReturns(rng, 400, len(names))
	path := filepath.Join(t.TempDir(), "r.csv")
	writeReturnsCSV(t, path, names, r)
	cov := sampleCov(r)
	for _, c := range []struct {
		method, budgets string
		b               []float64
	}{
		{"risk-parity", "", []float64{0.25, 0.25, 0.25, 0.25}},
		{"risk-budget", "1,2,3,4", []float64{0.1, 0.2, 0.3, 0.4}},
	} {
		res, err := Optimize(OptimizeOptions{Returns: path, Method: c.method, Budgets: c.budgets, Cov: "sample", MaxWeight: 1, Lambda: 10})
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if res.ResidualKind != ResidualRiskContribution || res.KKTResidual == nil {
			t.Fatalf("%s: residual kind %q, residual %v", c.method, res.ResidualKind, res.KKTResidual)
		}
		got := *res.KKTResidual
		// The solver stops at RC error ≤ 1e-10 (optim's default tolerance).
		if !(got > 0 && got < 1e-8) {
			t.Errorf("%s: residual %v, want in (0, 1e-8)", c.method, got)
		}
		w := res.Weights
		sw := make([]float64, len(w))
		v := 0.0
		for i := range w {
			for j := range w {
				sw[i] += cov[i][j] * w[j]
			}
			v += w[i] * sw[i]
		}
		e := 0.0
		for i := range w {
			e = math.Max(e, math.Abs(w[i]*sw[i]/v-c.b[i]))
		}
		// Both are max|RC − b| at the same point (the solver's y and w = y/Σy
		// have the same contributions); they differ by the rounding of two
		// O(N²) sums over a covariance with entries ~1e-4, far below 1e-13.
		const tol = 1e-13
		if math.Abs(e-got) > tol {
			t.Errorf("%s: reported residual %v, recomputed max|RC−b| %v (|Δ| %v > %v)", c.method, got, e, math.Abs(e-got), tol)
		}
	}
	// Methods that solve nothing report null, QPs their KKT residual.
	for m, kind := range map[string]string{"equal-weight": ResidualNone, "inverse-vol": ResidualNone, "hrp": ResidualNone, "min-variance": ResidualQPKKT, "max-sharpe": ResidualQPKKT} {
		res, err := Optimize(OptimizeOptions{Returns: path, Method: m, Cov: "sample", MaxWeight: 1, Lambda: 10})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if res.ResidualKind != kind || (kind == ResidualNone) != (res.KKTResidual == nil) {
			t.Errorf("%s: residual kind %q (residual %v), want %q", m, res.ResidualKind, res.KKTResidual, kind)
		}
		if kind == ResidualQPKKT && !(*res.KKTResidual < 1e-8) {
			t.Errorf("%s: KKT residual %v", m, *res.KKTResidual)
		}
	}
}

// TestOptimizeMeanAndRiskFree checks the wiring of --mean and --risk-free
// against independent computations.
func TestOptimizeMeanAndRiskFree(t *testing.T) {
	rng := testrng.New(t, 5)
	names := []string{"A", "B", "C", "D", "E"}
	r := factorReturns(rng, 300, len(names))
	path := filepath.Join(t.TempDir(), "r.csv")
	writeReturnsCSV(t, path, names, r)
	base := OptimizeOptions{Returns: path, Cov: "sample", MaxWeight: 1, Lambda: 10}

	// James–Stein (Efron–Morris, positive part) written out:
	// μᵢ = m̄ + (1 − c)(x̄ᵢ − m̄), c = min(1, (N−3)·σ̄²/T / Σ(x̄ᵢ − m̄)²).
	T, n := float64(len(r)), len(names)
	xbar := make([]float64, n)
	for _, row := range r {
		for i, v := range row {
			xbar[i] += v / T
		}
	}
	cov := sampleCov(r)
	mbar, s2, disp := 0.0, 0.0, 0.0
	for i := range n {
		mbar += xbar[i] / float64(n)
		s2 += cov[i][i] / float64(n)
	}
	for i := range n {
		disp += (xbar[i] - mbar) * (xbar[i] - mbar)
	}
	c := math.Min(1, float64(n-3)*s2/T/disp)
	o := base
	o.Method, o.Mean = "inverse-vol", "james-stein"
	js, err := Optimize(o)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for i, w := range js.Weights {
		want += w * (mbar + (1-c)*(xbar[i]-mbar))
	}
	const tol = 1e-13 // sums of a few hundred terms of size 1e-2
	if !scalar.EqualWithinAbsOrRel(js.ExpectedReturn, want, tol, 1e-9) {
		t.Errorf("james-stein expected return %v, want %v (shrinkage %v)", js.ExpectedReturn, want, c)
	}
	o.Mean = "sample"
	sm, err := Optimize(o)
	if err != nil {
		t.Fatal(err)
	}
	if sm.ExpectedReturn == js.ExpectedReturn || c == 0 {
		t.Errorf("--mean james-stein and sample give the same expected return %v (shrinkage %v)", sm.ExpectedReturn, c)
	}

	// The tangency portfolio for rf maximises the Sharpe ratio at rf: each
	// of the two results must beat the other at its own rate.
	sharpe := func(w []float64, rf float64) float64 {
		m, v := 0.0, 0.0
		for i := range w {
			m += w[i] * (xbar[i] - rf)
			for j := range w {
				v += w[i] * cov[i][j] * w[j]
			}
		}
		return m / math.Sqrt(v)
	}
	o = base
	o.Method = "max-sharpe"
	w0, err := Optimize(o)
	if err != nil {
		t.Fatal(err)
	}
	o.RiskFree = 0.001
	w1, err := Optimize(o)
	if err != nil {
		t.Fatal(err)
	}
	if w0.Fallback != nil || w1.Fallback != nil {
		t.Fatalf("max-sharpe fell back: %v %v", w0.Fallback, w1.Fallback)
	}
	moved := 0.0
	for i := range w0.Weights {
		moved = math.Max(moved, math.Abs(w0.Weights[i]-w1.Weights[i]))
	}
	if moved < 1e-6 {
		t.Errorf("--risk-free 0.001 did not move the tangency portfolio (max |Δw| %v): %v", moved, w0.Weights)
	}
	const slack = 1e-9 // QP solved to KKT residuals ~1e-12; Sharpe ratios ~0.1
	if sharpe(w1.Weights, 0.001) < sharpe(w0.Weights, 0.001)-slack || sharpe(w0.Weights, 0) < sharpe(w1.Weights, 0)-slack {
		t.Errorf("Sharpe at rf 0.001: rf-0.001 weights %v, rf-0 weights %v; at rf 0: %v, %v",
			sharpe(w1.Weights, 0.001), sharpe(w0.Weights, 0.001), sharpe(w1.Weights, 0), sharpe(w0.Weights, 0))
	}

	for _, bad := range []OptimizeOptions{
		{Method: "max-sharpe", Cov: "sample", Mean: "ewma", MaxWeight: 1, Lambda: 10},
		{Method: "max-sharpe", Cov: "sample", RiskFree: math.NaN(), MaxWeight: 1, Lambda: 10},
		{Method: "max-sharpe", Cov: "shrunk", MaxWeight: 1, Lambda: 10},
		{Method: "risk-party", Cov: "sample", MaxWeight: 1, Lambda: 10},
	} {
		bad.Returns = path
		if _, err := Optimize(bad); !IsUsageError(err) {
			t.Errorf("%+v: err %v, want a usage error", bad, err)
		}
	}
}

// TestParseRangeDates: a date-only end is the last second of its UTC day, a
// date-only start its first; RFC3339 times are exact at either end
// (hand-computed).
func TestParseRangeDates(t *testing.T) {
	day := time.Date(2018, 10, 17, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in         string
		start, end time.Time
	}{
		{"", time.Time{}, time.Time{}},
		{"2018-10-17", day, day.Add(24*time.Hour - time.Second)},
		{" 2018-10-17 ", day, day.Add(24*time.Hour - time.Second)},
		{"2018-10-17T00:00:00Z", day, day},
		{"2018-10-17T13:00:00Z", day.Add(13 * time.Hour), day.Add(13 * time.Hour)},
		{"2018-10-17T02:00:00+02:00", day, day},
	} {
		s, err := parseStart(c.in)
		if err != nil || !s.Equal(c.start) {
			t.Errorf("parseStart(%q) = %v, %v; want %v", c.in, s, err, c.start)
		}
		e, err := parseEnd(c.in)
		if err != nil || !e.Equal(c.end) {
			t.Errorf("parseEnd(%q) = %v, %v; want %v", c.in, e, err, c.end)
		}
	}
	if _, err := parseEnd("17/10/2018"); err == nil {
		t.Error("parseEnd accepted 17/10/2018")
	}
}

// hourlyExperiment writes two hourly assets over 2018-10-01 .. 2018-11-09
// and returns the experiment source that loads them.
func hourlyExperiment(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t0 := time.Date(2018, 10, 1, 0, 0, 0, 0, time.UTC)
	rng := testrng.New(t, 41)
	for _, a := range []string{"AAA", "BBB"} {
		writeToolsCSV(t, filepath.Join(dir, a+".csv"), randomWalkBars(rng, t0, time.Hour, 40*24, 0.01))
	}
	return fmt.Sprintf("[experiment]\nseed = 1\n[data]\nsource = \"files\"\npaths = [%q]\nregimes = \"none\"\n", dir)
}

// TestDataEndDateIncludesDay: data.end = "2018-10-20" on hourly files keeps
// every bar of 20 October (the last one opens at 23:00), a date-only
// data.start begins at 00:00, and RFC3339 bounds are exact.
func TestDataEndDateIncludesDay(t *testing.T) {
	src := hourlyExperiment(t)
	for _, c := range []struct {
		sets        []string
		first, last string
		bars        int
	}{
		{[]string{"data.start=2018-10-05", "data.end=2018-10-20"}, "2018-10-05T00:00:00Z", "2018-10-20T23:00:00Z", 16 * 24},
		{[]string{"data.end=2018-10-20"}, "2018-10-01T00:00:00Z", "2018-10-20T23:00:00Z", 20 * 24},
		{[]string{"data.start=2018-10-05T06:00:00Z", "data.end=2018-10-20T05:00:00Z"}, "2018-10-05T06:00:00Z", "2018-10-20T05:00:00Z", 15 * 24},
	} {
		c0, err := Parse("hourly.toml", []byte(src), c.sets)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := loadData(c0, func(_, bars int) int { return bars })
		if err != nil {
			t.Fatalf("%v: %v", c.sets, err)
		}
		p := ds.panel
		if got0, got1 := p.Time(0).Format(time.RFC3339), p.Time(p.T()-1).Format(time.RFC3339); p.T() != c.bars || got0 != c.first || got1 != c.last {
			t.Errorf("%v: %d bars %s – %s, want %d bars %s – %s", c.sets, p.T(), got0, got1, c.bars, c.first, c.last)
		}
	}
}

// TestIntervalMismatchNamesKey: an interval that does not match the files
// is reported against data.interval (from --set here), with both intervals
// written as the config writes them ("1d", not "24h") and the fix in TOML.
func TestIntervalMismatchNamesKey(t *testing.T) {
	src := hourlyExperiment(t)
	c, err := Parse("hourly.toml", []byte(src), []string{"data.interval=1d"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = loadData(c, func(_, bars int) int { return bars })
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *ConfigError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"--set", "key data.interval", `"1d" does not match the data`, "AAA.csv has a bar every 1h", `set data.interval = "1h", or "" to infer it`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "24h") || strings.Contains(msg, "to 0") {
		t.Errorf("error %q writes the interval or the fix in Go terms", msg)
	}
	// The same key in the file is reported against the file.
	c, err = Parse("hourly.toml", []byte(strings.Replace(src, "[data]\n", "[data]\ninterval = \"4h\"\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = loadData(c, func(_, bars int) int { return bars })
	if err == nil || !strings.HasPrefix(err.Error(), "hourly.toml") || !strings.Contains(err.Error(), `"4h" does not match`) {
		t.Errorf("interval in the file: error %v, want it located in hourly.toml", err)
	}
}

// TestBudgetCapInfeasible checks that budgets and a cap no portfolio can
// meet are a usage error up front (they used to fall back on every bar).
func TestBudgetCapInfeasible(t *testing.T) {
	if err := checkBudgetCap([]float64{1, 0, 0}, 0.5); err == nil || !IsUsageError(err) || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("one budget, cap 0.5: %v", err)
	}
	if err := checkBudgetCap([]float64{1, 1, 0}, 0.5); err != nil {
		t.Errorf("two budgets, cap 0.5: %v", err)
	}
	if err := checkBudgetCap([]float64{1, 1, 1}, 0.3); err == nil {
		t.Error("three budgets, cap 0.3: accepted")
	}
}
