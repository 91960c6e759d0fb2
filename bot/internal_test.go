package bot

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"portabot/faq"
)

func TestSixDigits(t *testing.T) {
	tests := []struct {
		in      string
		code    string
		letters bool
	}{
		{"123456", "123456", false},
		{"123-456", "123456", false},
		{"123 456", "123456", false},
		{"123.456", "123456", false},
		{"  123456\n", "123456", false},
		{"1 2 3 4 5 6", "123456", false},
		{"12345", "", false},
		{"1234567", "", false},
		{"", "", false},
		{"12a456", "", true},
		{"code 123456", "", true},
		{"12345O", "", true},
		{"123456!", "", true},
	}
	for _, tt := range tests {
		code, letters := sixDigits(tt.in)
		if code != tt.code || letters != tt.letters {
			t.Errorf("sixDigits(%q) = %q, %v; want %q, %v", tt.in, code, letters, tt.code, tt.letters)
		}
	}
}

func TestWeakPIN(t *testing.T) {
	for _, pin := range []string{"000000", "111111", "999999", "123456", "654321", "234567", "890123", "109876", "121212", "909090", "123123", "007007"} {
		if !weakPIN(pin) {
			t.Errorf("weakPIN(%q) = false, want true", pin)
		}
	}
	for _, pin := range []string{"472913", "112358", "120945", "830271", "121213", "123465"} {
		if weakPIN(pin) {
			t.Errorf("weakPIN(%q) = true, want false", pin)
		}
	}
}

func TestPINHash(t *testing.T) {
	h1, err := hashPIN("472913")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := hashPIN("472913")
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	if strings.Contains(h1, "472913") {
		t.Errorf("hash %q holds the PIN", h1)
	}
	if !pinMatches(h1, "472913") || !pinMatches(h2, "472913") {
		t.Error("the PIN does not match its own hash")
	}
	for _, other := range []string{"472914", "", "4729130"} {
		if pinMatches(h1, other) {
			t.Errorf("pinMatches(hash of 472913, %q) = true", other)
		}
	}
	for _, stored := range []string{"", "472913", "a$b", "$", "!!$!!"} {
		if pinMatches(stored, "472913") {
			t.Errorf("pinMatches(%q, ...) = true for a malformed hash", stored)
		}
	}
}

func TestFold(t *testing.T) {
	tests := map[string]string{
		"  Menú!! ":            "menu",
		"NÃO":                  "nao",
		"já   resolvi.":        "ja resolvi",
		"it's done":            "it's done",
		"?":                    "?",
		"help?":                "help",
		"¿Ayuda?":              "ayuda",
		"Falar com  atendente": "falar com atendente",
		"":                     "",
		"🙂":                    "",
	}
	wantEach(t, "fold", fold, tests)
}

