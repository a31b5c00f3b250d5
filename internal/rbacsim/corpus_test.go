package rbacsim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func corpus(t testing.TB, repo string) string { return testutil.Corpus(t, repo) }

// checkRendered renders opts and runs the RBAC checker over the result.
func checkRendered(t *testing.T, opts render.Options) []finding.Finding {
	t.Helper()
	res, err := render.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Check(context.Background(), res)
}

func rbacFindings(t *testing.T, tenant string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, f := range checkRendered(t, render.Options{
		Root:    corpus(t, "flux2-multi-tenancy"),
		Sources: map[string]string{"apps/dev-team": tenant},
	}) {
		if f.Severity == finding.Error {
			out = append(out, f)
		}
	}
	return out
}

// TestMultiTenancyTenant: the dev-team tenant holds cluster-admin through a
// RoleBinding in its namespace: nothing it applies there is refused...
func TestMultiTenancyTenant(t *testing.T) {
	for _, f := range rbacFindings(t, corpus(t, "flux2-multi-tenancy-dev-team")) {
		t.Errorf("false RBAC error: %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
}

// ...but a ClusterRole, or an object in another namespace, is.
func TestMultiTenancyTenantOverreach(t *testing.T) {
	dir := testutil.CopyTree(t, corpus(t, "flux2-multi-tenancy-dev-team"))
	for name, content := range map[string]string{
		"clusterrole.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: dev-team-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n",
		"elsewhere.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: kube-system\ndata:\n  a: b\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "base", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := filepath.Join(dir, "base", "kustomization.yaml")
	data, _ := os.ReadFile(k)
	data = append(data, []byte("  - clusterrole.yaml\n  - elsewhere.yaml\n")...)
	if err := os.WriteFile(k, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range rbacFindings(t, dir) {
		if f.Rule != RuleForbidden.ID {
			t.Errorf("unexpected %s: %s", f.Rule, f.Message)
			continue
		}
		switch {
		case strings.Contains(f.Message, `cannot patch resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope`):
			got["clusterrole"]++
		case strings.Contains(f.Message, `cannot patch resource "configmaps" in API group "" in the namespace "kube-system"`):
			got["elsewhere"]++
		default:
			t.Errorf("unexpected finding: %s", f.Message)
		}
		if !strings.Contains(f.Message, `User "system:serviceaccount:apps:dev-team"`) || !strings.Contains(f.Message, "RoleBinding/apps/gotk-reconciler → ClusterRole/cluster-admin (in apps)") {
			t.Errorf("message lacks the identity or its binding: %s", f.Message)
		}
	}
	// one per environment (staging, production)
	if got["clusterrole"] != 2 || got["elsewhere"] != 2 {
		t.Errorf("findings %v, want 2 of each", got)
	}
}

func BenchmarkRBACOnedr0p(b *testing.B) {
	res, err := render.Render(context.Background(), render.Options{Root: corpus(b, "onedr0p-home-ops")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := Load(Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Check(context.Background(), res)
	}
}
