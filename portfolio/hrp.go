package portfolio

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Linkage is one merge of an agglomerative clustering in scipy's format:
// clusters A < B (ids below N are assets, id N+k is the cluster formed by
// merge k) join at Distance into a cluster of Size assets.
type Linkage struct {
	A, B     int
	Distance float64
	Size     int
}

// HRPWeights returns the hierarchical risk parity weights of López de
// Prado (2016), "Building diversified portfolios that outperform out of
// sample", J. Portfolio Management 42(4), for the covariance cov, together
// with the quasi-diagonal order of the assets and the linkage:
//
//  1. correlation distance dᵢⱼ = √((1 − ρᵢⱼ)/2);
//  2. single-linkage clustering on d (as scipy's linkage(squareform(d),
//     "single"), the choice of PyPortfolioOpt and Riskfolio; the paper's
//     code passes the square matrix, which makes scipy cluster on the
//     Euclidean distances between the columns of d instead);
//  3. quasi-diagonalisation: the leaves of the dendrogram in order, each
//     merge listing its lower-id child first;
//  4. recursive bisection: split every list of assets in the middle
//     (not along the tree, as in the paper), give the halves the
//     inverse-variance portfolio of their block of cov and their variances
//     V₁, V₂, and scale their weights by 1 − V₁/(V₁+V₂) and
//     1 − V₂/(V₁+V₂).
//
// It returns an error if an asset has zero variance. Ties between equal
// distances are broken by asset order.
func HRPWeights(cov mat.Symmetric) (w []float64, order []int, link []Linkage, err error) {
	n := cov.SymmetricDim()
	sd := make([]float64, n)
	for i := range n {
		v := cov.At(i, i)
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, nil, nil, fmt.Errorf("asset %d has variance %v", i, v)
		}
		sd[i] = math.Sqrt(v)
	}
	dist := func(i, j int) float64 {
		rho := cov.At(i, j) / (sd[i] * sd[j])
		return math.Sqrt(math.Max(0, (1-rho)/2))
	}
	link = singleLinkage(n, dist)
	order = quasiDiag(n, link)
	w = make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	bisect(w, order, cov)
	return w, order, link, nil
}

// singleLinkage builds the single-linkage dendrogram from the minimum
// spanning tree (Prim's algorithm, O(n²)): merging the tree's edges in
// increasing order of length gives exactly the single-linkage merges
// (Gower and Ross 1969), which is also how scipy computes them.
func singleLinkage(n int, dist func(i, j int) float64) []Linkage {
	type edge struct {
		u, v int
		d    float64
	}
	edges := make([]edge, 0, n-1)
	inTree := make([]bool, n)
	best := make([]float64, n)
	from := make([]int, n)
	for i := range best {
		best[i] = math.Inf(1)
	}
	cur := 0
	inTree[0] = true
	for range n - 1 {
		next := -1
		for j := range n {
			if inTree[j] {
				continue
			}
			if d := dist(cur, j); d < best[j] {
				best[j], from[j] = d, cur
			}
			if next < 0 || best[j] < best[next] {
				next = j
			}
		}
		edges = append(edges, edge{from[next], next, best[next]})
		inTree[next] = true
		cur = next
	}
	sort.SliceStable(edges, func(a, b int) bool { return edges[a].d < edges[b].d })

	// Union–find over cluster ids; root[x] is the id of x's current cluster.
	parent := make([]int, n)
	id := make([]int, n)
	size := make([]int, n)
	for i := range parent {
		parent[i], id[i], size[i] = i, i, 1
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	link := make([]Linkage, 0, n-1)
	for k, e := range edges {
		ru, rv := find(e.u), find(e.v)
		a, b := id[ru], id[rv]
		if a > b {
			a, b = b, a
		}
		link = append(link, Linkage{A: a, B: b, Distance: e.d, Size: size[ru] + size[rv]})
		parent[rv] = ru
		size[ru] += size[rv]
		id[ru] = n + k
	}
	return link
}

// quasiDiag lists the leaves of the dendrogram from the root, lower-id
// child first.
func quasiDiag(n int, link []Linkage) []int {
	if n == 1 {
		return []int{0}
	}
	order := make([]int, 0, n)
	stack := []int{n + len(link) - 1}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c < n {
			order = append(order, c)
			continue
		}
		l := link[c-n]
		stack = append(stack, l.B, l.A) // A is visited first
	}
	return order
}

// bisect applies López de Prado's recursive bisection to w over the
// assets in order.
func bisect(w []float64, order []int, cov mat.Symmetric) {
	if len(order) < 2 {
		return
	}
	half := len(order) / 2
	left, right := order[:half], order[half:]
	v1, v2 := clusterVar(left, cov), clusterVar(right, cov)
	alpha := 1 - v1/(v1+v2)
	for _, i := range left {
		w[i] *= alpha
	}
	for _, i := range right {
		w[i] *= 1 - alpha
	}
	bisect(w, left, cov)
	bisect(w, right, cov)
}

// clusterVar is the variance of the inverse-variance portfolio of the
// assets in c.
func clusterVar(c []int, cov mat.Symmetric) float64 {
	iv := make([]float64, len(c))
	sum := 0.0
	for k, i := range c {
		iv[k] = 1 / cov.At(i, i)
		sum += iv[k]
	}
	v := 0.0
	for a, i := range c {
		for b, j := range c {
			v += iv[a] * cov.At(i, j) * iv[b]
		}
	}
	return v / (sum * sum)
}

func (a *allocator) hrp() (outcome, error) {
	w, _, _, err := HRPWeights(a.cov)
	if err != nil {
		return outcome{}, err
	}
	a.capped(w, HRP)
	return outcome{w: w}, nil
}
