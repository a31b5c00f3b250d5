package converge

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Fixtures of the fresh-cluster model: environments built by hand, as
// render would return them.

func object(apiVersion, kind, ns, name string, spec map[string]any) *render.Object {
	meta := map[string]any{"name": name}
	if ns != "" {
		meta["namespace"] = ns
	}
	c := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	if spec != nil {
		c["spec"] = spec
	}
	return &render.Object{Content: c, File: "apps/" + strings.ToLower(kind) + ".yaml", Line: 1}
}

// kustomization is flux-system/NAME, a rendered child of the entry point.
func kustomization(name string, spec map[string]any, objs ...*render.Object) *render.Kustomization {
	if spec == nil {
		spec = map[string]any{}
	}
	return &render.Kustomization{Namespace: "flux-system", Name: name, Parent: "flux-system/flux-system", Spec: spec,
		SourceKind: "GitRepository", SourceNamespace: "flux-system", SourceName: "flux-system",
		File: "clusters/dev/" + name + ".yaml", Line: 1, Rendered: true, Objects: objs}
}

func environment(ks ...*render.Kustomization) *render.Environment {
	root := &render.Kustomization{Namespace: "flux-system", Name: "flux-system", Spec: map[string]any{},
		SourceKind: "GitRepository", SourceNamespace: "flux-system", SourceName: "flux-system", Rendered: true}
	return &render.Environment{Name: "dev", Kustomizations: append([]*render.Kustomization{root}, ks...)}
}

func check(env *render.Environment, provides ...Provide) []finding.Finding {
	return checkEnv(&render.Index{}, env, provides)
}

func byRule(fs []finding.Finding, rule finding.Rule) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule.ID {
			out = append(out, f)
		}
	}
	return out
}

func substituteFrom(kind, name string) map[string]any {
	return map[string]any{"postBuild": map[string]any{"substituteFrom": []any{map[string]any{"kind": kind, "name": name}}}}
}

func namespace(name string) *render.Object { return object("v1", "Namespace", "", name, nil) }

func configMap(ns, name string) *render.Object { return object("v1", "ConfigMap", ns, name, nil) }

func dependsOn(names ...string) map[string]any {
	var list []any
	for _, n := range names {
		list = append(list, map[string]any{"name": n})
	}
	return map[string]any{"dependsOn": list}
}

// TestNamespaceOrderAnyCreator: a Namespace applied by several
// Kustomizations is there for each of them and for whatever depends on any
// of them; only the first applier used to count.
func TestNamespaceOrderAnyCreator(t *testing.T) {
	other := kustomization("other", nil, namespace("shared"))
	self := kustomization("self", nil, namespace("shared"), configMap("shared", "a"))
	second := kustomization("second", nil, namespace("shared"))
	dependent := kustomization("dependent", dependsOn("second"), configMap("shared", "b"))
	if fs := byRule(check(environment(other, self, second, dependent)), RuleNamespaceOrder); len(fs) != 0 {
		t.Errorf("a Kustomization that creates the namespace itself, or depends on one that does, is flagged: %v", fs)
	}

	lone := kustomization("lone", nil, configMap("shared", "c"))
	fs := byRule(check(environment(other, self, second, lone)), RuleNamespaceOrder)
	if len(fs) != 1 {
		t.Fatalf("want one namespace-order finding for flux-system/lone, got %v", fs)
	}
	const want = "ConfigMap/shared/c goes into namespace shared, which only flux-system/other, flux-system/self and flux-system/second create, but flux-system/lone does not depend on any of them"
	if !strings.HasPrefix(fs[0].Message, want) {
		t.Errorf("message names the creators wrongly:\n got %s\nwant %s…", fs[0].Message, want)
	}

	// Beyond three creators: the first three and how many more.
	var many []*render.Kustomization
	for i := range 5 {
		many = append(many, kustomization(fmt.Sprintf("k%d", i), nil, namespace("shared")))
	}
	fs = byRule(check(environment(append(many, lone)...)), RuleNamespaceOrder)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "which only flux-system/k0, flux-system/k1, flux-system/k2 and 2 more create") {
		t.Errorf("five creators: %v", fs)
	}
}

