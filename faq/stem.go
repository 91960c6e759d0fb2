package faq

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/romance"
	"github.com/kljensen/snowball/snowballword"
	"github.com/kljensen/snowball/spanish"
)

// stem reduces an already normalised word to its stem in lang. Words are
// stemmed after accents are folded, so that "informação" and "informacao"
// meet at the same stem; the stemmers are fed accordingly.
func stem(word string, lang int) string {
	if utf8.RuneCountInString(word) < 3 || !hasLetter(word) {
		return word
	}
	switch lang {
	case langPT:
		return stemPortuguese(word)
	case langES:
		// The Spanish stemmer knows "-ción" but not the folded "-cion",
		// which would leave "informacion" apart from "informaciones".
		switch {
		case strings.HasSuffix(word, "cion"):
			word = word[:len(word)-4] + "ción"
		case strings.HasSuffix(word, "sion"):
			word = word[:len(word)-4] + "sión"
		}
		return spanish.Stem(word, true)
	default:
		return english.Stem(word, true)
	}
}

func hasLetter(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return true
		}
	}
	return false
}

// The snowball module has no Portuguese stemmer, so this is the Snowball
// Portuguese algorithm (snowballstem.org) written on the module's own word
// type and region helpers, with its suffix lists folded to match the
// accent-free words the matcher produces (ação -> acao, ável -> avel).

func isPortugueseVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// byLength orders suffixes longest first, since Snowball wants the longest
// match, and keeps them as runes: the word type's string-taking helpers
// convert every suffix on every call, which dominated building the index.
func byLength(suffixes ...string) [][]rune {
	s := slices.Clone(suffixes)
	slices.SortStableFunc(s, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	s = slices.Compact(s)
	r := make([][]rune, len(s))
	for i, x := range s {
		r[i] = []rune(x)
	}
	return r
}

// longestSuffix returns the first of suffixes that w ends with and that
// starts at or after from, or nil.
func longestSuffix(w *snowballword.SnowballWord, from int, suffixes [][]rune) []rune {
	for _, sfx := range suffixes {
		if w.HasSuffixRunesIn(from, len(w.RS), sfx) {
			return sfx
		}
	}
	return nil
}

var (
	ptStep1 = byLength(
		"eza", "ezas", "ico", "ica", "icos", "icas", "ismo", "ismos", "avel", "ivel",
		"ista", "istas", "oso", "osa", "osos", "osas", "amento", "amentos", "imento",
		"imentos", "adora", "ador", "acao", "adoras", "adores", "acoes", "ante", "antes",
		"ancia", "logia", "logias", "ucao", "ucoes", "encia", "encias", "amente", "mente",
		"idade", "idades", "iva", "ivo", "ivas", "ivos", "ira", "iras",
	)
	ptStep2 = byLength(
		"ada", "ida", "ia", "aria", "eria", "iria", "ara", "era", "ira", "ava", "asse",
		"esse", "isse", "aste", "este", "iste", "ei", "arei", "erei", "irei", "am", "iam",
		"ariam", "eriam", "iriam", "aram", "eram", "iram", "avam", "em", "arem", "erem",
		"irem", "assem", "essem", "issem", "ado", "ido", "ando", "endo", "indo", "arao",
		"erao", "irao", "ar", "er", "ir", "as", "adas", "idas", "ias", "arias", "erias",
		"irias", "aras", "eras", "iras", "avas", "es", "ardes", "erdes", "irdes", "ares",
		"eres", "ires", "asses", "esses", "isses", "astes", "estes", "istes", "is", "ais",
		"eis", "ieis", "arieis", "erieis", "irieis", "areis", "ereis", "ireis", "asseis",
		"esseis", "isseis", "aveis", "ados", "idos", "amos", "iamos", "ariamos", "eriamos",
		"iriamos", "aramos", "eramos", "iramos", "avamos", "emos", "aremos", "eremos",
		"iremos", "assemos", "essemos", "issemos", "imos", "armos", "ermos", "irmos", "eu",
		"iu", "ou",
	)
	ptResidual = byLength("os", "a", "i", "o")
	ci, gu     = []rune("ci"), []rune("gu")
)

func stemPortuguese(word string) string {
	w := snowballword.New(word)
	ptRegions(w)
	changed := ptStandardSuffix(w)
	if !changed {
		changed = ptVerbSuffix(w)
	}
	if changed {
		// Step 3: "-ci" left by the steps above loses its i.
		if w.FitsInRV(1) && w.HasSuffixRunes(ci) {
			w.RemoveLastNRunes(1)
		}
	} else if s := longestSuffix(w, w.RVstart, ptResidual); s != nil {
		w.RemoveLastNRunes(len(s))
	}
	// Step 5: a final e in RV goes, and so does the u of "gue" or the i of
	// "cie" when they are in RV too.
	if w.FitsInRV(1) && w.RS[len(w.RS)-1] == 'e' {
		w.RemoveLastNRunes(1)
		if w.FitsInRV(1) && (w.HasSuffixRunes(gu) || w.HasSuffixRunes(ci)) {
			w.RemoveLastNRunes(1)
		}
	}
	return w.String()
}

// ptRegions sets R1, R2 and RV as the Snowball Romance stemmers define them.
func ptRegions(w *snowballword.SnowballWord) {
	w.R1start = romance.VnvSuffix(w, isPortugueseVowel, 0)
	w.R2start = romance.VnvSuffix(w, isPortugueseVowel, w.R1start)
	w.RVstart = len(w.RS)
	if len(w.RS) < 3 {
		return
	}
	switch {
	case !isPortugueseVowel(w.RS[1]):
		for i := 2; i < len(w.RS); i++ {
			if isPortugueseVowel(w.RS[i]) {
				w.RVstart = i + 1
				break
			}
		}
	case isPortugueseVowel(w.RS[0]):
		for i := 2; i < len(w.RS); i++ {
			if !isPortugueseVowel(w.RS[i]) {
				w.RVstart = i + 1
				break
			}
		}
	default:
		w.RVstart = 3
	}
}

// ptStandardSuffix is step 1: the longest derivational suffix of the word,
// removed or replaced only when it lies in the region its rule names.
func ptStandardSuffix(w *snowballword.SnowballWord) bool {
	sfx := longestSuffix(w, 0, ptStep1)
	if sfx == nil {
		return false
	}
	s, n := string(sfx), len(sfx)
	inR1, inR2, inRV := w.FitsInR1(n), w.FitsInR2(n), w.FitsInRV(n)
	replace := func(with string) bool {
		w.ReplaceSuffixRunes([]rune(s), []rune(with), true)
		return true
	}
	switch s {
	case "amente":
		if !inR1 {
			return false
		}
		w.RemoveLastNRunes(n)
		if w.RemoveFirstSuffixIfIn(w.R2start, "iv", "os", "ic", "ad") == "iv" {
			w.RemoveFirstSuffixIfIn(w.R2start, "at")
		}
		return true
	case "ira", "iras":
		if !inRV || w.FirstSuffix("e"+s) == "" {
			return false
		}
		return replace("ir")
	}
	if !inR2 {
		return false
	}
	switch s {
	case "logia", "logias":
		return replace("log")
	case "ucao", "ucoes":
		return replace("u")
	case "encia", "encias":
		return replace("ente")
	case "mente":
		w.RemoveLastNRunes(n)
		w.RemoveFirstSuffixIfIn(w.R2start, "ante", "avel", "ivel")
	case "idade", "idades":
		w.RemoveLastNRunes(n)
		w.RemoveFirstSuffixIfIn(w.R2start, "abil", "ic", "iv")
	case "iva", "ivo", "ivas", "ivos":
		w.RemoveLastNRunes(n)
		w.RemoveFirstSuffixIfIn(w.R2start, "at")
	default:
		w.RemoveLastNRunes(n)
	}
	return true
}

// ptVerbSuffix is step 2: the longest verb ending inside RV.
func ptVerbSuffix(w *snowballword.SnowballWord) bool {
	s := longestSuffix(w, w.RVstart, ptStep2)
	if s == nil {
		return false
	}
	w.RemoveLastNRunes(len(s))
	return true
}
