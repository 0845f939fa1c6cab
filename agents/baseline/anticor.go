package baseline

import "math"

// anticor is the single-window Anticor_w algorithm of Borodin, El-Yaniv
// and Gogan (2004, "Can we learn to beat the best stock", JAIR 21, Fig. 1),
// not the BAH_W(Anticor) combination over windows 2…W.
//
// At grid bar g, with LX1 the log relatives of the periods
// g−(2w−1)k … g−wk and LX2 those of g−(w−1)k … g (w each):
//
//	μ1, μ2       column means of LX1 and LX2
//	σ1, σ2       column standard deviations (divisor w−1)
//	Mcor(i, j)   Σ_r (LX1ᵣᵢ − μ1ᵢ)(LX2ᵣⱼ − μ2ⱼ) / ((w−1)σ1ᵢσ2ⱼ), 0 if σ1ᵢσ2ⱼ = 0
//	claim(i→j)   Mcor(i,j) + A(i) + A(j) if μ2ᵢ > μ2ⱼ and Mcor(i,j) > 0, else 0,
//	             with A(h) = max(0, −Mcor(h,h))
//	transfer     b̃ᵢ·claim(i→j)/Σⱼ claim(i→j)
//	b            b̃ᵢ + Σⱼ (transfer(j→i) − transfer(i→j))
//
// b̃ is the current portfolio at the end of the period — the previous
// portfolio drifted by the period's relatives, b⊙x/(b·x) — as in the
// paper, whose "current portfolio" is the one held at the close (OLPS
// passes the undrifted one). The claim condition is the paper's strict
// μ2ᵢ > μ2ⱼ, so no asset claims from itself (OLPS uses ≥, which adds a
// self-claim to the normaliser). Until 2w relatives are available in the
// history the algorithm returns b̃, i.e. it does not trade.
type anticor struct {
	w int

	n                      int
	ring                   []float64 // 2w×n log relatives of consecutive periods, a ring
	head                   int       // ring row of the oldest period
	newest                 int       // grid bar of the newest period in the ring
	filled                 bool      // the ring holds the 2w periods ending at newest
	lx                     []float64 // 2w×n log relatives in time order, then centred
	mu1, mu2, sd1, sd2     []float64
	mcor, claim, transfers []float64 // n×n
}

func (a *anticor) start(n int) {
	a.n = n
	a.ring = grow(a.ring, 2*a.w*n)
	a.lx = grow(a.lx, 2*a.w*n)
	a.filled = false
	for _, s := range []*[]float64{&a.mu1, &a.mu2, &a.sd1, &a.sd2} {
		*s = grow(*s, n)
	}
	a.mcor = grow(a.mcor, n*n)
	a.claim = grow(a.claim, n*n)
	a.transfers = grow(a.transfers, n*n)
}

// logRow writes the log relatives of the period ending at grid bar p.
func logRow(dst []float64, c *clock, p int) {
	cur, _ := c.closes(p)
	prev, _ := c.closes(p - c.k)
	for i := range dst {
		dst[i] = math.Log(cur[i] / prev[i])
	}
}

// window fills a.lx with the log relatives of the 2w periods ending at g,
// oldest first. Consecutive updates add one period to the ring; otherwise
// the ring is refilled.
func (a *anticor) window(c *clock, g int) {
	n, rows := a.n, 2*a.w
	if a.filled && a.newest == g-c.k {
		logRow(a.ring[a.head*n:(a.head+1)*n], c, g)
		a.head = (a.head + 1) % rows
	} else {
		for r := range rows {
			logRow(a.ring[r*n:(r+1)*n], c, g-(rows-1-r)*c.k)
		}
		a.head = 0
	}
	a.newest, a.filled = g, true
	for r := range rows {
		src := (a.head + r) % rows
		copy(a.lx[r*n:(r+1)*n], a.ring[src*n:(src+1)*n])
	}
}

func (a *anticor) update(b, x []float64, c *clock, g int, _ *step) {
	n, w := a.n, a.w
	// b̃: the portfolio at the end of the period.
	bx := dot(b, x)
	for i := range b {
		b[i] *= x[i] / bx
	}
	if _, ok := c.closes(g - 2*w*c.k); !ok {
		a.filled = false
		return
	}
	a.window(c, g)
	lx1, lx2 := a.lx[:w*n], a.lx[w*n:]
	colStats(a.mu1, a.sd1, lx1, w, n)
	colStats(a.mu2, a.sd2, lx2, w, n)
	// Centre both windows, then Mcov = LX1ᵀLX2/(w−1) as a sum of rank-one
	// updates (contiguous inner loop).
	for r := range w {
		for i := range n {
			lx1[r*n+i] -= a.mu1[i]
			lx2[r*n+i] -= a.mu2[i]
		}
	}
	clear(a.mcor)
	for r := range w {
		r1, r2 := lx1[r*n:(r+1)*n], lx2[r*n:(r+1)*n]
		for i, v := range r1 {
			row := a.mcor[i*n : (i+1)*n]
			for j, u := range r2 {
				row[j] += v * u
			}
		}
	}
	for i := range n {
		for j := range n {
			s := a.sd1[i] * a.sd2[j]
			m := 0.0
			if s != 0 {
				m = a.mcor[i*n+j] / float64(w-1) / s
			}
			a.mcor[i*n+j] = m
		}
	}
	for i := range n {
		ai := math.Max(0, -a.mcor[i*n+i])
		total := 0.0
		for j := range n {
			cl := 0.0
			if m := a.mcor[i*n+j]; a.mu2[i] > a.mu2[j] && m > 0 {
				cl = m + ai + math.Max(0, -a.mcor[j*n+j])
			}
			a.claim[i*n+j] = cl
			total += cl
		}
		for j := range n {
			t := 0.0
			if total > 0 {
				t = b[i] * a.claim[i*n+j] / total
			}
			a.transfers[i*n+j] = t
		}
	}
	for i := range n {
		for j := range n {
			b[i] += a.transfers[j*n+i] - a.transfers[i*n+j]
		}
	}
	// The transfers out of asset i sum to at most b̃ᵢ, so b stays on the
	// simplex up to rounding; clamp the rounding.
	for i := range b {
		b[i] = math.Max(b[i], 0)
	}
}

// colStats writes the column means and standard deviations (divisor
// rows−1) of the rows×n row-major matrix m.
func colStats(mu, sd, m []float64, rows, n int) {
	clear(mu)
	clear(sd)
	for r := range rows {
		for i := range n {
			mu[i] += m[r*n+i]
		}
	}
	for i := range n {
		mu[i] /= float64(rows)
	}
	for r := range rows {
		for i := range n {
			d := m[r*n+i] - mu[i]
			sd[i] += d * d
		}
	}
	for i := range n {
		sd[i] = math.Sqrt(sd[i] / float64(rows-1))
	}
}
