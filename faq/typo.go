package faq

import "unicode/utf8"

// minTypoLen is the shortest word the typo lookup corrects: below it one
// edit turns too many words into other words ("sms" and "sos"). Four
// letters are enough to correct towards a stop word ("dose" for "does"),
// which can only make a question less unknown, never change its topic.
const (
	minTypoLen     = 5
	minStopTypoLen = 4
)

// typoIndex finds a known word one edit (insertion, deletion, substitution
// or swap of neighbours) away from an unknown one, with the symmetric-delete
// method: every known word is filed under itself and each way of deleting one
// of its letters, so a lookup is a handful of map probes instead of a scan.
type typoIndex struct {
	words []string
	rank  []int  // lower is preferred among several candidates
	stop  []bool // the word is only a stop word
	dels  map[string][]int32
}

func newTypoIndex(words []string, rank []int, stop []bool) typoIndex {
	t := typoIndex{words: words, rank: rank, stop: stop, dels: make(map[string][]int32, len(words)*6)}
	buf := make([]byte, 0, 64)
	for i, w := range words {
		if utf8.RuneCountInString(w) < minStopTypoLen-1 {
			continue
		}
		t.dels[w] = append(t.dels[w], int32(i))
		for j := range len(w) {
			if w[j]&0xC0 == 0x80 {
				continue // a continuation byte: delete whole runes only
			}
			_, size := utf8.DecodeRuneInString(w[j:])
			buf = append(append(buf[:0], w[:j]...), w[j+size:]...)
			k := string(buf)
			t.dels[k] = append(t.dels[k], int32(i))
		}
	}
	return t
}

// correct returns the preferred known word within one edit of w.
func (t *typoIndex) correct(w string) (string, bool) {
	n := utf8.RuneCountInString(w)
	if n < minStopTypoLen {
		return "", false
	}
	best := -1
	consider := func(ids []int32) {
		for _, id := range ids {
			c := int(id)
			if c == best || (n < minTypoLen && !t.stop[c]) || !oneEdit(w, t.words[c]) {
				continue
			}
			if best < 0 || t.rank[c] < t.rank[best] || (t.rank[c] == t.rank[best] && t.words[c] < t.words[best]) {
				best = c
			}
		}
	}
	consider(t.dels[w])
	var arr [64]byte
	buf := arr[:0]
	for j := range len(w) {
		if w[j]&0xC0 == 0x80 {
			continue
		}
		_, size := utf8.DecodeRuneInString(w[j:])
		buf = append(append(buf[:0], w[:j]...), w[j+size:]...)
		consider(t.dels[string(buf)]) // no allocation: map index by converted bytes
	}
	if best < 0 {
		return "", false
	}
	return t.words[best], true
}

// oneEdit reports whether a and b differ by exactly one insertion, deletion,
// substitution or swap of neighbouring letters (optimal string alignment
// distance 1).
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	switch len(ra) - len(rb) {
	case 0:
		i := 0
		for i < len(ra) && ra[i] == rb[i] {
			i++
		}
		if i+1 < len(ra) && ra[i] == rb[i+1] && ra[i+1] == rb[i] {
			// a swap of neighbours: the rest must agree
			return string(ra[i+2:]) == string(rb[i+2:])
		}
		return string(ra[i+1:]) == string(rb[i+1:])
	case 1:
		i := 0
		for i < len(rb) && ra[i] == rb[i] {
			i++
		}
		return string(ra[i+1:]) == string(rb[i:])
	}
	return false
}
