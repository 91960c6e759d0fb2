package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
)

// stable are the states a conversation rests in between messages.
var stable = []fsm.State{
	fsm.Menu, fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception, fsm.CheckDisplayName, fsm.Blocked,
	fsm.AskPhone, fsm.AwaitWABA, fsm.ChooseMethod, fsm.AwaitCode, fsm.AskPin, fsm.Done, fsm.Cancelled,
	fsm.Failed, fsm.Handoff,
}

// phrases are key phrases of the bot's messages, by language.
type phrases map[bot.Lang]string

var (
	saysMenu      = phrases{bot.English: "What would you like to do?", bot.Portuguese: "O que você gostaria de fazer?", bot.Spanish: "¿Qué te gustaría hacer?"}
	saysCancelled = phrases{bot.English: "Nothing else will happen with your number", bot.Portuguese: "Nada mais será feito com o seu número", bot.Spanish: "No se hará nada más con tu número"}
	saysCaseNo    = phrases{bot.English: "Your case number is #", bot.Portuguese: "O número do seu atendimento é #", bot.Spanish: "Tu número de caso es #"}
	saysHandoff   = phrases{bot.English: "I've asked one of our agents", bot.Portuguese: "Chamei um dos nossos atendentes", bot.Spanish: "Pedí a uno de nuestros agentes"}
	saysWaiting   = phrases{bot.English: "One of our agents will answer you here", bot.Portuguese: "Um dos nossos atendentes vai responder aqui", bot.Spanish: "Uno de nuestros agentes te responderá aquí"}
	saysWhichLang = phrases{bot.English: "Which language do you prefer?", bot.Portuguese: "Qual idioma você prefere?", bot.Spanish: "¿Qué idioma prefieres?"}
	saysLangSet   = phrases{bot.English: "English it is", bot.Portuguese: "vamos falar em português", bot.Spanish: "seguimos en español"}
	saysHelp      = phrases{bot.English: "I understand these words at any time", bot.Portuguese: "Eu entendo estas palavras a qualquer momento", bot.Spanish: "Entiendo estas palabras en cualquier momento"}
	saysBye       = phrases{bot.English: "Write to me any time you want to move your number", bot.Portuguese: "Me escreva quando quiser mover o seu número", bot.Spanish: "Escríbeme cuando quieras mover tu número"}
	saysByePort   = phrases{bot.English: "your port stays where it is", bot.Portuguese: "a sua portabilidade fica onde está", bot.Spanish: "tu portabilidad queda donde está"}
	saysAbout     = phrases{bot.English: "I'm portabot, an automated assistant", bot.Portuguese: "Eu sou o portabot, um assistente automático", bot.Spanish: "Soy portabot, un asistente automático"}
	saysThanks    = phrases{bot.English: "You're welcome!", bot.Portuguese: "Por nada!", bot.Spanish: "¡De nada!"}
	saysNoPort    = phrases{bot.English: "This port was cancelled", bot.Portuguese: "Esta portabilidade foi cancelada", bot.Spanish: "Esta portabilidad fue cancelada"}
)

// globalWords are the words that work in every state, as each language
// types them.
var globalWords = map[bot.Lang]map[string]string{
	bot.English:    {"menu": "menu", "cancel": "cancel", "agent": "agent", "language": "language", "help": "help", "bye": "Bye!", "thanks": "thank you", "about": "Are you a bot?"},
	bot.Portuguese: {"menu": "Menu", "cancel": "cancelar", "agent": "atendente", "language": "idioma", "help": "ajuda", "bye": "tchau", "thanks": "Obrigada!", "about": "você é um robô?"},
	bot.Spanish:    {"menu": "menú", "cancel": "Cancelar", "agent": "agente", "language": "idioma", "help": "ayuda", "bye": "adiós", "thanks": "muchas gracias", "about": "¿Quién eres?"},
}

// nextLang is the language a test switches to from l.
func nextLang(l bot.Lang) bot.Lang {
	i := slices.Index(bot.Langs(), l)
	return bot.Langs()[(i+1)%len(bot.Langs())]
}

// portUnderWay reports whether a conversation at s has a port that can be
// cancelled or continued.
func portUnderWay(s fsm.State) bool {
	return s != fsm.Menu && s != fsm.Done && s != fsm.Cancelled
}

