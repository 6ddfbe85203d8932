// Package redacttest holds the redaction corpus: realistic places where
// audit records carry secrets, each with the secrets planted there and the
// ordinary values that must survive, and wraps every placement in the
// record shape of each source endpoint. Tests of the redactor and of the
// whole server share it.
package redacttest
