package index_test

import (
	"context"
	"slices"
	"testing"

	"github.com/auditbus/auditbus/router/index"
	"github.com/auditbus/auditbus/router/index/indextest"
)

// TestSearchOffset: pages by offset walk every match once, newest first,
// and an offset past the end is an empty page.
func TestSearchOffset(t *testing.T) {
	recs := corpus(120)
	q := index.Query{Equal: map[index.Field][]string{index.FieldOutcome: {"success"}}, Limit: 7}
	exp := want(recs, q)
	for _, st := range indextest.Stores {
		t.Run(st.Name, func(t *testing.T) {
			s := st.Open(t)
			if err := s.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for q.Offset = 0; q.Offset <= len(exp); q.Offset += q.Limit {
				page, err := s.Search(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page {
					got = append(got, r.Seq)
				}
			}
			if !slices.Equal(got, exp) {
				t.Errorf("offset pages %v\nwant %v", got, exp)
			}
		})
	}
}
