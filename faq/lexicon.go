package faq

import "slices"

// The lexicon is the matcher's knowledge of the languages and of the trade's
// vocabulary, as opposed to the knowledge base, which is about answers. It
// lives in code because it changes with the matcher, not with the answers,
// and every word is written as a client would type it: Normalize folds the
// accents and case at load.

// offTopic is the canonical token of words from outside the domain.
const offTopic = "#offtopic"

const (
	langEN = iota
	langPT
	langES
	numLangs
)

// langNames are the languages every answer, title and example set must
// exist in, by index.
var langNames = [numLangs]string{"en", "pt", "es"}

// Languages returns the languages of the knowledge base ("en", "pt", "es"):
// every answer, title and example set exists in each.
func Languages() []string { return slices.Clone(langNames[:]) }

// stopWords carry no topic. A stop word of any of the languages is dropped,
// because questions mix them ("o 2FA is still on"); but only the question's
// own language's stop words win over a one-word synonym, which is how
// "whats" is "what's" in English and WhatsApp in Portuguese.
var stopWords = [numLangs][]string{
	langEN: {
		"til", "till", "its", "use", "used", "using", "whole",
		"get", "gets", "getting",
		"roughly", "approximately", "approx", "around", "average", "mention", "mentioning", "mentioned", "talking", "end", "bot", "chatbot", "customer", "customers", "client", "clients", "user", "users", "ready", "start", "begin", "scratch", "guess", "wondering", "wonder", "curious", "btw", "thanks", "honestly", "currently",
		"a", "an", "the", "and", "or", "but", "if", "then", "so", "than", "too",
		"very", "of", "at", "by", "for", "with", "about", "to", "from", "in", "on",
		"into", "up", "out", "over", "under", "as", "i", "me", "my", "mine",
		"myself", "we", "us", "our", "ours", "he", "him", "his", "she", "her", "it",
		"its", "they", "them", "their", "this", "that", "these", "those", "am",
		"is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
		"having", "do", "does", "did", "doing", "done", "will", "would", "shall",
		"should", "can", "could", "may", "might", "must", "what", "which", "who",
		"whom", "whose", "when", "where", "why", "how", "hows", "wheres", "whos",
		"im", "ive", "id", "ill", "hi", "hello", "hey", "please", "pls", "plz",
		"thanks", "thank", "thx", "ok", "okay", "yes", "yeah", "guys", "folks",
		"team", "sir", "there", "here", "all", "any", "some", "such", "just",
		"also", "only", "now", "still", "already", "yet", "one", "ones", "else",
		"know", "tell", "want", "wanna", "gonna", "question", "quick", "something",
		"anything", "thing", "things", "stuff", "really", "actually", "way", "able",
		"go", "going", "make", "let", "lets", "like", "mean", "means", "happen",
		"happens", "oh", "well", "anyone", "someone", "somebody", "same", "both",
		"each", "other", "another", "own", "ever", "even", "then", "every", "much",
		"many", "more", "most", "haha", "hahaha", "lol", "r", "exactly",
		"basically", "usually", "normally", "anyway", "maybe", "probably", "guy",
		"supposed", "longer", "anymore", "without", "after", "turn", "until",
		"till", "hit", "reached", "reach", "normal", "says", "say", "somewhere",
		"point", "moment", "good", "morning", "afternoon", "evening", "night",
		"whole", "thing", "instead",
	},
	langPT: {
		"uso", "usar", "usa", "usado", "usada", "usamos", "utilizar", "utilizo",
		"aproximadamente", "media", "mencionou", "mencionando", "falando", "falou", "bot", "robo", "chatbot", "cliente", "clientes", "usuario", "usuarios", "pronto", "pronta", "comecar", "iniciar", "curioso", "curiosa", "aproximado", "sinceramente",
		"a", "o", "as", "os", "um", "uma", "uns", "umas", "de", "do", "da", "dos",
		"das", "no", "na", "nos", "nas", "em", "num", "numa", "ao", "aos", "pelo",
		"pela", "pelos", "pelas", "por", "para", "pra", "pro", "com", "sem", "e",
		"ou", "mas", "se", "que", "quem", "qual", "quais", "quando", "onde", "como",
		"porque", "pq", "porq", "eu", "me", "meu", "minha", "meus", "minhas", "mim",
		"nosso", "nossa", "nossos", "nossas", "tu", "te", "teu", "tua", "seu",
		"sua", "seus", "suas", "ele", "ela", "eles", "elas", "lhe", "isso", "isto",
		"esse", "essa", "esses", "essas", "este", "esta", "estes", "estas",
		"aquele", "aquela", "aquilo", "la", "ai", "aqui", "ja", "ainda", "tambem",
		"tb", "tbm", "so", "muito", "muita", "mais", "menos", "bem", "sim", "ne",
		"ta", "to", "ser", "sou", "somos", "sao", "era", "foi", "sera", "estar",
		"estou", "estamos", "estao", "estava", "ter", "tenho", "tem", "temos",
		"tinha", "teria", "ha", "haver", "vou", "vai", "vamos", "fazer", "faco",
		"faz", "fazem", "posso", "pode", "podem", "poderia", "consigo", "consegue",
		"quero", "queria", "gostaria", "saber", "sei", "duvida", "oi", "ola", "bom",
		"dia", "boa", "tarde", "noite", "obrigado", "obrigada", "valeu", "favor",
		"pfv", "pf", "gente", "pessoal", "galera", "ok", "blz", "beleza", "certo",
		"entao", "tipo", "algum", "alguma", "alguns", "algumas", "algo", "alguem",
		"coisa", "coisas", "todo", "toda", "todos", "todas", "cada", "outro",
		"outra", "outros", "outras", "mesmo", "mesma", "qq", "q", "agora", "hoje",
		"pois", "dai", "tudo", "caso", "fica", "ficar", "fico", "acontece",
		"acontecer", "opa", "kk", "rs", "rsrs", "haha", "hahaha", "exatamente",
		"basicamente", "normalmente", "geralmente", "talvez", "tal", "aqui", "ai",
		"nesse", "nessa", "neste", "nesta", "nisso", "disso", "desse", "dessa",
		"deste", "desta", "naquele", "naquela", "depois", "apos", "ate", "momento",
		"normal", "diz", "lugar", "inteiro",
	},
	langES: {
		"uso", "usar", "usa", "usado", "usada", "usamos", "utilizar", "utilizo",
		"aproximadamente", "promedio", "mencionas", "mencionando", "hablando", "bot", "robot", "chatbot", "cliente", "clientes", "usuario", "usuarios", "listo", "lista", "empezar", "comenzar", "iniciar", "curiosidad", "aproximado", "sinceramente", "mas o menos",
		"el", "la", "los", "las", "un", "una", "unos", "unas", "lo", "le", "les",
		"de", "del", "al", "a", "en", "con", "sin", "por", "para", "que", "quien",
		"quienes", "cual", "cuales", "cuando", "donde", "como", "porque", "y", "o",
		"u", "e", "ni", "pero", "si", "mi", "mis", "tu", "tus", "su", "sus",
		"nuestro", "nuestra", "nuestros", "nuestras", "yo", "me", "te", "se", "nos",
		"ellos", "ellas", "esto", "esta", "este", "estos", "estas", "eso", "esa",
		"ese", "esos", "esas", "aquel", "ahi", "aqui", "ya", "todavia", "aun",
		"tambien", "solo", "muy", "mas", "menos", "bien", "es", "son", "soy",
		"somos", "ser", "era", "fue", "sera", "estar", "estoy", "estamos", "estan",
		"estaba", "hay", "haber", "he", "has", "ha", "hemos", "han", "tengo",
		"tiene", "tenemos", "tienen", "tener", "hacer", "hago", "hace", "hacen",
		"puedo", "puede", "pueden", "podria", "quiero", "queria", "quisiera",
		"saber", "se", "duda", "hola", "buenas", "buenos", "dias", "tardes",
		"noches", "gracias", "favor", "porfa", "ok", "vale", "bueno", "pues",
		"entonces", "tipo", "algo", "alguien", "algun", "alguna", "algunos",
		"algunas", "cosa", "cosas", "todo", "toda", "todos", "todas", "cada",
		"otro", "otra", "otros", "otras", "mismo", "misma", "q", "ahora", "hoy",
		"oye", "pasa", "pasar", "va", "voy", "vamos", "jaja", "jajaja", "despues",
		"luego", "hasta", "momento", "normal", "dice", "lugar", "exactamente",
		"basicamente", "normalmente", "quizas", "aca",
	},
}

