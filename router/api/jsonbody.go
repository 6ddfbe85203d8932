package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/auditbus/auditbus/router/ingest"
)

// readJSON reads the request's body (at most the server's body limit)
// into v: one JSON value, without fields v does not have and with nothing
// after it but white space. It answers the problem itself (413, or 400
// CodeMalformed naming what and why) and reports whether v holds the
// body.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, what string, v any) bool {
	raw, err := ingest.ReadBody(r, s.opts.maxBody)
	if err != nil {
		status, code := errorStatus(err)
		writeError(w, status, code, publicMessage(code, err))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, what+": "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, CodeMalformed, fmt.Sprintf("%s: data after the JSON value, at byte %d: send one object", what, dec.InputOffset()))
		return false
	}
	return true
}
