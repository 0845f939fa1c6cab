//go:build !amd64 || purego

package vec

func adamFast(theta, grad, m, v []float64, a *AdamArgs) int { return 0 }

func sumSquaresFast(x []float64) (float64, int) { return 0, 0 }

func lerpFast(dst, src []float64, t float64) int { return 0 }

func tanhFast(x []float64) int { return 0 }

func tanhGradFast(dy, y []float64) int { return 0 }

func adam32Fast(theta, grad, m, v []float32, c *adamConsts32) int { return 0 }

func sumSquares32Fast(x []float32) (float64, int) { return 0, 0 }

func lerp32Fast(dst, src []float32, t, u float32) int { return 0 }

func tanh32Fast(x []float32) int { return 0 }

func tanhGrad32Fast(dy, y []float32) int { return 0 }

func addToFast[T Float](dst, src []T) int { return 0 }

func addReLUFast[T Float](y, b []T) int { return 0 }

func reluGradFast[T Float](dy, y []T) int { return 0 }

func convertFast[D, S Float](dst []D, src []S) int { return 0 }
