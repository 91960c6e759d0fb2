package faq

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The intents other packages rely on, in the embedded file's order.
var wantIntents = []string{
	"what_is_portability", "prerequisites", "origin_bsp_role", "destination_bsp_role",
	"disable_2fa", "business_manager", "lost_bm_access", "cloud_api_eligibility", "display_name_approval",
	"what_is_kept", "templates", "sms_or_voice", "downtime", "duration",
	"otp_not_received", "new_waba", "billing", "pin",
}

// maxWhatsAppAnswer keeps answers short enough to read on a phone.
const maxWhatsAppAnswer = 900

func embeddedEntries(tb testing.TB) []Entry {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(kbJSON))
	dec.DisallowUnknownFields()
	var f kbFile
	if err := dec.Decode(&f); err != nil {
		tb.Fatal(err)
	}
	return f.Intents
}

func TestEmbeddedKnowledgeBaseValidates(t *testing.T) {
	m, err := Load(bytes.NewReader(kbJSON))
	if err != nil {
		t.Fatalf("Load(kb.json): %v", err)
	}
	if diff := cmp.Diff(wantIntents, m.Intents()); diff != "" {
		t.Errorf("Intents() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIntents, Intents()); diff != "" {
		t.Errorf("package Intents() mismatch (-want +got):\n%s", diff)
	}
}

func TestAnswersFitWhatsApp(t *testing.T) {
	for _, e := range embeddedEntries(t) {
		for _, l := range langNames {
			if n := utf8.RuneCountInString(e.Answer[l]); n > maxWhatsAppAnswer {
				t.Errorf("%s/%s: answer has %d characters, want <= %d", e.ID, l, n, maxWhatsAppAnswer)
			}
			if n := utf8.RuneCountInString(e.Title[l]); n > MaxTitle {
				t.Errorf("%s/%s: title %q has %d characters, want <= %d", e.ID, l, e.Title[l], n, MaxTitle)
			}
			// WhatsApp shows markdown links, headings and double
			// asterisks as raw text.
			for _, mark := range []string{"**", "##", "]("} {
				if strings.Contains(e.Answer[l], mark) {
					t.Errorf("%s/%s: answer contains %q; answers are plain text", e.ID, l, mark)
				}
			}
			for _, p := range strings.Split(e.Answer[l], "\n\n") {
				if n := utf8.RuneCountInString(p); n > 450 {
					t.Errorf("%s/%s: a paragraph has %d characters; keep them short", e.ID, l, n)
				}
			}
			if len(e.Examples[l]) < 8 {
				t.Errorf("%s/%s: %d example questions, want at least 8", e.ID, l, len(e.Examples[l]))
			}
		}
	}
}

// Every language has its own text: no answer or title was left
// untranslated.
func TestAnswersDistinctPerLanguage(t *testing.T) {
	m := Default()
	for _, id := range m.Intents() {
		seen := make(map[string]string)
		for _, l := range langNames {
			a, ok := m.Answer(id, l)
			if !ok || strings.TrimSpace(a) == "" {
				t.Errorf("Answer(%q, %q) is empty", id, l)
				continue
			}
			if other, dup := seen[a]; dup {
				t.Errorf("%s: answer in %s is the same as in %s", id, l, other)
			}
			seen[a] = l
		}
	}
}

// The facts of portability-facts.md each live in an intent's answer, in
// every language. Each row lists, per language, fragments that must all
// appear (case-insensitively) in that intent's answer.
func TestKeyFacts(t *testing.T) {
	type facts map[string][]string
	tests := []struct {
		fact   string
		intent string
		want   facts
	}{
		{"the number stays the same", "what_is_portability", facts{
			"en": {"stays exactly the same", "Meta"}, "pt": {"continua exatamente o mesmo", "Meta"}, "es": {"sigue siendo exactamente el mismo", "Meta"}}},
		{"the origin keeps working until registration", "what_is_portability", facts{
			"en": {"until the number is registered"}, "pt": {"até o número ser registrado"}, "es": {"hasta que el número se registre"}}},
		{"admin access to the same Business Manager", "prerequisites", facts{
			"en": {"admin", "Business Manager"}, "pt": {"administrador", "Gerenciador de Negócios"}, "es": {"administrador", "Business Manager"}}},
		{"2FA off", "prerequisites", facts{
			"en": {"2FA", "turned off"}, "pt": {"2FA", "desativada"}, "es": {"2FA", "desactivada"}}},
		{"SMS or international voice call, landlines and IVR need voice", "prerequisites", facts{
			"en": {"SMS", "international voice call", "IVR"}, "pt": {"SMS", "ligação internacional", "URA"}, "es": {"SMS", "llamada de voz internacional", "IVR"}}},
		{"approved display name, no change pending", "prerequisites", facts{
			"en": {"display name is approved", "pending"}, "pt": {"nome de exibição está aprovado", "pendente"}, "es": {"nombre para mostrar está aprobado", "pendiente"}}},
		{"Brazil: the extra 9 digit as in the profile", "prerequisites", facts{
			"en": {"Brazil", "extra 9", "profile"}, "pt": {"Brasil", "9 a mais", "perfil"}, "es": {"Brasil", "9 adicional", "perfil"}}},
		{"origin turns off 2FA and supports display name approval", "origin_bsp_role", facts{
			"en": {"two-step verification", "display name"}, "pt": {"verificação em duas etapas", "nome de exibição"}, "es": {"verificación en dos pasos", "nombre para mostrar"}}},
		{"BSPs see the WABA, never the Business Manager", "origin_bsp_role", facts{
			"en": {"WABA, never"}, "pt": {"WABA, nunca"}, "es": {"WABA, nunca"}}},
		{"destination creates the WABA and runs the migration", "destination_bsp_role", facts{
			"en": {"new WABA", "migration"}, "pt": {"nova WABA", "migração"}, "es": {"nueva WABA", "migración"}}},
		{"2FA: ask the BSP, or WhatsApp Manager; no API; reset e-mail", "disable_2fa", facts{
			"en": {"WhatsApp Manager", "no API", "e-mail"}, "pt": {"Gerenciador do WhatsApp", "não tem API", "e-mail"}, "es": {"Administrador de WhatsApp", "no tiene API", "correo"}}},
		{"lost BM access: no BSP can recover it; other admins; Meta's recovery", "lost_bm_access", facts{
			"en": {"No BSP", "another admin", "recovery"}, "pt": {"Nenhum BSP", "outro administrador", "recuperação"}, "es": {"Ningún BSP", "otro administrador", "recuperación"}}},
		{"Cloud API numbers port directly; no On-Premises step", "cloud_api_eligibility", facts{
			"en": {"ported directly", "On-Premises", "2025"}, "pt": {"portados diretamente", "On-Premises", "2025"}, "es": {"portar directamente", "On-Premises", "2025"}}},
		{"display name changes happen with the origin BSP", "display_name_approval", facts{
			"en": {"origin", "can't approve"}, "pt": {"de origem", "não conseguimos aprovar"}, "es": {"de origen", "no podemos aprobar"}}},
		{"what is kept", "what_is_kept", facts{
			"en": {"display name", "quality rating", "messaging limit", "Official Business Account"},
			"pt": {"nome de exibição", "classificação de qualidade", "limite de mensagens", "conta comercial oficial"},
			"es": {"nombre para mostrar", "calificación de calidad", "límite de mensajes", "cuenta oficial de empresa"}}},
		{"template quality restarts as unknown", "what_is_kept", facts{
			"en": {"unknown"}, "pt": {"desconhecida"}, "es": {"desconocida"}}},
		{"chat history is not moved", "what_is_kept", facts{
			"en": {"chat history is not moved"}, "pt": {"histórico de conversas não é transferido"}, "es": {"historial de chats no se traslada"}}},
		{"templates are copied; low-quality/rejected/pending are not; re-categorised", "templates", facts{
			"en": {"copied, not moved", "rejected", "pending", "category"},
			"pt": {"copiados, não movidos", "reprovados", "pendentes", "categoria"},
			"es": {"se copian, no se mueven", "rechazadas", "pendientes", "categoría"}}},
		{"template quality restarts as unknown for about a day", "templates", facts{
			"en": {"unknown", "24 hours"}, "pt": {"desconhecida", "24 horas"}, "es": {"desconocida", "24 horas"}}},
		{"6-digit code by SMS or voice; landlines and IVR need voice", "sms_or_voice", facts{
			"en": {"6-digit", "SMS", "voice call", "Landlines", "IVR"}, "pt": {"6 dígitos", "SMS", "ligação", "fixo", "URA"}, "es": {"6 dígitos", "SMS", "llamada", "fijas", "IVR"}}},
		{"no downtime; the gap is templates", "downtime", facts{
			"en": {"keeps sending and receiving", "templates"}, "pt": {"continua enviando e recebendo", "modelos"}, "es": {"sigue enviando y recibiendo", "plantillas"}}},
		{"register limit: 10 attempts in 72 hours", "duration", facts{
			"en": {"10 registration attempts", "72 hours"}, "pt": {"10 tentativas de registro", "72 horas"}, "es": {"10 intentos de registro", "72 horas"}}},
		{"code not received: wait, check, new code or voice", "otp_not_received", facts{
			"en": {"Wait a few minutes", "international", "new code", "voice call"},
			"pt": {"Espere alguns minutos", "internacionais", "novo código", "ligação"},
			"es": {"Espera unos minutos", "internacionales", "código nuevo", "llamada"}}},
		{"a new WABA on the destination side, same business", "new_waba", facts{
			"en": {"new WABA", "same business"}, "pt": {"nova WABA", "mesma empresa"}, "es": {"nueva WABA", "misma empresa"}}},
		{"billing before and after the port", "billing", facts{
			"en": {"origin BSP", "destination BSP"}, "pt": {"BSP de origem", "BSP de destino"}, "es": {"BSP de origen", "BSP de destino"}}},
		{"new 6-digit PIN, keep it, needed to register again", "pin", facts{
			"en": {"6-digit PIN", "register the number again"}, "pt": {"PIN de 6 dígitos", "registrar o número de novo"}, "es": {"PIN de 6 dígitos", "volver a registrar"}}},
	}
	m := Default()
	for _, tt := range tests {
		for _, l := range langNames {
			a, ok := m.Answer(tt.intent, l)
			if !ok {
				t.Fatalf("no intent %q", tt.intent)
			}
			for _, frag := range tt.want[l] {
				if !strings.Contains(strings.ToLower(a), strings.ToLower(frag)) {
					t.Errorf("%s (%s/%s): answer lacks %q", tt.fact, tt.intent, l, frag)
				}
			}
		}
	}
}

func entryJSON(id string) string {
	return `{"id":"` + id + `",
		"title":{"en":"T","pt":"T pt","es":"T es"},
		"answer":{"en":"A","pt":"A pt","es":"A es"},
		"examples":{"en":["what is it"],"pt":["o que é"],"es":["qué es"]}}`
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		kb   string
		want []string // fragments of the error
	}{
		{"not json", `{"intents": [`, []string{"reading knowledge base"}},
		{"unknown field", `{"intents": [], "extra": 1}`, []string{"unknown field"}},
		{"trailing data", `{"intents": [` + entryJSON("a") + `]} {}`, []string{"after the top-level object"}},
		{"no intents", `{"intents": []}`, []string{"no intents"}},
		{"duplicate id", `{"intents": [` + entryJSON("a") + `,` + entryJSON("a") + `]}`, []string{`"a": duplicate id`}},
		{"reserved id", `{"intents": [` + entryJSON("none") + `]}`, []string{"reserved"}},
		{"bad id", `{"intents": [` + entryJSON("Bad Id") + `]}`, []string{"lower-case"}},
		{"missing id", `{"intents": [` + entryJSON("") + `]}`, []string{"#1 has no id"}},
		{"missing language", `{"intents": [{"id":"a",
			"title":{"en":"T","pt":"T"},
			"answer":{"en":"A","es":"A"},
			"examples":{"en":["q"],"pt":["q"]}}]}`,
			[]string{"title missing in es", "answer missing in pt", "examples missing in es"}},
		{"unknown language", `{"intents": [{"id":"a",
			"title":{"en":"T","pt":"T","es":"T","pt-br":"T"},
			"answer":{"en":"A","pt":"A","es":"A"},
			"examples":{"en":["q"],"pt":["q"],"es":["q"]}}]}`,
			[]string{`unknown language "pt-br"`}},
		{"empty answer and title", `{"intents": [{"id":"a",
			"title":{"en":"T","pt":" ","es":"T"},
			"answer":{"en":"A","pt":"A","es":"  "},
			"examples":{"en":["q"],"pt":["q"],"es":[]}}]}`,
			[]string{"empty title in pt", "empty answer in es", "no examples in es"}},
		{"empty example", `{"intents": [{"id":"a",
			"title":{"en":"T","pt":"T","es":"T"},
			"answer":{"en":"A","pt":"A","es":"A"},
			"examples":{"en":["q", "?!"],"pt":["q"],"es":["q"]}}]}`,
			[]string{"example 2 in en is empty"}},
		{"long title", `{"intents": [{"id":"a",
			"title":{"en":"A title much longer than a list row","pt":"T","es":"T"},
			"answer":{"en":"A","pt":"A","es":"A"},
			"examples":{"en":["q"],"pt":["q"],"es":["q"]}}]}`,
			[]string{"title in en has 35 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(strings.NewReader(tt.kb))
			if err == nil {
				t.Fatalf("Load() = %v, nil; want an error", m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewBuildsAWorkingMatcher(t *testing.T) {
	m, err := New([]Entry{{
		ID:       "greeting_card",
		Title:    map[string]string{"en": "Cards", "pt": "Cartões", "es": "Tarjetas"},
		Answer:   map[string]string{"en": "We print cards.", "pt": "Imprimimos cartões.", "es": "Imprimimos tarjetas."},
		Examples: map[string][]string{"en": {"do you print greeting cards"}, "pt": {"vocês imprimem cartões"}, "es": {"imprimen tarjetas"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Ask("can you print greeting cards?", "en")
	if res.Intent != "greeting_card" || res.Answer != "We print cards." {
		t.Errorf("Ask() = %+v, want greeting_card", res)
	}
	if res := m.Ask("what is the weather in Lisbon", "en"); res.Intent != None {
		t.Errorf("Ask(off-topic) = %q, want none", res.Intent)
	}
}
