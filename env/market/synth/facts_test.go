package synth

import (
	"github.com/folio-rl/folio/env/market"
	"math"
	"slices"
	"sort"
	"testing"
	"time"
)

// Stylized facts of daily crypto returns, computed the same way on the real
// folio data and on synthetic panels. Returns are close-to-close log returns.
//
// Definitions (used for both samples):
//   - annualised volatility of asset i: sample std (n−1) of its daily log
//     returns × √365;
//   - excess kurtosis of asset i: m4/m2² − 3 with population central moments;
//   - ACF of |r| at lag k: Σ(a_t−ā)(a_{t+k}−ā)/Σ(a_t−ā)², a = |r|, averaged
//     over assets;
//   - average pairwise correlation: mean over pairs i<j of the Pearson
//     correlation of daily log returns on the common calendar;
//   - stress correlation: the same average computed only over the worst
//     decile of days of the equal-weight index (mean log return across
//     assets), against the same average over the other 90 % of days;
//   - drawdown correlation: the same average computed only over the days
//     that start with the equal-weight index in a drawdown deeper than
//     drawdownDepth (see computeDrawdownCorr), against the same average
//     over the other days;
//   - range ratio of asset i: Parkinson volatility √(mean(ln(H/L)²)/(4 ln 2))
//     over close-to-close volatility (std of r);
//   - volume–volatility correlation of asset i: Pearson correlation of
//     log dollar volume, detrended by its trailing 30-bar mean, with |r|.
type stylizedFacts struct {
	volMin, volMed, volMax float64 // annualised, across assets
	kurtMed                float64 // median across assets
	acfAbs                 [10]float64
	corr                   float64
	corrStress, corrCalm   float64
	corrDD, corrDDOther    float64 // drawdown days / other days
	daysDD, daysDDOther    int     // number of days in each bucket
	rangeRatio             float64 // median across assets
	volumeVolCorr          float64 // median across assets
}

// assetFacts holds the per-asset facts of one asset's series.
type assetFacts struct {
	vol, kurt, rangeRatio, volumeVolCorr float64
	acf                                  [10]float64
}

// computeAssetFacts computes the per-asset facts. close, high, low and
// volume are one asset's bars; bar 0 only serves as the first previous close
// (its range is ignored: listing-day bars are extreme in the real data).
func computeAssetFacts(close, high, low, volume []float64) assetFacts {
	n := len(close) - 1
	r := make([]float64, n)
	abs := make([]float64, n)
	var park float64
	for t := 1; t <= n; t++ {
		r[t-1] = math.Log(close[t] / close[t-1])
		abs[t-1] = math.Abs(r[t-1])
		hl := math.Log(high[t] / low[t])
		park += hl * hl
	}
	var f assetFacts
	mean, sd := meanStd(r)
	f.vol = sd * math.Sqrt(365)
	var m2, m4 float64
	for _, x := range r {
		d := (x - mean) * (x - mean)
		m2 += d
		m4 += d * d
	}
	m2 /= float64(n)
	m4 /= float64(n)
	f.kurt = m4/(m2*m2) - 3
	for k := 1; k <= 10; k++ {
		f.acf[k-1] = acf(abs, k)
	}
	f.rangeRatio = math.Sqrt(park/float64(n)/(4*math.Ln2)) / sd
	const w = 30
	var lv, a []float64
	for t := w + 1; t <= n; t++ {
		var m float64
		for s := t - w; s < t; s++ {
			m += math.Log(close[s] * volume[s])
		}
		dv := close[t] * volume[t]
		if dv <= 0 {
			continue
		}
		lv = append(lv, math.Log(dv)-m/w)
		a = append(a, abs[t-1])
	}
	f.volumeVolCorr = pearson(lv, a)
	return f
}

// computePanelCorr computes the average pairwise correlation of the columns
// of r (T×N row-major log returns on a common calendar) over all days, over
// the worst decile of equal-weight index days and over the other days.
func computePanelCorr(r []float64, n int) (all, stress, calm float64) {
	t := len(r) / n
	idx := make([]float64, t)
	for s := 0; s < t; s++ {
		var m float64
		for i := 0; i < n; i++ {
			m += r[s*n+i]
		}
		idx[s] = m / float64(n)
	}
	sorted := slices.Clone(idx)
	sort.Float64s(sorted)
	cut := sorted[int(0.1*float64(t))]
	var lo, hi []int
	everyDay := make([]int, t)
	for s := range idx {
		everyDay[s] = s
		if idx[s] < cut {
			lo = append(lo, s)
		} else {
			hi = append(hi, s)
		}
	}
	return avgPairCorr(r, n, everyDay), avgPairCorr(r, n, lo), avgPairCorr(r, n, hi)
}