// TestCRDOrderAnyCreator: likewise for the CRD of a kind.
func TestCRDOrderAnyCreator(t *testing.T) {
	crd := object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com",
		map[string]any{"group": "example.com", "names": map[string]any{"kind": "Widget"}})
	widget := object("example.com/v1", "Widget", "default", "w", nil)
	a := kustomization("a", nil, crd)
	b := kustomization("b", nil, crd)
	ok := kustomization("ok", dependsOn("b"), widget)
	if fs := byRule(check(environment(a, b, ok)), RuleCRDOrder); len(fs) != 0 {
		t.Errorf("depending on the second applier of the CRD is flagged: %v", fs)
	}
	bad := kustomization("bad", nil, widget)
	fs := byRule(check(environment(a, b, bad)), RuleCRDOrder)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "which flux-system/a and flux-system/b apply, but flux-system/bad does not depend on any of them") {
		t.Errorf("want one crd-order finding naming both appliers, got %v", fs)
	}
}

// TestKnownProducers: a Secret made in the cluster by a controller from an
// object in git is there.
func TestKnownProducers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		producer *render.Object
		ref      string // Secret in flux-system referenced by substituteFrom
	}{
		{"ExternalSecret target.name", object("external-secrets.io/v1", "ExternalSecret", "flux-system", "es", map[string]any{"target": map[string]any{"name": "vars"}}), "vars"},
		{"ExternalSecret own name", object("external-secrets.io/v1beta1", "ExternalSecret", "flux-system", "vars", nil), "vars"},
		{"SealedSecret", object("bitnami.com/v1alpha1", "SealedSecret", "flux-system", "vars", nil), "vars"},
		{"Certificate", object("cert-manager.io/v1", "Certificate", "flux-system", "cert", map[string]any{"secretName": "vars"}), "vars"},
		{"ClusterExternalSecret", object("external-secrets.io/v1", "ClusterExternalSecret", "", "ces", map[string]any{
			"namespaces": []any{"flux-system"}, "externalSecretSpec": map[string]any{"target": map[string]any{"name": "vars"}}}), "vars"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := environment(kustomization("secrets", nil, tc.producer), kustomization("apps", substituteFrom("Secret", tc.ref)))
			if fs := check(env); len(byRule(fs, RuleReferenceOutOfBand))+len(byRule(fs, RuleSourceNotFound)) != 0 {
				t.Errorf("the Secret %s is made by %s, yet: %v", tc.ref, tc.name, fs)
			}
		})
	}
	// Merge and None do not create the Secret; another namespace is not it.
	for _, producer := range []*render.Object{
		object("external-secrets.io/v1", "ExternalSecret", "flux-system", "vars", map[string]any{"target": map[string]any{"creationPolicy": "Merge"}}),
		object("bitnami.com/v1alpha1", "SealedSecret", "other", "vars", nil),
	} {
		env := environment(kustomization("secrets", nil, producer), kustomization("apps", substituteFrom("Secret", "vars")))
		if fs := byRule(check(env), RuleReferenceOutOfBand); len(fs) != 1 {
			t.Errorf("%s %s/%s does not make Secret flux-system/vars: want a warning, got %v", producer.Kind(), producer.Namespace(), producer.Name(), fs)
		}
	}
}

