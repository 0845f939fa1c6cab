package guard

import (
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestConfigTOML(t *testing.T) {
	// Every field has a snake_case key; decoding a full [guard] table must
	// leave nothing undecoded and fill every field.
	const doc = `
[guard]
max_weight = 0.4
min_cash = 0.05
max_gross = 0.9
max_turnover = 0.5
max_participation = 0.02
drawdown_limit = 0.2
drawdown_gross = 0.25
drawdown_cooldown = 12
vol_target = 0.6
vol_lambda = 0.97
vol_window = 60
non_finite = "error"

[guard.asset_max_weight]
BTC = 0.6
DOGE = 0
`
	var got struct {
		Guard Config `toml:"guard"`
	}
	got.Guard = Defaults()
	md, err := toml.Decode(doc, &got)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	want := Config{MaxWeight: 0.4, AssetMaxWeight: map[string]float64{"BTC": 0.6, "DOGE": 0}, MinCash: 0.05,
		MaxGross: 0.9, MaxTurnover: 0.5, MaxParticipation: 0.02, DrawdownLimit: 0.2, DrawdownGross: 0.25,
		DrawdownCooldown: 12, VolTarget: 0.6, VolLambda: 0.97, VolWindow: 60, NonFinite: NonFiniteError}
	if !reflect.DeepEqual(got.Guard, want) {
		t.Fatalf("decoded %+v\nwant    %+v", got.Guard, want)
	}
	if err := got.Guard.Validate(); err != nil {
		t.Fatal(err)
	}
	// The document sets every field to a non-default value, so a field
	// without a (correct) tag would keep its default and fail above.
	if n := reflect.TypeOf(Config{}).NumField(); n != 13 {
		t.Errorf("Config has %d fields; extend this test", n)
	}
}
