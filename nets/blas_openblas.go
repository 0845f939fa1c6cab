//go:build openblas

package nets

// This file is compiled only with -tags openblas (and cgo, Debian's
// libopenblas-dev): gonum's blas32/blas64 (gonum/mat's decompositions,
// the orthogonal initialiser's QR) and gorgonia and tensor (the gorgonia
// backend's products) then call OpenBLAS through gonum.org/v1/netlib.
// Build and test with
//
//	go test -tags openblas ./nets/... ./agents/...
//
// The native engine keeps its own kernels in both builds: at bench task
// v1's sizes they measured faster than OpenBLAS 0.3.21 (float32 products
// 75–85 GFLOP/s on one core against OpenBLAS's 58–75, and 120–158 on two
// against 105–138 with OPENBLAS_NUM_THREADS=2; float64 on a par).

/*
#cgo LDFLAGS: -lopenblas
*/
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS library that gonum, gorgonia and tensor use in this
// build: "openblas" (see the file comment), or "gonum" in the default,
// pure-Go build.
const BLAS = "openblas"

// init hands OpenBLAS to gonum (both precisions) and to gorgonia, which
// passes it on to tensor. It runs once, before any network is built; the
// selection never changes afterwards.
func init() {
	impl := netlib.Implementation{}
	blas32.Use(impl)
	blas64.Use(impl)
	G.Use(impl)
}
