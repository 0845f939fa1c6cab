package eval

import (
	"encoding/json"
	"html/template"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/folio-rl/folio/internal/golden"
)

func TestCPCVLayoutFromPlan(t *testing.T) {
	// Hand-worked: 18 bars in N = 4 groups (numpy.array_split: 5, 5, 4, 4)
	// from panel bar 5: [5,10) [10,15) [15,19) [19,23); k = 2 gives
	// C(4, 2) = 6 splits and φ = C(3, 1) = 3 paths.
	c := CPCV{Groups: 4, TestGroups: 2, Horizon: 1, Embargo: 2}
	res, err := c.Plan(18)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Layout(res, 5)
	want := CPCVLayout{Groups: 4, TestGroups: 2, Splits: 6, Paths: 3, Horizon: 1, Embargo: 2, Bars: Range{5, 23},
		GroupBars: []Range{{5, 10}, {10, 15}, {15, 19}, {19, 23}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("layout\n got %+v\nwant %+v", got, want)
	}
}

// withCPCV adds CPCV results of every strategy of the first seed to res and
// their layout: N = 6 groups, k = 2, over the 400 path bars 101..500.
func withCPCV(res *Results) *Results {
	c := CPCV{Groups: 6, TestGroups: 2, Horizon: 1, Embargo: 1}
	plan, err := c.Plan(400)
	if err != nil {
		panic(err)
	}
	l := c.Layout(plan, 101)
	l.PathReturns = 400
	res.CPCVLayout = &l
	for k, s := range res.Seeds[0].Strategies {
		cs := CPCVStrategy{Name: s.Name}
		for j := range l.Paths {
			cs.PathSharpe = append(cs.PathSharpe, 0.1*float64(k)-0.05*float64(j))
			cs.PathReturn = append(cs.PathReturn, 0.02*float64(k)-0.01*float64(j))
		}
		res.Seeds[0].CPCV = append(res.Seeds[0].CPCV, cs)
	}
	return res
}

// cpcvSection returns the Markdown from the CPCV heading to the next
// section that is not a CPCV one.
func cpcvSection(t *testing.T, md string) string {
	t.Helper()
	i := strings.Index(md, "## Combinatorial purged cross-validation")
	if i < 0 {
		t.Fatal("report.md has no CPCV section")
	}
	j := strings.Index(md[i:], "## Provenance")
	if j < 0 {
		t.Fatal("report.md has no Provenance section after the CPCV section")
	}
	return md[i : i+j]
}

// TestCPCVLayoutRoundTrip: the layout survives results.json, reaches
// report.json with dates, and renders in Markdown and HTML.
func TestCPCVLayoutRoundTrip(t *testing.T) {
	res := withCPCV(fakeResults(1))
	path := filepath.Join(t.TempDir(), "results.json")
	if err := WriteResults(path, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != ResultsVersion || !reflect.DeepEqual(back.CPCVLayout, res.CPCVLayout) {
		t.Fatalf("layout after results.json\n got %+v\nwant %+v", back.CPCVLayout, res.CPCVLayout)
	}
	rep, err := BuildReport(back)
	if err != nil {
		t.Fatal(err)
	}
	md, html, js := writeAll(t, rep, nil)

	// 400 bars in 6 groups: 67, 67, 67, 67, 66, 66 (the first 400 mod 6 = 4
	// groups one bar longer), from panel bar 101; fakeResults dates bar i
	// as 2021-01-01 + i days, so bar 101 is 2021-04-12 and bar 500 is
	// 2022-05-16.
	lens := []int{67, 67, 67, 67, 66, 66}
	first := []string{"2021-04-12", "2021-06-18", "2021-08-24", "2021-10-30", "2022-01-05", "2022-03-12"}
	last := []string{"2021-06-17", "2021-08-23", "2021-10-29", "2022-01-04", "2022-03-11", "2022-05-16"}
	sentence := "Layout: 6 groups of 66–67 bars covering 2021-04-12 – 2022-05-16 (panel bars 101–500, 400 bars); " +
		"2 test groups per split → C(6, 2) = 15 splits, φ = 5 backtest paths of 400 returns each; " +
		"training bars purged 1 bar before and 1 bar after each test group (label horizon) plus an embargo of 1 bar after that; " +
		"agents retrained on each split's training groups, baselines re-run on its test groups."
	if !strings.Contains(md, sentence) {
		t.Errorf("report.md lacks the layout %q", sentence)
	}
	if !strings.Contains(html, template.HTMLEscapeString(sentence)) {
		t.Errorf("report.html lacks the layout %q", sentence)
	}
	if !strings.Contains(html, "<h2>Combinatorial purged cross-validation: groups</h2>") {
		t.Error("report.html lacks the CPCV groups table")
	}
	bar := 101
	for g, n := range lens {
		row := "| " + strings.Join([]string{strconv.Itoa(g), strconv.Itoa(n), strconv.Itoa(bar), strconv.Itoa(bar + n - 1), first[g], last[g]}, " | ") + " |"
		if !strings.Contains(md, row+"\n") {
			t.Errorf("report.md lacks group row %q", row)
		}
		cells := "<tr><td>" + strings.Join([]string{strconv.Itoa(g), strconv.Itoa(n), strconv.Itoa(bar), strconv.Itoa(bar + n - 1), first[g], last[g]}, "</td><td>") + "</td></tr>"
		if !strings.Contains(html, cells) {
			t.Errorf("report.html lacks group row %q", cells)
		}
		bar += n
	}

	// report.json: the layout with the dates of every group.
	b, err := json.Marshal(js["cpcv_layout"])
	if err != nil {
		t.Fatal(err)
	}
	var got CPCVLayoutReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.CPCVLayout, *res.CPCVLayout) || got.From != first[0] || got.To != last[5] || len(got.GroupDates) != 6 {
		t.Fatalf("report.json cpcv_layout %+v", got)
	}
	for g, d := range got.GroupDates {
		if d.From != first[g] || d.To != last[g] {
			t.Errorf("report.json cpcv_layout.group_dates[%d] = %+v, want %s – %s", g, d, first[g], last[g])
		}
	}
	golden.Check(t, "report_cpcv_md", []byte(cpcvSection(t, md)))
}

// TestReadResultsVersions: version 1 files (without cpcv_layout) are still
// read and render as before; a version 2 file with CPCV results but no
// layout, and versions outside MinResultsVersion..ResultsVersion, are
// errors that say what to do.
func TestReadResultsVersions(t *testing.T) {
	dir := t.TempDir()
	write := func(t *testing.T, res *Results) string {
		t.Helper()
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".json")
		if err := WriteResults(p, res); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("version 1 without layout", func(t *testing.T) {
		res := withCPCV(fakeResults(1))
		res.Version, res.CPCVLayout = 1, nil
		p := write(t, res)
		raw, _ := os.ReadFile(p)
		if strings.Contains(string(raw), "cpcv_layout") {
			t.Fatal("a results.json without a layout still has the cpcv_layout key")
		}
		back, err := ReadResults(p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := BuildReport(back)
		if err != nil {
			t.Fatal(err)
		}
		md, html, js := writeAll(t, rep, nil)
		if _, ok := js["cpcv_layout"]; ok || rep.CPCVLayout != nil {
			t.Error("a version 1 report has a cpcv_layout")
		}
		// The CPCV section has its table and general note only.
		const note = "López de Prado (2018, ch. 12): every combination of test groups is tested with a model trained on the other groups (purged and embargoed); each of the φ paths covers every group once. Baselines do not train, so their paths repeat the same pieces and agree; the spread across paths is informative for agents."
		sec := cpcvSection(t, md)
		if strings.Contains(md, "Layout:") || strings.Contains(html, "Layout:") || strings.Count(sec, "## ") != 1 || !strings.Contains(sec, "\n"+note+"\n") {
			t.Errorf("version 1 CPCV section changed:\n%s", sec)
		}
	})
	errCases := []struct {
		name string
		edit func(*Results)
		want string
	}{
		{"version 2 without layout", func(r *Results) { r.CPCVLayout = nil }, "cpcv_layout is missing"},
		{"newer version", func(r *Results) { r.Version = ResultsVersion + 1 }, "written by a newer folio"},
		{"version 0", func(r *Results) { r.Version = 0 }, "re-run the experiment"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			res := withCPCV(fakeResults(1))
			c.edit(res)
			p := write(t, res)
			_, err := ReadResults(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadResults: %v, want an error naming %s and saying %q", err, p, c.want)
			}
		})
	}
}

// TestCPCVLayoutDamaged: an inconsistent layout is an error naming the
// key, from ReadResults and from BuildReport.
func TestCPCVLayoutDamaged(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Results)
		want string
	}{
		{"splits", func(r *Results) { r.CPCVLayout.Splits = 14 }, "cpcv_layout.splits is 14, want C(6, 2) = 15"},
		{"paths", func(r *Results) { r.CPCVLayout.Paths = 4 }, "cpcv_layout.paths is 4, want C(5, 1) = 5"},
		{"test groups", func(r *Results) { r.CPCVLayout.TestGroups = 6 }, "cpcv_layout.test_groups is 6"},
		{"gap", func(r *Results) { r.CPCVLayout.GroupBars[2].Start++ }, "cpcv_layout.group_bars[2]"},
		{"overlap", func(r *Results) { r.CPCVLayout.GroupBars[3].Start-- }, "cpcv_layout.group_bars[3]"},
		{"short union", func(r *Results) { r.CPCVLayout.Bars.End++ }, "cpcv_layout.group_bars end at bar 501"},
		{"missing group", func(r *Results) { r.CPCVLayout.GroupBars = r.CPCVLayout.GroupBars[:5] }, "cpcv_layout.group_bars has 5 ranges"},
		{"outside panel", func(r *Results) { r.Times = r.Times[:400] }, "lies outside the panel's 400 bars"},
		{"path returns", func(r *Results) { r.CPCVLayout.PathReturns = 401 }, "cpcv_layout.path_returns is 401"},
		{"paths of a strategy", func(r *Results) {
			r.Seeds[0].CPCV[1].PathSharpe = r.Seeds[0].CPCV[1].PathSharpe[:3]
		}, "cpcv ddpg holds 3 path Sharpe ratios"},
		{"no CPCV results", func(r *Results) { r.Seeds[0].CPCV = nil }, "no seed holds CPCV results"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := withCPCV(fakeResults(1))
			c.edit(res)
			if _, err := BuildReport(res); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("BuildReport: %v, want %q", err, c.want)
			}
			p := filepath.Join(dir, regexp.MustCompile(`\W`).ReplaceAllString(c.name, "_")+".json")
			if err := WriteResults(p, res); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadResults(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadResults: %v, want %q naming %s", err, c.want, p)
			}
		})
	}
}
