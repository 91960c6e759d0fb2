// Package faq answers clients' questions about number portability in
// English, Portuguese and Spanish from an embedded knowledge base, and says
// "none" rather than guess when nothing matches well enough.
package faq

// Topic is an intent offered to the client as a choice, titled in one
// language (at most 24 characters, so it fits a WhatsApp list row).
type Topic struct {
	Intent string
	Title  string
}

// Result is the matcher's answer to one question.
type Result struct {
	// Intent is the matched intent id, or "none".
	Intent string
	Score  float64
	// Lang is the language of Answer: the question's when it is clear,
	// else the one the caller asked for.
	Lang   string
	Answer string
	// Closest are the best-ranked intents, best first (up to three), also
	// when Intent is "none": the bot offers them as choices.
	Closest []Topic
}

// Matcher ranks a question against the knowledge base.
type Matcher struct{}

// Default returns the matcher over the embedded knowledge base.
func Default() *Matcher { return &Matcher{} }

// Ask answers question; lang ("en", "pt", "es") is used when the question's
// own language is unclear.
func (m *Matcher) Ask(question, lang string) Result {
	return Result{Intent: "none", Lang: lang}
}

// Answer returns the answer of intent in lang, or false for an unknown intent.
func (m *Matcher) Answer(intent, lang string) (string, bool) { return "", false }

// Topic returns intent's title in lang, or false for an unknown intent.
func (m *Matcher) Topic(intent, lang string) (Topic, bool) { return Topic{}, false }

// DetectLang guesses the language of text, or returns false when unclear.
func DetectLang(text string) (string, bool) { return "", false }
