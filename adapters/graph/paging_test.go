package graph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"portabot/adapters/graph"
	"portabot/bot"
)

// listRead is one of the client's reads that page through a Graph list.
type listRead struct {
	name string
	op   string // what its errors name
	path string
	// item is one element of the list's data; read returns how many
	// elements the read took in.
	item string
	read func(context.Context, *graph.Client) (int, error)
}

var listReads = []listRead{
	{
		name: "phone numbers", op: "list_phone_numbers", path: "/v25.0/102290129340398/phone_numbers",
		item: `{"id":"106540352242922","display_phone_number":"+55 11 98765-4321"}`,
		read: func(ctx context.Context, c *graph.Client) (int, error) {
			list, err := c.PhoneNumbers(ctx, "102290129340398")
			return len(list), err
		},
	},
	{
		name: "templates", op: "message_templates", path: "/v25.0/887766554433221/message_templates",
		item: `{"id":"1473688840035974","status":"APPROVED","quality_score":{"score":"GREEN"}}`,
		read: func(ctx context.Context, c *graph.Client) (int, error) {
			_, total, err := c.Templates(ctx, "887766554433221")
			return total, err
		},
	},
}

// listPage is a page of n items; paging is Graph's paging object, or ""
// for an answer without one.
func (l listRead) page(n int, paging string) reply {
	items := strings.TrimSuffix(strings.Repeat(l.item+",", n), ",")
	body := `{"data":[` + items + `]`
	if paging != "" {
		body += `,"paging":` + paging
	}
	return ok(body + "}")
}

// cursor is Graph's paging object pointing past a page at after.
func cursor(after string) string {
	return fmt.Sprintf(`{"cursors":{"before":"QVFIUbefore","after":%q},"next":"https://graph.facebook.com/v25.0/x?after=%s"}`, after, after)
}

// afters lists the after parameter of every request, "" where none was sent.
func afters(reqs []seen) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Query.Get("after"))
	}
	return out
}

// A page can come back empty and still point further; the read goes on
// to the end, asking every page with the first page's fields and limit.
func TestListReadsFollowCursorsPastEmptyPages(t *testing.T) {
	for _, l := range listReads {
		t.Run(l.name, func(t *testing.T) {
			f, c, _ := newGraph(t, l.page(2, cursor("QVFIUpage2")), l.page(0, cursor("QVFIUpage3")), l.page(1, ""))
			n, err := l.read(t.Context(), c)
			if err != nil || n != 3 {
				t.Fatalf("read %d items, %v; want all 3", n, err)
			}
			reqs := f.requests()
			if diff := cmp.Diff([]string{"", "QVFIUpage2", "QVFIUpage3"}, afters(reqs)); diff != "" {
				t.Errorf("cursors sent mismatch (-want +got):\n%s", diff)
			}
			for i, r := range reqs {
				if r.Method != "GET" || r.Path != l.path || r.Query.Get("limit") != "100" || r.Query.Get("fields") != reqs[0].Query.Get("fields") {
					t.Errorf("page %d asked %s %s?%s; want GET %s with the first page's fields and limit 100",
						i+1, r.Method, r.Path, r.Query.Encode(), l.path)
				}
			}
		})
	}
}

// Meta's last page has cursors but no next; a next without a cursor cannot
// be followed. Either ends the read after that page.
func TestListReadsEndWhereMetaSaysNoMore(t *testing.T) {
	ends := map[string]string{
		"no paging":                "",
		"cursors without next":     `{"cursors":{"before":"QVFIUa","after":"QVFIUb"}}`,
		"next without a cursor":    `{"cursors":{},"next":"https://graph.facebook.com/v25.0/x"}`,
		"next with an empty after": `{"cursors":{"after":""},"next":"https://graph.facebook.com/v25.0/x"}`,
	}
	for _, l := range listReads {
		for name, paging := range ends {
			t.Run(l.name+"/"+name, func(t *testing.T) {
				f, c, _ := newGraph(t, l.page(2, paging), l.page(5, ""))
				n, err := l.read(t.Context(), c)
				if err != nil || n != 2 {
					t.Errorf("read %d items, %v; want the 2 of the only page", n, err)
				}
				if got := len(f.requests()); got != 1 {
					t.Errorf("made %d requests, want 1", got)
				}
			})
		}
	}
}

// Meta refusing a later page is the read's error, named after the read, and
// the caller keeps what the pages before it said.
func TestListReadErrorOnALaterPage(t *testing.T) {
	for _, l := range listReads {
		t.Run(l.name, func(t *testing.T) {
			f, c, _ := newGraph(t, l.page(2, cursor("QVFIUpage2")),
				graphError(400, `"message":"Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"AbC9"`))
			n, err := l.read(t.Context(), c)
			if n != 2 {
				t.Errorf("kept %d items, want the 2 of the first page", n)
			}
			ge, isGraph := errors.AsType[*bot.GraphError](err)
			if !isGraph || ge.Code != 100 || ge.TraceID != "AbC9" {
				t.Fatalf("error = %v; want Meta's code 100 refusal", err)
			}
			if want := "graph: " + l.op + ": code 100"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error text %q, want it to begin %q", err, want)
			}
			if diff := cmp.Diff([]string{"", "QVFIUpage2"}, afters(f.requests())); diff != "" {
				t.Errorf("cursors sent mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A server that keeps sending the same cursor does not keep the read going:
// the page after a cursor given twice was read already.
func TestListReadsEndWhenTheCursorRepeats(t *testing.T) {
	for _, l := range listReads {
		t.Run(l.name, func(t *testing.T) {
			f, c, _ := newGraph(t, l.page(1, cursor("QVFIUsame")))
			if _, err := l.read(t.Context(), c); err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := len(f.requests()); got != 2 {
				t.Errorf("made %d requests, want 2: the first page, then the one its cursor names, whose cursor was seen", got)
			}
		})
	}
}
