package portfolio_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/portfolio"
)

// In a bear market every expected return is negative: max-Sharpe is
// undefined and Allocate falls back to minimum variance, saying so.
func ExampleAllocate() {
	cov := mat.NewSymDense(3, []float64{
		0.0016, 0.0010, 0.0008,
		0.0010, 0.0025, 0.0012,
		0.0008, 0.0012, 0.0036,
	})
	mu := []float64{-0.002, -0.001, -0.003}
	res, err := portfolio.Allocate(portfolio.MaxSharpe,
		portfolio.Inputs{Mu: mu, Cov: cov},
		portfolio.Options{MaxWeight: 0.6})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("used %s, weights %.3f, vol %.4f\n", res.Used, res.Weights, res.Vol)
	fmt.Println(res.Fallback)
	// Output:
	// used min-variance, weights [0.600 0.227 0.173], vol 0.0367
	// max-sharpe → min-variance: no feasible portfolio has a positive expected excess return (largest -0.0014): the maximum Sharpe ratio is not attained
}