func TestGlobalWordsInEveryState(t *testing.T) {
	for _, st := range stable {
		for _, lang := range bot.Langs() {
			for _, kind := range []string{"menu", "cancel", "agent", "language", "help", "bye", "thanks", "about"} {
				word := globalWords[lang][kind]
				t.Run(fmt.Sprintf("%s/%s/%s", st, lang, word), func(t *testing.T) {
					t.Parallel()
					h := reach(t, st, lang)
					before := h.conv()
					r := h.send(word)
					if st == fsm.Handoff {
						// The client waits for a person: "menu" gives them
						// the bot back, "help" is told a person will answer,
						// and the rest goes to the agents without a word.
						switch kind {
						case "menu":
							h.wantState(fsm.Menu)
							says(t, r, saysMenu[lang])
						case "help":
							h.wantState(fsm.Handoff)
							says(t, r, saysWaiting[lang])
						default:
							if len(r) != 0 {
								t.Errorf("bot spoke during a handoff:\n%s", text(r))
							}
							h.wantState(fsm.Handoff)
						}
						return
					}
					switch kind {
					case "cancel":
						if !portUnderWay(st) {
							// Nothing to cancel: no state change to speak of, and never a
							// claim that a finished port was cancelled.
							h.wantState(fsm.Menu)
							says(t, r, saysMenu[lang])
							if st != fsm.Cancelled {
								lacks(t, r, saysNoPort[lang], saysCancelled[lang])
							}
							return
						}
						h.wantState(fsm.Cancelled)
						says(t, r, saysCancelled[lang])
						if c := h.kase(); c.State != fsm.Cancelled || c.Closed.IsZero() {
							t.Errorf("case state %s closed %v, want cancelled and closed", c.State, c.Closed)
						}
					case "agent":
						h.wantState(fsm.Handoff)
						c := h.kase()
						says(t, r, saysHandoff[lang], saysCaseNo[lang]+c.ID)
						if c.State != fsm.Handoff {
							t.Errorf("case state = %s, want handoff", c.State)
						}
						// From now on the bot only says a person will answer.
						if r := h.send(globalWords[lang]["thanks"]); len(r) != 0 {
							t.Errorf("bot spoke after the handoff:\n%s", text(r))
						}
						says(t, h.send(globalWords[lang]["help"]), saysWaiting[lang])
						h.wantState(fsm.Handoff)
					case "menu":
						h.wantState(fsm.Menu)
						says(t, r, saysMenu[lang])
						if !portUnderWay(st) {
							if slices.Contains(buttons(r), "continue") {
								t.Errorf("menu offers to continue a port that is over: %v", buttons(r))
							}
							return
						}
						if !slices.Contains(buttons(r), "continue") {
							t.Fatalf("menu does not offer to continue: %v", buttons(r))
						}
						r = h.tap("continue")
						h.wantState(st)
						if len(r) == 0 {
							t.Errorf("continue at %s got no reply", st)
						}
					case "language":
						h.wantState(st)
						says(t, r, saysWhichLang[lang])
						if got, want := buttons(r), []string{"lang:en", "lang:pt", "lang:es"}; !slices.Equal(got, want) {
							t.Fatalf("buttons = %v, want %v", got, want)
						}
						to := nextLang(lang)
						r = h.tap("lang:" + string(to))
						h.wantState(st)
						says(t, r, saysLangSet[to])
						if got := h.conv().Lang; got != to {
							t.Errorf("conversation language = %s, want %s", got, to)
						}
						r = h.send(globalWords[to]["help"])
						says(t, r, saysHelp[to])
						h.wantState(st)
					case "help":
						h.wantState(st)
						says(t, r, saysHelp[lang])
						if after := h.conv(); after.CaseID != before.CaseID || after.Back != before.Back {
							t.Errorf("help changed the conversation: case %q→%q back %q→%q",
								before.CaseID, after.CaseID, before.Back, after.Back)
						}
					case "bye", "thanks", "about":
						// A goodbye is not a cancel, and neither is an answer to the step.
						h.wantState(st)
						switch {
						case kind == "thanks":
							says(t, r, saysThanks[lang])
						case kind == "about":
							// Who the client talks to, and how to reach a person.
							says(t, r, saysAbout[lang], "*"+globalWords[lang]["agent"]+"*")
						case portUnderWay(st):
							says(t, r, saysByePort[lang], "*"+globalWords[lang]["cancel"]+"*")
						default:
							says(t, r, saysBye[lang])
						}
						lacks(t, r, saysCancelled[lang], saysNoPort[lang])
						after := h.conv()
						if after.CaseID != before.CaseID || after.Back != before.Back || after.Step != before.Step {
							t.Errorf("%s changed the conversation: case %q→%q back %q→%q step %q→%q", kind,
								before.CaseID, after.CaseID, before.Back, after.Back, before.Step, after.Step)
						}
						if before.CaseID != "" && h.kase().State != st && st != fsm.Menu {
							t.Errorf("%s moved the case to %s", kind, h.kase().State)
						}
					}
				})
			}
		}
	}
}

