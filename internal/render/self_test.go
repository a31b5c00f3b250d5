package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var selfSync = fmt.Sprintf(testutil.FluxSync, "https://example.com/org/fleet.git", "main", "./clusters/prod")

const selfStaging = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: staging
  namespace: flux-system
spec:
  interval: 1m
  url: git@example.com:org/fleet.git
  ref:
    branch: %s
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: staging-apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: staging
`

// TestSelfSourceAtAnotherBranch: a GitRepository that is this repository
// (same origin URL, other spelling) at another branch is rendered from
// that branch's git objects, and an info finding says which commit; a
// branch the checkout lacks stays a render/source-missing warning that
// says how to fetch it.
func TestSelfSourceAtAnotherBranch(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	src := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/prod/flux-system/gotk-sync.yaml": selfSync,
		"clusters/prod/staging.yaml":               strings.Replace(selfStaging, "%s", "staging", 1),
		"apps/cm.yaml":                             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: on-main\n  namespace: default\n",
	})
	repo := testutil.GitRepo(t, src, testutil.GitOptions{Remote: "https://example.com/org/fleet"})
	// The staging branch holds another ConfigMap than main's working tree.
	testutil.Git(t, repo, "checkout", "-q", "-b", "staging")
	testutil.WriteFile(t, filepath.Join(repo, "apps", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: on-staging\n  namespace: default\n")
	testutil.Git(t, repo, "commit", "-q", "-am", "staging")
	testutil.Git(t, repo, "checkout", "-q", "main")

	res, err := Render(context.Background(), Options{Root: repo})
	if err != nil {
		t.Fatal(err)
	}
	k := findKs(t, res.Environments[0], "flux-system/staging-apps")
	if len(k.Objects) != 1 || k.Objects[0].Name() != "on-staging" {
		t.Fatalf("staging-apps rendered %v, want the staging branch's ConfigMap", k.Objects)
	}
	var info []string
	for _, f := range res.Findings {
		if f.Rule == RuleSelfSource.ID {
			info = append(info, f.Message)
		} else {
			t.Errorf("unexpected %s %s", f.Rule, f.Message)
		}
	}
	if len(info) != 1 || !strings.Contains(info[0], "branch staging (refs/heads/staging)") {
		t.Errorf("want one info naming the branch used, got %v", info)
	}

	// A branch the checkout does not have: not rendered, and said how.
	testutil.WriteFile(t, filepath.Join(repo, "clusters", "prod", "staging.yaml"), strings.Replace(selfStaging, "%s", "qa", 1))
	res, err = Render(context.Background(), Options{Root: repo})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		found = found || f.Rule == RuleSourceMissing.ID && strings.Contains(f.Message, "git fetch origin qa")
	}
	if !found {
		t.Errorf("no source-missing naming the branch to fetch: %v", res.Findings)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gitops-lint-") {
			t.Errorf("temporary tree %s left behind", e.Name())
		}
	}
}
