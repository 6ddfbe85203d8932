// Package ingest decodes the CloudEvents of one HTTP request (binary,
// structured or batched mode) and validates them strictly against the
// CloudEvents 1.0 specification, before anything reaches the bus.
//
// Decode either returns every event of the request, all valid, or an
// *Error that names what is wrong, where (batch index, attribute) and why;
// never a partial result, so a rejected request stores nothing.
package ingest
