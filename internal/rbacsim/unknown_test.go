package rbacsim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// TestUnknownResource: a tenant applies a kind no built-in and no CRD of the
// environment defines. Its API resource cannot be known, so its RBAC is not
// simulated: a warning at the object, not a guessed error. A tenant allowed
// everything in its namespace is not warned (whatever the resource is
// called, it may apply it).
func TestUnknownResource(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: ssh://git@example.com/platform, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 10m, path: ./clusters/dev, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
`,
		"clusters/dev/team-a.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: flux-reconciler, namespace: team-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmaps, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: flux-reconciler, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmaps}
subjects:
- {kind: ServiceAccount, name: flux-reconciler, namespace: team-a}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: team-a, namespace: team-a}
spec:
  interval: 10m
  path: ./tenants/team-a
  prune: true
  serviceAccountName: flux-reconciler
  targetNamespace: team-a
  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`,
		"tenants/team-a/kustomization.yaml": "resources: [widget.yaml, cm.yaml]\n",
		"tenants/team-a/widget.yaml":        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: gizmo\nspec:\n  size: 3\n",
		"tenants/team-a/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
	}
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []finding.Finding
	for _, f := range checkRendered(t, render.Options{Root: dir}) {
		if f.Kustomization == "team-a/team-a" {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one finding for the tenant, got %+v", got)
	}
	f := got[0]
	if f.Rule != RuleUnknownResource.ID || f.Severity != finding.Warning || f.File != "tenants/team-a/widget.yaml" || f.Line != 1 {
		t.Errorf("got %s %s at %s:%d (%s); want an rbac/unknown-resource warning at tenants/team-a/widget.yaml:1", f.Rule, f.Severity, f.File, f.Line, f.Message)
	}
}
