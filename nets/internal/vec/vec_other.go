//go:build !amd64 || purego

package vec

func adamFast(theta, grad, m, v []float64, a *AdamArgs) int { return 0 }

func sumSquaresFast(x []float64) (float64, int) { return 0, 0 }

func lerpFast(dst, src []float64, t float64) int { return 0 }

func tanhFast(x []float64) int { return 0 }

func tanhGradFast(dy, y []float64) int { return 0 }
