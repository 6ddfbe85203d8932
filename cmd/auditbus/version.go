package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision recorded by the toolchain.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return "dev-" + s.Value[:min(12, len(s.Value))]
		}
	}
	return info.Main.Version
}

// versionInfo is what version prints, and its --json form.
type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	asJSON := jsonFlag(fs, "the version")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	v := versionInfo{versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH}
	if *asJSON {
		return writeJSON(stdout, v)
	}
	fmt.Fprintf(stdout, "auditbus %s (%s, %s/%s)\n", v.Version, v.Go, v.OS, v.Arch)
	return nil
}
