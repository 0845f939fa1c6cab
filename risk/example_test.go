package risk_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/folio-rl/folio/risk"
)

func ExampleLedoitWolf() {
	// Six bars of returns of three assets.
	r := mat.NewDense(6, 3, []float64{
		0.010, 0.020, -0.010,
		-0.020, -0.010, 0.000,
		0.030, 0.010, 0.020,
		0.000, -0.020, 0.010,
		-0.010, 0.000, -0.020,
		0.020, 0.030, 0.010,
	})
	var s, lw, cs, cl mat.SymDense
	if err := risk.SampleCov(&s, r); err != nil {
		fmt.Println(err)
		return
	}
	delta, err := risk.LedoitWolf(&lw, r, risk.ScaledIdentity)
	if err != nil {
		fmt.Println(err)
		return
	}
	risk.CorrFromCov(&cs, nil, &s)
	risk.CorrFromCov(&cl, nil, &lw)
	fmt.Printf("sample variances %.6f %.6f %.6f\n", s.At(0, 0), s.At(1, 1), s.At(2, 2))
	fmt.Printf("shrinkage %.4f\n", delta)
	fmt.Printf("correlation(0,1): sample %.4f, shrunk %.4f\n", cs.At(0, 1), cl.At(0, 1))
	// Output:
	// sample variances 0.000350 0.000350 0.000217
	// shrinkage 0.4168
	// correlation(0,1): sample 0.6571, shrunk 0.4047
}
