package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// swagger is the part of a Kubernetes OpenAPI v2 document the generator
// reads. Numbers stay json.Number so they are written back unchanged.
type swagger struct {
	Definitions map[string]any `json:"definitions"`
	Paths       map[string]any `json:"paths"`
}

func parseSwagger(b []byte) (swagger, error) {
	var s swagger
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("parse swagger.json: %w", err)
	}
	if len(s.Definitions) == 0 || len(s.Paths) == 0 {
		return s, fmt.Errorf("parse swagger.json: no definitions or no paths")
	}
	return s, nil
}

// BuildCatalog turns one release's swagger.json into the catalog document:
// {"version", "definitions", "kinds"}, JSON with sorted keys.
func BuildCatalog(version string, swaggerJSON []byte, warn func(string)) ([]byte, error) {
	s, err := parseSwagger(swaggerJSON)
	if err != nil {
		return nil, err
	}
	defs, err := ConvertDefinitions(s.Definitions)
	if err != nil {
		return nil, err
	}
	served, err := ServedKinds(s.Paths, warn)
	if err != nil {
		return nil, err
	}
	idx := DefinitionIndex(s.Definitions, warn)
	kinds := map[string]Kind{}
	for g, k := range served {
		name := idx[g]
		if name == "" {
			warn(fmt.Sprintf("%s has write paths but no definition lists it; left out of kinds", g.Key()))
			continue
		}
		k.Definition = name
		kinds[g.Key()] = k
	}
	return marshal(map[string]any{
		"version":     version,
		"definitions": defs,
		"kinds":       kinds,
	})
}

// ReadServed reads one release's writable kinds and their deprecation
// notes, for the removed table.
func ReadServed(minor string, swaggerJSON []byte, warn func(string)) (ServedRelease, error) {
	s, err := parseSwagger(swaggerJSON)
	if err != nil {
		return ServedRelease{}, err
	}
	kinds, err := ServedKinds(s.Paths, warn)
	if err != nil {
		return ServedRelease{}, err
	}
	return ServedRelease{Minor: minor, Kinds: kinds, Deprecated: Deprecations(s.Definitions, DefinitionIndex(s.Definitions, warn))}, nil
}

// BuildRemoved renders the removed-API table.
func BuildRemoved(releases []ServedRelease) ([]byte, error) {
	return marshal(Removed(releases))
}

// marshal writes compact JSON with sorted map keys and without HTML
// escaping (patterns contain < and >).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	return buf.Bytes(), nil
}

// BootstrapFiles are the bootstrap RBAC policy fixtures, in stream order.
var BootstrapFiles = []string{
	"cluster-roles.yaml",
	"cluster-role-bindings.yaml",
	"namespace-roles.yaml",
	"namespace-role-bindings.yaml",
}

// BootstrapDir is where the fixtures live in the kubernetes module.
const BootstrapDir = "plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/"

// JoinYAML concatenates YAML documents into one stream.
func JoinYAML(docs [][]byte) []byte {
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		d = bytes.TrimPrefix(d, []byte("---\n"))
		b.Write(d)
		if !bytes.HasSuffix(d, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// catalogFile names a release's catalog: kubernetes-v1.37.json.gz.
func catalogFile(minor string) string {
	return "kubernetes-v" + strings.TrimPrefix(minor, "v") + ".json.gz"
}
