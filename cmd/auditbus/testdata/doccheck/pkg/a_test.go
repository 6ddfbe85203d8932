package pkg

// A fixture of cmd/auditbus/docs_check_test.go: a test that reads a block
// through a helper, and one that reads none.

import (
	"testing"

	"github.com/auditbus/auditbus/internal/doccheck"
)

const doc = "../doc.md"

func TestReads(t *testing.T) { helper(t) }

func helper(t *testing.T) { _ = doccheck.Read(t, doc, "TestReads") }

func TestByKey(t *testing.T) { _ = read(t, "TestByKey/one") }

func read(t *testing.T, key string) string { return doccheck.Read(t, "../doc.md", key) }

func TestOther(t *testing.T) {}

func TestByPath(t *testing.T) { _ = readAt(t, "../doc.md", "TestByPath") }

func readAt(t *testing.T, path, key string) string { return doccheck.Read(t, path, key) }
