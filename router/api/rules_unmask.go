package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/rules"
	"github.com/auditbus/auditbus/sinks"
)

// ErrStillMasked: an edited rule document holds Masked in a target
// setting that is not the masked form of the stored value (typed anew, or
// the rule changed), so saving it would replace a secret by its mask. The
// error wraps rules.Errors naming each such field at its line:col.
var ErrStillMasked = errors.New("the document still holds masked secrets")

// unmask is doc, the text of API rule name of bus as GET or the
// console's editor showed it (masked, at revision ifMatch names) and its
// author changed it, with the stored secrets put back: each target setting
// whose value still equals the masked form of the stored one (a secret as
// Masked, a URL as sinks.RedactURL shows it) becomes the stored value, so
// a document sent back unchanged stores unchanged and an edited value is
// taken as typed. Targets are matched by id, settings by their path in
// the target. Without a revision nothing is put back. The bus is bus,
// else the document's, else default. Errors: ErrStillMasked (with
// rules.Errors) for a mask left anywhere else, ErrPreconditionFailed when
// the rule is no longer at the revision, an *auth.Error for a bus the
// identity may not use. A document that does not parse is returned as it
// is: storing it reports why.
func (s *Server) unmask(ctx context.Context, bus, name string, doc []byte, ifMatch *Precondition) ([]byte, error) {
	if !bytes.Contains(doc, []byte(Masked)) {
		return doc, nil
	}
	if bus == "" {
		var named struct {
			Bus string `yaml:"bus"`
		}
		_ = yaml.Unmarshal(doc, &named)
		bus = cmp.Or(named.Bus, rules.DefaultBus)
	}
	if !auth.BusAllowed(ctx, bus) {
		return nil, auth.Forbidden(auth.FromContext(ctx), bus)
	}
	var stored []byte
	if ifMatch != nil && ifMatch.Revision > 0 {
		if st, ok := s.opts.rules.Get(bus, name); ok && st.Origin.Kind == OriginAPI {
			if st.Revision != ifMatch.Revision {
				return nil, fmt.Errorf("%w: rule %q is at revision %d, not %d", ErrPreconditionFailed, name, st.Revision, ifMatch.Revision)
			}
			stored = st.Document
		}
	}
	return unmaskDocument(stored, doc)
}

// restoration is one edited scalar to replace by the stored value.
type restoration struct{ edited, stored *yaml.Node }

// unmaskDocument is unmask on the stored document (nil: none).
func unmaskDocument(stored, edited []byte) ([]byte, error) {
	var eroot, sroot yaml.Node
	if yaml.Unmarshal(edited, &eroot) != nil {
		return edited, nil
	}
	_ = yaml.Unmarshal(stored, &sroot) // a stored document that does not parse has nothing to put back
	etargets, stargets := targetsOf(&eroot), targetsOf(&sroot)
	found, moved := matchTargets(etargets, stargets)
	restored := map[*yaml.Node]bool{}
	for _, r := range found {
		restored[r.edited] = true
	}
	if errs := stillMasked(etargets, restored, moved); len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrStillMasked, errs)
	}
	if len(found) == 0 {
		return edited, nil
	}
	out, ok := splice(edited, found)
	var check yaml.Node
	if !ok || yaml.Unmarshal(out, &check) != nil {
		for _, r := range found {
			*r.edited = *expand(r.stored, 0)
		}
		var err error
		if out, err = yaml.Marshal(&eroot); err != nil {
			return nil, fmt.Errorf("re-encode the document with its secrets: %w", err)
		}
	}
	if sameValue(out, stored) {
		return stored, nil // unchanged: stored as it was, byte for byte
	}
	return out, nil
}

