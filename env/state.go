package env

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/folio-rl/folio/env/internal/statebin"
)

// ErrState is wrapped by every error of an UnmarshalBinary in env and its
// wrappers: data that is not a state of that layer, of another format
// version, truncated, or saved from an env of another panel, shape or
// configuration. The layer that failed is left unchanged.
var ErrState = statebin.ErrState

// marketStateVersion is the format version of Market states.
const marketStateVersion = 1

var (
	_ encoding.BinaryMarshaler   = (*Market)(nil)
	_ encoding.BinaryUnmarshaler = (*Market)(nil)
	_ encoding.BinaryMarshaler   = (*Vec)(nil)
	_ encoding.BinaryUnmarshaler = (*Vec)(nil)
)

// digests computes (once per shared data) the digests that tie a saved
// state to its env: the configuration, and the observation data — the
// selected feature series, the regime labels and the asset names (the
// panel has its own fingerprint).
func (d *data) digests() {
	d.digestOnce.Do(func() {
		d.cfgDigest = statebin.Digest(d.cfg)
		h := sha256.New()
		var buf []byte
		buf = binary.LittleEndian.AppendUint64(buf, uint64(d.nSeries))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(d.series)))
		for k, x := range d.series {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
			if len(buf) >= 32<<10 || k == len(d.series)-1 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(d.regimes)))
		for _, r := range d.regimes {
			buf = append(buf, byte(r))
		}
		for _, names := range [][]string{d.featNames, d.globNames} {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(len(names)))
			for _, s := range names {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(len(s)))
				buf = append(buf, s...)
			}
		}
		h.Write(buf)
		h.Sum(d.dataDigest[:0])
	})
}

// MarshalBinary encodes the episode state of the env — decision bar, start,
// step count, weights, value, peak, the reward's running state
// (differential-Sharpe and volatility EMAs, drawdown), the started and done
// flags and the random generator — together with the panel's fingerprint,
// the observation shape and digests of the configuration and the feature
// data. Restoring it into an env built the same way continues bit for bit:
// the same actions give the same observations, rewards, flags and infos.
// The read-only data (panel, features) is not included.
func (m *Market) MarshalBinary() ([]byte, error) {
	m.checkOpen()
	m.digests()
	pcg, err := m.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("env: saving the random state: %w", err)
	}
	e := statebin.NewEncoder(statebin.MagicMarket, marketStateVersion)
	e.String(m.p.Fingerprint())
	e.Int(m.n)
	e.Int(m.obsLen)
	e.Int(m.w)
	e.Bytes(m.cfgDigest[:])
	e.Bytes(m.dataDigest[:])
	e.Bool(m.started)
	e.Bool(m.done)
	e.Int(m.t)
	e.Int(m.t0)
	e.Int(m.k)
	e.Float64(m.value)
	e.Float64(m.peak)
	e.Float64s(m.wts)
	e.Float64(m.rw.a)
	e.Float64(m.rw.b)
	e.Float64(m.rw.varEst)
	e.Float64(m.rw.dd)
	e.Bytes(pcg)
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary. It fails with
// an error wrapping ErrState, leaving the env unchanged, when data is not a
// Market state (e.g. a wrapper's), has another format version, is
// truncated or corrupt, or was saved from an env over another panel, with
// another observation shape, configuration or feature data.
func (m *Market) UnmarshalBinary(data []byte) error {
	m.checkOpen()
	m.digests()
	d := statebin.NewDecoder(data, statebin.MagicMarket, marketStateVersion, "Market")
	if fp := d.String(); d.Err() == nil && fp != m.p.Fingerprint() {
		d.Fail("the state was saved over a panel with fingerprint %.12s…, this env trades a panel with fingerprint %.12s…", fp, m.p.Fingerprint())
	}
	n, obsLen, w := d.Int(), d.Int(), d.Int()
	if d.Err() == nil && (n != m.n || obsLen != m.obsLen || w != m.w) {
		d.Fail("the state is of an env with %d assets, observation length %d and window %d; this env has %d, %d and %d", n, obsLen, w, m.n, m.obsLen, m.w)
	}
	if c := d.Bytes(); d.Err() == nil && string(c) != string(m.cfgDigest[:]) {
		d.Fail("the state was saved from an env with another configuration (build the env with the same Config)")
	}
	if f := d.Bytes(); d.Err() == nil && string(f) != string(m.dataDigest[:]) {
		d.Fail("the state was saved from an env with other observation data (features or regime labels)")
	}
	started, done := d.Bool(), d.Bool()
	t, t0, k := d.Int(), d.Int(), d.Int()
	value, peak := d.Float64(), d.Float64()
	wts := make([]float64, m.n+1)
	d.Float64sTo(wts, "weights")
	var rw rewarder
	rw.a, rw.b, rw.varEst, rw.dd = d.Float64(), d.Float64(), d.Float64(), d.Float64()
	var pcg rand.PCG
	if b := d.Bytes(); d.Err() == nil {
		if err := pcg.UnmarshalBinary(b); err != nil {
			d.Fail("random state: %v", err)
		}
	}
	if err := d.Finish(); err != nil {
		return err
	}
	if started {
		if err := m.checkEpisode(done, t, t0, k, value, peak, wts, &rw); err != nil {
			return fmt.Errorf("%w: restoring Market: %w", ErrState, err)
		}
	}
	m.started, m.done = started, done
	m.t, m.t0, m.k = t, t0, k
	m.value, m.peak = value, peak
	copy(m.wts, wts)
	m.rw.a, m.rw.b, m.rw.varEst, m.rw.dd = rw.a, rw.b, rw.varEst, rw.dd
	m.pcg = pcg
	return nil
}

