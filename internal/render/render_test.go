package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func platformSources(t *testing.T) map[string]string {
	return map[string]string{
		"team-a/team-a": testutil.FixturePath(t, "team-a"),
		"team-b/team-b": testutil.FixturePath(t, "team-b"),
	}
}

func findKs(t *testing.T, env *Environment, id string) *Kustomization {
	t.Helper()
	for _, k := range env.Kustomizations {
		if k.ID() == id {
			return k
		}
	}
	t.Fatalf("environment %s has no Kustomization %s", env.Name, id)
	return nil
}

func findObj(t *testing.T, k *Kustomization, kind, name string) *Object {
	t.Helper()
	for _, o := range k.Objects {
		if o.Kind() == kind && o.Name() == name {
			return o
		}
	}
	t.Fatalf("Kustomization %s rendered no %s/%s", k.ID(), kind, name)
	return nil
}

func TestPlatformFixture(t *testing.T) {
	res, err := Render(context.Background(), Options{Root: testutil.FixturePath(t, "platform"), Sources: platformSources(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range checked(res.Findings) {
		t.Errorf("unexpected finding %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	branches := map[string]string{"dev": "dev", "test": "test", "prod": "main"}
	if len(res.Environments) != 3 {
		t.Fatalf("got %d environments, want 3", len(res.Environments))
	}
	for _, env := range res.Environments {
		if want := branches[env.Name]; env.Branch != want {
			t.Errorf("%s follows %q, want %q", env.Name, env.Branch, want)
		}
		if env.BranchFile != "clusters/"+env.Name+"/flux-system/gotk-sync.yaml" || env.BranchLine == 0 {
			t.Errorf("%s: branch at %s:%d", env.Name, env.BranchFile, env.BranchLine)
		}
		if !env.Lockdown.NoRemoteBases || !env.Lockdown.NoCrossNamespaceRefs || !env.Lockdown.StrictSubstitution || env.Lockdown.DefaultServiceAccount != "" {
			t.Errorf("%s: lockdown %+v", env.Name, env.Lockdown)
		}
		// substituteFrom: the ConfigMap rendered by flux-system fills infra-configs.
		sc := findObj(t, findKs(t, env, "flux-system/infra-configs"), "StorageClass", "standard-retain")
		if got := sc.Content["metadata"].(map[string]any)["labels"].(map[string]any)["cluster"]; got != env.Name {
			t.Errorf("%s: StorageClass label cluster=%v, want %s (from substituteFrom)", env.Name, got, env.Name)
		}
		// A variable passed down two levels: tenants → team-a → team repo.
		ta := findKs(t, env, "team-a/team-a")
		if ta.Parent != "flux-system/tenants" || ta.ServiceAccountName != "flux-reconciler" || ta.TargetNamespace != "team-a" || !ta.Prune {
			t.Errorf("%s: team-a Kustomization %+v", env.Name, ta)
		}
		if ta.File != "tenants/base/team-a/sync.yaml" || ta.Line == 0 {
			t.Errorf("team-a declared at %s:%d", ta.File, ta.Line)
		}
		cm := findObj(t, ta, "ConfigMap", "web-config")
		if got := cm.Content["data"].(map[string]any)["environment"]; got != env.Name {
			t.Errorf("%s: web-config environment=%v, want %s", env.Name, got, env.Name)
		}
		if cm.Namespace() != "team-a" {
			t.Errorf("%s: targetNamespace not applied: %q", env.Name, cm.Namespace())
		}
		if cm.File != "" || cm.OriginPath != "deploy/base/configmap.yaml" || cm.Line != 1 {
			t.Errorf("team object position: file=%q origin=%q line=%d", cm.File, cm.OriginPath, cm.Line)
		}
		// Objects of the linted repo carry their file and document line.
		ns := findObj(t, findKs(t, env, "flux-system/tenants"), "Namespace", "team-a")
		if ns.File != "tenants/base/team-a/namespace.yaml" || ns.Line != 1 {
			t.Errorf("namespace position %s:%d", ns.File, ns.Line)
		}
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				if ann, _ := objects.Nested(o.Content, "metadata", "annotations").(map[string]any); ann[originAnnotation] != nil {
					t.Errorf("%s keeps the origin annotation", o.Ref())
				}
			}
		}
	}
}

func TestStrictSubstitution(t *testing.T) {
	dir := testutil.CopyTree(t, testutil.FixturePath(t, "team-a"))
	p := filepath.Join(dir, "deploy", "base", "configmap.yaml")
	data, _ := os.ReadFile(p)
	data = append(data, []byte("  region: ${REGION}\n  zone: ${ZONE:=a}\n")...)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Render(context.Background(), Options{
		Root: dir, Platform: testutil.FixturePath(t, "platform"), Environments: []string{"dev"},
		Sources: map[string]string{"team-a/team-a": dir, "team-b/team-b": testutil.FixturePath(t, "team-b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []finding.Finding
	for _, f := range res.Findings {
		if f.Rule == RuleSubstitution.ID {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("got %d render/substitution findings, want 1: %+v", len(got), res.Findings)
	}
	f := got[0]
	if f.File != "deploy/base/configmap.yaml" || f.Line != 10 || f.Environment != "dev" || f.Kustomization != "team-a/team-a" || !strings.Contains(f.Message, `"REGION"`) {
		t.Errorf("finding %+v", f)
	}
	// the object still renders, with the default applied and the unknown left as written
	k := findKs(t, res.Environments[0], "team-a/team-a")
	d := findObj(t, k, "ConfigMap", "web-config").Content["data"].(map[string]any)
	if d["zone"] != "a" || d["region"] != "${REGION}" {
		t.Errorf("data %v", d)
	}
}

func TestTenantModeByRemote(t *testing.T) {
	team := testutil.GitRepo(t, testutil.FixturePath(t, "team-a"), testutil.GitOptions{Remote: "git@example.com:teams/team-a.git"})
	res, err := Render(context.Background(), Options{Root: team, Platform: testutil.FixturePath(t, "platform"), Environments: []string{"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Tenant || len(res.Environments) != 1 {
		t.Fatalf("tenant=%v environments=%d", res.Tenant, len(res.Environments))
	}
	env := res.Environments[0]
	k := findKs(t, env, "team-a/team-a")
	if !k.Linted || !k.Rendered {
		t.Fatalf("team-a Kustomization linted=%v rendered=%v", k.Linted, k.Rendered)
	}
	if findKs(t, env, "flux-system/tenants").Linted {
		t.Error("the platform's own Kustomization is marked as the tenant's")
	}
	dep := findObj(t, k, "Deployment", "web")
	if dep.File != "deploy/base/deployment.yaml" || dep.Line != 1 || dep.Namespace() != "team-a" {
		t.Errorf("deployment at %s:%d in %q", dep.File, dep.Line, dep.Namespace())
	}
	// team-b is not matched by anything: a warning, reported only if it
	// concerns the tenant's files — here it does not.
	for _, f := range res.Findings {
		if f.File == "" || strings.HasPrefix(f.File, "..") {
			t.Errorf("tenant mode reported a finding outside the tenant repo: %+v", f)
		}
	}
}

func TestEnvironmentDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // name=path
	}{
		{"plain overlays", map[string]string{
			"deploy/base/kustomization.yaml": "resources: [cm.yaml]\n",
			"deploy/base/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
			"deploy/dev/kustomization.yaml":  "resources: [../base]\n",
			"deploy/prod/kustomization.yaml": "resources: [../base]\n",
		}, []string{"dev=deploy/dev", "prod=deploy/prod"}},
		{"orphan Flux Kustomizations", map[string]string{
			"kubernetes/flux/cluster/ks.yaml": fmt.Sprintf(testutil.FluxKustomization, "cluster-apps", "./kubernetes/apps"),
			"kubernetes/apps/cm.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		}, []string{"cluster=kubernetes/flux/cluster"}},
		{"bootstrap layout without sync", map[string]string{
			"clusters/staging/flux-system/gotk-sync.yaml":    "# generated by flux bootstrap\n",
			"clusters/production/flux-system/gotk-sync.yaml": "# generated by flux bootstrap\n",
		}, []string{"production=clusters/production", "staging=clusters/staging"}},
		{"same base name twice", map[string]string{
			"a/dev/kustomization.yaml": "resources: []\n",
			"b/dev/kustomization.yaml": "resources: []\n",
		}, []string{"a-dev=a/dev", "b-dev=b/dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := LoadIndex(testutil.WriteTree(t, t.TempDir(), tc.files))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range discover(x, nil) {
				got = append(got, e.env.Name+"="+e.env.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnknownEnvironmentIsUsageError(t *testing.T) {
	_, err := Render(context.Background(), Options{Root: testutil.FixturePath(t, "platform"), Environments: []string{"staging"}})
	var ue *UsageError
	if err == nil || !asUsage(err, &ue) || !strings.Contains(err.Error(), "found: dev, prod, test") {
		t.Fatalf("err = %v", err)
	}
}

func asUsage(err error, target **UsageError) bool {
	u, ok := err.(*UsageError)
	if ok {
		*target = u
	}
	return ok
}

func TestSourceIgnore(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		".sourceignore":                           "apps/drafts/\n*.tmpl.yaml\n",
		"apps/cm.yaml":                            fmt.Sprintf(cm, "kept"),
		"apps/drafts/broken.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
		"apps/other.tmpl.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .name }}\n",
		"docker-compose.yaml":                     "services:\n  a:\n    image: x\n    image: y\n",
	})
	res := renderHostile(t, dir)
	for _, f := range res.Findings {
		t.Errorf("unexpected finding %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	k := findKs(t, res.Environments[0], "flux-system/apps")
	if len(k.Objects) != 1 || k.Objects[0].Name() != "kept" {
		t.Errorf("rendered %d objects", len(k.Objects))
	}
}

// TestSourceIgnoreReplacesDefaults: as source-controller packages an
// artifact, any .sourceignore pattern replaces the default exclusions
// (binary extensions, CI files, .sops.yaml): a logo.png the kustomization
// generates a ConfigMap from is then in the artifact and the build works;
// without a .sourceignore, *.png is excluded and kustomize-controller fails
// on the missing file, as we do.
func TestSourceIgnoreReplacesDefaults(t *testing.T) {
	tree := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"apps/kustomization.yaml":                 "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: logo\n    files:\n      - logo.png\n",
		"apps/logo.png":                           "not really a png",
	}
	res := renderHostile(t, testutil.WriteTree(t, t.TempDir(), tree))
	if len(res.Findings) != 1 || res.Findings[0].Rule != RuleError.ID || !strings.Contains(res.Findings[0].Message, "logo.png") {
		t.Errorf("without .sourceignore, *.png is excluded by default and the build must fail on it: %v", res.Findings)
	}
	tree[".sourceignore"] = "# only the docs\ndocs/\n"
	res = renderHostile(t, testutil.WriteTree(t, t.TempDir(), tree))
	for _, f := range res.Findings {
		t.Errorf("with a .sourceignore the defaults are replaced and logo.png is packaged; unexpected %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	k := findKs(t, res.Environments[0], "flux-system/apps")
	if len(k.Objects) != 1 || k.Objects[0].Kind() != "ConfigMap" {
		t.Errorf("rendered %d objects, want the logo ConfigMap", len(k.Objects))
	}
}

func TestCommonMetadataAndSubstituteFrom(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/vars.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
  namespace: flux-system
data:
  A: from-configmap
  B: from-configmap
---
apiVersion: v1
kind: Secret
metadata:
  name: secret-vars
  namespace: flux-system
data:
  B: ZnJvbS1zZWNyZXQ=
stringData:
  C: from-stringdata
`,
		"clusters/dev/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  commonMetadata:
    labels:
      team: platform
  postBuild:
    substitute:
      D: inline
    substituteFrom:
      - kind: ConfigMap
        name: vars
      - kind: Secret
        name: secret-vars
      - kind: ConfigMap
        name: absent
        optional: true
`,
		"apps/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: out\ndata:\n  a: ${A}\n  b: ${B}\n  c: ${C}\n  d: ${D}\n",
		"apps/off.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: off\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${UNSET}\n",
	})
	res := renderHostile(t, dir)
	for _, f := range res.Findings {
		t.Errorf("unexpected finding %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	k := findKs(t, res.Environments[0], "flux-system/apps")
	out := findObj(t, k, "ConfigMap", "out")
	want := map[string]any{"a": "from-configmap", "b": "from-secret", "c": "from-stringdata", "d": "inline"}
	if fmt.Sprint(out.Content["data"]) != fmt.Sprint(want) {
		t.Errorf("data %v, want %v", out.Content["data"], want)
	}
	if objects.NestedString(out.Content, "metadata", "labels", "team") != "platform" {
		t.Errorf("commonMetadata not applied: %v", out.Content["metadata"])
	}
	if x := objects.NestedString(findObj(t, k, "ConfigMap", "off").Content, "data", "x"); x != "${UNSET}" {
		t.Errorf("substitution not disabled: %q", x)
	}
}

func TestSyntheticRootErrorPosition(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"deploy/base/kustomization.yaml": "resources:\n- missing.yaml\n",
		"deploy/dev/kustomization.yaml":  "resources:\n- ../base\n",
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleError.ID, "deploy/dev/kustomization.yaml", 1)
}
