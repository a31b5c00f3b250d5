package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var fluxSync = fmt.Sprintf(testutil.FluxSync, "ssh://git@example.com/platform", "main", "./clusters/dev")

// lintTree renders files (a cluster at clusters/dev, applied as
// kustomize-controller) and runs the checker on it.
func lintTree(t *testing.T, files map[string]string, opts Options) []finding.Finding {
	t.Helper()
	files["clusters/dev/flux-system/gotk-sync.yaml"] = fluxSync
	res, err := render.Render(context.Background(), render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c.Check(context.Background(), res)
}

// policy is a ValidatingAdmissionPolicy on Deployments with one
// validation (extra: more spec fields, indented by two spaces).
func policy(name, expr, extra string) string {
	return fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: %s
spec:
%s  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  validations:
    - expression: %q
`, name, extra, expr)
}

func binding(name, policy, actions, extra string) string {
	return fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: %s
spec:
  policyName: %s
  validationActions: [%s]
%s`, name, policy, actions, extra)
}

func deployment(name, ns string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  replicas: %d
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      containers:
        - name: app
          image: registry.example.com/app:1.0
`, name, ns, replicas, name, name)
}

const namespacesYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {tenant: "true"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: other
`

func only(t *testing.T, fs []finding.Finding, rule string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestDenyAtField: a Deny binding selecting the tenant namespace denies a
// Deployment over the limit, as an error at its replicas: line, in the
// apiserver's words; a compliant one and one of another namespace pass.
func TestDenyAtField(t *testing.T) {
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":      namespacesYAML,
		"clusters/dev/policy.yaml":  policy("max-replicas", "object.spec.replicas <= 3", "") + "      message: at most 3 replicas\n---\n" + binding("tenants", "max-replicas", "Deny", "  matchResources:\n    namespaceSelector:\n      matchLabels: {tenant: \"true\"}\n"),
		"clusters/dev/big.yaml":     deployment("big", "team-a", 5),
		"clusters/dev/small.yaml":   deployment("small", "team-a", 2),
		"clusters/dev/outside.yaml": deployment("outside", "other", 5),
	}, Options{})
	got := only(t, fs, "admission/max-replicas")
	if len(got) != 1 {
		t.Fatalf("want one denial, got %+v (all: %+v)", got, fs)
	}
	f := got[0]
	want := `deployments.apps "big" is forbidden: ValidatingAdmissionPolicy 'max-replicas' with binding 'tenants' denied request: at most 3 replicas`
	if f.Severity != finding.Error || f.File != "clusters/dev/big.yaml" || f.Line != 7 || f.Column != 3 || f.Message != want {
		t.Fatalf("got %s:%d:%d %s %q", f.File, f.Line, f.Column, f.Severity, f.Message)
	}
	if f.Object == nil || f.Object.Name != "big" || f.Environment == "" || f.Kustomization != "flux-system/flux-system" {
		t.Fatalf("context: %+v", f)
	}
}

// TestActions: Warn is a warning in the words of the apiserver's warning,
// Audit an info; both actions give both.
func TestActions(t *testing.T) {
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/policy.yaml": policy("small", "object.spec.replicas < 2", "") + "      messageExpression: \"'replicas: ' + string(object.spec.replicas)\"\n---\n" + binding("small", "small", "Warn, Audit", ""),
		"clusters/dev/big.yaml":    deployment("big", "team-a", 5),
	}, Options{})
	got := only(t, fs, "admission/small")
	if len(got) != 2 {
		t.Fatalf("want a warning and an info, got %+v", fs)
	}
	if got[0].Severity != finding.Warning || got[0].Message != "Validation failed for ValidatingAdmissionPolicy 'small' with binding 'small': replicas: 5" {
		t.Errorf("warn: %s %q", got[0].Severity, got[0].Message)
	}
	if got[1].Severity != finding.Info || !strings.Contains(got[1].Message, "records an audit failure: replicas: 5") {
		t.Errorf("audit: %s %q", got[1].Severity, got[1].Message)
	}
}