func TestPrerequisiteAnsweredNo(t *testing.T) {
	tests := []struct {
		check fsm.State
		want  bot.Check
		why   phrases // the explanation, in each language
	}{
		{fsm.CheckBMAccess, bot.CheckBM, phrases{
			bot.English:    "they cannot recover it, and neither can we directly",
			bot.Portuguese: "ele não consegue recuperar o acesso, e nós também não diretamente",
			bot.Spanish:    "no puede recuperarlo, y nosotros tampoco directamente",
		}},
		{fsm.Check2FA, bot.Check2FA, phrases{
			bot.English:    "ask them to turn it off.\n• If you have access to that WhatsApp account: WhatsApp Manager",
			bot.Portuguese: "peça a ele para desativar.\n• Se você tem acesso a essa conta do WhatsApp: Gerenciador do WhatsApp",
			bot.Spanish:    "pídele que la desactive.\n• Si tienes acceso a esa cuenta de WhatsApp: Administrador de WhatsApp",
		}},
		{fsm.CheckReception, bot.CheckReception, phrases{
			bot.English:    "by SMS or by an international voice call",
			bot.Portuguese: "por SMS ou por ligação internacional",
			bot.Spanish:    "por SMS o por llamada internacional",
		}},
		{fsm.CheckDisplayName, bot.CheckDisplayName, phrases{
			bot.English:    "Only your *current provider* can get it approved or changed",
			bot.Portuguese: "Só o seu *provedor atual* pode aprovar ou alterar o nome",
			bot.Spanish:    "Solo tu *proveedor actual* puede aprobarlo o cambiarlo",
		}},
	}
	no := map[bot.Lang]string{bot.English: "no", bot.Portuguese: "não", bot.Spanish: "no"}
	fixed := map[bot.Lang][]string{bot.English: {"done", "fixed"}, bot.Portuguese: {"pronto"}, bot.Spanish: {"listo"}}
	for _, tt := range tests {
		for _, lang := range bot.Langs() {
			for _, done := range fixed[lang] {
				t.Run(fmt.Sprintf("%s/%s/%s", tt.check, lang, done), func(t *testing.T) {
					t.Parallel()
					h := reach(t, tt.check, lang)
					question := text(h.last)
					r := h.send(no[lang])
					h.wantState(fsm.Blocked)
					says(t, r, tt.why[lang])
					if got := h.kase().Blocked; got != tt.want {
						t.Errorf("case blocked on %q, want %q", got, tt.want)
					}
					// Not yet: the bot waits.
					r = h.send(no[lang])
					h.wantState(fsm.Blocked)
					if len(r) == 0 {
						t.Error("no reply to a second no")
					}
					r = h.send(done)
					h.wantState(tt.check)
					if got := text(r); got != question {
						t.Errorf("resumed with\n%s\nwant the check's question again:\n%s", got, question)
					}
					if got := h.kase().Blocked; got != "" {
						t.Errorf("case still blocked on %q", got)
					}
				})
			}
		}
	}
}

// A client who leaves a block for the menu or a person comes back to the
// check that blocked, not to the block forever.
func TestBlockedResumesAtItsCheckAfterDetours(t *testing.T) {
	h := reach(t, fsm.CheckReception, bot.English)
	h.send("no")
	h.wantState(fsm.Blocked)
	h.send("menu")
	r := h.tap("continue")
	h.wantState(fsm.Blocked)
	says(t, r, "international voice call")
	h.send("menu")
	h.tap("continue")
	h.send("done")
	h.wantState(fsm.CheckReception)
	h.send("yes")
	h.wantState(fsm.CheckDisplayName)
}

