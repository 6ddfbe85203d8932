package sinks_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/auditbus/auditbus/sinks"
)

// A receiver checks each request before trusting it. Answering 401 to a
// bad signature is final for auditbus: the delivery is not retried.
func ExampleVerify() {
	secret := "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // the target's secret, e.g. from the environment
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20)) // the raw bytes: never re-encoded JSON
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := sinks.Verify(secret, r.Header, body, 0, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deduplicate on r.Header.Get("webhook-id"): retries repeat it.
		w.WriteHeader(http.StatusNoContent)
	})

	// A request signed as auditbus signs it, then the same one tampered with.
	body := []byte(`{"eventName":"DeleteCluster"}`)
	now := time.Now()
	sig, _ := sinks.SignHMAC(secret, "msg_8f2c", now, body)
	for _, b := range [][]byte{body, []byte(`{"eventName":"CreateCluster"}`)} {
		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(b))
		req.Header.Set("webhook-id", "msg_8f2c")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 204
	// 401
}
