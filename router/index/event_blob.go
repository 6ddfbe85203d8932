package index

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// compressedEvent marks a stored event the SQLite index keeps
// compressed (S2, a Snappy extension): the byte before the block. An
// event as auditbus stores it is JSON, which never starts with it, so the
// rows of an index an earlier auditbus wrote, which hold the event as it
// is, read as they are.
const compressedEvent = 0x00

// packEvent is the stored event ev as the index keeps it. Audit events
// are JSON with much repetition; compressed they make fewer pages to
// write and read.
func packEvent(ev []byte) []byte {
	out := make([]byte, 1+s2.MaxEncodedLen(len(ev)))
	out[0] = compressedEvent
	return out[:1+len(s2.Encode(out[1:], ev))]
}

// unpackEvent is the stored event of column value b.
func unpackEvent(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != compressedEvent {
		return b, nil
	}
	ev, err := s2.Decode(nil, b[1:])
	if err != nil {
		return nil, fmt.Errorf("stored event: %w", err)
	}
	return ev, nil
}
