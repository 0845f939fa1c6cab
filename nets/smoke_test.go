package nets

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGorgoniaSmoke(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))))
	y, err := G.Sum(G.Must(G.Square(x)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(y, x); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if v := y.Value().Data().(float64); v != 30 {
		t.Fatalf("sum of squares = %v, want 30", v)
	}
}
