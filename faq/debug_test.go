package faq

import (
	"fmt"
	"strings"
)

// explain shows how the matcher reads a question: its terms, the count of
// unknown words and the ranked scores. Tests print it when a case fails.
func (m *Matcher) explain(question, lang string) string {
	sc := m.getScratch()
	defer m.scratch.Put(sc)
	sc.norm.Reset()
	appendNormalized(&sc.norm, question)
	sc.tokens = appendFields(sc.tokens[:0], sc.norm.String())
	l, ok := detectLang(question, sc.tokens)
	if !ok {
		l = langIndex(lang)
	}
	m.analyze(sc, l)
	var b strings.Builder
	fmt.Fprintf(&b, "lang=%s(detected=%v) tokens=%v terms=[", langNames[l], ok, sc.tokens)
	for _, t := range sc.terms {
		fmt.Fprintf(&b, "%s(ex %.2f) ", m.termNames[t], m.ex.idf[t])
	}
	fmt.Fprintf(&b, "] unknown=%.0f\n", sc.unknown)
	scores := m.score(sc)
	type r struct {
		id string
		s  float32
		e  float32
		p  float32
	}
	var rs []r
	for i, s := range scores {
		rs = append(rs, r{m.intents[i].id, s, sc.exBest[i], sc.inDoc[i]})
	}
	for k := 0; k < 4; k++ {
		bi := k
		for j := k; j < len(rs); j++ {
			if rs[j].s > rs[bi].s {
				bi = j
			}
		}
		rs[k], rs[bi] = rs[bi], rs[k]
		fmt.Fprintf(&b, "  %-22s %.3f (ex %.2f, pooled %.2f)\n", rs[k].id, rs[k].s, rs[k].e, rs[k].p)
	}
	return b.String()
}