// matchTargets walks each edited target beside the stored one of the
// same id, returning the settings to put back, and the targets whose URLs
// name another host than the stored one's (whose secrets are not).
func matchTargets(etargets, stargets *yaml.Node) (found []restoration, moved map[*yaml.Node]bool) {
	moved = map[*yaml.Node]bool{}
	if etargets == nil || stargets == nil {
		return nil, moved
	}
	for i, et := range etargets.Content {
		st := matchTarget(et, i, stargets)
		switch {
		case st == nil:
		case !reflect.DeepEqual(destinations(et, nil, 0), destinations(st, nil, 0)):
			// Its secrets stay with the host they were given for: a target
			// sent elsewhere gets none it was not typed.
			moved[et] = true
		default:
			found = restorations(et, st, "", 0, found)
		}
	}
	return found, moved
}

// targetsOf is the targets sequence of a rule document, as mask finds it.
func targetsOf(root *yaml.Node) *yaml.Node {
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "targets" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1]
		}
	}
	return nil
}

// matchTarget is the stored target of the same id as et, or at index i
// when neither has an id.
func matchTarget(et *yaml.Node, i int, stargets *yaml.Node) *yaml.Node {
	id, ok := valueOf(et, "id")
	for j, st := range stargets.Content {
		sid, sok := valueOf(st, "id")
		if (ok && sok && sid == id) || (!ok && !sok && i == j) {
			return st
		}
	}
	return nil
}

func valueOf(m *yaml.Node, key string) (string, bool) {
	if m.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value, true
		}
	}
	return "", false
}

// destinations are the scheme and host of every URL setting of target n,
// in document order ("" for one naming no host).
func destinations(n *yaml.Node, out []string, depth int) []string {
	if depth > 50 {
		return out
	}
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; strings.EqualFold(k.Value, "url") && v.Kind == yaml.ScalarNode {
			dest := "" // no host: nothing to send a secret to
			if u, err := url.Parse(v.Value); err == nil && u.Host != "" {
				dest = strings.ToLower(u.Scheme + "://" + u.Host)
			}
			out = append(out, dest)
		}
	}
	for _, c := range n.Content {
		if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
			out = destinations(c, out, depth+1)
		}
	}
	return out
}

// shownAs is what mask shows in place of n, the value of key: Masked
// for a secret key's value or an alias, the redacted URL for a url key's
// scalar; ok is false when n is shown as it is (its children may not be).
func shownAs(key string, n *yaml.Node) (shown string, ok bool) {
	switch {
	case isSecretKey(key), n.Kind == yaml.AliasNode:
		return Masked, true
	case strings.EqualFold(key, "url") && n.Kind == yaml.ScalarNode:
		return sinks.RedactURL(n.Value), true
	}
	return "", false
}

// restorations walks edited target settings e beside the stored s,
// adding each edited scalar that still shows s masked.
func restorations(e, s *yaml.Node, key string, depth int, out []restoration) []restoration {
	if depth > 50 {
		return out
	}
	if shown, ok := shownAs(key, s); ok {
		if e.Kind == yaml.ScalarNode && e.Value == shown && (s.Kind != yaml.ScalarNode || s.Value != shown) {
			out = append(out, restoration{e, s})
		}
		return out
	}
	switch {
	case e.Kind == yaml.MappingNode && s.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(e.Content); i += 2 {
			for j := 0; j+1 < len(s.Content); j += 2 {
				if e.Content[i].Value == s.Content[j].Value {
					out = restorations(e.Content[i+1], s.Content[j+1], e.Content[i].Value, depth+1, out)
					break
				}
			}
		}
	case e.Kind == yaml.SequenceNode && s.Kind == yaml.SequenceNode:
		for i := range min(len(e.Content), len(s.Content)) {
			out = restorations(e.Content[i], s.Content[i], "", depth+1, out)
		}
	}
	return out
}

