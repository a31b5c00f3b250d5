package schema

import (
	"slices"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// The Flux Operator (github.com/controlplaneio-fluxcd/flux-operator), when it
// installs Flux for a FluxInstance, patches notification-controller's CRDs so
// that Alerts and Receivers may name the operator's own kinds: its builder
// (internal/builder/templates.go, notificationPatchTmpl, v0.59.0) adds
// FluxInstance, ResourceSet and ResourceSetInputProvider to the enum of
//
//   - alerts.notification.toolkit.fluxcd.io
//     spec.versions[*].schema.openAPIV3Schema.properties.spec.properties.eventSources.items.properties.kind
//   - receivers.notification.toolkit.fluxcd.io
//     spec.versions[*].schema.openAPIV3Schema.properties.spec.properties.resources.items.properties.kind
//
// (for Flux 2.9 only versions/0, the one version these CRDs still serve;
// older Flux minors get the same addition in every version).
//
// The embedded Flux CRDs stand in for CRDs that the environment does not
// apply itself, i.e. that something outside it installed: the Flux Operator
// (from a FluxInstance in git or out of band), `flux install`, Terraform. The
// operator's enum is the wider one, and no event source the operator adds
// can exist on a cluster without it, so the embedded CRDs carry the patch in
// every environment. An environment that applies Flux's CRDs itself (a
// `flux bootstrap` layout with gotk-components.yaml) validates against
// those, unpatched, as its cluster does.

// operatorPatch lists, per CRD name, the spec property whose items' kind
// enum the operator extends.
var operatorPatch = map[string]string{
	"alerts.notification.toolkit.fluxcd.io":    "eventSources",
	"receivers.notification.toolkit.fluxcd.io": "resources",
}

// operatorKinds are the kinds the operator adds, in its order.
var operatorKinds = []string{"FluxInstance", "ResourceSet", "ResourceSetInputProvider"}

// WithOperatorPatch (the oracle applies it too) returns crds with the Flux Operator's patch applied to
// copies of notification-controller's CRDs (crds is shared: it is not
// modified).
func WithOperatorPatch(crds []map[string]any) []map[string]any {
	out := slices.Clone(crds)
	for i, crd := range out {
		md, _ := crd["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		field, ok := operatorPatch[name]
		if !ok {
			continue
		}
		cp, _ := objects.DeepCopy(crd).(map[string]any)
		spec, _ := cp["spec"].(map[string]any)
		versions, _ := spec["versions"].([]any)
		patched := false
		for _, v := range versions {
			kind, ok := operatorMapAt(v, "schema", "openAPIV3Schema", "properties", "spec", "properties", field, "items", "properties", "kind")
			if !ok {
				continue
			}
			enum, ok := kind["enum"].([]any)
			if !ok {
				continue // no enum: every kind is accepted already
			}
			for _, k := range operatorKinds {
				if !slices.Contains(enum, any(k)) {
					enum = append(enum, k)
				}
			}
			kind["enum"] = enum
			patched = true
		}
		if patched {
			out[i] = cp
		}
	}
	return out
}

// operatorMapAt walks nested maps along keys (its own helper: crd.go's may change).
func operatorMapAt(v any, keys ...string) (map[string]any, bool) {
	cur, ok := v.(map[string]any)
	for _, k := range keys {
		if !ok {
			return nil, false
		}
		cur, ok = cur[k].(map[string]any)
	}
	return cur, ok
}
