// Package pgtest runs a real PostgreSQL server for tests: Debian's
// postgresql package (.ci/run installs it when initdb is missing),
// initialized in a temporary directory, listening on loopback only, and
// stopped when the tests end. As root it runs the server as the postgres
// user, which PostgreSQL requires.
package pgtest