// drawdownDepth is the drawdown of the equal-weight index, as a fraction of
// its running peak, beyond which a day counts as a drawdown day. At 30 % both
// buckets are well filled: the real common calendar has 2,077 drawdown days
// and 317 other days; the synthetic sample of TestStylizedFacts (seed 1)
// has 16,824 and 7,166, at least 157 in either bucket of every 2,400-day
// chunk (at least 24 over seeds 1–12). A 20 % drawdown is routine for an
// index with 80 % annualised volatility (real 0.80, synthetic 0.85), and a
// shallower cut leaves fewer "other" days (real: 234 at 20 %); a deeper one
// thins the drawdown bucket of some synthetic chunks (106 days at 50 %,
// seeds 1–5).
const drawdownDepth = 0.3

// computeDrawdownCorr computes the average pairwise correlation of the
// columns of r (T×N row-major log returns on a common calendar) over the
// days that start in a drawdown of the equal-weight index deeper than depth,
// and over the other days, with the number of days in each bucket.
//
// The index is the one of computePanelCorr, cumulated: L_s = Σ_{u≤s} m_u,
// where m_u is the mean log return across assets on day u, so exp(L) is the
// equal-weight geometric index, starting at L_{−1} = 0. Its drawdown after
// day s is 1 − exp(L_s − max(0, max_{u≤s} L_u)). Day s is a drawdown day when
// the drawdown after day s−1 (before day s's returns; 0 for s = 0) exceeds
// depth. Classifying a day by the state it starts in keeps the day's own
// index return out of the selection: by the drawdown at its close, every
// day that sets a new peak would be an up day of the index, and that
// truncation of the common factor alone lowers the other days' correlation
// (on the real data: 0.52 instead of 0.60 at 30 %). A bucket with fewer than
// two days gets a NaN correlation.
func computeDrawdownCorr(r []float64, n int, depth float64) (dd, other float64, nDD, nOther int) {
	t := len(r) / n
	var in, out []int
	var level, peak, drawdown float64
	for s := 0; s < t; s++ {
		if drawdown > depth {
			in = append(in, s)
		} else {
			out = append(out, s)
		}
		var m float64
		for i := 0; i < n; i++ {
			m += r[s*n+i]
		}
		level += m / float64(n)
		peak = math.Max(peak, level)
		drawdown = 1 - math.Exp(level-peak)
	}
	bucket := func(days []int) float64 {
		if len(days) < 2 {
			return math.NaN()
		}
		return avgPairCorr(r, n, days)
	}
	return bucket(in), bucket(out), len(in), len(out)
}

func avgPairCorr(r []float64, n int, days []int) float64 {
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, len(days))
		for k, s := range days {
			x[i][k] = r[s*n+i]
		}
	}
	var sum float64
	var pairs int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			sum += pearson(x[i], x[j])
			pairs++
		}
	}
	return sum / float64(pairs)
}

func meanStd(x []float64) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(x)-1))
}

func acf(x []float64, k int) float64 {
	mean, _ := meanStd(x)
	var num, den float64
	for t := range x {
		d := x[t] - mean
		den += d * d
		if t+k < len(x) {
			num += d * (x[t+k] - mean)
		}
	}
	return num / den
}

