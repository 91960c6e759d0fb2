package faq

import (
	"cmp"
	"slices"
	"unicode/utf8"
)

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
// The variants are filed by a hash in one sorted array, not as strings in a
// map, which saves an allocation per variant; a collision only adds a
// candidate that oneEdit then turns down.
type typoIndex struct {
	words []string
	rank  []int  // lower is preferred among several candidates
	stop  []bool // the word is a stop word
	dels  []variant
}

type variant struct {
	hash uint64
	word int32
}

// variantHash is the FNV-1a hash of w without its bytes [skip, skip+n).
func variantHash(w string, skip, n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(w); i++ {
		if i == skip {
			i += n - 1
			continue
		}
		h ^= uint64(w[i])
		h *= 1099511628211
	}
	return h
}

func newTypoIndex(words []string, rank []int, stop []bool) typoIndex {
	t := typoIndex{words: words, rank: rank, stop: stop, dels: make([]variant, 0, len(words)*9)}
	for i, w := range words {
		if utf8.RuneCountInString(w) < minStopTypoLen-1 {
			continue
		}
		id := int32(i)
		t.dels = append(t.dels, variant{variantHash(w, -1, 0), id})
		for j, r := range w {
			t.dels = append(t.dels, variant{variantHash(w, j, utf8.RuneLen(r)), id})
		}
	}
	slices.SortFunc(t.dels, func(a, b variant) int { return cmp.Compare(a.hash, b.hash) })
	return t
}

// candidates calls f with every word filed under hash h.
func (t *typoIndex) candidates(h uint64, f func(int)) {
	i, _ := slices.BinarySearchFunc(t.dels, h, func(v variant, h uint64) int { return cmp.Compare(v.hash, h) })
	for ; i < len(t.dels) && t.dels[i].hash == h; i++ {
		f(int(t.dels[i].word))
	}
}

// correct returns the preferred known word within one edit of w.
func (t *typoIndex) correct(w string) (string, bool) {
	n := utf8.RuneCountInString(w)
	if n < minStopTypoLen {
		return "", false
	}
	best := -1
	consider := func(c int) {
		if c == best || (n < minTypoLen && !t.stop[c]) || !oneEdit(w, t.words[c]) {
			return
		}
		if best < 0 || t.rank[c] < t.rank[best] || (t.rank[c] == t.rank[best] && t.words[c] < t.words[best]) {
			best = c
		}
	}
	t.candidates(variantHash(w, -1, 0), consider)
	for j, r := range w {
		t.candidates(variantHash(w, j, utf8.RuneLen(r)), consider)
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
