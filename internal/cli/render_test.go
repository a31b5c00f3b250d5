package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// TestRenderSummary: render's summary line on stderr counts what the
// stream holds and the time the render took; it is always printed, on
// stderr, never on stdout.
func TestRenderSummary(t *testing.T) {
	summaryRe := regexp.MustCompile(`\((\d+\.\d\d)s\)\n$`)
	tests := []struct {
		name string
		tty  bool
		args []string
		want string // the summary line without its duration; "": no stderr
	}{
		{"findings", false, nil, "✖ 1 error, 1 warning in 2 environments, 3 kustomizations, 4 objects"},
		{"filtered, with the findings of the Kustomization", false, []string{"--env", "prod", "--kustomization", "flux-system/apps"}, "✖ 1 error, 0 warnings in 1 environment, 1 kustomization, 1 object"},
		{"clean stream, no terminal", false, []string{"--env", "dev", "--kustomization", "flux-system/apps"}, "✔ no problems in 1 environment, 1 kustomization, 2 objects"},
		{"clean stream on a terminal", true, []string{"--env", "dev", "--kustomization", "flux-system/apps"}, "✔ no problems in 1 environment, 1 kustomization, 2 objects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			a := &app{
				stdout: &stdout, stderr: &stderr,
				env:       map[string]string{"NO_COLOR": "1"},
				stderrTTY: tt.tty,
				renderFn:  func(context.Context, render.Options) (*render.Result, error) { return fakeResult(), nil },
			}
			code := a.run(context.Background(), append(append([]string{"render"}, tt.args...), "--no-config", t.TempDir()))
			if code == finding.ExitUsage || code == finding.ExitInternal {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if strings.Contains(stdout.String(), " in ") {
				t.Errorf("the summary went to stdout:\n%s", stdout.String())
			}
			if tt.want == "" {
				if stderr.Len() > 0 {
					t.Errorf("stderr %q, want nothing", stderr.String())
				}
				return
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, tt.want+" (") || !summaryRe.MatchString(stderr.String()) {
				t.Errorf("summary line %q, want %q (TIME)", last, tt.want)
			}
		})
	}
}

// TestRenderSummaryEmpty: an empty stream still gets its summary.
func TestRenderSummaryEmpty(t *testing.T) {
	var stdout, stderr strings.Builder
	a := &app{
		stdout: &stdout, stderr: &stderr,
		renderFn: func(context.Context, render.Options) (*render.Result, error) { return &render.Result{}, nil },
	}
	if code := a.run(context.Background(), []string{"render", "--no-config", t.TempDir()}); code != finding.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	if !regexp.MustCompile(`^✔ no problems in 0 environments, 0 kustomizations, 0 objects \(\d+\.\d\ds\)\n$`).MatchString(stderr.String()) {
		t.Errorf("stderr %q, want the summary line", stderr.String())
	}
}