// synonyms map the ways clients name one thing, across the three languages,
// to one canonical token, so that "verificação em duas etapas", "2-step" and
// "doble factor" all count as the same evidence. Forms may be phrases: the
// longest wins, one stop word may stand between its words, its first word
// also matches in the plural and its last in either number. A form ending in "@pt" (or
// another language) holds only in that language. Canonical tokens start
// with "#" so they never meet a stem.
var synonyms = []struct {
	canon string
	forms []string
}{
	{"#2fa", []string{
		"2fa", "2 fa", "tfa", "mfa", "two step", "2 step", "2step", "twostep",
		"two step verification", "2 step verification", "two factor", "2 factor",
		"two factor authentication", "2 factor authentication",
		"two step authentication", "dual factor", "double factor",
		"two step verify", "2sv", "verificação em duas etapas",
		"verificação em 2 etapas", "verificação de duas etapas",
		"verificação de dois fatores", "verificação em dois fatores",
		"verificação em dois passos", "confirmação em duas etapas", "duas etapas",
		"2 etapas", "dois fatores", "2 fatores", "dois passos",
		"autenticação de dois fatores", "autenticação em dois fatores",
		"autenticação de 2 fatores", "autenticação em duas etapas",
		"autenticação de dois fatores", "duplo fator", "dupla verificação",
		"dupla autenticação", "autenticação dupla", "verificación en dos pasos",
		"verificación de dos pasos", "verificación en 2 pasos", "dos pasos",
		"2 pasos", "doble factor", "autenticación de doble factor",
		"autenticación de dos factores", "dos factores", "2 factores",
		"doble verificación", "doble autenticación", "autenticación en dos pasos",
	}},
	{"#bm", []string{
		"bm", "business manager", "meta business manager",
		"facebook business manager", "fb business manager",
		"gerenciador de negócios", "gerenciador de negócio", "gerenciador",
		"gerenciador do facebook", "gestor de negocios", "administrador comercial",
		"administrador de negocios", "business portfolio", "portfolio",
		"portifolio", "portfólio empresarial", "portfolio comercial", "portafolio",
		"portafolio comercial", "portafolio empresarial", "portafolio de negocios",
		"meta business suite", "business suite", "meta business",
		"facebook business", "fb business", "business facebook", "business center",
		"gestor comercial",
	}},
	{"#bsp", []string{
		"bsp", "provider", "business solution provider", "solution provider",
		"provedor", "provedora", "proveedor", "proveedora", "fornecedor",
		"fornecedora", "parceiro", "partner", "socio comercial", "plataforma",
		"platform", "twilio", "360dialog", "360 dialog", "gupshup", "zenvia",
		"blip", "take blip", "infobip", "wati", "sinch", "messagebird", "vonage",
		"interakt", "aisensy", "ycloud", "botmaker", "yalo",
	}},
	{"#waba", []string{
		"waba", "whatsapp business account", "whatsapp business api account",
		"conta do whatsapp business", "conta whatsapp business",
		"conta de whatsapp business", "conta business", "conta waba",
		"cuenta de whatsapp business", "cuenta whatsapp business",
		"cuenta business", "cuenta waba", "whatsapp account", "business account",
	}},
	{"#cloudapi", []string{
		"cloud api", "api cloud", "cloud", "api de nuvem", "api na nuvem", "nuvem",
		"api en la nube", "api de la nube", "nube", "on premises", "on premise",
		"onpremises", "onpremise", "on prem", "onprem", "on premisse", "premises",
		"api on premises", "hosting", "hospedagem", "alojamiento",
	}},
	{"#otp", []string{
		"otp", "code", "código", "verification sms", "sms de verificação",
		"sms de verificación", "verification message", "mensagem de verificação",
		"mensaje de verificación", "sms code", "código sms", "código por sms",
		"cod", "verification code", "confirmation code", "código de verificação",
		"código de confirmação", "código de verificación", "código de confirmación",
		"código de validação", "one time code", "one time password", "token",
		"6 digit code", "código de 6 dígitos", "código de seis dígitos",
		"six digit code", "registration code", "código de registro",
	}},
	{"#pin", []string{
		"pin", "pin code", "código pin", "pin de segurança", "pin de seguridad",
		"pin number", "senha pin", "número pin", "nip", "pin de 6 dígitos",
		"pin de seis dígitos", "6 digit pin", "six digit pin", "two step pin",
		"pin da verificação em duas etapas",
	}},
	{"#template", []string{
		"template", "modelo", "modelo de mensagem", "mensagem modelo", "plantilla",
		"plantilla de mensaje", "message template", "hsm", "templete",
		"mensagem template", "template message",
	}},
	{"#sms", []string{
		"sms", "text message", "texto", "mensagem de texto", "mensaje de texto",
		"torpedo", "txt",
	}},
	{"#voice", []string{
		"voice", "voice call", "call", "phone call", "calls", "ligação", "ligar",
		"chamada", "chamada de voz", "telefonema", "voz", "llamada",
		"llamada de voz", "llamar", "ligação de voz", "ligacao telefonica",
	}},
	{"#landline", []string{
		"landline", "land line", "fixed line", "fixo", "fixa", "telefone fixo",
		"linha fixa", "número fixo", "fijo", "fija", "teléfono fijo", "línea fija",
		"número fijo", "ivr", "ura", "pbx", "pabx", "central telefônica", "0800",
		"toll free", "tollfree", "conmutador", "call center",
	}},
	{"#port", []string{
		"port", "porting", "ported", "portability", "number portability",
		"portabilidade", "portabilidad", "portar", "portado", "portada", "portear",
		"portabilizar", "migrate", "migrating", "migrated", "migration", "migrar",
		"migração", "migrações", "migración", "migraciones", "migrando", "migrado",
		"migrada", "transfer", "transferring", "transferir", "transferência",
		"transferencia", "transferido", "trasladar", "traslado", "move", "moving",
		"moved", "mover", "mudança de bsp", "troca de bsp", "cambio de bsp",
		"levar", "llevar", "leave", "sair", "change bsp", "change provider",
		"changing bsp", "changing provider", "switch bsp", "switch provider",
		"switching bsp", "switching provider", "trocar de bsp",
		"trocar de provedor", "trocar de fornecedor", "mudar de bsp",
		"mudar de provedor", "cambiar de bsp", "cambiar de proveedor",
		"cambiarse de proveedor", "cambiarme de proveedor", "cambiarse de bsp",
	}},
	{"#access", []string{
		"get into", "get in", "sign in", "signin", "log into", "logon", "sign into",
		"access", "acesso", "acceso", "acessar", "acceder", "login", "log in",
		"logar", "entrar", "permission", "permissão", "permiso", "locked out",
	}},
	{"#lose", []string{
		"lose", "losing", "lost", "loose", "perder", "perdi", "perdeu", "perdemos",
		"perdido", "perdida", "perco", "pierdo", "pierde", "perdimos", "perdí",
		"sumir", "sumiu",
	}},
	{"#admin", []string{
		"admin", "administrator", "administrador", "administradora", "adm",
		"administradores", "owner", "dono", "dueño", "proprietário", "propietario",
	}},
	// Telling the current provider about the move.
	{"#notify", []string{
		"notify", "inform", "let know", "avisar", "aviso", "aviso ao", "avisarle", "avisarles", "avisamos",
		"comunicar", "comunico", "informar", "informo", "notificar", "notifico",
	}},
	// Someone who left the company: clients say it many ways, and "quit"
	// must not fall to the Spanish stem of "quitar" (remove).
	{"#gone", []string{
		"ya no trabaja", "no trabaja mas", "nao trabalha mais", "ja nao trabalha", "saiu da empresa", "se fue de la empresa", "renunciou", "renuncio", "demitido", "demitida", "despedido", "despedida",
		"left@en", "gone@en", "quit@en", "quitted@en", "resigned@en", "fired@en",
		"no longer works@en", "no longer here@en",
	}},
	{"#keep", []string{
		"keep", "kept", "keeping", "maintain", "maintained", "preserve",
		"preserved", "retain", "manter", "mantém", "mantenho", "mantido", "mantida",
		"mantidos", "conservar", "conservo", "conserva", "conservado", "mantener",
		"mantiene", "mantengo", "mantenido", "carry over", "come along",
		"vem junto", "vêm junto", "vão junto", "vai junto", "va junto", "van junto",
		"go along", "come with", "comes with", "se mantiene", "continua igual",
		"sigue igual", "stay the same",
	}},
	{"#history", []string{
		"history", "histórico", "historial", "chat history", "conversation history",
		"message history", "old chats", "old messages", "old conversations",
		"past conversations", "mensagens antigas", "conversas antigas",
		"mensajes antiguos", "conversaciones antiguas", "chats antiguos", "backup",
	}},
	{"#oba", []string{
		"official business account", "oba", "green badge", "green tick",
		"green check", "blue badge", "blue tick", "blue check", "verified badge",
		"selo verde", "selo azul", "selo de verificado", "selo oficial",
		"insignia verde", "insignia azul", "check verde", "check azul",
		"palomita verde", "conta oficial", "conta comercial oficial",
		"cuenta oficial", "cuenta oficial de empresa", "cuenta comercial oficial",
		"badge", "selo", "insignia", "verificado verde", "tick verde",
	}},
	{"#tier", []string{
		"messaging limit", "message limit", "limite de mensagens",
		"limite de envio", "limite de mensajes", "limite de envío", "tier",
		"nível de mensagens", "nivel de mensajes", "limite diário", "daily limit",
		"sending limit",
	}},
	{"#quality", []string{
		"quality", "qualidade", "calidad", "quality rating",
		"classificação de qualidade", "calificación de calidad", "quality score",
	}},
	{"#displayname", []string{
		"nome aparece", "nome que aparece", "nombre aparece", "nombre que aparece", "name shows", "name appears", "name that shows", "name displayed", "name customers see", "name people see",
		"display name", "nome de exibição", "nome exibido", "nombre visible",
		"nombre para mostrar", "nombre de visualización", "business name",
		"verified name", "nome verificado", "nombre verificado", "name", "nome",
		"nombre", "rename", "renomear", "renombrar", "nome da empresa",
		"nombre de la empresa", "company name",
	}},
	{"#approve", []string{
		"approve", "approved", "approval", "aprovar", "aprovado", "aprovada",
		"aprovação", "aprovam", "aprobar", "aprobado", "aprobada", "aprobación",
		"aprueban", "aprueba", "accepted",
	}},
	{"#reject", []string{
		"reject", "rejected", "reprovado", "reprovada", "reprovou", "rejeitado",
		"rejeitada", "recusado", "recusada", "rechazado", "rechazada", "rechazaron",
		"negado", "denied", "declined",
	}},
	{"#pending", []string{
		"pending", "pendente", "pendiente", "em análise", "en revisión",
		"under review", "em revisão", "in review", "aguardando aprovação",
	}},
	{"#off", []string{
		"turn off", "switch off", "shut off", "disable", "disabled", "disabling",
		"deactivate", "remove", "apagar@es", "apago@es", "apaga@es", "desativar",
		"desativo", "desativa", "desative", "desligar", "desligo", "desliga",
		"desabilitar", "desabilito", "tirar", "tiro", "remover", "desactivar",
		"desactivo", "desactiva", "quitar", "quito", "deshabilitar", "deshabilito",
		"turned off", "off",
	}},
	{"#delete", []string{
		"delete", "deleted", "excluir", "deletar", "borrar", "eliminar",
		"apagar@pt", "apago@pt", "apaga@pt",
	}},
	{"#receive", []string{
		"receive", "receiving", "recieve", "receber", "recebo", "recebe", "recebendo",
		"recibir", "recibo", "recibe", "recebemos", "recibimos", "come", "comes", "show up",
		"shows up", "vem", "viene", "arrive", "arrives", "chega", "chegar", "chegue", "llega",
		"llegar", "llegue",
	}},
	// A message that did or did not arrive, apart from whether the line can
	// receive one at all: "não recebi o SMS" is about the code, "o número não
	// recebe SMS" about the line.
	{"#arrived", []string{
		"llegado", "chegado", "recebido", "recibido", "chegaram", "llegaron", "came through",
		"come through", "arrive yet", "got", "came", "shown up", "showed up", "apareceu",
		"apareceram", "veio", "vino", "received", "recieved", "arrived", "recebi", "recebeu",
		"chegou", "recibí", "recibió", "llegó", "didnt get", "havent got", "havent gotten",
		"hasnt come", "chegou nada", "recibi", "recibio", "llego", "coming", "arriving",
		"chegando", "llegando",
	}},
	{"#not", []string{
		"not", "no@en", "no@es", "didnt", "doesnt", "dont", "cant", "cannot",
		"wont", "isnt", "arent", "wasnt", "werent", "havent", "hasnt", "hadnt",
		"shouldnt", "couldnt", "wouldnt", "never", "nao", "n", "nunca", "nenhum",
		"nenhuma", "ningun", "ninguno", "ninguna", "nothing", "nada",
	}},
	{"#again", []string{
		"recreate", "recreated", "recreating", "recriar", "recrio", "recrie", "recrear", "recreo", "recree", "rebuild", "rebuilt", "from scratch", "do zero", "desde cero", "start over", "começar de novo", "empezar de nuevo", "fazer tudo de novo", "hacer todo de nuevo",
		"again", "resend", "volver a", "voltar a", "de volta", "resubmit",
		"submit again", "redo", "refazer", "rehacer", "de novo", "novamente",
		"outra vez", "otra vez", "nuevamente", "de nuevo", "reenviar", "reenvia",
		"reenvía", "once more",
	}},
	{"#duration", []string{
		"demora quanto", "leva quanto", "tarda cuanto", "tarda cuánto", "takes how long", "take how long", "quanto demora", "cuanto demora", "cuánto demora", "demora mucho", "demora muito", "how soon", "when will it be done", "quando fica pronto", "cuando esta listo", "cuándo está listo",
		"how long", "how much time", "how many days", "how many hours", "how fast",
		"how quick", "timeline", "time frame", "timeframe", "eta", "quanto tempo",
		"quantos dias", "quantas horas", "demora", "demorar", "demorado",
		"demorada", "prazo", "cuánto tiempo", "cuántos días", "cuántas horas",
		"cuánto tarda", "tarda", "tardar", "tardan", "plazo", "rápido", "rápida",
		"fast", "quick", "quickly", "take long", "takes long", "leva quanto",
		"quanto leva", "duration", "duração", "duración", "dura", "durar",
	}},
	{"#downtime", []string{
		"stop answering", "stop responding", "stops answering", "parar de responder", "para de responder", "deixar de responder", "dejar de responder", "deja de responder", "no responde", "sem responder", "sin responder",
		"downtime", "down time", "offline", "off line", "out of service",
		"stop working", "stops working", "stopped working", "go down", "be down",
		"fora do ar", "cair", "caiu", "parar de funcionar", "para de funcionar",
		"deixar de funcionar", "deixa de funcionar", "ficar sem", "ficar parado",
		"fica parado", "parado", "interrupção", "interromper", "interrompido",
		"interruption", "interrupted", "interrumpir", "interrupción", "inactividad",
		"fuera de línea", "fuera de servicio", "sin servicio", "dejar de funcionar",
		"deja de funcionar", "caído", "caída", "se cae", "caer", "instabilidade",
		"indisponível", "indisponible", "unavailable", "outage", "blackout",
		"se corta", "cortar", "corte", "cortado", "cut off", "stop receiving",
		"stop sending", "parar de receber", "parar de enviar", "dejar de recibir",
		"dejar de enviar",
	}},
	{"#during", []string{
		"during", "durante", "while", "meanwhile", "enquanto", "mientras",
		"in the meantime", "nesse meio tempo", "mientras tanto", "in between",
	}},
	{"#bill", []string{
		"bill", "billed", "billing", "invoice", "invoiced", "invoicing", "charge",
		"charged", "charging", "pay", "paid", "paying", "payment", "cost", "price",
		"pricing", "fee", "cobrar", "cobra", "cobrado", "cobrada", "cobrança",
		"cobram", "fatura", "faturar", "faturado", "faturamento", "pagar", "pago",
		"pagamento", "pagamos", "custo", "custa", "custar", "preço", "tarifa",
		"cobro", "cobran", "cobrará", "cobrarán", "factura", "facturar",
		"facturación", "facturado", "costo", "cuesta", "costar", "precio",
		"quanto custa", "cuánto cuesta", "how much", "expensive", "caro",
	}},
	{"#new", []string{
		"second@en", "segunda conta", "segunda cuenta", "segunda waba", "additional", "adicional", "another account", "outra conta", "otra cuenta",
		"new", "novo", "nova", "nuevo", "nueva", "nuova",
	}},
	{"#origin", []string{
		"origin", "origem", "origen", "leaving", "im leaving", "saindo",
		"estou saindo", "vou sair", "dejando", "me voy", "deixando", "current",
		"currently", "atual", "atualmente", "actual", "actualmente", "old",
		"antigo", "antiga", "antiguo", "antigua", "anterior", "previous", "former",
		"existing",
	}},
	{"#dest", []string{
		"destination", "destino", "target",
	}},
	// In a question to the bot, "you" is the destination BSP.
	{"#you", []string{
		"you", "your", "yours", "u", "ur", "you guys", "yall", "voce", "voces",
		"vc", "vcs", "ces", "usted", "ustedes", "ud", "uds",
	}},
	{"#role", []string{
		"participate", "participar", "participa", "involved", "envolvido", "envolvida", "involucrado", "involucrada", "colaborar", "colabora", "collaborate", "cooperate", "cooperar", "coopera", "play a part", "part to play",
		"role", "papel", "rol", "function", "função", "función", "responsibility",
		"responsible", "responsabilidade", "responsável", "responsable",
		"responsabilidad", "job", "duty", "duties", "tarefa", "tarea", "take care",
		"cuida", "cuidam", "encarga", "encargan", "handle", "handles", "in charge",
	}},
	{"#need", []string{
		"need", "needed", "require", "required", "requirement", "requisite",
		"prerequisite", "pre requisite", "precisa", "preciso", "precisam",
		"precisamos", "necessário", "necessária", "requisito", "pré requisito",
		"necesito", "necesita", "necesitan", "necesario", "necesaria",
		"requisitos previos", "checklist", "check list", "prereq", "hace falta",
		"faz falta", "falta", "meet", "met", "fulfil", "fulfill", "cumprir",
		"cumplir", "satisfy", "pre req", "prereqs", "condition", "condicao",
		"condicoes", "condicion", "condiciones",
	}},
	{"#eligible", []string{
		"eligible", "eligibility", "elegível", "elegibilidade", "elegible",
		"elegibilidad", "supported", "suportado", "suportada", "soportado",
		"soportada", "compatible", "compatível", "allowed", "permitido",
		"permitida", "qualify", "apto", "apta",
	}},
	{"#register", []string{
		"register", "registration", "registering", "registered", "registrar",
		"registro", "registrado", "registrada", "registra", "reregister",
	}},
	{"#attempt", []string{
		"attempt", "tries", "try", "tentativa", "intento", "register limit",
		"registration limit", "limite de registro", "limite de tentativas",
		"limite de intentos", "retry", "retries", "reintento", "too many",
		"muitas vezes", "varias vezes", "várias vezes", "varias veces",
		"many times",
	}},
	{"#block", []string{
		"block", "blocked", "blocking", "bloqueado", "bloqueada", "bloqueio",
		"bloquear", "bloqueo", "bloqueó", "locked",
	}},
	{"#forget", []string{
		"forgot", "forget", "forgotten", "esqueci", "esqueceu", "esquecer",
		"esquecido", "olvidé", "olvido", "olvidar", "olvidado", "olvidó",
		"dont remember", "não lembro", "no recuerdo",
	}},
	{"#wait", []string{
		"wait", "waiting", "esperar", "esperando", "espero", "aguardar",
		"aguardando", "aguardo",
	}},
	{"#email", []string{
		"email", "e mail", "correo", "correo electrónico", "mail", "inbox",
	}},
	{"#number", []string{
		"number", "número", "phone number", "número de telefone",
		"número de teléfono", "numero de celular", "phone", "telefone", "teléfono",
		"linha", "línea", "line",
	}},
	{"#meta", []string{
		"meta", "facebook", "fb",
	}},
	{"#whatsapp", []string{
		"whatsapp", "wpp", "zap", "zapzap", "wa", "wapp", "watsapp", "whatsap",
		"wasap", "guasap", "wsp", "whatsapp business", "whats business", "whats@pt",
		"whats@es",
	}},
	{"#app", []string{
		"app", "aplicativo", "aplicación", "application", "business app",
		"coexistence", "coexistência", "coexistencia", "celular app",
	}},
	{"#test", []string{
		"test", "testing", "teste", "prueba", "sandbox", "test number",
	}},
	{"#contacts", []string{
		"contact", "contato", "contacto", "opt in", "optin", "export", "exportar",
		"exportação", "exportación",
	}},
	{"#recover", []string{
		"recover", "recovery", "recuperar", "recupero", "recuperação",
		"recuperación", "restore", "get back", "regain",
	}},
	{"#create", []string{
		"create", "created", "creating", "criar", "cria", "criou", "criada",
		"criado", "crear", "crea", "creó", "creada", "creado", "set up", "setup",
		"abrir",
	}},
	{"#copy", []string{
		"copy", "copied", "copies", "copiar", "copiado", "copiados", "copiada",
		"cópia", "copia", "duplicate", "duplicar",
	}},
	{"#change", []string{
		"change", "changed", "changing", "switch", "swap", "trocar", "troca",
		"troco", "troquei", "mudar", "mudo", "mudei", "alterar", "alteração",
		"altero", "cambiar", "cambio", "cambia", "cambié", "modificar",
	}},
	{"#send", []string{
		"send", "sending", "sent", "enviar", "envio", "envia", "enviando",
		"enviado", "mandar", "manda", "mandando", "mandei", "envié", "disparo",
		"disparos",
	}},
	{"#message", []string{
		"message", "msg", "mensagem", "mensaje", "mensajes", "mensagens",
	}},
	{"#chat", []string{
		"chat", "conversation", "conversa", "conversación", "conversas",
		"conversaciones",
	}},
	{"#intl", []string{
		"international", "internacional", "internacionais", "internacionales",
		"abroad", "foreign", "exterior", "extranjero", "overseas",
	}},
	{"#digit", []string{
		"digit", "dígito", "digitos", "dígitos",
	}},
	{"#ninth", []string{
		"nono dígito", "9 dígito", "dígito 9", "dígito extra", "extra digit",
		"extra 9", "9 extra", "9 adicional", "dígito adicional", "ninth digit",
		"noveno dígito", "digito nove", "9th digit", "com 9", "sem 9", "con 9",
		"sin 9", "with 9", "without 9", "o 9", "el 9", "the 9",
	}},
	{"#brazil", []string{
		"brazil", "brasil", "brazilian", "brasileiro", "brasileño", "brasilero",
	}},
	{"#verify", []string{
		"verify", "verified", "verification", "verificar", "verificação",
		"verificación", "verificado", "verificada", "validar", "validação",
		"validación",
	}},
	{"#twice", []string{
		"dois", "duas", "ambos", "ambas", "two providers", "two bsps", "dos proveedores", "dois provedores", "dois bsp", "dos bsp",
		"twice", "two times", "double", "doubled", "duas vezes", "2 vezes",
		"em dobro", "dobrado", "dobro", "duplicado", "duplicada", "dos veces",
		"2 veces", "doble", "por duplicado", "double charge", "double billing",
		"both",
	}},
	{"#choose", []string{
		"choose", "pick", "select", "escolher", "escolho", "escolha", "elegir",
		"elijo", "elige", "seleccionar", "colocar", "coloco", "coloca", "poner",
		"pongo", "pone", "put", "set", "define", "definir", "defino", "defina",
	}},
	{"#save", []string{
		"safe", "safely", "save", "guardar", "guardo", "guarda", "seguro", "segura",
		"anotar", "anoto", "write down", "note down", "remember", "lembrar",
		"recordar",
	}},
	{"#timeunit", []string{
		"min", "mins", "minute", "minuto", "hora", "hour", "hr", "hrs", "dia@en",
		"dia@es", "day", "semana", "week", "month", "mes", "mês", "meses",
	}},
	{"#before", []string{
		"before", "antes", "beforehand", "first", "primeiro", "primero", "previo",
		"previa", "prévio", "prévia", "in advance", "de antemao", "de antemano",
	}},
	{"#on", []string{
		"enabled", "enable", "active", "activated", "ativo", "ativa", "ativado",
		"ativada", "activo", "activa", "activado", "activada", "habilitado",
		"habilitada", "ligado", "ligada", "encendido", "prendido", "still on",
		"turned on", "switched on", "ta on", "esta on",
	}},
	{"#stay", []string{
		"stay", "remain", "deixar", "deixo", "deixa", "dejar", "dejo", "deja",
		"quedarse", "quedarme", "permanecer", "permanece",
	}},
	{"#works", []string{
		"work", "works", "working", "funciona", "funcionar", "funcionando",
		"dar certo", "da certo", "sirve", "servir", "anda",
	}},
	{"#same", []string{
		"same as", "the same", "mesmo que", "o mesmo", "a mesma", "lo mismo",
		"el mismo", "la misma", "igual", "different", "diferente", "difference",
		"diferenca", "diferencia", "same thing",
	}},
	{"#define", []string{
		"entender", "entendo", "understand", "comprender", "entiendo", "how does the migration work", "how does the port work", "how does porting work",
		"what do you mean", "what do u mean", "what does that mean", "stand for", "stands for", "quer dizer", "que quer dizer", "quiere decir", "que quiere decir", "o que seria", "que seria", "consiste", "en que consiste", "consiste em", "in practice", "na pratica", "na prática", "en la practica", "en la práctica",
		"what is", "whats@en", "what s", "what are", "what does mean",
		"what does it mean", "meaning", "mean", "means", "explain", "o que e",
		"oq e", "oque e", "oq", "oque", "que e", "o que significa", "significa",
		"significado", "explica", "explique", "explicar", "que es", "que significa",
		"explicame", "how does it work", "how it works", "how does work",
		"how does that work", "como funciona", "como e que funciona",
		"como e o processo", "como es el proceso", "process", "processo", "proceso",
		"como e", "como es",
	}},
	// Words of neighbouring worlds: other apps and products, mobile
	// carriers and plans, small talk. No intent uses them, so they weigh
	// against every intent, as unknown words do, but they are listed
	// because some of them look like ours after stemming ("partido" and
	// "parte") or share a word with a topic ("senha do Instagram").
	{offTopic, []string{
		"bank", "banco", "bank account", "conta no banco", "cuenta bancaria", "loan", "emprestimo", "empréstimo", "prestamo", "préstamo", "credito", "crédito", "credit card", "cartao", "tarjeta", "capital", "tokyo",
		"phone company", "telephone company", "mobile carrier", "phone carrier", "cell carrier", "mobile operator", "compania de celular", "compania telefonica", "compania de telefono", "compania de telefonos", "compania movil", "companhia telefonica", "empresa de telefonia", "operadora de celular", "operadora de telefonia", "portabilidade de celular", "portabilidade numerica", "portabilidad numerica movil",
		"new phone", "new device", "celular novo", "telefone novo", "aparelho novo",
		"outro celular", "telefono nuevo", "celular nuevo", "otro celular",
		"update whatsapp", "atualizar whatsapp", "atualizo o whatsapp",
		"actualizar whatsapp", "actualizo whatsapp", "whatsapp group",
		"grupo do whatsapp", "grupo de whatsapp", "group", "grupo",
		"schedule messages", "agendar mensagens", "programar mensajes",
		"two phones", "dois celulares", "dos celulares", "dos telefonos",
		"multi device", "whatsapp web", "web whatsapp", "linked device",
		"block someone", "block somebody", "block a contact", "block contact",
		"bloquear alguem", "bloquear contato", "bloquear um contato",
		"bloqueio um contato", "bloqueia um contato", "bloquear a alguien",
		"bloqueo a alguien", "bloquear un contacto", "bloquear contacto",
		"deleted chats", "deleted messages", "chats borrados", "mensajes borrados",
		"conversas apagadas", "mensagens apagadas", "weather forecast",
		"que tiempo hace", "que tiempo va a hacer", "previsao do tempo",
		"como vai o tempo", "como esta o tempo", "pronostico", "linha movel",
		"linea movil", "mobile line", "otra compania", "outra operadora",
		"another carrier", "your name", "seu nome", "tu nombre", "su nombre",
		"como te llamas", "como se chama", "who are you", "quem e voce",
		"quien eres", "are you a bot", "are you human", "e um robo", "eres un bot",
		"eres humano", "instagram", "insta", "tiktok", "youtube", "google", "gmail",
		"drive", "google drive", "icloud", "iphone", "android", "samsung", "xiaomi",
		"motorola", "netflix", "spotify", "uber", "ifood", "telegram", "signal",
		"twitter", "linkedin", "bitcoin", "crypto", "dolar", "dollar", "euro",
		"stock", "bolsa", "cotacao", "weather", "clima", "rain", "chuva", "lluvia",
		"temperature", "temperatura", "joke", "piada", "chiste", "pizza",
		"pizzaria", "restaurant", "restaurante", "football", "soccer", "futebol",
		"futbol", "partido", "jogo", "game", "movie", "filme", "pelicula", "music",
		"musica", "song", "recipe", "receita", "receta", "carrier", "operadora",
		"operador", "telecom", "chip", "sim card", "chip card", "data plan",
		"plano", "plan de datos", "plan", "recarga", "saldo", "tim", "movistar",
		"telcel", "verizon", "att", "t mobile", "vodafone", "laptop", "buy",
		"comprar", "notebook", "computer", "computador", "computadora", "flight",
		"voo", "vuelo", "hotel", "ads", "ad", "anuncio", "anuncios", "advertising",
		"campanha paga", "boost", "profile picture", "foto", "foto do perfil",
		"foto de perfil", "photo", "picture", "sticker", "figurinha", "story",
		"stories", "linked devices", "dispositivos", "screen", "tela", "pantalla",
		"farmacia", "pharmacy", "invoice nf", "nota fiscal", "boleto", "translate",
		"traduzir", "traducir", "horario de funcionamento", "loja", "tienda",
		"password reset",
	}},
	{"#business", []string{
		"business", "empresa", "negócio", "negocio", "company", "companhia",
		"compañía",
	}},
}

