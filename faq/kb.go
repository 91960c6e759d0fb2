package faq

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Entry is one intent of the knowledge base. Every map is keyed by language
// ("en", "pt", "es") and must have all three.
type Entry struct {
	ID       string              `json:"id"`
	Title    map[string]string   `json:"title"`
	Answer   map[string]string   `json:"answer"`
	Examples map[string][]string `json:"examples"`
}

// kbFile is the layout of kb.json.
type kbFile struct {
	Intents []Entry `json:"intents"`
}

// None is the intent of a question that matches nothing well enough.
const None = "none"

// Limits that keep the knowledge base fit for WhatsApp: a list row title
// holds 24 characters, and a text message 4096.
const (
	MaxTitle  = 24
	MaxAnswer = 4096
)

var intentID = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

//go:embed kb.json
var kbJSON []byte

// Default returns the matcher over the embedded knowledge base, built once.
// It panics if the embedded file is invalid, which the package's tests rule
// out before a build can ship.
func Default() *Matcher { return defaultMatcher() }

var defaultMatcher = sync.OnceValue(func() *Matcher {
	m, err := Load(bytes.NewReader(kbJSON))
	if err != nil {
		panic("faq: embedded knowledge base: " + err.Error())
	}
	return m
})

// Load reads a knowledge base in the layout of the embedded kb.json
// ({"intents": [Entry...]}) and builds a matcher over it.
func Load(r io.Reader) (*Matcher, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f kbFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("faq: reading knowledge base: %w", err)
	}
	if dec.More() {
		return nil, errors.New("faq: reading knowledge base: data after the top-level object")
	}
	return New(f.Intents)
}

// New validates entries and builds a matcher over them. Every problem found
// is reported, joined, so a broken file is fixed in one pass.
func New(entries []Entry) (*Matcher, error) {
	if err := validate(entries); err != nil {
		return nil, err
	}
	return build(entries), nil
}

func validate(entries []Entry) error {
	if len(entries) == 0 {
		return errors.New("faq: knowledge base has no intents")
	}
	var errs []error
	bad := func(id, format string, args ...any) {
		errs = append(errs, fmt.Errorf("faq: intent %q: "+format, append([]any{id}, args...)...))
	}
	seen := make(map[string]bool)
	for i, e := range entries {
		id := e.ID
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("faq: intent #%d has no id", i+1))
			id = fmt.Sprintf("#%d", i+1)
		case id == None:
			bad(id, "id is reserved for questions that match nothing")
		case !intentID.MatchString(id):
			bad(id, "id must be lower-case letters, digits and underscores")
		case seen[id]:
			bad(id, "duplicate id")
		}
		seen[e.ID] = true
		checkLangs(id, "title", keys(e.Title), bad)
		checkLangs(id, "answer", keys(e.Answer), bad)
		checkLangs(id, "examples", keys(e.Examples), bad)
		for _, lang := range langNames {
			if t, ok := e.Title[lang]; ok {
				switch n := utf8.RuneCountInString(t); {
				case strings.TrimSpace(t) == "":
					bad(id, "empty title in %s", lang)
				case n > MaxTitle:
					bad(id, "title in %s has %d characters, more than %d", lang, n, MaxTitle)
				}
			}
			if a, ok := e.Answer[lang]; ok {
				switch n := utf8.RuneCountInString(a); {
				case strings.TrimSpace(a) == "":
					bad(id, "empty answer in %s", lang)
				case n > MaxAnswer:
					bad(id, "answer in %s has %d characters, more than %d", lang, n, MaxAnswer)
				}
			}
			if ex, ok := e.Examples[lang]; ok {
				if len(ex) == 0 {
					bad(id, "no examples in %s", lang)
				}
				for j, q := range ex {
					if !hasWord(q) {
						bad(id, "example %d in %s is empty", j+1, lang)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func keys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for l := range m {
		k = append(k, l)
	}
	slices.Sort(k)
	return k
}

// checkLangs reports languages missing from a field, and unknown ones, which
// are usually a typo ("pt-br") that would leave the real one missing.
func checkLangs(id, field string, have []string, bad func(id, format string, args ...any)) {
	for _, l := range langNames {
		if !slices.Contains(have, l) {
			bad(id, "%s missing in %s", field, l)
		}
	}
	for _, l := range have {
		if !slices.Contains(langNames[:], l) {
			bad(id, "%s has unknown language %q (want one of %s)", field, l, strings.Join(langNames[:], ", "))
		}
	}
}

// hasWord reports whether s has a letter or digit, that is whether it
// normalises to something.
func hasWord(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
