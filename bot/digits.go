package bot

import "strings"

// Digits keeps the digits of s, so "+55 (11) 98765-4321" and
// "5511987654321" compare equal.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// AllDigits reports whether s is from min to max ASCII digits and nothing
// else: the shape of Graph's ids, codes and phone number parts.
func AllDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
