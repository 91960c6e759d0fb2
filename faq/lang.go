package faq

import (
	"strings"
	"sync"
)

// langCues is built once from the marker lists: for each word, the evidence
// it gives each language.
var langCues = sync.OnceValue(func() map[string][numLangs]float32 {
	m := make(map[string][numLangs]float32)
	for l, words := range markers {
		for _, w := range words {
			w = Normalize(w)
			v := m[w]
			v[l] = 1
			m[w] = v
		}
	}
	return m
})

// DetectLang guesses the language ("en", "pt" or "es") of text from the
// function words and spellings each language has of its own, or returns
// false when the evidence is too thin or too mixed to say.
func DetectLang(text string) (string, bool) {
	l, ok := detectLang(text, strings.Fields(Normalize(text)))
	if !ok {
		return "", false
	}
	return langNames[l], true
}

// detectLang takes the raw text for the letters that folding erases (ç, ñ, ¿)
// and the normalised tokens for the words.
func detectLang(raw string, tokens []string) (int, bool) {
	var score [numLangs]float32
	for _, r := range raw {
		switch r {
		case 'ç', 'ã', 'õ', 'ê', 'ô', 'â', 'Ç', 'Ã', 'Õ':
			score[langPT] += 1.5
		case 'ñ', '¿', '¡', 'Ñ':
			score[langES] += 1.5
		}
	}
	cues := langCues()
	for _, t := range tokens {
		if c, ok := cues[t]; ok {
			for l := range c {
				score[l] += c[l]
			}
			continue
		}
		// Word endings that the two Romance languages spell apart.
		switch {
		case strings.HasSuffix(t, "cao"), strings.HasSuffix(t, "coes"), strings.HasSuffix(t, "dade"):
			score[langPT]++
		case strings.HasSuffix(t, "cion"), strings.HasSuffix(t, "ciones"), strings.HasSuffix(t, "dad"):
			score[langES]++
		}
	}
	best, second := 0, -1
	for l := 1; l < numLangs; l++ {
		if score[l] > score[best] {
			best = l
		}
	}
	for l := range numLangs {
		if l != best && (second < 0 || score[l] > score[second]) {
			second = l
		}
	}
	if score[best] < 1 || score[best]-score[second] < 1 {
		return 0, false
	}
	return best, true
}

// langIndex maps a caller's language tag to one of Languages, reading only the
// primary subtag ("pt-BR" is "pt") and falling back to English.
func langIndex(tag string) int {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	switch tag {
	case "pt":
		return langPT
	case "es":
		return langES
	}
	return langEN
}
