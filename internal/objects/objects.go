// Package objects decodes Kubernetes objects from YAML or JSON streams into
// apimachinery's unstructured form (int64 and float64 numbers).
package objects

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// Decode decodes every document of a YAML or JSON stream, skipping empty
// ones.
func Decode(data []byte) ([]map[string]any, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []map[string]any
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var m map[string]any
		if err := utiljson.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

// Flatten replaces every List (an object with items) by its items.
func Flatten(objs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		items, ok := o["items"].([]any)
		if !ok {
			out = append(out, o)
			continue
		}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// ReadDir decodes the objects of every .yaml, .yml and .json file below
// dir, Lists flattened. The directory may hold repository content, so it is
// read through the trust boundary: no symbolic link out of dir, regular
// files only, at most fileLimit bytes a file, charged to budget (see
// package confine). A refused or undecodable file is an error naming it.
func ReadDir(dir string, fileLimit int64, budget *confine.Budget) ([]map[string]any, error) {
	r, err := confine.Open(dir, fileLimit, budget)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []map[string]any
	err = r.Walk(func(p string, d fs.DirEntry) error {
		ext := path.Ext(p)
		if d.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			return nil
		}
		data, err := r.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := Decode(data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, Flatten(objs)...)
		return nil
	})
	return out, err
}

// Nested walks m along keys — map keys, or decimal indexes into lists —
// and returns the value found there, or nil when a step is missing.
func Nested(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// NestedString is Nested for a string value; "" when absent or not a string.
func NestedString(m map[string]any, keys ...string) string {
	s, _ := Nested(m, keys...).(string)
	return s
}

// Group is the API group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func Group(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// DeepCopy copies decoded YAML or JSON: maps and lists are copied,
// anything else is shared (scalars are immutable). Unlike
// runtime.DeepCopyJSONValue it never panics on an unexpected type.
func DeepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = DeepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = DeepCopy(e)
		}
		return out
	}
	return v
}

// EnsureMap returns the map at keys below m, creating the maps on the way
// (and replacing anything that is not a map).
func EnsureMap(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}
