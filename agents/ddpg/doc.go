// Package ddpg implements Deep Deterministic Policy Gradient (Lillicrap et
// al. 2016) with the optional TD3 refinements (Fujimoto et al. 2018:
// twin critics, target policy smoothing, delayed actor updates) for
// portfolio allocation, as an agents.Learner.
//
// The update (update.go) follows CleanRL's ddpg_continuous_action.py and
// td3_continuous_action.py: store the rollout in the replay buffer, then
// per gradient step sample a batch, regress the critic(s) on the TD target
// from the target networks, and every policy_delay steps ascend Q₁ with
// the actor and Polyak-average both targets. Losses and the chain rule
// through the softmax are written out and checked against finite
// differences end to end.
//
// # Actions and noise
//
// The actor outputs logits A·tanh(·) ∈ [−A, A]^{N+1} (A = action_scale),
// which are squashed onto the simplex exactly as PPO's (softmax, or the
// volatility-timing gate on logit 0). What the critic sees as the action
// is critic_action:
//
//   - "logits" (the reference's and CleanRL's choice): the replay stores
//     the noisy, clipped logits and the actor's gradient is dQ₁/du.
//   - "weights": the resulting weights, the allocation the env executes.
//     Q then has no flat direction along the softmax's shift invariance;
//     the actor's gradient reaches the logits through dQ₁/dw and the
//     softmax/gate Jacobian (nets.WeightsGradTo). The dynamic embedding
//     needs it (its decoder reads weights).
//   - "auto" (default): "logits" when embedding = "none" and vol_timing =
//     false (a plain softmax action), else "weights".
//
// The default follows a measurement on bench task v1 (seeds 1–3, 3,000
// steps, the reference's budget there): with logits the deterministic
// policy's mean episode log return on the 64 evaluation starts went from
// 0.28 to 0.17–0.31, as the PyTorch reference's did (0.29 to 0.14–0.26),
// while with weights it fell to −1.0 to −1.2 (high-turnover allocations);
// at 20,000 steps (seed 1) logits reached 0.25 (reference 0.24) and
// weights −0.88. Warm-up logits drawn uniformly in [−A, A] map to nearly
// one-hot weights, so a weights critic is fitted far from the actor's
// initial near-uniform allocations. With the volatility-timing gate the
// comparison goes the other way: on the gate learning test's toy market a
// weights critic learned exposures of 0.99 (calm) and 0.02–0.20
// (turbulent), a logits critic 0.85–0.90 and 0.35–0.36. The learning
// tests run both.
//
// Exploration noise is added to the logits, not the weights (as the bench
// reference does), and the noisy logits are clipped to [−A, A]: Gaussian
// N(0, noise_sigma²) per step, or an Ornstein–Uhlenbeck process per env and
// logit (x ← x − θx·dt + σ√dt·ε, SB3's discretisation), reset to 0 when a
// rollout shows that env's episode ended. Before learning_starts
// transitions, Sample acting draws logits uniformly in [−A, A] (the warm-up
// of random actions). Mode Deterministic is the actor's logits.
//
// # Replay, truncation, targets
//
// Transitions go to an agents.Replay (float32 observations, float64
// rewards; a ring of geometrically grown slabs). The stored action is the
// executed weights. A truncated transition keeps the episode's final
// observation as its successor with terminated = false, so the TD target
// bootstraps there (SB3/CleanRL: time limits are not terminal); only
// terminated transitions drop γQ'. Targets are
// y = r + γ(1 − terminated)·min_k Q'_k(s', w(π'(s') + ε)), with ε TD3's
// clipped target noise (target_noise, target_noise_clip, in logit units;
// 0 disables) and the min over twin critics (twin_critics).
//
// # Dynamic embedding and volatility timing
//
// Actor and critic are separate networks (CleanRL, TD3); with the dynamic
// embedding each has its own trunk, latent and decoder, and each decoder's
// prediction loss (next log return and volatility per asset, weight
// pred_coef) is added to that network's loss. With vol_timing, logit 0 is
// the gate's: exposure σ(A·tanh(·)).
//
// # Configurable details
//
//  1. Replay capacity, batch size, warm-up (buffer_size, batch_size,
//     learning_starts).
//  2. Gradient steps per collected transition (updates_per_step), envs and
//     rollout length between updates (num_envs, train_freq).
//  3. Separate Adam optimisers for actor and critic (actor_lr, critic_lr,
//     adam_eps), optional per-network gradient clipping (max_grad_norm).
//  4. Soft target updates with rate tau, after each actor update.
//  5. Exploration noise process and scale (noise, noise_sigma, ou_theta,
//     ou_dt), logits bounded by action_scale.
//  6. TD3: twin_critics, target_noise / target_noise_clip, policy_delay
//     (TD3() returns Defaults with CleanRL TD3's values).
//  7. Initialisation "uniform" (PyTorch nn.Linear, the reference) or
//     "orthogonal"; trunk, embedding and gate as for PPO (nets.Config).
//
// Defaults reproduce bench task v1's ddpg.py: 256-256 ReLU, batch 256,
// buffer 1e6, τ 0.005, γ 0.99, Adam 3e-4, Gaussian noise 0.1 on logits
// bounded by 5, 1000 warm-up steps, one actor update per gradient step.
//
// # Precision and speed
//
// A gradient step at bench task v1's sizes is 318 million multiply-adds
// (target actor and critic forward, critic forward and backward, actor
// forward, Q₁ forward and input gradients, actor backward) and is bound by
// matrix products. The networks, gradients, targets and Adam's moments are
// therefore float32 by default (precision = "float32", PyTorch's default
// and the reference's): nets' kernel then runs eight lanes wide at 75–85
// GFLOP/s on one core and 120–158 on two (float64: 30–35 and ~60). A step
// took 6–8 ms in float32 on two cores against 20–28 ms in float64 on this
// machine type. The algorithm is written once: engines expose float64
// inputs and outputs in either precision and the few operations on the
// parameter vectors (weights.go) are generic; precision = "float64" gives
// the reference arithmetic the algorithm's tests use (and the gorgonia
// backend requires).
//
// Every engine, the replay gather, the Adam steps and the target updates
// share one helper goroutine (nets.Runner, with parallel = true): large
// products are split in halves that fall on tile boundaries, so results
// are bit-identical to a serial run (tested at the bench sizes). With the
// flat trunk the sampled observations are copied from the float32 replay
// buffer straight into the buffers the five training engines read
// (nets.BindInput), without conversions or per-engine copies.
//
// # Cancellation and checkpoints
//
// Update checks ctx before each gradient step; steps not taken stay owed
// and are part of the checkpoint, so they are taken by the next Update.
// Save writes nets' checkpoint format (kind "ddpg"): online and target
// weights and both Adam states (in the agent's precision), the OU state,
// counters and the replay buffer's content, with the hyperparameters as a
// hash and key by key. SaveWeights writes a model file (marked
// weights-only): the online and target weights alone. Load refuses model
// files (nets.ErrWeightsOnly), other kinds, architectures, configurations
// (precision included; each differing key is named with both values) and
// format versions with an error naming both sides. LoadWeights reads the
// weights of either kind of file, converting between precisions, and
// leaves the replay buffer, noise, optimiser state and counters alone: a
// warm-started fresh agent keeps its empty buffer and its warm-up.
//
// # Imports
//
// ddpg imports agents, env (for Spec only) and nets; never train, eval or
// experiments, and gorgonia only through nets.
package ddpg
