package whatsapp

import (
	"testing"
	"time"
)

// BenchmarkVerifyAndDecode is the work every webhook costs before it is
// stored: the signature over the raw body, then the parse.
func BenchmarkVerifyAndDecode(b *testing.B) {
	const secret = "bench-secret"
	body := BuildTextWebhook("109876543210", "5511987654321", "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDMEE",
		"Quanto tempo leva a portabilidade do número?", time.Unix(1764230400, 0))
	sig := SignBody(secret, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !validSignature(secret, sig, body) {
			b.Fatal("signature refused")
		}
		d, err := decode(body, "109876543210")
		if err != nil || len(d.Messages) != 1 {
			b.Fatalf("decode: %v (%d messages)", err, len(d.Messages))
		}
	}
}
