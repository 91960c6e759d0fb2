package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
)

// templatePages runs the simulator behind a recorder of the template
// copy requests' bodies.
type templatePages struct {
	sim *metasim.Sim
	mu  sync.Mutex
	got []map[string]any
}

func (p *templatePages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m["source_waba_id"] != nil {
		p.mu.Lock()
		p.got = append(p.got, m)
		p.mu.Unlock()
	}
	p.sim.ServeHTTP(w, r)
}

// field lists one field of every request, in order.
func (p *templatePages) field(name string) []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []any
	for _, m := range p.got {
		out = append(out, m[name])
	}
	return out
}

func newTemplateSim(t *testing.T, cfg graph.Config) (*templatePages, *graph.Client) {
	t.Helper()
	sim, err := metasim.New(metasim.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	p := &templatePages{sim: sim}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.Token = srv.URL, token
	cfg.RetryWait, cfg.RetryMaxWait = time.Millisecond, 2*time.Second
	return p, graph.New(cfg)
}

// The simulator's source holds 7 templates, 2 of which fail to copy.
func wantAllTemplates(t *testing.T, c *graph.Client) {
	t.Helper()
	res, err := c.MigrateTemplates(t.Context(), metasim.SandboxWABA, metasim.SandboxSourceWABA)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Migrated) != 5 || len(res.Failed) != 2 {
		t.Errorf("copied %d and failed %d templates, want 5 and 2: %+v", len(res.Migrated), len(res.Failed), res)
	}
}

// Pages follow Graph's cursor until paging.next is gone; no page asks for
// more than Meta's 500.
func TestTemplateCopyPagesByCursor(t *testing.T) {
	p, c := newTemplateSim(t, graph.Config{TemplateCount: 5})
	wantAllTemplates(t, c)
	if diff := cmp.Diff([]any{5.0, 5.0}, p.field("count")); diff != "" {
		t.Errorf("counts asked (-want +got):\n%s", diff)
	}
	after := p.field("after")
	if len(after) != 2 || after[0] != nil || after[1] == nil || after[1] == "" {
		t.Errorf("cursors sent %v, want none on the first page and Meta's after on the second", after)
	}

	p, c = newTemplateSim(t, graph.Config{TemplateCount: 5000})
	wantAllTemplates(t, c)
	if diff := cmp.Diff([]any{500.0}, p.field("count")); diff != "" {
		t.Errorf("counts asked with a configured 5000 (-want +got):\n%s", diff)
	}
}

// A page slower than the threshold makes the next one smaller. The
// threshold is tiny, so every page counts as slow.
func TestSlowTemplatePagesAskForFewer(t *testing.T) {
	p, c := newTemplateSim(t, graph.Config{TemplateCount: 5, TemplateSlowPage: time.Nanosecond})
	wantAllTemplates(t, c)
	if diff := cmp.Diff([]any{5.0, 1.0, 1.0}, p.field("count")); diff != "" {
		t.Errorf("counts asked (-want +got):\n%s", diff)
	}
}

// A page that times out is asked again, smaller, not the same.
func TestTimedOutTemplatePageIsAskedSmaller(t *testing.T) {
	p, c := newTemplateSim(t, graph.Config{Timeout: 200 * time.Millisecond})
	p.sim.Inject(metasim.Fault{Kind: metasim.FaultTimeout, Endpoint: metasim.EndpointTemplates, Times: 1, Delay: 5 * time.Second})
	wantAllTemplates(t, c)
	if diff := cmp.Diff([]any{500.0, 250.0}, p.field("count")); diff != "" {
		t.Errorf("counts asked (-want +got):\n%s", diff)
	}
}
