package env

// PinParallel makes every Step of v (built with workers > 1) a parallel
// run: no probes, no switch to caller-only runs. Tests use it so that the
// workers' path is exercised whatever the machine's load.
func PinParallel(v *Vec) {
	if v.crew != nil {
		v.crew.parallel, v.crew.pinned = true, true
	}
}
