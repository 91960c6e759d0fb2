package faq

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// phrase is one synonym form and the canonical token it stands for.
type phrase struct {
	words []string
	canon string
	langs uint8 // bit per language the form belongs to
}

// lexIndex is the lexicon in the shape matching needs; it does not depend on
// the knowledge base, so all matchers share one.
type lexIndex struct {
	// stop holds, per stop word, a bit for each language it is one in.
	stop map[string]uint8
	// phrases by their first word, longest first, so the first phrase that
	// fits is the longest.
	phrases map[string][]phrase
	// words holds every normalised word of every form, for the typo lookup
	// and for telling known words from unknown ones.
	words map[string]bool
	// canons lists the canonical tokens in table order.
	canons []string
	// stemSyn maps the stem of a one-word form, per language, to its
	// canonical token, so inflections the table does not list ("migrei")
	// still reach it.
	stemSyn [numLangs]map[string]string
	// typo corrects towards the table's words and, second, stop words.
	typo typoIndex
}

const allLangs = 1<<numLangs - 1

var lexicon = sync.OnceValue(buildLexicon)

func buildLexicon() *lexIndex {
	lx := &lexIndex{
		stop:    make(map[string]uint8),
		phrases: make(map[string][]phrase),
		words:   make(map[string]bool),
	}
	for l, list := range stopWords {
		for _, w := range list {
			lx.stop[Normalize(w)] |= 1 << l
		}
	}
	for _, g := range synonyms {
		lx.canons = append(lx.canons, g.canon)
		for _, f := range g.forms {
			words, langs := parseForm(f)
			if len(words) == 0 {
				continue
			}
			for _, w := range words {
				lx.words[w] = true
			}
			if len(words) == 1 {
				for _, pl := range plurals(words[0]) {
					lx.words[pl] = true
				}
			}
			p := phrase{words: words, canon: g.canon, langs: langs}
			// A form also starts where the plural of its first word
			// does ("modelos de mensagem"); the last word's plural is
			// checked as the rest matches.
			for _, k := range append([]string{words[0]}, plurals(words[0])...) {
				lx.phrases[k] = append(lx.phrases[k], p)
			}
		}
	}
	for k, ps := range lx.phrases {
		// Stable, so that when two groups claim the same form the one
		// listed first in the table keeps it.
		slices.SortStableFunc(ps, func(a, b phrase) int { return cmp.Compare(len(b.words), len(a.words)) })
		lx.phrases[k] = ps
	}
	var words []string
	var rank []int
	var stop []bool
	for w := range lx.words {
		words, rank, stop = append(words, w), append(rank, 0), append(stop, lx.stop[w] != 0)
	}
	for w := range lx.stop {
		if !lx.words[w] {
			words, rank, stop = append(words, w), append(rank, 1), append(stop, true)
		}
	}
	lx.typo = newTypoIndex(words, rank, stop)

	for l := range numLangs {
		lx.stemSyn[l] = make(map[string]string)
	}
	for _, g := range synonyms {
		for _, f := range g.forms {
			words, langs := parseForm(f)
			// Stems of short words and of the off-topic list catch too
			// much: "partido" (a match) stems to "part", as "parte" does.
			if len(words) != 1 || len(words[0]) < 5 || g.canon == offTopic {
				continue
			}
			for l := range numLangs {
				if langs&(1<<l) == 0 {
					continue
				}
				st := stem(words[0], l)
				if _, taken := lx.stemSyn[l][st]; !taken {
					lx.stemSyn[l][st] = g.canon
				}
			}
		}
	}
	return lx
}

// parseForm reads a synonym form: words, optionally followed by "@pt" (or
// another language) when the form means this only in that language.
func parseForm(f string) ([]string, uint8) {
	langs := uint8(allLangs)
	if i := strings.LastIndexByte(f, '@'); i >= 0 {
		langs = 1 << langIndex(f[i+1:])
		f = f[:i]
	}
	return strings.Fields(Normalize(f)), langs
}

// plurals are the regular plural spellings of w in the three languages;
// words that already end in s are left alone ("sms", "access").
func plurals(w string) []string {
	if len(w) < 3 || strings.HasSuffix(w, "s") {
		return nil
	}
	return []string{w + "s", w + "es"}
}

// wordMatches reports whether token t is the phrase word w or, for the
// last word of a phrase, w in the other number ("etapa" for "etapas").
func wordMatches(t, w string, last bool) bool {
	if t == w {
		return true
	}
	if !last {
		return false
	}
	return pluralOf(t, w) || pluralOf(w, t)
}

// pluralOf reports whether p is a regular plural of w.
func pluralOf(p, w string) bool {
	if len(w) < 3 || len(p) <= len(w) || !strings.HasPrefix(p, w) || strings.HasSuffix(w, "s") {
		return false
	}
	rest := p[len(w):]
	return rest == "s" || rest == "es"
}

// matchPhrase returns the canonical token of the longest synonym form of at
// least minWords words, valid in language l, that starts at tokens[i], and
// how many tokens it covers (0 if none).
func (lx *lexIndex) matchPhrase(tokens []string, i, minWords, l int) (string, int) {
	for _, p := range lx.phrases[tokens[i]] {
		if len(p.words) < minWords {
			break // sorted longest first
		}
		if p.langs&(1<<l) == 0 {
			continue
		}
		if n := lx.matchRest(tokens, i+1, p.words[1:]); n > 0 {
			return p.canon, n - i
		}
	}
	return "", 0
}

// matchRest matches the words after a phrase's first against tokens from
// k on and returns the index after the last token used, or 0. One stop word
// may stand between two words of a phrase, since clients write "what
// exactly is" and "turn the 2FA off" as often as "what is".
func (lx *lexIndex) matchRest(tokens []string, k int, words []string) int {
	skipped := false
	for j, w := range words {
		last := j == len(words)-1
		if k < len(tokens) && wordMatches(tokens[k], w, last) {
			k++
			continue
		}
		if skipped || k+1 >= len(tokens) || lx.stop[tokens[k]] == 0 || !wordMatches(tokens[k+1], w, last) {
			return 0
		}
		skipped = true
		k += 2
	}
	return k
}

// next reads the token at tokens[i] in language l and returns the canonical
// token it starts, if any, how many tokens were consumed, and whether the
// token is a stop word. A phrase beats stop words ("how long", "de novo"),
// but a one-word form does not beat a stop word of the question's own
// language.
func (lx *lexIndex) next(tokens []string, i, l int) (canon string, n int, stop bool) {
	if c, n := lx.matchPhrase(tokens, i, 2, l); n > 0 {
		return c, n, false
	}
	mask := lx.stop[tokens[i]]
	if mask&(1<<l) != 0 {
		return "", 1, true
	}
	if c, n := lx.matchPhrase(tokens, i, 1, l); n > 0 {
		return c, n, false
	}
	return "", 1, mask != 0
}
