package metahttp

import (
	"testing"
	"time"
)

// The Graph client and the sender take their origin and version from one
// place: a config left empty talks to Meta's production origin at the
// version portabot was written against, and one given is kept.
func TestWithDefaults(t *testing.T) {
	got := ClientConfig{}.WithDefaults(15 * time.Second)
	if got.BaseURL != DefaultBaseURL || got.Version != DefaultVersion || got.Timeout != 15*time.Second || got.Log == nil {
		t.Errorf("empty config with defaults = %+v; want Graph's origin, %s, 15s and a logger", got, DefaultVersion)
	}
	got = ClientConfig{BaseURL: "http://sim", Version: "/v19.0/", Timeout: time.Second}.WithDefaults(15 * time.Second)
	if got.BaseURL != "http://sim" || got.Version != "v19.0" || got.Timeout != time.Second {
		t.Errorf("given config with defaults = %+v; want its origin, v19.0 and 1s kept", got)
	}
}
