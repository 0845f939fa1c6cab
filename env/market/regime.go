package market

import (
	"fmt"
	"strings"
)

// Regime labels a bar's market state. Labels are per bar (shared by all
// assets of a panel). The zero value is Unlabelled.
type Regime int8

// The regimes folio knows. NumRegimes counts the labelled ones.
const (
	Unlabelled Regime = iota
	Bull
	Bear
	Sideways
	Crash
)

// NumRegimes is the number of labelled regimes (Bull..Crash).
const NumRegimes = 4

var regimeNames = [...]string{"unlabelled", "bull", "bear", "sideways", "crash"}

// String returns the lower-case regime name.
func (r Regime) String() string {
	if r < 0 || int(r) >= len(regimeNames) {
		return fmt.Sprintf("regime(%d)", int(r))
	}
	return regimeNames[r]
}

// Regimes returns the labelled regimes in order.
func Regimes() []Regime { return []Regime{Bull, Bear, Sideways, Crash} }

// ParseRegime parses a regime name (case-insensitive).
func ParseRegime(s string) (Regime, error) {
	for i, n := range regimeNames {
		if i > 0 && strings.EqualFold(strings.TrimSpace(s), n) {
			return Regime(i), nil
		}
	}
	return Unlabelled, fmt.Errorf("market: unknown regime %q (want one of bull, bear, sideways, crash)", s)
}
