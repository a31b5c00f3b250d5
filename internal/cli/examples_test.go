package cli

import (
	"bytes"
	"encoding/json"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
)

// runCLI runs Main with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestEveryCommandHasExample: every command of the tree, completion
// included, has an Examples section in its --help, and every key of the
// examples table names a real command (no stale entries).
func TestEveryCommandHasExample(t *testing.T) {
	root := newRootCommand(&app{})
	seen := map[string]bool{}
	walkCommands(root, func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		key := commandKey(c)
		seen[key] = true
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no example: add one to the examples table in examples.go", c.CommandPath())
			return
		}
		args := append(strings.Fields(key), "--help")
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "\nExamples:\n"+c.Example) {
			t.Errorf("%v: exit %d, no Examples section in\n%s%s", args, code, out, errOut)
		}
	})
	for key := range examples {
		if !seen[key] {
			t.Errorf("examples[%q] names no command", key)
		}
	}
	for _, want := range []string{"", "lint", "version", "help", "completion", "completion bash", "completion powershell"} {
		if !seen[want] {
			t.Errorf("command %q missing from the tree", want)
		}
	}
}

// TestCompletion: cobra's completion command is enabled and prints a
// script for each shell.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_gitops-lint",
		"zsh":        "#compdef gitops-lint",
		"fish":       "complete -c gitops-lint",
		"powershell": "Register-ArgumentCompleter",
	} {
		code, out, errOut := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, want %q in stdout (%d bytes); stderr %s", shell, code, marker, len(out), errOut)
		}
	}
	// The completion it drives lists the commands.
	code, out, _ := runCLI(t, "__complete", "")
	if code != 0 || !strings.Contains(out, "render") || !strings.Contains(out, "version") {
		t.Errorf("__complete: exit %d, commands missing:\n%s", code, out)
	}
}

func fakeBuildInfo(main string, settings map[string]string, deps ...*debug.Module) func() (*debug.BuildInfo, bool) {
	return func() (*debug.BuildInfo, bool) {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gitops-lint/gitops-lint", Version: main}, Deps: deps}
		for k, v := range settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		return bi, true
	}
}

// setLinked sets the link-time values for one test.
func setLinked(t *testing.T, v, c, d string) {
	old := [3]string{version, commit, date}
	version, commit, date = v, c, d
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
}

// TestVersionSources: the link-time values win; without them the module
// version and the VCS stamp the toolchain recorded are used; with neither
// the version is "dev". The embedded Flux and Kubernetes versions are the
// catalog's, and a linked Helm module is reported.
func TestVersionSources(t *testing.T) {
	vcs := map[string]string{"vcs.revision": "0123456789abcdef0123456789abcdef01234567", "vcs.time": "2026-11-30T12:00:00Z", "vcs.modified": "true"}

	setLinked(t, "v1.2.3", "fedcba9876543210", "2026-12-01T00:00:00Z")
	b := readBuild(fakeBuildInfo("v0.0.0-pseudo", vcs))
	if b.Version != "v1.2.3" || b.Commit != "fedcba9876543210" || b.Date != "2026-12-01T00:00:00Z" || b.Modified {
		t.Errorf("release build: %+v", b)
	}
	if got := b.String(); !strings.HasPrefix(got, "gitops-lint v1.2.3 (commit fedcba987654, 2026-12-01T00:00:00Z, go1.26.8 ") {
		t.Errorf("release line: %s", got)
	}

	setLinked(t, "", "", "")
	b = readBuild(fakeBuildInfo("v0.0.0-20261130120000-0123456789ab+dirty", vcs))
	if b.Version != "v0.0.0-20261130120000-0123456789ab+dirty" || b.Commit != vcs["vcs.revision"] || b.Date != vcs["vcs.time"] || !b.Modified {
		t.Errorf("VCS-stamped build: %+v", b)
	}
	line := b.String()
	for _, want := range []string{"commit 0123456789ab+dirty", "2026-11-30T12:00:00Z", "flux " + catalog.FluxRelease, "kubernetes " + catalog.Versions()[0] + "-"} {
		if !strings.Contains(line, want) {
			t.Errorf("VCS line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "helm") {
		t.Errorf("no Helm linked, yet %q", line)
	}

	b = readBuild(fakeBuildInfo("(devel)", nil, &debug.Module{Path: "helm.sh/helm/v3", Version: "v3.19.0"}))
	if b.Version != "dev" || b.Commit != "" || b.Helm != "v3.19.0" {
		t.Errorf("unstamped build: %+v", b)
	}
	if line := b.String(); !strings.Contains(line, "commit unknown") || !strings.HasSuffix(line, ", helm v3.19.0") {
		t.Errorf("unstamped line: %s", line)
	}
	if !slices.Equal(b.Kubernetes, catalog.Versions()) || b.Flux != catalog.FluxRelease {
		t.Errorf("embedded versions: %+v", b)
	}
}

// TestVersionCommand: one line of text by default, JSON on request, the
// same version as the JSON report's tool.version, usage error otherwise.
func TestVersionCommand(t *testing.T) {
	setLinked(t, "v9.8.7", "abc", "2026-01-02T03:04:05Z")
	code, out, _ := runCLI(t, "version")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "gitops-lint v9.8.7 (commit abc, 2026-01-02T03:04:05Z, go") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "version", "--format", "json")
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil {
		t.Fatalf("version --format json: exit %d, %v\n%s", code, err, out)
	}
	if b.Version != "v9.8.7" || b.Commit != "abc" || b.Flux != catalog.FluxRelease || len(b.Kubernetes) == 0 || b.GoVersion == "" {
		t.Errorf("version JSON: %s", out)
	}
	if Version() != "v9.8.7" {
		t.Errorf("Version() = %s, want the linked v9.8.7 (the reports' tool.version)", Version())
	}
	repo := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"kustomization.yaml": "resources: [cm.yaml]\n",
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n",
	})
	code, out, errOut := runCLI(t, "lint", repo, "--format", "json")
	var report struct {
		Tool struct{ Name, Version string } `json:"tool"`
	}
	if err := json.Unmarshal([]byte(out), &report); code != 0 || err != nil || report.Tool.Version != "v9.8.7" {
		t.Errorf("lint --format json: exit %d, %v, tool %+v, want version v9.8.7\n%s", code, err, report.Tool, errOut)
	}
	if code, _, errOut := runCLI(t, "version", "--format", "yaml"); code != 2 || !strings.Contains(errOut, "text or json") {
		t.Errorf("version --format yaml: exit %d, %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "--version"); code != 0 || out != "gitops-lint v9.8.7\n" {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}
