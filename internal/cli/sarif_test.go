package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestSARIFGitHubUpload runs gitops-lint as a user would with the
// documented GitHub setup and checks the SARIF against the schema and the
// rules code scanning applies on upload — every result located in a file
// of the repository, URIs relative to its root — in the cases whose
// findings have no file of their own or whose PATH is not the root:
// --promotion (the chain), content of a --source checkout (the team's
// LoadBalancer), tenant mode, and PATH a subdirectory of the repository.
func TestSARIFGitHubUpload(t *testing.T) {
	schema := testutil.SARIFSchema(t)
	work := t.TempDir()
	for _, name := range []string{"platform", "team-a", "team-b"} {
		dir := testutil.GitRepo(t, testutil.FixturePath(t, name), testutil.GitOptions{Branches: []string{"dev", "test"}})
		if err := os.Rename(dir, filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	// The team checkouts carry a problem: a tenant LoadBalancer.
	svc := filepath.Join(work, "team-a", "deploy", "base", "service.yaml")
	data, err := os.ReadFile(svc)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(svc, []byte(strings.Replace(string(data), "type: ClusterIP", "type: LoadBalancer", 1)), 0o644)
	testutil.Git(t, filepath.Join(work, "team-a"), "commit", "-qam", "LoadBalancer")

	// A monorepo holding the platform in a subdirectory.
	mono := filepath.Join(work, "mono")
	os.MkdirAll(mono, 0o755)
	if err := os.Rename(testutil.CopyTree(t, testutil.FixturePath(t, "platform")), filepath.Join(mono, "platform")); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(mono, "README.md"), "monorepo\n")
	mono = testutil.GitRepo(t, mono, testutil.GitOptions{})

	platform, teamA := filepath.Join(work, "platform"), filepath.Join(work, "team-a")
	for _, tc := range []struct {
		name    string
		top     string // the repository root the URIs are relative to
		args    []string
		minimum int    // results expected, at least
		want    string // a URI the results must hold
	}{
		{"promotion and source content", platform,
			[]string{platform, "--trust-dir", work, "--promotion", "dev,test,main"}, 2, "tenants/base/team-a/sync.yaml"},
		{"tenant mode", teamA,
			[]string{teamA, "--platform", platform, "--trust-dir", work, "--env", "dev", "--source", "team-a/team-a=" + teamA}, 1, "deploy/base/service.yaml"},
		{"subdirectory", mono,
			[]string{filepath.Join(mono, "platform"), "--no-config", "--promotion", "dev,test,main", "--env", "dev"}, 2, "platform/clusters/dev/flux-system/gotk-sync.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.sarif")
			var stdout, stderr strings.Builder
			code := Main(append(tc.args, "--format", "sarif="+out, "--fail-on", "never"), nil, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			testutil.ValidateSARIF(t, schema, data)
			if n := testutil.CheckGitHubSARIF(t, data, tc.top); n < tc.minimum {
				t.Errorf("%d results, want at least %d", n, tc.minimum)
			}
			if !strings.Contains(string(data), `"uri": "`+tc.want+`"`) {
				t.Errorf("no result at %s:\n%s", tc.want, data)
			}
		})
	}
}
