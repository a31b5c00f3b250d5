package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestDiffCorpus diffs two commits of the flux2-multi-tenancy example (from
// ../shared/corpus, skipped without it): a changed tenant patch and an added
// Secret both show, the Secret's value does not, and the repository is left
// untouched.
func TestDiffCorpus(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "flux2-multi-tenancy")
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("../shared/corpus not present")
	}
	repo := testutil.GitRepo(t, corpus, testutil.GitOptions{})
	staging := filepath.Join(repo, "tenants", "staging")
	patch, err := os.ReadFile(filepath.Join(staging, "dev-team-patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(patch), "path: ./staging", "path: ./staging-v2", 1)
	if changed == string(patch) {
		t.Fatalf("patch has no path: ./staging:\n%s", patch)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(staging, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dev-team-patch.yaml", changed)
	write("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: dev-team-token\nstringData:\n  token: s3cr3t-corpus-token\n")
	kust, err := os.ReadFile(filepath.Join(staging, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write("kustomization.yaml", strings.Replace(string(kust), "resources:\n", "resources:\n  - secret.yaml\n", 1))
	testutil.Git(t, repo, "add", "-A")
	testutil.Git(t, repo, "commit", "-q", "-m", "second")
	before := testutil.Snapshot(t, repo)

	var stdout, stderr bytes.Buffer
	code := Main([]string{"diff", repo, "--base", "HEAD~1", "--env", "staging"}, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr.String(), out)
	}
	for _, want := range []string{
		"~ changed Kustomization/apps/dev-team",
		"-  path: ./staging\n",
		"+  path: ./staging-v2\n",
		"+ added Secret/apps/dev-team-token",
		"+  token: '<masked: changed>'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cr3t-corpus-token") {
		t.Errorf("diff output leaks the Secret value:\n%s", out)
	}
	if after := testutil.Snapshot(t, repo); after != before {
		t.Errorf("diff changed the repository")
	}
}
