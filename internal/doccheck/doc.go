// Package doccheck reads the fenced code blocks of the repository's
// Markdown files and the markers that say how each one is checked, so that
// no command, output or file shown in the docs can drift from what the code
// does.
//
// A marker is an HTML comment on the line just before a block's opening
// fence (CONTRIBUTING.md has the list of kinds). The doc check
// (cmd/auditbus/docs_test.go) checks every block by its marker and fails on
// a block without one. A block marked
//
//	<!-- test: router/compat/kubernetes TestReadmeKubeconfigDelivers -->
//
// is run by that test, which must read it with Read(t, path, key), key being
// the marker's test name (optionally followed by /label when one test reads
// several blocks): the doc check verifies statically that the named test
// reaches such a call with the block's file and key, and Read verifies at
// run time that it is called from the package the marker names.
package doccheck
