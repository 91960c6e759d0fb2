// Package faq answers clients' questions about number portability in
// English, Portuguese and Spanish from an embedded knowledge base, and says
// "none" rather than guess when nothing matches well enough.
//
// A question is normalised (case, accents, punctuation, stretched letters),
// split into words, corrected where a word is one typo away from a known one,
// mapped through a synonym table of the trade's vocabulary (2FA, BM, WABA,
// BSP, ...), stripped of stop words and stemmed in its language (detected
// from the question when clear). The tokens rank the intents with BM25
// against their example questions, one by one and pooled, with the answers
// as weaker evidence. The best intent is answered only if its vocabulary
// explains enough of the question (words nobody knows, and words of
// neighbouring topics, count against it) and its rank leads the runner-up's
// by a margin: the bot would rather offer choices than answer the wrong
// question.
package faq

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

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
	// Score is the confidence in the best-ranked intent, from 0 to 1, also
	// when it was not confident enough to answer.
	Score float64
	// Lang is the language of Answer: the question's when it is clear,
	// else the one the caller asked for.
	Lang   string
	Answer string
	// Closest are the best-ranked intents, best first (up to three), also
	// when Intent is "none": the bot offers them as choices. When nothing in
	// the question relates to any intent they are the first intents of the
	// knowledge base, which lists the most asked first.
	Closest []Topic
	// Also lists the other questions of a message that asked more than one
	// ("how long does it take? and do we lose the chats?"): Answer is for
	// the first the matcher is sure of, and these are a tap away.
	Also []Topic
}

type intent struct {
	id     string
	title  [numLangs]string
	answer [numLangs]string
}

// Matcher ranks a question against the knowledge base. Get one from
// Default, Load or New (the zero Matcher knows nothing); it is immutable
// once built and safe for concurrent use.
type Matcher struct {
	intents []intent
	byID    map[string]int
	lx      *lexIndex

	// Vocabulary: every token the index knows is a term id.
	terms     map[string]int32
	termNames []string
	// surf maps a word seen in the examples to its term in each language it
	// was seen in (-1 where not), so most words of a question cost one map
	// probe and no stemming.
	surf map[string][numLangs]int32
	// stemSyn maps the stem of a one-word synonym form, per language, to
	// its canonical term, so inflections the table does not list ("migrei")
	// still reach the canonical token.
	stemSyn [numLangs]map[string]int32
	typo    typoIndex

	ex bm25 // one document per example question
	in bm25 // one document per intent: its examples pooled, and its answers
	// cover lists, per term, the intents whose vocabulary has it and how
	// fully (1 in an example, answerCover in an answer only).
	cover [][]posting
	// focus is, per term, how well it tells intents apart (an idf over
	// intents rather than documents).
	focus []float32
	// sig lists, per intent, its signature terms (tf holds the weight),
	// and sigTotal their summed weight.
	sig      [][]weighted
	sigTotal []float32

	scratch sync.Pool
	// stemOf memoises stem while the index is built, and is nil after.
	stemOf func(w string, l int) string
}

// maxQuestion is how many bytes of a question are read.
const maxQuestion = 4096

// Tuning of the ranking, set against testdata/eval.jsonl and checked on
// testdata/holdout.jsonl, which is not tuned against.
const (
	// exWeight shares the score between the best single example (precise
	// on paraphrases) and the pooled intent document (robust when the
	// words of a question are spread over several examples).
	exWeight = 0.7
	// answerWeight is the term frequency an answer's word counts for in the
	// pooled document: answers know the topic's words but also mention
	// neighbouring topics.
	answerWeight = 0.1
	// unknownWeight is what a word the knowledge base has never seen costs,
	// as a share of the rarest word's weight: a question about an Instagram
	// password shares "password" with nothing, but "Instagram" says it is
	// not ours.
	unknownWeight = 1.0
	// offTopicWeight is what a word of the off-topic list costs, in unknown
	// words.
	offTopicWeight = 2
	// sigShare is the share of an intent's examples a term must be in to
	// be one of its signature terms, and sigPenalty how much of the rank
	// score an intent loses when the question has none of them: most
	// questions about a code that did not arrive say so ("not", "never").
	sigShare   = 0.4
	sigPenalty = 0.5
	// answerCover is how much a word found only in an intent's answers
	// counts towards the intent explaining a question.
	answerCover = 0.5
	// typoDoubt is the share of an unknown word that a corrected one still
	// counts as.
	typoDoubt = 0.5
	// minScore and minLead are the confidence rule: the best intent must
	// explain at least minScore of the question, and its rank score must
	// lead the second's by minLead of itself.
	minScore = 0.50
	minLead  = 0.05
)

// Intents returns the intent ids of the knowledge base, in its order.
func (m *Matcher) Intents() []string {
	ids := make([]string, len(m.intents))
	for i, in := range m.intents {
		ids[i] = in.id
	}
	return ids
}

// Intents returns the intent ids of the embedded knowledge base.
func Intents() []string { return Default().Intents() }

// Answer returns the answer of intent in lang, or false for an unknown
// intent. An unknown lang gets English.
func (m *Matcher) Answer(intent, lang string) (string, bool) {
	i, ok := m.byID[intent]
	if !ok {
		return "", false
	}
	return m.intents[i].answer[langIndex(lang)], true
}

