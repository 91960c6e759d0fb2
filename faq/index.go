package faq

import (
	"math"
	"slices"
	"strings"
)

// BM25's usual constants. Example questions are short and alike in length,
// so length matters less for them than for the pooled intent documents.
const (
	bm25K1  = 1.2
	exLenB  = 0.6
	intentB = 0.5
)

type posting struct {
	doc int32
	w   float32 // idf times the saturated term frequency, fixed at load
}

// bm25 is an inverted index whose postings carry their whole BM25 weight,
// so scoring a question is one addition per posting.
type bm25 struct {
	post   [][]posting // by term id
	idf    []float32   // by term id
	unseen float32     // idf of a term no document has
	intent []int32     // by document: the intent it belongs to
}

// weighted is one term of a document and its (possibly fractional) count.
type weighted struct {
	term int32
	tf   float32
}

func newBM25(docs [][]weighted, intents []int32, nterms int, b float64) bm25 {
	x := bm25{post: make([][]posting, nterms), idf: make([]float32, nterms), intent: intents}
	n := float64(len(docs))
	lens := make([]float64, len(docs))
	total := 0.0
	df := make([]int, nterms)
	for d, doc := range docs {
		for _, w := range doc {
			lens[d] += float64(w.tf)
			df[w.term]++
		}
		total += lens[d]
	}
	avg := total / max(n, 1)
	idf := func(df int) float64 { return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5)) }
	x.unseen = float32(idf(0))
	for t := range nterms {
		x.idf[t] = float32(idf(df[t]))
	}
	for d, doc := range docs {
		norm := bm25K1 * (1 - b + b*lens[d]/avg)
		for _, w := range doc {
			tf := float64(w.tf)
			sat := tf * (bm25K1 + 1) / (tf + norm)
			x.post[w.term] = append(x.post[w.term], posting{doc: int32(d), w: float32(float64(x.idf[w.term]) * sat)})
		}
	}
	return x
}

// build indexes entries, which validate has accepted. Everything a
// question needs is computed here, so that Ask only looks things up.
func build(entries []Entry) *Matcher {
	m := &Matcher{
		byID:  make(map[string]int, len(entries)),
		lx:    lexicon(),
		terms: make(map[string]int32),
		surf:  make(map[string][numLangs]int32),
	}
	// The examples repeat their words a lot; stemming each once halves
	// the time to build.
	var stems [numLangs]map[string]string
	for l := range stems {
		stems[l] = make(map[string]string)
	}
	m.stemOf = func(w string, l int) string {
		st, ok := stems[l][w]
		if !ok {
			st = stem(w, l)
			stems[l][w] = st
		}
		return st
	}
	defer func() { m.stemOf = nil }()
	for _, c := range m.lx.canons {
		m.term(c)
	}
	for i, e := range entries {
		in := intent{id: e.ID}
		for l, lang := range langNames {
			in.title[l] = e.Title[lang]
			in.answer[l] = strings.TrimSpace(e.Answer[lang])
		}
		m.intents = append(m.intents, in)
		m.byID[e.ID] = i
	}
	m.indexStemSynonyms()

	var exDocs, inDocs [][]weighted
	var exIntent, inIntent []int32
	var toks []string
	for i, e := range entries {
		var pooled []weighted
		for l, lang := range langNames {
			for _, q := range e.Examples[lang] {
				toks = appendFields(toks[:0], Normalize(q))
				exDocs = append(exDocs, m.analyzeDoc(toks, l, 1, true, nil))
				exIntent = append(exIntent, int32(i))
				pooled = m.analyzeDoc(toks, l, 1, false, pooled)
			}
		}
		for l, lang := range langNames {
			toks = appendFields(toks[:0], Normalize(e.Answer[lang]))
			pooled = m.analyzeDoc(toks, l, answerWeight, false, pooled)
		}
		inDocs = append(inDocs, pooled)
		inIntent = append(inIntent, int32(i))
	}
	m.ex = newBM25(exDocs, exIntent, len(m.termNames), exLenB)
	m.in = newBM25(inDocs, inIntent, len(m.termNames), intentB)
	m.indexCover(inDocs)
	m.indexSignatures(exDocs, exIntent)
	m.indexTypos()
	return m
}

