package envtest

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/folio-rl/folio/env"
	"github.com/folio-rl/folio/internal/seed"
)

// stateful is an env whose state can be saved and restored.
type stateful interface {
	env.Env
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// driver steps an env with reset seeds and actions drawn from fixed
// streams, resetting when an episode ends, and can replay what it did.
type driver struct {
	spec   env.Spec
	seeds  *rand.Rand
	actRNG *rand.Rand
	action func(dst, obs []float64, rng *rand.Rand)
	obs    []float64
	res    *env.StepResult
	cur    []float64 // observation the next action sees

	// Filled while recording: every action taken and every reset seed
	// drawn, in order, and the records they produced.
	record  bool
	actions [][]float64
	resets  []uint64
	recs    []record
}

func (c *checker) newDriver(spec env.Spec, streams uint64) *driver {
	return &driver{
		spec:   spec,
		seeds:  seed.New(c.opts.Seed, seed.Test, 3000+2*streams),
		actRNG: seed.New(c.opts.Seed, seed.Test, 3001+2*streams),
		action: c.opts.Action,
		obs:    make([]float64, spec.Observation.Len()),
		res:    env.NewStepResult(spec),
		cur:    make([]float64, spec.Observation.Len()),
	}
}

func (d *driver) reset(e env.Env, s uint64) error {
	info, err := e.Reset(d.obs, s)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	copy(d.cur, d.obs)
	if d.record {
		d.resets = append(d.resets, s)
		d.recs = append(d.recs, record{obs: append([]float64(nil), d.obs...), reset: true, info: copyInfo(info)})
	}
	return nil
}

// step takes one step with action a and resets with the next seed of next
// when the episode ends.
func (d *driver) step(e env.Env, a []float64, next func() uint64) error {
	if err := e.Step(d.res, a); err != nil {
		return err
	}
	r := d.res
	if d.record {
		d.actions = append(d.actions, append([]float64(nil), a...))
		d.recs = append(d.recs, record{obs: append([]float64(nil), r.Obs...), reward: r.Reward,
			terminated: r.Terminated, truncated: r.Truncated, info: copyInfo(r.Info)})
	}
	copy(d.cur, r.Obs)
	if r.Terminated || r.Truncated {
		return d.reset(e, next())
	}
	return nil
}

// run takes n steps with fresh random actions.
func (d *driver) run(e env.Env, n int) error {
	a := make([]float64, d.spec.Action.Len())
	for k := 0; k < n; k++ {
		if d.action != nil {
			d.action(a, d.cur, d.actRNG)
		} else {
			randomAction(a, d.spec.Action, d.actRNG)
		}
		if err := d.step(e, a, d.seeds.Uint64); err != nil {
			return fmt.Errorf("step %d: %w", k, err)
		}
	}
	return nil
}

// replay repeats the recorded actions and resets of src on e.
func (d *driver) replay(e env.Env, src *driver) error {
	k := 0
	next := func() uint64 { s := src.resets[k]; k++; return s }
	for i, a := range src.actions {
		if err := d.step(e, a, next); err != nil {
			return fmt.Errorf("replayed step %d: %w", i, err)
		}
	}
	return nil
}

// state checks saving and restoring: an env is driven through a few
// episodes (with resets), saved mid-episode and driven on, recording
// everything; an env that has been used differently, then restored from
// the saved state and given the same actions and reset seeds, must
// reproduce every record bit for bit, and so must a fresh env. Re-encoding
// a restored state must give the same bytes, and restoring corrupt data
// (truncated, or another layer's magic) must fail and change nothing.
func (c *checker) state() error {
	build := func() (stateful, env.Spec, error) {
		e, s, err := c.build()
		if err != nil {
			return nil, s, err
		}
		return e.(stateful), s, nil
	}
	a, spec, err := build()
	if err != nil {
		return err
	}
	defer a.Close()
	steps := c.opts.Steps
	da := c.newDriver(spec, 0)
	if err := da.reset(a, da.seeds.Uint64()); err != nil {
		return err
	}
	if err := da.run(a, steps); err != nil {
		return err
	}
	saved, err := a.MarshalBinary()
	if err != nil {
		return fmt.Errorf("MarshalBinary: %w", err)
	}
	da.record = true
	if err := da.run(a, steps); err != nil {
		return err
	}

	for _, used := range []bool{true, false} {
		b, _, err := build()
		if err != nil {
			return err
		}
		defer b.Close()
		db := c.newDriver(spec, 1)
		if used { // an env with a history of its own, mid-episode
			if err := db.reset(b, db.seeds.Uint64()); err != nil {
				return err
			}
			if err := db.run(b, steps/2+3); err != nil {
				return err
			}
		}
		before, err := b.MarshalBinary()
		if err != nil {
			return fmt.Errorf("MarshalBinary: %w", err)
		}
		for name, bad := range map[string][]byte{
			"truncated state":     saved[:len(saved)-1],
			"state of 0 bytes":    nil,
			"state with bad tags": append([]byte("XXXX"), saved[4:]...),
		} {
			if err := b.UnmarshalBinary(bad); err == nil {
				return fmt.Errorf("UnmarshalBinary accepted a %s", name)
			}
			after, err := b.MarshalBinary()
			if err != nil {
				return fmt.Errorf("MarshalBinary: %w", err)
			}
			if !bytes.Equal(before, after) {
				return fmt.Errorf("a failed UnmarshalBinary of a %s changed the env's state", name)
			}
		}
		if err := b.UnmarshalBinary(saved); err != nil {
			return fmt.Errorf("UnmarshalBinary of a saved state: %w", err)
		}
		again, err := b.MarshalBinary()
		if err != nil {
			return fmt.Errorf("MarshalBinary: %w", err)
		}
		if !bytes.Equal(again, saved) {
			return errors.New("a restored state encodes differently from the saved one")
		}
		db.record = true
		if err := db.replay(b, da); err != nil {
			return err
		}
		which := "a fresh env"
		if used {
			which = "a used env"
		}
		if err := compare(da.recs, db.recs); err != nil {
			return fmt.Errorf("after restoring a saved state into %s, the same actions gave another trajectory: %w", which, err)
		}
	}
	return nil
}