func TestPhoneInput(t *testing.T) {
	for _, in := range []string{"+55 11 98765-4321", "5511987654321", "(11) 98765-4321", "+55 (11) 98765 4321",
		"my number is +55 11 98765-4321", "it's (11) 98765-4321, thanks"} {
		t.Run("accepts "+in, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AskPhone, bot.English)
			r := h.send(in)
			h.wantState(fsm.AskPhone)
			says(t, r, "Got it: +5511987654321", "Brazilian mobile", "*exactly*", "Optional: do you know the ID")
			c := h.kase()
			if c.Phone != "+5511987654321" || c.CC != "55" || c.National != "11987654321" {
				t.Errorf("case phone %q cc %q national %q, want +5511987654321 55 11987654321", c.Phone, c.CC, c.National)
			}
		})
	}
	for _, in := range []string{"12345", "+55 11 1234", "+999 1234567", "11 9876", "000"} {
		t.Run("refuses "+in, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AskPhone, bot.English)
			r := h.send(in)
			h.wantState(fsm.AskPhone)
			says(t, r, "with the country code, e.g. +55 11 98765-4321")
			if c := h.kase(); c.Phone != "" {
				t.Errorf("case phone = %q, want none", c.Phone)
			}
			// The next, valid number is taken.
			h.send(typed)
			if c := h.kase(); c.Phone != phone {
				t.Errorf("case phone = %q, want %s", c.Phone, phone)
			}
		})
	}
	t.Run("foreign number without country code", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPhone, bot.English)
		r := h.send("415 555 0100")
		h.wantState(fsm.AskPhone)
		says(t, r, "type it with *+* and the country code")
		lacks(t, r, "Brazilian mobile")
		// Typed again with its country code, it is a US number.
		r = h.send("+1 415 555 0100")
		says(t, r, "Got it: +14155550100")
		lacks(t, r, "Brazilian mobile")
		if c := h.kase(); c.Phone != "+14155550100" || c.CC != "1" || c.National != "4155550100" {
			t.Errorf("case phone %q cc %q national %q, want +14155550100 1 4155550100", c.Phone, c.CC, c.National)
		}
	})
	t.Run("a question with a number in it", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPhone, bot.English)
		h.send("can +55 11 98765-4321 be ported if it is on the Cloud API?")
		h.wantState(fsm.AskPhone)
		if c := h.kase(); c.Phone != "" {
			t.Errorf("case phone = %q from a question, want none", c.Phone)
		}
	})
	t.Run("corrected at the account step", func(t *testing.T) {
		// The Brazilian warning invites the number again as the profile
		// shows it: said in a sentence, it still replaces the first.
		t.Parallel()
		h := reach(t, fsm.AskPhone, bot.English)
		h.send(typed)
		r := h.send("sorry, the profile shows +55 11 97654-3210")
		says(t, r, "Got it: +5511976543210")
		if c := h.kase(); c.Phone != "+5511976543210" {
			t.Errorf("case phone = %q, want the corrected +5511976543210", c.Phone)
		}
		h.send("WABA id: " + metasim.SandboxSourceWABA)
		if c := h.kase(); c.SourceWABA != metasim.SandboxSourceWABA {
			t.Errorf("source WABA = %q, want %s", c.SourceWABA, metasim.SandboxSourceWABA)
		}
	})
	t.Run("region", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, options{region: "US"})
		h.driveTo(fsm.AskPhone)
		h.send("(415) 555-0100")
		if c := h.kase(); c.Phone != "+14155550100" {
			t.Errorf("case phone = %q, want +14155550100 read in the US", c.Phone)
		}
	})
}

func TestCodeInput(t *testing.T) {
	for _, in := range []string{otp, "246-810", "246 810", " 246.810 ", "the code is " + otp, "Código: 246 810"} {
		t.Run("accepts "+in, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AwaitCode, bot.English)
			r := h.send(in)
			h.wantState(fsm.AskPin)
			says(t, r, "Code confirmed")
			if got := h.calls(metasim.EndpointVerifyCode); got != 1 {
				t.Errorf("verify_code called %d times, want 1", got)
			}
		})
	}
	for _, in := range []string{"24681O", "abc246810", "2468l0", "my old code was " + otp, otp + " or 135790"} {
		t.Run("letters "+in, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AwaitCode, bot.English)
			r := h.send(in)
			h.wantState(fsm.AwaitCode)
			says(t, r, "The code has only digits")
			if got := h.calls(metasim.EndpointVerifyCode); got != 0 {
				t.Errorf("verify_code called %d times, want 0", got)
			}
		})
	}
	for _, in := range []string{"24681", "2468100"} {
		t.Run("length "+in, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AwaitCode, bot.English)
			r := h.send(in)
			h.wantState(fsm.AwaitCode)
			says(t, r, "exactly 6 digits")
			if got := h.calls(metasim.EndpointVerifyCode); got != 0 {
				t.Errorf("verify_code called %d times, want 0", got)
			}
		})
	}
	t.Run("three wrong codes", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AwaitCode, bot.English)
		r := h.send("111111")
		h.wantState(fsm.AwaitCode)
		says(t, r, "That code didn't work", "2 attempts left")
		r = h.send("222222")
		says(t, r, "1 attempt left")
		r = h.send("333333")
		h.wantState(fsm.Handoff)
		c := h.kase()
		says(t, r, "didn't work three times", "Your case number is #"+c.ID)
		if c.WrongCodes != 3 || !strings.Contains(c.Problem, "3 times") {
			t.Errorf("case wrong codes %d problem %q", c.WrongCodes, c.Problem)
		}
		if r := h.send(otp); len(r) != 0 {
			t.Errorf("bot spoke during the handoff:\n%s", text(r))
		}
		if got := h.calls(metasim.EndpointVerifyCode); got != 3 {
			t.Errorf("verify_code called %d times, want 3", got)
		}
	})
	t.Run("a right code after a wrong one", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AwaitCode, bot.English)
		h.send("111111")
		h.send(otp)
		h.wantState(fsm.AskPin)
		if c := h.kase(); c.WrongCodes != 0 {
			t.Errorf("wrong codes = %d after a right one, want 0", c.WrongCodes)
		}
	})
}