// checkEpisode rejects restored episode states that Step could not
// continue from (so that corrupt data fails here, not with an index panic
// in a later Step).
func (m *Market) checkEpisode(done bool, t, t0, k int, value, peak float64, wts []float64, rw *rewarder) error {
	switch {
	case t0 < m.samp.first || t0 > m.samp.last:
		return fmt.Errorf("start bar %d outside the valid range [%d, %d]", t0, m.samp.first, m.samp.last)
	case t < t0 || t > m.hi || k != t-t0:
		return fmt.Errorf("decision bar %d, start %d and step count %d are inconsistent (segment ends at bar %d)", t, t0, k, m.hi)
	case !done && (t == m.hi || (m.epLen > 0 && k >= m.epLen)):
		return fmt.Errorf("episode at bar %d after %d steps should have ended", t, k)
	case !(value > 0) || math.IsInf(value, 0) || !(peak >= value) || math.IsInf(peak, 0):
		return fmt.Errorf("portfolio value %v and peak %v are not a valid pair", value, peak)
	}
	for i, x := range wts {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("weight %d = %v outside [0, 1]", i, x)
		}
	}
	for _, x := range []float64{rw.a, rw.b, rw.varEst, rw.dd} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("reward state %v is not finite", x)
		}
	}
	return nil
}

// vecStateVersion is the format version of Vec states.
const vecStateVersion = 1

// MarshalBinary encodes the state of every env (through its own
// encoding.BinaryMarshaler, which for a wrapper includes its inner envs),
// each env's reset-seed stream and whether the Vec was reset. The batched
// output buffers are not state: they are rewritten by the next Step (keep
// the current observations yourself, as train does). The number of workers
// is not part of the state either; results do not depend on it. It fails
// if an env cannot save its state. Call it between Steps, from the
// goroutine that steps the Vec.
func (v *Vec) MarshalBinary() ([]byte, error) {
	if v.closed {
		panic("env: use of a closed vec")
	}
	e := statebin.NewEncoder(statebin.MagicVec, vecStateVersion)
	e.Int(v.b)
	e.Bool(v.started)
	for b, en := range v.envs {
		pcg, err := v.pcgs[b].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("env: vec: env %d: saving the seed stream: %w", b, err)
		}
		e.Bytes(pcg)
		mr, ok := en.(encoding.BinaryMarshaler)
		if !ok {
			return nil, fmt.Errorf("env: vec: env %d (%T) cannot save its state (it does not implement encoding.BinaryMarshaler)", b, en)
		}
		s, err := mr.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("env: vec: env %d: %w", b, err)
		}
		e.Bytes(s)
	}
	return e.Data(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary into a Vec of
// envs built the same way (same number, each restoring its own state).
// Stepping it with the same actions then gives bit-identical outputs,
// autoresets included. On error (wrapping ErrState for bad data, naming
// the env) the Vec and its envs are unchanged.
func (v *Vec) UnmarshalBinary(data []byte) error {
	if v.closed {
		panic("env: use of a closed vec")
	}
	d := statebin.NewDecoder(data, statebin.MagicVec, vecStateVersion, "Vec")
	if b := d.Int(); d.Err() == nil && b != v.b {
		d.Fail("the state holds %d envs, this vec has %d", b, v.b)
	}
	started := d.Bool()
	pcgs := make([]rand.PCG, v.b)
	states := make([][]byte, v.b)
	for b := 0; b < v.b && d.Err() == nil; b++ {
		if p := d.Bytes(); d.Err() == nil {
			if err := pcgs[b].UnmarshalBinary(p); err != nil {
				d.Fail("env %d: seed stream: %v", b, err)
			}
		}
		states[b] = d.Bytes()
	}
	if err := d.Finish(); err != nil {
		return err
	}
	// Restore env by env; on a failure, put back the envs already restored
	// from their states saved just before.
	old := make([][]byte, 0, v.b)
	for b, en := range v.envs {
		u, uok := en.(encoding.BinaryUnmarshaler)
		m, mok := en.(encoding.BinaryMarshaler)
		if !uok || !mok {
			return v.rollback(old, fmt.Errorf("env: vec: env %d (%T) cannot restore its state (it does not implement encoding.BinaryMarshaler and BinaryUnmarshaler)", b, en))
		}
		prev, err := m.MarshalBinary()
		if err != nil {
			return v.rollback(old, fmt.Errorf("env: vec: env %d: %w", b, err))
		}
		if err := u.UnmarshalBinary(states[b]); err != nil {
			return v.rollback(old, fmt.Errorf("env: vec: env %d: %w", b, err))
		}
		old = append(old, prev)
	}
	copy(v.pcgs, pcgs)
	v.started = started
	return nil
}

// rollback restores envs 0..len(old)-1 from old and returns err.
func (v *Vec) rollback(old [][]byte, err error) error {
	for b, s := range old {
		if rerr := v.envs[b].(encoding.BinaryUnmarshaler).UnmarshalBinary(s); rerr != nil {
			return fmt.Errorf("%w (and restoring env %d's previous state failed: %w)", err, b, rerr)
		}
	}
	return err
}
