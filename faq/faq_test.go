package faq

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAsk(t *testing.T) {
	tests := []struct {
		q, lang    string
		wantIntent string
		wantLang   string
	}{
		// The trade's vocabulary, in its many spellings.
		{"how to switch off 2-step verification?", "en", "disable_2fa", "en"},
		{"como tirar a autenticação de dois fatores do número", "pt", "disable_2fa", "pt"},
		{"quitar el doble factor del número", "es", "disable_2fa", "es"},
		{"no longer have access to Meta Business Suite", "en", "lost_bm_access", "en"},
		{"perdi acesso ao gerenciador de negócios", "pt", "lost_bm_access", "pt"},
		{"ya no tengo acceso al portafolio comercial", "es", "lost_bm_access", "es"},
		{"our number is on the On-Premises API, can it be ported?", "en", "cloud_api_eligibility", "en"},
		{"número na API de nuvem pode migrar?", "pt", "cloud_api_eligibility", "pt"},
		{"what happens to my HSM templates?", "en", "templates", "en"},
		{"e as minhas plantillas y modelos?", "pt", "templates", ""},
		{"¿qué pasa con mis plantillas aprobadas?", "es", "templates", "es"},
		{"what is a WABA", "en", "new_waba", "en"},
		{"¿por qué hace falta una cuenta de WhatsApp Business nueva?", "es", "new_waba", "es"},
		// Each intent, asked plainly.
		{"what is number portability exactly?", "en", "what_is_portability", "en"},
		{"quais são os requisitos da portabilidade?", "pt", "prerequisites", "pt"},
		{"what does my current provider need to do?", "en", "origin_bsp_role", "en"},
		{"qual o papel de vocês, o novo BSP?", "pt", "destination_bsp_role", "pt"},
		{"el nombre visible no está aprobado todavía", "es", "display_name_approval", "es"},
		{"do I keep the green badge and my messaging limit?", "en", "what_is_kept", "en"},
		{"will I lose my chat history?", "en", "what_is_kept", "en"},
		{"can the code come by voice call instead?", "en", "sms_or_voice", "en"},
		{"nosso número é telefone fixo, como recebemos o código?", "pt", "sms_or_voice", "pt"},
		{"will my WhatsApp be offline during the migration?", "en", "downtime", "en"},
		{"quanto tempo demora tudo?", "pt", "duration", "pt"},
		{"¿cuánto tarda la portabilidad?", "es", "duration", "es"},
		{"I still haven't received the code", "en", "otp_not_received", "en"},
		{"o código não chegou ainda", "pt", "otp_not_received", "pt"},
		{"who bills the messages after the migration?", "en", "billing", "en"},
		{"what is the new PIN for?", "en", "pin", "en"},
		{"esqueci o PIN de 6 dígitos", "pt", "pin", "pt"},
		// Typing as clients do.
		{"how long dose the migraton take", "en", "duration", "en"},
		{"WHAT IS PORTABILITY???", "en", "what_is_portability", "en"},
		{"desativar verificaçao em duas etapa", "pt", "disable_2fa", "pt"},
		{"perdiii o acesso ao BM", "pt", "lost_bm_access", "pt"},
		// "De origem" names the origin BSP, not just a BSP.
		{"o que faz o bsp de origem na portabilidade", "pt", "origin_bsp_role", "pt"},
		// A word of one language that is a stem in another: English "quit"
		// is not Spanish "quitar" (remove).
		{"our admin quit", "en", "lost_bm_access", "en"},
		{"the BM owner resigned", "en", "lost_bm_access", "en"},
		// Near misses and small talk.
		{"how do I reset my Instagram password", "en", None, "en"},
		{"how do I port my mobile number to another carrier", "en", None, "en"},
		{"quanto custa o plano do meu celular", "pt", None, "pt"},
		{"what's the weather tomorrow?", "en", None, "en"},
		{"cuéntame un chiste", "es", None, "es"},
		{"", "en", None, "en"},
		{"?!?! 😀", "pt", None, "pt"},
	}
	m := Default()
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res := m.Ask(tt.q, tt.lang)
			if res.Intent != tt.wantIntent {
				t.Errorf("Ask(%q).Intent = %q (score %.2f), want %q\n%s", tt.q, res.Intent, res.Score, tt.wantIntent, m.explain(tt.q, tt.lang))
			}
			if tt.wantLang != "" && res.Lang != tt.wantLang {
				t.Errorf("Ask(%q).Lang = %q, want %q", tt.q, res.Lang, tt.wantLang)
			}
			if res.Intent == None && res.Answer != "" {
				t.Errorf("Ask(%q) answered %q with intent none", tt.q, res.Answer)
			}
			if res.Intent != None {
				want, _ := m.Answer(res.Intent, res.Lang)
				if res.Answer != want {
					t.Errorf("Ask(%q).Answer is not the %s answer of %s", tt.q, res.Lang, res.Intent)
				}
			}
		})
	}
}

