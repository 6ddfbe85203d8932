package index

import (
	"strconv"
)

// dataState is what the index reads of an event's JSON object data: the
// record fields the sources name its resource and request ids by, a raw
// Tencent record's eventName, and a Kubernetes audit event's fields
// (an audit.k8s.io/v1 Event, or an HSS cluster audit log record around
// one, content). read fills it as encoding/json would decode the object
// into the structs the index once used (extract_ref_test.go keeps them):
// keys match regardless of case (foldedKey), a later key of a name
// replaces an earlier one, a value of the wrong type leaves a field as
// it was, null clears a nested object and an object adds to it.
type dataState struct {
	ctsResourceID, ctsRequestID, tcResourceID, tcRequestID, auditID string
	eventName                                                       string
	eventNameBad                                                    bool // an eventName neither string nor null

	clusterID, clusterName, cluster, verb string
	content                               string
	hasContent                            bool
	user                                  userState
	sourceIP                              string // sourceIPs[0]
	hasSourceIPs                          bool   // sourceIPs has an element
	ref                                   refState
	status                                statusState
}

// userState is a Kubernetes audit event's user.
type userState struct {
	set      bool
	username string
}

// refState is its objectRef; uid is the resource id of any event.
type refState struct {
	set                              bool
	uid, resource, subresource, name string
}

// statusState is its responseStatus.
type statusState struct {
	set    bool
	code   int
	status string
}

// read applies the members of obj, a valid JSON object, to d.
func (d *dataState) read(obj []byte) {
	var buf [32]byte
	members(obj, func(key, v []byte) {
		switch string(foldedKey(buf[:0], key)) {
		case "RESOURCE_ID":
			setString(&d.ctsResourceID, v)
		case "REQUEST_ID":
			setString(&d.ctsRequestID, v)
		case "RESOURCEID":
			setString(&d.tcResourceID, v)
		case "REQUESTID":
			setString(&d.tcRequestID, v)
		case "AUDITID":
			setString(&d.auditID, v)
		case "EVENTNAME":
			if !setString(&d.eventName, v) && string(v) != "null" {
				d.eventNameBad = true
			}
		case "CLUSTER_ID":
			setString(&d.clusterID, v)
		case "CLUSTER_NAME":
			setString(&d.clusterName, v)
		case "CLUSTER":
			setString(&d.cluster, v)
		case "VERB":
			setString(&d.verb, v)
		case "CONTENT":
			d.readContent(v)
		case "SOURCEIPS":
			d.readSourceIPs(v)
		case "USER":
			if pointer(&d.user.set, v) {
				d.user = userState{set: d.user.set}
			}
			if v[0] == '{' {
				members(v, func(key, v []byte) {
					if string(foldedKey(buf[:0], key)) == "USERNAME" {
						setString(&d.user.username, v)
					}
				})
			}
		case "OBJECTREF":
			d.readRef(v, buf[:0])
		case "RESPONSESTATUS":
			d.readStatus(v, buf[:0])
		}
	})
}

// setString sets *s to the JSON string v and reports whether v is one; a
// value of any other kind leaves *s as it was.
func setString(s *string, v []byte) bool {
	if v[0] != '"' {
		return false
	}
	*s = jsonString(v)
	return true
}

// pointer is what a value v does to a pointer field that set says is
// non-nil: null makes it nil, any other value makes it non-nil (an
// object of the wrong kind allocates before it fails). It reports
// whether the pointee is to be reset to its zero value (null, or a
// pointer just allocated).
func pointer(set *bool, v []byte) (reset bool) {
	was := *set
	*set = v[0] != 'n'
	return !*set || !was
}

// readContent reads content, a *string: a string sets it.
func (d *dataState) readContent(v []byte) {
	if pointer(&d.hasContent, v) {
		d.content = ""
	}
	setString(&d.content, v)
}

// readSourceIPs reads sourceIPs, a []string: null and [] leave it
// empty; a non-empty array's first element replaces the first IP when it
// is a string, and is decoded into the slice's existing first element
// (so keeps it) otherwise.
func (d *dataState) readSourceIPs(v []byte) {
	switch v[0] {
	case 'n':
		d.sourceIP, d.hasSourceIPs = "", false
	case '[':
		i := skipWS(v, 1)
		if v[i] == ']' {
			d.sourceIP, d.hasSourceIPs = "", false
			return
		}
		setString(&d.sourceIP, v[i:skipValue(v, i)])
		d.hasSourceIPs = true
	}
}

func (d *dataState) readRef(v, buf []byte) {
	if pointer(&d.ref.set, v) {
		d.ref = refState{set: d.ref.set}
	}
	if v[0] != '{' {
		return
	}
	members(v, func(key, v []byte) {
		switch string(foldedKey(buf, key)) {
		case "UID":
			setString(&d.ref.uid, v)
		case "RESOURCE":
			setString(&d.ref.resource, v)
		case "SUBRESOURCE":
			setString(&d.ref.subresource, v)
		case "NAME":
			setString(&d.ref.name, v)
		}
	})
}

func (d *dataState) readStatus(v, buf []byte) {
	if pointer(&d.status.set, v) {
		d.status = statusState{set: d.status.set}
	}
	if v[0] != '{' {
		return
	}
	members(v, func(key, v []byte) {
		switch string(foldedKey(buf, key)) {
		case "CODE":
			// encoding/json decodes an int from an integer literal in
			// range only.
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				d.status.code = int(n)
			}
		case "STATUS":
			setString(&d.status.status, v)
		}
	})
}

// ids are the resource id and request id: CTS's resource_id and
// request_id, Tencent's resourceId and requestID, Kubernetes'
// objectRef.uid and auditID.
func (d *dataState) ids() (resourceID, requestID string) {
	resourceID = first(d.ctsResourceID, d.tcResourceID)
	if resourceID == "" && d.ref.set {
		resourceID = d.ref.uid
	}
	return resourceID, first(d.ctsRequestID, d.tcRequestID, d.auditID)
}
