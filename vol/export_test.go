package vol

// FitGARCHGonum is FitGARCH forced to use gonum/optimize's BFGS, the
// reference optimiser.
func FitGARCHGonum(r []float64, opt *FitOptions) (*GARCHFit, error) {
	return fitGARCH(r, opt, optGonum)
}

// FitGARCHBFGS is FitGARCH forced to use the package's own BFGS, the fast
// path for refits.
func FitGARCHBFGS(r []float64, opt *FitOptions) (*GARCHFit, error) {
	return fitGARCH(r, opt, optBFGS)
}

// UsedGonum reports whether gonum/optimize produced f.
func UsedGonum(f *GARCHFit) bool { return f.opt == optGonum }

// HasCurvature reports whether f carries the own BFGS's final inverse
// Hessian for a refit with FitOptions.Prev.
func HasCurvature(f *GARCHFit) bool { return f.hinv != nil }
