package onboard_test

import (
	"bytes"
	"testing"

	"portabot/adapters/onboard"
)

func FuzzDecodeCompletion(f *testing.F) {
	f.Add([]byte(`{"event":"FINISH","code":"abc","waba_id":"123","business_id":"9"}`))
	f.Add([]byte(`{"event":"CANCEL","current_step":"waba_creation"}`))
	f.Add([]byte(`{"event":"ERROR","error_message":"x"} {}`))
	f.Add([]byte(`{"event":"FINISH","extra":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := onboard.DecodeCompletion(bytes.NewReader(body))
		if err != nil {
			return
		}
		switch ev.Event {
		case "FINISH", "CANCEL", "ERROR":
		default:
			t.Fatalf("accepted event %q", ev.Event)
		}
		if len(ev.Code) > 2048 || len(ev.WABA) > 100 || len(ev.Error) > 1000 {
			t.Fatalf("accepted oversized fields: %d %d %d", len(ev.Code), len(ev.WABA), len(ev.Error))
		}
	})
}
