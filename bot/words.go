package bot

import (
	"slices"
	"strings"
	"unicode"

	"portabot/faq"
)

// word is a command or answer the bot recognises in any of its languages.
type word int

const (
	wordNone word = iota
	wordMenu
	wordCancel
	wordAgent
	wordLanguage
	wordHelp
	wordYes
	wordNo
	wordFixed
	wordResend
	wordVoice
	wordSMS
	wordSkip
	wordStart
	wordRetry
	wordBye
	wordThanks
	wordAbout
	// wordGreeting is a hello after the first message: answered with where
	// the port stands, never "not understood".
	wordGreeting
	// wordWhatNow asks where things stand ("and now?", "e agora?").
	wordWhatNow
	// wordUnsure is "I don't know" to a yes-or-no question: the client gets
	// how to find out, not a block.
	wordUnsure
)

// vocabulary maps folded phrases (lower case, no accents, no punctuation)
// to words. Clients answer buttons by typing too, so the button titles are
// here as well.
var vocabulary = map[string]word{}

func init() {
	add := func(w word, phrases ...string) {
		for _, p := range phrases {
			f := fold(p)
			if was, ok := vocabulary[f]; ok && was != w {
				// One phrase, two meanings: whichever came last would
				// silently win.
				panic("bot: " + f + " means two words")
			}
			vocabulary[f] = w
		}
	}
	add(wordMenu, "menu", "menú", "main menu", "menu principal", "inicio", "início", "start over", "recomeçar", "empezar de nuevo")
	add(wordCancel, "cancel", "cancelar", "cancela", "cancele", "cancelar portabilidade", "cancelar portabilidad", "cancel the port")
	add(wordAgent, "agent", "human", "person", "a person", "talk to a person", "operator", "support",
		"atendente", "humano", "pessoa", "uma pessoa", "falar com atendente", "falar com uma pessoa", "suporte",
		"agente", "persona", "una persona", "asesor", "hablar con alguien", "hablar con una persona", "soporte")
	add(wordLanguage, "language", "idioma", "lingua", "língua", "change language", "mudar idioma", "cambiar idioma")
	add(wordHelp, "help", "ajuda", "ayuda", "?")
	add(wordYes, "yes", "y", "yeah", "yep", "yup", "yes please", "sure", "ok", "okay", "of course", "i do", "it's off", "yes it is", "alright", "all right",
		"that's me", "thats me", "yep that's me", "yes that's me", "correct", "exactly", "that's right", "thats right", "i think so", "probably yes",
		"yes i think so", "absolutely", "definitely", "affirmative", "uh huh", "yes sir", "yes ma'am",
		"sim", "s", "claro", "sim tenho", "sim esta", "sim está", "com certeza", "certo", "ta bom", "tá bom", "beleza",
		"to sim", "tô sim", "estou sim", "blz", "sip", "sipi", "sii", "simm", "yess", "yea", "ya", "k", "kk", "ss", "fechou",
		"simon", "simón", "sim senhor", "sim senhora", "claro que sim", "isso", "isso mesmo", "exato", "correto",
		"acho que sim", "provavelmente sim", "aham", "uhum", "positivo", "sim por favor", "tenho sim", "esta sim", "está sim",
		"si", "sí", "por supuesto", "si tengo", "si esta", "sí está", "vale", "de acuerdo",
		"si señor", "sí señor", "si senor", "sí senor", "claro que si", "claro que sí", "eso", "asi es", "así es", "correcto", "exacto",
		"creo que si", "creo que sí", "probablemente si", "probablemente sí", "si por favor", "sí por favor", "tengo si", "está bien", "esta bien")
	add(wordNo, "no", "n", "nope", "no it isn't", "i don't", "not yet", "nao", "não", "ainda nao", "ainda não", "nao tenho", "não tenho", "todavia no", "todavía no", "no tengo")
	add(wordFixed, "done", "fixed", "ready", "it's done", "all set", "sorted", "solved", "resolved",
		"pronto", "resolvido", "feito", "ja resolvi", "já resolvi", "resolvi", "ja esta", "já está", "consegui",
		"listo", "resuelto", "hecho", "arreglado", "ya esta", "ya está", "lo hice")
	add(wordResend, "resend", "send again", "send it again", "send another", "send another one", "send a new one", "resend it",
		"manda de novo", "manda outro", "envia de novo", "envia outro", "manda otra vez", "manda otro", "envia otro", "envialo de nuevo", "new code", "another code", "reenviar", "novo codigo", "novo código", "outro codigo", "outro código", "reenviar codigo", "nuevo codigo", "nuevo código", "otro codigo", "otro código")
	add(wordVoice, "voice", "voice call", "call", "call me", "ligacao", "ligação", "voz", "ligar", "llamada", "llamar", "llamame", "llámame")
	add(wordSMS, "sms", "text", "text message", "mensagem", "mensaje")
	add(wordSkip, "skip", "pular", "omitir", "saltar")
	add(wordStart, "start", "start the port", "begin", "port", "port my number", "iniciar", "comecar", "começar", "portar", "portar meu numero", "portar meu número", "iniciar portabilidad", "empezar", "continue", "continue my port", "continuar",
		"let's go", "lets go", "ok let's go", "ok lets go", "let's do it", "lets do it", "go ahead", "vamos la", "vamos lá", "bora", "vamos", "dale", "adelante")
	// Goodbyes and thanks are answered, never taken for an answer to the
	// step or for a question: "quit" is also the stem of Spanish "quitar".
	add(wordBye, "bye", "bye bye", "goodbye", "good bye", "quit", "exit", "stop", "see you", "see ya", "that's all", "thats all",
		"tchau", "tchauzinho", "ate mais", "até mais", "ate logo", "até logo", "adeus", "sair", "parar", "encerrar", "so isso", "só isso",
		"adios", "adiós", "chau", "chao", "hasta luego", "nos vemos", "salir", "terminar", "eso es todo")
	add(wordThanks, "thanks", "thank you", "thanks a lot", "thank you so much", "many thanks", "thx", "tks", "ty", "ok thanks", "ok thank you",
		"obrigado", "obrigada", "muito obrigado", "muito obrigada", "obg", "valeu", "ok obrigado", "ok obrigada",
		"gracias", "muchas gracias", "mil gracias", "ok gracias")
	add(wordAbout, "who are you", "who is this", "what are you", "are you a bot", "are you a robot", "are you human", "are you a human",
		"are you a person", "are you real", "is this a bot", "is this a robot", "is this automated", "am i talking to a bot",
		"am i talking to a person", "am i talking to a human", "bot",
		"quem é você", "quem e vc", "quem fala", "você é um robô", "vc é um robô", "vc é robô", "é um robô", "é robô", "é um bot",
		"você é humano", "você é uma pessoa", "é uma pessoa", "estou falando com um robô", "estou falando com uma pessoa", "robô",
		"quién eres", "quién habla", "eres un bot", "eres un robot", "eres humano", "eres una persona", "es un bot", "es un robot",
		"estoy hablando con un bot", "estoy hablando con una persona", "hablo con un bot", "robot")
	add(wordGreeting, "hi", "hello", "hey", "hi there", "hello there", "good morning", "good afternoon", "good evening",
		"oi", "ola", "olá", "oie", "opa", "e ai", "eai", "bom dia", "boa tarde", "boa noite", "oi bom dia", "ola bom dia",
		"hola", "buenas", "buenos dias", "buenos días", "buenas tardes", "buenas noches", "hola buenos dias", "hola buenas")
	add(wordWhatNow, "and now", "what now", "now what", "what's next", "whats next", "what next", "what happens now", "what do i do now",
		"what should i do now", "status", "where are we", "any news", "any update", "update",
		"e agora", "e agr", "o que faco agora", "o que eu faco agora", "e ai como fica", "como fica", "e entao", "qual o status",
		"status do caso", "alguma novidade", "novidades",
		"y ahora", "que hago ahora", "qué hago ahora", "y entonces", "cual es el estado", "cuál es el estado", "alguna novedad", "novedades")
	add(wordUnsure, "not sure", "i'm not sure", "im not sure", "no idea", "i have no idea", "no clue", "dunno", "idk",
		"i don't know", "i dont know", "dont know", "don't know", "i'm not sure about that",
		"sei la", "sei lá", "nao sei", "não sei", "nao faco ideia", "não faço ideia", "nem ideia", "nao tenho certeza", "não tenho certeza",
		"no se", "no sé", "nose", "no lo se", "no lo sé", "nse", "nsei", "ni idea", "no tengo idea", "no estoy seguro", "no estoy segura")
	// More of the ways clients say yes, no and "I don't know".
	add(wordYes, "i have", "we have", "we do", "yes we do", "certainly", "obviously", "sure thing", "yes we have", "i am", "it is", "it does",
		"tenho", "temos", "sou", "sou sim", "obvio", "óbvio", "obviamente", "afirmativo", "com ctz", "claro que tenho", "pode crer",
		"tengo", "tenemos", "soy", "soy yo", "obvio que si", "obvio que sí", "claro que tengo", "sí tenemos", "si tenemos")
	add(wordNo, "nah", "nop", "nopes", "not really", "negative", "no way", "we don't", "we dont", "no we don't", "no we dont", "i'm not", "im not",
		"it isn't", "it is not", "it doesn't", "not at all",
		"negativo", "de jeito nenhum", "nao temos", "não temos", "nao sou", "não sou", "nem", "nada",
		"para nada", "de ninguna manera", "no tenemos", "no soy", "tampoco")
	add(wordUnsure, "nao tenho ctz", "não tenho ctz", "nem sei", "sei nao", "sei não", "vai saber", "nao sei dizer", "não sei dizer",
		"nao lembro", "não lembro", "nao faco a menor ideia", "não faço a menor ideia",
		"quien sabe", "quién sabe", "no tengo ni idea", "no sabria decir", "no sabría decir", "no me acuerdo", "no recuerdo",
		"who knows", "i don't remember", "i dont remember", "can't remember", "cant remember", "not that i know", "no clue tbh", "not sure tbh")
	// "How do I find out?" at a yes-or-no check is a "don't know".
	add(wordUnsure, "how do i check", "how do i know", "how can i check", "how can i know", "how do i find out", "where do i see that",
		"how do i check that", "how would i know",
		"como vejo isso", "como eu vejo isso", "como sei", "como vou saber", "como eu sei", "onde vejo isso", "como confiro", "como verifico",
		"como sei isso", "nao sei como ver", "não sei como ver",
		"como lo veo", "como se eso", "cómo sé eso", "como lo reviso", "como reviso", "donde lo veo", "como lo se", "cómo lo sé", "no se como verlo", "no sé cómo verlo")
	add(wordRetry, "retry", "try again", "tentar de novo", "tentar novamente", "de novo", "reintentar", "intentar de nuevo", "otra vez")
}

