package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func discoverFixture(t *testing.T, root string) []entry {
	t.Helper()
	x, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	return discover(x, nil)
}

func renderFixture(t *testing.T, root string) *Result {
	t.Helper()
	res, err := Render(context.Background(), Options{Root: root, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func kustomizationByID(env *Environment, id string) *Kustomization {
	for _, k := range env.Kustomizations {
		if k.ID() == id {
			return k
		}
	}
	return nil
}

// lineOf returns the 1-based line of the first line of file equal to text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if l == text {
			return i + 1
		}
	}
	t.Fatalf("%s: no line %q", file, text)
	return 0
}

// TestOperatorFluxInstanceEntry: a FluxInstance's spec.sync is the
// environment's entry. The operator creates the GitRepository and the
// Kustomization flux-system (named after the FluxInstance's namespace),
// applies spec.kustomize.patches and, multitenant, the operator's
// serviceAccountName to the Kustomization; the environment follows the
// branch of spec.sync.ref.
func TestOperatorFluxInstanceEntry(t *testing.T) {
	root := testutil.FixturePath(t, "operator-fluxinstance")
	const file = "clusters/prod/flux-system/flux-instance.yaml"
	es := discoverFixture(t, root)
	if len(es) != 1 {
		t.Fatalf("discovered %d environments, want 1: %+v", len(es), es)
	}
	e := es[0]
	if e.env.Name != "prod" || e.env.Path != "clusters/prod" || e.env.Branch != "main" || e.root != "" {
		t.Errorf("environment %+v root %q, want prod at clusters/prod following main, artifact root the repository", e.env, e.root)
	}
	if e.file != file || e.line != lineOf(t, filepath.Join(root, file), "  sync:") {
		t.Errorf("entry declared at %s:%d, want %s at spec.sync", e.file, e.line, file)
	}
	if e.branchFile != file || e.branchLine != lineOf(t, filepath.Join(root, file), "    ref: refs/heads/main") {
		t.Errorf("branch at %s:%d, want spec.sync.ref of %s", e.branchFile, e.branchLine, file)
	}
	if !slices.Equal(e.self, []string{"GitRepository/flux-system/flux-system"}) {
		t.Errorf("self = %v, want the sync GitRepository flux-system/flux-system", e.self)
	}
	if got := objects.NestedString(e.ks, "spec", "serviceAccountName"); got != "kustomize-controller" {
		t.Errorf("sync serviceAccountName = %q, want the multitenant profile's kustomize-controller", got)
	}
	if got := objects.NestedString(e.ks, "spec", "postBuild", "substitute", "CLUSTER"); got != "prod" {
		t.Errorf("sync postBuild.substitute.CLUSTER = %q, want prod from spec.kustomize.patches", got)
	}
	want := Lockdown{NoRemoteBases: true, NoCrossNamespaceRefs: true, DefaultServiceAccount: "flux", StrictSubstitution: false}
	if e.lockdown == nil || *e.lockdown != want {
		t.Errorf("lockdown = %+v, want %+v (multitenant, tenantDefaultServiceAccount, the feature gate patched in)", e.lockdown, want)
	}

	res := renderFixture(t, root)
	if len(res.Findings) != 0 {
		t.Errorf("render findings: %v", res.Findings)
	}
	env := res.Environments[0]
	sync := kustomizationByID(env, "flux-system/flux-system")
	if sync == nil || sync.File != file || sync.SourceKind != kindGitRepo || sync.ServiceAccountName != "kustomize-controller" || !sync.Rendered {
		t.Fatalf("sync Kustomization %+v, want flux-system/flux-system declared by %s, rendered", sync, file)
	}
	apps := kustomizationByID(env, "flux-system/apps")
	if apps == nil || !apps.Rendered || !apps.Linted || len(apps.Objects) != 3 {
		t.Fatalf("apps %+v, want rendered from the repository with 3 objects", apps)
	}
	if got := objects.NestedString(apps.Spec, "postBuild", "substitute", "CLUSTER"); got != "prod" {
		t.Errorf("apps got CLUSTER=%q from the sync's substitution, want prod", got)
	}
}

