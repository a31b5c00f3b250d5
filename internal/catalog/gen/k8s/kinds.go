package main

import (
	"fmt"
	"strings"
)

// GVK is a group, version and kind as swagger's
// x-kubernetes-group-version-kind spells them.
type GVK struct {
	Group, Version, Kind string
}

// APIVersion is the group/version string manifests use ("v1" for core).
func (g GVK) APIVersion() string {
	if g.Group == "" {
		return g.Version
	}
	return g.Group + "/" + g.Version
}

// Key is the catalog's key for a kind: "apps/v1/Deployment", "v1/Pod".
func (g GVK) Key() string { return g.APIVersion() + "/" + g.Kind }

// Kind is one entry of the catalog's kinds table. Fields are in key order so
// that the JSON has sorted keys like the rest of the document.
type Kind struct {
	Definition   string   `json:"definition"`
	Namespaced   bool     `json:"namespaced"`
	Resource     string   `json:"resource"`
	Subresources []string `json:"subresources"`
}

// resourcePath is what a REST path says about the resource it serves.
type resourcePath struct {
	group, version string
	namespaced     bool
	plural         string
	named          bool   // ends in (or goes through) /{name}
	sub            string // subresource after /{name}, if any
}

// parsePath splits /api/v1/... and /apis/GROUP/VERSION/... resource paths.
// Discovery, watch and non-resource paths give ok=false.
func parsePath(p string) (rp resourcePath, ok bool) {
	var rest []string
	switch {
	case strings.HasPrefix(p, "/api/v1/"):
		rp.version = "v1"
		rest = strings.Split(strings.Trim(strings.TrimPrefix(p, "/api/v1/"), "/"), "/")
	case strings.HasPrefix(p, "/apis/"):
		segs := strings.Split(strings.Trim(strings.TrimPrefix(p, "/apis/"), "/"), "/")
		if len(segs) < 3 {
			return rp, false
		}
		rp.group, rp.version, rest = segs[0], segs[1], segs[2:]
	default:
		return rp, false
	}
	if len(rest) == 0 || rest[0] == "" || rest[0] == "watch" {
		return rp, false
	}
	if len(rest) >= 2 && rest[0] == "namespaces" && rest[1] == "{namespace}" {
		rp.namespaced = true
		rest = rest[2:]
		if len(rest) == 0 {
			return rp, false
		}
	}
	if strings.Contains(rest[0], "{") {
		return rp, false
	}
	rp.plural = rest[0]
	if len(rest) >= 2 {
		if rest[1] != "{name}" {
			return rp, false
		}
		rp.named = true
	}
	if len(rest) >= 3 {
		rp.sub = rest[2]
	}
	return rp, true
}

// writeActions are the x-kubernetes-action values of operations that put an
// object of the kind: only resources a manifest can create or patch are
// kinds of the catalog (not List, Options, Status or read-only types).
var writeActions = map[string]bool{"post": true, "put": true, "patch": true}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

// resourceKey names a REST resource independently of its kinds.
type resourceKey struct{ group, version, plural string }

// ServedKinds reads swagger paths and returns, per kind that can be written,
// its resource, scope and subresources (Definition left empty). warn
// receives oddities worth a look.
func ServedKinds(paths map[string]any, warn func(string)) (map[GVK]Kind, error) {
	kinds := map[GVK]Kind{}
	subs := map[resourceKey]map[string]bool{}
	for _, p := range sortedKeys(paths) {
		rp, ok := parsePath(p)
		if !ok {
			continue
		}
		rk := resourceKey{rp.group, rp.version, rp.plural}
		if rp.sub != "" {
			if subs[rk] == nil {
				subs[rk] = map[string]bool{}
			}
			subs[rk][rp.sub] = true
			continue
		}
		item, ok := paths[p].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("read path %s: not an object", p)
		}
		for _, method := range httpMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			action, _ := op["x-kubernetes-action"].(string)
			if !writeActions[action] {
				continue
			}
			g, ok := opGVK(op)
			if !ok {
				warn(fmt.Sprintf("%s %s: %s operation has no x-kubernetes-group-version-kind", strings.ToUpper(method), p, action))
				continue
			}
			if g.Group != rp.group || g.Version != rp.version {
				warn(fmt.Sprintf("%s %s: serves %s outside its own group/version; skipped", strings.ToUpper(method), p, g.Key()))
				continue
			}
			k := Kind{Resource: rp.plural, Namespaced: rp.namespaced}
			if old, seen := kinds[g]; seen && (old.Resource != k.Resource || old.Namespaced != k.Namespaced) {
				// Keep the first in path order, and say so: no pinned
				// release does this.
				warn(fmt.Sprintf("%s is written through %s (namespaced=%t) and %s (namespaced=%t); keeping the first",
					g.Key(), old.Resource, old.Namespaced, k.Resource, k.Namespaced))
				continue
			}
			kinds[g] = k
		}
	}
	for g, k := range kinds {
		set := subs[resourceKey{g.Group, g.Version, k.Resource}]
		k.Subresources = sortedKeys(set)
		kinds[g] = k
	}
	return kinds, nil
}

func opGVK(op map[string]any) (GVK, bool) {
	m, ok := op["x-kubernetes-group-version-kind"].(map[string]any)
	if !ok {
		return GVK{}, false
	}
	g, _ := m["group"].(string)
	v, _ := m["version"].(string)
	k, _ := m["kind"].(string)
	return GVK{g, v, k}, v != "" && k != ""
}

// DefinitionIndex maps every GVK listed in a definition's
// x-kubernetes-group-version-kind to that definition's name.
func DefinitionIndex(defs map[string]any, warn func(string)) map[GVK]string {
	idx := map[GVK]string{}
	for _, name := range sortedKeys(defs) {
		def, _ := defs[name].(map[string]any)
		list, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			g, _ := m["group"].(string)
			v, _ := m["version"].(string)
			k, _ := m["kind"].(string)
			gvk := GVK{g, v, k}
			if old, ok := idx[gvk]; ok && old != name {
				warn(fmt.Sprintf("%s is claimed by definitions %s and %s; keeping %s", gvk.Key(), old, name, old))
				continue
			}
			idx[gvk] = name
		}
	}
	return idx
}