// TestUnknownSecretIsAWarning: a Secret or ConfigMap nothing in git makes
// is not a proven failure (someone may create it by hand, a chart may): a
// warning that says what to do, not an error.
func TestUnknownSecretIsAWarning(t *testing.T) {
	hr := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "web", map[string]any{
		"chartRef":   map[string]any{"kind": "OCIRepository", "name": "web"},
		"valuesFrom": []any{map[string]any{"kind": "ConfigMap", "name": "web-values"}, map[string]any{"kind": "Secret", "name": "maybe", "optional": true}},
	})
	oci := object("source.toolkit.fluxcd.io/v1", "OCIRepository", "default", "web", nil)
	env := environment(kustomization("apps", substituteFrom("Secret", "cluster-vars"), hr, oci))
	fs := check(env)
	if n := len(byRule(fs, RuleSourceNotFound)); n != 0 {
		t.Errorf("an unknown Secret or ConfigMap is an error: %v", fs)
	}
	warn := byRule(fs, RuleReferenceOutOfBand)
	if len(warn) != 2 {
		t.Fatalf("want two warnings (substituteFrom Secret, valuesFrom ConfigMap), got %v", fs)
	}
	for _, f := range warn {
		if f.Severity != finding.Warning || !strings.Contains(f.Message, "mark the reference optional: true, or declare what creates it under provides:") {
			t.Errorf("%s %s", f.Severity, f.Message)
		}
	}
}

// TestOutOfBandByDesign: the SOPS key and a remote cluster's kubeconfig
// are never in git; they are not demanded.
func TestOutOfBandByDesign(t *testing.T) {
	spec := map[string]any{
		"decryption": map[string]any{"provider": "sops", "secretRef": map[string]any{"name": "sops-age"}},
		"kubeConfig": map[string]any{"secretRef": map[string]any{"name": "remote-kubeconfig"}},
	}
	hr := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "remote", map[string]any{
		"kubeConfig": map[string]any{"secretRef": map[string]any{"name": "remote-kubeconfig"}},
	})
	if fs := check(environment(kustomization("remote", spec, hr))); len(fs) != 0 {
		t.Errorf("out-of-band secrets are demanded: %v", fs)
	}
}

// TestFluxSourceNotFound: a chart source nothing creates is an error when
// the environment is complete; when a Kustomization was not rendered (its
// source is missing), it may create it, and render/source-missing already
// says so: no finding.
func TestFluxSourceNotFound(t *testing.T) {
	hr := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "web", map[string]any{
		"chart": map[string]any{"spec": map[string]any{"chart": "web", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts", "namespace": "flux-system"}}},
	})
	apps := kustomization("apps", nil, hr)
	fs := byRule(check(environment(apps)), RuleSourceNotFound)
	if len(fs) != 1 || fs[0].Severity != finding.Error || !strings.Contains(fs[0].Message, "HelmRepository/flux-system/charts") {
		t.Errorf("complete environment: want one error, got %v", fs)
	}
	missing := kustomization("tenant", nil)
	missing.Rendered, missing.SourceName = false, "tenant"
	if fs := check(environment(apps, missing)); len(byRule(fs, RuleSourceNotFound))+len(byRule(fs, RuleReferenceOutOfBand)) != 0 {
		t.Errorf("flux-system/tenant was not rendered and may create the source: %v", fs)
	}
	// The Kustomization that builds from the source cannot create it.
	self := kustomization("self", nil)
	self.Rendered, self.SourceKind, self.SourceName = false, "HelmRepository", "charts"
	if fs := byRule(check(environment(apps, self)), RuleSourceNotFound); len(fs) != 1 {
		t.Errorf("a Kustomization cannot create its own source: want the error, got %v", fs)
	}
	// A Kustomization's own sourceRef is render/source-missing's, never
	// also flux/source-not-found.
	if fs := byRule(check(environment(self)), RuleSourceNotFound); len(fs) != 0 {
		t.Errorf("sourceRef reported twice: %v", fs)
	}
	// The unrendered tenant may also define what apps depends on.
	dep := kustomization("dep", dependsOn("defined-by-tenant"))
	if fs := byRule(check(environment(dep, missing)), RuleDependsOnMissing); len(fs) != 0 {
		t.Errorf("dependsOn judged in an incomplete environment: %v", fs)
	}
	if fs := byRule(check(environment(dep)), RuleDependsOnMissing); len(fs) != 1 {
		t.Errorf("complete environment: want depends-on-missing, got %v", fs)
	}
}

// TestFluxProducers: an ArtifactGenerator makes its ExternalArtifacts, a
// FluxInstance its sync source and Kustomization, a HelmRelease its
// HelmChart.
func TestFluxProducers(t *testing.T) {
	gen := object("source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator", "flux-system", "gen", map[string]any{
		"sources":   []any{map[string]any{"alias": "repo", "kind": "GitRepository", "name": "flux-system"}},
		"artifacts": []any{map[string]any{"name": "web-chart"}},
	})
	fi := object("fluxcd.controlplane.io/v1", "FluxInstance", "flux-system", "flux", map[string]any{
		"sync": map[string]any{"kind": "OCIRepository", "url": "oci://example.com/fleet", "path": "clusters/dev"},
	})
	web := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "flux-system", "web", map[string]any{
		"chartRef": map[string]any{"kind": "ExternalArtifact", "name": "web-chart"},
	})
	api := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "flux-system", "api", map[string]any{
		"chartRef": map[string]any{"kind": "OCIRepository", "name": "flux-system"},
	})
	legacy := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "legacy", map[string]any{
		"chart": map[string]any{"spec": map[string]any{"chart": "x", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "repo"}}},
	})
	chart := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "chart", map[string]any{
		"chartRef": map[string]any{"kind": "HelmChart", "name": "default-legacy"},
	})
	repo := object("source.toolkit.fluxcd.io/v1", "HelmRepository", "default", "repo", nil)
	after := kustomization("after", dependsOn("flux-system"))
	env := environment(kustomization("apps", nil, gen, fi, web, api, legacy, chart, repo), after)
	env.Kustomizations = env.Kustomizations[1:] // no entry point flux-system/flux-system: the FluxInstance makes it
	if fs := check(env); len(fs) != 0 {
		t.Errorf("produced sources are not found: %v", fs)
	}
}

