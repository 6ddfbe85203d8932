// Package ingest decodes the CloudEvents of one HTTP request (binary,
// structured or batched mode) and validates them strictly against the
// CloudEvents 1.0 specification, before anything reaches the bus.
//
// Decode either returns every event of the request, all valid, or an
// *Error that names what is wrong, where (batch index, attribute) and why;
// never a partial result, so a rejected request stores nothing.
//
// Decisions where the specification leaves room:
//
//   - A JSON null means "not set": optional attributes, extensions, data
//     and data_base64 that are null are absent; a null required attribute
//     is reported as missing.
//   - Attribute names must be lowercase a-z and 0-9. Names longer than the
//     20 characters the spec recommends are accepted.
//   - Extension values in JSON are strings, booleans or integers written
//     without fraction or exponent within int32; anything else is rejected.
//     Binary-mode extension values are strings.
//   - source and dataschema must read back unchanged from url.URL, so the
//     stored value (half of the deduplication key) is what was sent.
//   - time must be RFC 3339 with a year 0000-9999 in UTC; it is stored in UTC.
//   - Structured data without datacontenttype is JSON, and the event then
//     records datacontenttype application/json. JSON data is kept as the
//     exact bytes of the value: a JSON string stays a JSON string.
//   - Data is given the representation (raw JSON, string, or base64) that
//     the bus's structured writer (cejson) turns back into the same bytes:
//     JSON data of any JSON type is stored as data, but a JSON string or
//     null under a +json type sdk-go does not know, and binary bodies
//     without Content-Type or with non-text content, are kept as binary
//     (data_base64 when stored).
//   - A binary-mode body declared JSON must be valid JSON.
//   - A CloudEvents Content-Type selects structured or batched mode even
//     when ce-* headers are present; those headers are then ignored.
package ingest
