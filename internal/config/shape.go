package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A shape is what a value of the config file must look like. Parse checks
// the YAML tree against fileShape before decoding it, so that every value
// of the wrong type, unknown key or key set twice, at any depth, is
// reported the same way and at its own line:
//
//	.gitops-lint.yaml:3: workers: want an integer, got "many"
//	.gitops-lint.yaml:5: rules: policy/x: disabled: want true or false, got "maybe"
//	.gitops-lint.yaml:8: provides entry 1: unknown key "produce" (known keys: group, kind, produces)
//
// A null value (`key:` or `key: ~`) is accepted wherever a key takes a
// value and means unset; a list entry must not be null.
type shape struct {
	// want is the expected value, for messages ("an integer").
	want string
	// kind is the node kind wanted; 0 accepts anything (policy params).
	kind yaml.Kind
	// fits reports whether a scalar's value is acceptable (nil: any scalar,
	// taken as written, so `kubernetesVersion: 1.36` is "1.36").
	fits func(*yaml.Node) bool
	// items is the shape of a list's entries; with orScalar, one scalar of
	// that shape may stand for the list (`format: json`).
	items    *shape
	orScalar bool
	// fields are the keys of a mapping with fixed keys; values is the shape
	// of every value of a mapping with free keys (rule ids, sources).
	fields map[string]*shape
	values *shape
}

func scalar(want string, fits func(*yaml.Node) bool) *shape {
	return &shape{want: want, kind: yaml.ScalarNode, fits: fits}
}

func listOf(want string, items *shape) *shape {
	return &shape{want: want, kind: yaml.SequenceNode, items: items}
}

func mappingOf(want string, values *shape) *shape {
	return &shape{want: want, kind: yaml.MappingNode, values: values}
}

// object is a mapping whose keys are fixed; want names them.
func object(fields map[string]*shape) *shape {
	return &shape{want: "a mapping {" + strings.Join(sortedKeys(fields), ", ") + "}", kind: yaml.MappingNode, fields: fields}
}

var (
	aString = scalar("a string", nil)
	integer = scalar("an integer", func(n *yaml.Node) bool {
		var i int
		return n.ShortTag() == "!!int" && n.Decode(&i) == nil // no 1.5 truncated to 1
	})
	boolean = scalar("true or false", func(n *yaml.Node) bool {
		var b bool
		return n.Decode(&b) == nil
	})
	directory   = scalar("a directory", nil)
	directories = listOf("a list of directories", directory)
	anything    = &shape{}
)

// fileShape is the whole config file; docs/config.schema.json says the same
// for editors (TestSchemaMatchesParser) and TestShapesMatchTypes keeps it in
// step with the types the file decodes into.
var fileShape = object(map[string]*shape{
	KeyFormat: {want: "a format or a list of formats, such as text or json=report.json", kind: yaml.SequenceNode, orScalar: true,
		items: scalar("a format such as text or json=report.json", nil)},
	KeyFailOn:       scalar("error, warning or never", nil),
	KeyEnvironments: listOf("a list of {name, path, branch}", object(map[string]*shape{"name": aString, "path": directory, "branch": aString})),
	KeySources:      mappingOf("a mapping of sources (namespace/name or URL) to directories", directory),
	KeyPlatform:     directory,
	KeyWorkers:      integer,
	KeyKubeVersion:  scalar("a Kubernetes version X.Y, such as \"1.36\"", nil),
	KeyCRDDirs:      directories,
	KeyRBACDirs:     directories,
	KeyAdmDirs:      directories,
	KeyRules: mappingOf("a mapping of rule ids to {severity, disabled, params}", object(map[string]*shape{
		"severity": scalar("error, warning or info", nil),
		"disabled": boolean,
		"params":   mappingOf("a mapping of parameter names to values", anything),
	})),
	KeyIgnore: listOf("a list of {rule, path, reason}", object(map[string]*shape{
		"rule": scalar("a rule id", nil), "path": scalar("a file glob", nil), "reason": aString,
	})),
	KeyPromotion: {want: "a list of branches or a comma-separated string, upstream first (dev,test,main)", kind: yaml.SequenceNode, orScalar: true,
		items: scalar("a branch name", nil)},
	KeyProvides: listOf("a list of {kind, group, produces}", object(map[string]*shape{
		"kind":  aString,
		"group": aString,
		"produces": object(map[string]*shape{
			"kind": aString, "name": aString, "nameFrom": scalar("a dotted field path such as spec.secretName", nil), "namespace": aString,
		}),
	})),
})

// check returns an *Error for the first value under n (at path, "" for
// the file itself) that does not have shape s.
func (s *shape) check(file, path string, n *yaml.Node) error {
	line := n.Line // an alias is reported where it is used
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if s.kind == 0 || isNull(n) {
		return nil
	}
	mismatch := func() error {
		return errAt(file, line, "%swant %s, got %s", prefix(path), s.want, describe(n))
	}
	if n.Kind == yaml.ScalarNode && s.orScalar {
		return s.items.check(file, path, n)
	}
	if n.Kind != s.kind {
		return mismatch()
	}
	switch s.kind {
	case yaml.ScalarNode:
		if s.fits != nil && !s.fits(n) {
			return mismatch()
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			at := fmt.Sprintf("%s entry %d", path, i+1)
			if isNull(item) {
				return errAt(file, item.Line, "%s: want %s, got null", at, s.items.want)
			}
			if err := s.items.check(file, at, item); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return errAt(file, k.Line, "%sa key must be a name, got %s", prefix(path), describe(k))
			}
			if seen[k.Value] {
				return errAt(file, k.Line, "%skey %q is already set above", prefix(path), k.Value)
			}
			seen[k.Value] = true
			vs := s.values
			if s.fields != nil {
				if vs = s.fields[k.Value]; vs == nil {
					return errAt(file, k.Line, "%sunknown key %q (known keys: %s)", prefix(path), k.Value, strings.Join(sortedKeys(s.fields), ", "))
				}
			}
			if err := vs.check(file, cmpPath(path, k.Value), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// cmpPath is the path of key under path: "rules: policy/x". A key that
// is not plain text (or could be read as two) is quoted: it is repository
// content, printed to a terminal.
func cmpPath(path, key string) string {
	if q := strconv.Quote(key); key == "" || q[1:len(q)-1] != key || strings.Contains(key, ": ") {
		key = q
	}
	if path == "" {
		return key
	}
	return path + ": " + key
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

// describe says what a node is, for "got …": a string quoted, another
// scalar as written (5, true), else its kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		v := n.Value
		if r := []rune(v); len(r) > 60 {
			v = string(r[:60]) + "…"
		}
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!null":
			return v
		}
		return strconv.Quote(v)
	}
	return "an alias"
}

func sortedKeys(m map[string]*shape) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
