package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var durationMsRe = regexp.MustCompile(`"durationMs": ?[0-9]+`)

// TestCacheDirSameReport: with --cache-dir, a lint's JSON report is the
// one a run without it writes, byte for byte but the duration, on the
// run that fills the cache and on the one that reads it.
func TestCacheDirSameReport(t *testing.T) {
	dir := t.TempDir()
	for _, repo := range []string{"onedr0p-home-ops", "flux2-multi-tenancy"} {
		t.Run(repo, func(t *testing.T) {
			root := testutil.Corpus(t, repo)
			lint := func(extra ...string) string {
				var out, errb strings.Builder
				args := append([]string{"lint", root, "--no-config", "--format", "json", "--fail-on", "never"}, extra...)
				if code := Main(args, nil, &out, &errb); code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
				return durationMsRe.ReplaceAllString(out.String(), `"durationMs":0`)
			}
			cold := lint()
			for i := range 2 {
				if got := lint("--cache-dir", dir); got != cold {
					t.Fatalf("run %d with --cache-dir differs from a run without", i+1)
				}
			}
		})
	}
	entries := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && d.Type().IsRegular() {
			entries++
		}
		return nil
	})
	if entries == 0 {
		t.Fatal("--cache-dir stored nothing")
	}
}

// TestCacheDirUsage: a cache directory that cannot be made is a usage
// error naming the flag; the config file cannot choose one.
func TestCacheDirUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	code := Main([]string{"lint", testutil.FixturePath(t, "platform"), "--no-config", "--cache-dir", filepath.Join(file, "sub")}, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "--cache-dir") {
		t.Fatalf("exit %d, stderr %q; want 2 naming --cache-dir", code, errb.String())
	}
}
