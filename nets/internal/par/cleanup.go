package par

import "runtime"

// runtimeAddCleanup stops h's goroutine when r becomes unreachable (the
// goroutine references only h, never r).
func runtimeAddCleanup(r *Runner, h *helper) {
	runtime.AddCleanup(r, func(h *helper) { h.stop() }, h)
}
