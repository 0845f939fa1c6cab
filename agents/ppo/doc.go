// Package ppo implements Proximal Policy Optimization (Schulman et al.
// 2017, "Proximal Policy Optimization Algorithms") for portfolio
// allocation, as an agents.Learner.
//
// The update (update.go) reads top to bottom like CleanRL's
// ppo_continuous_action.py: bootstrap truncations, GAE, then epochs of
// shuffled minibatches with the clipped surrogate, value loss, entropy
// bonus, global gradient clipping and Adam. The losses and their
// gradients are written out in loss.go and checked against finite
// differences; the networks (package nets) run on nets' native engine or,
// with backend = "gorgonia", on gorgonia graphs, and the two are tested
// against each other.
//
// # Units and conventions
//
// Observations are env observation vectors (env.Layout). The action is a
// vector u of N+1 logits; the env receives weights w on the simplex, cash
// first: w = softmax(u), or with the volatility-timing gate
// w = (1−σ(u₀))·e_cash + σ(u₀)·softmax(u₁..u_N). Rewards are whatever the
// env pays (log growth by default); γ is per step. Time is in steps.
//
// # The action distribution
//
// The policy is a diagonal Gaussian over the N+1 logits with
// state-independent log standard deviations; the env sees the squashed
// sample. Log-probabilities are those of the pre-squash Gaussian sample,
// as in bench task v1's reference ppo.py. This choice over a Dirichlet on
// the simplex: (i) it is the reference's, so results compare one to one;
// (ii) its log-density, entropy and their gradients are closed-form and
// numerically benign (a Dirichlet needs digamma functions and is unstable
// near the simplex's faces, where concentrated allocations live); (iii)
// its mean maps to a well-defined deterministic allocation (a Dirichlet's
// mode does not exist for concentrations below one). The price: the
// softmax is invariant to adding a constant to all logits, so one
// direction of the Gaussian is not identified and the entropy bonus is
// the logits' entropy, not the allocation's. Mode Deterministic uses the
// Gaussian's mean (the mode), Sample draws.
//
// With volatility timing the gate is part of the same distribution: logit
// 0, which is the cash logit without the gate, becomes the gate logit
// (Gaussian like the others, through a sigmoid), so the probability ratio,
// entropy and clipping cover the exposure decision too. The gate's output
// bias starts at ln N, so the initial exposure N/(N+1) matches the
// gate-free policy's initial allocation.
//
// With the flat trunk each logit has its own log σ (CleanRL); with the
// assets trunk there are two, for logit 0 and one shared by all assets,
// which keeps the policy permutation-equivariant and N-independent.
//
// # Implementation details
//
// Numbered after Huang et al. 2022, "The 37 Implementation Details of
// Proximal Policy Optimization" (ICLR blog track), which documents
// CleanRL/SB3/openai-baselines; configurable ones name their key.
//
//  1. Vectorised rollouts of num_envs × num_steps transitions (detail 1;
//     keys num_envs, num_steps).
//  2. Orthogonal initialisation, gain √2 for hidden layers, 0.01 for the
//     policy output and 1 for the value output, biases 0 (detail 2; key
//     init = "orthogonal" | "uniform").
//  3. Adam with ε = 1e-5 (detail 3; key adam_eps), nets.Adam (fused,
//     bit-identical to gorgonia's AdamSolver in float64; PyTorch's
//     single-precision Adam in float32).
//  4. Linear learning-rate annealing to 0 over the budget: lr =
//     (1 − progress)·learning_rate, progress from Rollout.Progress (detail
//     4; key anneal_lr).
//  5. Generalised advantage estimation (Schulman et al. 2016), values
//     recorded at collection time, bootstrapping from V(next observation)
//     after the last step (detail 5; keys gamma, gae_lambda).
//  6. Bootstrapping on truncation: a truncated step's reward gains
//     γ·V(final observation) before GAE, as SB3 does (Pardo et al. 2018,
//     "Time Limits in Reinforcement Learning"); CleanRL treats truncation
//     as termination. Portfolio episodes almost always end by truncation
//     (key bootstrap_truncated).
//  7. Minibatch updates: update_epochs passes over the rollout, each
//     shuffled into num_minibatches minibatches of equal size (detail 6;
//     keys update_epochs, num_minibatches).
//  8. Advantage normalisation per minibatch, (A − mean)/(std + 1e-8) with
//     Bessel's correction (detail 7; key norm_adv).
//  9. Clipped surrogate objective (detail 8; key clip_coef).
//  10. Value loss ½(V − R)², optionally clipped around the rollout values
//     with the same ε (detail 9; key clip_vloss).
//  11. Total loss L_pg − ent_coef·H + vf_coef·L_v (+ pred_coef·L_pred with
//     the dynamic embedding) through one backward pass and one optimiser
//     over actor and critic (detail 10; keys ent_coef, vf_coef).
//  12. Global gradient clipping to max_grad_norm over all parameters, as
//     torch.nn.utils.clip_grad_norm_ (detail 11; key max_grad_norm).
//  13. Approximate KL (k3 estimator, mean((r−1) − log r)) and clip
//     fraction as diagnostics (detail 12); optional early stop: SB3 skips
//     the step and ends the update when approx KL > 1.5·target_kl (key
//     target_kl, 0 = off).
//  14. Separate actor and critic networks without the dynamic embedding
//     (detail 13); they run concurrently on two goroutines (key parallel).
//     With the dynamic embedding they share the trunk and latent (SB3's
//     shared feature extractor), so value and prediction losses shape the
//     representation too.
//  15. State-independent log standard deviation, initialised to
//     log_std_init (continuous-action detail 2).
//  16. Independent Gaussian per action dimension, log-probabilities and
//     entropies summed (continuous-action detail 3).
//  17. No action clipping: unbounded logits are squashed onto the simplex
//     by the softmax, so the Gaussian's log-probability stays exact (the
//     bench reference's choice; continuous-action detail 4 clips instead).
//  18. No observation or reward normalisation inside the agent: they are
//     env wrappers in folio, checkpointed by the training loop
//     (continuous-action details 5-7).
//
// # Precision and speed
//
// The networks, their gradients and Adam's moments are float32 by default
// (precision = "float32", as PyTorch and the reference): nets' native
// engine then runs its matrix kernel eight lanes wide and moves half the
// memory. A minibatch step of bench task v1 took 0.22–0.26 ms in float32
// against 0.50–0.53 ms in float64 (two goroutines), a whole 2,048-step
// Update 65–86 ms against 129–147 ms, with the same learning (the
// learning tests pass in both; a float32 minibatch's loss and gradient
// agree with float64 to ~1e-7 relative). precision = "float64" gives the
// reference arithmetic, which the algorithm's tests use and which the
// gorgonia backend requires. The algorithm is written once: engines
// expose float64 inputs and outputs in either precision, and the few
// operations on the parameter vector itself (weights.go) are generic.
// With parallel = true the actor and critic towers, and each Adam step's
// two halves, run on one helper goroutine shared by every engine of the
// agent (nets.Runner); results are bit-identical to serial runs in either
// precision (tested).
//
// # Checkpoints
//
// Save writes nets' checkpoint format (kind "ppo"): parameters, Adam
// moments and step (float64 or float32 blocks, in the agent's precision),
// update and transition counters, the architecture (every tensor's shape
// and a description) and the hyperparameters except backend and parallel
// (the precision is part of them), as a hash and key by key. SaveWeights
// writes the same format marked weights-only with the parameters alone: a
// model file. Load restores a full state into the agent's existing
// buffers and refuses a model file (nets.ErrWeightsOnly) and files of
// another kind, architecture, configuration (naming each key that differs
// with both values) or format version, with an error naming both sides;
// LoadWeights reads the parameters of either kind of file, checks only
// the architecture and converts between precisions.
//
// # Imports
//
// ppo imports agents, env (for Spec only) and nets. It must not import
// train, eval or experiments, and nothing but nets (and the gorgonia
// backend inside it) touches gorgonia.
package ppo
