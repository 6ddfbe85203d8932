package rulestest

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Event is one generated CloudEvent.
type Event struct {
	// Raw is the event in structured JSON, as the router stores it on the
	// bus and as rules.Set.Match reads it.
	Raw []byte
	// WantRule is the name of the one rule of Rules(rules, seed) the event
	// matches, or "" when it is meant to match none.
	WantRule string
}

// Events returns n events for the rule file Rules(rules, seed), each a
// CloudAudit record wrapped as router/sources wraps it (type, source, QCS
// subject, region and the audit extensions; the record as data), about
// 2.3 KB in all like real ones. floor(n*matchRatio) of them, spread
// evenly, are built to match exactly one rule, picked at random; the
// others name operations no rule watches, or watched operations on
// resources no rule names, and match nothing. With no rules every event
// matches nothing. Event k is the same whatever n is. Events panics if
// rules or n is negative or matchRatio is outside [0, 1].
func Events(rules, n int, seed uint64, matchRatio float64) []Event {
	if rules < 0 || n < 0 || !(matchRatio >= 0 && matchRatio <= 1) {
		panic(fmt.Sprintf("rulestest: Events(%d, %d, %d, %v): bad arguments", rules, n, seed, matchRatio))
	}
	ss := specs(rules, seed)
	out := make([]Event, n)
	for k := range out {
		r := newRNG(seed, streamEvents, uint64(k))
		var c call
		if len(ss) > 0 && isMatch(k, matchRatio) {
			s := &ss[r.intn(len(ss))]
			c = s.matchingCall(r, seed, k)
			out[k].WantRule = s.name
		} else {
			c = noMatchCall(r, seed, k)
		}
		out[k].Raw = c.event(r, k)
	}
	return out
}

// isMatch spreads the match events evenly: event k is one when the running
// count floor(k*ratio) steps up.
func isMatch(k int, ratio float64) bool {
	return math.Floor(float64(k+1)*ratio) > math.Floor(float64(k)*ratio)
}

// call is what one audit record says happened.
type call struct {
	product, resType, idParam, apiVersion string
	kind, op                              string
	res                                   resource
	user                                  user
	errorCode                             int
	sourceIP                              string
}

// matchingCall builds a call that satisfies s and, by construction, no
// other rule: specific rules each own their resource, broad rules their
// product and kind.
func (s *spec) matchingCall(r *rng, seed uint64, k int) call {
	if s.extra != "" {
		c := randomCall(r, seed, k, &product{code: s.extra, resType: "instance", idPrefix: "ins-", idParam: "InstanceId", apiVersion: "2021-06-01", writes: extraOps})
		c.kind = "ApiCall"
		return c
	}
	if s.broadKind != "" {
		c := randomCall(r, seed, k, s.product)
		c.kind = s.broadKind
		return c
	}
	c := randomCall(r, seed, k, s.product)
	c.op = pick(r, s.names)
	c.res = s.res
	for (s.notRoot && c.user.kind == "root") || (s.cond == condNotCIBot && c.user.name == "ci-bot") {
		c.user = pick(r, users)
	}
	switch s.errors {
	case errSuccess:
		c.errorCode = 0
	case errFailed:
		c.errorCode = pick(r, failureCodes).code
	}
	if s.cond == condInternalIP {
		c.sourceIP = fmt.Sprintf("10.%d.%d.%d", r.intn(256), r.intn(256), 1+r.intn(254))
	}
	return c
}

// noMatchCall is a call of a specific-rule product and kind that no rule
// watches: half are read operations, which no rule names; half are watched
// operations on resources outside the rules' id range.
func noMatchCall(r *rng, seed uint64, k int) call {
	p := &products[r.intn(len(products))]
	c := randomCall(r, seed, k, p)
	if r.chance(0.5) {
		c.op = pick(r, p.reads)
	}
	return c
}

// randomCall is an ApiCall or ConsoleCall of a write operation of p on a
// resource no rule names, by a random user, mostly successful.
func randomCall(r *rng, seed uint64, k int, p *product) call {
	c := call{
		product: p.code, resType: p.resType, idParam: p.idParam, apiVersion: p.apiVersion,
		kind: "ApiCall", op: pick(r, p.writes),
		res:  resource{pick(r, regions), pick(r, accounts), p.idPrefix + resourceID(seed, noMatchIDs+uint64(k))},
		user: pick(r, users),
	}
	if r.chance(0.3) {
		c.kind = "ConsoleCall"
	}
	if r.chance(0.1) {
		c.errorCode = pick(r, failureCodes).code
	}
	switch r.intn(3) {
	case 0:
		c.sourceIP = fmt.Sprintf("10.%d.%d.%d", r.intn(256), r.intn(256), 1+r.intn(254))
	case 1:
		c.sourceIP = fmt.Sprintf("172.16.%d.%d", r.intn(256), 1+r.intn(254))
	default:
		c.sourceIP = fmt.Sprintf("203.0.113.%d", 1+r.intn(254))
	}
	return c
}

// failureCodes are CloudAudit errorCode values with the API error they
// stand for.
var failureCodes = []struct {
	code     int
	api, msg string
}{
	{4102, "UnauthorizedOperation", "you are not authorized to perform this operation, check your CAM policies"},
	{4001, "InvalidParameter", "the parameter is invalid or does not exist"},
	{4400, "ResourceInUse", "the resource is in use and cannot be modified"},
	{5000, "InternalError", "an internal error occurred, please retry later"},
}

// baseTime anchors event times, so events do not depend on the clock.
var baseTime = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// event wraps the call's record as router/sources does and encodes it
// with the CloudEvents SDK, which is what the bus stores.
func (c call) event(r *rng, k int) []byte {
	e := event.New()
	id := uuid(r)
	e.SetID(id)
	e.SetSource(c.product + ".cloud.tencent")
	e.SetType(eventType(c.product, c.kind))
	e.SetSubject(c.res.subject(&product{code: c.product, resType: c.resType}))
	at := baseTime.Add(time.Duration(k) * 7 * time.Second)
	e.SetTime(at)
	outcome := "success"
	if c.errorCode != 0 {
		outcome = "failure"
	}
	for _, ext := range [][2]string{
		{"region", c.res.region}, {"principal", c.principal()}, {"action", c.op},
		{"resourcetype", c.resType}, {"resourcename", c.res.id}, {"outcome", outcome}, {"sourceip", c.sourceIP},
	} {
		e.SetExtension(ext[0], ext[1])
	}
	if err := e.SetData(event.ApplicationJSON, c.record(r, id, at)); err != nil {
		panic(err) // a record always encodes
	}
	raw, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return raw
}

func (c call) principal() string {
	if c.user.kind == "root" {
		return c.res.account
	}
	return c.user.principal
}

func uuid(r *rng) string {
	a, b := r.next(), r.next()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}