// TestProvides: an in-house producer declared in .gitops-lint.yaml, and an
// object declared to exist outside git.
func TestProvides(t *testing.T) {
	db := object("example.com/v1", "MyDB", "flux-system", "db", map[string]any{"credentialsSecret": "db-credentials"})
	env := environment(kustomization("db", nil, db), kustomization("apps", map[string]any{"postBuild": map[string]any{"substituteFrom": []any{
		map[string]any{"kind": "Secret", "name": "db-credentials"},
		map[string]any{"kind": "Secret", "name": "cluster-vars"},
		map[string]any{"kind": "ConfigMap", "name": "db"},
	}}}))
	if fs := byRule(check(env), RuleReferenceOutOfBand); len(fs) != 3 {
		t.Fatalf("without provides: want three warnings, got %v", fs)
	}
	provides := []Provide{
		{Group: "example.com", Kind: "MyDB", Produces: Produced{Kind: "Secret", NameFrom: "spec.credentialsSecret"}},
		{Kind: "MyDB", Produces: Produced{Kind: "ConfigMap"}}, // any group, its own name
		{Produces: Produced{Kind: "Secret", Name: "cluster-vars"}},
	}
	if fs := check(env, provides...); len(fs) != 0 {
		t.Errorf("with provides: %v", fs)
	}
	// The group must match when given.
	provides[0].Group = "other.example.com"
	if fs := byRule(check(env, provides...), RuleReferenceOutOfBand); len(fs) != 1 || !strings.Contains(fs[0].Message, "db-credentials") {
		t.Errorf("a producer of another group: want the db-credentials warning, got %v", fs)
	}
}

// TestProducersDocumented: docs/converge.md describes every row of the
// table and every out-of-band reference.
func TestProducersDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "converge.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, p := range Producers {
		if !strings.Contains(doc, "`"+p.Kind+"` ("+p.Group+")") {
			t.Errorf("docs/converge.md does not document the producer %s (%s) as \"`%s` (%s)\"", p.Kind, p.Group, p.Kind, p.Group)
		}
	}
	for _, o := range outOfBand {
		if field := "spec." + strings.Join(o.Path, "."); !strings.Contains(doc, "`"+field+"`") {
			t.Errorf("docs/converge.md does not document the out-of-band %s %s", o.Kind, field)
		}
	}
}
