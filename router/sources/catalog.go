package sources

import (
	_ "embed"
	"fmt"
	"strings"
)

// CatalogEntry is one operation CloudAudit records for a product: the
// event name a record carries, the resource type it concerns and its
// Chinese name in the CloudAudit console.
type CatalogEntry struct {
	Product, ResourceType, EventName, Description string
}

// catalogTSV is generated once from Tencent's list of the container
// service operations CloudAudit records (TKE, CCR, CCS), one row per
// operation, with the header catalogHeader. Event names are kept exactly
// as Tencent lists them, typos included ("MosifyIngress"), because they
// are matched against what records carry.
//
//go:embed catalog.tsv
var catalogTSV string

const catalogHeader = "product\tresource_type\tevent_name\tdescription"

type catalogKey struct{ product, eventName string }

// catalog and catalogNames are built once at start-up; the embedded table
// is part of the binary, so a malformed one is a build defect, caught by
// the tests, not a runtime condition.
var catalog, catalogNames = mustParseCatalog(catalogTSV)

// LookupEvent returns the catalog entry for an event of a product, as in
// LookupEvent("tke", "DeleteCluster"). The same event name may belong to
// several products (DeleteCluster is both tke and ccs).
func LookupEvent(product, eventName string) (CatalogEntry, bool) {
	e, ok := catalog[catalogKey{product, eventName}]
	return e, ok
}

// KnownEventName reports whether any product of the catalog records
// eventName.
func KnownEventName(eventName string) bool {
	return catalogNames[eventName]
}

// CatalogedProduct reports whether the catalog lists the operations of
// product, so that an event name it lacks for that product is suspect.
func CatalogedProduct(product string) bool {
	for k := range catalog {
		if k.product == product {
			return true
		}
	}
	return false
}

func mustParseCatalog(tsv string) (map[catalogKey]CatalogEntry, map[string]bool) {
	entries, err := parseCatalog(tsv)
	if err != nil {
		panic(fmt.Sprintf("sources: embedded catalog.tsv: %v", err))
	}
	byKey := make(map[catalogKey]CatalogEntry, len(entries))
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		byKey[catalogKey{e.Product, e.EventName}] = e
		names[e.EventName] = true
	}
	return byKey, names
}

// parseCatalog reads the table, rejecting what would make a lookup
// silently wrong: a row with missing columns or an operation listed twice.
func parseCatalog(tsv string) ([]CatalogEntry, error) {
	lines := strings.Split(strings.TrimSuffix(tsv, "\n"), "\n")
	if lines[0] != catalogHeader {
		return nil, fmt.Errorf("line 1: header is %q, want %q", lines[0], catalogHeader)
	}
	var entries []CatalogEntry
	seen := make(map[catalogKey]bool, len(lines))
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("line %d: want 4 tab-separated columns with product, resource type and event name set: %q", i+2, line)
		}
		key := catalogKey{f[0], f[2]}
		if seen[key] {
			return nil, fmt.Errorf("line %d: %s %s is listed twice", i+2, f[0], f[2])
		}
		seen[key] = true
		entries = append(entries, CatalogEntry{Product: f[0], ResourceType: f[1], EventName: f[2], Description: f[3]})
	}
	return entries, nil
}
