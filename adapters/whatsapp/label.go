package whatsapp

import (
	"strings"
	"unicode"

	"portabot/bot"
)

// listLabels is the label of the button that opens a list, per language.
var listLabels = map[bot.Lang]string{
	bot.English:    "Options",
	bot.Portuguese: "Opções",
	bot.Spanish:    "Opciones",
}

// Words common in one of portabot's languages and rare in the other two.
var langWords = map[bot.Lang][]string{
	bot.English: {"the", "you", "your", "and", "is", "are", "what", "would", "like", "to", "of",
		"number", "with", "it", "my", "how", "yes", "start", "continue"},
	bot.Portuguese: {"você", "voce", "não", "nao", "seu", "sua", "meu", "minha", "um", "uma", "do", "da",
		"dos", "das", "ao", "é", "está", "olá", "ola", "sim", "obrigado", "gostaria", "fazer", "número",
		"falar", "com", "dúvida", "atendente"},
	bot.Spanish: {"tu", "tú", "usted", "su", "mi", "el", "los", "las", "del", "al", "una", "es",
		"está", "hola", "sí", "gracias", "gustaría", "hacer", "número", "hablar", "con", "pregunta",
		"alguien", "qué", "y"},
}

// langChars are letters and marks only one of the languages uses.
var langChars = map[rune]bot.Lang{
	'ã': bot.Portuguese, 'õ': bot.Portuguese, 'ç': bot.Portuguese, 'ê': bot.Portuguese, 'â': bot.Portuguese,
	'ñ': bot.Spanish, '¿': bot.Spanish, '¡': bot.Spanish,
}

// guessListLabel picks the list button's label in the language the reply
// seems to be written in. The reply does not say its language, and a label
// in the client's language reads better than a fixed English one; when the
// guess is not clear, the English label is used.
func guessListLabel(r bot.Reply) string {
	var sb strings.Builder
	sb.WriteString(r.Text)
	for _, b := range r.Buttons {
		sb.WriteString("\n")
		sb.WriteString(b.Title)
	}
	text := strings.ToLower(sb.String())
	score := map[bot.Lang]int{}
	for _, c := range text {
		if l, ok := langChars[c]; ok {
			score[l] += 2
		}
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(c rune) bool { return !unicode.IsLetter(c) }) {
		words[w] = true
	}
	for l, list := range langWords {
		for _, w := range list {
			if words[w] {
				score[l]++
			}
		}
	}
	best, bestScore, tie := bot.English, 0, false
	for _, l := range bot.Langs() {
		switch s := score[l]; {
		case s > bestScore:
			best, bestScore, tie = l, s, false
		case s == bestScore && s > 0:
			tie = true
		}
	}
	if tie || bestScore == 0 {
		return listLabels[bot.English]
	}
	return listLabels[best]
}
