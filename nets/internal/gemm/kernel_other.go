//go:build !amd64 || purego

package gemm

const useAVX2 = false

// HasAVX2 reports whether the assembly kernel is in use.
func HasAVX2() bool { return false }

func kern6x8s(k int, a *float64, rs, ps int, b *float64, sb int, c *float64, ldc int, acc bool) {
	panic("gemm: no assembly kernel on this platform")
}

func kernelAVX2Func() kernelFunc { return kernelGo }

func kern6x16s(k int, a *float32, rs, ps int, b *float32, sb int, c *float32, ldc int, acc bool) {
	panic("gemm: no assembly kernel on this platform")
}

func kernelAVX2Func32() kernelFunc32 { return kernelGo32 }