func pearson(x, y []float64) float64 {
	mx, _ := meanStd(x)
	my, _ := meanStd(y)
	var sxy, sxx, syy float64
	for k := range x {
		dx, dy := x[k]-mx, y[k]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summarise combines per-asset facts and the panel correlations.
func summarise(af []assetFacts, corr, stress, calm float64) stylizedFacts {
	var f stylizedFacts
	vols := make([]float64, len(af))
	kurts := make([]float64, len(af))
	rr := make([]float64, len(af))
	vv := make([]float64, len(af))
	for i, a := range af {
		vols[i], kurts[i], rr[i], vv[i] = a.vol, a.kurt, a.rangeRatio, a.volumeVolCorr
		for k := range f.acfAbs {
			f.acfAbs[k] += a.acf[k] / float64(len(af))
		}
	}
	f.volMin, f.volMax = slices.Min(vols), slices.Max(vols)
	f.volMed = median(vols)
	f.kurtMed = median(kurts)
	f.rangeRatio = median(rr)
	f.volumeVolCorr = median(vv)
	f.corr, f.corrStress, f.corrCalm = corr, stress, calm
	return f
}

// panelFacts computes the facts of p over bars [from, to).
func panelFacts(p *market.Panel, from, to int) stylizedFacts {
	n := p.N()
	af := make([]assetFacts, n)
	for i := range af {
		af[i] = assetFactsRange(p, i, from, to)
	}
	r := make([]float64, 0, (to-from-1)*n)
	for t := from + 1; t < to; t++ {
		for i := 0; i < n; i++ {
			r = append(r, p.LogReturn(t, i))
		}
	}
	all, stress, calm := computePanelCorr(r, n)
	f := summarise(af, all, stress, calm)
	f.corrDD, f.corrDDOther, f.daysDD, f.daysDDOther = computeDrawdownCorr(r, n, drawdownDepth)
	return f
}

// chunkFacts splits p into consecutive chunks of the given length and
// returns the facts of each chunk.
func chunkFacts(p *market.Panel, length int) []stylizedFacts {
	var fs []stylizedFacts
	for from := 0; from+length <= p.T(); from += length {
		fs = append(fs, panelFacts(p, from, from+length))
	}
	return fs
}

// medianFacts returns the median of each fact over the chunk facts fs, so
// that a long synthetic sample is compared with a real sample of similar
// length (sample kurtosis and ACFs depend on the sample length when tails
// are heavy); the day counts are summed over the chunks.
func medianFacts(fs []stylizedFacts) stylizedFacts {
	pick := func(get func(f *stylizedFacts) *float64) float64 {
		x := make([]float64, len(fs))
		for k := range fs {
			x[k] = *get(&fs[k])
		}
		return median(x)
	}
	var out stylizedFacts
	out.volMin = pick(func(f *stylizedFacts) *float64 { return &f.volMin })
	out.volMed = pick(func(f *stylizedFacts) *float64 { return &f.volMed })
	out.volMax = pick(func(f *stylizedFacts) *float64 { return &f.volMax })
	out.kurtMed = pick(func(f *stylizedFacts) *float64 { return &f.kurtMed })
	for k := range out.acfAbs {
		out.acfAbs[k] = pick(func(f *stylizedFacts) *float64 { return &f.acfAbs[k] })
	}
	out.corr = pick(func(f *stylizedFacts) *float64 { return &f.corr })
	out.corrStress = pick(func(f *stylizedFacts) *float64 { return &f.corrStress })
	out.corrCalm = pick(func(f *stylizedFacts) *float64 { return &f.corrCalm })
	out.corrDD = pick(func(f *stylizedFacts) *float64 { return &f.corrDD })
	out.corrDDOther = pick(func(f *stylizedFacts) *float64 { return &f.corrDDOther })
	for _, f := range fs {
		out.daysDD += f.daysDD
		out.daysDDOther += f.daysDDOther
	}
	out.rangeRatio = pick(func(f *stylizedFacts) *float64 { return &f.rangeRatio })
	out.volumeVolCorr = pick(func(f *stylizedFacts) *float64 { return &f.volumeVolCorr })
	return out
}

// realDailyFacts computes the facts of the real daily data: per-asset facts
// over each crypto asset's whole history to 2024-12-31 (bar 0, the listing
// day, serves only as the first previous close), and the correlation facts
// on the common calendar of the ten assets listed since mid-2018 (returns
// 2018-06-13..2024-12-31, 2,394 days), the drawdown correlations included.
func realDailyFacts(t testing.TB) stylizedFacts {
	t.Helper()
	var af []assetFacts
	for _, name := range realDailyAssets(t) {
		p := loadReal(t, []string{name}, time.Time{})
		af = append(af, panelAssetFacts(p, 0))
	}
	names := []string{"ADA", "BNB", "BTC", "EOS", "ETC", "ETH", "LTC", "TRX", "XLM", "XRP"}
	p := loadReal(t, names, time.Date(2018, 6, 12, 0, 0, 0, 0, time.UTC))
	r := make([]float64, 0, (p.T()-1)*p.N())
	for k := 1; k < p.T(); k++ {
		for i := 0; i < p.N(); i++ {
			r = append(r, p.LogReturn(k, i))
		}
	}
	all, stress, calm := computePanelCorr(r, p.N())
	f := summarise(af, all, stress, calm)
	f.corrDD, f.corrDDOther, f.daysDD, f.daysDDOther = computeDrawdownCorr(r, p.N(), drawdownDepth)
	return f
}

// panelAssetFacts computes the per-asset facts of asset i of p.
func panelAssetFacts(p *market.Panel, i int) assetFacts {
	return assetFactsRange(p, i, 0, p.T())
}

// assetFactsRange computes the per-asset facts of asset i over bars
// [from, to) of p.
func assetFactsRange(p *market.Panel, i, from, to int) assetFacts {
	n := to - from
	c, h, l, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for k := range n {
		c[k], h[k], l[k], v[k] = p.Close(from+k, i), p.High(from+k, i), p.Low(from+k, i), p.Volume(from+k, i)
	}
	return computeAssetFacts(c, h, l, v)
}
