package bot

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"unicode"
)

// A PIN has only a million values, so a fast hash would give it away; the
// iteration count makes guessing the stored confirmation hash expensive
// while costing a turn a few milliseconds.
const pinIterations = 60_000

// hashPIN returns "salt$hash" for pin.
func hashPIN(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	h, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return enc.EncodeToString(salt) + "$" + enc.EncodeToString(h), nil
}

// pinMatches reports whether pin is the one hashed into stored.
func pinMatches(stored, pin string) bool {
	enc := base64.RawStdEncoding
	s, h, ok := strings.Cut(stored, "$")
	if !ok {
		return false
	}
	salt, err1 := enc.DecodeString(s)
	want, err2 := enc.DecodeString(h)
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	return err == nil && hmac.Equal(got, want)
}

// weakPIN reports PINs anyone would guess: one digit repeated, a run up or
// down, or a short pattern repeated (121212, 123123).
func weakPIN(pin string) bool {
	up, down := true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		if d != 1 && d != -9 {
			up = false
		}
		if d != -1 && d != 9 {
			down = false
		}
	}
	if up || down {
		return true
	}
	for _, period := range []int{1, 2, 3} {
		if strings.Repeat(pin[:period], len(pin)/period) == pin {
			return true
		}
	}
	return false
}

// sixDigits extracts a 6-digit code or PIN from "123456", "123-456",
// "123 456" or "123.456". letters reports input that mixes in letters, which
// deserves its own advice.
func sixDigits(text string) (code string, letters bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(text) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.':
		default:
			return "", true
		}
	}
	if b.Len() != 6 {
		return "", false
	}
	return b.String(), false
}

// codeIn finds a code or PIN said in a sentence ("the code is 246810",
// "PIN: 472 913"): the message's only digits, 6 of them in one place,
// standing apart from its words. Digits run into letters ("24681O") are a
// typo to point out, and a question, a "but" or a negation may be about
// another code: none of them is read, since a wrong code costs one of the
// few attempts Meta allows.
func codeIn(text string) (string, bool) {
	if len(text) > 200 || strings.Contains(text, "?") {
		return "", false
	}
	tokens := strings.Fields(text)
	if len(tokens) > 12 {
		return "", false
	}
	var code strings.Builder
	last, words := -1, 0
	for i, tok := range tokens {
		tok = strings.Trim(tok, ":;,.!\"'*()[]")
		hasDigit := strings.ContainsFunc(tok, unicode.IsDigit)
		if !hasDigit {
			if tok != "" {
				words++
			}
			if answerDoubts[fold(tok)] {
				return "", false
			}
			continue
		}
		d, letters := sixDigitsRun(tok)
		if letters || (last >= 0 && last != i-1) {
			return "", false
		}
		last = i
		code.WriteString(d)
	}
	if words == 0 || code.Len() != 6 {
		return "", false
	}
	return code.String(), true
}

// sixDigitsRun is the digits of one token of a code ("246", "246-810"),
// and whether anything but digits and separators is in it.
func sixDigitsRun(tok string) (string, bool) {
	var b strings.Builder
	for _, r := range tok {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '.':
		default:
			return "", true
		}
	}
	return b.String(), false
}

// answerDoubts are words that put a code said in a sentence in doubt.
var answerDoubts = negationsAnd("but", "old", "wrong", "expired",
	"mas", "antigo", "errado", "expirou", "pero", "viejo", "equivocado", "expiro")
