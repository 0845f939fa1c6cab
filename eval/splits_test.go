package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/folio-rl/folio/internal/seed"
)

func TestWalkForwardHandPlans(t *testing.T) {
	// Hand-worked: 20 bars, train 8, test 4, embargo 1 → the first test
	// window starts at 8 + 1 = 9; test windows [9,13), [13,17), then [17,21)
	// runs past bar 19 (partial: [17,20)). Rolling training windows end one
	// bar (the embargo) before each test window and span 8 bars.
	for _, tc := range []struct {
		name string
		plan WalkForwardPlan
		bars int
		want []Fold
	}{
		{"rolling", WalkForwardPlan{Train: 8, Test: 4, Embargo: 1}, 20, []Fold{
			{0, Range{0, 8}, Range{9, 13}},
			{1, Range{4, 12}, Range{13, 17}},
		}},
		{"rolling partial", WalkForwardPlan{Train: 8, Test: 4, Embargo: 1, AllowPartial: true}, 20, []Fold{
			{0, Range{0, 8}, Range{9, 13}},
			{1, Range{4, 12}, Range{13, 17}},
			{2, Range{8, 16}, Range{17, 20}},
		}},
		{"expanding", WalkForwardPlan{Train: 8, Test: 4, Embargo: 1, Expanding: true}, 20, []Fold{
			{0, Range{0, 8}, Range{9, 13}},
			{1, Range{0, 12}, Range{13, 17}},
		}},
		{"overlapping step 2, start 3, no embargo", WalkForwardPlan{Train: 5, Test: 4, Step: 2, Start: 3}, 16, []Fold{
			// first test start = 3 + 5 = 8: [8,12), [10,14), [12,16).
			{0, Range{3, 8}, Range{8, 12}},
			{1, Range{5, 10}, Range{10, 14}},
			{2, Range{7, 12}, Range{12, 16}},
		}},
		{"gapped step 6", WalkForwardPlan{Train: 4, Test: 3, Step: 6, Embargo: 2, Expanding: true}, 22, []Fold{
			// first test start = 4 + 2 = 6: [6,9), [12,15), [18,21).
			{0, Range{0, 4}, Range{6, 9}},
			{1, Range{0, 10}, Range{12, 15}},
			{2, Range{0, 16}, Range{18, 21}},
		}},
		{"exactly one fold", WalkForwardPlan{Train: 3, Test: 2}, 5, []Fold{
			{0, Range{0, 3}, Range{3, 5}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.plan.Folds(tc.bars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("folds\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestWalkForwardProperties(t *testing.T) {
	rng := seed.New(14, seed.Test, 0)
	for k := range 300 {
		p := WalkForwardPlan{
			Train:        1 + rng.IntN(50),
			Test:         1 + rng.IntN(30),
			Embargo:      rng.IntN(5),
			Start:        rng.IntN(10),
			Expanding:    rng.IntN(2) == 0,
			AllowPartial: rng.IntN(2) == 0,
		}
		tile := rng.IntN(2) == 0
		if !tile {
			p.Step = 1 + rng.IntN(40)
		}
		bars := 1 + rng.IntN(400)
		folds, err := p.Folds(bars)
		if err != nil {
			if !errors.Is(err, ErrPlan) {
				t.Fatalf("plan %+v: error %v does not wrap ErrPlan", p, err)
			}
			if bars >= p.Start+p.Train+p.Embargo+p.Test {
				t.Fatalf("plan %+v over %d bars rejected: %v", p, bars, err)
			}
			continue
		}
		for i, f := range folds {
			switch {
			case f.Index != i:
				t.Fatalf("case %d: fold %d has index %d", k, i, f.Index)
			case f.Train.Start < p.Start || f.Test.End > bars || f.Train.Len() < p.Train || f.Test.Len() < 1:
				t.Fatalf("case %d plan %+v bars %d: fold %v out of bounds", k, p, bars, f)
			case !p.Expanding && f.Train.Len() != p.Train:
				t.Fatalf("case %d: rolling fold %v has %d training bars, want %d", k, f, f.Train.Len(), p.Train)
			case f.Test.Start-f.Train.End != p.Embargo:
				// No training bar within the embargo of any test bar: the gap
				// is exactly the embargo (training precedes testing).
				t.Fatalf("case %d: fold %v gap %d, want embargo %d", k, f, f.Test.Start-f.Train.End, p.Embargo)
			case !p.AllowPartial && f.Test.Len() != p.Test:
				t.Fatalf("case %d: partial fold %v kept", k, f)
			}
		}
		// No fold was left out at the end.
		step := p.Step
		if step == 0 {
			step = p.Test
		}
		next := folds[len(folds)-1].Test.Start + step
		if p.AllowPartial && next < bars || !p.AllowPartial && next+p.Test <= bars {
			t.Fatalf("case %d plan %+v bars %d: the fold starting at %d was dropped", k, p, bars, next)
		}
		if tile {
			// Step = Test: test windows tile the out-of-sample period.
			for i := 1; i < len(folds); i++ {
				if folds[i].Test.Start != folds[i-1].Test.End {
					t.Fatalf("case %d: test windows %v and %v do not tile", k, folds[i-1].Test, folds[i].Test)
				}
			}
			if folds[0].Test.Start != p.Start+p.Train+p.Embargo {
				t.Fatalf("case %d: first test window %v", k, folds[0].Test)
			}
		}
	}
}

func TestWalkForwardErrors(t *testing.T) {
	for _, tc := range []struct {
		plan WalkForwardPlan
		bars int
	}{
		{WalkForwardPlan{Train: 0, Test: 5}, 100},
		{WalkForwardPlan{Train: 5, Test: 0}, 100},
		{WalkForwardPlan{Train: 5, Test: 5, Step: -1}, 100},
		{WalkForwardPlan{Train: 5, Test: 5, Embargo: -1}, 100},
		{WalkForwardPlan{Train: 5, Test: 5, Start: -1}, 100},
		{WalkForwardPlan{Train: 50, Test: 30, Embargo: 1}, 80},
		{WalkForwardPlan{Train: 50, Test: 30, Embargo: 1, AllowPartial: true}, 51},
	} {
		if f, err := tc.plan.Folds(tc.bars); !errors.Is(err, ErrPlan) {
			t.Errorf("%+v over %d bars: %v, %v; want ErrPlan", tc.plan, tc.bars, f, err)
		}
	}
}

func TestCPCVHandPlan(t *testing.T) {
	// Hand-worked: 12 bars, N = 4 groups of 3: [0,3) [3,6) [6,9) [9,12);
	// k = 2, horizon 1, embargo 1. A test group [a,b) removes training bars
	// [a−1, b+2). Splits in lexicographic order and their training bars:
	//   {0,1}: excluded [0,5) ∪ [2,8)  → train [8,12)
	//   {0,2}: excluded [0,5) ∪ [5,11) → train [11,12)
	//   {0,3}: excluded [0,5) ∪ [8,12) → train [5,8)
	//   {1,2}: excluded [2,8) ∪ [5,11) → train [0,2) ∪ [11,12)
	//   {1,3}: excluded [2,8) ∪ [8,12) → train [0,2)
	//   {2,3}: excluded [5,11) ∪ [8,12) → train [0,5)
	// φ = C(3,1) = 3 paths. Group 0 is tested by splits 0,1,2; group 1 by
	// 0,3,4; group 2 by 1,3,5; group 3 by 2,4,5; path j takes the j-th.
	c := CPCV{Groups: 4, TestGroups: 2, Horizon: 1, Embargo: 1}
	res, err := c.Plan(12)
	if err != nil {
		t.Fatal(err)
	}
	g := []Range{{0, 3}, {3, 6}, {6, 9}, {9, 12}}
	if !reflect.DeepEqual(res.Groups, g) {
		t.Fatalf("groups %v", res.Groups)
	}
	wantTrain := [][]Range{{{8, 12}}, {{11, 12}}, {{5, 8}}, {{0, 2}, {11, 12}}, {{0, 2}}, {{0, 5}}}
	wantTest := [][]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}
	if len(res.Splits) != 6 || c.NumSplits() != 6 || c.NumPaths() != 3 {
		t.Fatalf("%d splits, NumSplits %d, NumPaths %d", len(res.Splits), c.NumSplits(), c.NumPaths())
	}
	for i, sp := range res.Splits {
		if !reflect.DeepEqual(sp.Train, wantTrain[i]) || !reflect.DeepEqual(sp.TestGroups, wantTest[i]) ||
			!reflect.DeepEqual(sp.Test, []Range{g[wantTest[i][0]], g[wantTest[i][1]]}) || sp.Index != i {
			t.Errorf("split %d: %+v, want test groups %v train %v", i, sp, wantTest[i], wantTrain[i])
		}
	}
	piece := func(split, group int) PathPiece { return PathPiece{split, group, g[group]} }
	wantPaths := [][]PathPiece{
		{piece(0, 0), piece(0, 1), piece(1, 2), piece(2, 3)},
		{piece(1, 0), piece(3, 1), piece(3, 2), piece(4, 3)},
		{piece(2, 0), piece(4, 1), piece(5, 2), piece(5, 3)},
	}
	if !reflect.DeepEqual(res.Paths, wantPaths) {
		t.Errorf("paths\n got %v\nwant %v", res.Paths, wantPaths)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Error(err)
	}
}

func TestCPCVProperties(t *testing.T) {
	rng := seed.New(15, seed.Test, 0)
	for k := range 60 {
		c := CPCV{Groups: 2 + rng.IntN(8), Horizon: rng.IntN(4), Embargo: rng.IntN(4)}
		c.TestGroups = 1 + rng.IntN(c.Groups-1)
		bars := c.Groups*(1+2*(c.Horizon+c.Embargo)) + rng.IntN(200)
		res, err := c.Plan(bars)
		if err != nil {
			t.Fatalf("case %d %+v over %d bars: %v", k, c, bars, err)
		}
		name := fmt.Sprintf("case %d %+v bars %d", k, c, bars)
		if len(res.Splits) != c.NumSplits() || len(res.Paths) != c.NumPaths() {
			t.Fatalf("%s: %d splits, %d paths", name, len(res.Splits), len(res.Paths))
		}
		// φ = k/N·C(N,k) must equal C(N−1,k−1).
		if c.TestGroups*c.NumSplits() != c.Groups*c.NumPaths() {
			t.Fatalf("%s: φ = %d ≠ k/N·C(N,k)", name, c.NumPaths())
		}
		for _, sp := range res.Splits {
			inTrain := make([]bool, bars)
			for _, r := range sp.Train {
				for b := r.Start; b < r.End; b++ {
					inTrain[b] = true
				}
			}
			for _, r := range sp.Test {
				// No training bar whose label window [b, b+h] meets the test
				// labels [a, end−1+h] or falls in the embargo after the group.
				for b := max(r.Start-c.Horizon, 0); b < min(r.End+c.Horizon+c.Embargo, bars); b++ {
					if inTrain[b] {
						t.Fatalf("%s: split %v trains on bar %d next to test group %v", name, sp.TestGroups, b, r)
					}
				}
			}
			// Everything else trains: purging removes only what it must.
			for b := range bars {
				near := false
				for _, r := range sp.Test {
					near = near || (b >= r.Start-c.Horizon && b < r.End+c.Horizon+c.Embargo)
				}
				if !near && !inTrain[b] {
					t.Fatalf("%s: split %v drops bar %d", name, sp.TestGroups, b)
				}
			}
		}
		// Every bar tested in exactly φ paths, once per path.
		tested := make([]int, bars)
		for _, p := range res.Paths {
			once := make([]int, bars)
			for gi, pc := range p {
				if pc.Group != gi || pc.Bars != res.Groups[gi] {
					t.Fatalf("%s: path piece %d is %+v", name, gi, pc)
				}
				if !contains(res.Splits[pc.Split].TestGroups, pc.Group) {
					t.Fatalf("%s: piece %+v uses a split that does not test its group", name, pc)
				}
				for b := pc.Bars.Start; b < pc.Bars.End; b++ {
					once[b]++
					tested[b]++
				}
			}
			for b, n := range once {
				if n != 1 {
					t.Fatalf("%s: bar %d appears %d times in one path", name, b, n)
				}
			}
		}
		for b, n := range tested {
			if n != c.NumPaths() {
				t.Fatalf("%s: bar %d tested in %d paths, want φ = %d", name, b, n, c.NumPaths())
			}
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCPCVErrors(t *testing.T) {
	for _, tc := range []struct {
		c    CPCV
		bars int
	}{
		{CPCV{Groups: 1, TestGroups: 1}, 100},
		{CPCV{Groups: 5, TestGroups: 0}, 100},
		{CPCV{Groups: 5, TestGroups: 5}, 100},
		{CPCV{Groups: 5, TestGroups: 2, Horizon: -1}, 100},
		{CPCV{Groups: 5, TestGroups: 2, Embargo: -1}, 100},
		{CPCV{Groups: 5, TestGroups: 2}, 4},
		{CPCV{Groups: 40, TestGroups: 20}, 1000},                     // 1.4e11 splits
		{CPCV{Groups: 3, TestGroups: 2, Horizon: 5, Embargo: 5}, 12}, // purge leaves nothing
	} {
		if _, err := tc.c.Plan(tc.bars); !errors.Is(err, ErrPlan) {
			t.Errorf("%+v over %d bars: %v, want ErrPlan", tc.c, tc.bars, err)
		}
	}
}

func TestBinomialAndCombinations(t *testing.T) {
	for _, tc := range []struct{ n, k, want int }{{5, 2, 10}, {16, 8, 12870}, {10, 0, 1}, {10, 10, 1}, {3, 4, 0}, {62, 31, 465428353255261088}} {
		if got := binomial(tc.n, tc.k); got != tc.want {
			t.Errorf("C(%d,%d) = %d, want %d", tc.n, tc.k, got, tc.want)
		}
	}
	if binomial(200, 100) != -1 {
		t.Error("overflow not reported")
	}
	var cs [][]int
	for i, c := range combinations(5, 3) {
		if i != len(cs) {
			t.Fatalf("index %d at position %d", i, len(cs))
		}
		cs = append(cs, slices.Clone(c))
	}
	if len(cs) != 10 || !reflect.DeepEqual(cs[0], []int{0, 1, 2}) || !reflect.DeepEqual(cs[9], []int{2, 3, 4}) || !reflect.DeepEqual(cs[3], []int{0, 2, 3}) {
		t.Errorf("combinations(5,3) = %v", cs)
	}
}

func ExampleWalkForwardPlan_Folds() {
	// Two years of daily bars, train one year, test a quarter, one-bar
	// embargo, rolling.
	plan := WalkForwardPlan{Train: 365, Test: 91, Embargo: 1}
	folds, err := plan.Folds(730)
	if err != nil {
		panic(err)
	}
	for _, f := range folds {
		fmt.Printf("fold %d: train %v test %v\n", f.Index, f.Train, f.Test)
	}
	// Output:
	// fold 0: train {0 365} test {366 457}
	// fold 1: train {91 456} test {457 548}
	// fold 2: train {182 547} test {548 639}
	// fold 3: train {273 638} test {639 730}
}

func ExampleCPCV_Plan() {
	c := CPCV{Groups: 6, TestGroups: 2, Horizon: 1, Embargo: 5}
	res, err := c.Plan(600)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d splits, %d paths; split 0 tests %v and trains on %v\n",
		len(res.Splits), len(res.Paths), res.Splits[0].Test, res.Splits[0].Train)
	// Output:
	// 15 splits, 5 paths; split 0 tests [{0 100} {100 200}] and trains on [{206 600}]
}
