package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/auditbus/auditbus/router/api"
	"github.com/auditbus/auditbus/router/auth"
	"github.com/auditbus/auditbus/router/dispatch"
)

// dlqData is the DLQ page's: the filters, the dead letters of this page
// and what a redrive just did.
type dlqData struct {
	Bus, Rule, Target, Reason string
	Letters                   []deadLetter
	Next, Error, Redriven     string
	CanRedrive                bool
	IDs                       string // the shown letters' ids, for "redrive these"
}

// deadLetter is one entry with what the page says about it.
type deadLetter struct {
	dispatch.DeadLetter
	// Guard: our own address guard refused the delivery (never sent), as
	// against the target's answer.
	Guard bool
	Event string // the original event, indented
}

// dlq lists dead letters, oldest first, filtered as GET /v1/dlq filters
// them (bus, rule, target) and by a reason's text.
func (c *Console) dlq(rq *request) {
	q := rq.r.URL.Query()
	d := dlqData{Bus: q.Get("bus"), Rule: q.Get("rule"), Target: q.Get("target"), Reason: q.Get("reason"),
		CanRedrive: rq.allows(auth.ActionDLQRedrive), Redriven: q.Get("redriven")}
	vals := url.Values{}
	for k, v := range map[string]string{"bus": d.Bus, "rule": d.Rule, "target": d.Target, "next": q.Get("next")} {
		if v != "" {
			vals.Set(k, v)
		}
	}
	page, err := c.api.ListDLQ(rq.r.Context(), vals)
	if err != nil {
		d.Error = err.Error()
		rq.render(callStatus(err), "dlq.html", "Dead letters", d)
		return
	}
	var ids []string
	for _, dl := range page.Entries {
		if d.Reason != "" && !strings.Contains(strings.ToLower(dl.Reason), strings.ToLower(d.Reason)) {
			continue
		}
		d.Letters = append(d.Letters, letterOf(dl))
		ids = append(ids, strconv.FormatUint(dl.ID, 10))
	}
	d.IDs = strings.Join(ids, ",")
	if page.Next != 0 {
		q.Set("next", strconv.FormatUint(page.Next, 10))
		q.Del("redriven")
		d.Next = Prefix + "dlq?" + q.Encode()
	}
	rq.render(http.StatusOK, "dlq.html", "Dead letters", d)
}

func letterOf(dl dispatch.DeadLetter) deadLetter {
	l := deadLetter{DeadLetter: dl, Guard: dl.Reason == dispatch.ReasonRefusedByGuard, Event: dl.EventText}
	var buf bytes.Buffer
	if len(dl.Event) > 0 && json.Indent(&buf, dl.Event, "", "  ") == nil {
		l.Event = buf.String()
	}
	return l
}

// dlqRedrive queues the chosen dead letters again through the same code
// as POST /v1/dlq:redrive, then shows the list with what it did.
func (c *Console) dlqRedrive(rq *request) {
	f := rq.r.PostForm
	var ids []uint64
	for _, s := range strings.Split(f.Get("ids"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			rq.fail(http.StatusBadRequest, fmt.Sprintf("Dead letter %q: want its id (a number).", s))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		rq.fail(http.StatusBadRequest, "Choose the dead letters to redrive.")
		return
	}
	res, err := c.api.RedriveDLQ(rq.r.Context(), api.RedriveRequest{IDs: ids, Bus: f.Get("bus")})
	if err != nil {
		rq.fail(callStatus(err), "Redrive refused: "+err.Error())
		return
	}
	back := url.Values{"redriven": {strconv.Itoa(len(res.Redriven))}}
	for _, k := range []string{"bus", "rule", "target", "reason"} {
		if v := f.Get(k); v != "" {
			back.Set(k, v)
		}
	}
	http.Redirect(rq.w, rq.r, Prefix+"dlq?"+back.Encode(), http.StatusSeeOther)
}
