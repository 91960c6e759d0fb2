package bot

import "strings"

// What the port kept reads to a client in words, not Meta's enum values
// ("GREEN", "TIER_1K"); a value Meta adds later is shown as it comes.

// qualityWords are Meta's quality ratings in each language.
var qualityWords = map[string][3]string{
	"GREEN":   {"high (green)", "alta (verde)", "alta (verde)"},
	"YELLOW":  {"medium (yellow)", "média (amarela)", "media (amarilla)"},
	"RED":     {"low (red)", "baixa (vermelha)", "baja (roja)"},
	"UNKNOWN": {"not rated yet", "ainda sem classificação", "todavía sin calificación"},
}

// limitWords are Meta's messaging limits in each language: how many
// clients a business may start conversations with in 24 hours.
var limitWords = map[string][3]string{
	"TIER_50":        {"50 clients a day", "50 clientes por dia", "50 clientes por día"},
	"TIER_250":       {"250 clients a day", "250 clientes por dia", "250 clientes por día"},
	"TIER_1K":        {"1,000 clients a day", "1.000 clientes por dia", "1.000 clientes por día"},
	"TIER_2K":        {"2,000 clients a day", "2.000 clientes por dia", "2.000 clientes por día"},
	"TIER_10K":       {"10,000 clients a day", "10.000 clientes por dia", "10.000 clientes por día"},
	"TIER_100K":      {"100,000 clients a day", "100.000 clientes por dia", "100.000 clientes por día"},
	"TIER_UNLIMITED": {"unlimited", "ilimitado", "ilimitado"},
}

func langSlot(l Lang) int {
	switch l {
	case Portuguese:
		return 1
	case Spanish:
		return 2
	}
	return 0
}

// keptWords reads a value of table in l; "" stays "".
func keptWords(table map[string][3]string, v string, l Lang) string {
	if w, ok := table[strings.ToUpper(strings.TrimSpace(v))]; ok {
		return w[langSlot(l)]
	}
	return v
}

// triesLeft says how many code attempts remain, in the singular or the
// plural as the number asks: "1 attempt left", "restam 2 tentativas".
func triesLeft(n int, l Lang) string {
	if n == 1 {
		return render(l, msgTriesLeftOne, n)
	}
	return render(l, msgTriesLeftMany, n)
}
