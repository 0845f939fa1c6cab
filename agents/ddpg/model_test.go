package ddpg

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/folio-rl/folio/agents/internal/toymarket"
	"github.com/folio-rl/folio/nets"
)

// TestModelFile: SaveWeights writes a weights-only file with the online
// and target weights of actor and critic and nothing else (no Adam state,
// OU state, counters or replay buffer). LoadWeights copies them bit for bit
// into a fresh agent with other hyperparameters (a warm start) and leaves
// its replay buffer empty and its counters at zero, so its warm-up runs
// again; a full Load refuses the file with nets.ErrWeightsOnly.
func TestModelFile(t *testing.T) {
	m := toymarket.TrendMarket()
	cfg := tinyConfig()
	a := newToyAgent(t, m, cfg, 5)
	toymarket.Train(t, a, m, 20, 5)
	if a.Replay().Len() == 0 || a.GradientSteps() == 0 {
		t.Fatalf("training left %d transitions and %d gradient steps", a.Replay().Len(), a.GradientSteps())
	}
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
	var names []string
	for _, b := range c.Blocks {
		names = append(names, b.Name)
	}
	if !c.WeightsOnly || !slices.Equal(names, []string{"actor", "critic", "actor.target", "critic.target"}) || len(c.Ints) != 0 {
		t.Fatalf("model file: weights only %v, blocks %v, ints %v", c.WeightsOnly, names, c.Ints)
	}
	if model.Len() >= state.Len() {
		t.Errorf("model file %d bytes, full state %d bytes", model.Len(), state.Len())
	}

	other := cfg
	other.ActorLR, other.LearningStarts = cfg.ActorLR/2, cfg.LearningStarts+1
	b := newToyAgent(t, m, other, 6)
	if err := b.Load(bytes.NewReader(model.Bytes())); !errors.Is(err, nets.ErrWeightsOnly) {
		t.Errorf("full Load of a model file: %v, want nets.ErrWeightsOnly", err)
	}
	if err := b.LoadWeights(bytes.NewReader(model.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name      string
		got, want []float64
	}{{"actor", b.actorP, a.actorP}, {"critic", b.criticP, a.criticP}, {"actor target", b.actorT, a.actorT}, {"critic target", b.criticT, a.criticT}} {
		for i := range p.want {
			if math.Float64bits(p.got[i]) != math.Float64bits(p.want[i]) {
				t.Fatalf("%s θ[%d] = %v after LoadWeights, want %v", p.name, i, p.got[i], p.want[i])
			}
		}
	}
	sa, sc := b.w.adamSteps()
	if b.Replay().Len() != 0 || b.Steps() != 0 || b.GradientSteps() != 0 || sa != 0 || sc != 0 {
		t.Errorf("after LoadWeights: %d transitions, %d steps, %d gradient steps, Adam steps %d/%d; want all 0",
			b.Replay().Len(), b.Steps(), b.GradientSteps(), sa, sc)
	}
	// The warm-up runs again: no gradient step before learning_starts
	// transitions of the new agent's own.
	toymarket.Train(t, b, m, 1, 7)
	if b.GradientSteps() != 0 || b.Replay().Len() != b.NewRollout().Len() {
		t.Errorf("first update after LoadWeights: %d gradient steps, %d transitions", b.GradientSteps(), b.Replay().Len())
	}
}
