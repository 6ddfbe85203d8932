package bus

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrStorageFull reports that JetStream refused to store an event for lack
// of storage: the server's or the account's storage limit is reached (on
// the embedded server, --nats-max-store), or a stream's byte limit. The
// error names JetStream's own description. Events of the request before the
// refused one may be stored; re-sending the whole request is safe. Nothing
// more is stored until storage is freed or the limit raised.
var ErrStorageFull = errors.New("the bus refused to store: JetStream storage is full")

// The JetStream API error codes (nats-server errors.json) that mean "no
// room to store". JetStream answers a publish with them; a write that fails
// on a full disk below JetStream's limit gets no answer at all (DiskWatch
// finds why on the embedded server: ErrDiskFull), which is why the embedded
// server's limit stays below the disk's free space.
const (
	errCodeAccountResourcesExceeded = 10002 // JSAccountResourcesExceededErr: the account's limit
	errCodeInsufficientResources    = 10023 // JSInsufficientResourcesErr: the server's max store
	errCodeStorageResourcesExceeded = 10047 // JSStorageResourcesExceededErr: reservations over the max store
	errCodeStreamStoreFailed        = 10077 // JSStreamStoreFailedF: "maximum bytes exceeded" among others
)

// storageRefusal returns err as ErrStorageFull with JetStream's cause when
// it is a refusal for lack of storage, and nil otherwise.
func storageRefusal(err error) error {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return nil
	}
	switch apiErr.ErrorCode {
	case errCodeAccountResourcesExceeded, errCodeInsufficientResources, errCodeStorageResourcesExceeded:
	case errCodeStreamStoreFailed:
		// The same code carries "message size exceeds maximum allowed"
		// and other store failures that more room would not cure.
		if !strings.Contains(apiErr.Description, "maximum bytes") {
			return nil
		}
	default:
		return nil
	}
	return fmt.Errorf("%w (%s, err_code %d)", ErrStorageFull, apiErr.Description, apiErr.ErrorCode)
}

// Refusal is a storage refusal a publish got: Err wraps ErrStorageFull.
type Refusal struct {
	Err error
	At  time.Time
}

// refusals remembers the last storage refusal until a publish succeeds.
type refusals struct {
	mu   sync.Mutex
	last Refusal
}

func (r *refusals) record(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = Refusal{Err: err, At: time.Now()}
}

// clear forgets the last refusal; with a non-zero seen, only if it is
// still that one (a newer refusal stays).
func (r *refusals) clear(seen Refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seen.At.IsZero() || r.last.At.Equal(seen.At) {
		r.last = Refusal{}
	}
}

// StorageRefusal is the last storage refusal a publish got; its Err is
// nil when there was none since a publish last stored its events or
// ClearStorageRefusal was called.
func (p *Publisher) StorageRefusal() Refusal {
	p.refused.mu.Lock()
	defer p.refused.mu.Unlock()
	return p.refused.last
}

// ClearStorageRefusal forgets seen, the refusal StorageRefusal returned,
// for a caller that found room on the store since (readiness, after a
// purge or a raised limit). A newer refusal stays.
func (p *Publisher) ClearStorageRefusal(seen Refusal) { p.refused.clear(seen) }
