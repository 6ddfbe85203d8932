package sinks

import (
	"fmt"
	"net/http"
	"net/textproto"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// The CloudEvents HTTP binary mode, written here rather than through
// sdk-go's binding: the attributes come straight from the decoded event
// and the body is its data as stored, with no intermediate message per
// delivery; and header values are percent-encoded as the HTTP binding
// (3.1.3.2) requires, which sdk-go (v2.16) does not do. A receiver that
// follows the binding decodes them; one built on sdk-go sees the escapes
// (sdk-go issue 1331) in the rare value that needs them (space, '"', '%',
// non-ASCII).

// Canonical names of the ce- headers of the context attributes.
const (
	ceSpecVersion = "Ce-Specversion"
	ceID          = "Ce-Id"
	ceSource      = "Ce-Source"
	ceType        = "Ce-Type"
	ceSubject     = "Ce-Subject"
	ceDataSchema  = "Ce-Dataschema"
	ceTime        = "Ce-Time"
)

// encodeBinary sends the event in CloudEvents HTTP binary mode: attributes
// as ce- headers, data (or the input payload) as the body. A value holding
// a control character fails for good (ErrUnbuildable): percent-encoding
// would carry it, but a receiver that does not decode would take it
// as it is, and ingest never stores one.
func encodeBinary(req *http.Request, d *Delivery) ([]byte, error) {
	b, ct, err := body(d)
	if err != nil {
		return nil, err
	}
	var ce http.Header
	if d.Shared != nil {
		ce, err = d.Shared.binaryHeaders(d.Event)
	} else {
		ce, err = binaryHeaders(d.Event)
	}
	if err != nil {
		return nil, err
	}
	for name, v := range ce { // read only from here on: the values are shared
		req.Header[name] = v
	}
	setBody(req, b, ct)
	return b, nil
}

// Shared is what the deliveries of one event build the same for every
// target, built on first use and then read by all of them (safe for
// concurrent use). The zero value is ready.
type Shared struct {
	once sync.Once
	ce   http.Header
	err  error
}

func (s *Shared) binaryHeaders(e *event.Event) (http.Header, error) {
	s.once.Do(func() { s.ce, s.err = binaryHeaders(e) })
	return s.ce, s.err
}

// binaryHeaders are e's attributes and extensions as Ce- headers.
func binaryHeaders(e *event.Event) (http.Header, error) {
	ext := e.Extensions()
	h := make(http.Header, 7+len(ext))
	set := func(name, v string) error {
		if err := checkHeader(name, v); err != nil {
			return Permanent(fmt.Errorf("%w: %w", ErrUnbuildable, err))
		}
		h[name] = []string{percentEncode(v)}
		return nil
	}
	attrs := [...]struct{ name, v string }{{ceSpecVersion, e.SpecVersion()}, {ceID, e.ID()}, {ceSource, e.Source()},
		{ceType, e.Type()}, {ceSubject, e.Subject()}, {ceDataSchema, e.DataSchema()}}
	for _, a := range attrs {
		if a.v == "" {
			continue
		}
		if err := set(a.name, a.v); err != nil {
			return nil, err
		}
	}
	if t := e.Time(); !t.IsZero() {
		h[ceTime] = []string{t.UTC().Format(time.RFC3339Nano)}
	}
	for name, v := range ext {
		s, err := types.Format(v)
		if err != nil {
			return nil, Permanent(fmt.Errorf("extension %s: %w", name, err))
		}
		if err := set(textproto.CanonicalMIMEHeaderKey("Ce-"+name), s); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// percentEncode encodes what the HTTP binding says a header value must
// not hold as it is: space, '"', '%' and every byte outside printable
// ASCII (so UTF-8 byte by byte), as %XX. The common value needs none and
// is returned as it is.
func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if mustEncode(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEncode(c) {
			out = append(out, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func mustEncode(c byte) bool { return c <= ' ' || c > '~' || c == '"' || c == '%' }
