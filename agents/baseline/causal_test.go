package baseline

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// perturbAfter returns a copy of closes whose bars after cut are replaced
// by an unrelated random walk (continuing from the close at cut, so the
// panel stays valid).
func perturbAfter(closes [][]float64, cut int, index uint64) [][]float64 {
	rng := testRNG(index)
	out := make([][]float64, len(closes))
	for t := range closes {
		out[t] = slices.Clone(closes[t])
		if t > cut {
			for i := range out[t] {
				out[t][i] = out[t-1][i] * math.Exp(0.1*rng.NormFloat64())
			}
		}
	}
	return out
}

// TestCausality proves that every method decides from bars ≤ t only: a
// run on a panel whose every bar after t was replaced makes bit-identical
// decisions at every bar ≤ t, for several cut points, with the default
// schedule and with RebalanceEvery = 3, a drift band and a warm-up. bsh is
// the exception and is tested for the opposite in TestBSHUsesTheFuture.
func TestCausality(t *testing.T) {
	const n, T, from = 4, 160, 30
	closes := randomCloses(testRNG(30), T, n, 0, 0.04)
	pan := panelFromCloses(t, closes)
	base := configFor(Defaults(), n)
	base.Lookback, base.Online.AnticorWindow, base.BlackLitterman.MomentumWindow = 20, 5, 10
	sched := base
	sched.RebalanceEvery, sched.DriftBand, sched.Online.Warmup = 3, 0.02, 4
	for _, m := range Methods() {
		if m == BSH {
			continue
		}
		for ci, cfg := range []Config{base, sched} {
			t.Run(fmt.Sprintf("%s/config=%d", m, ci), func(t *testing.T) {
				ref := simulate(t, mustNew(t, m, cfg), pan, 0, from, T, testRNG(31), false)
				for k, cut := range []int{from, 70, 121} {
					alt := panelFromCloses(t, perturbAfter(closes, cut, uint64(40+k)))
					got := simulate(t, mustNew(t, m, cfg), alt, 0, from, T, testRNG(31), false)
					differs := false
					for j := range got.decisions {
						same := slices.Equal(got.decisions[j], ref.decisions[j])
						if from+j <= cut && !same {
							t.Fatalf("cut %d: decision at bar %d changed after perturbing bars > %d:\n%v\n%v", cut, from+j, cut, ref.decisions[j], got.decisions[j])
						}
						differs = differs || !same
					}
					// Methods whose target ignores prices only differ through
					// the held (drifted) weights of the schedule.
					dataFree := m == Cash || (ci == 0 && (m == EqualWeight || m == Constant || m == RandomDirichlet || m == UCRP))
					if !differs && !dataFree {
						t.Fatalf("cut %d: no decision after the cut changed: the perturbation does not reach this method", cut)
					}
				}
			})
		}
	}
}

// TestBSHUsesTheFuture: bsh picks the asset with the largest growth to the
// panel's last bar, so changing only the last bar changes its first
// decision. That is why it is labelled not implementable.
func TestBSHUsesTheFuture(t *testing.T) {
	closes := randomCloses(testRNG(32), 60, 4, 0, 0.03)
	pan := panelFromCloses(t, closes)
	r := simulate(t, mustNew(t, BSH, Defaults()), pan, 0, 10, 60, nil, false)
	best, bestG := -1, 0.0
	for i := range 4 {
		if g := closes[59][i] / closes[10][i]; best < 0 || g > bestG {
			best, bestG = i, g
		}
	}
	for j, d := range r.decisions {
		if d[best+1] != 1 {
			t.Fatalf("bar %d: %v, want all in asset %d", 10+j, d, best)
		}
	}
	// Make the worst asset the best by moving its last close only.
	worst := 0
	for i := range 4 {
		if closes[59][i]/closes[10][i] < closes[59][worst]/closes[10][worst] {
			worst = i
		}
	}
	alt := perturbAfter(closes, 60, 0)
	alt[59][worst] = closes[10][worst] * 10 * bestG
	r2 := simulate(t, mustNew(t, BSH, Defaults()), panelFromCloses(t, alt), 0, 10, 60, nil, false)
	if r2.decisions[0][worst+1] != 1 {
		t.Fatalf("first decision %v after changing only the last bar, want all in asset %d", r2.decisions[0], worst)
	}
}

