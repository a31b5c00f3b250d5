package policy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
	"github.com/gitops-lint/gitops-lint/policies"
)

// TestBuiltinRegoTests runs the _test.rego files of the built-in library.
func TestBuiltinRegoTests(t *testing.T) {
	modules := map[string]*ast.Module{}
	entries, err := policies.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".rego") {
			continue
		}
		data, _ := policies.FS.ReadFile(e.Name())
		m, err := ast.ParseModuleWithOpts(e.Name(), string(data), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		modules[e.Name()] = m
	}
	ch, err := tester.NewRunner().SetModules(modules).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for r := range ch {
		if r.Fail || r.Error != nil {
			t.Errorf("%s.%s failed: %v", r.Package, r.Name, r.Error)
			continue
		}
		passed++
	}
	if passed < 15 {
		t.Errorf("only %d Rego tests passed", passed)
	}
	t.Logf("%d Rego tests passed", passed)
}

// TestEveryBuiltinRuleHasTests: each policy file has a test that names it.
func TestEveryBuiltinRuleHasTests(t *testing.T) {
	e, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tests strings.Builder
	entries, _ := policies.FS.ReadDir(".")
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), "_test.rego") {
			data, _ := policies.FS.ReadFile(en.Name())
			tests.Write(data)
		}
	}
	if n := len(e.Rules()); n < 8 {
		t.Errorf("built-in library has %d rules, want at least 8", n)
	}
	for _, r := range e.rules {
		if !strings.Contains(tests.String(), "import data."+r.Package) {
			t.Errorf("rule %s (%s) has no _test.rego importing it", r.ID, r.Package)
		}
		if r.Help == "" || r.Remediation == "" {
			t.Errorf("rule %s lacks help or remediation metadata", r.ID)
		}
	}
}

const tenantRepo = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: team-a
  namespace: team-a
spec:
  interval: 10m
  path: ./apps
  prune: true
  serviceAccountName: flux-reconciler
  targetNamespace: team-a
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
`

const lbService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ports:
    - port: 80
`

func lint(t *testing.T, dir string, opts Options) []finding.Finding {
	t.Helper()
	res, err := render.Render(context.Background(), render.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e.Check(context.Background(), res)
}

func TestTenantLoadBalancer(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/team-a.yaml":                tenantRepo,
		"apps/service.yaml":                       lbService,
	})
	var got []string
	for _, f := range lint(t, dir, Options{}) {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Rule, f.Severity))
	}
	want := "apps/service.yaml:6 policy/no-loadbalancer error"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %v, want [%s] (at the type: line)", got, want)
	}
	// allowed namespace: no finding
	if fs := lint(t, dir, Options{Params: map[string]any{"allowedLoadBalancerNamespaces": []any{"team-a"}}}); len(fs) != 0 {
		t.Errorf("allowed namespace still reported: %+v", fs)
	}
	// without the built-in library: nothing either
	if fs := lint(t, dir, Options{NoBuiltin: true}); len(fs) != 0 {
		t.Errorf("--no-builtin-policies still reported: %+v", fs)
	}
}

func TestConftestPoliciesRunUnmodified(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  strings.Replace(strings.Replace(tenantRepo, "  serviceAccountName: flux-reconciler\n", "", 1), "team-a", "apps", -1),
		"apps/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27.3
          resources:
            requests: {cpu: 10m, memory: 64Mi}
`,
	})
	e, err := Load(context.Background(), Options{Dirs: []string{"testdata/conftest"}, NoBuiltin: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]finding.Severity{}
	for _, r := range e.Rules() {
		ids[r.ID] = r.Severity
	}
	want := map[string]finding.Severity{"policy/run-as-non-root": "error", "policy/violation": "error", "policy/warn-replicas": "warning", "policy/deny-configmap-size": "error"}
	for id, sev := range want {
		if ids[id] != sev {
			t.Errorf("rule %s: severity %q, want %q (rules: %v)", id, ids[id], sev, ids)
		}
	}
	got := map[string]int{}
	for _, f := range lint(t, dir, Options{Dirs: []string{"testdata/conftest"}, NoBuiltin: true}) {
		got[f.Rule]++
		if f.File != "apps/deploy.yaml" || f.Line != 1 {
			t.Errorf("finding at %s:%d", f.File, f.Line)
		}
	}
	if got["policy/run-as-non-root"] != 1 || got["policy/violation"] != 1 || got["policy/warn-replicas"] != 1 {
		t.Errorf("findings %v", got)
	}
}

func BenchmarkPolicyOnedr0p(b *testing.B) {
	root := testutil.Corpus(b, "onedr0p-home-ops")
	res, err := render.Render(context.Background(), render.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e, err := Load(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.Check(context.Background(), res)
	}
}
