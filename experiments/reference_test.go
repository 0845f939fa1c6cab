package experiments

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
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
