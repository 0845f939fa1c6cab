package experiments

import "testing"

// TestUnquotedScanning checks the quote-aware scanning behind the line
// numbers of config errors on TOML lines whose strings hold brackets,
// comment signs, equals signs and escaped quotes. Expected values are
// counted by hand from each line.
func TestUnquotedScanning(t *testing.T) {
	for _, tc := range []struct {
		line         string
		delta        int // bracketDelta
		eq, hash     int // indexUnquoted for '=' and '#'
		strippedLine string
	}{
		{`a = [1, [2, 3]`, 1, 2, -1, `a = [1, [2, 3]`},
		{`a = [ # ]`, 1, 2, 6, `a = [ `},
		{`"k=[" = "v#]" # [`, 0, 6, 14, `"k=[" = "v#]" `},
		{`s = "a\"[#" ]`, -1, 2, -1, `s = "a\"[#" ]`},
		{`s = 'a\' ] # [`, -1, 2, 11, `s = 'a\' ] `},
		{`t = { x = '[' }`, 0, 2, -1, `t = { x = '[' }`},
		{`]]`, -2, -1, -1, `]]`},
		{``, 0, -1, -1, ``},
	} {
		if got := bracketDelta(tc.line); got != tc.delta {
			t.Errorf("bracketDelta(%s) = %d, want %d", tc.line, got, tc.delta)
		}
		if got := indexUnquoted(tc.line, '='); got != tc.eq {
			t.Errorf("indexUnquoted(%s, '=') = %d, want %d", tc.line, got, tc.eq)
		}
		if got := indexUnquoted(tc.line, '#'); got != tc.hash {
			t.Errorf("indexUnquoted(%s, '#') = %d, want %d", tc.line, got, tc.hash)
		}
		if got := stripComment(tc.line); got != tc.strippedLine {
			t.Errorf("stripComment(%s) = %q, want %q", tc.line, got, tc.strippedLine)
		}
	}
}
