package market

import (
	"fmt"
	"math"
	"time"
)

// Resample aggregates s into bars of length target, a whole multiple of
// s.Interval: open = first open, high = max high, low = min low, close =
// last close, volume = sum of volumes (summed in time order). Buckets are
// aligned to Unix-epoch multiples of target, so 4h buckets open at 00, 04,
// 08, … UTC, daily buckets at 00:00 UTC and weekly buckets on Thursdays (the
// epoch's weekday); calendar weeks and months are not supported.
//
// A bucket missing any of its target/s.Interval source bars is dropped and
// reported as a WarnIncompleteBucket warning, never aggregated from partial
// data; this includes partial buckets at either end of the series. The
// source bars must lie on the epoch grid of s.Interval (a 1h bar opening at
// 00:30 would straddle two 4h buckets); otherwise Resample returns a
// *DataError naming the first such bar. Line numbers of the result are those
// of each bucket's first source bar. A target equal to s.Interval returns a
// copy of s.
func Resample(s *Series, target time.Duration) (*Series, []Warning, error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	src := s.Interval
	if s.Len() == 1 && src == 0 {
		return nil, nil, &DataError{File: s.Path, Msg: fmt.Sprintf("asset %s: cannot resample a single bar of unknown interval", s.Asset),
			Fix: "set the expected bar interval"}
	}
	if target <= 0 || target%src != 0 {
		return nil, nil, &DataError{File: s.Path, Msg: fmt.Sprintf("asset %s: resample target %s is not a positive multiple of the %s bar interval", s.Asset, dur(target), dur(src)),
			Fix: "choose a target that is a whole multiple of the bar interval"}
	}
	step, width := int64(src/time.Second), int64(target/time.Second)
	k := int(width / step) // source bars per bucket
	for j, t := range s.Times {
		if floorMod(t, step) != 0 {
			return nil, nil, s.errAt(j, "", "", "asset %s: bar at %s is not on the %s grid from the Unix epoch, so it cannot be assigned to one %s bucket", s.Asset, rfc3339(t), dur(src), dur(target))
		}
	}
	if k == 1 {
		return s.Clone(), nil, nil
	}
	n := s.Len()
	est := n/k + 1
	out := &Series{
		Asset: s.Asset, Path: s.Path, Format: s.Format, Interval: target,
		Times: make([]int64, 0, est), Open: make([]float64, 0, est), High: make([]float64, 0, est),
		Low: make([]float64, 0, est), Close: make([]float64, 0, est), Volume: make([]float64, 0, est),
	}
	if s.Lines != nil {
		out.Lines = make([]int, 0, est)
	}
	var warns []Warning
	si := 0 // next entry of s.sources to carry over
	for i := 0; i < n; {
		bucket := s.Times[i] - floorMod(s.Times[i], width)
		j := i + 1
		for j < n && s.Times[j] < bucket+width {
			j++
		}
		// Bars i..j-1 fall in the bucket; on the grid they are distinct, so
		// the bucket is complete exactly when there are k of them.
		if got := j - i; got != k {
			path, line := s.Source(i)
			warns = append(warns, Warning{Kind: WarnIncompleteBucket, File: path, Line: line, Asset: s.Asset, Time: bucket, Bars: k - got,
				Msg: fmt.Sprintf("%s bucket %s has %d of %d bars; dropped", dur(target), rfc3339(bucket), got, k)})
			i = j
			continue
		}
		h, l, v := s.High[i], s.Low[i], 0.0
		for m := i; m < j; m++ {
			h = math.Max(h, s.High[m])
			l = math.Min(l, s.Low[m])
			v += s.Volume[m]
		}
		for si < len(s.sources) && s.sources[si].from <= i {
			// The bucket's first bar (whose line the output keeps) comes from file si.
			out.sources = append(out.sources, source{from: out.Len(), path: s.sources[si].path})
			si++
		}
		out.Times = append(out.Times, bucket)
		out.Open = append(out.Open, s.Open[i])
		out.High = append(out.High, h)
		out.Low = append(out.Low, l)
		out.Close = append(out.Close, s.Close[j-1])
		out.Volume = append(out.Volume, v)
		if s.Lines != nil {
			out.Lines = append(out.Lines, s.Lines[i])
		}
		i = j
	}
	if out.Len() == 0 {
		return nil, warns, &DataError{File: s.Path, Msg: fmt.Sprintf("asset %s: no complete %s bucket in %d bars of %s", s.Asset, dur(target), n, dur(src))}
	}
	return out, warns, nil
}

// floorMod returns a mod m in [0, m) for m > 0, also for negative a.
func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}
