package faq

// shorthand is how clients abbreviate in chat, by language, with what each
// abbreviation stands for: "vc sabe pq nao chegou o cod?" is "você sabe
// porque não chegou o código?" to the matcher. Only forms that stand for
// one thing in their language are here: English "y" (why, yes), "whats"
// (what's, WhatsApp) and Portuguese "n" (não, number) are not.
var shorthand = [numLangs]map[string][]string{
	langEN: {
		"u": {"you"}, "ur": {"your"}, "r": {"are"}, "pls": {"please"}, "plz": {"please"}, "thx": {"thanks"},
		"k": {"ok"}, "kk": {"ok"}, "msg": {"message"}, "msgs": {"messages"}, "num": {"number"}, "nr": {"number"},
		"acc": {"account"}, "acct": {"account"}, "b4": {"before"}, "bc": {"because"}, "cuz": {"because"},
		"coz": {"because"}, "w": {"with"}, "wo": {"without"}, "abt": {"about"}, "rn": {"right", "now"},
		"wa": {"whatsapp"}, "wpp": {"whatsapp"}, "pw": {"password"}, "2day": {"today"},
		"tmrw": {"tomorrow"}, "info": {"information"},
		"hrs": {"hours"}, "mins": {"minutes"},
	},
	langPT: {
		"vc": {"voce"}, "vcs": {"voces"}, "pq": {"porque"}, "pqe": {"porque"}, "q": {"que"}, "tb": {"tambem"},
		"tbm": {"tambem"}, "qnt": {"quanto"}, "qnto": {"quanto"}, "qto": {"quanto"}, "qts": {"quantos"},
		"msg": {"mensagem"}, "msgs": {"mensagens"}, "td": {"tudo"}, "tds": {"todos"}, "blz": {"beleza"},
		"hj": {"hoje"}, "cmg": {"comigo"}, "mt": {"muito"}, "mto": {"muito"}, "mta": {"muita"},
		"nd": {"nada"}, "qdo": {"quando"}, "qnd": {"quando"}, "qd": {"quando"}, "vlw": {"valeu"},
		"obg": {"obrigado"}, "cel": {"celular"}, "zap": {"whatsapp"}, "zapzap": {"whatsapp"}, "wpp": {"whatsapp"},
		"whats": {"whatsapp"}, "cod": {"codigo"}, "num": {"numero"}, "nro": {"numero"}, "ñ": {"nao"},
		"ngm": {"ninguem"}, "alg": {"alguem"}, "dps": {"depois"}, "tmb": {"tambem"}, "agr": {"agora"},
		"oq": {"o", "que"}, "pfv": {"por", "favor"}, "pf": {"por", "favor"}, "vdd": {"verdade"},
		"sms": {"sms"},
	},
	langES: {
		"xq": {"porque"}, "pq": {"porque"}, "porq": {"porque"}, "q": {"que"}, "k": {"que"}, "tmb": {"tambien"},
		"tb": {"tambien"}, "tmbn": {"tambien"}, "x": {"por"}, "msj": {"mensaje"}, "msjs": {"mensajes"},
		"dnd": {"donde"}, "cel": {"celular"}, "nro": {"numero"}, "num": {"numero"}, "wsp": {"whatsapp"},
		"wasap": {"whatsapp"}, "guasap": {"whatsapp"}, "whats": {"whatsapp"}, "bn": {"bien"},
		"pls": {"por", "favor"}, "porfa": {"por", "favor"}, "xfa": {"por", "favor"}, "cdo": {"cuando"},
		"cuanto": {"cuanto"}, "ntp": {"no", "te", "preocupes"}, "tkm": {"te", "quiero", "mucho"},
	},
}

// expandShorthand returns tokens with the chat abbreviations of language l
// written out; tokens itself when there is none, so a question in full
// words costs nothing. A form the knowledge base itself uses ("wanna" in
// an example) is left as it is: it already means what the examples mean.
func (m *Matcher) expandShorthand(tokens []string, l int) []string {
	table := shorthand[l]
	var out []string
	for i, w := range tokens {
		full, ok := table[w]
		if ok {
			_, inExamples := m.surf[w]
			ok = !inExamples
		}
		if !ok || (len(full) == 1 && full[0] == w) {
			if out != nil {
				out = append(out, w)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(tokens)+2), tokens[:i]...)
		}
		out = append(out, full...)
	}
	if out == nil {
		return tokens
	}
	return out
}