// Clients are served in parallel, so folding must be safe from many
// goroutines (the race detector watches this test).
func TestFoldConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 200 {
				in, want := "Não, OBRIGADO", "nao obrigado"
				if i%2 == 0 {
					in, want = "¿Menú?", "menu"
				}
				if got := fold(in); got != want {
					t.Errorf("fold(%q) = %q, want %q", in, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestWordOf(t *testing.T) {
	tests := map[string]word{
		"menu": wordMenu, "Menú": wordMenu, "MENU PRINCIPAL": wordMenu,
		"cancel": wordCancel, "Cancelar": wordCancel,
		"agent": wordAgent, "atendente": wordAgent, "agente": wordAgent, "Talk to a person": wordAgent,
		"language": wordLanguage, "idioma": wordLanguage,
		"help": wordHelp, "ajuda": wordHelp, "ayuda": wordHelp, "?": wordHelp,
		"yes": wordYes, "Sim": wordYes, "sí": wordYes, "si": wordYes, "ok": wordYes, "Vale": wordYes, "tá bom": wordYes, "alright": wordYes,
		"no": wordNo, "não": wordNo, "nao": wordNo, "todavía no": wordNo,
		"done": wordFixed, "fixed": wordFixed, "pronto": wordFixed, "listo": wordFixed, "Já resolvi": wordFixed,
		"resend": wordResend, "reenviar": wordResend,
		"voice": wordVoice, "ligação": wordVoice, "llamada": wordVoice,
		"skip": wordSkip, "pular": wordSkip, "omitir": wordSkip,
		"retry": wordRetry, "tentar de novo": wordRetry, "reintentar": wordRetry,
		"Let's go!": wordStart, "bora": wordStart, "vamos lá": wordStart, "dale": wordStart,
		"bye": wordBye, "Quit": wordBye, "STOP": wordBye, "tchau": wordBye, "até logo": wordBye, "adiós": wordBye,
		"thanks!": wordThanks, "Thank you": wordThanks, "obrigada": wordThanks, "valeu": wordThanks, "muchas gracias": wordThanks,
		// Only a whole message is a word.
		"our admin quit":            wordNone,
		"stop the port":             wordNone,
		"I want to cancel my order": wordNone,
		"yes but first a question":  wordNone,
		strings.Repeat("menu ", 13): wordNone,
		"":                          wordNone,
	}
	wantEach(t, "wordOf", wordOf, tests)
}

// Clients type button titles as often as they tap them: every title must
// mean what its button means.
func TestButtonTitlesAreWords(t *testing.T) {
	buttons := map[msg]word{
		msgBtnStart: wordStart, msgBtnContinue: wordStart, msgBtnPerson: wordAgent, msgBtnYes: wordYes,
		msgBtnNo: wordNo, msgBtnFixed: wordFixed, msgBtnSkip: wordSkip, msgBtnSMS: wordSMS,
		msgBtnVoice: wordVoice, msgBtnResend: wordResend,
	}
	for m, want := range buttons {
		for _, l := range Langs() {
			title := render(l, m)
			if got := wordOf(title); got != want {
				t.Errorf("%s title %q means word %d, want %d", l, title, got, want)
			}
			if n := len([]rune(title)); n > 20 {
				t.Errorf("%s title %q has %d characters; WhatsApp buttons take 20", l, title, n)
			}
		}
	}
}

var verb = regexp.MustCompile(`%[a-z]`)

// Every message exists in the three languages with the same arguments.
func TestTexts(t *testing.T) {
	last := msg(0)
	for m := range texts {
		last = max(last, m)
	}
	for m := msg(0); m <= last; m++ {
		tx, ok := texts[m]
		if !ok {
			t.Errorf("message %d has no texts", m)
			continue
		}
		want := strings.Join(verb.FindAllString(tx[0], -1), " ")
		for i, s := range tx {
			if strings.TrimSpace(s) == "" {
				t.Errorf("message %d is empty in language %d", m, i)
			}
			if got := strings.Join(verb.FindAllString(s, -1), " "); got != want {
				t.Errorf("message %d takes %q in language %d, %q in English", m, got, i, want)
			}
		}
	}
}

func TestHumanWait(t *testing.T) {
	tests := []struct {
		d    time.Duration
		l    Lang
		want string
	}{
		{30 * time.Second, English, "30 seconds"},
		{30 * time.Second, Portuguese, "30 segundos"},
		{5 * time.Minute, Spanish, "5 minutos"},
		{90 * time.Second, English, "2 minutes"},
		{time.Second, English, "1 second"},
		{200 * time.Millisecond, Spanish, "1 segundo"},
		{70 * time.Second, Portuguese, "1 minuto"},
	}
	for _, tt := range tests {
		if got := humanWait(tt.d, tt.l); got != tt.want {
			t.Errorf("humanWait(%v, %s) = %q, want %q", tt.d, tt.l, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := map[string]string{
		"+5511987654321": "+55*******4321",
		"5511987654321":  "+55*******4321",
		"+123":           "+***",
	}
	wantEach(t, "MaskPhone", MaskPhone, tests)
}

func TestWantsPort(t *testing.T) {
	starts := []string{
		"I want to port my number", "I'd like to move my number to you", "we need to migrate our WhatsApp number",
		"port my number please", "Migrate my number", "let's start the port", "ready to transfer the number",
		"quero portar meu número", "Queria migrar o número da empresa pra vocês", "gostaria de trazer meu número",
		"vamos começar a portabilidade", "preciso transferir meu WhatsApp Business",
		"quiero portar mi número", "Quisiera migrar nuestro número", "necesito pasar mi número a ustedes",
		"empezar la portabilidad",
	}
	for _, s := range starts {
		if !wantsPort(s) {
			t.Errorf("wantsPort(%q) = false, want true", s)
		}
	}
	questions := []string{
		"how do I port my number", "can I migrate a Cloud API number?", "I want to port but 2FA is still on",
		"I don't want to migrate yet", "what do I need to move my number", "I want to know how long it takes",
		"o que preciso ter pronto pra migrar o numero", "não quero portar agora", "quero portar meu celular da vivo pra claro",
		"quiero portar mi linea movil a otra compañia", "¿puedo migrar mi número?", "si migro pierdo las plantillas",
		"my number", "I want a new PIN", "the port", "",
		"switch off two-step verification", "quiero cambiar el nombre visible", "Porting explained",
		"I want to port my number to you, but first I need to understand what happens to my templates and my badge",
	}
	for _, s := range questions {
		if wantsPort(s) {
			t.Errorf("wantsPort(%q) = true, want false", s)
		}
	}
}

// The FAQ's evaluation questions are questions: none of them may be taken
// for a request to start a port, or the client asking would not get the
// answer.
func TestFAQQuestionsDoNotStartAPort(t *testing.T) {
	for _, file := range []string{"../faq/testdata/eval.jsonl", "../faq/testdata/holdout.jsonl"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		cases, _, err := faq.ReadEval(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(cases) == 0 {
			t.Fatalf("%s: no questions", file)
		}
		for _, c := range cases {
			if wantsPort(c.Q) {
				t.Errorf("%s: %q (%s) would start a port", file, c.Q, c.Intent)
			}
			// Nor for a request for a person, which would hand the client
			// over instead of answering them.
			if wantsPerson(c.Q) && c.Intent != "human" && c.Intent != "agent" {
				t.Errorf("%s: %q (%s) would be taken for a request for a person", file, c.Q, c.Intent)
			}
		}
	}
}

func TestNumberIn(t *testing.T) {
	tests := map[string]string{
		"my number is +55 11 98765-4321":      "+55 11 98765-4321",
		"é o (11) 98765-4321, obrigado":       "(11) 98765-4321",
		"WABA id: 102290129340398.":           "102290129340398",
		"mi número: 0034 612 345 678 gracias": "0034 612 345 678",
		// Not for the bot to guess.
		"+55 11 98765-4321":                             "", // the number alone is not "in" a message
		"is +55 11 98765-4321 portable?":                "",
		"either +55 11 98765-4321 or +55 11 91234-5678": "",
		"I have 3 numbers":                              "",
		"code 1234":                                     "",
	}
	wantEach(t, "numberIn", found(numberIn), tests)
}

// FuzzNumberIn checks that what numberIn finds is a part of the message
// with enough digits to be a number, and only in a message with words.
func FuzzNumberIn(f *testing.F) {
	for _, s := range []string{"my number is +55 11 98765-4321", "WABA id: 102290129340398", "1 2 3 4 5 6 7 8 a",
		"a (((((((( 12345678", "x +-./() 99999999 -", "?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, ok := numberIn(text)
		if !ok {
			if n != "" {
				t.Fatalf("numberIn(%q) = %q without ok", text, n)
			}
			return
		}
		if !strings.Contains(text, n) || strings.Contains(text, "?") {
			t.Fatalf("numberIn(%q) = %q: not a part of a message without a question", text, n)
		}
		if d := len(Digits(n)); d < 8 {
			t.Fatalf("numberIn(%q) = %q: only %d digits", text, n, d)
		}
	})
}

func TestLeadingAnswer(t *testing.T) {
	tests := map[string]word{
		"yes, I'm the admin":        wordYes,
		"Yes I do":                  wordYes,
		"sim, tenho":                wordYes,
		"sí, claro":                 wordYes,
		"of course, it's mine":      wordYes,
		"no, my old BSP has it":     wordNo,
		"não, ainda não":            wordNo,
		"done, it's off now":        wordFixed,
		"yes but the agency has it": wordNone,
		"yes, it's still on":        wordNone,
		"sim, está ativada":         wordNone,
		"sim, está desativada":      wordYes,
		"yes? what do you mean":     wordNone,
		"yes, I don't know":         wordNone,
		"no sé si tengo acceso":     wordUnsure, // a leading "don't know", not a leading no
		"não sei":                   wordUnsure,
		"i don't know tbh":          wordUnsure,
		"ni idea la verdad":         wordUnsure,
		"hmm yes":                   wordYes,
		"bueno, no":                 wordNo,
		"olha, não sei":             wordUnsure,
		"no, not sure":              wordNone,
		"maybe yes":                 wordNone,
		"yes":                       wordNone, // a whole answer is wordOf's
		"":                          wordNone,
	}
	wantEach(t, "leadingAnswer", leadingAnswer, tests)
}

// A check answered with the state instead of a yes or no: the state is the
// answer, turned around by a negation that runs into it, and a doubt or a
// promise to look is none.
func TestStateAnswer(t *testing.T) {
	tests := []struct {
		c    Check
		in   string
		want word
	}{
		{Check2FA, "it's still on", wordNo},
		{Check2FA, "ainda está ativada", wordNo},
		{Check2FA, "todavía está activada", wordNo},
		{Check2FA, "yes it's enabled", wordNo},
		{Check2FA, "ta ligada ainda", wordNo},
		{Check2FA, "no está activada", wordYes},
		{Check2FA, "não está mais ativada", wordYes},
		{Check2FA, "it's off", wordYes},
		{Check2FA, "we turned it off yesterday", wordYes},
		{Check2FA, "havent turned it off yet", wordNo},
		{Check2FA, "ya la desactivamos", wordYes},
		{Check2FA, "it was on but now it's off", wordYes},
		{Check2FA, "no, it's off", wordYes},
		{Check2FA, "is it on?", wordNone},
		{Check2FA, "how do I turn it off", wordNone},
		{Check2FA, "not sure if it's on", wordNone},
		{Check2FA, "não sei se está ativada", wordNone},
		{Check2FA, "let me check, I'm on it", wordNone},
		{CheckBM, "perdemos o acesso ao bm", wordNo},
		{CheckBM, "no I lost access to it", wordNo},
		{CheckBM, "no tengo acceso al portafolio", wordNo},
		{CheckBM, "I'm the admin", wordYes},
		{CheckBM, "sou adm", wordYes},
		{CheckBM, "não sou admin", wordNo},
		{CheckBM, "the agency is the admin", wordNone},
		{CheckDisplayName, "o nome ainda está em análise", wordNo},
		{CheckDisplayName, "not approved yet", wordNo},
		{CheckDisplayName, "aprobado", wordYes},
		{CheckDisplayName, "fue rechazado", wordNo},
		{CheckDisplayName, "no sé si está aprobado", wordNone},
		{CheckReception, "é celular, recebe sms normal", wordYes},
		{CheckReception, "no recibe sms ni llamadas", wordNo},
		{CheckReception, "can receive texts", wordYes},
	}
	for _, tt := range tests {
		if got := stateAnswer(tt.c, tt.in); got != tt.want {
			t.Errorf("stateAnswer(%s, %q) = %d, want %d", tt.c, tt.in, got, tt.want)
		}
	}
}

func TestWhatNow(t *testing.T) {
	for in, want := range map[string]word{
		"y ahora que hago":              wordWhatNow,
		"and now what do we do":         wordWhatNow,
		"e agora o que eu faço?":        wordWhatNow,
		"now what":                      wordWhatNow,
		"simmm":                         wordYes,
		"noooo":                         wordNo,
		"now I want to port":            wordNone,
		"what happens to my number now": wordNone,
	} {
		if got := wordOf(in); got != want {
			t.Errorf("wordOf(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestWordAmong(t *testing.T) {
	tests := []struct {
		in    string
		kinds []word
		want  word
	}{
		{"by SMS please", []word{wordSMS, wordVoice}, wordSMS},
		{"pode ser por ligação", []word{wordSMS, wordVoice}, wordVoice},
		{"a voice call would be better", []word{wordSMS, wordVoice}, wordVoice},
		{"send again please", []word{wordResend}, wordResend},
		{"could you send it again", []word{wordResend}, wordResend},
		{"sms or voice?", []word{wordSMS, wordVoice}, wordNone},
		{"sms, or a voice call", []word{wordSMS, wordVoice}, wordNone},
		{"not by sms", []word{wordSMS, wordVoice}, wordNone},
		{"please", []word{wordSMS, wordVoice}, wordNone},
		{"send again please", []word{wordSMS, wordVoice}, wordNone},
		{strings.Repeat("sms ", 11), []word{wordSMS}, wordNone},
	}
	for _, tt := range tests {
		if got := wordAmong(tt.in, tt.kinds...); got != tt.want {
			t.Errorf("wordAmong(%q, %v) = %d, want %d", tt.in, tt.kinds, got, tt.want)
		}
	}
}

func TestCodeIn(t *testing.T) {
	tests := map[string]string{
		"the code is 246810":        "246810",
		"Código: 246 810":           "246810",
		"PIN: 472-913, thanks":      "472913",
		"my new PIN is \"472913\"!": "472913",
		"is it 246810?":             "",
		"my old code was 246810":    "",
		"246810 or 135790":          "",
		"code 24681O":               "",
		"code 12345":                "",
		"246 and then 810":          "",
		"246810":                    "", // no words around it: sixDigits reads it
		"but 246810":                "",
	}
	wantEach(t, "codeIn", found(codeIn), tests)
}

// FuzzCodeIn checks that a code found in a sentence is all the digits the
// sentence has, six of them, and never comes from a question.
func FuzzCodeIn(f *testing.F) {
	for _, s := range []string{"the code is 246810", "PIN: 472 913", "24681O", "1 2 3 4 5 6 x", "a 123-456.", "?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		code, ok := codeIn(text)
		if !ok {
			if code != "" {
				t.Fatalf("codeIn(%q) = %q without ok", text, code)
			}
			return
		}
		if strings.Contains(text, "?") {
			t.Fatalf("codeIn(%q) = %q from a question", text, code)
		}
		if len(code) != 6 || Digits(code) != code || Digits(text) != code {
			t.Fatalf("codeIn(%q) = %q: not the sentence's six digits", text, code)
		}
	})
}

func TestHideCodes(t *testing.T) {
	tests := map[string]string{
		"my code is 482913":              "my code is ••••••",
		"246 810":                        "••• •••",
		"2-4-6-8-1-0.":                   "•-•-•-•-•-•.",
		"PIN 4729 13":                    "PIN •••• ••",
		"my number is +55 11 98765-4321": "my number is +55 11 •••••-••••",
		"case 12, 3 numbers":             "case 12, 3 numbers",
		"1234567890123":                  "1234567890123",
		"٤٨٢٩١٣":                         "••••••",
		"no digits at all":               "no digits at all",
		// Safe rather than sorry: a short date looks like a code.
		"on 27.11, codes 1.2.3.4 go": "on ••.••, codes •.•.•.• go",
	}
	wantEach(t, "hideCodes", hideCodes, tests)
}

// FuzzHideCodes checks that a masked message keeps every character that is
// not a digit, and holds no group of digits that could still be a code.
func FuzzHideCodes(f *testing.F) {
	for _, s := range []string{"my code is 482913", "246 810", "+55 11 98765-4321", "1 2 3", "٤٨٢٩١٣", "9-9.9 9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := hideCodes(s)
		in, out := []rune(s), []rune(got)
		if len(in) != len(out) {
			t.Fatalf("hideCodes(%q) = %q: %d characters, want %d", s, got, len(out), len(in))
		}
		for i, r := range in {
			if out[i] != r && (!unicode.IsDigit(r) || out[i] != '•') {
				t.Fatalf("hideCodes(%q) = %q: character %d changed from %q to %q", s, got, i, r, out[i])
			}
		}
		// No run of 4 to 8 digits is left; nor, unless the message has a
		// group too long to be a code (a phone number), a group of them.
		long := false
		eachGroup(s, func(_ string, digits int) { long = long || digits > 8 })
		eachGroup(got, func(g string, digits int) {
			run := strings.IndexFunc(g, isCodeSeparator) < 0
			if digits >= 4 && digits <= 8 && (run || !long) {
				t.Fatalf("hideCodes(%q) = %q still holds a code-like group %q", s, got, g)
			}
			if run || digits <= 8 {
				return
			}
			// A long group's own runs are checked one by one.
			for _, part := range strings.FieldsFunc(g, func(r rune) bool { return !unicode.IsDigit(r) }) {
				if n := utf8.RuneCountInString(part); n >= 4 && n <= 8 {
					t.Fatalf("hideCodes(%q) = %q still holds a run %q", s, got, part)
				}
			}
		})
	})
}

// FuzzHideCodeSpellings spells a 6-digit code the ways people type one
// (digits split by spaces, commas, dashes, underscores, slashes, line
// breaks; full-width or Arabic-Indic digits) inside a sentence, and checks
// that no digit of it reaches agents.
func FuzzHideCodeSpellings(f *testing.F) {
	f.Add(uint32(246810), uint64(0), "my code is", "thanks")
	f.Add(uint32(135790), uint64(0x0123456789), "código", "")
	f.Add(uint32(1), uint64(0xfedcba9876543210), "", "ok")
	seps := []string{"", " ", "  ", ", ", ",", "-", " - ", "_", ".", "/", "\n", "\n\n", "\t", " | ", "·", "–"}
	f.Fuzz(func(t *testing.T, code uint32, shape uint64, before, after string) {
		if !utf8.ValidString(before) || !utf8.ValidString(after) ||
			strings.IndexFunc(before+after, unicode.IsDigit) >= 0 || len(before)+len(after) > 200 {
			return
		}
		digits := fmt.Sprintf("%06d", code%1000000)
		var b strings.Builder
		for i, d := range digits {
			if i > 0 {
				b.WriteString(seps[shape%uint64(len(seps))])
				shape /= uint64(len(seps))
			}
			switch shape % 3 {
			case 1:
				d += '０' - '0' // full-width
			case 2:
				d += '٠' - '0' // Arabic-Indic
			}
			shape /= 3
			b.WriteRune(d)
		}
		// Letters or the message's edges around the code, never digits.
		msg := strings.TrimSpace(before) + " " + b.String() + " " + strings.TrimSpace(after)
		if got := hideCodes(msg); strings.IndexFunc(got, unicode.IsDigit) >= 0 {
			t.Fatalf("hideCodes(%q) = %q: a digit of the code reached agents", msg, got)
		}
	})
}

// eachGroup calls fn with each group of digits of s, as hideCodes reads
// them.
func eachGroup(s string, fn func(group string, digits int)) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			i += size
			continue
		}
		end, digits := digitGroup(s, i)
		fn(s[i:end], digits)
		i = end
	}
}

// wantEach checks f against a table of inputs and what each should give.
func wantEach[T comparable](t *testing.T, name string, f func(string) T, tests map[string]T) {
	t.Helper()
	for in, want := range tests {
		if got := f(in); got != want {
			t.Errorf("%s(%q) = %#v, want %#v", name, in, got, want)
		}
	}
}

// found folds a finder's answer into one value: what it found, or "" when
// it found nothing, which must then be all it says.
func found(f func(string) (string, bool)) func(string) string {
	return func(in string) string {
		got, ok := f(in)
		if ok != (got != "") {
			return fmt.Sprintf("%q with ok=%v", got, ok)
		}
		return got
	}
}

// Client-facing text names each thing one way per language
// (docs/glossary.md): the same thing called two names reads as two things.
func TestGlossary(t *testing.T) {
	avoid := map[Lang][]string{
		Portuguese: {"Business Manager", "WhatsApp Manager", "portafolio"},
		Spanish:    {"portfolio empresarial", "WhatsApp Manager", "Gerenciador", "nombre visible"},
	}
	check := func(where string, l Lang, s string) {
		for _, w := range avoid[l] {
			if strings.Contains(s, w) {
				t.Errorf("%s in %s says %q: see docs/glossary.md", where, l, w)
			}
		}
	}
	for m, tx := range texts {
		check(fmt.Sprintf("message %d", m), Portuguese, tx[1])
		check(fmt.Sprintf("message %d", m), Spanish, tx[2])
	}
	kb := faq.Default()
	for _, intent := range kb.Intents() {
		for _, l := range []Lang{Portuguese, Spanish} {
			a, _ := kb.Answer(intent, string(l))
			check("the FAQ's answer "+intent, l, a)
		}
	}
}

// A country is named inside a sentence as the client's language says it:
// with its article where it takes one, and Portuguese's em contracted.
func TestCountryInASentence(t *testing.T) {
	tests := []struct {
		region string
		lang   Lang
		in     string
		with   string
	}{
		{"US", English, "in the United States", "the United States"},
		{"US", Portuguese, "nos Estados Unidos", "os Estados Unidos"},
		{"US", Spanish, "en Estados Unidos", "Estados Unidos"},
		{"BR", English, "in Brazil", "Brazil"},
		{"BR", Portuguese, "no Brasil", "o Brasil"},
		{"BR", Spanish, "en Brasil", "Brasil"},
		{"PT", Portuguese, "em Portugal", "Portugal"},
		{"AR", Portuguese, "na Argentina", "a Argentina"},
		{"PH", Portuguese, "nas Filipinas", "as Filipinas"},
		{"GB", English, "in the United Kingdom", "the United Kingdom"},
		{"GB", Spanish, "en el Reino Unido", "el Reino Unido"},
		{"MX", Spanish, "en México", "México"},
		{"MX", Portuguese, "no México", "o México"},
		{"DO", English, "in the Dominican Republic", "the Dominican Republic"},
		// A finding stored with the country's name, before regions were kept.
		{"United States", English, "in United States", "United States"},
		{"Brasil", Portuguese, "em Brasil", "Brasil"},
	}
	for _, tt := range tests {
		if got := countryIn(tt.region, tt.lang); got != tt.in {
			t.Errorf("countryIn(%q, %s) = %q, want %q", tt.region, tt.lang, got, tt.in)
		}
		if got := countryWithArticle(tt.region, tt.lang); got != tt.with {
			t.Errorf("countryWithArticle(%q, %s) = %q, want %q", tt.region, tt.lang, got, tt.with)
		}
	}
}
