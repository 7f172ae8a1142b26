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

// literal is one string every match contains.
type literal struct {
	s    string
	fold bool
}

// maxLiterals bounds the literals a rule checks before its regexp.
const maxLiterals = 3

// requiredLiterals returns up to maxLiterals literals of at least minLiteral
// bytes that every match of the pattern contains, longest first: the parts
// of a concatenation are all required, so a line lacking any one of them
// cannot match ("ESMTP " and "EXIM" for an Exim rule, where "ESMTP " alone
// is in most greetings).
func requiredLiterals(pattern string) []literal {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var all []literal
	collectLiterals(re, &all)
	var out []literal
	for _, l := range all {
		if len(l.s) >= minLiteral {
			out = append(out, l)
		}
	}
	// Longest first; at equal length an exact one before a folded one.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && better(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) > maxLiterals {
		out = out[:maxLiterals]
	}
	return out
}

func better(a, b literal) bool {
	return len(a.s) > len(b.s) || len(a.s) == len(b.s) && b.fold && !a.fold
}

// collectLiterals appends every literal that a match of re must contain.
func collectLiterals(re *syntax.Regexp, out *[]literal) {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCapture, syntax.OpPlus, syntax.OpRepeat:
		if s, fold := mustContain(re); s != "" {
			*out = append(*out, literal{s, fold})
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			collectLiterals(sub, out)
		}
	}
}

// literalsOf splits requiredLiterals into the first and the rest.
func literalsOf(pattern string) (string, bool, []literal) {
	lits := requiredLiterals(pattern)
	if len(lits) == 0 {
		return "", false, nil
	}
	return lits[0].s, lits[0].fold, lits[1:]
}
