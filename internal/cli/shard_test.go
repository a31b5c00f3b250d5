package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestShardsUnion: the union of the findings of --shard 1/N … N/N is the
// unsharded report, and no finding is in two shards — on the convergence
// fixture, the platform fixture (tenants, RBAC) and the corpus repository.
// Each shard renders only what its Kustomizations need.
func TestShardsUnion(t *testing.T) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "script", "converge.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "repo/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("converge", func(t *testing.T) { checkShards(t, 4, filepath.Join(dir, "repo")) })
	t.Run("platform", func(t *testing.T) {
		// The tenants may no longer manage Deployments: their
		// Kustomizations fail RBAC, in every environment.
		root := testutil.CopyTree(t, testutil.FixturePath(t, "platform"))
		role := filepath.Join(root, "tenants/base/common/clusterrole.yaml")
		data, err := os.ReadFile(role)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(role, bytes.Replace(data, []byte(`["deployments"]`), []byte(`["daemonsets"]`), 1), 0o644)
		checkShards(t, 6, root, "--no-config",
			"--source", "team-a/team-a="+testutil.FixturePath(t, "team-a"),
			"--source", "team-b/team-b="+testutil.FixturePath(t, "team-b"))
	})
	t.Run("onedr0p", func(t *testing.T) {
		if testing.Short() {
			t.Skip("lints the corpus repository four times")
		}
		checkShards(t, 100, testutil.Corpus(t, "onedr0p-home-ops"), "--no-config")
	})
}

// checkShards compares the union of three shards with the unsharded run
// of PATH (args[0]); the run must have at least min findings (occurrences).
func checkShards(t *testing.T, min int, args ...string) {
	findings := func(extra ...string) []string {
		return findingKeys(t, append(append(slices.Clone(args), "--fail-on", "never"), extra...)...)
	}
	all := findings()
	if len(all) < min {
		t.Fatalf("fixture yields %d findings, want at least %d", len(all), min)
	}
	var union []string
	nonEmpty := 0
	for _, shard := range []string{"1/3", "2/3", "3/3"} {
		got := findings("--shard", shard)
		if len(got) > 0 {
			nonEmpty++
		}
		union = append(union, got...)
	}
	if min > 1 && nonEmpty < 2 {
		t.Errorf("the findings landed in %d shard(s): sharding does not split", nonEmpty)
	}
	sameFindings(t, all, union, "the union of the shards")
}
