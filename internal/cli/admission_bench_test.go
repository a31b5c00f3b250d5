package cli

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// BenchmarkLintOnedr0pAdmission is the whole lint of onedr0p-home-ops
// without admission policies and with a platform's 20 (Warn bindings,
// internal/admission/testdata/bench) through --admission-dir: the cost the
// admission checker adds to a run.
func BenchmarkLintOnedr0pAdmission(b *testing.B) {
	root := testutil.Corpus(b, "onedr0p-home-ops")
	policies, err := filepath.Abs(filepath.Join("..", "admission", "testdata", "bench"))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"without", nil},
		{"with-20-policies", []string{"--admission-dir", policies}},
	} {
		b.Run(c.name, func(b *testing.B) {
			args := append([]string{"lint", root, "--no-config", "--fail-on", "never", "--format", "json"}, c.args...)
			for b.Loop() {
				var stderr strings.Builder
				if code := Main(args, nil, io.Discard, &stderr); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
		})
	}
}
