package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/auditbus/auditbus/router/sources"
)

// formatNames say what each --format of raw records is.
var formatNames = map[string]string{
	"cloudaudit": "Tencent CloudAudit",
	"cts":        "Huawei CTS",
	"k8s-audit":  "Kubernetes audit",
}

// request is one body to post, holding items events or records: the
// file's from first on (0-based), at where they are in the file
// (path:line:column; nil when the server splits the body itself).
type request struct {
	body        []byte
	contentType string
	items       int
	first       int
	at          []string
}

// publishBodies reads the file and cuts it into request bodies of at most
// --batch items. CloudEvents are checked locally first and sent in batched
// mode; raw records are split when the file is an array or NDJSON, and a
// single object (an EventList, {"traces": [...]}) is sent as it is, the
// server knowing every shape.
func publishBodies(f publishFlags, stdin io.Reader) ([]request, int, error) {
	if f.format == "cloudevents" {
		src, err := readSource(f.file, stdin)
		if err != nil {
			return nil, 0, err
		}
		if shape := recordShape(src); shape != "" {
			return nil, 0, withHint(fmt.Errorf("%s holds %s records, not CloudEvents", f.file, formatNames[shape]), "pass --format "+shape)
		}
		events, at, err := parseEvents(f.file, src)
		if err != nil {
			return nil, 0, err
		}
		var out []request
		for start := 0; start < len(events); start += f.batch {
			chunk := events[start:min(start+f.batch, len(events))]
			body, err := json.Marshal(chunk)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, request{body, "application/cloudevents-batch+json", len(chunk), start, at[start : start+len(chunk)]})
		}
		return out, len(events), nil
	}
	src, err := readSource(f.file, stdin)
	if err != nil {
		return nil, 0, err
	}
	recs, err := sources.Records(src, "")
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.file, err)
	}
	var at []string
	if vals, err := splitJSON(src); err == nil && len(vals) == len(recs) && len(recs) > 1 {
		at = valuePositions(f.file, src, vals)
	}
	var out []request
	for start := 0; start < len(recs); start += f.batch {
		chunk := recs[start:min(start+f.batch, len(recs))]
		body, err := json.Marshal(chunk)
		if err != nil {
			return nil, 0, err
		}
		if len(recs) == 1 {
			body = recs[0]
		}
		r := request{body, "application/json", len(chunk), start, nil}
		if at != nil {
			r.at = at[start : start+len(chunk)]
		}
		out = append(out, r)
	}
	return out, len(recs), nil
}

func readSource(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}
