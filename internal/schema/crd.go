package schema

import (
	"fmt"
	"slices"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// objectMetaRef is the ObjectMeta definition of the Kubernetes catalog,
// which every custom resource's metadata is validated against (CRDs may not
// describe metadata beyond name constraints).
const objectMetaRef = definitionsURL + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.json"

// crdVersion is one served version of a CustomResourceDefinition.
type crdVersion struct {
	Group, Version, Kind, Plural string
	Namespaced                   bool
	// Schema is the version's openAPIV3Schema converted to JSON Schema
	// (nil: the version has no schema, anything goes).
	Schema map[string]any
	// HasCEL: the schema has CEL rules (x-kubernetes-validations). Raw is
	// the schema as the CRD declares it, from which the structural schema
	// that prunes and defaults objects and the CEL validator are built.
	HasCEL bool
	Raw    map[string]any

	once   sync.Once
	schema *jsonschema.Schema
	err    error

	celOnce sync.Once
	celE    *celEntry
}

// rules returns the version's structural schema and CEL validator, built
// once per environment (and shared between identical schemas).
func (cv *crdVersion) rules(c *celRules) *celEntry {
	cv.celOnce.Do(func() { cv.celE = c.validator(cv.Raw) })
	return cv.celE
}

// compiled compiles the version's schema once per environment (the
// validator shares identical schemas between environments).
func (cv *crdVersion) compiled(v *Validator) (*jsonschema.Schema, error) {
	cv.once.Do(func() { cv.schema, cv.err = v.crdSchema(cv.Schema) })
	return cv.schema, cv.err
}

// crdVersions reads the served versions of a CRD object (unstructured).
func crdVersions(crd map[string]any) ([]*crdVersion, error) {
	spec, _ := crd["spec"].(map[string]any)
	if spec == nil {
		return nil, fmt.Errorf("CustomResourceDefinition has no spec")
	}
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	plural, _ := names["plural"].(string)
	scope, _ := spec["scope"].(string)
	if group == "" || kind == "" {
		return nil, fmt.Errorf("CustomResourceDefinition lacks spec.group or spec.names.kind")
	}
	vs, _ := spec["versions"].([]any)
	var out []*crdVersion
	for _, v := range vs {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		if served, ok := vm["served"].(bool); ok && !served {
			continue
		}
		cv := &crdVersion{Group: group, Version: name, Kind: kind, Plural: plural, Namespaced: scope != "Cluster"}
		if s, ok := nestedMap(vm, "schema", "openAPIV3Schema"); ok {
			conv := &crdConverter{}
			cv.Schema = conv.root(s)
			cv.HasCEL = conv.cel
			cv.Raw = s
		}
		out = append(out, cv)
	}
	return out, nil
}

func nestedMap(m map[string]any, keys ...string) (map[string]any, bool) {
	cur := m
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

type crdConverter struct{ cel bool }

// root converts the top-level schema: metadata is ObjectMeta, apiVersion
// and kind are strings, and status is never validated (the apiserver drops
// it on create and apply through the main resource).
func (c *crdConverter) root(s map[string]any) map[string]any {
	out := c.convert(s)
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		out["properties"] = props
	}
	props["metadata"] = map[string]any{"$ref": objectMetaRef}
	props["apiVersion"] = map[string]any{"type": "string"}
	props["kind"] = map[string]any{"type": "string"}
	delete(props, "status")
	return out
}

// convert turns a structural OpenAPI v3 schema into JSON Schema 2020-12 with
// the apiserver's strictness: unknown fields are errors unless preserved,
// `nullable` admits null, int-or-string admits both.
func (c *crdConverter) convert(s map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "type", "format", "pattern", "enum", "required", "minimum", "maximum",
			"minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
			"minProperties", "maxProperties", "multipleOf":
			out[k] = v
		case "properties":
			props := map[string]any{}
			pm, _ := v.(map[string]any)
			for name, ps := range pm {
				if psm, ok := ps.(map[string]any); ok {
					props[name] = c.convert(psm)
				}
			}
			out[k] = props
		case "items":
			if im, ok := v.(map[string]any); ok {
				out[k] = c.convert(im)
			}
		case "additionalProperties":
			switch ap := v.(type) {
			case bool:
				out[k] = ap
			case map[string]any:
				out[k] = c.convert(ap)
			}
		case "allOf", "anyOf", "oneOf":
			list, _ := v.([]any)
			var conv []any
			for _, e := range list {
				if em, ok := e.(map[string]any); ok {
					// In structural schemas these only add value
					// validations; they must not close objects.
					conv = append(conv, c.convertLoose(em))
				}
			}
			if len(conv) > 0 {
				out[k] = conv
			}
		case "not":
			if nm, ok := v.(map[string]any); ok {
				out[k] = c.convertLoose(nm)
			}
		case "x-kubernetes-validations":
			c.cel = true
		}
	}
	if b, _ := s["exclusiveMinimum"].(bool); b {
		if m, ok := out["minimum"]; ok {
			out["exclusiveMinimum"] = m
			delete(out, "minimum")
		}
	}
	if b, _ := s["exclusiveMaximum"].(bool); b {
		if m, ok := out["maximum"]; ok {
			out["exclusiveMaximum"] = m
			delete(out, "maximum")
		}
	}
	preserve, _ := s["x-kubernetes-preserve-unknown-fields"].(bool)
	embedded, _ := s["x-kubernetes-embedded-resource"].(bool)
	if ios, _ := s["x-kubernetes-int-or-string"].(bool); ios {
		delete(out, "type")
		out["type"] = []any{"integer", "string"}
	}
	// An object closes unless preserved, as the apiserver's pruning does;
	// server-side apply refuses what pruning would drop ("field not
	// declared in schema"), at the root and in embedded resources too
	// (beside their apiVersion, kind and metadata, declared below).
	if typ, _ := out["type"].(string); typ == "object" || (typ == "" && out["properties"] != nil) {
		if _, has := out["additionalProperties"]; !has && !preserve {
			out["additionalProperties"] = false
		}
	}
	if embedded {
		props, _ := out["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			out["properties"] = props
		}
		props["apiVersion"] = map[string]any{"type": "string"}
		props["kind"] = map[string]any{"type": "string"}
		props["metadata"] = map[string]any{"type": "object"}
	}
	if nullable, _ := s["nullable"].(bool); nullable {
		switch t := out["type"].(type) {
		case string:
			out["type"] = []any{t, "null"}
		case []any:
			if !slices.Contains(t, any("null")) {
				out["type"] = append(t, "null")
			}
		}
		if e, ok := out["enum"].([]any); ok && !slices.Contains(e, nil) {
			out["enum"] = append(slices.Clone(e), nil)
		}
	}
	return out
}

// convertLoose converts a value-validation subschema without closing its
// objects.
func (c *crdConverter) convertLoose(s map[string]any) map[string]any {
	out := c.convert(s)
	var open func(m map[string]any)
	open = func(m map[string]any) {
		if ap, ok := m["additionalProperties"].(bool); ok && !ap {
			delete(m, "additionalProperties")
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for _, p := range props {
				if pm, ok := p.(map[string]any); ok {
					open(pm)
				}
			}
		}
		if it, ok := m["items"].(map[string]any); ok {
			open(it)
		}
	}
	open(out)
	return out
}
