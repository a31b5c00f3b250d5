package schema

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestOperatorCRDs: in a cluster run by the Flux Operator, an Alert on
// FluxInstance and ResourceSet events is valid (the operator's patch to
// notification-controller's CRD), and the operator's own kinds validate
// against its CRDs instead of being unknown.
func TestOperatorCRDs(t *testing.T) {
	res, err := render.Render(context.Background(), render.Options{Root: testutil.FixturePath(t, "operator-fluxinstance"), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				kinds[o.Kind()] = true
			}
		}
	}
	for _, want := range []string{"Alert", "FluxInstance", "ResourceSet"} {
		if !kinds[want] {
			t.Fatalf("the fixture renders no %s (rendered: %v)", want, kinds)
		}
	}
	for _, f := range c.Check(context.Background(), res) {
		t.Errorf("%s %s:%d %s", f.Rule, f.File, f.Line, f.Message)
	}

	// A kind neither Flux nor the operator defines is still refused.
	env := res.Environments[0]
	var alert *render.Object
	for _, k := range env.Kustomizations {
		for _, o := range k.Objects {
			if o.Kind() == "Alert" {
				alert = o
			}
		}
	}
	src := alert.Content["spec"].(map[string]any)["eventSources"].([]any)
	src[0].(map[string]any)["kind"] = "FluxReport"
	fs := c.Check(context.Background(), res)
	if len(fs) != 1 || fs[0].Rule != RuleInvalid.ID || !strings.Contains(fs[0].Message, "/spec/eventSources/0/kind") || !strings.Contains(fs[0].Message, "'ResourceSetInputProvider'") {
		t.Errorf("an Alert on FluxReport events: %v, want one schema/invalid on eventSources[0].kind listing the operator's kinds", fs)
	}
}

// TestOperatorPatch leaves the shared embedded CRDs as they are and adds
// the operator's kinds once.
func TestOperatorPatch(t *testing.T) {
	crds, err := catalog.FluxCRDObjects()
	if err != nil {
		t.Fatal(err)
	}
	enum := func(crds []map[string]any, name, field string) []any {
		for _, crd := range crds {
			if crd["metadata"].(map[string]any)["name"] == name {
				kind, _ := operatorMapAt(crd["spec"].(map[string]any)["versions"].([]any)[0], "schema", "openAPIV3Schema", "properties", "spec", "properties", field, "items", "properties", "kind")
				e, _ := kind["enum"].([]any)
				return e
			}
		}
		t.Fatalf("no CRD %s", name)
		return nil
	}
	before := slices.Clone(enum(crds, "alerts.notification.toolkit.fluxcd.io", "eventSources"))
	patched := WithOperatorPatch(WithOperatorPatch(crds))
	for _, tc := range []struct{ name, field string }{
		{"alerts.notification.toolkit.fluxcd.io", "eventSources"},
		{"receivers.notification.toolkit.fluxcd.io", "resources"},
	} {
		got := enum(patched, tc.name, tc.field)
		for _, k := range operatorKinds {
			if n := slices.Index(got, any(k)); n < 0 || slices.Index(got[n+1:], any(k)) >= 0 {
				t.Errorf("%s %s enum %v: want %s once", tc.name, tc.field, got, k)
			}
		}
	}
	if after := enum(crds, "alerts.notification.toolkit.fluxcd.io", "eventSources"); !slices.Equal(before, after) || slices.Contains(after, any("FluxInstance")) {
		t.Errorf("the shared embedded CRD changed: %v", after)
	}
}