// markers are words whose presence says which language a question is in.
// A word listed for two languages counts for both and so tells only those
// two from the third ("numero", "codigo"); words all three share stay out.
var markers = [numLangs][]string{
	langEN: {
		"the", "is", "are", "my", "do", "does", "did", "what", "how", "can", "will",
		"would", "should", "i", "you", "your", "to", "of", "and", "with", "not",
		"it", "this", "that", "when", "why", "where", "who", "which", "have", "has",
		"got", "after", "before", "during", "there", "from", "for", "be",
		"we", "our", "they", "if", "please", "thanks", "hi", "hello", "hey", "dont",
		"cant", "im", "number", "code", "new", "old", "need", "still", "about",
		"much", "many", "yet", "lost", "change", "keep", "work", "happens", "name",
		"display", "billing", "charged", "long", "take", "received", "turn", "off",
		"disable", "access", "was", "were", "an", "any", "by", "at", "on", "or",
		"didnt", "doesnt", "isnt", "wont", "whats", "way", "want", "us", "call",
		"voice", "phone",
	},
	langPT: {
		"o", "os", "um", "uma", "do", "da", "dos", "das", "na", "nas", "em", "ao",
		"pelo", "pela", "pra", "pro", "com", "nao", "voce", "voces", "vc", "vcs",
		"meu", "minha", "meus", "minhas", "nosso", "nossa", "seu", "sua", "isso",
		"esse", "essa", "ele", "ela", "onde", "qual", "quais", "quanto", "quantos",
		"pq", "tem", "tenho", "temos", "preciso", "precisa", "posso", "consigo",
		"vou", "vai", "ainda", "tambem", "tbm", "muito", "obrigado", "obrigada",
		"oi", "ola", "bom", "boa", "sim", "ne", "ta", "fazer", "faz", "sao",
		"estou", "ficar", "fica", "depois", "agora", "conta", "ligacao", "chegou",
		"troca", "trocar", "mudar", "novo", "nova", "antigo", "antiga", "atual",
		"migracao", "portabilidade", "verificacao", "etapas", "senha", "tempo",
		"cobranca", "fatura", "nome", "exibicao", "selo", "mensagem", "mensagens",
		"conversas", "historico", "gerenciador", "negocio", "e", "tirar",
		"desativar", "desligar", "recebi", "receber", "aparece", "demora", "leva",
		"acontece", "cade", "celular", "numero", "codigo", "ja", "quando", "eu",
		"ate", "entao", "mesmo", "nenhum", "nenhuma", "agente", "gente", "apos",
		"antes", "vao", "sera", "seria", "pode", "podem", "quero", "queria",
		"alguem", "algum", "alguma", "dar", "da", "aqui", "lá", "aí", "sem",
		"acesso", "empresa", "cobrar", "pagar", "modelo", "modelos", "aprovado",
		"ligar", "esta", "estao", "essas", "esses", "alguns", "algumas", "foi",
		"foram", "nada", "ainda",
	},
	langES: {
		"el", "los", "las", "un", "del", "al", "en", "y", "mi", "mis", "tu", "tus",
		"su", "usted", "ustedes", "es", "esto", "eso", "cual", "cuales", "cuanto",
		"cuantos", "tengo", "tiene", "tenemos", "necesito", "necesita", "puedo",
		"puede", "pueden", "hay", "todavia", "tambien", "muy", "gracias", "hola",
		"buenas", "pero", "despues", "ahora", "cuenta", "llamada", "llego",
		"cambio", "cambiar", "nuevo", "nueva", "actual", "migracion",
		"portabilidad", "verificacion", "pasos", "contrasena", "tiempo", "cobro",
		"factura", "nombre", "insignia", "plantillas", "plantilla", "mensajes",
		"mensaje", "conversaciones", "historial", "negocios", "y", "recibi",
		"recibir", "aparece", "tarda", "pasa", "celular", "numero", "codigo", "ya",
		"solo", "cuando", "yo", "hasta", "entonces", "mismo", "ningun", "ninguna",
		"quiero", "queria", "alguien", "algun", "alguna", "dar", "aqui", "alla",
		"sin", "acceso", "empresa", "cobrar", "pagar", "aprobado", "llamar",
		"estan", "esas", "esos", "hacer", "hago", "desactivar", "quitar", "apagar",
		"donde", "vez", "veces", "otra", "otro", "sigue", "seguir", "ustedes",
		"les", "le", "lo", "nos", "ser", "sera", "seria", "voy", "va", "van",
		"esta", "la", "fue", "fueron", "algunas", "algunos", "nada", "todavia",
	},
}
