//go:build !unix

package ddpg

func cpuSeconds() float64 { return 0 }
