package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var rsetSync = fmt.Sprintf(testutil.FluxSync, "https://example.com/org/fleet", "main", "./clusters/dev")

const rsetTenants = `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: tenants
  namespace: flux-system
spec:
  inputs:
    - name: Team One
      path: ./apps/one
    - name: Team Two
      path: ./apps/two
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: << inputs.name | slugify >>
        namespace: flux-system
      data:
        team: << inputs.name >>
        from: << inputs.provider.kind >>/<< inputs.provider.name >>
    - apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      metadata:
        name: << inputs.name | slugify >>
        namespace: flux-system
      spec:
        interval: 10m
        path: << inputs.path >>
        prune: true
        sourceRef:
          kind: GitRepository
          name: flux-system
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: off-<< inputs.name | slugify >>
        namespace: flux-system
        annotations:
          fluxcd.controlplane.io/reconcile: << if eq inputs.name "Team Two" >>disabled<< else >>enabled<< end >>
`

func rsetFindings(res *Result, rule string) []finding.Finding {
	var out []finding.Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestResourceSetStaticInputs: each input set renders every resource; the
// generated objects carry the operator's owner labels, are located at
// their template, a generated Kustomization is rendered as a child, and
// an object annotated fluxcd.controlplane.io/reconcile: disabled is dropped.
func TestResourceSetStaticInputs(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": rsetSync,
		"clusters/dev/tenants.yaml":               rsetTenants,
		"apps/one/cm.yaml":                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one-app\n  namespace: default\n",
		"apps/two/cm.yaml":                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two-app\n  namespace: default\n",
	})
	res := renderHostile(t, dir)
	for _, f := range res.Findings {
		if f.Severity == finding.Error {
			t.Errorf("unexpected %s %s:%d %s", f.Rule, f.File, f.Line, f.Message)
		}
	}
	env := res.Environments[0]
	root := findKs(t, env, "flux-system/flux-system")
	for _, name := range []string{"team-one", "team-two"} {
		cm := findObj(t, root, "ConfigMap", name)
		if cm.Namespace() != "flux-system" {
			t.Errorf("%s namespace %q", name, cm.Namespace())
		}
		l, _ := meta(cm.Content)["labels"].(map[string]any)
		if l[rsetNameLabel] != "tenants" || l[rsetNSLabel] != "flux-system" {
			t.Errorf("%s labels %v, want the ResourceSet's owner labels", name, l)
		}
		if _, ok := l[ownerNameLabel]; ok {
			t.Errorf("%s has kustomize-controller's owner label: %v", name, l)
		}
		if cm.File != "clusters/dev/tenants.yaml" || cm.Line != 13 {
			t.Errorf("%s at %s:%d, want clusters/dev/tenants.yaml:13 (resources[0])", name, cm.File, cm.Line)
		}
		data, _ := cm.Content["data"].(map[string]any)
		if data["from"] != "ResourceSet/tenants" {
			t.Errorf("%s data %v", name, data)
		}
		findObj(t, root, "Kustomization", name)
	}
	findObj(t, root, "ConfigMap", "off-team-one")
	for _, o := range root.Objects {
		if o.Name() == "off-team-two" {
			t.Errorf("off-team-two is annotated reconcile: disabled and must be dropped")
		}
	}
	one := findKs(t, env, "flux-system/team-one")
	if !one.Rendered || one.Parent != "flux-system/flux-system" || one.Line != 21 {
		t.Errorf("team-one: rendered %v parent %q line %d", one.Rendered, one.Parent, one.Line)
	}
	findObj(t, one, "ConfigMap", "one-app")
	findObj(t, findKs(t, env, "flux-system/team-two"), "ConfigMap", "two-app")
}

const rsetFromProvider = `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: %s
  namespace: flux-system
  labels:
    matrix: "yes"
spec:
  type: %s
  defaultValues:
    env: %s
---
`

// TestResourceSetStaticProvider: a Static ResourceSetInputProvider exports
// its defaultValues with an id (as flux-operator build resourceset does).
func TestResourceSetStaticProvider(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": rsetSync,
		"clusters/dev/rset.yaml": fmt.Sprintf(rsetFromProvider, "stage", "Static", "staging") + `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: envs
  namespace: flux-system
spec:
  inputsFrom:
    - kind: ResourceSetInputProvider
      name: stage
  resourcesTemplate: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: << inputs.env >>-<< inputs.id >>
      namespace: flux-system
    data:
      provider: << inputs.provider.namespace >>/<< inputs.provider.name >>
`,
	})
	res := renderHostile(t, dir)
	root := findKs(t, res.Environments[0], "flux-system/flux-system")
	cm := findObj(t, root, "ConfigMap", "staging-"+inputID("stage"))
	if data, _ := cm.Content["data"].(map[string]any); data["provider"] != "flux-system/stage" {
		t.Errorf("data %v", data)
	}
	if cm.Line != 22 {
		t.Errorf("line %d, want 22 (spec.resourcesTemplate)", cm.Line)
	}
	if n := len(rsetFindings(res, RuleResourceSetNotExpanded.ID)); n != 0 {
		t.Errorf("%d not-expanded findings", n)
	}
}