// Topic returns intent's title in lang, or false for an unknown intent. An
// unknown lang gets English.
func (m *Matcher) Topic(intent, lang string) (Topic, bool) {
	i, ok := m.byID[intent]
	if !ok {
		return Topic{}, false
	}
	return Topic{Intent: intent, Title: m.intents[i].title[langIndex(lang)]}, true
}

// Ask answers question; lang ("en", "pt", "es") is used when the question's
// own language is unclear. A message asking more than one thing is answered
// for the first question the matcher is sure of, and the others are in
// Result.Also.
func (m *Matcher) Ask(question, lang string) Result {
	res := m.ask(question, lang)
	parts := splitQuestions(question)
	var found []Result
	for _, p := range parts {
		if r := m.ask(p, lang); r.Intent != None {
			found = append(found, r)
		}
	}
	if res.Intent == None && len(found) > 0 {
		// Two questions in one message can read as neither: the first
		// the matcher is sure of on its own is the one answered, in the
		// message's language.
		r := found[0]
		res.Intent, res.Score = r.Intent, r.Score
		res.Answer, _ = m.Answer(r.Intent, res.Lang)
		if t, ok := m.Topic(r.Intent, res.Lang); ok {
			res.Closest = []Topic{t}
		}
	}
	if res.Intent == None {
		return res
	}
	for _, r := range found {
		if r.Intent != res.Intent && !slices.ContainsFunc(res.Also, func(t Topic) bool { return t.Intent == r.Intent }) {
			t, _ := m.Topic(r.Intent, res.Lang)
			res.Also = append(res.Also, t)
		}
	}
	return res
}

func (m *Matcher) ask(question, lang string) Result {
	if len(question) > maxQuestion {
		// WhatsApp caps a text at 4096 characters; anything longer is
		// not a question, and reading it all would hold up a worker.
		cut := maxQuestion
		for cut > 0 && !utf8.RuneStart(question[cut]) {
			cut--
		}
		question = question[:cut]
	}
	sc := m.getScratch()
	defer m.scratch.Put(sc)

	sc.norm.Reset()
	appendNormalized(&sc.norm, question)
	sc.tokens = appendFields(sc.tokens[:0], sc.norm.String())

	l, ok := detectLang(question, sc.tokens)
	if !ok {
		l = langIndex(lang)
	}
	sc.tokens = m.expandShorthand(sc.tokens, l)
	m.analyze(sc, l)
	scores := m.score(sc)

	// The three best, in one pass; ties keep knowledge-base order.
	var top [3]int
	n := 0
	for i, v := range scores {
		pos := n
		for pos > 0 && v > scores[top[pos-1]] {
			pos--
		}
		if pos >= len(top) {
			continue
		}
		for k := min(n, len(top)-1); k > pos; k-- {
			top[k] = top[k-1]
		}
		top[pos] = i
		n = min(n+1, len(top))
	}
	res := Result{Intent: None, Lang: langNames[l], Closest: make([]Topic, 0, n)}
	for _, i := range top[:n] {
		res.Closest = append(res.Closest, Topic{Intent: m.intents[i].id, Title: m.intents[i].title[l]})
	}
	// Confidence is how much of the question the best intent explains;
	// the lead is how far ahead of the runner-up the ranking put it.
	conf := float64(sc.cover[top[0]])
	best, second := float64(scores[top[0]]), 0.0
	if n > 1 {
		second = float64(scores[top[1]])
	}
	res.Score = min(conf, 1)
	if conf >= minScore && best > 0 && (best-second)/best >= minLead {
		res.Intent = m.intents[top[0]].id
		res.Answer = m.intents[top[0]].answer[l]
	}
	return res
}

// appendFields is strings.Fields into a reused slice; the normalised text
// has single spaces only.
func appendFields(dst []string, s string) []string {
	start := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if start >= 0 {
				dst = append(dst, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

// maxSplit is the longest message read for a second question: a long
// message is a story, not a list of questions.
const maxSplit = 600

// splitQuestions splits a message that may ask more than one thing into its
// questions: at question marks, line breaks and sentence ends, and failing
// those at an "and" joining two clauses ("quanto tempo demora e perco as
// conversas"). A part needs two words to be a question. It returns nil for
// a message of one part.
func splitQuestions(text string) []string {
	if len(text) > maxSplit {
		return nil
	}
	parts := clauses(strings.FieldsFunc(text, func(r rune) bool {
		return r == '?' || r == '!' || r == '\n' || r == ';' || r == '.'
	}))
	if len(parts) >= 2 {
		return parts
	}
	words := strings.Fields(text)
	for i, w := range words {
		if i < 2 || i > len(words)-3 {
			continue
		}
		switch strings.ToLower(strings.Trim(w, ",")) {
		case "and", "also", "plus", "e", "y", "tambem", "também", "tambien", "también", "tb", "tbm", "tmb":
			return clauses([]string{strings.Join(words[:i], " "), strings.Join(words[i+1:], " ")})
		}
	}
	return nil
}

// clauses keeps the pieces of a split message that have two words or more,
// trimmed of the punctuation around them, and nil unless two remain.
func clauses(pieces []string) []string {
	var out []string
	for _, p := range pieces {
		p = strings.TrimSpace(strings.Trim(strings.TrimSpace(p), "¿¡,:-"))
		if len(strings.Fields(p)) >= 2 {
			out = append(out, p)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}