// TestFailurePolicy: an expression that errors at run time denies under
// failurePolicy Fail (the default) and is ignored under Ignore.
func TestFailurePolicy(t *testing.T) {
	for _, c := range []struct {
		policy string
		want   int
	}{{"", 1}, {"  failurePolicy: Fail\n", 1}, {"  failurePolicy: Ignore\n", 0}} {
		fs := lintTree(t, map[string]string{
			"clusters/dev/ns.yaml":     namespacesYAML,
			"clusters/dev/policy.yaml": policy("strict", "object.spec.paused == false", c.policy) + "---\n" + binding("strict", "strict", "Deny", ""),
			"clusters/dev/big.yaml":    deployment("big", "team-a", 1),
		}, Options{})
		got := only(t, fs, "admission/strict")
		if len(got) != c.want {
			t.Fatalf("%q: want %d, got %+v", c.policy, c.want, fs)
		}
		if c.want == 1 && !strings.Contains(got[0].Message, "no such key: paused") {
			t.Errorf("message: %q", got[0].Message)
		}
	}
}

// TestParams: a binding's paramRef finds its ConfigMap among the rendered
// objects; when none is found, parameterNotFoundAction decides.
func TestParams(t *testing.T) {
	pol := policy("limit", "object.spec.replicas <= int(params.data.max)", "  paramKind: {apiVersion: v1, kind: ConfigMap}\n") + "      messageExpression: \"'at most ' + params.data.max\"\n"
	param := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: other}\ndata: {max: \"4\"}\n"
	for _, c := range []struct {
		name, ref, param, want string
	}{
		{"found", "  paramRef: {name: limits, namespace: other, parameterNotFoundAction: Deny}\n", param, "denied request: at most 4"},
		{"missing-deny", "  paramRef: {name: limits, namespace: other, parameterNotFoundAction: Deny}\n", "", "denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"},
		{"missing-allow", "  paramRef: {name: limits, namespace: other, parameterNotFoundAction: Allow}\n", "", ""},
		{"selector", "  paramRef:\n    namespace: other\n    parameterNotFoundAction: Allow\n    selector: {matchLabels: {kind: limit}}\n", strings.Replace(param, "namespace: other}", "namespace: other, labels: {kind: limit}}", 1), "denied request: at most 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{
				"clusters/dev/ns.yaml":     namespacesYAML,
				"clusters/dev/policy.yaml": pol + "---\n" + binding("limit", "limit", "Deny", c.ref),
				"clusters/dev/big.yaml":    deployment("big", "team-a", 5),
			}
			if c.param != "" {
				files["clusters/dev/param.yaml"] = c.param
			}
			got := only(t, lintTree(t, files, Options{}), "admission/limit")
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("want nothing, got %+v", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasSuffix(got[0].Message, c.want) {
				t.Fatalf("want one finding ending %q, got %+v", c.want, got)
			}
		})
	}
}

// TestMatchConditions: a policy whose matchConditions are false skips the
// object.
func TestMatchConditions(t *testing.T) {
	pol := policy("opted", "object.spec.replicas <= 1", "  matchConditions:\n    - name: labelled\n      expression: \"has(object.metadata.labels) && 'strict' in object.metadata.labels\"\n")
	strict := strings.Replace(deployment("strict", "team-a", 3), "  namespace: team-a\n", "  namespace: team-a\n  labels: {strict: \"yes\"}\n", 1)
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/policy.yaml": pol + "---\n" + binding("opted", "opted", "Deny", ""),
		"clusters/dev/loose.yaml":  deployment("loose", "team-a", 3),
		"clusters/dev/strict.yaml": strict,
	}, Options{})
	got := only(t, fs, "admission/opted")
	if len(got) != 1 || got[0].Object.Name != "strict" {
		t.Fatalf("want the labelled Deployment only, got %+v", got)
	}
}

