package helm

// This test imports Helm's action package to prove that Render gives what
// action.Install gives (client-only dry run, hooks and CRDs as
// helm-controller configures them). The action package stays out of the
// binary: only this _test.go file imports it.

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

func TestEquivalentToHelmInstall(t *testing.T) {
	dir := demoChart(t, map[string]string{"demo/templates/random.yaml": randomTemplate})
	for _, strategy := range []string{"combined", "nohooks"} {
		t.Run(strategy, func(t *testing.T) {
			c := mustLoadDir(t, dir)
			hr := hrFrom(t, `
metadata: {name: demo, namespace: flux-system}
spec:
  targetNamespace: apps
  commonMetadata: {labels: {team: web}}
  test: {enable: true}
  postRenderers:
    - kustomize:
        images: [{name: nginx, newTag: "9.9"}]
        patches:
          - target: {kind: Deployment}
            patch: '[{"op": "replace", "path": "/spec/replicas", "value": 4}]'
`)
			o, err := OptionsFor(hr)
			if err != nil {
				t.Fatal(err)
			}
			o.PostRenderStrategy = strategy
			o.KubeVersion = "1.36"
			o.APIVersions = []string{"v1", "apps/v1", "batch/v1", "monitoring.coreos.com/v1"}
			values := map[string]any{"replicas": 2, "image": "nginx:1.1"}

			ours, err := Render(context.Background(), c, values, o)
			if err != nil {
				t.Fatal(err)
			}

			// Helm's install, client-only, with the same post-renderer chain
			// and the same deterministic template functions.
			cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
			cfg.CustomTemplateFuncs = newDeterminism(o.Namespace+"/"+o.ReleaseName, DefaultNow).funcs()
			cfg.CustomTemplateFuncs["lookup"] = func(string, string, string, string) (map[string]any, error) { return map[string]any{}, nil }
			install := action.NewInstall(cfg)
			install.DryRunStrategy = action.DryRunClient
			install.ReleaseName, install.Namespace = o.ReleaseName, o.Namespace
			kv, _ := common.ParseKubeVersion("v1.36.0")
			install.KubeVersion = kv
			install.APIVersions = o.APIVersions
			install.SkipCRDs, install.IncludeCRDs = true, false
			pr, err := buildPostRenderers(o)
			if err != nil {
				t.Fatal(err)
			}
			install.PostRenderer = pr
			install.PostRenderStrategy = action.PostRenderStrategy(strategy)
			rel, err := install.RunWithContext(context.Background(), copyChart(c.c), values)
			if err != nil {
				t.Fatal(err)
			}
			r := rel.(*release.Release)

			// The release manifest is "---\n# Source: <t>\n<doc>\n" per
			// manifest, in install order; hooks are kept apart.
			var theirs []Manifest
			for _, doc := range strings.Split(r.Manifest, "---\n# Source: ")[1:] {
				name, content, _ := strings.Cut(doc, "\n")
				obj, err := decode(name, content)
				if err != nil {
					t.Fatal(err)
				}
				theirs = append(theirs, Manifest{Template: name, Object: obj})
			}
			for _, h := range r.Hooks {
				obj, err := decode(h.Path, h.Manifest)
				if err != nil {
					t.Fatal(err)
				}
				var ev []string
				for _, e := range h.Events {
					ev = append(ev, e.String())
				}
				theirs = append(theirs, Manifest{Template: h.Path, Hook: strings.Join(ev, ","), Object: obj})
			}
			// helm-controller applies crds/ itself (SkipCRDs); the
			// comparison is of what the install action renders.
			var rendered []Manifest
			for _, m := range ours {
				if !m.CRD {
					m.Index = 0
					rendered = append(rendered, m)
				}
			}
			ours = rendered
			if got, want := show(t, ours), show(t, theirs); got != want {
				t.Errorf("Render differs from action.Install:\n--- action.Install\n%s\n--- Render\n%s", want, got)
			}
		})
	}
}