// TestResourceSetExternalProvider: inputs from a pull-request provider are
// not in git: one info finding, nothing generated.
func TestResourceSetExternalProvider(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": rsetSync,
		"clusters/dev/rset.yaml": fmt.Sprintf(rsetFromProvider, "prs", "GitHubPullRequest", "preview") + `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: previews
  namespace: flux-system
spec:
  inputsFrom:
    - kind: ResourceSetInputProvider
      selector:
        matchLabels:
          matrix: "yes"
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: pr-<< inputs.id >>
        namespace: flux-system
`,
	})
	res := renderHostile(t, dir)
	fs := rsetFindings(res, RuleResourceSetNotExpanded.ID)
	if len(fs) != 1 || fs[0].Severity != finding.Info || fs[0].File != "clusters/dev/rset.yaml" ||
		!strings.Contains(fs[0].Message, "not expanded: inputs from ResourceSetInputProvider flux-system/prs of type GitHubPullRequest come from outside git") {
		t.Fatalf("findings %+v", fs)
	}
	for _, o := range findKs(t, res.Environments[0], "flux-system/flux-system").Objects {
		if o.Kind() == "ConfigMap" {
			t.Errorf("generated %s", o.Name())
		}
	}
}

// TestResourceSetTemplateError: a missing input key fails the build: one
// render/error at the ResourceSet's template, worded as the operator's.
func TestResourceSetTemplateError(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": rsetSync,
		"clusters/dev/rset.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: broken
  namespace: flux-system
spec:
  inputs:
    - name: a
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: << inputs.nme >>
        namespace: flux-system
`,
	})
	res := renderHostile(t, dir)
	var errs []finding.Finding
	for _, f := range res.Findings {
		if f.Severity == finding.Error {
			errs = append(errs, f)
		}
	}
	if len(errs) != 1 || errs[0].Rule != RuleError.ID || errs[0].File != "clusters/dev/rset.yaml" || errs[0].Line != 10 ||
		!strings.Contains(errs[0].Message, "failed to build resources[0]: failed to execute template") ||
		!strings.Contains(errs[0].Message, `map has no entry for key "nme"`) {
		t.Fatalf("errors %+v", errs)
	}
}

// TestResourceSetPermute: the Permute strategy scopes each provider's input
// set under its normalised name and builds the cartesian product.
func TestResourceSetPermute(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": rsetSync,
		"clusters/dev/rset.yaml": fmt.Sprintf(rsetFromProvider, "app-a", "Static", "web") +
			fmt.Sprintf(rsetFromProvider, "app-b", "Static", "api") + `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: matrix
  namespace: flux-system
spec:
  inputStrategy:
    name: Permute
  inputs:
    - region: eu
    - region: us
  inputsFrom:
    - selector:
        matchLabels:
          matrix: "yes"
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: << inputs.matrix.region >>-<< inputs.app_a.env >>-<< inputs.app_b.env >>
        namespace: flux-system
      data:
        id: << inputs.id | quote >>
`,
	})
	res := renderHostile(t, dir)
	root := findKs(t, res.Environments[0], "flux-system/flux-system")
	ids := map[any]bool{}
	for _, name := range []string{"eu-web-api", "us-web-api"} {
		cm := findObj(t, root, "ConfigMap", name)
		ids[cm.Content["data"].(map[string]any)["id"]] = true
	}
	if len(ids) != 2 {
		t.Errorf("ids %v", ids)
	}

	// 2 x 3 input sets: six permutations, the last provider varying fastest.
	p := []rsetProvider{
		{name: "a", inputs: []map[string]any{{"x": 1}, {"x": 2}}},
		{name: "b-c", inputs: []map[string]any{{"y": 1}, {"y": 2}, {"y": 3}}},
	}
	got, err := combineInputs(map[string]any{"inputStrategy": map[string]any{"name": "Permute"}}, p)
	if err != nil || len(got) != 6 {
		t.Fatalf("%d permutations, %v", len(got), err)
	}
	if got[1]["b_c"].(map[string]any)["y"] != 2 || got[3]["a"].(map[string]any)["x"] != 2 || got[1]["id"] != inputID("a=0/b_c=1") {
		t.Errorf("permutations %v", got)
	}
}
