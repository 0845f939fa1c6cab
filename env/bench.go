package env

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/folio-rl/folio/env/market"
	"github.com/folio-rl/folio/env/market/features"
)

// Bench task v1 (/work/shared/bench/bench_env.py is its specification) as a
// configuration of Market: N = 10 assets + cash, observation = the last 30
// log returns of each asset (asset-major, oldest first) then the weights,
// logits → softmax, cost = 0.0025·turnover + 0.001·turnover² as a fraction
// of value (fee_model "linear", slippage "quadratic"), 256-step episodes
// starting uniformly in bench indices [W−1, T−1−256], all cash at reset.
//
// Index mapping: the price relatives X[t] (bench index t = 0..T−1) become a
// panel of T+1 bars whose bar 0 is a base bar with closes 1 and whose bar
// t+1 closes at Π_{s≤t} X[s]. Bench index t is panel bar t+1, so the bench
// decision at t (seeing L[t−W+1..t], earning X[t+1]) is the panel decision
// at bar t+1, and the bench start range [W−1, T−1−256] is exactly the
// env's valid start range [W, T−256].

// BenchFeature is the name of the bench task's single per-asset feature:
// the log close-to-close return log(close_t/close_{t−1}), NaN at bar 0.
const BenchFeature = "log_return"

// BenchConfig returns bench task v1 as a Config.
func BenchConfig() Config {
	c := Defaults()
	c.Window = 30
	c.Features = []string{BenchFeature}
	c.Action = ActionLogits
	c.Reward = RewardLogGrowth
	c.Execution = ExecClose
	c.EpisodeLen = 256
	c.EpisodeStart = StartRandom
	c.InitialCapital = 1
	c.TerminateBelow = 0
	c.Costs = Costs{
		FeeModel:  FeeLinear,
		FeeSide:   SideTaker,
		TakerBps:  25,
		MakerBps:  25,
		Slippage:  SlipQuadratic,
		Quadratic: 0.001,
	}
	return c
}

// ReadBenchPrices parses the bench price file: a header of N asset names,
// then T rows of N price relatives close_t/close_{t−1}. It returns the
// relatives T×N row-major and the names.
func ReadBenchPrices(r io.Reader) (rel []float64, names []string, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("env: bench prices: %w", err)
		}
		return nil, nil, errors.New("env: bench prices: empty file")
	}
	names = strings.Split(strings.TrimSpace(sc.Text()), ",")
	line := 1
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != len(names) {
			return nil, nil, fmt.Errorf("env: bench prices: line %d has %d fields, want %d", line, len(fields), len(names))
		}
		for _, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) {
				return nil, nil, fmt.Errorf("env: bench prices: line %d: price relative %q must be finite and positive", line, f)
			}
			rel = append(rel, x)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("env: bench prices: %w", err)
	}
	if len(rel) == 0 {
		return nil, nil, errors.New("env: bench prices: no rows")
	}
	return rel, names, nil
}

// benchEpoch is the open time of the base bar of a bench panel,
// 2000-01-01T00:00:00Z in Unix seconds; the task has no calendar, so bars
// are consecutive UTC days from here.
const benchEpoch = 946684800

// NewBenchPanel builds the bench panel and its feature set from price
// relatives rel (T×N row-major) and asset names. Each bar opens at the
// previous close (open = high or low = close of bar t−1) and has volume 1:
// the task has no volume, and its config neither caps nor prices liquidity.
func NewBenchPanel(rel []float64, names []string) (*market.Panel, *features.Set, error) {
	n := len(names)
	if n == 0 || len(rel) == 0 || len(rel)%n != 0 {
		return nil, nil, fmt.Errorf("env: bench panel: %d relatives for %d assets", len(rel), n)
	}
	T := len(rel)/n + 1
	spec := market.PanelSpec{
		Assets: names, Interval: 24 * time.Hour, Times: make([]int64, T),
		Open: make([]float64, T*n), High: make([]float64, T*n), Low: make([]float64, T*n),
		Close: make([]float64, T*n), Volume: make([]float64, T*n),
	}
	for t := 0; t < T; t++ {
		spec.Times[t] = benchEpoch + int64(t)*86400
		for i := 0; i < n; i++ {
			k := t*n + i
			c := 1.0
			if t > 0 {
				c = spec.Close[k-n] * rel[k-n]
			}
			o := c
			if t > 0 {
				o = spec.Close[k-n]
			}
			spec.Open[k], spec.Close[k] = o, c
			spec.High[k], spec.Low[k] = max(o, c), min(o, c)
			spec.Volume[k] = 1
		}
	}
	p, err := market.NewPanel(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("env: bench panel: %w", err)
	}
	fs := features.NewSet(T, n, []string{BenchFeature}, nil)
	for i := 0; i < n; i++ {
		s := fs.Series(i, 0)
		for t := 1; t < T; t++ {
			s[t] = p.LogReturn(t, i)
		}
	}
	return p, fs, nil
}

// LoadBench reads the bench price file at path and builds the bench panel
// and feature set; New(p, fs, nil, BenchConfig()) is then the bench env.
func LoadBench(path string) (*market.Panel, *features.Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("env: %w", err)
	}
	defer f.Close()
	rel, names, err := ReadBenchPrices(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, path)
	}
	return NewBenchPanel(rel, names)
}
