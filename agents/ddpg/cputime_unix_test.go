//go:build unix

package ddpg

import "syscall"

// cpuSeconds returns the process's user+system CPU time, to report
// benchmark cost independent of waiting for a CPU on a shared machine.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}