// indexStemSynonyms gives the lexicon's stemmed synonym forms their term
// ids.
func (m *Matcher) indexStemSynonyms() {
	for l, syn := range m.lx.stemSyn {
		m.stemSyn[l] = make(map[string]int32, len(syn))
		for st, canon := range syn {
			m.stemSyn[l][st] = m.terms[canon]
		}
	}
}

// indexCover records which intents' vocabularies have each term: fully if
// one of the intent's examples does, partly if only its answers do. It also
// sets focus, how well a term tells intents apart: an idf over the intents
// whose examples have it, in which "whatsapp" is worth nearly nothing.
func (m *Matcher) indexCover(pooled [][]weighted) {
	m.cover = make([][]posting, len(m.termNames))
	df := make([]int, len(m.termNames))
	for i, doc := range pooled {
		for _, w := range doc {
			c := float32(answerCover)
			if w.tf >= 1 {
				c = 1
				df[w.term]++
			}
			m.cover[w.term] = append(m.cover[w.term], posting{doc: int32(i), w: c})
		}
	}
	m.focus = make([]float32, len(m.termNames))
	n := float64(len(pooled))
	for t, d := range df {
		m.focus[t] = float32(math.Log(1 + (n-float64(d)+0.5)/(float64(d)+0.5)))
	}
}

// indexSignatures finds each intent's signature terms: those at least
// sigShare of its examples have, weighted by that share and their focus.
func (m *Matcher) indexSignatures(docs [][]weighted, intents []int32) {
	m.sig = make([][]weighted, len(m.intents))
	m.sigTotal = make([]float32, len(m.intents))
	count := make([]int, len(m.intents))
	has := make([][]float32, len(m.intents)) // by intent, by term
	for d, doc := range docs {
		i := intents[d]
		count[i]++
		if has[i] == nil {
			has[i] = make([]float32, len(m.termNames))
		}
		for _, w := range doc {
			has[i][w.term]++
		}
	}
	for i, terms := range has {
		for t, c := range terms {
			share := c / float32(count[i])
			if share >= sigShare {
				w := share * m.focus[t]
				m.sig[i] = append(m.sig[i], weighted{term: int32(t), tf: w})
				m.sigTotal[i] += w
			}
		}
	}
}

// indexTypos prepares the typo lookup of the examples' words, which are
// preferred to the lexicon's since they are the ones that score.
func (m *Matcher) indexTypos() {
	words := make([]string, 0, len(m.surf))
	for w := range m.surf {
		words = append(words, w)
	}
	m.typo = newTypoIndex(words, make([]int, len(words)), make([]bool, len(words)))
}

// correct returns the known word one edit away from w, if any.
func (m *Matcher) correct(w string) (string, bool) {
	if c, ok := m.typo.correct(w); ok {
		return c, true
	}
	return m.lx.typo.correct(w)
}

// term returns the id of a term, adding it to the vocabulary if new.
func (m *Matcher) term(name string) int32 {
	if id, ok := m.terms[name]; ok {
		return id
	}
	id := int32(len(m.termNames))
	m.terms[name] = id
	m.termNames = append(m.termNames, name)
	return id
}

