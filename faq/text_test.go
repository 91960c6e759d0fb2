package faq

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Hello, World!", "hello world"},
		{"  Verificação   em DUAS etapas?? ", "verificacao em duas etapas"},
		{"¿Cuánto TARDA la migración?", "cuanto tarda la migracion"},
		{"what's the 2-step PIN", "whats the 2 step pin"},
		{"don’t", "dont"},
		{"pleeeeease helllp", "pleease hellp"},
		{"aaa bbb", "aa bb"},
		{"número 0800 / 24h", "numero 0800 24h"},
		{"ÇÃO ñ Ü", "cao n u"},
		{"ｆｕｌｌｗｉｄｔｈ", "fullwidth"},
		{"e-mail\n\tWABA", "e mail waba"},
		{"😀 2FA 😀", "2fa"},
		{"1000000", "1000000"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Words must stem the same with and without accents, since clients type
// both; the pairs are the Snowball Portuguese sample's, folded.
func TestStemPortuguese(t *testing.T) {
	tests := []struct{ in, want string }{
		{"portabilidade", "portabil"},
		{"informação", "inform"},
		{"informações", "inform"},
		{"quilométricas", "quilometr"},
		{"quilômetros", "quilometr"},
		{"desativar", "desativ"},
		{"desativo", "desat"},
		{"recebi", "receb"},
		{"receber", "receb"},
		{"número", "numer"},
		{"números", "numer"},
		{"verificação", "verific"},
		{"aprovado", "aprov"},
		{"aprovação", "aprov"},
		{"conseguimos", "consegu"},
		{"brasileira", "brasileir"},
		{"frequentemente", "frequent"},
		{"bom", "bom"},
		{"a", "a"},
		{"2fa", "2fa"},
	}
	for _, tt := range tests {
		if got := stem(Normalize(tt.in), langPT); got != tt.want {
			t.Errorf("stem(%q, pt) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStemFoldsAccentsFirst(t *testing.T) {
	pairs := [][3]string{
		{"migración", "migracion", "es"}, {"información", "informaciones", "es"},
		{"verificação", "verificacao", "pt"}, {"histórico", "historico", "pt"},
		{"plantillas", "plantilla", "es"}, {"templates", "template", "en"},
	}
	for _, p := range pairs {
		l := langIndex(p[2])
		if a, b := stem(Normalize(p[0]), l), stem(Normalize(p[1]), l); a != b {
			t.Errorf("stem(%q) = %q but stem(%q) = %q in %s", p[0], a, p[1], b, p[2])
		}
	}
}

func TestOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"migration", "migraton", true},   // deletion
		{"migration", "migrationn", true}, // insertion
		{"migration", "migratiom", true},  // substitution
		{"receive", "recieve", true},      // swap of neighbours
		{"verificação", "verificaçao", true},
		{"migration", "migration", false},
		{"migration", "migrtaoin", false},
		{"abc", "abcde", false},
		{"", "a", true},
	}
	for _, tt := range tests {
		if got := oneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := oneEdit(tt.b, tt.a); got != tt.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestTypoCorrection(t *testing.T) {
	m := Default()
	tests := []struct{ in, want string }{
		{"portabilidde", "portabilidade"},
		{"migraton", "migration"},
		{"plantilals", "plantillas"},
		{"dose", "does"}, // four letters: only towards a stop word
	}
	for _, tt := range tests {
		if got, ok := m.correct(tt.in); !ok || got != tt.want {
			t.Errorf("correct(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, w := range []string{"sms", "xyzzyplugh", "pim"} {
		if got, ok := m.correct(w); ok {
			t.Errorf("correct(%q) = %q, want no correction", w, got)
		}
	}
}

// terms returns the names of the terms m reads in q, in language lang.
func terms(m *Matcher, q, lang string) []string {
	sc := m.getScratch()
	defer m.scratch.Put(sc)
	sc.tokens = appendFields(sc.tokens[:0], Normalize(q))
	m.analyze(sc, langIndex(lang))
	var names []string
	for _, t := range sc.terms {
		names = append(names, m.termNames[t])
	}
	return names
}

// The trade's names for one thing meet at one token.
func TestSynonyms(t *testing.T) {
	groups := map[string][]string{
		"#2fa": {"2FA", "two-step", "two-factor", "2-step", "two step verification",
			"verificação em duas etapas", "autenticação de dois fatores", "verificación en dos pasos",
			"doble factor", "verificação em 2 etapas", "duas etapa"},
		"#bm": {"BM", "Business Manager", "gerenciador de negócios", "portfólio empresarial",
			"business portfolio", "Meta Business Suite", "administrador comercial", "portafolio comercial"},
		"#bsp": {"BSP", "provider", "providers", "provedor", "proveedor", "fornecedor", "proveedores"},
		"#waba": {"WABA", "conta do WhatsApp Business", "cuenta de WhatsApp Business",
			"WhatsApp Business Account", "wabas"},
		"#cloudapi": {"Cloud API", "API de nuvem", "API en la nube", "On-Premises", "on-prem"},
		"#otp":      {"OTP", "code", "código", "SMS code", "verification code", "código de verificação"},
		"#pin":      {"PIN", "pin code", "PIN de 6 dígitos"},
		"#template": {"template", "templates", "modelo", "modelos de mensagem", "plantilla", "plantillas", "HSM"},
		"#port":     {"portability", "portabilidade", "portabilidad", "migration", "migração", "migrar", "migrei", "port", "porting", "switch providers"},
	}
	m := Default()
	for canon, forms := range groups {
		for _, f := range forms {
			for _, lang := range langNames {
				if got := terms(m, f, lang); len(got) != 1 || got[0] != canon {
					t.Errorf("terms(%q, %s) = %v, want [%s]", f, lang, got, canon)
				}
			}
		}
	}
	// A stop word of the question's language is not a synonym there.
	if got := terms(m, "whats", "en"); len(got) != 1 || got[0] != "#define" {
		t.Errorf(`terms("whats", en) = %v, want [#define]`, got)
	}
	if got := terms(m, "whats", "pt"); len(got) != 1 || got[0] != "#whatsapp" {
		t.Errorf(`terms("whats", pt) = %v, want [#whatsapp]`, got)
	}
}

// Every form of the lexicon is usable: it normalises to words, and no two
// groups claim the same form in the same language (the second would never
// be reached).
func TestLexicon(t *testing.T) {
	claimed := make(map[string]string)
	for _, g := range synonyms {
		if !strings.HasPrefix(g.canon, "#") {
			t.Errorf("canonical token %q must start with #, to stay apart from stems", g.canon)
		}
		for _, f := range g.forms {
			words, langs := parseForm(f)
			if len(words) == 0 {
				t.Errorf("%s: form %q has no words", g.canon, f)
			}
			for l := range numLangs {
				if langs&(1<<l) == 0 {
					continue
				}
				key := langNames[l] + ":" + strings.Join(words, " ")
				if other, ok := claimed[key]; ok && other != g.canon {
					t.Errorf("form %q (%s) is in %s and %s", f, langNames[l], other, g.canon)
				}
				claimed[key] = g.canon
			}
		}
	}
	for l, list := range stopWords {
		for _, w := range list {
			if Normalize(w) != w {
				t.Errorf("stop word %q (%s) is not normalised", w, langNames[l])
			}
		}
	}
}

// No example of the knowledge base says an off-topic word: the list would
// contradict it.
func TestOffTopicWordsAreNotOurs(t *testing.T) {
	lx := lexicon()
	for _, e := range embeddedEntries(t) {
		for l, lang := range langNames {
			for _, q := range e.Examples[lang] {
				toks := strings.Fields(Normalize(q))
				for i := range toks {
					if c, n := lx.matchPhrase(toks, i, 1, l); n > 0 && c == offTopic {
						t.Errorf("%s example %q has off-topic %q", e.ID, q, strings.Join(toks[i:i+n], " "))
					}
				}
			}
		}
	}
}