// fold lower-cases s, drops accents and punctuation, and squeezes spaces.
func fold(s string) string {
	s = faq.FoldAccents(strings.ToLower(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '?':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	out := b.String()
	if out != "?" {
		out = strings.Trim(out, "?")
		out = strings.TrimSpace(out)
	}
	return out
}

// wordOf returns the word text means as a whole, or wordNone.
func wordOf(text string) word {
	if len(text) > 60 {
		return wordNone
	}
	f := fold(text)
	if w, ok := vocabulary[f]; ok {
		return w
	}
	// "menu pls", "are u a bot", "ok obg": chat shorthand written out and
	// a please dropped say the same word.
	words := strings.Fields(f)
	for i, w := range words {
		if full, ok := chatWords[w]; ok {
			words[i] = full
		}
	}
	if whatNow(words) {
		return wordWhatNow
	}
	if greeting(words) {
		return wordGreeting
	}
	for len(words) > 1 && politeness[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	for len(words) > 1 && politeness[words[0]] {
		words = words[1:]
	}
	if w := vocabulary[strings.Join(words, " ")]; w != wordNone {
		return w
	}
	if w := vocabulary[unstretch(strings.Join(words, " "))]; w != wordNone {
		// "simmm", "noooo", "siii", "okk".
		return w
	}
	return wordNone
}

// smallTalk are the words that go with a hello: "oi tudo bem", "hola qué
// tal", "hi how are you".
var smallTalk = wordSet("how", "are", "you", "u", "r", "doing", "there", "all", "everyone", "again", "good", "morning",
	"afternoon", "evening", "whats", "up", "hows", "it", "going",
	"tudo", "td", "bem", "bom", "boa", "dia", "tarde", "noite", "blz", "beleza", "como", "vai", "voce", "vc", "de", "novo",
	"pessoal", "gente", "e", "ai", "tranquilo",
	"que", "tal", "buenas", "buenos", "dias", "tardes", "noches", "estas", "esta", "todo", "bien", "nuevo", "otra", "vez")

// greeting reports whether words are a hello and small talk only, with a
// stretched letter or two ("oii tudo bem", "holaa que tal").
func greeting(words []string) bool {
	if len(words) < 2 || len(words) > 7 {
		return false
	}
	hello := false
	for _, w := range words {
		switch {
		case vocabulary[w] == wordGreeting || vocabulary[unstretch(w)] == wordGreeting:
			hello = true
		case !smallTalk[w] && !politeness[w]:
			return false
		}
	}
	return hello
}

// unstretch squeezes letters typed more than once in a row ("simmm",
// "holaaa") to one.
func unstretch(s string) string {
	var b strings.Builder
	var last rune
	for _, r := range s {
		if r != last || r == ' ' {
			b.WriteRune(r)
		}
		last = r
	}
	return b.String()
}

// Words of a short "what now?" in any order: "y ahora que hago", "and now
// what do we do", "e agora o que eu faço".
var (
	nowWords     = wordSet("now", "next", "agora", "agr", "ahora")
	whatNowWords = wordSet("and", "what", "so", "do", "i", "we", "should", "then", "ok", "okay", "well", "happens",
		"e", "o", "que", "eu", "faco", "fazemos", "faz", "entao", "ta", "acontece",
		"y", "hago", "hacemos", "hacer", "entonces", "pues", "bueno", "pasa", "sigue")
)

// whatNow reports whether words ask where things stand: a word of "now"
// and nothing but words of asking.
func whatNow(words []string) bool {
	if len(words) < 2 || len(words) > 6 {
		return false
	}
	now := false
	for _, w := range words {
		switch {
		case nowWords[w]:
			now = true
		case !whatNowWords[w]:
			return false
		}
	}
	return now
}

// chatWords are the shorthand clients use for words the vocabulary knows.
var chatWords = map[string]string{
	"u": "you", "r": "are", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks",
	"vc": "voce", "q": "que", "obg": "obrigado", "vlw": "valeu", "pfv": "por favor", "pf": "por favor",
	"xq": "porque", "porfa": "por favor",
	// Spelled as said: "kiero", "qero", "kero".
	"kiero": "quiero", "qiero": "quiero", "kisiera": "quisiera", "keria": "queria", "qeria": "queria",
	"qero": "quero", "kero": "quero", "qria": "queria", "nesecito": "necesito", "nececito": "necesito",
	"presiso": "preciso", "precizo": "preciso", "wanna": "want", "wana": "want", "whant": "want", "wnat": "want",
	"algm": "alguem", "alg": "alguem", "algien": "alguien", "alguen": "alguien",
}

// chatFields is the folded words of text with chat spellings written out.
func chatFields(text string) []string {
	words := strings.Fields(fold(text))
	for i, w := range words {
		if full, ok := chatWords[w]; ok && !strings.Contains(full, " ") {
			words[i] = full
		}
	}
	return words
}

// politeness are words that do not change what a short request asks.
var politeness = wordSet("please", "por favor", "por", "favor", "pls", "plz", "now", "agora", "ahora", "ya", "ja")

// langWord returns the language a client names ("português", "english").
func langWord(text string) (Lang, bool) {
	switch fold(text) {
	case "english", "ingles", "en":
		return English, true
	case "portugues", "portuguese", "pt", "portugues do brasil":
		return Portuguese, true
	case "espanol", "spanish", "espanhol", "es":
		return Spanish, true
	}
	return "", false
}

// Words of a message that asks to start a port in the client's own words
// ("quero portar meu número", "I'd like to move my number to you"), folded.
var (
	// Not "switch" nor "cambiar": "switch off 2FA" and "quiero cambiar el
	// nombre" are questions about a prerequisite.
	portActs = wordSet("port", "migrate", "move", "transfer", "bring",
		"portar", "migrar", "mover", "transferir", "trazer", "levar", "passar", "pasar", "traer", "llevar", "trasladar")
	portStarts = wordSet("start", "begin", "iniciar", "comecar", "fazer", "empezar", "comenzar", "hacer")
	portNouns  = wordSet("port", "portability", "migration", "portabilidade", "migracao", "portabilidad", "migracion")
	portWants  = wordSet("want", "wanna", "need", "like", "lets", "let's", "ready",
		"quero", "queria", "gostaria", "preciso", "vamos", "desejo", "pretendo",
		"quiero", "quisiera", "necesito", "deseo", "gustaria")
	// A question, a doubt or a "but" is for the FAQ, even with a verb of
	// porting in it: "how do I port my number", "I want to port but 2FA is
	// on". So is a mobile line moving between carriers, which is not ours.
	portDoubts = negationsAnd("how", "what", "why", "when", "where", "which", "who", "can", "could", "does", "is", "are", "if",
		"know", "understand", "explain", "but",
		"como", "quanto", "qual", "quais", "quando", "onde", "porque", "pode", "posso", "saber", "entender", "mas", "se", "que",
		"cuanto", "cual", "cuales", "cuando", "donde", "puedo", "puede", "pero", "si",
		"carrier", "operadora", "operador", "linea", "movil", "chip", "compania", "vivo", "claro", "tim", "movistar", "telcel")
)

func wordSet(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// maxPortRequest is the most words a request to start a port takes; a
// longer message says more than that, and the FAQ reads it.
const maxPortRequest = 12

// wantsPort reports whether text asks to start a port: a verb of porting
// with a wish ("I want to migrate my number") or as a command ("move my
// number to you"), and no question or doubt.
func wantsPort(text string) bool {
	if len(text) > 200 || strings.Contains(text, "?") {
		return false
	}
	words := chatFields(text)
	if len(words) == 0 || len(words) > maxPortRequest {
		return false
	}
	var act, start, noun, want bool
	for _, w := range words {
		if portDoubts[w] {
			return false
		}
		act = act || portActs[w]
		start = start || portStarts[w]
		noun = noun || portNouns[w]
		want = want || portWants[w]
	}
	if !act && !(start && noun) {
		return false
	}
	return want || portActs[words[0]] || portStarts[words[0]]
}

// Words after a leading yes or no that make the answer doubtful: a
// negation or a "but" after a yes, uncertainty after a no ("no sé" is "I
// don't know").
var (
	// "yes, it's still on" answers "is 2FA off?" with a no.
	// "ok let me check" and "sim, vou ver" are not an answer yet.
	yesDoubts = negationsAnd("but", "maybe", "probably", "on", "enabled", "active", "still",
		"check", "let", "ask", "wait", "moment", "sec", "second", "minute", "later", "see", "look", "verify", "find",
		"mas", "talvez", "provavelmente", "ativada", "ativado", "ativa", "ligada", "ligado", "ainda",
		"vou", "ver", "verificar", "checar", "perguntar", "olhar", "espera", "espere", "deixa", "deixe", "momento", "minuto", "depois",
		"pero", "quizas", "quiza", "probablemente", "activada", "activado", "activa", "encendida", "todavia",
		"voy", "revisar", "preguntar", "mirar", "deja", "dejame", "luego", "despues")
	// "no I don't get what BM is" and "não sei o que é isso" answer
	// nothing: the client does not understand the question.
	noDoubts = wordSet("but", "sure", "know", "idea", "maybe", "probably", "what", "get", "understand", "mean", "means", "explain",
		"mas", "sei", "sabe", "certeza", "ideia", "talvez", "que", "entendi", "entendo", "entender", "significa", "explica",
		"pero", "se", "seguro", "quizas", "quiza", "entiendo", "entender", "explicas")
)

// fillers open a message without saying anything.
var fillers = wordSet("hmm", "hm", "hmmm", "um", "uh", "umm", "well", "ah", "eh", "oh", "so", "olha", "bom", "entao",
	"bueno", "pues", "mira", "ehh", "mmm")

// leadingAnswer reads an answer to a yes-or-no question that says more
// than yes or no ("yes, I'm the admin", "sim, tenho", "no, my old BSP has
// it", "done, it's off now", "tá desativada sim"): the answer its first
// word or two give, or a yes at the end of a short one, unless a question
// mark or the other words put it in doubt.
func leadingAnswer(text string) word {
	if len(text) > 300 || strings.Contains(text, "?") {
		return wordNone
	}
	words := strings.Fields(fold(text))
	filler := false
	for len(words) > 1 && fillers[words[0]] {
		// "hmm yes", "well no", "bueno sí", "olha, não sei".
		words, filler = words[1:], true
	}
	if len(words) == 1 && filler {
		switch w := vocabulary[words[0]]; w {
		case wordYes, wordNo, wordUnsure:
			return w
		}
	}
	if len(words) < 2 {
		return wordNone
	}
	if last := words[len(words)-1]; len(words) <= 5 && (last == "sim" || last == "si" || last == "yes") &&
		vocabulary[words[0]] == wordNone {
		// Brazilians put the yes last: "tá desativada sim", "recebe
		// sim". What comes before must not put it in doubt ("está ativada
		// sim" answers "is it off?" with a no).
		for _, r := range words[:len(words)-1] {
			if yesDoubts[r] {
				return wordNone
			}
		}
		return wordYes
	}
	w, rest := vocabulary[words[0]], words[1:]
	if two := vocabulary[words[0]+" "+words[1]]; two != wordNone {
		w, rest = two, words[2:]
	}
	if len(words) > 2 {
		if three := vocabulary[strings.Join(words[:3], " ")]; three != wordNone {
			w, rest = three, words[3:]
		}
	}
	if w == wordUnsure {
		// "não sei se está ativada", "ni idea la verdad", "i don't
		// know tbh": whatever follows, the client does not know.
		return wordUnsure
	}
	var doubts map[string]bool
	switch w {
	case wordYes, wordFixed:
		doubts = yesDoubts
	case wordNo:
		doubts = noDoubts
	default:
		return wordNone
	}
	for _, r := range rest {
		if doubts[r] {
			return wordNone
		}
	}
	return w
}

// Words of a request for a person in the client's own words ("can I speak
// to someone", "me chama um humano", "pásame con alguien").
var (
	// Not "operadora" nor "operador": in Portuguese and Spanish they are
	// also the mobile carrier.
	personNouns = wordSet("someone", "somebody", "anyone", "person", "human", "agent", "attendant", "operator", "representative",
		"rep", "staff", "team", "support", "suporte", "soporte", "atendimento", "atencion",
		"alguem", "humano", "humana", "pessoa", "atendente", "agente", "equipe", "responsavel",
		"alguien", "persona", "asesor", "asesora", "ejecutivo", "ejecutiva", "equipo")
	personActs = wordSet("talk", "speak", "chat", "connect", "transfer", "put", "get", "call", "reach", "want", "need", "give", "see",
		"help", "ajuda", "ajudar", "ayuda", "ayudar", "atender", "atenda", "atiende", "assist",
		"falar", "conversar", "chama", "chamar", "chame", "passa", "passar", "quero", "preciso", "transfere", "transferir", "fala",
		"hablar", "habla", "pasa", "pasame", "comunicar", "comunicame", "comunica", "comunicas", "contactar", "quiero", "necesito", "llama", "llamar", "ponme", "dame")
	// A question about other people ("who do I talk to at my old BSP?",
	// "does a person need to approve the name?") is for the FAQ.
	personDoubts = negationsAnd("bsp", "provider", "provedor", "proveedor", "old", "antigo", "antiguo", "meta", "facebook",
		"who", "how", "why", "does", "do", "is", "should", "must", "quem", "como", "porque", "deve", "quien", "debo", "tengo", "tenho",
		"approve", "aprovar", "aprobar", "bm", "business", "manager", "admin", "administrador", "2fa", "name", "nome", "nombre")
)

// personPhrases ask for a person whatever else the message says ("the code
// didn't come, I want to talk to someone"), unless a negation comes right
// before them.
var personPhrases = []string{
	"talk to someone", "speak to someone", "talk to somebody", "speak to somebody", "talk to a person", "speak to a person",
	"talk to a human", "speak to a human", "talk to an agent", "speak to an agent", "talk to a real person",
	"speak with someone", "talk with someone", "speak with a person", "talk with a person",
	"falar com alguem", "falar com um atendente", "falar com uma pessoa", "falar com um humano", "falar com atendente",
	"falar com a equipe", "falar com um agente",
	"hablar con alguien", "hablar con una persona", "hablar con un agente", "hablar con un humano", "hablar con un asesor",
	"hablar con un ejecutivo", "pasame con alguien", "comunicame con alguien",
	"anyone i can talk to", "someone i can talk to", "anybody i can talk to", "anyone to talk to", "anyone there",
	"anybody there", "someone there", "is anyone there", "tem alguem ai", "alguem ai", "alguem ta ai",
	"hay alguien ahi", "alguien ahi", "alguien me atiende", "atendimento humano", "atencion humana",
	"human support", "live agent", "live person", "real person", "pessoa de verdade", "persona real",
}

// wishWords stand between a negation and what it negates in "I don't want
// to", "não quero", "no necesito".
var wishWords = wordSet("want", "wanna", "to", "need", "i", "quero", "queria", "preciso", "eu", "quiero", "queria", "necesito", "yo")

// negatedRequest reports whether the words before a request turn it
// around: a negation followed by nothing but words of wishing ("I don't
// want to", "não quero"), not one about something else ("o código não
// chegou, quero").
func negatedRequest(before []string) bool {
	for i := len(before) - 1; i >= 0 && i >= len(before)-4; i-- {
		switch w := before[i]; {
		case negations[w]:
			return true
		case !wishWords[w]:
			return false
		}
	}
	return false
}

// wantsPerson reports whether text asks for a person: a person and a verb
// of asking or talking, in a short message that asks about nothing else, or
// one of personPhrases anywhere.
func wantsPerson(text string) bool {
	if len(text) > 300 {
		return false
	}
	f := " " + fold(text) + " "
	for _, p := range personPhrases {
		i := strings.Index(f, " "+p+" ")
		if i < 0 {
			continue
		}
		if !negatedRequest(strings.Fields(f[:i])) {
			return true
		}
	}
	if len(text) > 160 {
		return false
	}
	words := chatFields(text)
	if len(words) < 2 || len(words) > 12 {
		return false
	}
	var noun, act bool
	for _, w := range words {
		if personDoubts[w] {
			return false
		}
		noun = noun || personNouns[w]
		act = act || personActs[w]
	}
	if noun && !act && len(words) <= 3 {
		// "real person pls", "un asesor porfa", "atendente humano":
		// a person and nothing else.
		for _, w := range words {
			if !personNouns[w] && !personOnly[w] && !politeness[w] {
				return false
			}
		}
		return true
	}
	return noun && act
}

// personOnly are the words that may stand beside a person in a request of
// one or two words.
var personOnly = wordSet("real", "live", "actual", "a", "an", "um", "uma", "un", "una", "de", "verdade", "verdad",
	"human", "humano", "humana", "porfa", "pls", "plz", "please")

// negationWords turn a request or an answer around ("not by SMS", "yes,
// I don't know"): what they are in is left to the buttons and the FAQ.
var negationWords = []string{"not", "no", "dont", "don't", "didn't", "didnt", "isn't", "isnt", "can't", "cant", "won't", "never",
	"haven't", "havent", "hasn't", "hasnt", "doesn't", "doesnt", "aren't", "arent", "wasn't", "wasnt",
	"nao", "nunca", "sem", "nem", "sin", "ni"}

var negations = wordSet(negationWords...)

// negationsAnd is a set of the negations and ws.
func negationsAnd(ws ...string) map[string]bool {
	return wordSet(slices.Concat(negationWords, ws)...)
}

// wordAmong finds the one word of kinds that a short request names
// somewhere in it ("by SMS please", "pode ser por ligação"), as a word or a
// phrase of up to three. A question, a negation or two of the kinds leave it to
// the caller: wordNone.
func wordAmong(text string, kinds ...word) word {
	if len(text) > 200 || strings.Contains(text, "?") {
		return wordNone
	}
	words := strings.Fields(fold(text))
	if len(words) > 10 {
		return wordNone
	}
	found := wordNone
	note := func(w word) bool {
		if w == wordNone || !slices.Contains(kinds, w) {
			return true
		}
		if found != wordNone && found != w {
			return false
		}
		found = w
		return true
	}
	for i, w := range words {
		if negations[w] {
			return wordNone
		}
		if !note(vocabulary[w]) {
			return wordNone
		}
		phrase := w
		for _, next := range words[i+1 : min(i+3, len(words))] {
			phrase += " " + next
			if !note(vocabulary[phrase]) {
				return wordNone
			}
		}
	}
	return found
}
