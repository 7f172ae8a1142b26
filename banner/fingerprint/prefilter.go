package fingerprint

import (
	"regexp/syntax"
	"unicode/utf8"
)

// minLiteral is the shortest literal worth a prefilter check.
const minLiteral = 3

// requiredLiteral returns the longest literal string that every match of the
// pattern must contain, and whether it is matched case-insensitively. A line
// without it cannot match, so Match skips the regexp for that line; most
// rules fail this way on most greetings, for the price of a substring search.
// It returns "" when the pattern guarantees no literal of minLiteral bytes.
func requiredLiteral(pattern string) (lit string, fold bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	lit, fold = mustContain(re)
	if len(lit) < minLiteral {
		return "", false
	}
	return lit, fold
}

// mustContain walks the parts of re that every match goes through.
func mustContain(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			// In a regexp U+FFFD also matches an invalid byte, which
			// strings.Contains would not find.
			if r == utf8.RuneError {
				return "", false
			}
		}
		fold := re.Flags&syntax.FoldCase != 0
		lit := string(re.Rune)
		// Folded non-ASCII letters match ASCII ones (U+017F matches s),
		// which the ASCII-only folded search would miss.
		if fold && !isASCII(lit) {
			return "", false
		}
		return lit, fold
	case syntax.OpCapture, syntax.OpPlus:
		return mustContain(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return mustContain(re.Sub[0])
		}
	case syntax.OpConcat:
		var best string
		var bestFold bool
		for _, sub := range re.Sub {
			lit, fold := mustContain(sub)
			// Prefer longer literals; at equal length an exact one is
			// cheaper to search than a folded one.
			if len(lit) > len(best) || (len(lit) == len(best) && bestFold && !fold) {
				best, bestFold = lit, fold
			}
		}
		return best, bestFold
	}
	return "", false
}
