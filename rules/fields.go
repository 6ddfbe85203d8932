package rules

import "unsafe"

// fieldNode is one key of the paths a bus's rules read. The tree holds only
// those paths, so reading an event touches nothing else: the scanner skips
// every key the tree does not name.
type fieldNode struct {
	id       int32
	key      string
	children map[string]*fieldNode
	// kids lists the children too: for the few keys most objects have, a
	// scan of the list beats hashing every key the event holds.
	kids []*fieldNode
	// leaf is set when some clause reads this path's values; otherwise the
	// node only leads to deeper paths.
	leaf bool
	// group is set when a group's clauses are tried on the objects at this
	// path: the scanner records them (kObject) with their array element.
	group bool
	// raw is set when a condition reads this member of data: the scanner
	// keeps the span of its JSON text to decode it alone.
	raw bool
	// postings, when not nil, index the rules keyed on this path.
	postings *postings
}

// fieldTree is the set of paths used by a bus's rules, rooted at the event.
type fieldTree struct {
	root  *fieldNode
	nodes []*fieldNode // by id
}

func newFieldTree() *fieldTree {
	t := &fieldTree{}
	t.root = t.newNode("")
	return t
}

func (t *fieldTree) newNode(key string) *fieldNode {
	n := &fieldNode{id: int32(len(t.nodes)), key: key}
	t.nodes = append(t.nodes, n)
	return n
}

// add returns the node of path, creating it and its parents, and marks it
// as a leaf.
func (t *fieldTree) add(path []string) *fieldNode {
	n := t.node(path)
	n.leaf = true
	return n
}

// node returns the node of path, creating it and its parents.
func (t *fieldTree) node(path []string) *fieldNode {
	n := t.root
	for _, k := range path {
		c := n.children[k]
		if c == nil {
			if n.children == nil {
				n.children = map[string]*fieldNode{}
			}
			c = t.newNode(k)
			n.children[k] = c
			n.kids = append(n.kids, c)
		}
		n = c
	}
	return n
}

// find returns the node of path, which the tree holds, without changing
// the tree: goroutines may find at once.
func (t *fieldTree) find(path []string) *fieldNode {
	n := t.root
	for _, k := range path {
		n = n.children[k]
	}
	return n
}

// maxListedKids is where child returns to the map.
const maxListedKids = 8

// child returns the child named key, or nil.
func (n *fieldNode) child(key string) *fieldNode {
	if len(n.kids) > maxListedKids {
		return n.children[key]
	}
	for _, c := range n.kids {
		if c.key == key {
			return c
		}
	}
	return nil
}

type kind uint8

const (
	kString kind = iota + 1
	kNumber
	kBool
	kNull
	kObject // any JSON object: present, but equal to no pattern value
)

// value is one value a path reached in an event. Strings from the scanner
// alias the event's bytes or the state's scratch buffer (see bytesString);
// they live only as long as one match.
type value struct {
	kind kind
	b    bool
	// elem is the innermost array element holding the value (see
	// state.elems), 0 when no array lies along its path.
	elem int32
	num  float64
	str  string
}

// bytesString views b as a string without copying. The scanner's values
// must not outlive the match that made them: the event bytes are the bus
// message, which is not changed while it is matched, and the scratch
// buffer is only reused for the next event.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
