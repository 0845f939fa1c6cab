package eval

import (
	"fmt"
	"strconv"
	"strings"
)

// CPCVLayout records how a combinatorial purged cross-validation was laid
// over the panel, so that a reader can check what was run: the plan, the
// bars it covered and the bars of every group. All bar numbers index the
// panel (Results.Times); ranges are half-open.
type CPCVLayout struct {
	// Groups is the number of groups N.
	Groups int `json:"groups"`
	// TestGroups is the number of test groups per split k.
	TestGroups int `json:"test_groups"`
	// Splits is C(N, k), the number of train/test splits run.
	Splits int `json:"splits"`
	// Paths is φ = k/N·C(N, k), the number of backtest paths.
	Paths int `json:"paths"`
	// Horizon is the label horizon in bars: the training bars purged
	// before each test group (and after it, with Embargo).
	Horizon int `json:"horizon"`
	// Embargo is the number of training bars embargoed after each test
	// group, after the purge.
	Embargo int `json:"embargo"`
	// Bars is the range of panel bars the groups cover.
	Bars Range `json:"bars"`
	// GroupBars holds the panel bars of every group, in order: contiguous,
	// non-overlapping, their union Bars.
	GroupBars []Range `json:"group_bars"`
	// PathReturns is the number of out-of-sample returns in every path. It
	// can be less than Bars.Len(): a bar without a decision before it (the
	// first usable bar) earns no return.
	PathReturns int `json:"path_returns"`
}

// Layout records plan res of c laid over the panel bars [offset,
// offset+bars), where bars is the number res was planned over. The caller
// sets PathReturns, which depends on how the test groups are backtested.
func (c CPCV) Layout(res CPCVResult, offset int) CPCVLayout {
	l := CPCVLayout{Groups: c.Groups, TestGroups: c.TestGroups, Splits: c.NumSplits(), Paths: c.NumPaths(),
		Horizon: c.Horizon, Embargo: c.Embargo}
	for _, g := range res.Groups {
		l.GroupBars = append(l.GroupBars, Range{Start: g.Start + offset, End: g.End + offset})
	}
	if n := len(l.GroupBars); n > 0 {
		l.Bars = Range{Start: l.GroupBars[0].Start, End: l.GroupBars[n-1].End}
	}
	return l
}

// check reports the first inconsistency of l, naming its JSON key: a
// plan CPCV.Plan rejects, split or path counts that are not C(N, k) and
// C(N−1, k−1), groups that do not tile Bars, or bars outside the panel's
// bars (panelBars < 0 skips that check).
func (l *CPCVLayout) check(panelBars int) error {
	switch {
	case l.Groups < 2:
		return fmt.Errorf("cpcv_layout.groups is %d, want at least 2", l.Groups)
	case l.TestGroups < 1 || l.TestGroups >= l.Groups:
		return fmt.Errorf("cpcv_layout.test_groups is %d, want 1..%d (groups − 1)", l.TestGroups, l.Groups-1)
	case l.Horizon < 0 || l.Embargo < 0:
		return fmt.Errorf("cpcv_layout.horizon %d and embargo %d must be non-negative", l.Horizon, l.Embargo)
	}
	c := CPCV{Groups: l.Groups, TestGroups: l.TestGroups}
	if ns := c.NumSplits(); l.Splits != ns {
		return fmt.Errorf("cpcv_layout.splits is %d, want C(%d, %d) = %d", l.Splits, l.Groups, l.TestGroups, ns)
	}
	if np := c.NumPaths(); l.Paths != np {
		return fmt.Errorf("cpcv_layout.paths is %d, want C(%d, %d) = %d", l.Paths, l.Groups-1, l.TestGroups-1, np)
	}
	if len(l.GroupBars) != l.Groups {
		return fmt.Errorf("cpcv_layout.group_bars has %d ranges, want one per group (%d)", len(l.GroupBars), l.Groups)
	}
	next := l.Bars.Start
	for i, g := range l.GroupBars {
		if g.Start != next || g.Len() < 1 {
			return fmt.Errorf("cpcv_layout.group_bars[%d] is [%d, %d), want a non-empty range starting at bar %d: the groups must tile cpcv_layout.bars [%d, %d)",
				i, g.Start, g.End, next, l.Bars.Start, l.Bars.End)
		}
		next = g.End
	}
	if next != l.Bars.End {
		return fmt.Errorf("cpcv_layout.group_bars end at bar %d, cpcv_layout.bars at %d", next, l.Bars.End)
	}
	if l.Bars.Start < 0 || (panelBars >= 0 && l.Bars.End > panelBars) {
		return fmt.Errorf("cpcv_layout.bars [%d, %d) lies outside the panel's %d bars", l.Bars.Start, l.Bars.End, panelBars)
	}
	if l.PathReturns < 1 || l.PathReturns > l.Bars.Len() {
		return fmt.Errorf("cpcv_layout.path_returns is %d, want 1..%d (the bars covered)", l.PathReturns, l.Bars.Len())
	}
	return nil
}