// stillMasked lists every target setting value holding Masked that was
// not put back, at its line:col in the edited document; moved are the
// targets whose URLs now name another host.
func stillMasked(targets *yaml.Node, restored, moved map[*yaml.Node]bool) rules.Errors {
	if targets == nil {
		return nil
	}
	var errs rules.Errors
	var walk func(n *yaml.Node, path, why string, depth int)
	walk = func(n *yaml.Node, path, why string, depth int) {
		if moved[n] {
			why = "the target's URL now names another host, so its stored secrets are not sent there: type the real value"
		}
		switch {
		case depth > 50 || restored[n]:
		case n.Kind == yaml.ScalarNode && strings.Contains(n.Value, Masked):
			errs = append(errs, &rules.Error{Pos: rules.Position{Line: n.Line, Col: n.Column},
				Msg: fmt.Sprintf("%s still holds the mask %s: %s", path, Masked, why)})
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], path+"."+n.Content[i].Value, why, depth+1)
			}
		case n.Kind == yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i), why, depth+1)
			}
		}
	}
	walk(targets, "targets", "type the real value, or leave the field as the editor showed it to keep the stored one", 0)
	return errs
}

// splice replaces each restored scalar in the edited text by the stored
// value as one line of JSON (which is YAML), so every other line keeps
// its place and the problems of a save stay at the line:col the operator
// sees. ok is false when a scalar's text cannot be found (a tag, an
// anchor, a block scalar) or its value has no JSON form.
func splice(doc []byte, found []restoration) ([]byte, bool) {
	lines := strings.SplitAfter(string(doc), "\n")
	type edit struct {
		line, from, to int // byte offsets within the line
		text           string
	}
	edits := make([]edit, 0, len(found))
	for _, r := range found {
		var v any
		if r.stored.Decode(&v) != nil {
			return nil, false
		}
		text, err := json.Marshal(v)
		if err != nil || r.edited.Line < 1 || r.edited.Line > len(lines) {
			return nil, false
		}
		line := lines[r.edited.Line-1]
		from := runeOffset(line, r.edited.Column-1)
		to, ok := scalarEnd(line, from, r.edited)
		if !ok {
			return nil, false
		}
		edits = append(edits, edit{r.edited.Line - 1, from, to, string(text)})
	}
	slices.SortFunc(edits, func(a, b edit) int { return cmp.Or(a.line-b.line, a.from-b.from) })
	// Last first, so the offsets of earlier edits on a line stay right.
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		if i+1 < len(edits) && edits[i+1].line == e.line && edits[i+1].from < e.to {
			return nil, false
		}
		lines[e.line] = lines[e.line][:e.from] + e.text + lines[e.line][e.to:]
	}
	return []byte(strings.Join(lines, "")), true
}

// runeOffset is the byte offset of the col-th character of line (yaml
// counts columns in characters), len(line) past its end.
func runeOffset(line string, col int) int {
	for off := range line {
		if col == 0 {
			return off
		}
		col--
	}
	return len(line)
}

// scalarEnd is the byte offset in line just past scalar n, which starts
// at from: a quoted scalar on one line, or a plain one whose text is its
// value.
func scalarEnd(line string, from int, n *yaml.Node) (int, bool) {
	rest := line[from:]
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return from + i + 1, true
			case '\n':
				return 0, false
			}
		}
	case yaml.SingleQuotedStyle:
		for i := 1; i < len(rest); i++ {
			switch {
			case rest[i] == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
				i++
			case rest[i] == '\'':
				return from + i + 1, true
			case rest[i] == '\n':
				return 0, false
			}
		}
	case 0:
		if strings.HasPrefix(rest, n.Value) && !strings.Contains(n.Value, "\n") && utf8.ValidString(n.Value) {
			return from + len(n.Value), true
		}
	}
	return 0, false
}

// expand is a copy of n with aliases replaced by copies of what they
// name and anchors dropped, to put a stored value into another document.
func expand(n *yaml.Node, depth int) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil && depth < 50 {
		return expand(n.Alias, depth+1)
	}
	c := *n
	c.Anchor, c.Content = "", nil
	if depth < 50 {
		for _, k := range n.Content {
			c.Content = append(c.Content, expand(k, depth+1))
		}
	}
	return &c
}

// sameValue reports whether a and b decode to the same value.
func sameValue(a, b []byte) bool {
	var va, vb any
	if len(b) == 0 || yaml.Unmarshal(a, &va) != nil || yaml.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
