package whatsapp

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"empty", "", 10, []string{""}},
		{"fits", "hello", 10, []string{"hello"}},
		{"exactly max", "0123456789", 10, []string{"0123456789"}},
		{"at a space", "hello world again", 11, []string{"hello world", "again"}},
		{"space right after a full part", "0123456789 abc", 10, []string{"0123456789", "abc"}},
		{"paragraph before line", "aaaaaa\n\nbb\ncc dd", 12, []string{"aaaaaa", "bb\ncc dd"}},
		{"line before space", "aaaaaa bb\ncc dd ee", 12, []string{"aaaaaa bb", "cc dd ee"}},
		{"no boundary: hard cut", "abcdefghijklmnopqrstuvwxyz", 10, []string{"abcdefghij", "klmnopqrst", "uvwxyz"}},
		{"runes, not bytes", strings.Repeat("é", 25), 10, []string{strings.Repeat("é", 10), strings.Repeat("é", 10), strings.Repeat("é", 5)}},
		{"emoji kept whole", strings.Repeat("🚀", 12), 5, []string{"🚀🚀🚀🚀🚀", "🚀🚀🚀🚀🚀", "🚀🚀"}},
		// A paragraph break early in the window would leave a stub message.
		{"early paragraph ignored", "Hi\n\n" + "aaaa bbbb cccc dddd", 12, []string{"Hi\n\naaaa", "bbbb cccc", "dddd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, splitText(tt.text, tt.max)); diff != "" {
				t.Errorf("splitText mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSplitTextProperties checks on random text that parts fit, are valid
// UTF-8, are never empty, and together hold every non-space character in
// order.
func TestSplitTextProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "é", "ç", "🚀", "中", " ", " ", "\n", "\n\n", "word "}
	for range 500 {
		var sb strings.Builder
		for range rng.IntN(400) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := sb.String()
		max := 5 + rng.IntN(60)
		parts := splitText(text, max)
		for _, p := range parts {
			if n := utf8.RuneCountInString(p); n > max {
				t.Fatalf("part of %d runes over %d: %q", n, max, p)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("invalid UTF-8 part %q", p)
			}
			if p == "" && len(parts) > 1 {
				t.Fatalf("empty part among %q", parts)
			}
		}
		if got, want := noSpace(strings.Join(parts, "")), noSpace(text); got != want {
			t.Fatalf("content changed for max %d:\n text %q\nparts %q", max, text, parts)
		}
	}
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func TestSplitTail(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		max        int
		head, tail string
	}{
		{"fits", "short", 10, "", "short"},
		{"last paragraphs", "intro text\n\nmiddle\n\nend", 14, "intro text", "middle\n\nend"},
		{"last paragraph only", "intro\n\nmiddle part\n\nend", 14, "intro\n\nmiddle part", "end"},
		{"line when no paragraph fits", "aaaaaaaaaaaaaaaa\nbb cc", 10, "aaaaaaaaaaaaaaaa", "bb cc"},
		{"space when no line fits", "aaaa bbbb cccc dddd", 10, "aaaa bbbb", "cccc dddd"},
		{"hard cut", "abcdefghijklmnop", 10, "abcdef", "ghijklmnop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, tail := splitTail(tt.text, tt.max)
			if head != tt.head || tail != tt.tail {
				t.Errorf("splitTail = %q, %q; want %q, %q", head, tail, tt.head, tt.tail)
			}
			if n := utf8.RuneCountInString(tail); n > tt.max {
				t.Errorf("tail of %d runes over %d", n, tt.max)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Yes", 20, "Yes"},
		{"Exactly twenty chars", 20, "Exactly twenty chars"},
		{"Twenty-one characters", 20, "Twenty-one characte…"},
		{"Talk to a person now", 10, "Talk to a…"},
		{"Ação necessária agora", 6, "Ação…"},
		{"abc", 1, "a"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestUniqueTitles(t *testing.T) {
	buttons := []bot.Button{
		{ID: "a", Title: "Continue"},
		{ID: "b", Title: "continue"},
		{ID: "c", Title: "Continue"},
		{ID: "d", Title: ""},
		{ID: "e", Title: "A very long title that will be cut"},
		{ID: "f", Title: "A very long title that will be cut too"},
	}
	want := []string{"Continue", "continue (2)", "Continue (3)", "d", "A very long title t…", "A very long tit… (2)"}
	if diff := cmp.Diff(want, uniqueTitles(buttons, 20)); diff != "" {
		t.Errorf("uniqueTitles mismatch (-want +got):\n%s", diff)
	}
}

func TestGuessListLabel(t *testing.T) {
	menu := func(text string, titles ...string) bot.Reply {
		r := bot.Reply{Text: text}
		for _, title := range titles {
			r.Buttons = append(r.Buttons, bot.Button{ID: title, Title: title})
		}
		return r
	}
	tests := []struct {
		reply bot.Reply
		want  string
	}{
		{menu("What would you like to do?", "Start the port", "Continue my port", "Ask a question", "Talk to a person"), "Options"},
		{menu("O que você gostaria de fazer?", "Portar meu número", "Continuar", "Tirar uma dúvida", "Falar com atendente"), "Opções"},
		{menu("¿Qué te gustaría hacer?", "Iniciar portabilidad", "Continuar", "Hacer una pregunta", "Hablar con alguien"), "Opciones"},
		{menu("", "1", "2", "3", "4"), "Options"},
	}
	for _, tt := range tests {
		if got := guessListLabel(tt.reply); got != tt.want {
			t.Errorf("guessListLabel(%q) = %q, want %q", tt.reply.Text, got, tt.want)
		}
	}
}