// checkCPCV checks the CPCV layout of r against r's panel and CPCV paths:
// a layout must be consistent, and every strategy's CPCV results must
// hold one value per path. Results without a layout pass (format version
// 1 did not record it).
func (r *Results) checkCPCV() error {
	l := r.CPCVLayout
	if l == nil {
		return nil
	}
	panelBars := len(r.Times)
	if panelBars == 0 {
		panelBars = -1
	}
	if err := l.check(panelBars); err != nil {
		return err
	}
	ran := false
	for _, s := range r.Seeds {
		for _, c := range s.CPCV {
			ran = true
			if len(c.PathSharpe) != l.Paths || len(c.PathReturn) != l.Paths {
				return fmt.Errorf("seed %d cpcv %s holds %d path Sharpe ratios and %d path returns, cpcv_layout.paths is %d",
					s.Seed, c.Name, len(c.PathSharpe), len(c.PathReturn), l.Paths)
			}
		}
	}
	if !ran {
		return fmt.Errorf("cpcv_layout is set but no seed holds CPCV results")
	}
	return nil
}

// CPCVLayoutReport is the CPCV layout with dates.
type CPCVLayoutReport struct {
	CPCVLayout
	// From and To are the dates of the first and last bar covered.
	From string `json:"from"`
	To   string `json:"to"`
	// GroupDates holds the dates of the first and last bar of every group,
	// in the order of GroupBars.
	GroupDates []DateRange `json:"group_dates"`
}

// DateRange is the first and last day (UTC, 2006-01-02) of a bar range.
type DateRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// cpcvLayoutReport adds dates to l; at gives the date of a panel bar.
func cpcvLayoutReport(l *CPCVLayout, at func(bar int) string) *CPCVLayoutReport {
	if l == nil {
		return nil
	}
	out := &CPCVLayoutReport{CPCVLayout: *l, From: at(l.Bars.Start), To: at(l.Bars.End - 1)}
	out.GroupBars = append([]Range(nil), l.GroupBars...)
	for _, g := range l.GroupBars {
		out.GroupDates = append(out.GroupDates, DateRange{From: at(g.Start), To: at(g.End - 1)})
	}
	return out
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// summary is the layout in one paragraph, for the report's CPCV section.
func (l *CPCVLayoutReport) summary() string {
	lo, hi := l.GroupBars[0].Len(), l.GroupBars[0].Len()
	for _, g := range l.GroupBars {
		lo, hi = min(lo, g.Len()), max(hi, g.Len())
	}
	size := strconv.Itoa(lo)
	if hi != lo {
		size += "–" + strconv.Itoa(hi)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Layout: %d groups of %s bars covering %s – %s (panel bars %d–%d, %d bars); ",
		l.Groups, size, l.From, l.To, l.Bars.Start, l.Bars.End-1, l.Bars.Len())
	fmt.Fprintf(&b, "%s per split → C(%d, %d) = %s, φ = %s of %s each; ",
		plural(l.TestGroups, "test group"), l.Groups, l.TestGroups, plural(l.Splits, "split"), plural(l.Paths, "backtest path"), plural(l.PathReturns, "return"))
	fmt.Fprintf(&b, "training bars purged %s before and %s after each test group (label horizon) plus an embargo of %s after that; ",
		plural(l.Horizon, "bar"), plural(l.Horizon, "bar"), plural(l.Embargo, "bar"))
	b.WriteString("agents retrained on each split's training groups, baselines re-run on its test groups.")
	return b.String()
}

// groupsTable lists the bars and dates of every group.
func (l *CPCVLayoutReport) groupsTable() table {
	t := table{Title: "Combinatorial purged cross-validation: groups",
		Header: []string{"group", "bars", "first bar", "last bar", "from", "to"},
		Note:   fmt.Sprintf("Panel bar indices, inclusive. The groups tile bars %d–%d; every group is tested in each of the φ = %d paths.", l.Bars.Start, l.Bars.End-1, l.Paths)}
	for i, g := range l.GroupBars {
		t.Rows = append(t.Rows, []string{strconv.Itoa(i), strconv.Itoa(g.Len()), strconv.Itoa(g.Start), strconv.Itoa(g.End - 1),
			l.GroupDates[i].From, l.GroupDates[i].To})
	}
	return t
}
