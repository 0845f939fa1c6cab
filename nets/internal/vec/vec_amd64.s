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

// func adamAVX2(n int, theta, grad, m, v *float64, a *AdamArgs)
// n is a positive multiple of 4. AdamArgs: OneMinusB1 0, B1 8,
// OneMinusB2 16, B2 24, C1 32, NegLR 40, C2 48, Eps 56, Scale 64.
// The gradient is multiplied by Scale (a no-op for 1: x·1 = x exactly).
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ theta+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ m+24(FP), R8
	MOVQ v+32(FP), R9
	MOVQ a+40(FP), AX
	VBROADCASTSD 0(AX), Y8   // 1-b1
	VBROADCASTSD 8(AX), Y9   // b1
	VBROADCASTSD 16(AX), Y10 // 1-b2
	VBROADCASTSD 24(AX), Y11 // b2
	VBROADCASTSD 32(AX), Y12 // c1
	VBROADCASTSD 40(AX), Y13 // -lr
	VBROADCASTSD 48(AX), Y14 // c2
	VBROADCASTSD 56(AX), Y15 // eps
	VBROADCASTSD 64(AX), Y7  // scale
	XORQ BX, BX

adamloop:
	VMOVUPD (SI)(BX*8), Y0
	VMULPD  Y7, Y0, Y0       // g = scale·grad
	VMOVUPD (R8)(BX*8), Y1   // m
	VMOVUPD (R9)(BX*8), Y2   // v
	VMULPD  Y8, Y0, Y3       // g*(1-b1)
	VMULPD  Y9, Y1, Y1       // m*b1
	VADDPD  Y1, Y3, Y1       // m' = g*(1-b1) + m*b1
	VMULPD  Y0, Y0, Y4       // g*g
	VMULPD  Y10, Y4, Y4      // g*g*(1-b2)
	VMULPD  Y11, Y2, Y2      // v*b2
	VADDPD  Y2, Y4, Y2       // v' = g*g*(1-b2) + v*b2
	VMOVUPD Y1, (R8)(BX*8)
	VMOVUPD Y2, (R9)(BX*8)
	VMULPD  Y12, Y1, Y5      // m'*c1
	VMULPD  Y13, Y5, Y5      // m'*c1*(-lr)
	VMULPD  Y14, Y2, Y6      // v'*c2
	VSQRTPD Y6, Y6
	VADDPD  Y15, Y6, Y6      // sqrt(v'*c2) + eps
	VDIVPD  Y6, Y5, Y5       // num / den
	VMOVUPD (DI)(BX*8), Y6
	VADDPD  Y5, Y6, Y6       // theta + step
	VMOVUPD Y6, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  adamloop
	VZEROUPPER
	RET

// func sumSquaresAVX2(n int, x *float64) float64
// n is a positive multiple of 16.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ BX, BX

ssloop:
	VMOVUPD 0(SI)(BX*8), Y4
	VMOVUPD 32(SI)(BX*8), Y5
	VMOVUPD 64(SI)(BX*8), Y6
	VMOVUPD 96(SI)(BX*8), Y7
	VMULPD  Y4, Y4, Y4
	VMULPD  Y5, Y5, Y5
	VMULPD  Y6, Y6, Y6
	VMULPD  Y7, Y7, Y7
	VADDPD  Y4, Y0, Y0
	VADDPD  Y5, Y1, Y1
	VADDPD  Y6, Y2, Y2
	VADDPD  Y7, Y3, Y3
	ADDQ $16, BX
	CMPQ BX, CX
	JLT  ssloop

	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func lerpAVX2(n int, dst, src *float64, t, u float64)
