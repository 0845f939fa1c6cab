//go:build !openblas

package nets

// BLAS names the BLAS library that gonum, gorgonia and tensor use in this
// build: "gonum" (pure Go, the default, no cgo), or "openblas" when built
// with -tags openblas (see blas_openblas.go).
const BLAS = "gonum"