// TestInvalidPolicy: what the apiserver refuses to create is
// admission/invalid-policy at the field, and judges nothing.
func TestInvalidPolicy(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
		line            int
	}{
		{"syntax", policy("p", "object.spec.replicas <=", "") + "---\n" + binding("p", "p", "Deny", ""), "Syntax error", 13},
		{"type", policy("p", "object.metadata.name", "") + "---\n" + binding("p", "p", "Deny", ""), "must evaluate to bool", 13},
		{"no-validations", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]\n", "spec.validations: Required value", 4},
		{"deny-and-warn", policy("p", "true", "") + "---\n" + binding("p", "p", "Deny, Warn", ""), "must not contain both Deny and Warn", 21},
		{"deep", policy("p", strings.Repeat("(", 300)+"true"+strings.Repeat(")", 300), "") + "---\n" + binding("p", "p", "Deny", ""), "compilation failed", 13},
		{"huge", policy("p", strings.Repeat("object.metadata.name != 'x' && ", 5000)+"true", "") + "---\n" + binding("p", "p", "Deny", ""), "more bytes)\": compilation failed: ERROR: <input>:-1:0: expression code point size exceeds limit", 13},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := lintTree(t, map[string]string{
				"clusters/dev/ns.yaml":     namespacesYAML,
				"clusters/dev/policy.yaml": c.doc,
				"clusters/dev/big.yaml":    deployment("big", "team-a", 5),
			}, Options{})
			if len(fs) != 1 || fs[0].Rule != RuleInvalidPolicy.ID || fs[0].File != "clusters/dev/policy.yaml" || fs[0].Line != c.line || !strings.Contains(fs[0].Message, c.want) {
				t.Fatalf("want one %s at line %d saying %q, got %+v", RuleInvalidPolicy.ID, c.line, c.want, fs)
			}
		})
	}
}

// TestAuthorizerAndRBAC: the CEL authorizer answers from the rendered RBAC
// for the impersonated identity, and what RBAC forbids is not admitted.
func TestAuthorizerAndRBAC(t *testing.T) {
	pol := policy("may-delete", "authorizer.requestResource.check('delete').allowed()", "") + "      message: the applier must be able to delete what it creates\n"
	rbac := `apiVersion: v1
kind: ServiceAccount
metadata: {name: tenant, namespace: team-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: team-a}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [get, create, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects: [{kind: ServiceAccount, name: tenant, namespace: team-a}]
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: tenant, namespace: team-a}
spec:
  interval: 10m
  path: ./tenant
  prune: false
  serviceAccountName: tenant
  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
`
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/policy.yaml": pol + "---\n" + binding("may-delete", "may-delete", "Deny", ""),
		"clusters/dev/rbac.yaml":   rbac,
		"clusters/dev/admin.yaml":  deployment("admin", "team-a", 1), // kustomize-controller: cluster-admin
		"tenant/mine.yaml":         deployment("mine", "team-a", 1),  // tenant: no delete
		"tenant/theirs.yaml":       deployment("theirs", "other", 1), // tenant: forbidden, left to rbacsim
	}, Options{})
	got := only(t, fs, "admission/may-delete")
	if len(got) != 1 || got[0].Object.Name != "mine" || got[0].Kustomization != "team-a/tenant" {
		t.Fatalf("want the tenant's own Deployment only, got %+v", got)
	}
}

// TestHostileBounded: an expression whose cost is beyond the apiserver's
// budget is stopped (a denial under Fail), quickly, without a panic.
func TestHostileBounded(t *testing.T) {
	l := "[1,2,3,4,5,6,7,8,9,10]"
	expr := l + ".all(a, " + l + ".all(b, " + l + ".all(c, " + l + ".all(d, " + l + ".all(e, " + l + ".all(f, " +
		"object.metadata.name.matches('^(a|b|c)*$') || true))))))"
	start := time.Now()
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/policy.yaml": policy("costly", expr, "") + "---\n" + binding("costly", "costly", "Deny", ""),
		"clusters/dev/big.yaml":    deployment("big", "team-a", 1),
	}, Options{})
	if time.Since(start) > 30*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	got := only(t, fs, "admission/costly")
	if len(got) != 1 || !strings.Contains(got[0].Message, "cost") {
		t.Fatalf("want one denial for the cost, got %+v", fs)
	}
}

