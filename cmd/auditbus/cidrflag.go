package main

import (
	"net/netip"
	"strings"

	"github.com/auditbus/auditbus/sinks"
)

// cidrFlag is a repeatable, comma-separated list of CIDR blocks or single
// addresses (sinks.ParseCIDR). Like listFlag, the first Set of a parse
// replaces the list inherited from the config file or environment.
type cidrFlag struct {
	list    *[]netip.Prefix
	touched bool
}

func (c *cidrFlag) String() string {
	if c.list == nil {
		return ""
	}
	parts := make([]string, len(*c.list))
	for i, p := range *c.list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (c *cidrFlag) Set(v string) error {
	if !c.touched {
		*c.list, c.touched = nil, true
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := sinks.ParseCIDR(s)
		if err != nil {
			return err
		}
		*c.list = append(*c.list, p)
	}
	return nil
}
