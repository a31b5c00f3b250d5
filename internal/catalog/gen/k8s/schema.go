package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Definition names that get a fixed schema instead of their swagger one,
// because swagger describes them by their Go type, not by what the apiserver
// accepts on the wire.
const (
	intOrString  = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantity     = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	metaTime     = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
	metaMicro    = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
	rawExtension = "io.k8s.apimachinery.pkg.runtime.RawExtension"
	fieldsV1     = "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"
	metaPatch    = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
	// apiextensions' JSON type (v1 and the old v1beta1) holds any JSON value.
	apiextensionsPrefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions."
)

// QuantityPattern is resource.Quantity's string form (the apiserver also
// accepts a bare JSON number).
const QuantityPattern = `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$`

// keptExtensions are the x-kubernetes-* keys that change what a value may
// be; every other extension only steers merging or client behaviour.
var keptExtensions = map[string]bool{
	"x-kubernetes-preserve-unknown-fields": true,
	"x-kubernetes-int-or-string":           true,
	"x-kubernetes-embedded-resource":       true,
}

// fixedSchema returns the replacement schema for a definition name, if any.
func fixedSchema(name string) (map[string]any, bool) {
	switch {
	case name == intOrString:
		return map[string]any{"type": []any{"string", "integer"}}, true
	case name == quantity:
		return map[string]any{"type": []any{"string", "number"}, "pattern": QuantityPattern}, true
	case name == metaTime, name == metaMicro:
		// A zero time is serialised as null.
		return map[string]any{"type": []any{"string", "null"}, "format": "date-time"}, true
	case name == rawExtension:
		return map[string]any{}, true
	case strings.HasPrefix(name, apiextensionsPrefix) && strings.HasSuffix(name, ".JSON"):
		return map[string]any{}, true
	case name == fieldsV1, name == metaPatch:
		// Free-form objects: managedFields entries and patch bodies.
		return map[string]any{"type": "object"}, true
	}
	return nil, false
}

// acceptsNull reports whether a fixed definition already admits null, so a
// reference to it needs no nullable wrapper.
func acceptsNull(name string) bool {
	s, ok := fixedSchema(name)
	if !ok {
		return false
	}
	if len(s) == 0 {
		return true
	}
	types, _ := s["type"].([]any)
	for _, t := range types {
		if t == "null" {
			return true
		}
	}
	return false
}

// ConvertDefinitions turns swagger 2.0 definitions into strict JSON Schema:
// closed objects, nullable optional fields, wire-level types for the
// apimachinery special types, no descriptions and no merge extensions.
func ConvertDefinitions(defs map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(defs))
	for _, name := range sortedKeys(defs) {
		if fixed, ok := fixedSchema(name); ok {
			out[name] = fixed
			continue
		}
		def, ok := defs[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("convert definition %s: not an object", name)
		}
		s, err := convert(def, name)
		if err != nil {
			return nil, fmt.Errorf("convert definition %s: %w", name, err)
		}
		// A Go struct with no fields is `{"type":"object"}` in swagger;
		// strict decoding rejects any field in it.
		if s["type"] == "object" && s["properties"] == nil && s["additionalProperties"] == nil && !preserves(s) {
			s["additionalProperties"] = false
		}
		out[name] = s
	}
	return out, nil
}

// convert transforms one schema node. where names it for error messages.
func convert(in map[string]any, where string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range in {
		switch {
		case k == "description":
			// Dropped for size; the validator reports paths, not docs.
		case strings.HasPrefix(k, "x-"):
			if keptExtensions[k] {
				out[k] = v
			}
		case k == "$ref":
			ref, ok := v.(string)
			if !ok || !strings.HasPrefix(ref, "#/definitions/") {
				return nil, fmt.Errorf("%s: $ref %v is not a local definition", where, v)
			}
			out[k] = ref
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties is not an object", where)
			}
			required := stringSet(in["required"])
			conv := make(map[string]any, len(props))
			for _, name := range sortedKeys(props) {
				p, ok := props[name].(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s.%s: not a schema", where, name)
				}
				c, err := convert(p, where+"."+name)
				if err != nil {
					return nil, err
				}
				if !required[name] {
					c = nullable(c)
				}
				conv[name] = c
			}
			out[k] = conv
		case k == "items" || k == "additionalProperties" || k == "not":
			switch sub := v.(type) {
			case map[string]any:
				c, err := convert(sub, where+"."+k)
				if err != nil {
					return nil, err
				}
				out[k] = c
			case bool:
				out[k] = sub
			default:
				return nil, fmt.Errorf("%s: %s is neither a schema nor a boolean", where, k)
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s is not a list", where, k)
			}
			conv := make([]any, 0, len(list))
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s.%s[%d]: not a schema", where, k, i)
				}
				c, err := convert(m, fmt.Sprintf("%s.%s[%d]", where, k, i))
				if err != nil {
					return nil, err
				}
				conv = append(conv, c)
			}
			out[k] = conv
		default:
			out[k] = v
		}
	}

	intOrStr := out["format"] == "int-or-string" || out["x-kubernetes-int-or-string"] == true
	if intOrStr && out["anyOf"] == nil && out["oneOf"] == nil {
		out["type"] = []any{"string", "integer"}
		if out["format"] == "int-or-string" {
			delete(out, "format")
		}
	}
	if out["type"] == "integer" && out["format"] == "int32" {
		if _, ok := out["minimum"]; !ok {
			out["minimum"] = json.Number("-2147483648")
		}
		if _, ok := out["maximum"]; !ok {
			out["maximum"] = json.Number("2147483647")
		}
	}
	if out["properties"] != nil && out["additionalProperties"] == nil && !preserves(out) {
		out["additionalProperties"] = false
	}
	return out, nil
}

// preserves reports x-kubernetes-preserve-unknown-fields: true.
func preserves(s map[string]any) bool {
	return s["x-kubernetes-preserve-unknown-fields"] == true
}

// nullable makes a schema also accept null, the way the apiserver accepts
// null for any optional field (it means "unset").
func nullable(s map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		if acceptsNull(strings.TrimPrefix(ref, "#/definitions/")) {
			return s
		}
		// Siblings of $ref (kept extensions) stay on the wrapper.
		wrapped := map[string]any{"anyOf": []any{map[string]any{"$ref": ref}, map[string]any{"type": "null"}}}
		for k, v := range s {
			if k != "$ref" {
				wrapped[k] = v
			}
		}
		return wrapped
	}
	switch t := s["type"].(type) {
	case string:
		if t != "null" {
			s["type"] = []any{t, "null"}
		}
	case []any:
		if !containsString(t, "null") {
			s["type"] = append(append([]any{}, t...), "null")
		}
	default:
		// No type: anything goes already (or only a combinator constrains
		// it, which swagger for built-in types never produces).
		return s
	}
	if enum, ok := s["enum"].([]any); ok && !containsNil(enum) {
		s["enum"] = append(append([]any{}, enum...), nil)
	}
	return s
}

func stringSet(v any) map[string]bool {
	set := map[string]bool{}
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			set[s] = true
		}
	}
	return set
}

func containsString(list []any, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func containsNil(list []any) bool {
	for _, e := range list {
		if e == nil {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
