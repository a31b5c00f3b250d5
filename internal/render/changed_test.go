package render

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// outputs maps "env|namespace/name" of every rendered Kustomization to its
// objects, serialised (with their source positions).
func outputs(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			var objs []string
			for _, o := range k.Objects {
				b, err := json.Marshal(o.Content)
				if err != nil {
					t.Fatal(err)
				}
				objs = append(objs, fmt.Sprintf("%s:%d %s", o.File, o.Line, b))
			}
			out[env.Name+"|"+k.ID()] = fmt.Sprintf("rendered=%v spec=%v\n%s", k.Rendered, mustJSON(t, k.Spec), strings.Join(objs, "\n"))
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// everyNeed is what the lint engine's checkers look up, together
// (lint.Needs; TestNeedsCoverRender in internal/lint keeps them equal).
var everyNeed = Needs{RBAC: true, CRDs: true, Namespaces: true, SameName: true, References: true}

// checkChangedOnly renders root in full and with --changed-since changed,
// and checks the --changed-since promise against before (the full render
// of the base): every Kustomization whose output differs from the base is
// selected (not Unchanged), and every selected one renders exactly what
// the full render does. It returns the selected Kustomizations.
func checkChangedOnly(t *testing.T, root string, opts Options, before map[string]string, changed ...string) []string {
	t.Helper()
	return checkChangedOnlyBase(t, root, opts, before, nil, changed...)
}

// checkChangedOnlyBase is checkChangedOnly with the base content of the
// changed files known (nil: unknown, the conservative rules).
func checkChangedOnlyBase(t *testing.T, root string, opts Options, before map[string]string, baseContent map[string][]byte, changed ...string) []string {
	t.Helper()
	opts.Root = root
	opts.BaseContent = baseContent
	full, err := Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	after := outputs(t, full)
	opts.ChangedOnly, opts.Changed, opts.Needs = true, changed, everyNeed
	part, err := Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := outputs(t, part)
	var selected []string
	for _, env := range part.Environments {
		for _, k := range env.Kustomizations {
			id := env.Name + "|" + k.ID()
			if k.Unchanged {
				if before[id] != after[id] {
					t.Errorf("%v changed %s's output but it was skipped:\nbefore: %.400s\nafter:  %.400s", changed, id, before[id], after[id])
				}
				continue
			}
			selected = append(selected, id)
			if got[id] != after[id] {
				t.Errorf("%v: selected %s renders differently than in a full run:\nfull:    %.600s\npartial: %.600s", changed, id, after[id], got[id])
			}
		}
	}
	for id := range after {
		if _, ok := got[id]; ok {
			continue
		}
		if len(got) > 0 && !(strings.Contains(id, "|"+KindHelmRelease+"/") && before[id] == after[id]) {
			// (A release whose Kustomization is skipped unbuilt is not
			// rendered at all: it is only missing if it changed.)
			t.Errorf("%v: %s is missing from the --changed-since render", changed, id)
		} else if before[id] != after[id] {
			// Nothing rendered: no change was to reach a build.
			t.Errorf("%v changed %s's output but nothing was rendered", changed, id)
		}
	}
	sort.Strings(selected)
	return selected
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	testutil.WriteFile(t, filepath.Join(root, filepath.FromSlash(rel)), content)
}

// TestChangedSharedBase: a base shared by three overlays changes, and all
// three environments are re-rendered; an overlay's own change selects
// only that overlay.
func TestChangedSharedBase(t *testing.T) {
	root := t.TempDir()
	write(t, root, "deploy/base/kustomization.yaml", "resources: [deployment.yaml]\nconfigMapGenerator:\n  - name: web\n    files: [config/app.properties]\n")
	write(t, root, "deploy/base/config/app.properties", "color=blue\n")
	write(t, root, "deploy/base/deployment.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`)
	for _, env := range []string{"dev", "test", "prod"} {
		write(t, root, "deploy/"+env+"/kustomization.yaml", "resources: [../base]\nnamespace: web-"+env+"\n")
	}
	write(t, root, "README.md", "docs\n")
	opts := Options{}
	before := func() map[string]string {
		res, err := Render(context.Background(), Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		return outputs(t, res)
	}
	base := before()
	if len(base) != 3 {
		t.Fatalf("want 3 overlay environments, got %d", len(base))
	}

	was := map[string][]byte{"deploy/base/deployment.yaml": []byte(readFile(t, root, "deploy/base/deployment.yaml"))}
	write(t, root, "deploy/base/deployment.yaml", strings.Replace(readFile(t, root, "deploy/base/deployment.yaml"), "nginx:1.27", "nginx:1.28", 1))
	got := checkChangedOnlyBase(t, root, opts, base, was, "deploy/base/deployment.yaml")
	if len(got) != 3 {
		t.Errorf("a change to the shared base selected %v, want all three overlays", got)
	}
	base = before()

	was = map[string][]byte{"deploy/prod/kustomization.yaml": []byte(readFile(t, root, "deploy/prod/kustomization.yaml"))}
	write(t, root, "deploy/prod/kustomization.yaml", "resources: [../base]\nnamespace: web-production\n")
	got = checkChangedOnlyBase(t, root, opts, base, was, "deploy/prod/kustomization.yaml")
	if len(got) != 1 || !strings.HasPrefix(got[0], "prod|") {
		t.Errorf("a change to the prod overlay selected %v, want prod only", got)
	}
	// Without the base content, a changed kustomization file may have
	// made an overlay an environment: all are linted.
	if got := checkChangedOnly(t, root, opts, base, "deploy/prod/kustomization.yaml"); len(got) != 3 {
		t.Errorf("without the base content, a change to the prod overlay selected %v, want all three", got)
	}
	// An overlay no longer included by another becomes an environment:
	// all of it is new.
	write(t, root, "deploy/all/kustomization.yaml", "resources: [../prod, ../test]\n")
	base = before()
	if len(base) != 2 {
		t.Fatalf("with deploy/all including prod and test, want 2 environments, got %d", len(base))
	}
	was = map[string][]byte{"deploy/all/kustomization.yaml": []byte(readFile(t, root, "deploy/all/kustomization.yaml"))}
	write(t, root, "deploy/all/kustomization.yaml", "resources: [../prod]\n")
	got = checkChangedOnlyBase(t, root, opts, base, was, "deploy/all/kustomization.yaml")
	if !slices.Contains(got, "test|flux-system/flux-system") {
		t.Errorf("the test overlay became an environment, but the run selected %v", got)
	}
	os.RemoveAll(filepath.Join(root, "deploy/all"))
	base = before()

	got = checkChangedOnlyBase(t, root, opts, base, map[string][]byte{}, "README.md")
	if len(got) != 0 {
		t.Errorf("a README change selected %v, want nothing", got)
	}
	// Nothing is rendered, but the environments are still listed (their
	// branches drive the promotion checks).
	res, err := Render(context.Background(), Options{Root: root, ChangedOnly: true, Changed: []string{"README.md"}, Needs: everyNeed})
	if err != nil || len(res.Environments) != 3 {
		t.Fatalf("README-only run: %v, %d environments, want 3", err, len(res.Environments))
	}

	// A non-YAML file a generator reads is an input.
	write(t, root, "deploy/base/config/app.properties", "color=green\n")
	got = checkChangedOnly(t, root, opts, base, "deploy/base/config/app.properties")
	if len(got) != 3 {
		t.Errorf("a change to the generator's file selected %v, want all three overlays", got)
	}
	base = before()

	// The base's file disappears: every overlay's build now fails.
	os.Remove(filepath.Join(root, "deploy/base/deployment.yaml"))
	got = checkChangedOnly(t, root, opts, base, "deploy/base/deployment.yaml")
	if len(got) != 3 {
		t.Errorf("deleting the base's manifest selected %v, want all three overlays", got)
	}
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mutate changes rel so that what it renders changes: a kustomization
// file gains an annotation, a file with an interval gets another one, any
// other manifest file gains a ConfigMap.
func mutate(t *testing.T, root, rel string, i int) {
	t.Helper()
	s := readFile(t, root, rel)
	switch {
	case slices.Contains(kustFileNames, filepath.Base(rel)) && !strings.Contains(s, "commonAnnotations"):
		s += fmt.Sprintf("\ncommonAnnotations:\n  gitops-lint.io/test: \"%d\"\n", i)
	case strings.Contains(s, "\n  interval: "):
		s = strings.Replace(s, "\n  interval: ", "\n  interval: 7m\n  x-was: ", 1)
		s = strings.Replace(s, "\n  x-was: ", "\n  #", 1)
	default:
		s += fmt.Sprintf("\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zz-changed-%d\n  namespace: default\n", i)
	}
	write(t, root, rel, s)
}

// TestChangedCorpus checks the --changed-since promise on the largest
// corpus repository for changes of each kind of file: an app's manifest,
// its kustomization, its Flux Kustomization (ks.yaml), a namespace's
// kustomization, a shared component, the cluster entry, a deleted file.
func TestChangedCorpus(t *testing.T) {
	src := sharedDir(t, "corpus/onedr0p-home-ops")
	if testing.Short() {
		t.Skip("renders the corpus repository many times")
	}
	root := testutil.CopyTree(t, src)
	res, err := Render(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	base := outputs(t, res)
	cases := []struct {
		file    string
		delete  bool
		maxSize int // most Kustomizations it may select (precision)
	}{
		// cloudflare-tunnel substitutes from a Secret that nothing in git
		// creates: any affected Kustomization may have been its producer,
		// so it is selected with every change.
		{file: "kubernetes/apps/default/plex/app/helmrelease.yaml", maxSize: 2},
		{file: "kubernetes/apps/default/plex/app/kustomization.yaml", maxSize: 2},
		{file: "kubernetes/apps/default/plex/ks.yaml", maxSize: 4},        // declares plex and plex-tools; cluster-apps renders it
		{file: "kubernetes/apps/default/kustomization.yaml", maxSize: 28}, // the namespace's apps
		{file: "kubernetes/apps/network/cloudflare-tunnel/app/helmrelease.yaml", maxSize: 1},
		{file: "kubernetes/components/alerts/alertmanager/alert.yaml", maxSize: 2}, // a component of cluster-apps's namespaces
		{file: "kubernetes/apps/kube-system/coredns/app/helmrelease.yaml", delete: true, maxSize: 2},
		{file: "kubernetes/flux/cluster/ks.yaml", maxSize: 1000},
	}
	for i, c := range cases {
		t.Run(filepath.Base(filepath.Dir(c.file))+"/"+filepath.Base(c.file), func(t *testing.T) {
			p := filepath.Join(root, filepath.FromSlash(c.file))
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Skipf("corpus layout changed: %v", err)
			}
			defer os.WriteFile(p, orig, 0o644)
			if c.delete {
				os.Remove(p)
			} else {
				mutate(t, root, c.file, i)
			}
			got := checkChangedOnlyBase(t, root, Options{}, base, map[string][]byte{c.file: orig}, c.file)
			t.Logf("%s: %d selected: %v", c.file, len(got), got)
			if len(got) == 0 || len(got) > c.maxSize {
				t.Errorf("selected %d Kustomizations, want 1..%d", len(got), c.maxSize)
			}
		})
	}
}

// TestChangedEveryFile checks the --changed-since promise for a change to
// each file of the fixture repositories, one at a time, in the platform
// repository (with the teams' repositories as sources) and in each team's
// repository in tenant mode.
func TestChangedEveryFile(t *testing.T) {
	for _, name := range []string{"platform", "team-a", "corpus/flux2-multi-tenancy", "corpus/flux2-kustomize-helm-example"} {
		t.Run(name, func(t *testing.T) {
			var root string
			opts := Options{}
			switch name {
			case "platform":
				root = testutil.CopyTree(t, testutil.FixturePath(t, name))
				opts.Sources = platformSources(t)
			case "team-a":
				root = testutil.CopyTree(t, testutil.FixturePath(t, name))
				opts.Platform = testutil.FixturePath(t, "platform")
				opts.Sources = map[string]string{"team-a/team-a": root}
			default:
				if testing.Short() {
					t.Skip("sweeps a corpus repository")
				}
				root = testutil.CopyTree(t, sharedDir(t, name))
				if name == "corpus/flux2-multi-tenancy" {
					opts.Sources = map[string]string{"apps/dev-team": sharedDir(t, "corpus/flux2-multi-tenancy-dev-team")}
				}
			}
			opts.Root = root
			res, err := Render(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			base := outputs(t, res)
			var files []string
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && isYAMLName(d.Name()) {
					rel, _ := filepath.Rel(root, p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			selectedAny := false
			for i, f := range files {
				p := filepath.Join(root, filepath.FromSlash(f))
				orig, _ := os.ReadFile(p)
				was := map[string][]byte{f: orig}
				mutate(t, root, f, i)
				got := checkChangedOnlyBase(t, root, opts, base, was, f)
				selectedAny = selectedAny || len(got) > 0
				os.WriteFile(p, orig, 0o644)
				os.Remove(p)
				checkChangedOnlyBase(t, root, opts, base, was, f)
				os.WriteFile(p, orig, 0o644)
			}
			if !selectedAny {
				t.Errorf("no change to any of %d files selected anything", len(files))
			}
		})
	}
}

// syncRepo is the bootstrap GitRepository of the test repositories.
const syncRepo = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: https://example.com/repo.git
  ref: {branch: main}
---
`

// devSync is the bootstrap sync of a cluster dev at clusters/dev.
const devSync = syncRepo + `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m
  path: ./clusters/dev
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`

// TestChangedComponentPatch: a component's patch acts on every resource
// of the kustomization including it, so changing it changes the specs of
// the Flux Kustomizations declared beside it.
func TestChangedComponentPatch(t *testing.T) {
	root := t.TempDir()
	write(t, root, "clusters/dev/flux-system/gotk-sync.yaml", devSync)
	write(t, root, "clusters/dev/apps.yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`)
	write(t, root, "apps/kustomization.yaml", "resources: [a.yaml, b.yaml]\ncomponents: [../components/defaults]\n")
	for _, n := range []string{"a", "b"} {
		write(t, root, "apps/"+n+".yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: `+n+`, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/`+n+`
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`)
		write(t, root, "apps/"+n+"/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+n+", namespace: default}\ndata: {color: \"${COLOR:=blue}\"}\n")
	}
	write(t, root, "components/defaults/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: substitute.yaml\n    target: {kind: Kustomization}\n")
	patch := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: _}
spec:
  postBuild:
    substitute: {COLOR: red}
`
	write(t, root, "components/defaults/substitute.yaml", patch)
	res, err := Render(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	base := outputs(t, res)
	write(t, root, "components/defaults/substitute.yaml", strings.Replace(patch, "red", "green", 1))
	got := checkChangedOnly(t, root, Options{}, base, "components/defaults/substitute.yaml")
	want := []string{"dev|flux-system/a", "dev|flux-system/apps", "dev|flux-system/b"}
	if !slices.Equal(got, want) {
		t.Errorf("selected %v, want %v", got, want)
	}
}

// TestChangedLeanParents sweeps every file of a repository whose parent
// Kustomization may be built lean — namespaces set by nested
// kustomizations, a component patching the children, a child with
// substituteFrom, a child that is itself a parent — and of variants where
// it may not (a patch moving a child's path, a namePrefix, substitution in
// a child's document), checking the --changed-since promise each time.
func TestChangedLeanParents(t *testing.T) {
	variants := map[string]map[string]string{
		"lean":             {},
		"patch-moves-path": {"apps/team-a/kustomization.yaml": "namespace: team-a\nresources: [a1.yaml, a2.yaml]\npatches:\n  - target: {kind: Kustomization, name: a2}\n    patch: |\n      - op: replace\n        path: /spec/path\n        value: ./workloads/a1\n"},
		"name-prefix":      {"apps/team-b/kustomization.yaml": "namespace: team-b\nnamePrefix: b-\nresources: [b1.yaml, nested]\n"},
	}
	for name, extra := range variants {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			files := leanRepo()
			for p, c := range extra {
				files[p] = c
			}
			for p, c := range files {
				write(t, root, p, c)
			}
			res, err := Render(context.Background(), Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				t.Fatalf("the repository should render cleanly: %s:%d %s", f.File, f.Line, f.Message)
			}
			base := outputs(t, res)
			paths := slices.Sorted(maps.Keys(files))
			leanBefore := leanBuilds.Load()
			defer func() {
				if n := leanBuilds.Load() - leanBefore; name == "lean" && n == 0 {
					t.Error("no lean build happened: the test does not exercise them")
				} else {
					t.Logf("%d lean builds", n)
				}
			}()
			for i, f := range paths {
				p := filepath.Join(root, filepath.FromSlash(f))
				orig, _ := os.ReadFile(p)
				was := map[string][]byte{f: orig}
				mutate(t, root, f, i)
				checkChangedOnlyBase(t, root, Options{}, base, was, f)
				os.Remove(p)
				checkChangedOnlyBase(t, root, Options{}, base, was, f)
				// And without the base content (the conservative rules).
				checkChangedOnly(t, root, Options{}, base, f)
				os.WriteFile(p, orig, 0o644)
			}
		})
	}
}

func leanRepo() map[string]string {
	ks := func(name, ns, path, extra string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name + ns + "\nspec:\n  interval: 10m\n  path: " + path + "\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n" + extra
	}
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: {color: \"${COLOR:=blue}\"}\n"
	}
	return map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": syncRepo + ks("flux-system", "\n  namespace: flux-system", "./clusters/dev", ""),
		"clusters/dev/apps.yaml":                  ks("apps", "\n  namespace: flux-system", "./apps", "  patches:\n    - target: {kind: Kustomization}\n      patch: |\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata: {name: _}\n        spec:\n          timeout: 5m\n"),
		"apps/team-a/kustomization.yaml":          "namespace: team-a\nresources: [a1.yaml, a2.yaml, settings.yaml]\ncomponents: [../../components/defaults]\n",
		"apps/team-a/a1.yaml":                     ks("a1", "", "./workloads/a1", "  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: settings}]\n"),
		"apps/team-a/a2.yaml":                     ks("a2", "", "./workloads/a2", "  dependsOn: [{name: a1}]\n"),
		"apps/team-a/settings.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {COLOR: red}\n",
		"apps/team-b/kustomization.yaml":          "namespace: team-b\nresources: [b1.yaml, nested]\n",
		"apps/team-b/b1.yaml":                     ks("b1", "", "./workloads/b1", ""),
		"apps/team-b/nested/kustomization.yaml":   "resources: [b2.yaml]\n",
		"apps/team-b/nested/b2.yaml":              ks("b2", "", "./workloads/b2-parent", ""),
		"components/defaults/kustomization.yaml":  "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: retry.yaml\n    target: {kind: Kustomization}\n",
		"components/defaults/retry.yaml":          "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: _}\nspec:\n  retryInterval: 2m\n",
		"workloads/a1/cm.yaml":                    cm("a1"),
		"workloads/a2/cm.yaml":                    cm("a2"),
		"workloads/b1/cm.yaml":                    cm("b1"),
		"workloads/b2-parent/ks.yaml":             ks("b2-child", "\n  namespace: team-b", "./workloads/b2-child", ""),
		"workloads/b2-child/cm.yaml":              cm("b2-child"),
	}
}

// TestChangedInputsDiamond: kustomizations that include the next level
// along two paths, 30 levels deep, would make the input walk visit 2^30
// directories; it stops and takes every change as an input instead.
func TestChangedInputsDiamond(t *testing.T) {
	root := t.TempDir()
	const depth = 30
	for i := 0; i < depth; i++ {
		next := fmt.Sprintf("../../l%d", i+1)
		for _, side := range []string{"a", "b"} {
			write(t, root, fmt.Sprintf("l%d/%s/kustomization.yaml", i, side), "resources: ["+next+"/a, "+next+"/b]\n")
		}
	}
	for _, side := range []string{"a", "b"} {
		write(t, root, fmt.Sprintf("l%d/%s/kustomization.yaml", depth, side), "resources: [cm.yaml]\n")
		write(t, root, fmt.Sprintf("l%d/%s/cm.yaml", depth, side), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+side+"}\n")
	}
	x, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fromDir(x, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	root = x.Root
	r := &renderer{indexes: map[string]*Index{}, lint: &Index{Root: root}}
	c := newChangeSet(root, []string{"l30/a/cm.yaml"})
	in := c.inputsOf(r, a, "l0/a", nil)
	if !in.overflow {
		t.Fatal("the walk of a 2^30-path tree did not stop")
	}
	if !in.scopedHit("anything", []string{"l30/a/cm.yaml"}) {
		t.Error("after the walk stopped, a change must count for every child")
	}
}

// TestNeedsDecideContext: what the checkers declare they look up decides
// which unchanged Kustomizations a change to someone else's file re-lints.
// The platform's tenant ClusterRole changes: with RBAC needed, the tenants
// it binds are linted again (their permissions changed); with nothing
// needed, only what renders the file is.
func TestNeedsDecideContext(t *testing.T) {
	root := testutil.CopyTree(t, testutil.FixturePath(t, "platform"))
	file := "tenants/base/common/clusterrole.yaml"
	p := filepath.Join(root, filepath.FromSlash(file))
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(orig), `resources: ["deployments"]`, `resources: ["daemonsets"]`, 1)
	if changed == string(orig) {
		t.Fatal("no mutation")
	}
	testutil.WriteFile(t, p, changed)
	linted := func(needs Needs) map[string]bool {
		res, err := Render(context.Background(), Options{Root: root, ChangedOnly: true, Changed: []string{file},
			BaseContent: map[string][]byte{file: orig}, Needs: needs, Sources: map[string]string{
				"team-a/team-a": testutil.FixturePath(t, "team-a"), "team-b/team-b": testutil.FixturePath(t, "team-b")}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, env := range res.Environments {
			for _, k := range env.Kustomizations {
				if !k.Unchanged {
					out[k.ID()] = true
				}
			}
		}
		return out
	}
	withRBAC, without := linted(Needs{RBAC: true}), linted(Needs{})
	if !withRBAC["team-a/team-a"] || !withRBAC["team-b/team-b"] {
		t.Errorf("with RBAC needed, the tenants bound to the changed ClusterRole are not re-linted: %v", withRBAC)
	}
	if without["team-a/team-a"] || without["team-b/team-b"] {
		t.Errorf("with nothing needed, the tenants are re-linted anyway: %v", without)
	}
	if len(without) == 0 {
		t.Error("with nothing needed, the Kustomization rendering the changed file is not linted")
	}
}

// TestChangedHelmRelease: a HelmRelease renders from files its
// Kustomization does not read — its chart's templates and values files, a
// library chart it depends on by file://, the ConfigMap another
// Kustomization applies for its valuesFrom — so a change to any of them
// re-renders the release (and lints its Kustomization), and a change to
// an unrelated file does not.
func TestChangedHelmRelease(t *testing.T) {
	root := t.TempDir()
	write(t, root, "clusters/dev/flux-system/gotk-sync.yaml", devSync)
	for _, n := range []string{"apps", "config", "other"} {
		write(t, root, "clusters/dev/"+n+".yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: `+n+`, namespace: flux-system}
spec:
  interval: 10m
  path: ./`+n+`
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`)
	}
	write(t, root, "apps/release.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: default}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/web
      valuesFiles: [./charts/web/values.yaml, ./values/dev.yaml]
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  valuesFrom:
    - kind: ConfigMap
      name: web-values
`)
	write(t, root, "config/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-values, namespace: default}\ndata:\n  values.yaml: |\n    port: 80\n")
	write(t, root, "other/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: default}\ndata: {a: b}\n")
	write(t, root, "values/dev.yaml", "replicas: 2\n")
	write(t, root, "charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: 1.0.0\n    repository: file://../lib\n")
	write(t, root, "charts/web/values.yaml", "replicas: 1\nport: 8080\n")
	write(t, root, "charts/web/templates/deploy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  port: {{ .Values.port | quote }}\n  label: {{ include \"lib.label\" . | quote }}\n")
	write(t, root, "charts/web/templates/_helpers.tpl", "{{- define \"web.x\" -}}x{{- end -}}\n")
	write(t, root, "charts/lib/Chart.yaml", "apiVersion: v2\nname: lib\ntype: library\nversion: 1.0.0\n")
	write(t, root, "charts/lib/templates/_lib.tpl", "{{- define \"lib.label\" -}}one{{- end -}}\n")
	res, err := Render(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	base := outputs(t, res)
	if !strings.Contains(base["dev|HelmRelease/default/web"], `"replicas":"2"`) || !strings.Contains(base["dev|HelmRelease/default/web"], `"port":"80"`) {
		t.Fatalf("the release does not render from its values: %s", base["dev|HelmRelease/default/web"])
	}
	release := []string{"dev|HelmRelease/default/web", "dev|flux-system/apps"}
	for _, tc := range []struct {
		file, from, to string
		want           []string
	}{
		{"charts/web/templates/deploy.yaml", "quote }}\n  port", "quote }}\n  more: x\n  port", release},
		{"charts/web/templates/_helpers.tpl", "x{{", "y{{", release},
		{"charts/web/values.yaml", "port: 8080", "port: 8081", release},
		{"values/dev.yaml", "replicas: 2", "replicas: 3", release},
		{"charts/lib/templates/_lib.tpl", "one", "two", release},
		{"config/cm.yaml", "port: 80", "port: 81", append([]string{"dev|flux-system/config"}, release...)},
		{"other/cm.yaml", "a: b", "a: c", []string{"dev|flux-system/other"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(root, filepath.FromSlash(tc.file))
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(p, orig, 0o644)
			changed := strings.Replace(string(orig), tc.from, tc.to, 1)
			if changed == string(orig) {
				t.Fatalf("%q not in %s", tc.from, tc.file)
			}
			write(t, root, tc.file, changed)
			got := checkChangedOnly(t, root, Options{}, base, tc.file)
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIndexKinds: the kinds a --changed-since run warms up for are those
// of the files beside the changed ones, the most common first.
func TestIndexKinds(t *testing.T) {
	root := t.TempDir()
	write(t, root, "apps/web/a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n")
	write(t, root, "apps/web/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\nnot: an object\n")
	write(t, root, "apps/db/c.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: c}\n")
	x, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	if k := x.Kinds(nil); k != nil {
		t.Errorf("Kinds(nil) = %v, want none (a full run warms nothing)", k)
	}
	got := x.Kinds([]string{"apps/web/b.yaml"})
	want := []TypeMeta{{"apps/v1", "Deployment"}, {"v1", "ConfigMap"}, {"v1", "Service"}}
	if !slices.Equal(got, want) {
		t.Errorf("Kinds = %v, want %v", got, want)
	}
}
