package topics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/auditbus/auditbus/sinks"
)

// File is the topics file: topics that are not managed through the API,
// function URNs with their invocation, and the user-group directory that
// notifications' notify_user_list resolves groups with.
//
//	topics:
//	  - name: security
//	    subscriptions:
//	      - {id: soc, protocol: https, endpoint: "https://soc.example/hook"}
//	functions:
//	  - {urn: "urn:fss:r1:p1:function:default:on-delete:latest", url: "https://fn.example/invoke"}
//	groups:
//	  admin: [alice, bob]
type File struct {
	Topics    []Topic
	Functions map[string]*yaml.Node // by URN: the function target's settings
	Groups    map[string][]string
}

type fileTopic struct {
	Name          string             `yaml:"name"`
	Region        string             `yaml:"region"`
	Project       string             `yaml:"project"`
	Subscriptions []fileSubscription `yaml:"subscriptions"`
}

type fileSubscription struct {
	ID       string `yaml:"id"`
	Protocol string `yaml:"protocol"`
	Endpoint string `yaml:"endpoint"`
	Secret   string `yaml:"secret"`
	Confirm  *bool  `yaml:"confirm"`
}

// ReadFile reads and checks a topics file; "" is an empty one. Every
// error names the file.
func ReadFile(path string) (*File, error) {
	f := &File{Functions: map[string]*yaml.Node{}, Groups: map[string][]string{}}
	if path == "" {
		return f, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topics file: %w", err)
	}
	if err := f.parse(src); err != nil {
		return nil, fmt.Errorf("topics file %s: %w", path, err)
	}
	return f, nil
}

func (f *File) parse(src []byte) error {
	var doc struct {
		Topics    []fileTopic         `yaml:"topics"`
		Functions []yaml.Node         `yaml:"functions"`
		Groups    map[string][]string `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	for i := range doc.Functions {
		n := &doc.Functions[i]
		var fn sinks.FunctionConfig
		if err := n.Decode(&fn); err != nil {
			return fmt.Errorf("line %d: function: %w", n.Line, err)
		}
		if !IsFunctionURN(fn.URN) {
			return fmt.Errorf("line %d: function urn %q: want urn:fss:...", n.Line, fn.URN)
		}
		if err := sinks.Check("function", n); err != nil {
			return fmt.Errorf("line %d: function %s: %w", n.Line, fn.URN, err)
		}
		if _, dup := f.Functions[fn.URN]; dup {
			return fmt.Errorf("line %d: function %s declared twice", n.Line, fn.URN)
		}
		f.Functions[fn.URN] = n
	}
	seen := map[string]bool{}
	for _, ft := range doc.Topics {
		t := Topic{Name: ft.Name, Region: ft.Region, Project: ft.Project, Origin: OriginFile, Subscriptions: []Subscription{}}
		for _, s := range ft.Subscriptions {
			t.Subscriptions = append(t.Subscriptions, Subscription(s))
		}
		if err := t.normalize(func(urn string) bool { return f.Functions[urn] != nil }); err != nil {
			return err
		}
		if seen[t.Name] {
			return fmt.Errorf("topic %s declared twice", t.Name)
		}
		if err := New(f, zerolog.Nop()).checkSubscriptions(t); err != nil {
			return err
		}
		seen[t.Name] = true
		f.Topics = append(f.Topics, t)
	}
	for g, users := range doc.Groups {
		if g == "" || len(users) == 0 {
			return fmt.Errorf("groups: group %q needs a name and at least one user", g)
		}
	}
	if doc.Groups != nil {
		f.Groups = doc.Groups
	}
	return nil
}
