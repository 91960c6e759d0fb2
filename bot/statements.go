package bot

import "strings"

// Clients often answer a prerequisite check by saying how things are rather
// than yes or no: "it's still on" to "is 2FA off?", "o nome ainda está em
// análise", "perdimos el acceso al BM". stateAnswer reads such a statement
// as the yes or no it amounts to for the check asked.

// statement is what a check's answer can say about its subject: words that
// say the prerequisite is met, words that say it is not. A negation before
// either turns it around ("it's not on" is met; "not approved" is not).
type statement struct {
	met, unmet map[string]bool
	// phrases are read before the words, whole, and are never turned
	// around: "lost access", "full control".
	metPhrases, unmetPhrases []string
}

var statements = map[Check]statement{
	Check2FA: {
		met: wordSet("off", "disabled", "deactivated", "removed", "desativada", "desativado", "desativei", "desativamos",
			"desligada", "desligado", "desliguei", "desligamos", "desabilitada", "desabilitado", "desabilitei", "tirei", "tiramos",
			"removida", "removido", "desativaram", "desativou", "desligaram", "desligou", "tiraram", "tirou",
			"desactivaron", "desactivo", "quitaron", "apagaron", "desactivada", "desactivado", "desactive", "desactivamos", "apagada", "apagado", "apague",
			"apagamos", "deshabilitada", "deshabilitado", "deshabilite", "quitada", "quitado", "quite", "quitamos"),
		unmet: wordSet("on", "enabled", "active", "activated", "ativada", "ativado", "ativa", "ativo", "ligada", "ligado",
			"habilitada", "habilitado", "activada", "activado", "activa", "activo", "encendida", "encendido", "prendida", "prendido"),
		metPhrases: []string{"turned it off", "turned off", "switched it off", "switched off", "took it off",
			"tirei a verificacao", "ja tirei", "ya la quite", "ya lo quite"},
	},
	CheckBM: {
		met: wordSet("admin", "administrator", "administrador", "administradora", "adm", "owner", "dono", "dona", "dueno", "duena"),
		unmetPhrases: []string{"lost access", "lost the access", "lost our access", "no access", "no longer have access",
			"don't have access", "dont have access", "do not have access", "can't access", "cant access", "cannot access",
			"locked out", "not an admin", "not the admin", "not admin",
			"perdi o acesso", "perdi acesso", "perdemos o acesso", "perdemos acesso", "sem acesso", "nao tenho acesso",
			"nao temos acesso", "nao sou admin", "nao sou o admin", "nao sou administrador", "nao consigo acessar",
			"nao consigo entrar", "ninguem tem acesso",
			"perdi el acceso", "perdi acceso", "perdimos el acceso", "perdimos acceso", "sin acceso", "no tengo acceso",
			"no tenemos acceso", "no soy admin", "no soy el admin", "no soy administrador", "no puedo entrar",
			"nadie tiene acceso"},
		metPhrases: []string{"have access", "have admin", "full control", "i'm the admin", "im the admin", "i am the admin",
			"tenho acesso", "temos acesso", "controle total", "sou admin", "sou o admin", "sou administrador", "sou a administradora",
			"tengo acceso", "tenemos acceso", "control total", "soy admin", "soy el admin", "soy administrador", "soy la administradora"},
	},
	CheckReception: {
		met: wordSet("mobile", "cell", "cellphone", "celular", "movil", "receives", "recebe", "recibe", "gets", "arrives", "chega", "llega"),
		unmetPhrases: []string{"can't receive", "cant receive", "cannot receive", "doesn't receive", "doesnt receive",
			"does not receive", "no sms and no calls", "neither",
			"nao recebe", "nao consegue receber", "nem sms nem ligacao", "nenhum dos dois",
			"no recibe", "no puede recibir", "ni sms ni llamada", "ninguno de los dos"},
		metPhrases: []string{"can receive", "it receives", "consegue receber", "recebe sim", "puede recibir", "recibe si"},
	},
	CheckDisplayName: {
		met: wordSet("approved", "aprovado", "aprovada", "aprovaram", "aprovou", "aprobado", "aprobada", "aprobaron", "aprobo"),
		unmet: wordSet("pending", "pendente", "pendiente", "review", "analise", "revisao", "revision", "rejected", "reprovado",
			"reprovada", "rejeitado", "rejeitada", "recusado", "recusada", "rechazado", "rechazada", "denied", "negado", "negada"),
		unmetPhrases: []string{"changed the name", "changing the name", "name change", "mudei o nome", "troquei o nome",
			"mudando o nome", "alterei o nome", "cambie el nombre", "cambiando el nombre"},
	},
}

