package experiments

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/folio-rl/folio/env/market/features"
)

var updateDoc = flag.Lookup("update")

// TestConfigDocUpToDate checks that the embedded field documentation
// matches the doc comments in the sources; -update rewrites it.
func TestConfigDocUpToDate(t *testing.T) {
	docs, err := extractFieldDocs("..")
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalFieldDocs(docs)
	if err != nil {
		t.Fatal(err)
	}
	if updateDoc != nil && updateDoc.Value.String() == "true" {
		if err := os.WriteFile("configdoc.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, configDocJSON) {
		t.Fatal("configdoc.json is stale: run go test ./experiments -run TestConfigDocUpToDate -update")
	}
}

// TestReferenceDocumentsEveryKey checks that every key of the schema has a
// documentation sentence in `folio config --doc`.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "| `") && strings.HasSuffix(line, "| – |") {
			t.Errorf("undocumented key: %s", line)
		}
	}
	for _, want := range []string{"`experiment.seed`", "`taker_bps`", "`max_weight`", "`learning_rate`", "`vol_timing`", "`embedding`", "`total_steps`", "`train`", "`cost_bps`"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("reference lacks %s", want)
		}
	}
}

// TestFeatureDocListsNames checks that the reference of features.asset and
// features.global names every feature family and every default, so that
// the names a user may write are in `folio config --doc`.
func TestFeatureDocListsNames(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	names := append(append([]string{"logret", "rvol_W", "ewma_vol", "garch_vol", "garch_fH", "vol_ratio_S_L", "volume_z_W",
		"drawdown", "mom_K", "pk_vol_W", "gk_vol_W", "avg_corr_W", "avg_ewma_vol", "index_drawdown"},
		features.DefaultAsset()...), features.DefaultGlobal()...)
	for _, n := range names {
		if !strings.Contains(doc, n) {
			t.Errorf("config --doc does not name the feature %s", n)
		}
	}
}