// TestCompiledOnce: a policy met in several environments (here through
// --admission-dir, in every one) is compiled once a run.
func TestCompiledOnce(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"p.yaml": policy("once", "object.spec.replicas <= 3", "") + "---\n" + binding("once", "once", "Deny", ""),
	})
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml":     fluxSync,
		"clusters/dev/big.yaml":                       deployment("big", "team-a", 5),
		"clusters/staging/flux-system/gotk-sync.yaml": fmt.Sprintf(testutil.FluxSync, "ssh://git@example.com/platform", "main", "./clusters/staging"),
		"clusters/staging/big.yaml":                   deployment("big", "team-a", 5),
	}
	res, err := render.Render(context.Background(), render.Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	fs := c.Check(context.Background(), res)
	if len(only(t, fs, "admission/once")) != 2 || len(c.compiled) != 1 {
		t.Fatalf("want 2 denials and 1 compiled policy, got %d compiled, %+v", len(c.compiled), fs)
	}
	if rules := c.Rules(); len(rules) != 1 || rules[0].ID != "admission/once" || rules[0].Help == "" || rules[0].Remediation == "" {
		t.Fatalf("rules: %+v", rules)
	}
	for _, f := range fs {
		if f.File != "" && !strings.HasPrefix(f.File, "clusters/") {
			t.Errorf("finding outside the repository: %+v", f)
		}
	}
}

// TestAsTheAPIServerHoldsIt: a built-in object is judged after its typed
// round trip, as the apiserver holds it: `paused: false` is omitted there,
// so an expression reading it errors (a denial under Fail) exactly as on
// the cluster; the variables of a policy are evaluated too.
func TestAsTheAPIServerHoldsIt(t *testing.T) {
	paused := strings.Replace(deployment("paused", "team-a", 1), "spec:\n  replicas", "spec:\n  paused: false\n  replicas", 1)
	vars := policy("vars", "variables.images.all(i, !i.endsWith(':1.0'))", "  variables:\n    - name: images\n      expression: object.spec.template.spec.containers.map(c, c.image)\n") + "      message: no 1.0 tags\n"
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/policy.yaml": policy("paused", "object.spec.paused == false", "") + "---\n" + binding("paused", "paused", "Deny", "") + "---\n" + vars + "---\n" + binding("vars", "vars", "Deny", ""),
		"clusters/dev/paused.yaml": paused,
	}, Options{})
	got := only(t, fs, "admission/paused")
	if len(got) != 1 || !strings.HasSuffix(got[0].Message, "denied request: expression 'object.spec.paused == false' resulted in error: no such key: paused") {
		t.Fatalf("want the apiserver's error for the omitted field, got %+v", fs)
	}
	v := only(t, fs, "admission/vars")
	if len(v) != 1 || !strings.HasSuffix(v[0].Message, "no 1.0 tags") || v[0].Line != 15 {
		t.Fatalf("want the variables policy's denial at the containers line, got %+v", v)
	}
}

// TestIdentityOutsideGit: the objects of an identity whose permissions are
// granted outside git are applied by the cluster, so they are admitted
// (as that identity), not skipped as RBAC-forbidden.
func TestIdentityOutsideGit(t *testing.T) {
	ks := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: false
  serviceAccountName: automation
  sourceRef: {kind: GitRepository, name: flux-system}
`
	pol := policy("who", "request.userInfo.username != 'system:serviceaccount:flux-system:automation'", "") + "      message: not automation\n"
	fs := lintTree(t, map[string]string{
		"clusters/dev/ns.yaml":     namespacesYAML,
		"clusters/dev/apps.yaml":   ks,
		"clusters/dev/policy.yaml": pol + "---\n" + binding("who", "who", "Deny", ""),
		"apps/big.yaml":            deployment("big", "team-a", 1),
	}, Options{})
	got := only(t, fs, "admission/who")
	if len(got) != 1 || got[0].Kustomization != "flux-system/apps" {
		t.Fatalf("want the automation identity's Deployment denied, got %+v", fs)
	}
}
