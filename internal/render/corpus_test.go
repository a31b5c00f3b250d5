package render

import (
	"context"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// TestCorpusNoFalseErrors renders the real repositories of ../shared/corpus,
// which all reconcile in production: any error is a false positive.
func TestCorpusNoFalseErrors(t *testing.T) {
	for _, tc := range []struct {
		repo     string
		sources  map[string]string
		envs     int
		warnings int // render/source-missing for sources that live elsewhere
	}{
		{repo: "onedr0p-home-ops", envs: 1},
		{repo: "flux2-kustomize-helm-example", envs: 2},
		// kyverno-controller's OCIRepository is an upstream artifact: one
		// warning per environment.
		{repo: "flux2-multi-tenancy", envs: 2, warnings: 2,
			sources: map[string]string{"apps/dev-team": "flux2-multi-tenancy-dev-team"}},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			root := sharedDir(t, "corpus/"+tc.repo)
			src := map[string]string{}
			for k, v := range tc.sources {
				src[k] = sharedDir(t, "corpus/"+v)
			}
			res, err := Render(context.Background(), Options{Root: root, Sources: src})
			if err != nil {
				t.Fatal(err)
			}
			warnings := 0
			for _, f := range res.Findings {
				switch f.Severity {
				case finding.Error:
					t.Errorf("false error %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
				case finding.Warning:
					warnings++
					if f.Rule != RuleSourceMissing.ID {
						t.Errorf("unexpected warning %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
					}
				}
			}
			if warnings != tc.warnings {
				t.Errorf("got %d warnings, want %d", warnings, tc.warnings)
			}
			if len(res.Environments) != tc.envs {
				t.Errorf("got %d environments, want %d", len(res.Environments), tc.envs)
			}
			for _, env := range res.Environments {
				// flux2-multi-tenancy locks kustomize-controller (and
				// helm-controller's default account) down by
				// patches in clusters/*/flux-system/kustomization.yaml.
				if tc.repo == "flux2-multi-tenancy" {
					want := Lockdown{NoRemoteBases: true, NoCrossNamespaceRefs: true, DefaultServiceAccount: "default", HelmDefaultServiceAccount: "default", StrictSubstitution: true}
					if env.Lockdown != want {
						t.Errorf("%s: lockdown %+v, want %+v", env.Name, env.Lockdown, want)
					}
				}
				for _, k := range env.Kustomizations {
					if !k.Rendered && k.ID() != "flux-system/kyverno-controller" {
						t.Errorf("%s: %s not rendered", env.Name, k.ID())
					}
				}
			}
		})
	}
}

// TestParentPatchesReachChildren checks that a parent Kustomization's patches
// to its child Kustomizations take effect before the child is built: in
// onedr0p, cluster-apps patches every child with HelmRelease defaults.
func TestParentPatchesReachChildren(t *testing.T) {
	root := sharedDir(t, "corpus/onedr0p-home-ops")
	res, err := Render(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	helmReleases := 0
	for _, k := range res.Environments[0].Kustomizations {
		if k.Parent != "flux-system/cluster-apps" {
			continue
		}
		for _, o := range k.Objects {
			if o.Kind() != "HelmRelease" {
				continue
			}
			helmReleases++
			if got := objects.NestedString(o.Content, "spec", "install", "crds"); got != "CreateReplace" {
				t.Errorf("%s in %s: spec.install.crds=%q, want the parent's patch CreateReplace", o.Ref(), k.ID(), got)
			}
		}
	}
	if helmReleases < 50 {
		t.Errorf("only %d HelmReleases under cluster-apps", helmReleases)
	}
}