// dst = t*src + u*dst; n is a positive multiple of 4.
TEXT ·lerpAVX2(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	VBROADCASTSD t+24(FP), Y8
	VBROADCASTSD u+32(FP), Y9
	XORQ BX, BX

lerploop:
	VMOVUPD (SI)(BX*8), Y0
	VMOVUPD (DI)(BX*8), Y1
	VMULPD  Y8, Y0, Y0
	VMULPD  Y9, Y1, Y1
	VADDPD  Y1, Y0, Y0
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  lerploop
	VZEROUPPER
	RET

// Constants for tanhAVX2 (broadcast from memory).
DATA tanhc<>+0(SB)/8, $0x7fffffffffffffff   // abs mask
DATA tanhc<>+8(SB)/8, $0.625               // small/large threshold
DATA tanhc<>+16(SB)/8, $22.0               // clamp: tanh(22) rounds to 1
DATA tanhc<>+24(SB)/8, $1.4426950408889634073599246810018920 // log2(e)
DATA tanhc<>+32(SB)/8, $0.69314718055966295651160180568695068359375 // ln2 upper
DATA tanhc<>+40(SB)/8, $0.28235290563031577122588448175013436025525412068e-12 // ln2 lower
DATA tanhc<>+48(SB)/8, $0.0625
DATA tanhc<>+56(SB)/8, $2.4801587301587301587e-5
DATA tanhc<>+64(SB)/8, $1.9841269841269841270e-4
DATA tanhc<>+72(SB)/8, $1.3888888888888888889e-3
DATA tanhc<>+80(SB)/8, $8.3333333333333333333e-3
DATA tanhc<>+88(SB)/8, $4.1666666666666666667e-2
DATA tanhc<>+96(SB)/8, $1.6666666666666666667e-1
DATA tanhc<>+104(SB)/8, $0.5
DATA tanhc<>+112(SB)/8, $1.0
DATA tanhc<>+120(SB)/8, $2.0
DATA tanhc<>+128(SB)/8, $-9.64399179425052238628e-1  // tanhP[0]
DATA tanhc<>+136(SB)/8, $-9.92877231001918586564e1   // tanhP[1]
DATA tanhc<>+144(SB)/8, $-1.61468768441708447952e3   // tanhP[2]
DATA tanhc<>+152(SB)/8, $1.12811678491632931402e2    // tanhQ[0]
DATA tanhc<>+160(SB)/8, $2.23548839060100448583e3    // tanhQ[1]
DATA tanhc<>+168(SB)/8, $4.84406305325125486048e3    // tanhQ[2]
DATA tanhc<>+176(SB)/8, $0x8000000000000000          // sign mask
DATA tanhc<>+184(SB)/8, $1023                        // exponent bias (int64)
GLOBL tanhc<>(SB), RODATA, $192

// func tanhAVX2(n int, x *float64)
// In place; n is a positive multiple of 4. Needs AVX2 and FMA.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	XORQ BX, BX

tanhloop:
	VMOVUPD (SI)(BX*8), Y0                 // x
	VBROADCASTSD tanhc<>+0(SB), Y15
	VANDPD  Y15, Y0, Y1                    // a = |x|

	// large: e = exp(2·min(a, 22)), t = 1 − 2/(e+1)
	VBROADCASTSD tanhc<>+16(SB), Y15
	VMINPD  Y15, Y1, Y2
	VADDPD  Y2, Y2, Y2                     // y = 2a'
	VBROADCASTSD tanhc<>+24(SB), Y15
	VMULPD  Y15, Y2, Y3                    // y·log2e
	VROUNDPD $0, Y3, Y3                    // k = round(y·log2e)
	VBROADCASTSD tanhc<>+32(SB), Y15
	VFNMADD231PD Y15, Y3, Y2               // r = y − k·ln2u
	VBROADCASTSD tanhc<>+40(SB), Y15
	VFNMADD231PD Y15, Y3, Y2               // r −= k·ln2l
	VBROADCASTSD tanhc<>+48(SB), Y15
	VMULPD  Y15, Y2, Y2                    // r/16
	VBROADCASTSD tanhc<>+56(SB), Y4        // Taylor series of e^r − 1 (Horner)
	VBROADCASTSD tanhc<>+64(SB), Y15
	VFMADD213PD Y15, Y2, Y4                // p = p·r + c
	VBROADCASTSD tanhc<>+72(SB), Y15
	VFMADD213PD Y15, Y2, Y4
	VBROADCASTSD tanhc<>+80(SB), Y15
	VFMADD213PD Y15, Y2, Y4
	VBROADCASTSD tanhc<>+88(SB), Y15
	VFMADD213PD Y15, Y2, Y4
	VBROADCASTSD tanhc<>+96(SB), Y15
	VFMADD213PD Y15, Y2, Y4
	VBROADCASTSD tanhc<>+104(SB), Y15
	VFMADD213PD Y15, Y2, Y4
	VBROADCASTSD tanhc<>+112(SB), Y15
	VFMADD213PD Y15, Y2, Y4                // p·r + 1
	VMULPD  Y4, Y2, Y2                     // q = e^{r/16} − 1
	VBROADCASTSD tanhc<>+120(SB), Y14      // 2
	VADDPD  Y14, Y2, Y4                    // four squarings: q ← q·(q+2)
	VMULPD  Y4, Y2, Y2
	VADDPD  Y14, Y2, Y4
	VMULPD  Y4, Y2, Y2
	VADDPD  Y14, Y2, Y4
	VMULPD  Y4, Y2, Y2
	VADDPD  Y14, Y2, Y4
	VMULPD  Y4, Y2, Y2
	VBROADCASTSD tanhc<>+112(SB), Y13      // 1
	VADDPD  Y13, Y2, Y2                    // e^r
	VCVTPD2DQY Y3, X5                      // k as int32
	VPMOVSXDQ X5, Y5                       // k as int64
	VPBROADCASTQ tanhc<>+184(SB), Y15
	VPADDQ  Y15, Y5, Y5
	VPSLLQ  $52, Y5, Y5                    // 2^k
	VMULPD  Y5, Y2, Y2                     // e = e^{2a'}
	VADDPD  Y13, Y2, Y2                    // e + 1
	VDIVPD  Y2, Y14, Y2                    // 2/(e+1)
	VSUBPD  Y2, Y13, Y2                    // large = 1 − 2/(e+1)
	VBROADCASTSD tanhc<>+176(SB), Y15
	VANDPD  Y15, Y0, Y10                   // sign of x
	VORPD   Y10, Y2, Y2                    // signed large

	// small: x + x·s·P(s)/Q(s), s = x²
	VMULPD  Y0, Y0, Y6                     // s
	VBROADCASTSD tanhc<>+128(SB), Y7       // P
	VBROADCASTSD tanhc<>+136(SB), Y15
	VFMADD213PD Y15, Y6, Y7
	VBROADCASTSD tanhc<>+144(SB), Y15
	VFMADD213PD Y15, Y6, Y7
	VBROADCASTSD tanhc<>+152(SB), Y15      // Q = ((s + Q0)·s + Q1)·s + Q2
	VADDPD  Y15, Y6, Y8
	VBROADCASTSD tanhc<>+160(SB), Y15
	VFMADD213PD Y15, Y6, Y8
	VBROADCASTSD tanhc<>+168(SB), Y15
	VFMADD213PD Y15, Y6, Y8
	VDIVPD  Y8, Y7, Y7                     // P/Q
	VMULPD  Y6, Y0, Y6                     // x·s
	VFMADD213PD Y0, Y6, Y7                 // x·s·(P/Q) + x

	// select small where a < 0.625
	VBROADCASTSD tanhc<>+8(SB), Y15
	VCMPPD  $9, Y15, Y1, Y9                // !(a >= 0.625): a < 0.625 or NaN (NaN takes the NaN-propagating branch)
	VBLENDVPD Y9, Y7, Y2, Y2
	VORPD   Y10, Y2, Y2                    // tanh(−0) = −0; a no-op elsewhere
	VMOVUPD Y2, (SI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  tanhloop
	VZEROUPPER
	RET

// func tanhGradAVX2(n int, dy, y *float64)
// dy *= 1 − y·y, computed as in Go: t = y·y, t = 1 − t, dy = dy·t.
TEXT ·tanhGradAVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dy+8(FP), DI
	MOVQ y+16(FP), SI
	VBROADCASTSD tanhc<>+112(SB), Y8   // 1
	XORQ BX, BX

tgloop:
	VMOVUPD (SI)(BX*8), Y0
	VMULPD  Y0, Y0, Y0
	VSUBPD  Y0, Y8, Y0
	VMOVUPD (DI)(BX*8), Y1
	VMULPD  Y0, Y1, Y1
	VMOVUPD Y1, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  tgloop
	VZEROUPPER
	RET

// ---- float32 kernels and the shared element-wise loops ----

// func adam32AVX2(n int, theta, grad, m, v *float32, c *adamConsts32)
// n is a positive multiple of 8. c: OneMinusB1 0, B1 4, OneMinusB2 8,
// B2 12, C1 16, NegLR 20, C2 24, Eps 28, Scale 32 (float32).
// Same operations in the same order as adam32Go.
TEXT ·adam32AVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ theta+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ m+24(FP), R8
	MOVQ v+32(FP), R9
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // 1-b1
	VBROADCASTSS 4(AX), Y9   // b1
	VBROADCASTSS 8(AX), Y10  // 1-b2
	VBROADCASTSS 12(AX), Y11 // b2
	VBROADCASTSS 16(AX), Y12 // c1
	VBROADCASTSS 20(AX), Y13 // -lr
	VBROADCASTSS 24(AX), Y14 // c2
	VBROADCASTSS 28(AX), Y15 // eps
	VBROADCASTSS 32(AX), Y7  // scale
	XORQ BX, BX

adam32loop:
	VMOVUPS (SI)(BX*4), Y0
	VMULPS  Y7, Y0, Y0       // g = grad*scale
	VMOVUPS (R8)(BX*4), Y1   // m
	VMOVUPS (R9)(BX*4), Y2   // v
	VMULPS  Y8, Y0, Y3       // g*(1-b1)
	VMULPS  Y9, Y1, Y1       // m*b1
	VADDPS  Y1, Y3, Y1       // m'
	VMULPS  Y0, Y0, Y4       // g*g
	VMULPS  Y10, Y4, Y4      // g*g*(1-b2)
	VMULPS  Y11, Y2, Y2      // v*b2
	VADDPS  Y2, Y4, Y2       // v'
	VMOVUPS Y1, (R8)(BX*4)
	VMOVUPS Y2, (R9)(BX*4)
	VMULPS  Y12, Y1, Y5      // m'*c1
	VMULPS  Y13, Y5, Y5      // m'*c1*(-lr)
	VMULPS  Y14, Y2, Y6      // v'*c2
	VSQRTPS Y6, Y6
	VADDPS  Y15, Y6, Y6      // sqrt(v'*c2) + eps
	VDIVPS  Y6, Y5, Y5
	VMOVUPS (DI)(BX*4), Y6
	VADDPS  Y5, Y6, Y6
	VMOVUPS Y6, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  adam32loop
	VZEROUPPER
	RET

// func sumSquares32AVX2(n int, x *float32) float64
// n is a positive multiple of 16; squares summed in float64.
TEXT ·sumSquares32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ BX, BX

ss32loop:
	VCVTPS2PD 0(SI)(BX*4), Y4
	VCVTPS2PD 16(SI)(BX*4), Y5
	VCVTPS2PD 32(SI)(BX*4), Y6
	VCVTPS2PD 48(SI)(BX*4), Y7
	VMULPD  Y4, Y4, Y4
	VMULPD  Y5, Y5, Y5
	VMULPD  Y6, Y6, Y6
	VMULPD  Y7, Y7, Y7
	VADDPD  Y4, Y0, Y0
	VADDPD  Y5, Y1, Y1
	VADDPD  Y6, Y2, Y2
	VADDPD  Y7, Y3, Y3
	ADDQ $16, BX
	CMPQ BX, CX
	JLT  ss32loop

	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func lerp32AVX2(n int, dst, src *float32, t, u float32)
// dst = t*src + u*dst; n is a positive multiple of 8.
TEXT ·lerp32AVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	VBROADCASTSS t+24(FP), Y8
	VBROADCASTSS u+28(FP), Y9
	XORQ BX, BX

lerp32loop:
	VMOVUPS (SI)(BX*4), Y0
	VMOVUPS (DI)(BX*4), Y1
	VMULPS  Y8, Y0, Y0
	VMULPS  Y9, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  lerp32loop
	VZEROUPPER
	RET

// Constants for tanh32AVX2 (float32 bit patterns; Eigen's coefficients).
DATA tanh32c<>+0(SB)/4, $0x7fffffff  // abs mask
DATA tanh32c<>+4(SB)/4, $0x40fcf84f  // clamp 7.90531110763549805
DATA tanh32c<>+8(SB)/4, $0xc0fcf84f  // −clamp
DATA tanh32c<>+12(SB)/4, $0x39d1b717 // 0.0004
DATA tanh32c<>+16(SB)/4, $0xa59f25c0 // α13
DATA tanh32c<>+20(SB)/4, $0x2a61337e // α11
DATA tanh32c<>+24(SB)/4, $0xaebd37ff // α9
DATA tanh32c<>+28(SB)/4, $0x335c0041 // α7
DATA tanh32c<>+32(SB)/4, $0x3779434a // α5
DATA tanh32c<>+36(SB)/4, $0x3a270ded // α3
DATA tanh32c<>+40(SB)/4, $0x3ba059dc // α1
DATA tanh32c<>+44(SB)/4, $0x35a0d3d8 // β6
DATA tanh32c<>+48(SB)/4, $0x38f895d6 // β4
DATA tanh32c<>+52(SB)/4, $0x3b14aa05 // β2
DATA tanh32c<>+56(SB)/4, $0x3ba059dd // β0
DATA tanh32c<>+60(SB)/4, $0x3f800000 // 1
GLOBL tanh32c<>(SB), RODATA, $64

// func tanh32AVX2(n int, x *float32)
// In place; n is a positive multiple of 8. Needs AVX2 and FMA.
TEXT ·tanh32AVX2(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	VBROADCASTSS tanh32c<>+0(SB), Y12
	VBROADCASTSS tanh32c<>+4(SB), Y13
	VBROADCASTSS tanh32c<>+8(SB), Y14
	VBROADCASTSS tanh32c<>+12(SB), Y15
	XORQ BX, BX

tanh32loop:
	VMOVUPS (SI)(BX*4), Y0            // x
	VANDPS  Y12, Y0, Y1               // |x|
	VMINPS  Y0, Y13, Y2               // min(clamp, x), NaN-propagating
	VMAXPS  Y2, Y14, Y2               // xc = max(−clamp, ·)
	VMULPS  Y2, Y2, Y3                // x2
	VBROADCASTSS tanh32c<>+16(SB), Y4 // p = α13
	VBROADCASTSS tanh32c<>+20(SB), Y8
	VFMADD213PS Y8, Y3, Y4            // p = p·x2 + α11
	VBROADCASTSS tanh32c<>+24(SB), Y8
	VFMADD213PS Y8, Y3, Y4
	VBROADCASTSS tanh32c<>+28(SB), Y8
	VFMADD213PS Y8, Y3, Y4
	VBROADCASTSS tanh32c<>+32(SB), Y8
	VFMADD213PS Y8, Y3, Y4
	VBROADCASTSS tanh32c<>+36(SB), Y8
	VFMADD213PS Y8, Y3, Y4
	VBROADCASTSS tanh32c<>+40(SB), Y8
	VFMADD213PS Y8, Y3, Y4
	VMULPS  Y2, Y4, Y4                // p·xc
	VBROADCASTSS tanh32c<>+44(SB), Y5 // q = β6
	VBROADCASTSS tanh32c<>+48(SB), Y8
	VFMADD213PS Y8, Y3, Y5
	VBROADCASTSS tanh32c<>+52(SB), Y8
	VFMADD213PS Y8, Y3, Y5
	VBROADCASTSS tanh32c<>+56(SB), Y8
	VFMADD213PS Y8, Y3, Y5
	VDIVPS  Y5, Y4, Y4                // p/q
	VCMPPS  $1, Y15, Y1, Y6           // |x| < 0.0004
	VBLENDVPS Y6, Y0, Y4, Y4          // tiny: x itself
	VMOVUPS Y4, (SI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  tanh32loop
	VZEROUPPER
	RET

// func tanhGrad32AVX2(n int, dy, y *float32)
// dy *= 1 − y·y, as in Go: t = y·y, t = 1 − t, dy = dy·t.
TEXT ·tanhGrad32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dy+8(FP), DI
	MOVQ y+16(FP), SI
	VBROADCASTSS tanh32c<>+60(SB), Y8 // 1
	XORQ BX, BX

tg32loop:
	VMOVUPS (SI)(BX*4), Y0
	VMULPS  Y0, Y0, Y0
	VSUBPS  Y0, Y8, Y0
	VMOVUPS (DI)(BX*4), Y1
	VMULPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  tg32loop
	VZEROUPPER
	RET

// func addTo32AVX2(n int, dst, src *float32)
// dst += src; n is a positive multiple of 8.
TEXT ·addTo32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ BX, BX

add32loop:
	VMOVUPS (DI)(BX*4), Y0
	VADDPS  (SI)(BX*4), Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  add32loop
	VZEROUPPER
	RET

// func addTo64AVX2(n int, dst, src *float64)
// dst += src; n is a positive multiple of 4.
TEXT ·addTo64AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ BX, BX

add64loop:
	VMOVUPD (DI)(BX*8), Y0
	VADDPD  (SI)(BX*8), Y0, Y0
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  add64loop
	VZEROUPPER
	RET

// func addReLU32AVX2(n int, y, b *float32)
// y = max(y + b, 0); NaN propagates (MAXPS returns its second source,
// here the sum, when either is NaN). n is a positive multiple of 8.
TEXT ·addReLU32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ b+16(FP), SI
	VXORPS Y9, Y9, Y9
	XORQ BX, BX

ar32loop:
	VMOVUPS (DI)(BX*4), Y0
	VADDPS  (SI)(BX*4), Y0, Y0
	VMAXPS  Y0, Y9, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  ar32loop
	VZEROUPPER
	RET

// func addReLU64AVX2(n int, y, b *float64)
TEXT ·addReLU64AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ b+16(FP), SI
	VXORPD Y9, Y9, Y9
	XORQ BX, BX

ar64loop:
	VMOVUPD (DI)(BX*8), Y0
	VADDPD  (SI)(BX*8), Y0, Y0
	VMAXPD  Y0, Y9, Y0
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  ar64loop
	VZEROUPPER
	RET

// func reluGrad32AVX2(n int, dy, y *float32)
// dy = 0 where y ≤ 0 (kept where !(y ≤ 0), which includes NaN).
TEXT ·reluGrad32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dy+8(FP), DI
	MOVQ y+16(FP), SI
	VXORPS Y9, Y9, Y9
	XORQ BX, BX

rg32loop:
	VMOVUPS (SI)(BX*4), Y0
	VCMPPS  $6, Y9, Y0, Y0            // !(y <= 0)
	VANDPS  (DI)(BX*4), Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JLT  rg32loop
	VZEROUPPER
	RET

// func reluGrad64AVX2(n int, dy, y *float64)
TEXT ·reluGrad64AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dy+8(FP), DI
	MOVQ y+16(FP), SI
	VXORPD Y9, Y9, Y9
	XORQ BX, BX

rg64loop:
	VMOVUPD (SI)(BX*8), Y0
	VCMPPD  $6, Y9, Y0, Y0
	VANDPD  (DI)(BX*8), Y0, Y0
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  rg64loop
	VZEROUPPER
	RET

// func cvt64to32AVX2(n int, dst *float32, src *float64)
// n is a positive multiple of 4; rounds to nearest (MXCSR default).
TEXT ·cvt64to32AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ BX, BX

c6432loop:
	VCVTPD2PSY (SI)(BX*8), X0
	VMOVUPS X0, (DI)(BX*4)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  c6432loop
	VZEROUPPER
	RET

// func cvt32to64AVX2(n int, dst *float64, src *float32)
// n is a positive multiple of 4; exact.
TEXT ·cvt32to64AVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ BX, BX

c3264loop:
	VCVTPS2PD (SI)(BX*4), Y0
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ $4, BX
	CMPQ BX, CX
	JLT  c3264loop
	VZEROUPPER
	RET