func TestResendCooldown(t *testing.T) {
	h := reach(t, fsm.AwaitCode, bot.English)
	h.clock.advance(20 * time.Second)
	r := h.send("resend")
	h.wantState(fsm.AwaitCode)
	says(t, r, "You can ask for a new one in 40 seconds")
	r = h.tap("voice")
	says(t, r, "in 40 seconds")
	if got := h.calls(metasim.EndpointRequestCode); got != 1 {
		t.Fatalf("request_code called %d times within the cool-down, want 1", got)
	}

	h.clock.advance(41 * time.Second)
	r = h.send("resend")
	h.wantState(fsm.AwaitCode)
	says(t, r, "An SMS is on its way")
	// Right after, the cool-down starts again.
	r = h.send("voice")
	says(t, r, "in 60 seconds")

	h.clock.advance(time.Minute)
	r = h.tap("voice")
	h.wantState(fsm.AwaitCode)
	says(t, r, "will get a voice call with the code")
	if got := h.calls(metasim.EndpointRequestCode); got != 3 {
		t.Errorf("request_code called %d times, want 3", got)
	}
	want := []codeDelivery{{phone, "SMS", otp}, {phone, "SMS", otp}, {phone, "VOICE", otp}}
	if got := h.sent(); !slices.Equal(got, want) {
		t.Errorf("codes sent = %v, want %v", got, want)
	}
	if c := h.kase(); c.Method != "VOICE" || c.CodeRequests != 3 {
		t.Errorf("case method %q code requests %d, want VOICE and 3", c.Method, c.CodeRequests)
	}
	// The voice code works like the SMS one.
	h.send(otp)
	h.wantState(fsm.AskPin)
}

func TestPIN(t *testing.T) {
	for _, weak := range []string{"000000", "123456", "111111", "654321", "121212", "123123", "890123"} {
		t.Run("weak "+weak, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AskPin, bot.English)
			r := h.send(weak)
			h.wantState(fsm.AskPin)
			says(t, r, "too easy to guess")
			if c := h.conv(); c.PinHash != "" {
				t.Error("a weak PIN was kept for confirmation")
			}
			// The next, good PIN is asked to be confirmed.
			r = h.send(pin)
			says(t, r, "Type the same PIN again")
		})
	}
	for _, bad := range []string{"12345", "1234567", "12a456"} {
		t.Run("format "+bad, func(t *testing.T) {
			t.Parallel()
			h := reach(t, fsm.AskPin, bot.English)
			r := h.send(bad)
			h.wantState(fsm.AskPin)
			says(t, r, "exactly 6 digits")
		})
	}
	t.Run("in a sentence", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPin, bot.English)
		r := h.send("my new PIN is " + pin)
		says(t, r, "Type the same PIN again")
		h.send("PIN: " + pin[:3] + " " + pin[3:])
		h.wantState(fsm.Done)
	})
	t.Run("mismatch starts over", func(t *testing.T) {
		t.Parallel()
		h := reach(t, fsm.AskPin, bot.English)
		h.send(pin)
		r := h.send("472914")
		h.wantState(fsm.AskPin)
		says(t, r, "don't match", "type your new 6-digit PIN")
		if c := h.conv(); c.PinHash != "" {
			t.Error("the first PIN's hash outlived the mismatch")
		}
		// The first PIN alone no longer registers: it is asked again.
		r = h.send(pin)
		says(t, r, "Type the same PIN again")
		if got := h.calls(metasim.EndpointRegister); got != 0 {
			t.Fatalf("register called %d times before a confirmed PIN", got)
		}
		r = h.send(pin)
		h.wantState(fsm.Done)
		says(t, r, "Registered!")
		if got := h.calls(metasim.EndpointRegister); got != 1 {
			t.Errorf("register called %d times, want 1", got)
		}
		if c := h.kase(); c.RegisterCalls != 1 {
			t.Errorf("case counts %d register calls, want 1", c.RegisterCalls)
		}
	})
}

