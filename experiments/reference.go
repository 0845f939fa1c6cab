package experiments

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// configdoc.json holds the doc comments of every configuration struct
// field, extracted from the Go sources (see docextract.go). The test
// TestConfigDocUpToDate fails when it is stale; regenerate it with
//
//	go test ./experiments -run TestConfigDocUpToDate -update
//
//go:embed configdoc.json
var configDocJSON []byte

// tableOrder is the order of the tables in the reference.
var tableOrder = []struct {
	key, title, intro string
}{
	{"experiment", "[experiment]", "Name, seeds and output directory."},
	{"data", "[data]", "Where prices come from: the built-in synthetic market or files."},
	{"market", "[market.synthetic]", "The built-in synthetic market (used with data.source = \"synthetic\"); its bar interval is data.interval (default 1d)."},
	{"features", "[features]", "Causal features computed from prices: the observation of the agents (see env.features) and inputs of some baselines."},
	{"env", "[env]", "The environment agents train in and every strategy is tested in: observation window, reward, execution timing, episodes."},
	{"costs", "[costs]", "Fees, slippage and liquidity: charged identically to agents and baselines."},
	{"guard", "[guard]", "Hard risk limits between every strategy and the market. 0 disables a limit."},
	{"agents", "[agents.NAME]", "One table per RL agent; several tables of one type make an ablation. `type` selects the algorithm; the table holds the training-loop keys, the algorithm's keys and the network keys side by side."},
	{"baselines", "[baselines]", "Classic strategies the agents are compared with."},
	{"walkforward", "[walkforward]", "The out-of-sample plan: rolling or expanding training windows, test windows, embargo."},
	{"report", "[report]", "Statistics and outputs of the report."},
}

// WriteReference writes the configuration reference in Markdown: every
// key with its TOML type, default and documentation.
func WriteReference(w io.Writer) error {
	var docs fieldDocs
	if err := json.Unmarshal(configDocJSON, &docs); err != nil {
		return fmt.Errorf("experiments: configdoc.json: %w", err)
	}
	var b strings.Builder
	b.WriteString("# folio configuration reference\n\n")
	b.WriteString("An experiment is one TOML file. Every key below is optional except `experiment.seed`; unknown keys are errors. ")
	b.WriteString("Override any key from the command line with `--set key.path=value` (e.g. `--set costs.taker_bps=25`). ")
	b.WriteString("`folio check FILE` prints a file with every default filled in. Units: returns and weights are fractions (0.01 = 1 %), fees in basis points (1 bp = 0.01 %), lengths in bars unless stated, times in UTC.\n\n")
	def := Defaults()
	dv := reflect.ValueOf(def)
	for _, t := range tableOrder {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", t.title, t.intro)
		switch t.key {
		case "agents":
			for _, typ := range AgentTypes() {
				a := NewAgent("NAME", typ)
				fmt.Fprintf(&b, "### type = \"%s\"\n\n", typ)
				b.WriteString("| key | type | default | meaning |\n| --- | --- | --- | --- |\n")
				writeKeys(&b, docs, reflect.ValueOf(a.table()).Elem(), "")
				b.WriteString("\n")
			}
			continue
		case "market":
			b.WriteString("| key | type | default | meaning |\n| --- | --- | --- | --- |\n")
			writeKeys(&b, docs, dv.FieldByName("Market").FieldByName("Synthetic"), "")
			b.WriteString("\n")
			continue
		}
		f, ok := fieldByKey(dv, t.key)
		if !ok {
			return fmt.Errorf("experiments: reference: no table %s", t.key)
		}
		b.WriteString("| key | type | default | meaning |\n| --- | --- | --- | --- |\n")
		writeKeys(&b, docs, f, "")
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeKeys writes one table row per key of struct value v; nested tables
// are flattened with dotted keys.
func writeKeys(b *strings.Builder, docs fieldDocs, v reflect.Value, prefix string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, promoted := tomlName(f)
		if promoted {
			writeKeys(b, docs, v.Field(i), prefix)
			continue
		}
		if name == "" {
			continue
		}
		fv := v.Field(i)
		key := prefix + name
		doc := docs[t.PkgPath()+"."+t.Name()+"."+f.Name]
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) && !implementsText(ft) {
			writeKeys(b, docs, fv, key+".")
			continue
		}
		def := defaultString(fv)
		if f.Tag.Get("required") == "true" {
			// A required key has no default; its zero value is not one.
			def = "required"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", key, tomlTypeOf(ft), def, mdCell(doc))
	}
}

func implementsText(t reflect.Type) bool {
	_, ok := reflect.New(t).Interface().(interface{ UnmarshalText([]byte) error })
	return ok
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	if s == "" {
		return "–"
	}
	return s
}

func tomlTypeOf(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(Duration(0)):
		return "duration (\"1h\", \"4h\", \"1d\")"
	case t == reflect.TypeOf(time.Duration(0)):
		return "duration (\"24h\")"
	case t == reflect.TypeOf(time.Time{}):
		return "datetime"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "array of " + tomlTypeOf(t.Elem())
	case reflect.Map:
		return "table of " + tomlTypeOf(t.Elem())
	case reflect.Struct:
		return "table"
	}
	return t.String()
}

func defaultString(v reflect.Value) string {
	if v.Kind() == reflect.Slice && v.Len() == 0 || v.Kind() == reflect.Map && v.Len() == 0 {
		return "[]"
	}
	if v.Type() == reflect.TypeOf(time.Time{}) {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return "–"
		}
		return "`" + t.UTC().Format(time.RFC3339) + "`"
	}
	if d, ok := v.Interface().(Duration); ok {
		if d == 0 {
			return "–"
		}
		return "`\"" + d.String() + "\"`"
	}
	var sb strings.Builder
	enc := toml.NewEncoder(&sb)
	if err := enc.Encode(map[string]any{"v": v.Interface()}); err != nil {
		return fmt.Sprint(v.Interface())
	}
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sb.String()), "v ="))
	if strings.Contains(s, "\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
}
