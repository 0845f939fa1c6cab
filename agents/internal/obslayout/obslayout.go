// Package obslayout converts an env's Spec into the observation layout
// the nets package needs. It is shared by the gradient agents (ppo, ddpg)
// and lives under agents/internal because package agents itself must not
// import nets (the baselines import agents and must not pull in gorgonia).
package obslayout

import (
	"errors"
	"fmt"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/nets"
)

// Of converts an env's Spec into the layout nets needs.
func Of(spec env.Spec) (nets.ObsLayout, error) {
	l := spec.Layout
	o := nets.ObsLayout{
		Assets: len(spec.Assets), Features: len(l.Features), Globals: len(l.GlobalFeatures), Window: spec.Window,
		AssetOffset: l.AssetOffset, GlobalOffset: l.GlobalOffset, WeightsOffset: l.WeightsOffset, Len: l.Len,
	}
	if o.Assets < 1 {
		return o, errors.New("spec has no assets")
	}
	if spec.Observation.Len() != l.Len {
		return o, fmt.Errorf("observation space of %d values but layout of %d", spec.Observation.Len(), l.Len)
	}
	if spec.Action.Len() != o.Assets+1 {
		return o, fmt.Errorf("action space of %d values for %d assets (want N+1)", spec.Action.Len(), o.Assets)
	}
	return o, nil
}