// analyzeDoc turns the tokens of a knowledge-base text in language l into
// terms, adding each with count tf to doc. Words it meets are recorded as
// known surfaces only from example questions (record), the text a client's
// question resembles.
func (m *Matcher) analyzeDoc(tokens []string, l int, tf float32, record bool, doc []weighted) []weighted {
	add := func(t int32) {
		for i := range doc {
			if doc[i].term == t {
				doc[i].tf += tf
				return
			}
		}
		doc = append(doc, weighted{term: t, tf: tf})
	}
	lastNot := -1
	for i := 0; i < len(tokens); {
		canon, n, stop := m.lx.next(tokens, i, l)
		w := tokens[i]
		canon = missing(canon, w, i, &lastNot)
		i += n
		switch {
		case canon == offTopic:
			// The knowledge base never speaks of what is not ours,
			// even where a word of its text looks like it ("texto
			// plano" is not a phone plan).
			continue
		case canon != "":
			add(m.terms[canon])
			continue
		case stop:
			continue
		}
		st := m.stemOf(w, l)
		t, ok := m.stemSyn[l][st]
		if !ok {
			t = m.term(st)
		}
		add(t)
		if record {
			s, seen := m.surf[w]
			if !seen {
				s = [numLangs]int32{-1, -1, -1}
			}
			if s[l] < 0 {
				s[l] = t
			}
			m.surf[w] = s
		}
	}
	return doc
}

// comingWords are the forms of "to come" and "to arrive" that, after a
// negation, say a message is missing.
var comingWords = map[string]bool{
	"come": true, "comes": true, "arrive": true, "arrives": true, "chega": true, "chegar": true,
	"chegue": true, "vem": true, "llega": true, "llegar": true, "llegue": true, "viene": true,
}

// missing reads "não chega", "no me llega", "doesn't come" as a message that
// did not arrive rather than a line that cannot receive one: it returns the
// canonical token for the words at position i given where the last negation
// was, which it keeps up to date.
func missing(canon, w string, i int, lastNot *int) string {
	switch {
	case canon == "#not":
		*lastNot = i
	case canon == "#receive" && comingWords[w] && *lastNot >= 0 && i-*lastNot <= 3:
		return "#arrived"
	}
	return canon
}

// scratch is the per-question working memory, pooled so that a question
// allocates little.
type scratch struct {
	norm    strings.Builder
	tokens  []string
	terms   []int32
	fixed   []bool  // by token: the typo lookup corrected it
	unknown float32 // summed weight of words the knowledge base lacks
	exDoc   []float32
	exBest  []float32
	inDoc   []float32
	scores  []float32
	cover   []float32
}

func (m *Matcher) getScratch() *scratch {
	if sc, ok := m.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{
		exDoc:  make([]float32, len(m.ex.intent)),
		exBest: make([]float32, len(m.intents)),
		inDoc:  make([]float32, len(m.in.intent)),
		scores: make([]float32, len(m.intents)),
		cover:  make([]float32, len(m.intents)),
	}
}

// known reports whether the index can make sense of w without correcting
// it: a stop word, a synonym word, a word of the examples, or a word whose
// stem in some language is.
func (m *Matcher) known(w string, l int) bool {
	if m.lx.stop[w] != 0 || m.lx.words[w] {
		return true
	}
	if _, ok := m.surf[w]; ok {
		return true
	}
	_, ok := m.resolveStem(w, l)
	return ok
}

// resolveStem stems w in the question's language first, then in the
// others, and returns the first stem the index knows. In another language
// the stem counts only if it cut an ending there: English "quit" is no
// Spanish verb, though it is the stem of "quitar".
func (m *Matcher) resolveStem(w string, l int) (int32, bool) {
	for k := range numLangs {
		ll := (l + k) % numLangs
		st := stem(w, ll)
		if k > 0 && st == w {
			continue
		}
		if t, ok := m.stemSyn[ll][st]; ok {
			return t, true
		}
		if t, ok := m.terms[st]; ok && len(m.ex.post[t]) > 0 {
			return t, true
		}
	}
	return 0, false
}