func TestAskClosest(t *testing.T) {
	m := Default()
	for _, q := range []string{"o código não chegou", "how long does it take", "tell me a joke", "", "BM 2FA WABA"} {
		res := m.Ask(q, "pt")
		if len(res.Closest) != 3 {
			t.Errorf("Ask(%q).Closest has %d topics, want 3", q, len(res.Closest))
		}
		if res.Intent != None && res.Closest[0].Intent != res.Intent {
			t.Errorf("Ask(%q).Closest[0] = %q, want the matched intent %q", q, res.Closest[0].Intent, res.Intent)
		}
		seen := make(map[string]bool)
		for _, c := range res.Closest {
			want, ok := m.Topic(c.Intent, res.Lang)
			if !ok || c != want {
				t.Errorf("Ask(%q).Closest has %+v, want %+v (titled in %s)", q, c, want, res.Lang)
			}
			if seen[c.Intent] {
				t.Errorf("Ask(%q).Closest repeats %q", q, c.Intent)
			}
			seen[c.Intent] = true
		}
	}
	// A refused question that still touches topics offers those topics.
	res := m.Ask("verification and PIN and templates and billing and BM", "en")
	if res.Intent != None || res.Closest[0].Intent == "what_is_portability" {
		t.Logf("Ask(mixed) = %+v", res)
	}
}

func TestAskLanguage(t *testing.T) {
	m := Default()
	tests := []struct {
		q, lang, want string
	}{
		{"o que acontece com meus templates?", "en", "pt"},
		{"¿qué pasa con mis plantillas?", "pt", "es"},
		{"what happens to my templates?", "es", "en"},
		{"2FA?", "es", "es"},            // too little to tell: the caller's
		{"WABA", "pt-BR", "pt"},         // region subtags are ignored
		{"PIN", "fr", "en"},             // unknown languages get English
		{"templates???", "", "en"},      // and so does none at all
		{"verificação 2FA", "en", "pt"}, // spelling gives it away
		{"¿2FA?", "en", "es"},           // so does punctuation
		{"el 2FA sigue activo", "pt", "es"},
	}
	for _, tt := range tests {
		res := m.Ask(tt.q, tt.lang)
		if res.Lang != tt.want {
			t.Errorf("Ask(%q, %q).Lang = %q, want %q", tt.q, tt.lang, res.Lang, tt.want)
		}
		for _, c := range res.Closest {
			want, _ := m.Topic(c.Intent, tt.want)
			if c.Title != want.Title {
				t.Errorf("Ask(%q, %q): topic %q titled %q, want %q", tt.q, tt.lang, c.Intent, c.Title, want.Title)
			}
		}
	}
}

