package render

import (
	"context"
	"fmt"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

const sharedRelease = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/web
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    replicas: %d
`

// TestReleaseRenderedOncePerValues: environments that install the same
// chart with the same values share one engine render, each with its own
// objects; other values render apart.
func TestReleaseRenderedOncePerValues(t *testing.T) {
	files := map[string]string{
		"charts/web/Chart.yaml":                "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"charts/web/values.yaml":               "replicas: 1\n",
		"charts/web/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n",
	}
	for env, replicas := range map[string]int{"dev": 2, "test": 2, "prod": 3} {
		files["clusters/"+env+"/flux-system/gotk-sync.yaml"] = fmt.Sprintf(testutil.FluxSync, "https://example.com/repo", env, "./clusters/"+env)
		files["clusters/"+env+"/web.yaml"] = fmt.Sprintf(sharedRelease, replicas)
	}
	root := testutil.WriteTree(t, t.TempDir(), files)
	before := releaseRenders.Load()
	res, err := Render(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if n := releaseRenders.Load() - before; n != 2 {
		t.Errorf("%d engine renders for three environments and two sets of values, want 2", n)
	}
	var seen []map[string]any
	for _, env := range res.Environments {
		var got []string
		for _, k := range env.Kustomizations {
			if k.Kind != KindHelmRelease {
				continue
			}
			for _, o := range k.Objects {
				got = append(got, fmt.Sprintf("%s %v", o.File, o.Content["spec"]))
				for _, other := range seen {
					if fmt.Sprintf("%p", other) == fmt.Sprintf("%p", o.Content) {
						t.Errorf("%s shares its object with another environment", env.Name)
					}
				}
				seen = append(seen, o.Content)
			}
		}
		want := "charts/web/templates/deployment.yaml map[replicas:2]"
		if env.Name == "prod" {
			want = "charts/web/templates/deployment.yaml map[replicas:3]"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: release objects %q, want [%s]", env.Name, got, want)
		}
	}
}

// TestHostileHelmReleases: HelmReleases of every wrong shape render
// without a panic (a finding or nothing, never a crash of the run).
func TestHostileHelmReleases(t *testing.T) {
	specs := []string{
		"spec: 5", "spec: []", "spec: {chart: 3}", "spec: {chart: {spec: []}}",
		"spec: {chart: {spec: {chart: ./charts/web, sourceRef: 7}}}",
		"spec: {chart: {spec: {chart: ../../etc, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
		"spec: {chartRef: []}", "spec: {chartRef: {kind: OCIRepository}}",
		"spec: {valuesFrom: 3, chart: {spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
		"spec: {valuesFrom: [3, {kind: ConfigMap}], chart: {spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
		"spec: {values: [1], postRenderers: 3, chart: {spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
		"spec: {postRenderers: [{kustomize: {patches: [{patch: '{'}]}}], chart: {spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
		"spec: {install: {crds: Sometimes}, chart: {spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}}}",
	}
	files := map[string]string{
		"charts/web/Chart.yaml":                   "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"charts/web/templates/deployment.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
		"clusters/dev/flux-system/gotk-sync.yaml": fmt.Sprintf(testutil.FluxSync, "https://example.com/repo", "main", "./clusters/dev"),
	}
	for i, spec := range specs {
		files[fmt.Sprintf("clusters/dev/hr%d.yaml", i)] = fmt.Sprintf("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: hr%d, namespace: apps}\n%s\n", i, spec)
	}
	root := testutil.WriteTree(t, t.TempDir(), files)
	if _, err := Render(context.Background(), Options{Root: root}); err != nil {
		t.Fatal(err)
	}
}
