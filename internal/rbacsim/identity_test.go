package rbacsim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var outsideSync = fmt.Sprintf(testutil.FluxSync, "ssh://git@example.com/platform", "main", "./clusters/dev")

const outsideApps = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  serviceAccountName: automation
  sourceRef: {kind: GitRepository, name: flux-system}
`

// TestIdentityOutsideGit: a Kustomization reconciled as a ServiceAccount
// nothing in git declares or binds (the platform creates it, with its
// bindings, at bootstrap) is one warning, not one rbac/forbidden error per
// object; once git binds it, it is simulated again.
func TestIdentityOutsideGit(t *testing.T) {
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": outsideSync,
		"clusters/dev/apps.yaml":                  outsideApps,
		"apps/kustomization.yaml":                 "resources: [a.yaml, b.yaml]\n",
		"apps/a.yaml":                             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
		"apps/b.yaml":                             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\n",
	}
	fs := checkRendered(t, render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if len(fs) != 1 || fs[0].Rule != RuleIdentityOutsideGit.ID || fs[0].Severity != finding.Warning ||
		fs[0].File != "clusters/dev/apps.yaml" || !strings.Contains(fs[0].Message, "system:serviceaccount:flux-system:automation") {
		t.Fatalf("want one rbac/identity-outside-git warning at the Kustomization, got %+v", fs)
	}

	// Bound in git (to a role that does not cover ConfigMaps): simulated.
	files["clusters/dev/rbac.yaml"] = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: automation}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view-secrets}
subjects:
- {kind: ServiceAccount, name: automation, namespace: flux-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view-secrets}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
`
	fs = checkRendered(t, render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	forbidden := 0
	for _, f := range fs {
		switch f.Rule {
		case RuleForbidden.ID:
			forbidden++
		case RuleIdentityOutsideGit.ID:
			t.Errorf("a ServiceAccount git binds is reported as outside git: %s", f.Message)
		}
	}
	if forbidden != 2 {
		t.Errorf("want both ConfigMaps forbidden once git binds the account, got %+v", fs)
	}
}

// TestRBACPerCluster: a binding the hub applies to itself grants nothing
// on a spoke (a Kustomization with spec.kubeConfig): the spoke's identity
// is judged by what is applied to the spoke only.
func TestRBACPerCluster(t *testing.T) {
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": outsideSync,
		"clusters/dev/apps.yaml":                  outsideApps,
		"clusters/dev/rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: automation}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: automation, namespace: flux-system}
`,
		"apps/kustomization.yaml": "resources: [a.yaml]\n",
		"apps/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n",
	}
	if fs := checkRendered(t, render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)}); len(fs) != 0 {
		t.Fatalf("bound to cluster-admin on its own cluster: want nothing, got %+v", fs)
	}
	files["clusters/dev/apps.yaml"] = strings.Replace(outsideApps, "  serviceAccountName: automation\n", "  serviceAccountName: automation\n  kubeConfig:\n    secretRef: {name: spoke}\n", 1)
	fs := checkRendered(t, render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if len(fs) != 1 || fs[0].Rule != RuleIdentityOutsideGit.ID {
		t.Errorf("on the spoke, nothing in git binds the account: want rbac/identity-outside-git, got %+v", fs)
	}
}