func TestDetectLang(t *testing.T) {
	tests := []struct {
		text, want string
		ok         bool
	}{
		{"How long does the migration take?", "en", true},
		{"Quanto tempo demora a migração?", "pt", true},
		{"¿Cuánto tarda la migración?", "es", true},
		{"nao recebi o codigo", "pt", true},
		{"no me llego el codigo", "es", true},
		{"i didnt get the code", "en", true},
		{"WABA", "", false},
		{"2FA PIN BM", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := DetectLang(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DetectLang(%q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// The knowledge base's examples are questions of known language: detection
// must get nearly all of them and be wrong on almost none.
func TestDetectLangOnExamples(t *testing.T) {
	var right, wrong, unclear int
	for _, e := range embeddedEntries(t) {
		for _, l := range langNames {
			for _, q := range e.Examples[l] {
				switch got, ok := DetectLang(q); {
				case !ok:
					unclear++
				case got == l:
					right++
				default:
					wrong++
					t.Logf("DetectLang(%q) = %s, want %s", q, got, l)
				}
			}
		}
	}
	total := right + wrong + unclear
	if wrong > total/100 || right < total*95/100 {
		t.Errorf("DetectLang on %d examples: %d right, %d wrong, %d unclear", total, right, wrong, unclear)
	}
}

func TestAnswerAndTopic(t *testing.T) {
	m := Default()
	if _, ok := m.Answer("no_such_intent", "en"); ok {
		t.Error("Answer(unknown intent) reported ok")
	}
	if _, ok := m.Topic(None, "en"); ok {
		t.Error("Topic(none) reported ok")
	}
	en, _ := m.Answer("pin", "en")
	pt, _ := m.Answer("pin", "pt")
	for _, lang := range []string{"pt", "PT", "pt-BR", "pt_BR"} {
		if got, _ := m.Answer("pin", lang); got != pt {
			t.Errorf("Answer(pin, %q) is not the Portuguese answer", lang)
		}
	}
	for _, lang := range []string{"", "fr", "english"} {
		if got, _ := m.Answer("pin", lang); got != en {
			t.Errorf("Answer(pin, %q) is not the English answer", lang)
		}
	}
	langs := Languages()
	langs[0] = "xx"
	if diff := cmp.Diff([]string{"en", "pt", "es"}, Languages()); diff != "" {
		t.Errorf("Languages() changed by a caller (-want +got):\n%s", diff)
	}
	top, ok := m.Topic("disable_2fa", "es")
	if diff := cmp.Diff(Topic{Intent: "disable_2fa", Title: "Desactivar 2FA"}, top); !ok || diff != "" {
		t.Errorf("Topic(disable_2fa, es) mismatch (-want +got):\n%s", diff)
	}
}

// Ask is used by many conversations at once: it must give each the same
// answer it gives alone (run with -race).
func TestAskConcurrent(t *testing.T) {
	m := Default()
	cases := evalQuestions(t)
	want := make([]Result, len(cases))
	for i, c := range cases {
		want[i] = m.Ask(c.Q, "en")
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(cases))
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(cases); i += 2 {
				if got := m.Ask(cases[i].Q, "en"); !cmp.Equal(got, want[i]) {
					errs <- fmt.Sprintf("Ask(%q) differs when concurrent", cases[i].Q)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A pasted document is not a question, but must not stall a worker.
func TestAskLongInput(t *testing.T) {
	m := Default()
	long := strings.Repeat("portabilidade verificação xyzzyplugh instagrammm ", 20000)
	start := time.Now()
	res := m.Ask(long, "pt")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Ask(1 MB) took %v", d)
	}
	if res.Intent == "" || res.Lang == "" {
		t.Errorf("Ask(1 MB) = %+v", res)
	}
}

// A message with two questions is answered for the first the matcher is
// sure of, and names the other, in the message's language.
func TestTwoQuestions(t *testing.T) {
	tests := []struct {
		q, want, also string
	}{
		{"quanto tempo demora? e perco as conversas?", "duration", "what_is_kept"},
		{"cuanto tarda? y se cobra algo?", "duration", "billing"},
		{"how long does it take and do we keep the green badge", "duration", "what_is_kept"},
		{"do i need to turn off 2fa. also what is the new pin for", "disable_2fa", "pin"},
	}
	for _, tt := range tests {
		res := Default().Ask(tt.q, "en")
		if res.Intent != tt.want {
			t.Errorf("Ask(%q).Intent = %q, want %q", tt.q, res.Intent, tt.want)
			continue
		}
		if len(res.Also) != 1 || res.Also[0].Intent != tt.also {
			t.Errorf("Ask(%q).Also = %v, want %s", tt.q, res.Also, tt.also)
		}
		if want, _ := Default().Answer(tt.want, res.Lang); res.Answer != want {
			t.Errorf("Ask(%q) answered in %s a text that is not that language's answer", tt.q, res.Lang)
		}
	}
	if res := Default().Ask("what is the weather and who won the game", "en"); res.Intent != None {
		t.Errorf("two off-topic questions answered %s", res.Intent)
	}
}

// "The code doesn't come" is about a code that is missing; "how does the
// code come" about the ways it can be sent.
func TestMissingCode(t *testing.T) {
	for q, want := range map[string]string{
		"the code doesnt come":                 "otp_not_received",
		"o codigo nao chega":                   "otp_not_received",
		"no me llega el codigo":                "otp_not_received",
		"como chega o codigo, sms ou ligacao?": "sms_or_voice",
		"how does the code come, sms or call?": "sms_or_voice",
	} {
		if got := Default().Ask(q, "en").Intent; got != want {
			t.Errorf("Ask(%q) = %s, want %s", q, got, want)
		}
	}
}
