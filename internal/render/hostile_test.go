package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// writeTree writes files (path → content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const fluxKs = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`

const cm = `apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: default
data:
  key: value
`

// renderHostile renders dir and checks the invariants every hostile input
// must keep: no error return, no write to the tree, a bounded run time.
func renderHostile(t *testing.T, dir string) *Result {
	t.Helper()
	before := testutil.Snapshot(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Render(ctx, Options{Root: dir})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if after := testutil.Snapshot(t, dir); after != before {
		t.Errorf("the linted tree changed:\n%s", diffLines(before, after))
	}
	return res
}

func diffLines(a, b string) string {
	al := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		al[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !al[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

func wantFinding(t *testing.T, res *Result, rule, file string, line int) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Rule == rule && f.File == file && (line == 0 || f.Line == line) {
			return
		}
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Rule, f.Message))
	}
	t.Errorf("no %s finding at %s:%d; got:\n%s", rule, file, line, strings.Join(got, "\n"))
}

func TestHostileSymlinkOutside(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- passwd.yaml\n",
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
	})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "apps", "passwd.yaml")); err != nil {
		t.Skip(err)
	}
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RulePathEscape, "apps/passwd.yaml", 1)
	wantFinding(t, res, finding.RuleRenderError, "clusters/dev/apps.yaml", 0)
}

func TestHostileParentTraversal(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- ../../../../etc\n",
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RulePathEscape, "clusters/dev/apps.yaml", 0)
}

func TestHostileSpecPathEscape(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "../../etc"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RulePathEscape, "clusters/dev/apps.yaml", 8)
}

func TestHostileRemoteBase(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- cm.yaml\n- https://github.com/example/repo//deploy?ref=v1.0.0\n",
		"apps/cm.yaml":                            fmt.Sprintf(cm, "a"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleRemoteBase, "apps/kustomization.yaml", 3)
}

func TestHostileRemoteFile(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- cm.yaml\npatches:\n- path: http://127.0.0.1:1/patch.yaml\n",
		"apps/cm.yaml":                            fmt.Sprintf(cm, "a"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleRemoteBase, "apps/kustomization.yaml", 4)
}

func TestHostileKRMExecFunction(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "executed")
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
		"apps/cm.yaml":                            fmt.Sprintf(cm, "a"),
		"apps/fn.yaml": `apiVersion: example.com/v1
kind: Evil
metadata:
  name: evil
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: /bin/sh
        args: ["-c", "touch ` + marker + `"]
`,
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleRenderError, "clusters/dev/apps.yaml", 0)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the KRM exec function ran")
	}
}

func TestHostileAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "  %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/bomb.yaml":                          b.String(),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleYAMLSyntax, "apps/bomb.yaml", 1)
}

func TestHostileHugeFile(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 50<<20; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: %s\n", i, strings.Repeat("x", 4000))
	}
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/huge.yaml":                          b.String(),
		"apps/cm.yaml":                            fmt.Sprintf(cm, "small"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleYAMLSyntax, "apps/huge.yaml", 1)
}

func TestHostileBinaryYAML(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/blob.yaml":                          "apiVersion: v1\nkind: ConfigMap\n\x00\x01\x02\xff\xfe",
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleYAMLSyntax, "apps/blob.yaml", 3)
}

func TestHostileDuplicateKeys(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		"apps/dup.yaml":                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  name: again\n",
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleYAMLSyntax, "apps/dup.yaml", 5)
}

func TestHostileSelfInclusion(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(fluxKs, "apps", "./apps"),
		// a kustomization listing itself, and two Flux Kustomizations
		// whose paths contain each other
		"apps/kustomization.yaml": "resources:\n- .\n",
		"loop/a/ks.yaml":          fmt.Sprintf(fluxKs, "loop-a", "./loop/b"),
		"loop/b/ks.yaml":          fmt.Sprintf(fluxKs, "loop-b", "./loop/a"),
		"clusters/dev/loop.yaml":  fmt.Sprintf(fluxKs, "loop", "./loop/a"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, finding.RuleRenderError, "clusters/dev/apps.yaml", 0)
	if n := len(res.Environments[0].Kustomizations); n != 5 {
		t.Errorf("got %d Kustomizations, want 5 (root, apps, loop, loop-a, loop-b)", n)
	}
}

func TestRemoteDetection(t *testing.T) {
	for _, tc := range []struct {
		ref    string
		remote bool
	}{
		{"https://github.com/example/repo//deploy?ref=v1", true},
		{"http://example.com/manifest.yaml", true},
		{"github.com/example/repo/deploy?ref=main", true},
		{"GitHub.com:example/repo", true},
		{"git@gitlab.example.com:org/repo.git//base", true},
		{"deploy@host.example.com:org/repo", true},
		{"ssh://git@example.com/org/repo", true},
		{"git::https://example.com/org/repo", true},
		{"file:///srv/git/repo", true},
		{"../base", false},
		{"./components/foo.git", false},
		{"base", false},
		{"overlays/prod?x", false},
	} {
		if got := remoteRe.MatchString(tc.ref); got != tc.remote {
			t.Errorf("%q: remote=%v, want %v", tc.ref, got, tc.remote)
		}
	}
}
