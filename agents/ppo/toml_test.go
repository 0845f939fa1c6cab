package ppo

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestTOMLMapping: Config maps 1:1 onto a TOML table — encoding the
// defaults and decoding them back gives the same struct with no undecoded
// keys, and every key (including the embedded network keys) is snake_case.
func TestTOMLMapping(t *testing.T) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(Defaults()); err != nil {
		t.Fatal(err)
	}
	var got Config
	md, err := toml.Decode(buf.String(), &got)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("undecoded keys %v", u)
	}
	if want := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	for _, k := range md.Keys() {
		for _, r := range k.String() {
			if r >= 'A' && r <= 'Z' {
				t.Errorf("key %q is not snake_case", k)
			}
		}
	}
	src := `
num_envs = 4
learning_rate = 1e-3
trunk = "assets"
embedding = "dynamic"
vol_timing = true
vol_features = [2]
hidden = [32]
`
	c := Defaults()
	md, err = toml.Decode(src, &c)
	if err != nil || len(md.Undecoded()) > 0 {
		t.Fatalf("decode: %v, undecoded %v", err, md.Undecoded())
	}
	if c.NumEnvs != 4 || c.Trunk != "assets" || !c.VolTiming || c.VolFeatures[0] != 2 || c.Hidden[0] != 32 || c.Gamma != 0.99 {
		t.Errorf("decoded %+v", c)
	}
}
