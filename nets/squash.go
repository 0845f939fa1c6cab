package nets

import "math"

// WeightsTo maps one row of N+1 action logits u to portfolio weights on
// the simplex (cash first), writing them into dst.
//
// Without gate: w = softmax(u).
// With gate (volatility timing): g = σ(u₀) is the fraction of capital at
// risk, w₀ = 1 − g (cash) and wᵢ = g·softmax(u₁..u_N)ᵢ. It returns g (the
// exposure; 1 − w₀ without the gate).
func WeightsTo(dst, u []float64, gate bool) (exposure float64) {
	if len(dst) != len(u) || len(u) < 2 {
		panic("nets: WeightsTo: length mismatch")
	}
	if !gate {
		softmaxTo(dst, u)
		return 1 - dst[0]
	}
	g := sigmoid(u[0])
	softmaxTo(dst[1:], u[1:])
	for i := 1; i < len(dst); i++ {
		dst[i] *= g
	}
	dst[0] = 1 - g
	return g
}

func softmaxTo(dst, u []float64) {
	m := math.Inf(-1)
	for _, v := range u {
		m = max(m, v)
	}
	var s float64
	for i, v := range u {
		e := math.Exp(v - m)
		dst[i] = e
		s += e
	}
	inv := 1 / s
	for i := range dst {
		dst[i] *= inv
	}
}

// WeightsGradTo writes dL/du into du given dL/dw (dw), the logits u and
// the weights w = WeightsTo(u) (the vector–Jacobian product of WeightsTo).
//
// Without gate: du_j = w_j·(dw_j − Σ_k w_k dw_k).
// With gate, s = softmax(u₁..u_N) = wᵢ/g:
// dL/dg = −dw₀ + Σᵢ sᵢ dwᵢ, du₀ = dL/dg·g(1−g), duᵢ = g·sᵢ(dwᵢ − Σ_k s_k dw_k).
func WeightsGradTo(du, dw, u, w []float64, gate bool) {
	n := len(u)
	if len(du) != n || len(dw) != n || len(w) != n {
		panic("nets: WeightsGradTo: length mismatch")
	}
	if !gate {
		var s float64
		for k, v := range w {
			s += v * dw[k]
		}
		for j, v := range w {
			du[j] = v * (dw[j] - s)
		}
		return
	}
	g := sigmoid(u[0])
	var sdw float64
	for k := 1; k < n; k++ {
		sdw += w[k] * dw[k]
	}
	if g > 0 {
		sdw /= g // Σ s_k dw_k
	} else {
		// g underflowed to 0: recompute s from the logits
		sdw = 0
		tmp := make([]float64, n-1)
		softmaxTo(tmp, u[1:])
		for k := 1; k < n; k++ {
			sdw += tmp[k-1] * dw[k]
		}
	}
	du[0] = (-dw[0] + sdw) * g * (1 - g)
	for i := 1; i < n; i++ {
		// g·s_i = w_i
		du[i] = w[i] * (dw[i] - sdw)
	}
}
