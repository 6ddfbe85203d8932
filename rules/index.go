package rules

import (
	"runtime"
	"slices"
	"sync"
)

// postings list, for one path, the rules keyed on each exact string and
// each prefix at that path.
type postings struct {
	exact      map[string][]int32
	prefix     map[string][]int32
	prefixLens []int // distinct prefix lengths, ascending
}

// busIndex matches events against the enabled rules of one bus. Each rule
// is keyed on the exact strings or prefixes of one clause it needs, the
// clause fewest other rules share, so an event's own values pick its
// candidates and a shared OR-list such as type: [ApiCall, ConsoleCall]
// never makes every rule a candidate. Rules with no such clause are
// always candidates.
type busIndex struct {
	rules   []*Rule      // enabled, by name; a rule's position is its id
	progs   [][]cclause  // by rule id
	needs   []boundNeeds // by rule id
	tree    *fieldTree
	indexed []*fieldNode // nodes with postings
	always  []int32      // ascending
	// required are the leaf nodes of the attributes NewEnv always sets.
	required []*fieldNode
	pool     sync.Pool // of *state
}

// indexKey is one value a rule can be found by.
type indexKey struct {
	node   int32
	prefix bool
	s      string
}

func newBusIndex(rules []*Rule) *busIndex {
	x := &busIndex{rules: rules, tree: newFieldTree(),
		progs: make([][]cclause, len(rules)), needs: make([]boundNeeds, len(rules))}
	// The tree is built first, in rule order, so that node ids do not
	// depend on how the binding below is shared out; binding only reads it.
	for id, r := range rules {
		x.addPaths(r.pattern)
		x.needs[id] = x.bindNeeds(r)
	}
	parallel(len(rules), func(id int) { x.progs[id] = x.bind(rules[id].pattern) })
	shared := make(map[indexKey]int, 2*len(rules))
	for _, p := range x.progs {
		countKeys(p, shared)
	}
	keys := make([][]indexKey, len(rules))
	parallel(len(rules), func(id int) {
		if k, _, ok := bestKeys(x.progs[id], shared); ok {
			keys[id] = k
		}
	})
	for id, ks := range keys {
		if ks == nil {
			x.always = append(x.always, int32(id))
			continue
		}
		for _, k := range ks {
			x.post(k, int32(id))
		}
	}
	for _, name := range []string{"specversion", "id", "source", "type"} {
		if n := x.tree.root.children[name]; n != nil && n.leaf {
			x.required = append(x.required, n)
		}
	}
	for _, n := range x.tree.nodes {
		if n.postings != nil {
			slices.Sort(n.postings.prefixLens)
			n.postings.prefixLens = slices.Compact(n.postings.prefixLens)
			x.indexed = append(x.indexed, n)
		}
	}
	nodes, n := len(x.tree.nodes), len(rules)
	x.pool.New = func() any { return newState(nodes, n) }
	return x
}

// parallel calls fn for every i in [0, n), on every core: each i's work
// must touch only what is its own.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// minPerWorker is the fewest rules worth a goroutine of their own.
const minPerWorker = 256

// addPaths adds the fields a pattern reads to the index's field tree, in
// the order bind visits them.
func (x *busIndex) addPaths(p *pattern) {
	if p == nil {
		return
	}
	for _, c := range p.clauses {
		switch {
		case c.group != nil:
			x.tree.node(c.group.path).group = true
			x.addPaths(c.group.pat)
		case c.leaf == nil:
			for _, alt := range c.or {
				x.addPaths(alt)
			}
		default:
			x.tree.add(c.leaf.path)
		}
	}
}

// bind compiles a pattern against the index's field tree, which holds
// its fields already (addPaths).
func (x *busIndex) bind(p *pattern) []cclause {
	if p == nil {
		return nil
	}
	out := make([]cclause, 0, len(p.clauses))
	for _, c := range p.clauses {
		if c.group != nil {
			n := x.tree.find(c.group.path)
			out = append(out, cclause{node: n.id, group: true, or: [][]cclause{x.bind(c.group.pat)}})
			continue
		}
		if c.leaf == nil {
			alts := make([][]cclause, len(c.or))
			for i, alt := range c.or {
				alts[i] = x.bind(alt)
			}
			out = append(out, cclause{or: alts})
			continue
		}
		out = append(out, cclause{node: x.tree.find(c.leaf.path).id, matchers: compileMatchers(c.leaf.matchers)})
	}
	return out
}

