package graph

import (
	"context"
	"maps"
)

// paging is Graph's cursor block, sent with a list read's answer and, when
// Meta pages by cursor, with a template copy's.
type paging struct {
	Cursors struct {
		After string `json:"after"`
	} `json:"cursors"`
	Next string `json:"next"`
}

// after is the cursor of the next page, or "" when there is none to follow:
// Graph drops paging.next on the last page, and a next without a cursor
// cannot be asked for.
func (p paging) after() string {
	if p.Next == "" {
		return ""
	}
	return p.Cursors.After
}

// page is one answer of a Graph list read.
type page[T any] struct {
	Data   []T    `json:"data"`
	Paging paging `json:"paging"`
}

// readPages makes the list read q page by page, adding Meta's cursor to
// q.query as after, and hands each page's items to each as they arrive, so
// that on an error the caller still holds what earlier pages said. It stops
// when Meta says there is no more, when it hands back a cursor it gave
// before (the pages from there on were read already), or after maxPages
// pages, so a server that never stops paging cannot keep the caller busy
// forever.
func readPages[T any](ctx context.Context, c *Client, q request, maxPages int, each func([]T)) error {
	first, after := q.query, ""
	seen := map[string]bool{}
	for range maxPages {
		// A fresh answer each page: a field the next page leaves out must
		// not keep the value of the one before.
		var out page[T]
		q.query = first
		if after != "" {
			q.query = make(map[string]string, len(first)+1)
			maps.Copy(q.query, first)
			q.query["after"] = after
		}
		q.out = &out
		if err := c.do(ctx, q); err != nil {
			return err
		}
		each(out.Data)
		if after = out.Paging.after(); after == "" || seen[after] {
			return nil
		}
		seen[after] = true
	}
	return nil
}
