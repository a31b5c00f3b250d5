package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The GitHub Action and the Azure DevOps template install gitops-lint with
// install.sh. These tests take their install steps out of action.yml and
// ci/azure-pipelines/gitops-lint.yml as written, fill in the expressions the
// CI system would, and run them against the fake release.

// step is a CI step: GitHub's run or Azure's bash, and its env.
type step struct {
	Name        string            `yaml:"name"`
	ID          string            `yaml:"id"`
	DisplayName string            `yaml:"displayName"`
	Run         string            `yaml:"run"`
	Bash        string            `yaml:"bash"`
	Env         map[string]string `yaml:"env"`
}

// findSteps returns every mapping under node that looks like a step
// (Azure's ${{ if }} blocks nest them).
func findSteps(t *testing.T, node *yaml.Node, out *[]step) {
	t.Helper()
	if node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if k := node.Content[i].Value; k == "run" || k == "bash" {
				var s step
				if err := node.Decode(&s); err != nil {
					t.Fatal(err)
				}
				*out = append(*out, s)
			}
		}
	}
	for _, c := range node.Content {
		findSteps(t, c, out)
	}
}

func stepsOf(t *testing.T, file string) []step {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var steps []step
	findSteps(t, &doc, &steps)
	return steps
}

func findStep(t *testing.T, steps []step, match func(step) bool) step {
	t.Helper()
	for _, s := range steps {
		if match(s) {
			return s
		}
	}
	t.Fatal("step not found")
	return step{}
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}|\$\(([A-Za-z.]+)\)`)

// expand replaces the CI expressions of s with values; an expression the
// test does not know fails it (the step changed: update the test).
func expand(t *testing.T, s string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		sub := expression.FindStringSubmatch(m)
		key := sub[1] + sub[2]
		v, ok := values[key]
		if !ok {
			t.Fatalf("unknown expression %s in a step: teach the test its value", m)
		}
		return v
	})
}

// runStep runs a step's script with bash and the step's env (expanded).
func runStep(t *testing.T, script string, env map[string]string, values map[string]string, extra ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extra...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+expand(t, v, values))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestActionInstallStep runs action.yml's version resolution and install
// steps: the action's tag picks the release, the verified archive is
// installed and put on GITHUB_PATH, and a bad checksum fails the step.
func TestActionInstallStep(t *testing.T) {
	needTools(t)
	steps := stepsOf(t, "action.yml")

	resolve := findStep(t, steps, func(s step) bool { return s.ID == "resolve" })
	pinned := resolve.Env["PINNED"]
	if pinned == "" {
		t.Fatal("the resolve step has no PINNED version")
	}
	for _, tc := range []struct{ input, ref, want string }{
		{"", "v1.4.2", "v1.4.2"},
		{"", "v1.5.0-rc.1", "v1.5.0-rc.1"},
		{"", "v1", pinned},
		{"", "main", pinned},
		{"", "", pinned},
		{"v2.0.0", "v1.4.2", "v2.0.0"},
	} {
		out := filepath.Join(t.TempDir(), "output")
		code, _, stderr := runStep(t, resolve.Run, resolve.Env, map[string]string{
			"inputs.version": tc.input, "github.action_ref": tc.ref,
		}, "GITHUB_OUTPUT="+out)
		b, _ := os.ReadFile(out)
		if code != 0 || string(b) != "version="+tc.want+"\n" {
			t.Errorf("version %q at ref %q: exit %d, output %q, want %s\n%s", tc.input, tc.ref, code, b, tc.want, stderr)
		}
	}

	install := findStep(t, steps, func(s step) bool { return s.Name == "Install gitops-lint" })
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	run := func(srvURL string) (int, string, string, string, string) {
		temp := t.TempDir()
		githubPath := filepath.Join(temp, "github_path")
		values := map[string]string{
			"steps.resolve.outputs.version": "v" + fakeVersion,
			"inputs.go-install":             "false",
			"runner.temp":                   temp,
		}
		code, stdout, stderr := runStep(t, install.Run, install.Env, values,
			"GITHUB_ACTION_PATH="+repo, "GITHUB_PATH="+githubPath,
			"GITOPS_LINT_RELEASE_URL="+srvURL+"/releases", "GITOPS_LINT_OS=linux", "GITOPS_LINT_ARCH=amd64")
		b, _ := os.ReadFile(githubPath)
		return code, stdout, stderr, string(b), temp
	}

	_, srv, _ := newRelease(t, goodChecksums)
	code, stdout, stderr, path, temp := run(srv.URL)
	if code != 0 || strings.TrimSpace(path) != filepath.Join(temp, "gitops-lint-bin") || !strings.Contains(stdout, stubOutput+" version") {
		t.Fatalf("install step: exit %d, GITHUB_PATH %q\nstdout %s\nstderr %s", code, path, stdout, stderr)
	}
	runStub(t, filepath.Join(temp, "gitops-lint-bin", "gitops-lint"))
	if _, err := os.Stat(filepath.Join(temp, "gitops-lint-archives", fakeArchive)); err != nil {
		t.Errorf("the archive is not in the directory actions/cache saves: %v", err)
	}

	_, bad, _ := newRelease(t, func(a []byte) string { return sum(append(a, 1)) + "  " + fakeArchive + "\n" })
	code, _, stderr, path, temp = run(bad.URL)
	if code == 0 || path != "" || !strings.Contains(stderr, "SHA-256 mismatch") {
		t.Errorf("bad checksum: exit %d, GITHUB_PATH %q\n%s", code, path, stderr)
	}
	if _, err := os.Stat(filepath.Join(temp, "gitops-lint-bin", "gitops-lint")); err == nil {
		t.Error("bad checksum: a binary was installed")
	}
}

// TestAzureInstallStep runs the Azure DevOps template's install step: it
// downloads install.sh from the release, verifies it against checksums.txt,
// runs it, and prepends the binary's directory to PATH with a logging
// command; a tampered install.sh is never run.
func TestAzureInstallStep(t *testing.T) {
	needTools(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the Azure template downloads with curl, which is not on PATH")
	}
	install := findStep(t, stepsOf(t, "ci/azure-pipelines/gitops-lint.yml"), func(s step) bool {
		return strings.HasPrefix(s.DisplayName, "Install gitops-lint")
	})
	script, err := os.ReadFile("install.sh")
	if err != nil {
		t.Fatal(err)
	}
	run := func(installSh []byte, listed []byte) (int, string, string, string) {
		rel, srv, archive := newRelease(t, goodChecksums)
		dir := "/releases/download/v" + fakeVersion
		rel.set(dir+"/install.sh", installSh)
		rel.set(dir+"/checksums.txt", []byte(goodChecksums(archive)+sum(listed)+"  install.sh\n"))
		ws, tmp := t.TempDir(), t.TempDir()
		code, stdout, stderr := runStep(t, install.Bash, install.Env, map[string]string{
			"parameters.version":          fakeVersion,
			"lower(parameters.goInstall)": "false",
			"Pipeline.Workspace":          ws,
			"Agent.TempDirectory":         tmp,
		}, "GITOPS_LINT_RELEASE_URL="+srv.URL+"/releases", "GITOPS_LINT_OS=linux", "GITOPS_LINT_ARCH=amd64")
		return code, stdout, stderr, tmp
	}

	code, stdout, stderr, tmp := run(script, script)
	bin := filepath.Join(tmp, "gitops-lint-bin")
	if code != 0 || !strings.Contains(stdout, "##vso[task.prependpath]"+bin+"\n") || !strings.Contains(stdout, stubOutput+" version") {
		t.Fatalf("install step: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	runStub(t, filepath.Join(bin, "gitops-lint"))

	evil := []byte("#!/bin/sh\necho installed anyway\n")
	code, stdout, _, tmp = run(evil, script)
	if code == 0 || strings.Contains(stdout, "installed anyway") || !strings.Contains(stdout, "does not match the release's checksums.txt") {
		t.Errorf("tampered install.sh: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(tmp, "gitops-lint-bin")); err == nil {
		t.Error("tampered install.sh: something was installed")
	}
}

// TestPinRelease: the three integrations that cannot know their own tag
// are pinned to the same version, and scripts/pin-release.sh pins all three
// (on a copy) so that the Action at a floating tag, the Azure template's
// default and the docker hook name the release.
func TestPinRelease(t *testing.T) {
	needTools(t)
	files := []string{"action.yml", "ci/azure-pipelines/gitops-lint.yml", ".pre-commit-hooks.yaml"}
	pin := regexp.MustCompile(`[:\s](latest|v[0-9][^\s]*) # release-pin\n`)
	pins := func(root string) []string {
		var out []string
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			m := pin.FindAllSubmatch(b, -1)
			if len(m) != 1 {
				t.Fatalf("%s: %d lines marked # release-pin, want 1", f, len(m))
			}
			out = append(out, string(m[0][1]))
		}
		return out
	}
	if got := pins(".."); got[0] != got[1] || got[1] != got[2] {
		t.Errorf("the integrations are pinned to different versions: %v (scripts/pin-release.sh)", got)
	}

	root := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"v1.2.3", "v1.3.0-rc.1"} {
		cmd := exec.Command("bash", "pin-release.sh", v)
		cmd.Env = append(os.Environ(), "PIN_ROOT="+root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pin-release.sh %s: %v\n%s", v, err, out)
		}
		if got := pins(root); got[0] != v || got[1] != v || got[2] != v {
			t.Errorf("pinned %s, files say %v", v, got)
		}
	}
	cmd := exec.Command("bash", "pin-release.sh", "1.2")
	cmd.Env = append(os.Environ(), "PIN_ROOT="+root)
	if err := cmd.Run(); err == nil {
		t.Error("pin-release.sh accepted 1.2")
	}
}
