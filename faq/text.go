package faq

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// A transform.Chain keeps buffers between calls and is not safe for
// concurrent use, while building one per question would dominate the cost of
// matching; so chains are pooled.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// FoldAccents removes diacritics ("verificação" -> "verificacao"), because
// clients type with and without them and both must match the same words.
// NFKD also flattens compatibility forms (full-width letters, ligatures).
// The bot's words fold with it too, so that a client's answer and an FAQ
// question are read alike.
func FoldAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	t := folders.Get().(transform.Transformer)
	out, _, err := transform.String(t, s)
	folders.Put(t)
	if err != nil {
		// Only reachable on a transformer bug; the unfolded text is a
		// better question than none.
		return s
	}
	return out
}

// isApostrophe lists the marks that join a word rather than split it:
// "what's" and "don't" must stay one token.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', '`', '´', 'ʼ':
		return true
	}
	return false
}

// Normalize returns text the way the matcher reads it: lower case, accents
// folded, anything but letters and digits turned into single spaces, and
// letters stretched three times or more cut back to two ("helloooo" ->
// "helloo"), which a one-edit typo lookup then finishes.
func Normalize(text string) string {
	var b strings.Builder
	appendNormalized(&b, text)
	return b.String()
}

func appendNormalized(b *strings.Builder, text string) {
	// Lower-casing first lets the fold see the accents of capitals too, and
	// lower-casing again after it catches letters the fold turned into
	// capitals (compatibility forms).
	s := FoldAccents(strings.ToLower(text))
	b.Grow(len(s))
	var prev1, prev2 rune // the last two letters written, for squeezing
	gap := false          // a separator was seen since the last letter
	for _, r := range s {
		switch {
		case isApostrophe(r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if gap {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				gap = false
				prev1, prev2 = 0, 0
			}
			if unicode.IsLetter(r) && r == prev1 && r == prev2 {
				continue
			}
			b.WriteRune(r)
			prev2, prev1 = prev1, r
		default:
			gap = true
		}
	}
}
