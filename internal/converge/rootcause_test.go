package converge

import (
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// TestFailedBuildHidesFollowOns: a Kustomization whose build failed (a
// render/error, or the yaml/syntax of a file it reads) may have created
// anything: the references it could satisfy are not reported, not even
// as flux/reference-out-of-band — its error is the one finding of that
// cause. One left unrendered for want of its source still gets the
// warning (render/source-missing is only a warning), and what the failed
// Kustomization cannot create (its own source, what it needs to build)
// is still judged.
func TestFailedBuildHidesFollowOns(t *testing.T) {
	hr := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "web", map[string]any{
		"chartRef":   map[string]any{"kind": "ExternalArtifact", "name": "web", "namespace": "flux-system"},
		"valuesFrom": []any{map[string]any{"kind": "ConfigMap", "name": "web-values"}},
	})
	spec := substituteFrom("ConfigMap", "cluster-vars")
	spec["dependsOn"] = []any{map[string]any{"name": "infra-child"}}
	apps := kustomization("apps", spec, hr)

	failed := kustomization("infra", nil)
	failed.Rendered, failed.Failed = false, true
	if fs := check(environment(apps, failed)); len(fs) != 0 {
		t.Errorf("findings that follow only from flux-system/infra failing to build: %v", fs)
	}

	missing := kustomization("tenant", nil)
	missing.Rendered, missing.SourceName = false, "tenant"
	fs := check(environment(apps, missing))
	if n := len(byRule(fs, RuleReferenceOutOfBand)); n != 2 {
		t.Errorf("a Kustomization left unrendered by a missing source: want the two warnings, got %v", fs)
	}
	for _, f := range byRule(fs, RuleReferenceOutOfBand) {
		if !strings.Contains(f.Message, "flux-system/tenant was not rendered and may") {
			t.Errorf("the warning does not say who may create it: %s", f.Message)
		}
	}
	if n := len(byRule(fs, RuleSourceNotFound)) + len(byRule(fs, RuleDependsOnMissing)); n != 0 {
		t.Errorf("source and dependsOn judged in an incomplete environment: %v", fs)
	}

	// The failed Kustomization cannot make what it needs to build.
	self := kustomization("self", substituteFrom("ConfigMap", "self-vars"))
	self.Rendered, self.Failed = false, true
	if fs := byRule(check(environment(self)), RuleReferenceOutOfBand); len(fs) != 1 {
		t.Errorf("a failed Kustomization cannot create its own substituteFrom: want the warning, got %v", fs)
	}

	// Complete environment: everything is reported.
	fs = check(environment(apps))
	if len(byRule(fs, RuleReferenceOutOfBand)) != 2 || len(byRule(fs, RuleSourceNotFound)) != 1 || len(byRule(fs, RuleDependsOnMissing)) != 1 {
		t.Errorf("complete environment: want 2 warnings, source-not-found and depends-on-missing, got %v", fs)
	}
}

// TestLostObjectIsNotMissing: an object whose own render failed (a
// render/error: say its post-build substitution does not parse) is not
// also reported missing by what references it.
func TestLostObjectIsNotMissing(t *testing.T) {
	hr := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "default", "web", map[string]any{
		"chart": map[string]any{"spec": map[string]any{"chart": "web", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts", "namespace": "flux-system"}}},
	})
	apps := kustomization("apps", nil, hr)
	infra := kustomization("infra", nil)
	if fs := byRule(check(environment(apps, infra)), RuleSourceNotFound); len(fs) != 1 {
		t.Fatalf("want source-not-found, got %v", fs)
	}
	infra.Lost = []*finding.Object{{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "HelmRepository", Namespace: "flux-system", Name: "charts"}}
	if fs := check(environment(apps, infra)); len(fs) != 0 {
		t.Errorf("the HelmRepository's render/error is the cause: %v", fs)
	}
}