// analyze turns sc.tokens, in language l, into sc.terms (distinct) and
// sc.unknown.
func (m *Matcher) analyze(sc *scratch, l int) {
	sc.terms = sc.terms[:0]
	sc.unknown = 0
	sc.fixed = sc.fixed[:0]
	for i, w := range sc.tokens {
		fixed := false
		if len(w) >= minStopTypoLen && !m.known(w, l) {
			if c, ok := m.correct(w); ok {
				sc.tokens[i] = c
				fixed = true
			}
		}
		sc.fixed = append(sc.fixed, fixed)
	}
	add := func(t int32) {
		for _, have := range sc.terms {
			if have == t {
				return
			}
		}
		sc.terms = append(sc.terms, t)
	}
	lastNot := -1
	for i := 0; i < len(sc.tokens); {
		canon, n, stop := m.lx.next(sc.tokens, i, l)
		w := sc.tokens[i]
		canon = missing(canon, w, i, &lastNot)
		if canon != "" && canon != offTopic && slices.Contains(sc.fixed[i:i+n], true) {
			// A corrected word is a guess: it counts, but it also
			// leaves part of the question unexplained, so that
			// "plano" read as "plazo" cannot carry an answer alone.
			sc.unknown += typoDoubt
		}
		fixed := sc.fixed[i]
		i += n
		switch {
		case canon == offTopic:
			// Known to be someone else's topic: heavier than a word
			// nobody knows.
			sc.unknown += offTopicWeight
			continue
		case canon != "":
			add(m.terms[canon])
			continue
		case stop:
			continue
		}
		if s, ok := m.surf[w]; ok {
			t := s[l]
			for k := 1; t < 0; k++ {
				t = s[(l+k)%numLangs]
			}
			add(t)
			if fixed {
				sc.unknown += typoDoubt
			}
			continue
		}
		if t, ok := m.resolveStem(w, l); ok {
			add(t)
			if fixed {
				sc.unknown += typoDoubt
			}
			continue
		}
		if len(w) >= 3 {
			// Short unknowns are mostly noise ("kk", "x"); longer ones
			// are words the knowledge base does not speak about.
			sc.unknown++
		}
	}
}

// score ranks the intents for the analysed question: sc.scores gets each
// intent's BM25 rank score and sc.cover the share of the question's weight
// (its words' idf, unknown words included) that the intent's vocabulary
// explains, which is the confidence.
func (m *Matcher) score(sc *scratch) []float32 {
	clear(sc.exDoc)
	clear(sc.exBest)
	clear(sc.inDoc)
	clear(sc.cover)
	var exTotal, inTotal float32
	for _, t := range sc.terms {
		idf := m.ex.idf[t]
		exTotal += idf
		inTotal += m.in.idf[t]
		for _, p := range m.ex.post[t] {
			sc.exDoc[p.doc] += p.w
		}
		for _, p := range m.in.post[t] {
			sc.inDoc[p.doc] += p.w
		}
		for _, p := range m.cover[t] {
			sc.cover[p.doc] += p.w * idf
		}
	}
	unknown := sc.unknown * unknownWeight * m.ex.unseen
	exTotal += unknown
	inTotal += sc.unknown * unknownWeight * m.in.unseen
	if exTotal > 0 {
		for i := range sc.cover {
			sc.cover[i] /= exTotal
		}
	}
	for d, v := range sc.exDoc {
		if i := m.ex.intent[d]; v > sc.exBest[i] {
			sc.exBest[i] = v
		}
	}
	for i := range sc.scores {
		var missing float32
		for _, st := range m.sig[i] {
			if !slices.Contains(sc.terms, st.term) {
				missing += st.tf
			}
		}
		var s float32
		if exTotal > 0 {
			s += exWeight * sc.exBest[i] / exTotal
		}
		if inTotal > 0 {
			s += (1 - exWeight) * sc.inDoc[i] / inTotal
		}
		if m.sigTotal[i] > 0 {
			s *= 1 - sigPenalty*missing/m.sigTotal[i]
		}
		sc.scores[i] = s
	}
	return sc.scores
}
