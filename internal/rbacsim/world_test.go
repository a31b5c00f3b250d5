package rbacsim

import (
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// TestBootstrapAggregation: admin aggregates edit, which aggregates view
// and the aggregate-to-* roles; a binding to admin must grant what edit
// grants (deployments), whatever order the roles are processed in.
func TestBootstrapAggregation(t *testing.T) {
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	binding := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "admins", "namespace": "team-a"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "sa", "namespace": "team-a"}},
	}
	env := &render.Environment{Name: "dev", Kustomizations: []*render.Kustomization{{
		Namespace: "flux-system", Name: "rbac", Objects: []*render.Object{{Content: binding}},
	}}}
	id := identity.Identity{Namespace: "team-a", Name: "sa"}
	for _, tc := range []struct {
		req  Request
		want bool
	}{
		{Request{Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "team-a"}, true},                       // from edit
		{Request{Verb: "get", APIGroup: "", Resource: "pods", Subresource: "log", Namespace: "team-a"}, true},                 // from view
		{Request{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: "team-a"}, true}, // admin's own
		{Request{Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "team-b"}, false},                      // other namespace
		{Request{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles"}, false},                     // cluster scope
		{Request{Verb: "create", APIGroup: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, true},               // system:basic-user
	} {
		if got, _ := c.CanI(env, id, tc.req); got != tc.want {
			t.Errorf("%+v: got %v, want %v", tc.req, got, tc.want)
		}
	}
}