// sameCase fails the test if anything the client gave so far was lost.
func sameCase(t *testing.T, before, after bot.Case) {
	t.Helper()
	if after.State != before.State || after.Phone != before.Phone || after.PhoneNumberID != before.PhoneNumberID ||
		!slices.Equal(after.Confirmed, before.Confirmed) || after.Method != before.Method ||
		after.CodeRequests != before.CodeRequests || after.RegisterCalls != before.RegisterCalls {
		t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestBadInputKeepsThePlace(t *testing.T) {
	long := strings.Repeat("I have a question about my number. ", 143) // 5,005 characters
	inputs := []struct {
		name string
		in   bot.Inbound
		want string // a phrase of the reply, "" for any helpful reply
	}{
		{"empty", bot.Inbound{Text: ""}, "I didn't get any text"},
		{"blank", bot.Inbound{Text: "   \n "}, "I didn't get any text"},
		{"emoji", bot.Inbound{Text: "🙂🙂🎉"}, ""},
		{"5,000 characters", bot.Inbound{Text: long}, "I read only its first part"},
		{"image", bot.Inbound{Unsupported: "image"}, "I can read text and buttons only"},
		{"voice note", bot.Inbound{Unsupported: "audio"}, "I can read text and buttons only"},
		{"stale button", bot.Inbound{Text: "Skip", Choice: "skip"}, "That button is from an earlier step"},
		{"unknown button", bot.Inbound{Text: "Old option", Choice: "no-such-button"}, "That button is from an earlier step"},
		{"unknown words", bot.Inbound{Text: "blorp zzz"}, ""},
	}
	// What each state asks, so the reply can be seen to ask it again.
	asks := map[fsm.State]string{
		fsm.Check2FA:     "Check 2/4",
		fsm.AskPhone:     "country code",
		fsm.ChooseMethod: "",
		fsm.AwaitCode:    "code",
		fsm.AskPin:       "PIN",
	}
	for st, ask := range asks {
		for _, tt := range inputs {
			t.Run(fmt.Sprintf("%s/%s", st, tt.name), func(t *testing.T) {
				t.Parallel()
				h := reach(t, st, bot.English)
				before, beforeConv := h.kase(), h.conv()
				r := h.deliver(tt.in)
				h.wantState(st)
				if len(r) == 0 || strings.TrimSpace(text(r)) == "" {
					t.Fatal("no reply")
				}
				if tt.want != "" {
					says(t, r, tt.want)
				}
				if tt.want != "I read only its first part" && ask != "" && tt.name != "unknown words" && tt.name != "emoji" {
					says(t, r, ask)
				}
				sameCase(t, before, h.kase())
				if c := h.conv(); c.Step != beforeConv.Step || c.Back != beforeConv.Back || c.Lang != beforeConv.Lang {
					t.Errorf("conversation changed: %+v → %+v", beforeConv, c)
				}
				// The step still works.
				switch st {
				case fsm.Check2FA:
					h.tap("yes")
					h.wantState(fsm.CheckReception)
				case fsm.AskPhone:
					h.send(typed)
					h.send("skip")
					h.wantState(fsm.ChooseMethod)
				case fsm.ChooseMethod:
					h.tap("sms")
					h.wantState(fsm.AwaitCode)
				case fsm.AwaitCode:
					h.send(otp)
					h.wantState(fsm.AskPin)
				case fsm.AskPin:
					h.send(pin)
					h.send(pin)
					h.wantState(fsm.Done)
				}
			})
		}
	}
}

func TestYesInAnyLanguageAtTheChecks(t *testing.T) {
	h := reach(t, fsm.CheckBMAccess, bot.English)
	for _, step := range []struct {
		yes  string
		want fsm.State
	}{
		{"sim", fsm.Check2FA},
		{"Sí", fsm.CheckReception},
		{"Yes!", fsm.CheckDisplayName},
		{"👍", fsm.AskPhone},
	} {
		h.send(step.yes)
		h.wantState(step.want)
	}
	// The conversation stays in the language the client started in.
	says(t, h.last, "Which number do you want to move?")
}

func TestQuestionMidFlowKeepsThePlace(t *testing.T) {
	questions := map[bot.Lang][]string{
		bot.English:    {"how long does it take?", "what is kept after the port?", "I never got the code"},
		bot.Portuguese: {"quanto tempo demora?", "o que é mantido?"},
		bot.Spanish:    {"¿cuánto tarda?", "¿qué se mantiene?"},
	}
	back := phrases{bot.English: "Back to where we were", bot.Portuguese: "Voltando para onde estávamos", bot.Spanish: "Volvamos a donde estábamos"}
	codePrompt := phrases{bot.English: "Type the 6-digit code", bot.Portuguese: "Digite o código de 6 dígitos", bot.Spanish: "Escribe el código de 6 dígitos"}
	for _, lang := range bot.Langs() {
		t.Run(string(lang), func(t *testing.T) {
			t.Parallel()
			// A question the knowledge base answers, so the test does not
			// hang on the matcher's tuning.
			var q string
			var res faq.Result
			for _, c := range questions[lang] {
				if res = faq.Default().Ask(c, string(lang)); res.Intent != "" && res.Intent != faq.None {
					q = c
					break
				}
			}
			if q == "" {
				t.Skipf("the FAQ answers none of %q", questions[lang])
			}
			h := reach(t, fsm.AwaitCode, lang)
			r := h.send(q)
			h.wantState(fsm.AwaitCode)
			says(t, r, res.Answer, back[lang], codePrompt[lang])
			if got := h.calls(metasim.EndpointVerifyCode); got != 0 {
				t.Errorf("a question was sent to Meta as a code (%d verify calls)", got)
			}
			h.send(otp)
			h.wantState(fsm.AskPin)
		})
	}
}

// Without a configured destination WABA the client waits until an agent
// sets one, then the port goes on with their next message.
func TestAwaitWABA(t *testing.T) {
	h := reach(t, fsm.AwaitWABA, bot.English)
	says(t, h.last, "finishing the set-up of your new WhatsApp Business Account")
	r := h.send("is it ready?")
	h.wantState(fsm.AwaitWABA)
	if len(r) == 0 {
		t.Error("no reply while waiting for the WABA")
	}
	if got := h.calls(metasim.EndpointAddNumber); got != 0 {
		t.Fatalf("number added %d times without a WABA", got)
	}
	if err := h.db.SetWABA(t.Context(), h.kase().ID, metasim.SandboxWABA, "U123"); err != nil {
		t.Fatal(err)
	}
	r = h.send("ok")
	h.wantState(fsm.ChooseMethod)
	says(t, r, "How should it arrive?")
	h.tap("sms")
	h.send(otp)
	h.send(pin)
	h.send(pin)
	h.wantState(fsm.Done)
	if got := h.calls(metasim.EndpointTemplates); got != 1 {
		t.Errorf("templates copied %d times into %s, want 1", got, metasim.SandboxWABA)
	}
}

// A client can name a language at any step, in any language.
func TestLanguageByName(t *testing.T) {
	h := reach(t, fsm.AwaitCode, bot.English)
	r := h.send("Português")
	h.wantState(fsm.AwaitCode)
	says(t, r, saysLangSet[bot.Portuguese], "Digite o código de 6 dígitos")
	r = h.send("espanhol")
	says(t, r, saysLangSet[bot.Spanish], "Escribe el código de 6 dígitos")
	if c := h.kase(); c.Lang != bot.Spanish {
		t.Errorf("case language = %s, want es", c.Lang)
	}
	// A chosen language sticks, whatever the next message is written in.
	r = h.send("help")
	h.wantState(fsm.AwaitCode)
	says(t, r, saysHelp[bot.Spanish])
	h.send(otp)
	says(t, h.last, "El número está verificado")
}

// A client who says they want to port, in their own words, is taken to the
// checks: as a first message, from the menu and after a finished port. A
// question about porting is answered instead, and starts nothing.
func TestPortAskedInOwnWords(t *testing.T) {
	asks := map[bot.Lang]string{
		bot.English:    "Hi, I'd like to move our WhatsApp number to you",
		bot.Portuguese: "quero portar meu número",
		bot.Spanish:    "Quisiera migrar nuestro número",
	}
	checkBM := phrases{bot.English: "Do you have *admin* access", bot.Portuguese: "Você tem acesso de *administrador*", bot.Spanish: "¿Tienes acceso de *administrador*"}
	for _, lang := range bot.Langs() {
		t.Run(string(lang), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, optionsFor(fsm.CheckBMAccess, lang))
			r := h.send(asks[lang])
			h.wantState(fsm.CheckBMAccess)
			says(t, r, checkBM[lang])
			if h.kase().ID == "" {
				t.Fatal("no case opened")
			}
		})
	}
	t.Run("from the menu", func(t *testing.T) {
		h := reach(t, fsm.Menu, bot.English)
		r := h.send("how do I port my number to you")
		h.wantState(fsm.Menu)
		lacks(t, r, checkBM[bot.English])
		if id := h.conv().CaseID; id != "" {
			t.Fatalf("a question opened case %s", id)
		}
		// "ok" after the answer asks what comes next.
		r = h.send("ok")
		h.wantState(fsm.Menu)
		says(t, r, saysMenu[bot.English])
		r = h.send("port my number please")
		h.wantState(fsm.CheckBMAccess)
		says(t, r, checkBM[bot.English])
	})
	t.Run("let's go", func(t *testing.T) {
		h := reach(t, fsm.Menu, bot.Portuguese)
		r := h.send("bora")
		h.wantState(fsm.CheckBMAccess)
		says(t, r, checkBM[bot.Portuguese])
	})
	t.Run("after a finished port", func(t *testing.T) {
		h := reach(t, fsm.Done, bot.English)
		first := h.kase().ID
		h.send("I want to migrate another number")
		h.wantState(fsm.CheckBMAccess)
		if id := h.kase().ID; id == first || id == "" {
			t.Fatalf("case %q after a finished %q, want a new one", id, first)
		}
	})
	t.Run("mid-port it changes nothing", func(t *testing.T) {
		h := reach(t, fsm.Check2FA, bot.English)
		h.send("I want to port my number")
		h.wantState(fsm.Check2FA)
	})
}