// questionStarts open a question written without its question mark.
var questionStarts = wordSet("how", "what", "why", "when", "where", "which", "who", "does", "do", "is", "are", "should",
	"could", "would", "if", "como", "quanto", "qual", "quais", "quando", "onde", "cuanto", "cual", "cuales", "cuando",
	"donde", "porque", "por", "pq", "xq")

// laterWords say the client is going to find out: not an answer yet.
var laterWords = wordSet("check", "let", "ask", "wait", "moment", "sec", "minute", "later", "look", "verify", "find",
	"vou", "verificar", "checar", "perguntar", "olhar", "espera", "espere", "deixa", "deixe", "momento", "minuto", "depois",
	"voy", "revisar", "preguntar", "mirar", "deja", "dejame", "luego", "despues")

// someoneElse are the other admins a client may name: "the agency is the
// admin" does not say the client has admin access.
var someoneElse = wordSet("bsp", "provider", "agency", "developer", "they", "he", "she", "provedor", "agencia", "desenvolvedor",
	"ele", "ela", "eles", "proveedor", "desarrollador", "ellos", "ella")

// stateAnswer reads text as a statement answering check c: wordYes when it
// says the prerequisite is met, wordNo when it says it is not, wordNone for
// anything else, a question included.
func stateAnswer(c Check, text string) word {
	st, ok := statements[c]
	if !ok || len(text) > 200 || strings.Contains(text, "?") {
		return wordNone
	}
	f := fold(text)
	words := strings.Fields(f)
	if len(words) == 0 || len(words) > 16 || questionStarts[words[0]] {
		// "how do I turn it off", "como sei se está ativada": a question
		// without its question mark.
		return wordNone
	}
	for _, w := range words {
		if noDoubts[w] && w != "but" && w != "mas" && w != "pero" && w != "que" && w != "se" || laterWords[w] ||
			c == CheckBM && someoneElse[w] {
			// "not sure if it's on", "não sei se está aprovado"; "let me
			// check, I'm on it"; "the agency is the admin".
			return wordNone
		}
	}
	// A "no" set apart by a comma answers the question ("no, it's
	// off"); one that runs into the verb negates it ("no está activada").
	answerNo := false
	if i := strings.IndexAny(text, ",.!;"); i > 0 && len(strings.Fields(fold(text[:i]))) == 1 && negations[words[0]] {
		answerNo = true
	}
	negated := func(i int) bool {
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			if (negations[words[k]] || words[k] == "yet") && !(k == 0 && answerNo) {
				return true
			}
		}
		return false
	}
	padded := " " + f + " "
	found := func(phrases []string) (bool, bool) {
		for _, p := range phrases {
			if i := strings.Index(padded, " "+fold(p)+" "); i >= 0 {
				return true, negated(len(strings.Fields(padded[:i])))
			}
		}
		return false, false
	}
	if saysUnsure(f) {
		// "no sé si está aprobado", "i'm not sure it's off".
		return wordNone
	}
	if ok, _ := found(st.unmetPhrases); ok {
		// Most say their own negation ("no access"); a "no" before one
		// agrees with it ("no I lost access").
		return wordNo
	}
	if ok, neg := found(st.metPhrases); ok {
		if neg {
			return wordNo
		}
		return wordYes
	}
	// The last word of the state decides, turned around by a negation in
	// the three words before it: "it was on but now it's off" is off.
	answer := wordNone
	for i, w := range words {
		var met bool
		switch {
		case st.met[w]:
			met = true
		case st.unmet[w]:
			met = false
		default:
			continue
		}
		if negated(i) {
			met = !met
		}
		if met {
			answer = wordYes
		} else {
			answer = wordNo
		}
	}
	return answer
}

// saysUnsure reports whether the folded text says, anywhere, that the
// client does not know ("hmm not sure what 2fa is tbh").
func saysUnsure(folded string) bool {
	padded := " " + folded + " "
	for f, w := range vocabulary {
		if w == wordUnsure && strings.Contains(padded, " "+f+" ") {
			return true
		}
	}
	return false
}

// startsUnsure reports whether text opens with a "don't know" ("não sei,
// como vejo isso?"): what follows, a question included, asks how to find
// out.
func startsUnsure(text string) bool {
	words := strings.Fields(fold(text))
	for n := 1; n <= 3 && n <= len(words); n++ {
		if vocabulary[strings.Join(words[:n], " ")] == wordUnsure {
			return true
		}
	}
	return false
}
