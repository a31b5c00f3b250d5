package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/lint"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// lintJSON runs gitops-lint in process and returns its findings.
func lintJSON(t *testing.T, args ...string) []finding.Finding {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(append(args, "--format", "json", "--no-config"), nil, &stdout, &stderr)
	if code > 1 {
		t.Fatalf("gitops-lint %v: exit %d: %s", args, code, stderr.String())
	}
	var out struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
		t.Fatalf("gitops-lint %v: %v", args, err)
	}
	return occurrences(out.Findings)
}

// gathered are the rules reported at the first object of their cause a
// run lints (finding.Gather): where depends on the scope of the run.
var gathered = map[string]bool{"schema/unknown-kind": true, "render/helm-chart-missing": true}

// unfolded is findings with one per place they occur: each context of a
// folded finding becomes a finding of its own.
func unfolded(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		ctxs := f.Contexts
		if len(ctxs) == 0 {
			ctxs = []finding.Context{f.Context()}
		}
		for _, c := range ctxs {
			g := f
			g.Environment, g.Kustomization, g.Object = c.Environment, c.Kustomization, c.Object
			g.Occurrences, g.Contexts = 0, nil
			out = append(out, g)
		}
	}
	return out
}

// occurrences is unfolded without what depends on the scope of a run:
// fingerprints and anchors, and where the gathered rules are.
func occurrences(fs []finding.Finding) []finding.Finding {
	out := unfolded(fs)
	for i := range out {
		g := &out[i]
		g.Fingerprint, g.Anchor = "", nil
		if gathered[g.Rule] {
			g.File, g.Line, g.Column, g.Message = "", 0, 0, ""
		}
	}
	return out
}

func findingKey(f finding.Finding) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// findingKeys runs gitops-lint in process and returns its findings as keys.
func findingKeys(t *testing.T, args ...string) []string {
	t.Helper()
	var keys []string
	for _, f := range lintJSON(t, args...) {
		keys = append(keys, findingKey(f))
	}
	return keys
}

// sameFindings fails t unless got (what run reported) holds exactly the
// findings of want, naming each one that is in only one of them.
func sameFindings(t *testing.T, want, got []string, run string) {
	t.Helper()
	slices.Sort(want)
	slices.Sort(got)
	if slices.Equal(want, got) {
		return
	}
	t.Errorf("%s reported %d findings, want %d", run, len(got), len(want))
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			t.Errorf("missing from %s: %.400s", run, w)
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			t.Errorf("only in %s: %.400s", run, g)
		}
	}
}

// TestChangedSinceMatchesFullLint checks on the largest corpus repository
// that a --changed-since run reports, for the Kustomizations it lints,
// exactly what a full run reports for them: the objects their checks look
// up in other Kustomizations (namespaces, CRDs, sources, RBAC, duplicates)
// are all there although those are not linted.
func TestChangedSinceMatchesFullLint(t *testing.T) {
	if testing.Short() {
		t.Skip("lints the corpus repository several times")
	}
	t.Run("platform", func(t *testing.T) {
		repo := testutil.GitRepo(t, testutil.FixturePath(t, "platform"), testutil.GitOptions{Branches: []string{"dev", "test"}})
		sources := []string{
			"--source", "team-a/team-a=" + testutil.FixturePath(t, "team-a"),
			"--source", "team-b/team-b=" + testutil.FixturePath(t, "team-b"),
		}
		for _, file := range []string{
			"tenants/base/common/clusterrole.yaml",
			"tenants/base/team-a/rbac.yaml",
			"tenants/base/team-b/sync.yaml",
			"infrastructure/prod/prometheus-values.yaml",
			"infrastructure/base/keda/release.yaml",
			"clusters/test/tenants.yaml",
		} {
			checkChangedMatchesFull(t, repo, file, sources...)
		}
	})
	t.Run("onedr0p", func(t *testing.T) {
		repo := testutil.GitRepo(t, testutil.Corpus(t, "onedr0p-home-ops"), testutil.GitOptions{})
		for _, file := range []string{
			"kubernetes/apps/default/plex/app/helmrelease.yaml",
			"kubernetes/apps/network/cloudflare-tunnel/app/helmrelease.yaml",
			"kubernetes/apps/o11y/kube-prometheus-stack/ks.yaml",
			"kubernetes/apps/kube-system/kustomization.yaml",
		} {
			checkChangedMatchesFull(t, repo, file)
		}
	})
}

// checkChangedMatchesFull changes file in repo (uncommitted), then compares
// the findings of `--changed-since HEAD` with those of a full run about the
// Kustomizations the changed-only run lints.
func checkChangedMatchesFull(t *testing.T, repo, file string, args ...string) {
	t.Run(file, func(t *testing.T) {
		p := filepath.Join(repo, filepath.FromSlash(file))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Skipf("layout changed: %v", err)
		}
		defer os.WriteFile(p, orig, 0o644)
		changed := strings.Replace(string(orig), "\n  interval: ", "\n  interval: 17m\n  #", 1)
		switch {
		case changed != string(orig):
		case strings.HasPrefix(filepath.Base(file), "kustomization."):
			changed += "\ncommonAnnotations:\n  gitops-lint.io/test: changed\n"
		default:
			changed = strings.Replace(changed, "replicas: 2", "replicas: 5", 1)
			// The tenants lose the right to manage Deployments: their
			// Kustomizations now fail (rbac/forbidden, rbac/prune).
			changed = strings.Replace(changed, `resources: ["deployments"]`, `resources: ["daemonsets"]`, 1)
			changed = strings.Replace(changed, "name: flux-reconciler\n  namespace: team-a\n  labels:\n    toolkit.fluxcd.io/tenant: team-a\nroleRef", "name: flux-reconciler\n  namespace: team-a\n  labels:\n    toolkit.fluxcd.io/tenant: team-a-changed\nroleRef", 1)
		}
		if changed == string(orig) {
			t.Fatalf("no mutation for %s", file)
		}
		os.WriteFile(p, []byte(changed), 0o644)

		ropts := render.Options{Root: repo, ChangedOnly: true, Changed: []string{file}, Sources: map[string]string{}, Needs: lint.Needs(),
			BaseContent: map[string][]byte{file: orig}}
		for i := 1; i < len(args); i += 2 {
			ref, dir, _ := strings.Cut(args[i], "=")
			ropts.Sources[ref] = dir
		}
		res, err := render.Render(context.Background(), ropts)
		if err != nil {
			t.Fatal(err)
		}
		selected := map[string]bool{}
		for _, env := range res.Environments {
			for _, k := range env.Kustomizations {
				if !k.Unchanged {
					selected[env.Name+"|"+k.ID()] = true
				}
			}
		}
		if len(selected) == 0 {
			t.Fatal("nothing selected")
		}
		var want []string
		for _, f := range lintJSON(t, append([]string{repo}, args...)...) {
			if selected[f.Environment+"|"+f.Kustomization] || f.Kustomization == "" && (f.File == "" || f.File == file) {
				want = append(want, findingKey(f))
			}
		}
		got := findingKeys(t, append([]string{repo, "--changed-since", "HEAD"}, args...)...)
		sameFindings(t, want, got, "the --changed-since run")
		t.Logf("%d Kustomizations linted, %d findings", len(selected), len(got))
	})
}
