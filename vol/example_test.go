package vol_test

import (
	"fmt"
	"math"

	"github.com/folio-rl/folio/internal/seed"
	"github.com/folio-rl/folio/vol"
)

// ExampleFitGARCH fits GARCH(1,1) to simulated daily returns in percent and
// forecasts the variance of the next bar and of the bar a week ahead.
func ExampleFitGARCH() {
	truth := vol.GARCH{Mu: 0.1, Omega: 0.2, Alpha: 0.1, Beta: 0.85}
	r := make([]float64, 20000)
	truth.SimulateTo(r, seed.New(1, seed.Test, 0), truth.LongRunVariance())

	fit, err := vol.FitGARCH(r, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := fit.Params
	fmt.Printf("alpha %.2f beta %.2f converged %v\n", p.Alpha, p.Beta, fit.Converged)
	fmt.Printf("long-run vol %.1f%% per bar\n", math.Sqrt(p.LongRunVariance()))
	fmt.Printf("1-step forecast is the next variance: %v\n",
		fit.VarianceForecast(1) == fit.NextVariance)
	// Output:
	// alpha 0.10 beta 0.85 converged true
	// long-run vol 2.0% per bar
	// 1-step forecast is the next variance: true
}

// ExampleGARCH_Forecast shows the closed-form forecasts decaying from an
// elevated variance towards the long-run variance ω/(1−α−β) = 4.
func ExampleGARCH_Forecast() {
	g := vol.GARCH{Omega: 0.2, Alpha: 0.1, Beta: 0.85}
	for _, h := range []int{1, 10, 100, 1000} {
		fmt.Printf("h=%4d variance %.3f\n", h, g.Forecast(9, h))
	}
	// Output:
	// h=   1 variance 9.000
	// h=  10 variance 7.151
	// h= 100 variance 4.031
	// h=1000 variance 4.000
}

// ExampleEWMAAdjustedTo computes the RiskMetrics volatility of a return
// series; element t uses returns up to t and forecasts bar t+1.
func ExampleEWMAAdjustedTo() {
	r := []float64{0.01, -0.02, 0.015, 0.03, -0.01}
	v := vol.EWMAAdjustedTo(make([]float64, len(r)), r, vol.RiskMetricsLambda)
	for t, x := range v {
		fmt.Printf("t=%d vol %.4f\n", t, math.Sqrt(x))
	}
	// Output:
	// t=0 vol 0.0100
	// t=1 vol 0.0160
	// t=2 vol 0.0156
	// t=3 vol 0.0206
	// t=4 vol 0.0187
}
