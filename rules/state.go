package rules

// state is the scratch space of one match: the values each path reached
// and the candidate rules. A busIndex pools its states so that matching an
// event allocates nothing once the pool is warm.
type state struct {
	vals    [][]value // by field node id
	touched []int32   // nodes with values, to reset only those
	// from[id] is where the last within on node id began: a group asks for
	// its objects' values in element order, so the next run lies just after.
	from []int32
	// seen[id] is the serial of the object in which node id's key was last
	// met, to notice duplicate keys (JSON decoders keep the last one).
	seen    []uint32
	serial  uint32
	scratch []byte // unescaped strings
	// elems are the array elements met on the tree's paths, by id in the
	// order they are entered; id 0 stands for "no element" (the event
	// itself).
	elems   []elem
	cur     int32  // the element being read
	spans   []span // by node id, for raw nodes
	spanned []int32

	stamp []uint32 // by rule: == epoch when already a candidate
	epoch uint32
	cands []int32

	// What the fast path must know about the event to agree with NewEnv.
	contentType  string
	dataKind     byte // 0: no data, 'e': "", '"': another string, 'o': an object, 'v': any other JSON value
	dataReadable bool // a string data that sdk-go's reader decodes as encoding/json does
	specversion  bool // "specversion": "1.0" was seen
	env          Env  // the full environment, built only when needed
}

// elem is one array element. Elements are entered depth first, so those
// within element e are exactly the ids from e to end-1 (element 0, the
// event, holds them all and has no end).
type elem struct{ end int32 }

// span is where a value's JSON text lies in the event; end 0 means none.
type span struct{ start, end int }

func newState(nodes, rules int) *state {
	return &state{vals: make([][]value, nodes), from: make([]int32, nodes), seen: make([]uint32, nodes), spans: make([]span, nodes),
		stamp: make([]uint32, rules), elems: []elem{{}}}
}

// reset prepares the state for the next event without freeing memory.
func (st *state) reset() {
	for _, id := range st.touched {
		st.vals[id], st.from[id] = st.vals[id][:0], 0
	}
	st.touched = st.touched[:0]
	for _, id := range st.spanned {
		st.spans[id] = span{}
	}
	st.spanned = st.spanned[:0]
	st.scratch = st.scratch[:0]
	st.elems, st.cur = st.elems[:1], 0
	st.cands = st.cands[:0]
	st.contentType, st.dataKind, st.dataReadable, st.specversion, st.env = "", 0, false, false, nil
	if st.epoch++; st.epoch == 0 {
		clear(st.stamp)
		st.epoch = 1
	}
}

func (st *state) add(n *fieldNode, v value) {
	v.elem = st.cur
	if len(st.vals[n.id]) == 0 {
		st.touched = append(st.touched, n.id)
	}
	st.vals[n.id] = append(st.vals[n.id], v)
}

// nextSerial numbers a new JSON object. Serials only grow across events,
// so a stale seen entry can never equal a current serial.
func (st *state) nextSerial() uint32 {
	if st.serial++; st.serial == 0 {
		clear(st.seen)
		st.serial = 1
	}
	return st.serial
}

// mark makes rules candidates, once each.
func (st *state) mark(ids []int32) {
	for _, id := range ids {
		if st.stamp[id] != st.epoch {
			st.stamp[id] = st.epoch
			st.cands = append(st.cands, id)
		}
	}
}

// enter starts a new element of an array read inside the current one,
// returning the element to go back to with leave.
func (st *state) enter() (prev int32) {
	prev = st.cur
	st.elems = append(st.elems, elem{})
	st.cur = int32(len(st.elems) - 1)
	return prev
}

// leave ends the current element, closing its range of ids.
func (st *state) leave(prev int32) {
	st.elems[st.cur].end = int32(len(st.elems))
	st.cur = prev
}

// within returns the values of node inside element ctx: ctx itself and
// the elements entered while it was read. Context 0 is the whole event;
// -1, the empty object of a group that found none, holds nothing. A path's
// values are recorded in element order (an element's array cannot lead
// back to its own path), so the values inside ctx are one run. Searching
// for it from where the node's last run began makes a group's pass over
// its objects linear in the array, not quadratic.
func (st *state) within(node, ctx int32) []value {
	vals := st.vals[node]
	if ctx <= 0 {
		if ctx == 0 {
			return vals
		}
		return nil
	}
	lo := int(st.from[node])
	if lo > len(vals) || (lo > 0 && vals[lo-1].elem >= ctx) {
		lo = 0 // the run lies before the last one
	}
	lo += gallop(vals[lo:], ctx)
	st.from[node] = int32(lo)
	return vals[lo : lo+gallop(vals[lo:], st.elems[ctx].end)]
}

// gallop returns the index of the first value in element e or later,
// probing 1, 2, 4, ... values ahead before bisecting, so that finding a
// near index costs the logarithm of its distance.
func gallop(vals []value, e int32) int {
	lo, step := 0, 1
	for lo+step <= len(vals) && vals[lo+step-1].elem < e {
		lo += step
		step *= 2
	}
	hi := min(lo+step-1, len(vals))
	for lo < hi {
		if mid := int(uint(lo+hi) >> 1); vals[mid].elem < e {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
