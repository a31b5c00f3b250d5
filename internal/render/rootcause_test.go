package render

import (
	"context"
	"fmt"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"maps"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// rootCauseTree is one environment: flux-system builds infra (a Namespace,
// a HelmRepository, the ConfigMap apps substitutes from, the
// ArtifactGenerator of the ExternalArtifact generated builds from, and the
// Kustomization infra-child apps depends on), apps and generated.
func rootCauseTree() map[string]string {
	return map[string]string{
		"apps/chartref.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: fromartifact
  namespace: podinfo
spec:
  interval: 30m
  chartRef:
    kind: ExternalArtifact
    name: app
    namespace: flux-system
`,
		"apps/config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: podinfo
data:
  cluster: ${CLUSTER}
`,
		"apps/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - release.yaml
  - config.yaml
  - chartref.yaml
`,
		"apps/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 30m
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
`,
		"child/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: child
  namespace: flux-system
`,
		"clusters/prod/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - name: infra-child
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
`,
		"clusters/prod/flux-system/gotk-sync.yaml": fmt.Sprintf(testutil.FluxSync, "https://example.com/repo", "main", "./clusters/prod"),
		"clusters/prod/generated.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: generated
  namespace: flux-system
spec:
  dependsOn:
    - name: infra
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: ExternalArtifact
    name: app
`,
		"clusters/prod/infra.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra
  namespace: flux-system
spec:
  interval: 10m
  path: ./infra
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"gen/app/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: generated
  namespace: podinfo
data:
  a: b
`,
		"infra/child.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra-child
  namespace: flux-system
spec:
  interval: 10m
  path: ./child
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"infra/generator.yaml": `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: app
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: app
      copy:
        - from: "@repo/gen/app/**"
          to: "@artifact/"
`,
		"infra/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - repository.yaml
  - generator.yaml
  - vars.yaml
  - child.yaml
`,
		"infra/namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: podinfo
`,
		"infra/repository.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1h
  url: https://stefanprodan.github.io/podinfo
`,
		"infra/vars.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-vars
  namespace: flux-system
data:
  CLUSTER: prod
`,
	}
}

// TestSiblingSourceIsAwaited: generated builds from an ExternalArtifact
// whose ArtifactGenerator a sibling Kustomization renders in the same
// wave; it waits for it instead of racing it (it used to get a
// render/source-missing now and then).
func TestSiblingSourceIsAwaited(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), rootCauseTree())
	for range 10 {
		res, err := Render(context.Background(), Options{Root: dir, Workers: 8})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range checked(res.Findings) {
			t.Fatalf("unexpected finding %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
		}
		if k := findKs(t, res.Environments[0], "flux-system/generated"); !k.Rendered {
			t.Fatal("flux-system/generated was not rendered")
		}
	}
}

// TestBrokenFileIsOneFinding: a file that does not parse fails the build
// of the Kustomization reading it. Its yaml/syntax is the one finding: no
// render/error restating it, and no render/source-missing for the
// ExternalArtifact whose ArtifactGenerator the failed build would have
// rendered. The render records the failure (Failed, Broken) for the
// checkers.
func TestBrokenFileIsOneFinding(t *testing.T) {
	files := rootCauseTree()
	files["infra/namespace.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n  labels: [unclosed\n"
	dir := testutil.WriteTree(t, t.TempDir(), files)
	res, err := Render(context.Background(), Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked(res.Findings)) != 1 || checked(res.Findings)[0].Rule != RuleYAMLSyntax.ID || checked(res.Findings)[0].File != "infra/namespace.yaml" {
		t.Errorf("want the yaml/syntax of infra/namespace.yaml alone, got %v", checked(res.Findings))
	}
	env := res.Environments[0]
	infra := findKs(t, env, "flux-system/infra")
	if infra.Rendered || !infra.Failed || infra.Broken != "infra/namespace.yaml" {
		t.Errorf("infra: Rendered %v, Failed %v, Broken %q", infra.Rendered, infra.Failed, infra.Broken)
	}
	if gen := findKs(t, env, "flux-system/generated"); gen.Rendered || gen.Failed {
		t.Errorf("generated: Rendered %v, Failed %v; want unrendered (unknown), not failed", gen.Rendered, gen.Failed)
	}

	// Another build failure keeps its render/error; the follow-on is gone.
	files = maps.Clone(rootCauseTree())
	files["infra/kustomization.yaml"] += "  - not-there.yaml\n"
	res, err = Render(context.Background(), Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked(res.Findings)) != 1 || checked(res.Findings)[0].Rule != RuleError.ID || checked(res.Findings)[0].Kustomization != "flux-system/infra" {
		t.Errorf("want the render/error of flux-system/infra alone, got %v", checked(res.Findings))
	}
	if infra := findKs(t, res.Environments[0], "flux-system/infra"); !infra.Failed || infra.Broken != "" {
		t.Errorf("infra: Failed %v, Broken %q", infra.Failed, infra.Broken)
	}

	// A source nothing declares, while nothing failed, is still reported.
	files = maps.Clone(rootCauseTree())
	files["clusters/prod/generated.yaml"] = strings.Replace(files["clusters/prod/generated.yaml"], "name: app", "name: nowhere", 1)
	res, err = Render(context.Background(), Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked(res.Findings)) != 1 || checked(res.Findings)[0].Rule != RuleSourceMissing.ID {
		t.Errorf("want render/source-missing for ExternalArtifact nowhere, got %v", checked(res.Findings))
	}
}

// TestLostObjectRecorded: an object whose post-build substitution fails
// is left out with its render/error, and recorded as Lost so that the
// checkers do not report it missing as well.
func TestLostObjectRecorded(t *testing.T) {
	files := rootCauseTree()
	files["clusters/prod/infra.yaml"] += "  postBuild:\n    substitute:\n      X: y\n"
	files["infra/repository.yaml"] = strings.Replace(files["infra/repository.yaml"], "url: https://stefanprodan.github.io/podinfo", `url: "https://x/${X"`, 1)
	res, err := Render(context.Background(), Options{Root: testutil.WriteTree(t, t.TempDir(), files)})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked(res.Findings)) != 1 || checked(res.Findings)[0].Rule != RuleError.ID {
		t.Fatalf("want one render/error, got %v", checked(res.Findings))
	}
	infra := findKs(t, res.Environments[0], "flux-system/infra")
	if !infra.Rendered || infra.Failed || len(infra.Lost) != 1 || infra.Lost[0].Kind != "HelmRepository" || infra.Lost[0].Name != "podinfo" || infra.Lost[0].Namespace != "flux-system" {
		t.Errorf("infra: Rendered %v, Failed %v, Lost %v", infra.Rendered, infra.Failed, infra.Lost)
	}
}

// checked drops the infos saying a HelmRelease's chart is not rendered
// (its chart is in no cache here): what the tests judge is the rest.
func checked(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule != RuleHelmChartMissing.ID && f.Rule != RuleHelmChartUnsupported.ID {
			out = append(out, f)
		}
	}
	return out
}
