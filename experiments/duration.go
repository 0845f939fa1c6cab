package experiments

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a bar interval or time span written like "30m", "1h", "4h",
// "1d" or "1w" in TOML. The zero value means "not set".
type Duration time.Duration

// ParseDuration parses "90s", "30m", "1h", "4h", "1d", "2w" (an integer and a
// unit; d = 24 h, w = 7 d) and Go duration strings such as "1h30m".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	unit := s[len(s)-1]
	if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && (unit == 'd' || unit == 'w') {
		if n <= 0 {
			return 0, fmt.Errorf("duration %q must be positive", s)
		}
		d := time.Duration(n) * 24 * time.Hour
		if unit == 'w' {
			d *= 7
		}
		return Duration(d), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("cannot read duration %q: write it like 30m, 1h, 4h or 1d", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return Duration(d), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler, writing the shortest of the
// d/h/m/s forms.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String formats d as "1d", "4h", "30m", or a Go duration string.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return ""
	case td%(7*24*time.Hour) == 0:
		return fmt.Sprintf("%dw", td/(7*24*time.Hour))
	case td%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", td/(24*time.Hour))
	case td%time.Hour == 0:
		return fmt.Sprintf("%dh", td/time.Hour)
	case td%time.Minute == 0:
		return fmt.Sprintf("%dm", td/time.Minute)
	}
	return td.String()
}