// At the checks, clients answer in sentences: a clear yes or no that
// opens one counts, a doubtful one is asked again.
func TestChecksAnsweredInSentences(t *testing.T) {
	h := reach(t, fsm.CheckBMAccess, bot.English)
	h.send("yes but the agency has it")
	h.wantState(fsm.CheckBMAccess)
	h.send("yes, I'm the admin")
	h.wantState(fsm.Check2FA)
	h.send("no, my old BSP still has it on")
	h.wantState(fsm.Blocked)
	if c := h.kase(); c.Blocked != bot.Check2FA {
		t.Errorf("blocked on %q, want %q", c.Blocked, bot.Check2FA)
	}
	// Saying the check now holds answers it: it is not asked again.
	h.send("done, they turned it off")
	h.wantState(fsm.CheckReception)
	if c := h.kase(); c.Blocked != "" {
		t.Errorf("still blocked on %q", c.Blocked)
	}
	h.send("no, it can't receive sms or calls")
	h.wantState(fsm.Blocked)
	h.send("done")
	h.wantState(fsm.CheckReception)
	h.send("sim, recebe sms")
	h.wantState(fsm.CheckDisplayName)
}

// The way the code should come, and a request for another one, said in a
// sentence.
func TestCodeMethodInSentences(t *testing.T) {
	h := reach(t, fsm.ChooseMethod, bot.Portuguese)
	h.send("não sei, sms ou ligação?")
	h.wantState(fsm.ChooseMethod)
	if got := h.calls(metasim.EndpointRequestCode); got != 0 {
		t.Fatalf("a question requested %d codes", got)
	}
	h.send("pode ser por ligação")
	h.wantState(fsm.AwaitCode)
	if c := h.kase(); c.Method != "VOICE" {
		t.Errorf("method = %q, want VOICE", c.Method)
	}

	h.clock.advance(time.Minute)
	r := h.send("manda por sms, por favor")
	h.wantState(fsm.AwaitCode)
	says(t, r, "Um SMS está a caminho")
	h.clock.advance(time.Minute)
	r = h.send("manda de novo, por favor")
	says(t, r, "Um SMS está a caminho")
	if got := h.calls(metasim.EndpointRequestCode); got != 3 {
		t.Errorf("request_code called %d times, want 3", got)
	}
	// A complaint is not a request: the FAQ answers it.
	h.clock.advance(time.Minute)
	h.send("não recebi a mensagem")
	if got := h.calls(metasim.EndpointRequestCode); got != 3 {
		t.Errorf("request_code called %d times after a complaint, want 3", got)
	}
	h.send(otp)
	h.wantState(fsm.AskPin)
}

// Until a client chooses a language, the bot follows the one they write
// sentences in; a word or two does not move it, and a choice sticks.
func TestLanguageFollowsTheClient(t *testing.T) {
	h := newHarness(t, optionsFor(fsm.Menu, bot.English))
	r := h.send("hi")
	says(t, r, saysMenu[bot.English])
	r = h.send("quero portar meu número")
	h.wantState(fsm.CheckBMAccess)
	says(t, r, "Você tem acesso de *administrador*")
	if c := h.kase(); c.Lang != bot.Portuguese {
		t.Errorf("case language = %s, want pt", c.Lang)
	}
	r = h.send("ok")
	says(t, r, "Verificação 2/4")
	r = h.send("is two-step verification the PIN?")
	says(t, r, "Back to where we were", "Check 2/4")

	r = h.send("português")
	says(t, r, saysLangSet[bot.Portuguese])
	r = h.send("what does my current provider need to do?")
	says(t, r, "Voltando para onde estávamos", "Verificação 2/4")
}
