package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// DefaultBus is the bus of rules that do not name one.
const DefaultBus = "default"

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ParseFile parses and compiles every rule document of one file. The error,
// if any, is Errors listing every problem of the file; rules are returned
// only when the file is entirely valid, so a bad file is all-or-nothing.
// A large file is parsed on several goroutines at once (see eachChunk);
// rules and errors come out in file order all the same.
func ParseFile(name string, src []byte, opts ...Option) ([]*Rule, error) {
	return parseFileChunked(name, src, parallelChunk, true, opts)
}

func parseFileChunked(name string, src []byte, size int, reuse bool, opts []Option) ([]*Rule, error) {
	fp := &fileParser{file: name, src: src, opts: buildOptions(opts), conds: &condCache{}}
	var rules []*Rule
	start := func() chunkWork[parsedChunk] {
		return &chunkParser{fp: &fileParser{file: fp.file, src: fp.src, opts: fp.opts, conds: fp.conds}}
	}
	err := eachChunk(src, size, start, func(c parsedChunk) {
		rules = append(rules, c.rules...)
		fp.errs = append(fp.errs, c.errs...)
	}, func() { rules, fp.errs = nil, nil }, reuse)
	if err != nil {
		fp.syntaxError(err)
	}
	fp.checkDuplicates(rules)
	if err := fp.errs.orNil(); err != nil {
		return nil, err
	}
	return rules, nil
}

type fileParser struct {
	file  string
	src   []byte
	opts  options
	errs  Errors
	conds *condCache
}

// parsedChunk is what parsing the documents of one chunk found.
type parsedChunk struct {
	rules []*Rule
	errs  Errors
}

// chunkParser parses the rules of one chunk's documents with a parser of
// its own (sharing the file's settings and condition programs), so that
// chunks can be parsed at once. A rule keeps none of its document's nodes
// (target settings are copied), so the nodes can be reused.
type chunkParser struct {
	fp  *fileParser
	out parsedChunk
}

func (cp *chunkParser) doc(doc *yaml.Node) {
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return
	}
	if r := cp.fp.rule(doc.Content[0]); r != nil {
		cp.out.rules = append(cp.out.rules, r)
	}
}

func (cp *chunkParser) done() parsedChunk {
	cp.out.errs = cp.fp.errs
	return cp.out
}

// condCache holds the compiled conditions of one file, by text, for the
// goroutines parsing it.
type condCache struct {
	mu    sync.Mutex
	progs map[string]*vm.Program
}

func (c *condCache) get(cond string) *vm.Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progs[cond]
}

func (c *condCache) put(cond string, prog *vm.Program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.progs == nil {
		c.progs = map[string]*vm.Program{}
	}
	c.progs[cond] = prog
}

func (fp *fileParser) pos(n *yaml.Node) Position {
	return Position{File: fp.file, Line: n.Line, Col: n.Column}
}

func (fp *fileParser) add(pos Position, rule, format string, args ...any) {
	fp.errs = append(fp.errs, &Error{Pos: pos, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (fp *fileParser) syntaxError(err error) {
	msg := err.Error()
	pos := Position{File: fp.file}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		pos.Col = 1
		msg = m[2]
	}
	fp.add(pos, "", "invalid YAML: %s", msg)
}

func (fp *fileParser) checkDuplicates(rules []*Rule) {
	seen := map[[2]string]*Rule{}
	for _, r := range rules {
		key := [2]string{r.Bus, r.Name}
		if first, ok := seen[key]; ok {
			fp.add(r.Pos, r.Name, "duplicate rule name on bus %q (first defined at %s)", r.Bus, first.Pos)
			continue
		}
		seen[key] = r
	}
}

// ruleFields maps each allowed top-level key to its parser; anything else
// is an error so that typos such as "target:" cannot silently disable a rule.
var ruleFields = map[string]func(*ruleParser, *yaml.Node){
	"name":        (*ruleParser).name,
	"description": (*ruleParser).description,
	"bus":         (*ruleParser).bus,
	"enabled":     (*ruleParser).enabled,
	"pattern":     (*ruleParser).pattern,
	"condition":   (*ruleParser).condition,
	"targets":     (*ruleParser).targets,
}

// ruleParser parses one YAML document into a Rule.
type ruleParser struct {
	*fileParser
	r        *Rule
	nerrs    int
	condNode *yaml.Node
	// inputNodes keeps each target's input scalar for positioned errors.
	inputNodes map[string]*yaml.Node
}

func (fp *fileParser) rule(n *yaml.Node) *Rule {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		fp.add(fp.pos(n), "", "a rule must be a mapping")
		return nil
	}
	rp := &ruleParser{fileParser: fp, nerrs: len(fp.errs), inputNodes: map[string]*yaml.Node{},
		r: &Rule{Bus: DefaultBus, Enabled: true, Pos: fp.pos(n)}}
	rp.r.Name = rp.peekName(n)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		parse, ok := ruleFields[key.Value]
		switch {
		case key.Kind != yaml.ScalarNode || !ok:
			rp.fail(key, "unknown field %q", key.Value)
		case seen[key.Value]:
			rp.fail(key, "field %q given twice", key.Value)
		default:
			seen[key.Value] = true
			parse(rp, val)
		}
	}
	for _, req := range []string{"name", "targets"} {
		if !seen[req] {
			rp.fail(n, "missing required field %q", req)
		}
	}
	if len(fp.errs) > rp.nerrs {
		return nil
	}
	rp.compile()
	if len(fp.errs) > rp.nerrs {
		return nil
	}
	return rp.r
}

// peekName finds the name before anything else is parsed so that every
// error of the document can say which rule it belongs to.
func (rp *ruleParser) peekName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == "name" {
			if v := deref(n.Content[i+1]); v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

func (rp *ruleParser) fail(n *yaml.Node, format string, args ...any) {
	rp.add(rp.pos(n), rp.r.Name, format, args...)
}

func (rp *ruleParser) str(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		rp.fail(n, "%s must be a string", field)
		return "", false
	}
	return n.Value, true
}

func (rp *ruleParser) name(n *yaml.Node) {
	if s, ok := rp.str(n, "name"); ok && !nameRe.MatchString(s) {
		rp.fail(n, "name %q must match %s", s, nameRe)
	}
}

func (rp *ruleParser) description(n *yaml.Node) {
	rp.r.Description, _ = rp.str(n, "description")
}

func (rp *ruleParser) bus(n *yaml.Node) {
	s, ok := rp.str(n, "bus")
	if ok && !nameRe.MatchString(s) {
		rp.fail(n, "bus %q must match %s", s, nameRe)
	}
	rp.r.Bus = s
}

func (rp *ruleParser) enabled(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		rp.fail(n, "enabled must be true or false")
		return
	}
	rp.r.Enabled = decodeBool(n)
}

func (rp *ruleParser) pattern(n *yaml.Node) {
	pp := &patternParser{fail: rp.fail}
	rp.r.pattern = pp.parse(n)
}

func (rp *ruleParser) condition(n *yaml.Node) {
	if s, ok := rp.str(n, "condition"); ok {
		rp.r.Condition = s
		rp.r.condPos = rp.pos(n)
		rp.condNode = n
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
