package market_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/folio-rl/folio/env/market"
)

// exampleDir writes two small folio CSV files: BTCUSDT with eight hourly
// bars and ETHUSDT with the 05:00 bar missing.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "market-example")
	if err != nil {
		panic(err)
	}
	btc := "timestamp,open,high,low,close,volume\n"
	eth := btc
	for h := 0; h < 8; h++ {
		at := time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC).Format(time.RFC3339)
		btc += fmt.Sprintf("%s,%d,%d,%d,%d,10\n", at, 42000+10*h, 42100+10*h, 41900+10*h, 42010+10*h)
		if h != 5 {
			eth += fmt.Sprintf("%s,%d,%d,%d,%d,100\n", at, 2300+h, 2310+h, 2290+h, 2301+h)
		}
	}
	os.WriteFile(filepath.Join(dir, "BTCUSDT.csv"), []byte(btc), 0o644)
	os.WriteFile(filepath.Join(dir, "ETHUSDT.csv"), []byte(eth), 0o644)
	return dir
}

func ExampleLoad() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	// Without a fill policy the missing ETH bar is an error naming it.
	_, _, err := market.Load([]string{dir}, market.LoadOptions{StripSuffix: "USDT"})
	fmt.Println(err != nil)

	p, rep, err := market.Load([]string{dir}, market.LoadOptions{
		StripSuffix: "USDT",
		Fill:        market.FillForward,
		MaxFillGap:  1,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Assets(), p.T(), p.Interval(), rep.Filled)
	fmt.Println(p.Filled(5, 1), p.Close(5, 1), p.Volume(5, 1))
	// Output:
	// true
	// [BTC ETH] 8 1h0m0s 1
	// true 2305 0
}

func ExampleResample() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	s, _, err := market.ReadFile(filepath.Join(dir, "ETHUSDT.csv"), market.FormatAuto)
	if err != nil {
		panic(err)
	}
	r, dropped, err := market.Resample(s, 4*time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Len(), r.Open[0], r.High[0], r.Low[0], r.Close[0], r.Volume[0])
	fmt.Println(dropped[0].Kind, dropped[0].Msg)
	// Output:
	// 1 2300 2313 2290 2304 400
	// incomplete bucket 4h bucket 2024-01-01T04:00:00Z has 3 of 4 bars; dropped
}

func ExampleDescribe() {
	s := &market.Series{Asset: "X", Interval: 24 * time.Hour}
	for d, c := range []float64{100, 150, 75, 112.5, 56.25} {
		s.Times = append(s.Times, time.Date(2024, 1, 1+d, 0, 0, 0, 0, time.UTC).Unix())
		s.Open, s.High, s.Low = append(s.Open, c), append(s.High, c), append(s.Low, c)
		s.Close, s.Volume = append(s.Close, c), append(s.Volume, 1)
	}
	st := market.Describe(s)
	fmt.Printf("total %.4f, max drawdown %.3f, skewness %.1f, excess kurtosis %.1f\n",
		st.TotalReturn, st.MaxDrawdown, st.Skewness, st.ExcessKurtosis)
	// Output:
	// total -0.4375, max drawdown 0.625, skewness 0.0, excess kurtosis -2.0
}