// leafKeys returns the keys of a leaf clause that only positive exact
// strings and prefixes satisfy: such a clause cannot hold unless the event
// has one of those values at its path.
func leafKeys(c *cclause) ([]indexKey, bool) {
	var keys []indexKey
	for _, m := range c.matchers {
		switch {
		case m.but:
			return nil, false
		case m.op == opPrefix:
			keys = append(keys, indexKey{node: c.node, prefix: true, s: m.texts[0]})
		case m.op == opExact && len(m.nums) == 0 && !m.null && m.bools == [2]bool{}:
			for _, s := range m.strs {
				keys = append(keys, indexKey{node: c.node, s: s})
			}
		default:
			return nil, false
		}
	}
	return keys, len(keys) > 0
}

// countKeys counts, for every key, the clauses across all rules that could
// be keyed on it: the cost of choosing that key.
func countKeys(cs []cclause, shared map[indexKey]int) {
	for i := range cs {
		for _, alt := range cs[i].or { // a group's clauses too
			countKeys(alt, shared)
		}
		keys, _ := leafKeys(&cs[i])
		for _, k := range keys {
			shared[k]++
		}
	}
}

// bestKeys picks the clause whose keys are least shared. An $or clause is
// usable when each alternative has usable keys; it is keyed on all of them.
func bestKeys(cs []cclause, shared map[indexKey]int) (best []indexKey, cost int, ok bool) {
	for i := range cs {
		keys, c, usable := clauseKeys(&cs[i], shared)
		if usable && (!ok || c < cost) {
			best, cost, ok = keys, c, true
		}
	}
	return best, cost, ok
}

func clauseKeys(c *cclause, shared map[indexKey]int) ([]indexKey, int, bool) {
	if c.group {
		// A group holds only where its clauses do, on one object.
		return bestKeys(c.sub(), shared)
	}
	if c.or == nil {
		keys, ok := leafKeys(c)
		cost := 0
		for _, k := range keys {
			cost += shared[k]
		}
		return keys, cost, ok
	}
	var all []indexKey
	total := 0
	for _, alt := range c.or {
		keys, cost, ok := bestKeys(alt, shared)
		if !ok {
			return nil, 0, false
		}
		all = append(all, keys...)
		total += cost
	}
	return all, total, true
}

func (x *busIndex) post(k indexKey, id int32) {
	n := x.tree.nodes[k.node]
	if n.postings == nil {
		n.postings = &postings{exact: map[string][]int32{}, prefix: map[string][]int32{}}
	}
	p := n.postings
	if k.prefix {
		p.prefix[k.s] = appendOnce(p.prefix[k.s], id)
		p.prefixLens = append(p.prefixLens, len(k.s))
		return
	}
	p.exact[k.s] = appendOnce(p.exact[k.s], id)
}

// appendOnce skips a rule already posted under the same key, as a rule
// with the value in two $or alternatives would be.
func appendOnce(ids []int32, id int32) []int32 {
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return ids
	}
	return append(ids, id)
}

// candidates marks the rules the event's indexed values lead to.
func (x *busIndex) candidates(st *state) {
	for _, n := range x.indexed {
		p := n.postings
		for i := range st.vals[n.id] {
			v := &st.vals[n.id][i]
			if v.kind != kString {
				continue
			}
			if ids, ok := p.exact[v.str]; ok {
				st.mark(ids)
			}
			for _, l := range p.prefixLens {
				if l > len(v.str) {
					break
				}
				if ids, ok := p.prefix[v.str[:l]]; ok {
					st.mark(ids)
				}
			}
		}
	}
	slices.Sort(st.cands)
}
