//go:build !purego

#include "textflag.h"

// func copyWindowsSSE(dst, src *float64, n, w, stride int)
//
// Copies n windows of w float64s: window s from src + s·stride to
// dst + s·w (in elements). 16-byte unaligned moves, 8 elements per
// iteration, then pairs, then a last single element. SSE2 only: baseline
// amd64, no CPU detection needed.
TEXT ·copyWindowsSSE(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ w+24(FP), DX
	MOVQ stride+32(FP), R8
	SHLQ $3, R8 // stride in bytes
	TESTQ CX, CX
	JEQ done

window:
	MOVQ SI, R9 // source cursor
	MOVQ DX, BX // elements left in this window

eight:
	CMPQ BX, $8
	JLT pair
	MOVUPS 0(R9), X0
	MOVUPS 16(R9), X1
	MOVUPS 32(R9), X2
	MOVUPS 48(R9), X3
	MOVUPS X0, 0(DI)
	MOVUPS X1, 16(DI)
	MOVUPS X2, 32(DI)
	MOVUPS X3, 48(DI)
	ADDQ $64, R9
	ADDQ $64, DI
	SUBQ $8, BX
	JMP eight

pair:
	CMPQ BX, $2
	JLT single
	MOVUPS 0(R9), X0
	MOVUPS X0, 0(DI)
	ADDQ $16, R9
	ADDQ $16, DI
	SUBQ $2, BX
	JMP pair

single:
	TESTQ BX, BX
	JEQ next
	MOVSD 0(R9), X0
	MOVSD X0, 0(DI)
	ADDQ $8, DI

next:
	ADDQ R8, SI
	DECQ CX
	JNE window

done:
	RET

// func copyWindowsAVX(dst, src *float64, n, w, stride int)
//
// As copyWindowsSSE with 32-byte moves: 16 elements per iteration, then
// fours, a pair and a single element. Needs AVX. Every vector instruction
// is VEX-encoded (mixing in legacy SSE moves after a 256-bit one made it
// 20× slower on the machines measured), and VZEROUPPER is executed before
// returning to Go code.
TEXT ·copyWindowsAVX(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ w+24(FP), DX
	MOVQ stride+32(FP), R8
	SHLQ $3, R8
	TESTQ CX, CX
	JEQ avxdone

avxwindow:
	MOVQ SI, R9
	MOVQ DX, BX

avx16:
	CMPQ BX, $16
	JLT avx4
	VMOVUPD 0(R9), Y0
	VMOVUPD 32(R9), Y1
	VMOVUPD 64(R9), Y2
	VMOVUPD 96(R9), Y3
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ $128, R9
	ADDQ $128, DI
	SUBQ $16, BX
	JMP avx16

avx4:
	CMPQ BX, $4
	JLT avxpair
	VMOVUPD 0(R9), Y0
	VMOVUPD Y0, 0(DI)
	ADDQ $32, R9
	ADDQ $32, DI
	SUBQ $4, BX
	JMP avx4

avxpair:
	CMPQ BX, $2
	JLT avxsingle
	VMOVUPD 0(R9), X0
	VMOVUPD X0, 0(DI)
	ADDQ $16, R9
	ADDQ $16, DI
	SUBQ $2, BX

avxsingle:
	TESTQ BX, BX
	JEQ avxnext
	MOVQ 0(R9), AX
	MOVQ AX, 0(DI)
	ADDQ $8, DI

avxnext:
	ADDQ R8, SI
	DECQ CX
	JNE avxwindow
	VZEROUPPER

avxdone:
	RET

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
