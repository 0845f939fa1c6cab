//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func kern6x8s(k int, a *float64, rs, ps int, b *float64, sb int, c *float64, ldc int, acc bool)
//
// Strided micro-kernel: element (r, p) of A is at a + r·rs + p·ps bytes,
// element (p, j) of B at b + p·sb + 8j bytes (j < 8, contiguous), for
// r < 6, p < k (k ≥ 1). The 6×8 tile Σ_p A(r,p)·B(p,j) is stored into C
// (row stride ldc elements), or added to it when acc is true. Packed
// panels are rs = 8, ps = 48 and sb = 64; a row-major A is rs = 8·lda,
// ps = 8; a transposed A is rs = 8, ps = 8·lda; a row-major B is sb = 8·ldb.
TEXT ·kern6x8s(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R10
	MOVQ ps+24(FP), R13
	MOVQ b+32(FP), DI
	MOVQ sb+40(FP), R14
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $3, R8
	MOVBQZX acc+64(FP), R9
	LEAQ (R10)(R10*2), R11
	LEAQ (SI)(R10*4), R12
	ADDQ R10, R12
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15

sloop:
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VBROADCASTSD (SI), Y2
	VBROADCASTSD (SI)(R10*1), Y3
	VFMADD231PD Y0, Y2, Y4
	VFMADD231PD Y1, Y2, Y5
	VFMADD231PD Y0, Y3, Y6
	VFMADD231PD Y1, Y3, Y7
	VBROADCASTSD (SI)(R10*2), Y2
	VBROADCASTSD (SI)(R11*1), Y3
	VFMADD231PD Y0, Y2, Y8
	VFMADD231PD Y1, Y2, Y9
	VFMADD231PD Y0, Y3, Y10
	VFMADD231PD Y1, Y3, Y11
	VBROADCASTSD (SI)(R10*4), Y2
	VBROADCASTSD (R12), Y3
	VFMADD231PD Y0, Y2, Y12
	VFMADD231PD Y1, Y2, Y13
	VFMADD231PD Y0, Y3, Y14
	VFMADD231PD Y1, Y3, Y15
	ADDQ R13, SI
	ADDQ R13, R12
	ADDQ R14, DI
	DECQ CX
	JNZ  sloop

	TESTQ R9, R9
	JZ    sstore
	MOVQ   DX, AX
	VADDPD 0(AX), Y4, Y4
	VADDPD 32(AX), Y5, Y5
	ADDQ   R8, AX
	VADDPD 0(AX), Y6, Y6
	VADDPD 32(AX), Y7, Y7
	ADDQ   R8, AX
	VADDPD 0(AX), Y8, Y8
	VADDPD 32(AX), Y9, Y9
	ADDQ   R8, AX
	VADDPD 0(AX), Y10, Y10
	VADDPD 32(AX), Y11, Y11
	ADDQ   R8, AX
	VADDPD 0(AX), Y12, Y12
	VADDPD 32(AX), Y13, Y13
	ADDQ   R8, AX
	VADDPD 0(AX), Y14, Y14
	VADDPD 32(AX), Y15, Y15

sstore:
	VMOVUPD Y4, 0(DX)
	VMOVUPD Y5, 32(DX)
	ADDQ    R8, DX
	VMOVUPD Y6, 0(DX)
	VMOVUPD Y7, 32(DX)
	ADDQ    R8, DX
	VMOVUPD Y8, 0(DX)
	VMOVUPD Y9, 32(DX)
	ADDQ    R8, DX
	VMOVUPD Y10, 0(DX)
	VMOVUPD Y11, 32(DX)
	ADDQ    R8, DX
	VMOVUPD Y12, 0(DX)
	VMOVUPD Y13, 32(DX)
	ADDQ    R8, DX
	VMOVUPD Y14, 0(DX)
	VMOVUPD Y15, 32(DX)
	VZEROUPPER
	RET
