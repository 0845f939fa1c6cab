//go:build amd64 && !purego

package gemm

// useAVX2 says the CPU has AVX2 and FMA and the OS saves YMM registers.
// Decided once at start-up; never changed afterwards.
var useAVX2 = hasAVX2FMA()

// HasAVX2 reports whether the assembly kernel is in use.
func HasAVX2() bool { return useAVX2 }

func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

//go:noescape
func kern6x8s(k int, a *float64, rs, ps int, b *float64, sb int, c *float64, ldc int, acc bool)

//go:noescape
func kern6x16s(k int, a *float32, rs, ps int, b *float32, sb int, c *float32, ldc int, acc bool)

// kernelAVX2 is the assembly kernel on packed panels (kernelFunc form).
func kernelAVX2(k int, a, b, out []float64) {
	if k <= 0 {
		clear(out[:mr*nr])
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = out[mr*nr-1]
	kern6x8s(k, &a[0], 8, 8*mr, &b[0], 8*nr, &out[0], nr, false)
}

func kernelAVX2Func() kernelFunc { return kernelAVX2 }

// kernelAVX2x32 is the float32 assembly kernel on packed panels.
func kernelAVX2x32(k int, a, b, out []float32) {
	if k <= 0 {
		clear(out[:mr*nr32])
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr32-1]
	_ = out[mr*nr32-1]
	kern6x16s(k, &a[0], 4, 4*mr, &b[0], 4*nr32, &out[0], nr32, false)
}

func kernelAVX2Func32() kernelFunc32 { return kernelAVX2x32 }
