// Package synth generates folio's embedded default market: a synthetic panel
// of crypto-like assets that needs no files, is fully determined by a seed,
// and carries the true regime of every bar, so that regime labellers and
// regime-aware agents can be checked against ground truth.
//
// It may import the standard library, gonum, env/market and internal/seed.
// It must not import env, agents, nets, eval, train, experiments or
// gorgonia: it produces a *market.Panel and nothing more.
//
// # Model
//
// Returns are log returns; rates, drifts and volatilities in Config are per
// day (see "Bar interval"). A four-state Markov chain s_t ∈ {bull, bear,
// sideways, crash} (market.Regimes order) starts from its stationary
// distribution and switches with Config.Transition. Asset i has a
// volatility multiplier m_i = exp(VolDispersion·Z), a market loading b_i ~
// U[LoadingMin, 1] and a drift offset a_i ~ N(0, DriftDispersion²), all
// drawn from the seed. Its log return over bar t, in regime r = s_t, is
//
//	r_it = μ_r·b_i·m_i + a_i
//	     + σ_r·m_i·( b_i·√ρ_r·√h^M_t·ε^M_t + √(1 − b_i²ρ_r)·√h^i_t·ε^i_t )
//	     + b_i·m_i·J^M_t + m_i·J^i_t
//
// where μ, σ, ρ are Drift, Volatility and Correlation; ε are unit-variance
// Student-t innovations with TailDOF degrees of freedom; h are GARCH(1,1)
// variance multipliers with unit mean, h_{t+1} = (1−α−β) + α·h_t·ε_t² +
// β·h_t, one for the market factor and one per asset; J^M is a compound
// Poisson sum of market-wide jumps (rate JumpIntensity_r, sizes
// N(JumpMean_r, JumpVol²)) and J^i of asset-specific jumps (rate
// IdioJumpIntensity, sizes N(IdioJumpMean, IdioJumpVol²)). Two assets'
// diffusive returns correlate ρ_r·b_i·b_j, so correlation rises with the
// crash regime's ρ; common jumps raise it further on the worst days.
//
// Bars: open = previous close (bar 0 opens at a price drawn log-uniformly
// on [1, 1000)), close = open·exp(r). High and low are the extremes of a
// Brownian bridge from 0 to r whose volatility is RangeScale times the
// bar's conditional diffusive volatility, each drawn exactly from its
// marginal law by inversion; high ≥ max(open, close) and low ≤
// min(open, close) by construction. Dollar volume is log-normal around the
// asset's median VolumeUSD·exp(VolumeDispersion·Z), with elasticity
// VolumeVolElasticity to the bar's volatility (a blend of the conditional
// and the realised squared move) and AR(1) noise; the panel stores base
// volume = dollar volume / close. The true regime of bar t is s_t, the
// regime that drove its move from the previous close.
//
// # Seeds and determinism
//
// Generate(c, root) uses internal/seed streams with purpose seed.Synth:
// index 0 for the regime chain, market factor and market jumps, index 1+i
// for asset i (its parameters first, then its bars). The same (c, root)
// gives a bit-identical panel (same Fingerprint) on the same platform;
// across CPU architectures math.Exp/Log and fused multiply-adds may differ
// in the last bit. Extending Bars keeps every earlier bar, and asset i's
// path does not depend on how many assets are generated.
//
// # Bar interval
//
// For a bar of dt = Interval/24h days: drifts and jump rates scale by dt,
// volatilities by √dt; the probability of staying in a regime becomes
// p_rr^dt, with the exit split among the other regimes in the daily
// proportions, so expected durations in days are preserved (and the
// stationary shares nearly so); GARCH persistence α+β becomes (α+β)^dt,
// with α·dt for intraday bars (a day of bars moves h like one daily bar fed
// with the day's mean squared shock) and the split α/(α+β) kept for bars
// longer than a day; the volume AR coefficient becomes φ^dt and median
// volume scales by dt. Tests check that hourly, 4-hour and daily panels have
// the same annualised volatility as the closed-form variance of the model.
//
// # Calibration
//
// Defaults were calibrated against the real Binance daily data of
// 2017–2024 (../shared/data/real/daily). TestStylizedFacts computes the
// facts below on 20 synthetic assets × 24,000 days (seed 1) cut into
// chunks of 2,400 days (the length of the real histories; each fact is the
// median over chunks) and asserts each lies in a stated band around the
// real value; the real values are re-measured by TestRealFactsReference
// whenever the data are present. Measured:
//
//	fact                                        real              synthetic
//	annualised vol across assets (min/med/max)  0.72/1.03/1.41    0.77/0.92/1.45
//	excess kurtosis of daily returns (median)   13.7              15.3
//	ACF of |r|, lag 1 / 5 / 10                  0.233/0.149/0.112 0.222/0.138/0.091
//	average pairwise correlation                0.686             0.689
//	  on the worst decile of index days         0.700             0.680
//	  on the other days                         0.527             0.552
//	  on days starting in a >30 % index drawdown  0.722             0.677
//	  on the other days                           0.598             0.681
//	Parkinson / close-to-close volatility       1.077             1.073
//	corr(detrended log dollar volume, |r|)      0.427             0.440
//
// The real per-asset facts use the 22 crypto assets (PAXG, a gold token, is
// left out); the correlations use the ten assets listed since mid-2018 on
// their common calendar (2,394 days). The "index" is the equal-weight mean
// of the assets' daily log returns.
package synth
