package ppo

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/nets"
)

// TestModelFile: SaveWeights writes a weights-only file holding the
// parameters alone; LoadWeights copies them bit for bit into a fresh agent
// with other hyperparameters (learning rate) and leaves its optimiser
// state and counters at zero; a full Load refuses the file with
// nets.ErrWeightsOnly and changes nothing.
func TestModelFile(t *testing.T) {
	m := toymarket.TrendMarket()
	a := newToyAgent(t, m, tinyConfig(), 3)
	toymarket.Train(t, a, m, 2, 3)
	var model, state bytes.Buffer
	if err := a.SaveWeights(&model); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(&state); err != nil {
		t.Fatal(err)
	}
	c, err := nets.ReadCheckpoint(bytes.NewReader(model.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !c.WeightsOnly || len(c.Blocks) != 1 || c.Blocks[0].Name != blockParams || len(c.Blocks[0].F64) != a.NumParams() || len(c.Ints) != 0 {
		t.Fatalf("model file: weights only %v, %d blocks, ints %v", c.WeightsOnly, len(c.Blocks), c.Ints)
	}
	// The full state adds the two Adam moment vectors of the same length.
	if model.Len() >= state.Len()-2*8*a.NumParams()+1 {
		t.Errorf("model file %d bytes, full state %d bytes: the model holds more than the parameters", model.Len(), state.Len())
	}

	other := tinyConfig()
	other.LearningRate = a.cfg.LearningRate / 3
	b := newToyAgent(t, m, other, 4)
	before := append([]float64(nil), b.Params()...)
	if err := b.Load(bytes.NewReader(model.Bytes())); !errors.Is(err, nets.ErrWeightsOnly) {
		t.Errorf("full Load of a model file: %v, want nets.ErrWeightsOnly", err)
	}
	for i := range before {
		if math.Float64bits(b.Params()[i]) != math.Float64bits(before[i]) {
			t.Fatal("a refused Load changed the parameters")
		}
	}
	if err := b.LoadWeights(bytes.NewReader(model.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Params() {
		if math.Float64bits(b.Params()[i]) != math.Float64bits(v) {
			t.Fatalf("θ[%d] = %v after LoadWeights, want %v", i, b.Params()[i], v)
		}
	}
	if b.Updates() != 0 || b.Steps() != 0 || b.adam.Step != 0 {
		t.Errorf("LoadWeights changed counters: updates %d, steps %d, adam step %d", b.Updates(), b.Steps(), b.adam.Step)
	}
	for i, v := range b.adam.M {
		if v != 0 || b.adam.V[i] != 0 {
			t.Fatalf("LoadWeights changed the Adam moments at %d", i)
		}
	}
}

// TestLoadNamesConfigKey: a full Load of a state written under another
// learning rate names the key and both values (as JSON numbers).
func TestLoadNamesConfigKey(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	cfg.LearningRate = 0.001
	a := newToyAgent(t, m, cfg, 1)
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	cfg.LearningRate = 0.0001
	b := newToyAgent(t, m, cfg, 1)
	err := b.Load(bytes.NewReader(buf.Bytes()))
	var me *nets.MismatchError
	if !errors.As(err, &me) || me.What != "config" || len(me.Keys) != 1 {
		t.Fatalf("Load under another learning rate: %v", err)
	}
	const want = "ppo: load: nets: checkpoint config mismatch: learning_rate: file has 0.001, this agent has 0.0001"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	// The engine choices are not part of the configuration.
	cfg.LearningRate = 0.001
	cfg.Parallel = true
	c := newToyAgent(t, m, cfg, 1)
	if err := c.Load(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("Load with parallel = true: %v", err)
	}
}
