package agents

// GAETo writes generalised advantage estimates (Schulman et al. 2016,
// "High-Dimensional Continuous Control Using Generalized Advantage
// Estimation", eq. 16) and returns (advantage + value, the value targets)
// for a step-major rollout of len(rewards)/envs steps × envs envs:
//
//	δ_t = r_t + γ·(1 − d_t)·V_{t+1} − V_t
//	A_t = δ_t + γλ·(1 − d_t)·A_{t+1}
//
// where d_t says step t ended the episode (terminated or truncated) and
// V_{t+1} is values of the next step, or lastValues (V of Rollout.NextObs)
// after the last one. This is CleanRL's and SB3's recursion. Truncation is
// handled by the caller, which adds γ·V(final observation) to the reward
// of a truncated step before calling GAETo (BootstrapTruncated), exactly
// as SB3 does; here every ended episode stops the recursion.
//
// adv and ret may not alias the inputs. All slices are indexed t·envs+e.
func GAETo(adv, ret, rewards, values []float64, dones []bool, lastValues []float64, envs int, gamma, lambda float64) {
	n := len(rewards)
	if envs <= 0 || n%envs != 0 || len(adv) != n || len(ret) != n || len(values) != n || len(dones) != n || len(lastValues) != envs {
		panic("agents: GAETo: length mismatch")
	}
	steps := n / envs
	for e := 0; e < envs; e++ {
		next, last := lastValues[e], 0.0
		for t := steps - 1; t >= 0; t-- {
			k := t*envs + e
			nonterminal := 1.0
			if dones[k] {
				nonterminal = 0
			}
			delta := rewards[k] + gamma*nonterminal*next - values[k]
			last = delta + gamma*lambda*nonterminal*last
			adv[k] = last
			ret[k] = last + values[k]
			next = values[k]
		}
	}
}

// BootstrapTruncated adds γ·finalValues[k] to rewards[k] for every
// transition that was truncated but not terminated: the value of the state
// where we stopped watching stands in for the unobserved rest of the
// episode (SB3's on-policy handling of TimeLimit.truncated).
// finalValues[k] is V(Rollout.FinalObs row k), ignored elsewhere.
func BootstrapTruncated(rewards []float64, terminated, truncated []bool, finalValues []float64, gamma float64) {
	if len(terminated) != len(rewards) || len(truncated) != len(rewards) || len(finalValues) != len(rewards) {
		panic("agents: BootstrapTruncated: length mismatch")
	}
	for k := range rewards {
		if truncated[k] && !terminated[k] {
			rewards[k] += gamma * finalValues[k]
		}
	}
}
