package bot_test

import (
	"testing"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/fsm"
)

// A transcript's words and the bot's key phrases, in one language.
type script struct {
	lang                                  bot.Lang
	start, yes, skip                      string
	welcome, checkBM, checksOK, askPhone  string
	phoneOK, brazil, askSource, howArrive string
	smsSent, verified, askPin, pinAgain   string
	registered, moved, copied, notCopied  string
	autoCopy, keepPIN                     string
}

var scripts = []script{
	{
		lang: bot.English, start: "start", yes: "yes", skip: "skip",
		welcome: "I'm portabot", checkBM: "Do you have *admin* access", checksOK: "All four checks are fine",
		askPhone: "Which number do you want to move?", phoneOK: "Got it: +5511987654321", brazil: "Brazilian mobile",
		askSource: "Optional: do you know the ID", howArrive: "How should it arrive?",
		smsSent: "An SMS is on its way to +5511987654321", verified: "The number is verified",
		askPin: "new 6-digit PIN", pinAgain: "Type the same PIN again", registered: "Registered!",
		moved: "Your number +5511987654321 has moved. Here's what was kept", copied: "Templates copied: 5",
		notCopied: "Templates Meta did not copy", autoCopy: "Meta copies your approved high-quality templates automatically",
		keepPIN: "Keep your new PIN safe",
	},
	{
		lang: bot.Portuguese, start: "começar", yes: "sim", skip: "pular",
		welcome: "Eu sou o portabot", checkBM: "Você tem acesso de *administrador*", checksOK: "As quatro verificações estão ok",
		askPhone: "Qual número você quer trazer?", phoneOK: "Anotado: +5511987654321", brazil: "Celular brasileiro",
		askSource: "Opcional: você sabe o ID", howArrive: "Como ele deve chegar?",
		smsSent: "Um SMS está a caminho de +5511987654321", verified: "O número está verificado",
		askPin: "novo PIN de 6 dígitos", pinAgain: "Digite o mesmo PIN de novo", registered: "Registrado!",
		moved: "Seu número +5511987654321 foi transferido. Veja o que foi mantido", copied: "Modelos copiados: 5",
		notCopied: "Modelos que a Meta não copiou", autoCopy: "a Meta copia automaticamente seus modelos aprovados",
		keepPIN: "Guarde bem o seu novo PIN",
	},
	{
		lang: bot.Spanish, start: "empezar", yes: "sí", skip: "omitir",
		welcome: "Soy portabot", checkBM: "¿Tienes acceso de *administrador*", checksOK: "Las cuatro comprobaciones están bien",
		askPhone: "¿Qué número quieres traer?", phoneOK: "Anotado: +5511987654321", brazil: "Móvil brasileño",
		askSource: "Opcional: ¿conoces el ID", howArrive: "¿Cómo debe llegar?",
		smsSent: "Un SMS va en camino a +5511987654321", verified: "El número está verificado",
		askPin: "nuevo PIN de 6 dígitos", pinAgain: "Escribe el mismo PIN otra vez", registered: "¡Registrado!",
		moved: "Tu número +5511987654321 se ha transferido. Esto es lo que se mantuvo", copied: "Plantillas copiadas: 5",
		notCopied: "Plantillas que Meta no copió", autoCopy: "Meta copia automáticamente tus plantillas aprobadas",
		keepPIN: "Guarda bien tu nuevo PIN",
	},
}

// The templates every simulated source WABA fails to copy, with Meta's
// reasons.
var failedTemplates = map[string]string{
	"1019496902803242": "Incorrect category",
	"259672276895259":  "Formatting error - dangling parameter",
}

