package index

import (
	"context"
	"errors"
	"time"
)

// Field is a searchable field of a Record, named as the query parameters
// and the column name it is stored in.
type Field string

// The fields Query.Equal may test.
const (
	FieldBus          Field = "bus"
	FieldID           Field = "id"
	FieldSource       Field = "source"
	FieldType         Field = "type"
	FieldKind         Field = "kind"
	FieldProduct      Field = "product"
	FieldAction       Field = "action"
	FieldPrincipal    Field = "principal"
	FieldResourceType Field = "resourcetype"
	FieldResourceName Field = "resourcename"
	FieldResourceID   Field = "resourceid"
	FieldOutcome      Field = "outcome"
	FieldCode         Field = "code"
	FieldSourceIP     Field = "sourceip"
	FieldRegion       Field = "region"
	FieldCluster      Field = "cluster"
	FieldTraceRating  Field = "tracerating"
	FieldRequestID    Field = "requestid"
	// The Kubernetes fields the HSS and ACP audit queries filter on.
	FieldClusterID Field = "clusterid"
	FieldHostID    Field = "hostid"
	FieldHostName  Field = "hostname"
	FieldHostIP    Field = "hostip"
	FieldScope     Field = "scope"
)

// Fields is every Field, in a stable order.
var Fields = []Field{FieldBus, FieldID, FieldSource, FieldType, FieldKind, FieldProduct, FieldAction,
	FieldPrincipal, FieldResourceType, FieldResourceName, FieldResourceID, FieldOutcome, FieldCode,
	FieldSourceIP, FieldRegion, FieldCluster, FieldTraceRating, FieldRequestID,
	FieldClusterID, FieldHostID, FieldHostName, FieldHostIP, FieldScope}

// Cursor is a position in the newest-first order: a page continues with
// the records strictly after (older than) it.
type Cursor struct {
	Time time.Time
	Seq  uint64
}

// Query selects records. Every condition given must hold.
type Query struct {
	// Buses limits the answer to these buses; nil means every bus, an
	// empty non-nil list none.
	Buses []string
	// Equal holds exact values per field; a field with several values
	// matches any of them.
	Equal map[Field][]string
	// SubjectPrefix matches subjects that start with it.
	SubjectPrefix string
	// AnyOf are further conditions, each of which must hold (Narrow
	// derives them from a rule's pattern).
	AnyOf []AnyOf
	// After and Before bound the event time, both exclusive (CTS's from
	// and to are); zero means unbounded.
	After, Before time.Time
	// From continues a page: only records older than it (nil: the newest).
	From *Cursor
	// Limit is the page size; 0 means DefaultLimit.
	Limit int
	// Offset skips that many matches (after From) before the page starts,
	// for the APIs that page by offset (HSS, ACP).
	Offset int
}

// DefaultLimit is a Query's page size when it sets none.
const DefaultLimit = 50

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("audit index is closed")

// Store holds the index. Implementations are safe for concurrent use.
type Store interface {
	// Put writes records in one transaction; a record whose Seq is
	// already stored is left as it is, so writing twice is harmless.
	Put(ctx context.Context, recs []Record) error
	// Search answers q, newest first (time, then sequence).
	Search(ctx context.Context, q Query) ([]Record, error)
	// Count is how many records q matches, ignoring its From, Limit and
	// Offset.
	Count(ctx context.Context, q Query) (int64, error)
	// DeleteBefore removes the records whose time is before t and
	// returns how many it removed.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
	// RequestRebuild removes every record and leaves word for the
	// indexers sharing the store to read the stream again from its start
	// (TakeRebuild). It works while they run.
	RequestRebuild(ctx context.Context) error
	// TakeRebuild reports whether a rebuild was asked for since the last
	// call, and clears the request, so one indexer acts on it.
	TakeRebuild(ctx context.Context) (bool, error)
	Close() error
}
