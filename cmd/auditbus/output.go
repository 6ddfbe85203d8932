package main

import (
	"encoding/json"
	"flag"
	"io"
)

// jsonFlag is the --json flag every command that prints results has
// (TestEveryCommandHasJSON holds them to it): one JSON document on
// stdout instead of the text, for scripts.
func jsonFlag(fs *flag.FlagSet, what string) *bool {
	return fs.Bool("json", false, "print "+what+" as JSON instead of text")
}

// writeJSON prints v as one line of JSON, HTML characters unescaped.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
