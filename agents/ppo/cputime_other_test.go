//go:build !unix

package ppo

func cpuSeconds() float64 { return 0 }
