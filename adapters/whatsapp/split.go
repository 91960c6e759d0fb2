package whatsapp

import (
	"strings"
	"unicode"
)

// Meta's limits on message parts, in characters.
const (
	maxText        = 4096 // text body, list body
	maxButtonBody  = 1024 // reply-button body
	maxButtonTitle = 20
	maxButtons     = 3
	maxListLabel   = 20
	maxRows        = 10
	maxRowTitle    = 24
	maxRowDesc     = 72
)

// splitText cuts s into parts of at most max characters, each cut at the
// last paragraph break that fits, else the last line break, else the last
// space, and only as a last resort between two characters. Runes are never
// split. The whitespace at a cut is dropped; an empty s is one empty part.
func splitText(s string, max int) []string {
	r := []rune(s)
	var parts []string
	for len(r) > max {
		cut, skip := lastBreak(r[:max+1])
		part := strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace)
		if part != "" {
			parts = append(parts, part)
		}
		r = trimLeftSpace(r[cut+skip:])
	}
	if len(r) > 0 || len(parts) == 0 {
		parts = append(parts, string(r))
	}
	return parts
}

// splitTail cuts s into a head and a tail of at most max characters, the
// tail starting after the first paragraph break that leaves it short
// enough, else the first such line break or space. It keeps the end of a
// long text, usually the question the buttons answer, whole.
func splitTail(s string, max int) (head, tail string) {
	r := []rune(s)
	if len(r) <= max {
		return "", s
	}
	from := len(r) - max // the tail may start no earlier
	start := -1
	for _, sep := range [][]rune{[]rune("\n\n"), []rune("\n"), []rune(" ")} {
		if i := indexFrom(r, sep, from-len(sep)); i >= 0 {
			start = i + len(sep)
			break
		}
	}
	if start < 0 {
		start = from
	}
	head = strings.TrimRightFunc(string(r[:start]), unicode.IsSpace)
	tail = string(trimLeftSpace(r[start:]))
	return head, tail
}

// lastBreak returns where to cut window (which is one character longer than
// a part may be, so a break right after a full part is seen) and how many
// separator characters to skip there. A paragraph or line break counts only
// in the second half of the window: a short greeting before a long
// paragraph should not become a message of its own.
func lastBreak(window []rune) (cut, skip int) {
	half := len(window) / 2
	for _, b := range []struct {
		sep []rune
		min int
	}{{[]rune("\n\n"), half}, {[]rune("\n"), half}, {[]rune(" "), 1}} {
		if i := lastIndex(window, b.sep); i >= b.min && i > 0 {
			return i, len(b.sep)
		}
	}
	return len(window) - 1, 0
}

func lastIndex(r, sep []rune) int {
	for i := len(r) - len(sep); i >= 0; i-- {
		if hasAt(r, sep, i) {
			return i
		}
	}
	return -1
}

// indexFrom returns the first index >= from where sep occurs in r, or -1.
func indexFrom(r, sep []rune, from int) int {
	for i := max(from, 0); i+len(sep) <= len(r); i++ {
		if hasAt(r, sep, i) {
			return i
		}
	}
	return -1
}

func hasAt(r, sep []rune, i int) bool {
	for j, c := range sep {
		if r[i+j] != c {
			return false
		}
	}
	return true
}

func trimLeftSpace(r []rune) []rune {
	for len(r) > 0 && unicode.IsSpace(r[0]) {
		r = r[1:]
	}
	return r
}

// truncate shortens s to max characters, ending it with "…" when cut.
func truncate(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	if max <= 1 {
		return string(r[:max])
	}
	return strings.TrimRightFunc(string(r[:max-1]), unicode.IsSpace) + "…"
}
