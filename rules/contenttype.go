package rules

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
)

// data scans the data member, noting what dataAsScanned needs.
func (s *scanner) data(c *fieldNode, serial uint32) error {
	rest := s.buf[s.i:]
	switch {
	case bytes.HasPrefix(rest, []byte(`""`)):
		s.st.dataKind = 'e'
	case len(rest) > 0 && rest[0] == '"':
		s.st.dataKind = '"'
		start := s.i
		if err := s.skipString(); err != nil {
			return err
		}
		s.st.dataReadable = readerAgrees(s.buf[start+1 : s.i-1])
		s.i = start
	case len(rest) > 0 && rest[0] == '{':
		s.st.dataKind = 'o'
	default:
		s.st.dataKind = 'v'
	}
	return s.field(c, serial)
}

// dataAsScanned reports whether NewEnv sees data as the scan did. Two JSON
// tests decide what data becomes: sdk-go keeps it as JSON for four media
// types (or none), compared as written, and otherwise reads it as a JSON
// string; NewEnv then parses it when its own, wider and case-insensitive
// test says JSON. Where both say JSON, data is the JSON the scan read;
// where neither does, a non-empty string is the string. Anything else is
// left to the slow path, which is always right.
func (st *state) dataAsScanned() bool {
	if st.dataKind == 0 {
		return true
	}
	switch mediaKindOf(st.contentType) {
	case mediaJSON:
		return true
	case mediaOther:
		return st.dataKind == '"' && st.dataReadable
	}
	return false
}

type mediaKind int

const (
	mediaUnsure mediaKind = iota // the two tests disagree
	mediaJSON                    // JSON to sdk-go and to NewEnv
	mediaOther                   // JSON to neither
)

// sdkJSONTypes are the media types sdk-go keeps as JSON data.
var sdkJSONTypes = []string{"application/json", "text/json", "application/cloudevents+json", "application/cloudevents-batch+json"}

func mediaKindOf(ct string) mediaKind {
	for i := 0; i < len(ct); i++ {
		if ct[i] >= utf8.RuneSelf {
			return mediaUnsure // case folding beyond ASCII: let NewEnv judge
		}
	}
	base, _, hasParams := strings.Cut(ct, ";")
	sdkType := ct // sdk-go trims only what precedes parameters
	if hasParams {
		sdkType = strings.TrimSpace(base)
	}
	sdk := sdkType == "" || slices.Contains(sdkJSONTypes, sdkType)
	base = strings.TrimSpace(base)
	ours := ct == "" || strings.EqualFold(base, "application/json") || strings.EqualFold(base, "text/json") ||
		(len(base) >= 5 && strings.EqualFold(base[len(base)-5:], "+json"))
	switch {
	case sdk && ours:
		return mediaJSON
	case !sdk && !ours:
		return mediaOther
	}
	return mediaUnsure
}
