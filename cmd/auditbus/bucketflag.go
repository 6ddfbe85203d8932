package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/auditbus/auditbus/router/archive"
)

// bucketFlag is --bucket NAME=DIR, repeatable: the storage locations CTS
// trackers may write to.
type bucketFlag struct{ m *map[string]string }

func (f *bucketFlag) String() string {
	if f.m == nil || *f.m == nil {
		return ""
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(*f.m)) {
		out = append(out, k+"="+(*f.m)[k])
	}
	return strings.Join(out, ",")
}

func (f *bucketFlag) Set(s string) error {
	name, dir, err := archive.ParseBucket(s)
	if err != nil {
		return err
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	if old, dup := (*f.m)[name]; dup && old != dir {
		return fmt.Errorf("bucket %s declared twice, as %s and %s", name, old, dir)
	}
	(*f.m)[name] = dir
	return nil
}
