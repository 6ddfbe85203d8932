package replay

import (
	"encoding/json"
	"time"

	"github.com/auditbus/auditbus/rules"
)

// matcher finds an event's rule targets in the replay's rules and, for
// a what-if with a draft, in the live rules too.
type matcher struct {
	bus   string
	set   *rules.Set // the replay's rules: the draft, else the live rules
	live  *rules.Set // non-nil: diff against these
	byKey map[pairKey]*rules.Rule
}

func newMatcher(bus string, set, live *rules.Set) *matcher {
	m := &matcher{bus: bus, set: set, live: live, byKey: map[pairKey]*rules.Rule{}}
	for _, r := range set.Rules() {
		for _, t := range r.Targets {
			m.byKey[pairKey{r.Name, t.ID}] = r
		}
	}
	return m
}

// match returns the event's matches, in rule then target order; an
// error is an event the rules cannot read (not a JSON object).
func (m *matcher) match(data []byte) ([]Match, []*rules.Rule, error) {
	res, err := m.set.Match(m.bus, data)
	if err != nil {
		return nil, nil, err
	}
	if m.live == nil {
		var out []Match
		for _, r := range res.Rules {
			for _, t := range r.Targets {
				out = append(out, Match{Rule: r.Name, Target: t.ID})
			}
		}
		return out, res.Rules, nil
	}
	lres, err := m.live.Match(m.bus, data)
	if err != nil {
		return nil, nil, err
	}
	return diff(res.Rules, lres.Rules), res.Rules, nil
}

// diff merges the draft's and the live rules' matches (both in name
// order) into one list, each match marked by which matched it.
func diff(draft, live []*rules.Rule) []Match {
	by := map[pairKey]string{}
	var order []pairKey
	add := func(rs []*rules.Rule, mark string) {
		for _, r := range rs {
			for _, t := range r.Targets {
				k := pairKey{r.Name, t.ID}
				switch prev, seen := by[k]; {
				case !seen:
					by[k] = mark
					order = append(order, k)
				case prev != mark:
					by[k] = ByBoth
				}
			}
		}
	}
	add(draft, ByDraft)
	add(live, ByLive)
	out := make([]Match, len(order))
	for i, k := range order {
		out[i] = Match{Rule: k.rule, Target: k.target, By: by[k]}
	}
	return out
}

// header is what a sample shows of an event.
func header(data []byte, position string) SampleEvent {
	var e struct {
		ID     string    `json:"id"`
		Source string    `json:"source"`
		Type   string    `json:"type"`
		Time   time.Time `json:"time"`
	}
	_ = json.Unmarshal(data, &e) // the rules read it: it is an object
	return SampleEvent{ID: e.ID, Source: e.Source, Type: e.Type, Time: e.Time, Position: position}
}
