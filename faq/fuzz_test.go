package faq

import (
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func seedFromEval(f *testing.F) {
	for _, c := range evalQuestions(f) {
		f.Add(c.Q)
	}
	for _, s := range []string{"", " ", "\x00", "ção", "ááááá", "2fa 2fa 2fa", "¿¡", "e\u0301", "ｗａｂａ"} {
		f.Add(s)
	}
}

// FuzzMatch asks anything: no panic, an intent the matcher knows or none,
// a language of Languages, and the same result when asked again.
func FuzzMatch(f *testing.F) {
	seedFromEval(f)
	m := Default()
	known := make(map[string]bool)
	for _, id := range m.Intents() {
		known[id] = true
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) {
			t.Skip()
		}
		res := m.Ask(q, "pt")
		if res.Intent != None && !known[res.Intent] {
			t.Fatalf("Ask(%q) = unknown intent %q", q, res.Intent)
		}
		if res.Score < 0 || res.Score > 1 || res.Score != res.Score {
			t.Fatalf("Ask(%q).Score = %v, want within [0, 1]", q, res.Score)
		}
		if len(res.Closest) == 0 || len(res.Closest) > 3 {
			t.Fatalf("Ask(%q) offers %d topics", q, len(res.Closest))
		}
		if again := m.Ask(q, "pt"); !cmp.Equal(res, again) {
			t.Fatalf("Ask(%q) changed: %+v then %+v", q, res, again)
		}
	})
}

// FuzzNormalize: no panic, the same output twice, valid UTF-8 of lower-case
// words separated by single spaces, and a fixed point.
func FuzzNormalize(f *testing.F) {
	seedFromEval(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		n := Normalize(s)
		if Normalize(s) != n {
			t.Fatalf("Normalize(%q) is not stable", s)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, invalid UTF-8", s, n)
		}
		if len(n) > 0 && (n[0] == ' ' || n[len(n)-1] == ' ') {
			t.Fatalf("Normalize(%q) = %q, untrimmed", s, n)
		}
		for i := 1; i < len(n); i++ {
			if n[i] == ' ' && n[i-1] == ' ' {
				t.Fatalf("Normalize(%q) = %q, double space", s, n)
			}
		}
		if nn := Normalize(n); nn != n {
			t.Fatalf("Normalize(Normalize(%q)) = %q, want %q", s, nn, n)
		}
	})
}
