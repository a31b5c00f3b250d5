package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// fakeResult is a render result with two environments. Render here ignores
// the filters, so the tests also check that the CLI applies them itself.
func fakeResult() *render.Result {
	obj := func(kind, ns, name, file string, line int) *render.Object {
		md := map[string]any{"name": name}
		if ns != "" {
			md["namespace"] = ns
		}
		return &render.Object{
			Content: map[string]any{"apiVersion": "v1", "kind": kind, "metadata": md},
			File:    file, Line: line,
		}
	}
	return &render.Result{
		Environments: []*render.Environment{
			{Name: "dev", Kustomizations: []*render.Kustomization{
				{Namespace: "flux-system", Name: "flux-system", Objects: []*render.Object{obj("Namespace", "", "apps", "clusters/dev/ns.yaml", 1)}},
				{Namespace: "flux-system", Name: "apps", Objects: []*render.Object{
					obj("ConfigMap", "apps", "settings", "apps/base/cm.yaml", 3),
					{Content: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "remote"}}, OriginPath: "deploy/cm.yaml"},
				}},
			}},
			{Name: "prod", Kustomizations: []*render.Kustomization{
				{Namespace: "flux-system", Name: "apps", Objects: []*render.Object{obj("ConfigMap", "apps", "settings", "apps/base/cm.yaml", 3)}},
			}},
		},
		Findings: []finding.Finding{
			{Rule: render.RuleError.ID, Severity: finding.Error, File: "clusters/prod/apps.yaml", Line: 2, Column: 1,
				Environment: "prod", Kustomization: "flux-system/apps", Message: "kustomization build failed"},
			{Rule: render.RuleSourceMissing.ID, Severity: finding.Warning, Environment: "dev", Kustomization: "flux-system/infra",
				Message: "source flux-system/infra is not available locally"},
		},
	}
}

type run struct {
	code           int
	stdout, stderr string
}

func runFake(t *testing.T, tty bool, env map[string]string, args ...string) run {
	t.Helper()
	var stdout, stderr strings.Builder
	a := &app{
		stdout: &stdout, stderr: &stderr,
		env:       env,
		stdoutTTY: tty,
		checkers: func(Options) ([]Checker, error) {
			return []Checker{CheckerFunc(func(_ context.Context, res *render.Result) []finding.Finding {
				var fs []finding.Finding
				for _, e := range res.Environments {
					fs = append(fs, finding.Finding{Rule: "schema/unknown-kind", Severity: finding.Info,
						File: "apps/base/cm.yaml", Line: 3, Column: 1, Environment: e.Name, Message: "checked"})
				}
				return fs
			})}, nil
		},
		renderFn: func(context.Context, render.Options) (*render.Result, error) { return fakeResult(), nil },
	}
	dir := t.TempDir()
	code := a.run(context.Background(), append(args, "--no-config", dir))
	return run{code, stdout.String(), stderr.String()}
}

func TestLintPipeline(t *testing.T) {
	r := runFake(t, false, nil, "--format", "json")
	if r.code != finding.ExitFindings {
		t.Errorf("exit code %d, want 1 (an error finding); stderr: %s", r.code, r.stderr)
	}
	var doc struct {
		Summary  finding.Summary
		Findings []finding.Finding
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	// The same finding reached from dev and prod is one, with two contexts.
	want := finding.Summary{Environments: 2, Kustomizations: 3, Objects: 4, Errors: 1, Warnings: 1, Infos: 1, Occurrences: 4}
	doc.Summary.DurationMs = 0
	if doc.Summary != want {
		t.Errorf("summary = %+v, want %+v", doc.Summary, want)
	}
	var order []string
	for _, f := range doc.Findings {
		order = append(order, f.File+"|"+f.Rule+"|"+f.Environment)
		if f.Rule == "schema/unknown-kind" && (f.Occurrences != 2 || len(f.Contexts) != 2 || f.Contexts[1].Environment != "prod") {
			t.Errorf("folded finding: occurrences %d, contexts %+v; want 2, dev then prod", f.Occurrences, f.Contexts)
		}
	}
	wantOrder := []string{
		"|render/source-missing|dev",
		"apps/base/cm.yaml|schema/unknown-kind|dev",
		"clusters/prod/apps.yaml|render/error|prod",
	}
	if strings.Join(order, "\n") != strings.Join(wantOrder, "\n") {
		t.Errorf("findings order:\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(wantOrder, "\n"))
	}
}

func TestLintExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, finding.ExitFindings},
		{[]string{"--fail-on", "never"}, finding.ExitOK},
		{[]string{"--env", "dev"}, finding.ExitOK}, // only the warning is left
		{[]string{"--env", "dev", "--fail-on", "warning"}, finding.ExitFindings},
		{[]string{"--env", "staging"}, finding.ExitUsage},
	}
	for _, tt := range tests {
		if r := runFake(t, false, nil, tt.args...); r.code != tt.want {
			t.Errorf("gitops-lint %q: exit %d, want %d; stderr: %s", tt.args, r.code, tt.want, r.stderr)
		}
	}
}

func TestLintColor(t *testing.T) {
	if r := runFake(t, true, nil); !strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("a terminal gets colour:\n%q", r.stdout)
	}
	if r := runFake(t, true, map[string]string{"NO_COLOR": "1"}); strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("NO_COLOR turns colour off:\n%q", r.stdout)
	}
	if r := runFake(t, false, nil); strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("no terminal, no colour:\n%q", r.stdout)
	}
}

func TestRenderCommand(t *testing.T) {
	r := runFake(t, false, nil, "render", "--env", "dev", "--kustomization", "flux-system/apps")
	want := `---
# Source: apps/base/cm.yaml:3 (dev flux-system/apps, applied as kustomize-controller's own identity)
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
---
# Source: deploy/cm.yaml (dev flux-system/apps, applied as kustomize-controller's own identity)
apiVersion: v1
kind: ConfigMap
metadata:
  name: remote
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant\n%s", r.stdout, want)
	}
	if r.code != finding.ExitOK || !strings.HasPrefix(r.stderr, "✔ no problems in 1 environment, 1 kustomization, 2 objects (") {
		t.Errorf("exit %d, stderr %q; want 0 and only the summary (the only error is in prod)", r.code, r.stderr)
	}

	r = runFake(t, false, nil, "render")
	if got := strings.Count(r.stdout, "# Source: "); got != 4 {
		t.Errorf("render without filters printed %d objects, want 4", got)
	}
	if r.code != finding.ExitFindings || !strings.Contains(r.stderr, "kustomization build failed") {
		t.Errorf("exit %d, stderr %q; want 1 and the render error on stderr", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "kustomization build failed") {
		t.Error("findings must not go to stdout")
	}

	r = runFake(t, false, nil, "render", "--kustomization", "flux-system/nope")
	if r.code != finding.ExitUsage {
		t.Errorf("unknown --kustomization: exit %d, want 2", r.code)
	}
}

func TestReportFormatsAreDeclaredOnce(t *testing.T) {
	// --help lists exactly the formats of the report package.
	h := formatHelp()
	for _, f := range report.Formats() {
		if !strings.Contains(h, string(f)) {
			t.Errorf("--format help does not mention %s: %s", f, h)
		}
	}
}
