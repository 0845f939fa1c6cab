package optim_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/optim"
)

// Minimum variance of three assets, long-only, fully invested, no weight
// above 0.5.
func ExampleSolveQP() {
	sigma := mat.NewSymDense(3, []float64{
		0.040, 0.006, 0.010,
		0.006, 0.010, 0.004,
		0.010, 0.004, 0.090,
	})
	var twoSigma mat.SymDense
	twoSigma.ScaleSym(2, sigma) // ½xᵀPx = xᵀΣx
	p := &optim.QP{
		P:     &twoSigma,
		A:     mat.NewDense(1, 3, []float64{1, 1, 1}),
		B:     []float64{1},
		Lower: []float64{0, 0, 0},
		Upper: []float64{0.5, 0.5, 0.5},
	}
	sol, err := optim.SolveQP(p, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("status %v, weights %.4f, variance %.6f\n", sol.Status, sol.X, sol.Objective)
	fmt.Printf("KKT residuals below 1e-12: %v\n", sol.KKT.Max() < 1e-12)
	// Output:
	// status optimal, weights [0.3545 0.5000 0.1455], variance 0.013173
	// KKT residuals below 1e-12: true
}

// Equal risk contributions of three assets.
func ExampleRiskBudget() {
	sigma := mat.NewSymDense(3, []float64{
		0.040, 0.006, 0.010,
		0.006, 0.010, 0.004,
		0.010, 0.004, 0.090,
	})
	w := make([]float64, 3)
	res, err := optim.RiskBudget(w, sigma, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	rc := optim.RiskContributions(nil, sigma, w)
	fmt.Printf("weights %.4f\nrisk contributions %.4f\nerror below 1e-10: %v\n", w, rc, res.RCError <= 1e-10)
	// Output:
	// weights [0.2666 0.5421 0.1913]
	// risk contributions [0.3333 0.3333 0.3333]
	// error below 1e-10: true
}
