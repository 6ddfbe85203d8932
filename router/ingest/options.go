package ingest

// DefaultMaxBodyBytes bounds a request body unless WithMaxBodyBytes says
// otherwise: large enough for a batch of ordinary audit records, small
// enough that one client cannot make the server buffer arbitrary amounts.
const DefaultMaxBodyBytes int64 = 1 << 20

type options struct {
	maxBodyBytes int64
}

// Option tunes Decode.
type Option func(*options)

// WithMaxBodyBytes sets the largest body Decode accepts; a larger one fails
// with ErrTooLarge after reading at most n+1 bytes.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) { o.maxBodyBytes = n }
}

func buildOptions(opts []Option) options {
	o := options{maxBodyBytes: DefaultMaxBodyBytes}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