// TestKBarClock: an online method with RebalanceEvery = k on a panel
// decides at its grid bars exactly as the same method with k = 1 on the
// panel of every k-th bar (the paper's algorithm on a coarser clock), and
// holds in between.
func TestKBarClock(t *testing.T) {
	const k, n, T = 3, 4, 150
	closes := randomCloses(testRNG(33), T, n, 0, 0.04)
	pan := panelFromCloses(t, closes)
	var sub [][]float64
	for u := 0; u < T; u += k {
		sub = append(sub, closes[u])
	}
	subPan := panelFromCloses(t, sub)
	for _, m := range []string{UBAH, UCRP, EG, ONS, OLMAR, PAMR, Anticor} {
		t.Run(m, func(t *testing.T) {
			cfg := Defaults()
			cfg.Online.AnticorWindow, cfg.Online.Warmup = 4, 3
			coarse := simulate(t, mustNew(t, m, cfg), subPan, 0, 10, subPan.T(), nil, false)
			cfg.RebalanceEvery = k
			fine := simulate(t, mustNew(t, m, cfg), pan, 0, 10*k, T, nil, false)
			for j, d := range fine.decisions {
				if j%k != 0 {
					if !slices.Equal(d, fine.pre[j]) {
						t.Fatalf("bar %d is off the grid and must hold", 10*k+j)
					}
					continue
				}
				if want := coarse.decisions[j/k]; !slices.Equal(d, want) {
					t.Fatalf("grid bar %d: %v, coarse clock %v", 10*k+j, d, want)
				}
			}
		})
	}
}

// TestBSHHorizonPerWindow: with SetHorizon at each test window's last bar,
// bsh's frictionless growth over the window equals the best single asset's
// close growth over that window (closed form: max_i close_end/close_start),
// so it is never below the uniform buy-and-hold of the same window. The
// panel is built so that the best asset to the panel's end differs from
// each window's best: ranking to the panel's end (the defect this guards
// against) fails here.
func TestBSHHorizonPerWindow(t *testing.T) {
	const n, T = 3, 90
	closes := make([][]float64, T)
	// Three 30-bar regimes: asset 0 leads, then asset 1, then asset 2,
	// with asset 2 far ahead at the panel's end.
	slope := [][]float64{{0.02, -0.005, 0.0}, {-0.01, 0.02, 0.001}, {0.0, -0.002, 0.05}}
	for tt := range T {
		closes[tt] = make([]float64, n)
		for i := range n {
			if tt == 0 {
				closes[tt][i] = 100
				continue
			}
			closes[tt][i] = closes[tt-1][i] * math.Exp(slope[(tt-1)/30][i]+0.003*math.Sin(float64(tt*(i+2))))
		}
	}
	pan := panelFromCloses(t, closes)
	folds := []struct{ start, end int }{{5, 29}, {30, 59}, {60, 89}, {12, 40}}
	p := mustNew(t, BSH, Defaults())
	// Equality of products of the same few ratios: a few ulps per bar.
	const tol = 1e-12
	for _, f := range folds {
		p.Reset()
		p.SetHorizon(f.end)
		r := simulate(t, p, pan, 0, f.start, f.end, nil, false)
		got := r.wealth[len(r.wealth)-1]
		best, bestG, ubah := -1, 0.0, 0.0
		for i := range n {
			g := closes[f.end][i] / closes[f.start][i]
			ubah += g / n
			if best < 0 || g > bestG {
				best, bestG = i, g
			}
		}
		if math.Abs(got-bestG) > tol*bestG {
			t.Errorf("window [%d, %d]: bsh grew %v, the best asset %d grew %v", f.start, f.end, got, best, bestG)
		}
		if got < ubah*(1-tol) {
			t.Errorf("window [%d, %d]: bsh grew %v < uniform buy-and-hold %v", f.start, f.end, got, ubah)
		}
		toEnd := 0
		for i := range n {
			if closes[T-1][i]/closes[f.start][i] > closes[T-1][toEnd]/closes[f.start][toEnd] {
				toEnd = i
			}
		}
		if f.end < T-1 && toEnd == best {
			t.Fatalf("window [%d, %d]: the fixture does not separate the window's best asset from the best to the panel's end", f.start, f.end)
		}
	}
	// Without a horizon (negative) bsh ranks to the panel's last bar.
	p.Reset()
	p.SetHorizon(-1)
	r := simulate(t, p, pan, 0, 5, 29, nil, false)
	if r.decisions[0][3] != 1 {
		t.Errorf("no horizon: first decision %v, want all in asset 2 (best to the panel's end)", r.decisions[0])
	}
	// A horizon not after the first decision falls back to the panel's end
	// and says so.
	q := mustNew(t, BSH, Defaults())
	q.SetHorizon(5)
	r = simulate(t, q, pan, 0, 10, 20, nil, false)
	if r.decisions[0][3] != 1 || len(q.Diagnostics().Fallbacks) != 1 {
		t.Errorf("horizon before the decision: first decision %v, fallbacks %v; want asset 2 and one fallback", r.decisions[0], q.Diagnostics().Fallbacks)
	}
}