// port plays a whole migration in s.lang, the client typing every answer,
// and returns the final replies. source is what the client answers when
// asked for the source WABA.
func port(t *testing.T, h *harness, s script, source string) []bot.Reply {
	t.Helper()
	r := h.send(greetings[s.lang])
	h.wantState(fsm.Menu)
	says(t, r, s.welcome)
	if got := h.conv().Lang; got != s.lang {
		t.Fatalf("conversation language = %s after %q, want %s", got, greetings[s.lang], s.lang)
	}

	r = h.send(s.start)
	h.wantState(fsm.CheckBMAccess)
	says(t, r, s.checkBM)
	for _, want := range []fsm.State{fsm.Check2FA, fsm.CheckReception, fsm.CheckDisplayName, fsm.AskPhone} {
		r = h.send(s.yes)
		h.wantState(want)
	}
	says(t, r, s.checksOK, s.askPhone)

	r = h.send(typed)
	h.wantState(fsm.AskPhone)
	says(t, r, s.phoneOK, s.brazil, s.askSource)

	r = h.send(source)
	h.wantState(fsm.ChooseMethod)
	says(t, r, s.howArrive)

	r = h.send("SMS")
	h.wantState(fsm.AwaitCode)
	says(t, r, s.smsSent)
	if got := h.sent(); len(got) != 1 || got[0] != (codeDelivery{phone, "SMS", otp}) {
		t.Fatalf("codes sent = %v, want one SMS to %s", got, phone)
	}

	r = h.send(otp)
	h.wantState(fsm.AskPin)
	says(t, r, s.verified, s.askPin)

	r = h.send(pin)
	h.wantState(fsm.AskPin)
	says(t, r, s.pinAgain)

	r = h.send(pin)
	h.wantState(fsm.Done)
	says(t, r, s.registered, s.moved, s.keepPIN)

	for endpoint, want := range map[string]int{
		metasim.EndpointAddNumber:   1,
		metasim.EndpointRequestCode: 1,
		metasim.EndpointVerifyCode:  1,
		metasim.EndpointRegister:    1,
	} {
		if got := h.calls(endpoint); got != want {
			t.Errorf("%s called %d times, want %d", endpoint, got, want)
		}
	}
	c := h.kase()
	if c.State != fsm.Done || c.Closed.IsZero() || c.Phone != phone || c.Lang != s.lang {
		t.Errorf("case = state %s closed %v phone %s lang %s, want done, closed, %s, %s",
			c.State, c.Closed, c.Phone, c.Lang, phone, s.lang)
	}
	if c.Kept == nil || c.Kept.DisplayName == "" {
		t.Fatalf("case keeps no record of what the port kept: %+v", c.Kept)
	}
	// What was kept is Meta's word, read from the number, in words the
	// client reads: never Meta's enum values.
	says(t, r, c.Kept.DisplayName, map[bot.Lang]string{bot.English: "high (green)", bot.Portuguese: "alta (verde)",
		bot.Spanish: "alta (verde)"}[s.lang], map[bot.Lang]string{bot.English: "1,000 clients a day",
		bot.Portuguese: "1.000 clientes por dia", bot.Spanish: "1.000 clientes por día"}[s.lang])
	lacks(t, r, ": GREEN", "TIER_1K")
	return r
}

func TestTranscriptWithTemplateCopy(t *testing.T) {
	for _, s := range scripts {
		t.Run(string(s.lang), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, options{})
			r := port(t, h, s, metasim.SandboxSourceWABA)

			if got := h.calls(metasim.EndpointTemplates); got != 1 {
				t.Errorf("migrate_message_templates called %d times, want 1", got)
			}
			says(t, r, s.copied, s.notCopied)
			for id, reason := range failedTemplates {
				says(t, r, id+": "+reason)
			}
			lacks(t, r, s.autoCopy)
			c := h.kase()
			if c.SourceWABA != metasim.SandboxSourceWABA || c.Templates == nil ||
				len(c.Templates.Migrated) != 5 || len(c.Templates.Failed) != 2 {
				t.Errorf("case source %q templates %+v, want %s with 5 copied and 2 failed",
					c.SourceWABA, c.Templates, metasim.SandboxSourceWABA)
			}
		})
	}
}

func TestTranscriptWithoutSourceWABA(t *testing.T) {
	for _, s := range scripts {
		t.Run(string(s.lang), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, options{})
			r := port(t, h, s, s.skip)

			if got := h.calls(metasim.EndpointTemplates); got != 0 {
				t.Errorf("migrate_message_templates called %d times without a source WABA", got)
			}
			says(t, r, s.autoCopy)
			lacks(t, r, s.copied, s.notCopied)
			if c := h.kase(); c.SourceWABA != "" || c.Templates != nil {
				t.Errorf("case source %q templates %+v, want none", c.SourceWABA, c.Templates)
			}
		})
	}
}