// TestOperatorChartValuesOCISubdir: the flux-instance chart's values (a
// values file turned into the valuesFrom ConfigMap) sync an OCI artifact
// pushed from deploy/: the artifact root is the directory above the values
// file under which spec.sync.path exists, and the sync's path is relative
// to it.
func TestOperatorChartValuesOCISubdir(t *testing.T) {
	root := testutil.FixturePath(t, "operator-oci-subdir")
	const file = "deploy/clusters/c1/flux-system/flux-instance/values.yaml"
	es := discoverFixture(t, root)
	if len(es) != 1 {
		t.Fatalf("discovered %d environments, want 1: %+v", len(es), es)
	}
	e := es[0]
	if e.env.Name != "c1" || e.env.Path != "deploy/clusters/c1" || e.env.Branch != "" || e.root != "deploy" {
		t.Errorf("environment %+v root %q, want c1 at deploy/clusters/c1, artifact root deploy, no branch", e.env, e.root)
	}
	if e.file != file || e.line != lineOf(t, filepath.Join(root, file), "  sync:") {
		t.Errorf("entry declared at %s:%d, want %s at instance.sync", e.file, e.line, file)
	}
	if p := objects.NestedString(e.ks, "spec", "path"); p != "./clusters/c1" {
		t.Errorf("sync path %q, want ./clusters/c1 (relative to the artifact root)", p)
	}
	if !slices.Equal(e.self, []string{"OCIRepository/flux-system/flux-system"}) {
		t.Errorf("self = %v, want the sync OCIRepository flux-system/flux-system", e.self)
	}

	// The artifact of the sync source is deploy/, its files still the
	// repository's.
	r, err := newRenderer(Options{Root: root, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	run := &envRun{r: r, entry: e}
	a, err := run.selfArtifact("")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.files["clusters/c1/apps.yaml"], filepath.Join(r.lint.Root, "deploy", "clusters", "c1", "apps.yaml"); got != want {
		t.Errorf("artifact clusters/c1/apps.yaml comes from %q, want %q", got, want)
	}
	for rel := range a.files {
		if strings.HasPrefix(rel, "deploy/") || strings.HasPrefix(rel, "docs/") {
			t.Errorf("artifact holds %s, outside deploy/", rel)
		}
	}
	if !a.within(r.lint.Root) {
		t.Error("the re-rooted artifact is not the linted repository's")
	}
}

// TestSelfSyncRoot: a Kustomization whose path holds its own file is a root
// when nothing else reaches it; its sourceRef (a GitRepository created at
// bootstrap) is this repository, and what it reaches renders with its own
// post-build variables, not as standalone overlays.
func TestSelfSyncRoot(t *testing.T) {
	root := testutil.FixturePath(t, "self-sync-root")
	es := discoverFixture(t, root)
	if len(es) != 1 {
		t.Fatalf("discovered %d environments, want 1: %+v", len(es), es)
	}
	e := es[0]
	if e.env.Name != "mc1" || e.env.Path != "management/mc1" || e.file != "management/mc1/mc1.yaml" || !slices.Equal(e.self, []string{"GitRepository/default/your-repo"}) {
		t.Errorf("entry %+v file %s self %v, want mc1 declared by management/mc1/mc1.yaml, your-repo being this repository", e.env, e.file, e.self)
	}
	res := renderFixture(t, root)
	if len(res.Findings) != 0 {
		t.Errorf("render findings: %v", res.Findings)
	}
	env := res.Environments[0]
	var ids []string
	for _, k := range env.Kustomizations {
		ids = append(ids, k.ID())
	}
	if !slices.Equal(ids, []string{"default/mc1-gitops", "default/wc1"}) {
		t.Fatalf("Kustomizations %v, want the root and wc1 once each", ids)
	}
	wc1 := kustomizationByID(env, "default/wc1")
	if !wc1.Rendered || len(wc1.Objects) != 1 || wc1.Objects[0].Name() != "wc1-config" {
		t.Errorf("wc1 rendered %v objects %v, want ConfigMap wc1-config", wc1.Rendered, wc1.Objects)
	}
}

// TestOrphanCycle: Kustomizations whose paths reach only each other still
// make one environment, rooted at the one declared nearest the top.
func TestOrphanCycle(t *testing.T) {
	ks := func(name, p string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + "\n  namespace: flux-system\nspec:\n  interval: 1m\n  path: " + p + "\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	}
	root := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"x/a.yaml":        ks("a", "./y"),
		"y/deeper/b.yaml": ks("b", "./x"),
		"y/cm.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n",
	})
	es := discoverFixture(t, root)
	if len(es) != 1 || es[0].env.Path != "x" || es[0].file != "" {
		t.Fatalf("entries %+v, want one synthetic entry at x", es)
	}
	res := renderFixture(t, root)
	env := res.Environments[0]
	for _, id := range []string{"flux-system/a", "flux-system/b"} {
		if k := kustomizationByID(env, id); k == nil || !k.Rendered {
			t.Errorf("%s not rendered: %+v", id, k)
		}
	}
}

// TestFluxInstanceOfAnotherRepository: a FluxInstance whose sync path is
// not in this repository (it syncs another one) is no entry here.
func TestFluxInstanceOfAnotherRepository(t *testing.T) {
	root := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"fleet/flux-instance.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: 2.7.x\n  sync:\n    kind: GitRepository\n    url: https://example.com/other.git\n    ref: refs/heads/main\n    path: clusters/elsewhere\n",
	})
	x, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	if es := operatorEntries(x); len(es) != 0 {
		t.Errorf("operator entries %+v, want none", es)
	}
}

// TestOperatorExplicitEnvironment: an environment declared in
// .gitops-lint.yaml at a FluxInstance's sync path is entered at that sync.
func TestOperatorExplicitEnvironment(t *testing.T) {
	x, err := LoadIndex(testutil.FixturePath(t, "operator-oci-subdir"))
	if err != nil {
		t.Fatal(err)
	}
	es := discover(x, []EnvironmentSpec{{Name: "edge", Path: "deploy/clusters/c1"}})
	if len(es) != 1 || es[0].env.Name != "edge" || es[0].root != "deploy" || !slices.Equal(es[0].self, []string{"OCIRepository/flux-system/flux-system"}) {
		t.Errorf("entries %+v, want edge entered at the FluxInstance sync (artifact root deploy)", es)
	}
}
