package api_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/auditbus/auditbus/router/api"
)

// TestConsoleCallsWithout: a server without an index or a DLQ says so
// with its sentinel, and has no topics or notifications to list.
func TestConsoleCallsWithout(t *testing.T) {
	s := api.New(nil)
	ctx := context.Background()
	if _, err := s.AuditEvents(ctx, url.Values{}); !errors.Is(err, api.ErrNoAuditIndex) {
		t.Errorf("AuditEvents: %v, want ErrNoAuditIndex", err)
	}
	if _, err := s.SearchAuditEvents(ctx, api.SearchRequest{}); !errors.Is(err, api.ErrNoAuditIndex) {
		t.Errorf("SearchAuditEvents: %v, want ErrNoAuditIndex", err)
	}
	if _, err := s.ListDLQ(ctx, url.Values{}); !errors.Is(err, api.ErrNoDLQ) {
		t.Errorf("ListDLQ: %v, want ErrNoDLQ", err)
	}
	if _, err := s.RedriveDLQ(ctx, api.RedriveRequest{IDs: []uint64{1}}); !errors.Is(err, api.ErrNoDLQ) {
		t.Errorf("RedriveDLQ: %v, want ErrNoDLQ", err)
	}
	if ts, err := s.TopicsList(ctx); ts != nil || err != nil {
		t.Errorf("TopicsList: %v %v, want none", ts, err)
	}
	if ns, err := s.NotificationsList(ctx); ns != nil || err != nil {
		t.Errorf("NotificationsList: %v %v, want none", ns, err)
	}
}
