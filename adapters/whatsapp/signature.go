package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header Meta signs webhook bodies in.
const SignatureHeader = "X-Hub-Signature-256"

// SignBody returns the X-Hub-Signature-256 value Meta would send with body:
// "sha256=" and the lowercase hex HMAC-SHA256 of the bytes, keyed with the
// app secret. portabot's own clients (chat --server, load tools) sign their
// webhooks with it.
func SignBody(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// validSignature checks header against body. The MAC is computed over the
// bytes exactly as received: Meta signs its unicode-escaped JSON, and any
// re-encoding would change them. An empty secret verifies nothing.
func validSignature(secret, header string, body []byte) bool {
	got, ok := parseSignature(secret, header)
	return ok && hmac.Equal(got, mac(secret, body))
}

// parseSignature returns the MAC header claims, or false when it cannot
// match any body: no secret, or a header that is not "sha256=" and 64 hex
// digits. Such a request is refused before its body is read.
func parseSignature(secret, header string) ([]byte, bool) {
	if secret == "" {
		return nil, false
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return nil, false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return nil, false
	}
	return got, true
}
