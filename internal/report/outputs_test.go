package report

// Tests of the kinds of output besides findings: diff, rules and graph.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/diff"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

func output[T any](t *testing.T, k *Kind[T], format string, v T, opts ...Option) []byte {
	t.Helper()
	p, err := k.New(format, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./internal/report/ -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func diffObj(apiVersion, kind, ns, name string, extra map[string]any) *render.Object {
	md := map[string]any{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	c := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
	for k, v := range extra {
		c[k] = v
	}
	return &render.Object{Content: c}
}

func diffEnv(name string, ks ...*render.Kustomization) *render.Environment {
	return &render.Environment{Name: name, Kustomizations: ks}
}

func diffKs(ns, name string, objs ...*render.Object) *render.Kustomization {
	return &render.Kustomization{Namespace: ns, Name: name, Rendered: true, Objects: objs}
}

func compare(t *testing.T, base, head *render.Result) *diff.Report {
	t.Helper()
	rep, err := diff.Compare(base, head, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep.Tool = diff.Tool{Name: "gitops-lint", Version: "v0.0.0-test"}
	return rep
}

// diffFixture covers changed, added and removed objects, Kustomizations
// and environments, an unchanged environment, a Kustomization that does
// not render at head, a masked Secret, and YAML with what ordinary
// manifests hold that escapers care about: & | < > \ # ` : and non-ASCII.
func diffFixture(t *testing.T) *diff.Report {
	deploy := func(replicas int, image string) *render.Object {
		return diffObj("apps/v1", "Deployment", "app", "web", map[string]any{"spec": map[string]any{
			"replicas": replicas,
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": image}}}},
		}})
	}
	cm := func(data map[string]any) *render.Object {
		return diffObj("v1", "ConfigMap", "app", "settings", map[string]any{"data": data})
	}
	secret := func(pw string) *render.Object {
		return diffObj("v1", "Secret", "app", "creds", map[string]any{"stringData": map[string]any{"password": pw}})
	}
	broken := diffKs("flux-system", "infra")
	broken.Rendered = false
	base := &render.Result{Environments: []*render.Environment{
		diffEnv("dev",
			diffKs("flux-system", "apps", deploy(1, "web:1.0"), cm(map[string]any{"COLOR": "#fff", "RANGE": "a < b & b > c"}), secret("hunter2"),
				diffObj("v1", "Service", "app", "old", nil)),
			diffKs("flux-system", "gone", diffObj("v1", "Namespace", "", "gone", nil))),
		diffEnv("old-env", diffKs("flux-system", "x", diffObj("v1", "Namespace", "", "x", nil))),
		diffEnv("prod", diffKs("flux-system", "apps", deploy(3, "web:1.0"))),
		diffEnv("test", diffKs("flux-system", "infra", diffObj("v1", "Namespace", "", "infra", nil))),
	}}
	head := &render.Result{Environments: []*render.Environment{
		diffEnv("dev",
			diffKs("flux-system", "apps", deploy(2, "web:1.1"), cm(map[string]any{
				"COLOR":  "#fff",
				"RANGE":  "a < b & b > c | d",
				"REGEX":  `^\d+\.\d+$`,
				"PATH":   `C:\temp\new`,
				"SCRIPT": "echo \"hi\\n\" # déjà vu → ok\nrun `date` ```\n  key: value\n",
			}), secret("hunter3"),
				diffObj("v1", "Service", "app", "new", nil)),
			diffKs("flux-system", "fresh", diffObj("v1", "Namespace", "", "fresh", nil))),
		diffEnv("new-env", diffKs("flux-system", "x", diffObj("v1", "Namespace", "", "x", nil))),
		diffEnv("prod", diffKs("flux-system", "apps", deploy(3, "web:1.0"))),
		diffEnv("test", broken),
	}}
	rep := compare(t, base, head)
	rep.Base, rep.BaseCommit = "origin/main", "0123456789abcdef0123456789abcdef01234567"
	rep.Head, rep.HeadCommit = "feature", "89abcdef0123456789abcdef0123456789abcdef"
	return rep
}

func TestDiffGolden(t *testing.T) {
	rep := diffFixture(t)
	promotion := diffFixture(t)
	promotion.Promotion, promotion.Base, promotion.Head = "dev:test", "test", "dev"
	worktree := diffFixture(t)
	worktree.Head, worktree.HeadCommit = "", ""
	tests := []struct {
		golden, format string
		opts           []Option
		report         *diff.Report
	}{
		{"diff-text.golden", "text", nil, rep},
		{"diff-text-color.golden", "text", []Option{WithColor(true)}, rep},
		{"diff-text-promotion.golden", "text", nil, promotion},
		{"diff-markdown.golden", "markdown", nil, rep},
		{"diff-markdown-worktree.golden", "markdown", nil, worktree},
		{"diff-json.golden", "json", nil, rep},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			golden(t, tt.golden, output(t, Diff, tt.format, tt.report, tt.opts...))
		})
	}
}

func TestDiffMasksSecretValues(t *testing.T) {
	sec := func(pw string) *render.Object {
		return diffObj("v1", "Secret", "app", "creds", map[string]any{
			"stringData": map[string]any{"password": pw, "user": "admin-user-value"},
		})
	}
	base := &render.Result{Environments: []*render.Environment{diffEnv("dev", diffKs("flux-system", "apps", sec("old-secret-value")))}}
	head := &render.Result{Environments: []*render.Environment{diffEnv("dev", diffKs("flux-system", "apps", sec("new-secret-value"),
		diffObj("v1", "Secret", "app", "fresh", map[string]any{"data": map[string]any{"k": "dG9wc2VjcmV0"}})))}}
	rep := compare(t, base, head)
	out := map[string]string{}
	for _, format := range Diff.Formats() {
		out[string(format)] = string(output(t, Diff, string(format), rep))
	}
	for name, out := range out {
		for _, secret := range []string{"old-secret-value", "new-secret-value", "admin-user-value", "dG9wc2VjcmV0"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output leaks %q:\n%s", name, secret, out)
			}
		}
	}
	for _, want := range []string{
		"~ changed Secret/app/creds",
		"-  password: <masked>",
		"+  password: '<masked: changed>'",
		"   user: <masked>",
		"+ added Secret/app/fresh",
		"dev: 1 changed, 1 added, 0 removed",
	} {
		if !strings.Contains(out["text"], want) {
			t.Errorf("text output lacks %q:\n%s", want, out["text"])
		}
	}
	var back diff.Report
	if err := json.Unmarshal([]byte(out["json"]), &back); err != nil || back.SchemaVersion != diff.SchemaVersion {
		t.Errorf("json round trip: %v %+v", err, back)
	}
}

func TestDiffMarkdownTrimmed(t *testing.T) {
	var objs []*render.Object
	for i := range 400 {
		objs = append(objs, diffObj("v1", "ConfigMap", "app", "cm-"+strings.Repeat("x", 3)+string(rune('a'+i%26))+string(rune('a'+i/26)),
			map[string]any{"data": map[string]any{"blob": strings.Repeat("line\n", 40)}}))
	}
	rep := compare(t, &render.Result{Environments: []*render.Environment{diffEnv("dev")}},
		&render.Result{Environments: []*render.Environment{diffEnv("dev", diffKs("flux-system", "apps", objs...))}})
	out := string(output(t, Diff, "markdown", rep))
	if len(out) >= MarkdownLimit {
		t.Errorf("markdown is %d characters, want < %d", len(out), MarkdownLimit)
	}
	if !strings.Contains(out, "… trimmed, ") || !strings.Contains(out, " more changes not shown") {
		t.Errorf("no trim note in:\n%s", out[len(out)-500:])
	}
	if !strings.HasPrefix(out, "### gitops-lint diff") || strings.Count(out, "<details>") != 1 || strings.Count(out, "</details>") != 1 {
		t.Errorf("bad structure")
	}
}

// hostileDiff is a diff whose revisions, environment, Kustomization and
// object names and whose diff lines are hostile. (The YAML encoder refuses
// control characters, so diff.Compare cannot make it: it is built here.)
func hostileDiff() *diff.Report {
	var d strings.Builder
	d.WriteString("--- base/" + hostile(0) + "\n+++ head/" + hostile(1) + "\n@@ -1,9 +1,9 @@\n")
	for i := range hostileStarts {
		for _, prefix := range []string{" ", "+", "-", ""} {
			for _, line := range strings.Split(hostile(i), "\n") {
				d.WriteString(prefix + line + "\n")
			}
		}
	}
	change := func(kind diff.ChangeKind, i int) *diff.Change {
		return &diff.Change{Kind: kind, Object: diff.ObjectRef{APIVersion: hostile(i), Kind: hostile(i + 1), Namespace: hostile(i + 2), Name: hostile(i + 3)},
			File: hostile(i + 4), Line: 1, Diff: d.String()}
	}
	return &diff.Report{
		SchemaVersion: diff.SchemaVersion, Tool: diff.Tool{Name: "gitops-lint", Version: "v0.0.0-test"},
		Base: hostile(0), Head: hostile(1), Promotion: hostile(2),
		Summary: diff.Summary{Environments: 3, Changed: 1, Added: 1, Removed: 1},
		Environments: []*diff.Environment{
			{Name: hostile(1), Status: diff.Changed, Changed: 1, Added: 1, Removed: 1, Kustomizations: []*diff.Kustomization{
				{Namespace: hostile(2), Name: hostile(3), Status: diff.Changed, Changes: []*diff.Change{
					change(diff.Changed, 0), change(diff.Added, 1), change(diff.Removed, 2)}},
				{Namespace: hostile(3), Name: hostile(4), Status: diff.Changed, Note: hostile(0)},
				{Namespace: hostile(4), Name: hostile(0), Status: diff.Added},
			}},
			{Name: hostile(2)},
			{Name: hostile(3), Status: diff.Removed, Kustomizations: []*diff.Kustomization{}},
		},
	}
}

func hostileGraphs() []*converge.Graph {
	return []*converge.Graph{{Environment: hostile(0), Nodes: []converge.GraphNode{
		{ID: "Kustomization/" + hostile(1), DependsOn: []string{"Kustomization/" + hostile(2), hostile(3)}, Bound: time.Minute},
		{ID: "Kustomization/" + hostile(2), Bound: time.Minute},
		{ID: hostile(4)},
	}}}
}

func hostileRules() []finding.Rule {
	return []finding.Rule{
		{ID: hostile(0), Severity: finding.Severity(hostile(1)), Help: hostile(2), Remediation: hostile(3)},
		{ID: "ok/rule", Severity: finding.Warning, Help: hostile(4), Remediation: "none"},
	}
}

// TestHostileOutputs: the diff, rules and graph outputs are as safe as a
// findings report in every display format; JSON keeps the exact values.
func TestHostileOutputs(t *testing.T) {
	d := hostileDiff()
	for _, format := range Diff.Formats() {
		checkDisplay(t, string(output(t, Diff, string(format), d)), false, none)
	}
	checkDisplay(t, string(output(t, Diff, "text", d, WithColor(true))), true, none)
	var back diff.Report
	if err := json.Unmarshal(output(t, Diff, "json", d), &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.Environments[0].Kustomizations[0].Changes[0].Diff, d.Environments[0].Kustomizations[0].Changes[0].Diff; got != want {
		t.Errorf("json diff does not round-trip:\n got %q\nwant %q", got, want)
	}

	rules := hostileRules()
	for _, format := range Rules.Formats() {
		checkDisplay(t, string(output(t, Rules, string(format), rules)), false, none)
	}
	var backRules []finding.Rule
	if err := json.Unmarshal(output(t, Rules, "json", rules), &backRules); err != nil || backRules[0] != rules[0] {
		t.Errorf("json rules do not round-trip: %v %+v", err, backRules)
	}

	for _, format := range Graph.Formats() {
		checkDisplay(t, string(output(t, Graph, string(format), hostileGraphs())), false, none)
	}
}

// TestDiffLinesReadable: a diff line is escaped only where it must be.
func TestDiffLinesReadable(t *testing.T) {
	tests := []struct{ in, want string }{
		{`+  regex: ^\d+\.\d+$`, `+  regex: ^\d+\.\d+$`},
		{`+  path: C:\temp\new`, `+  path: C:\temp\new`},
		{`   msg: "line\nnext \x1b"`, `   msg: "line\nnext \x1b"`},
		{"+  color: '#fff' # ok", "+  color: '#fff' # ok"},
		{"+  é → ✓ 👩‍💻", "+  é → ✓ 👩‍💻"},
		{"+    ::error::x", "+    ::error::x"}, // not first on the line
		{"     ::error::x", `     \x3a:error::x`},
		{"+  a: ##vso[task.complete]", `+  a: \x23#vso[task.complete]`},
		{"+  a: ##[error]", `+  a: \x23#[error]`},
		{"+  a: \x1b[31mred\u202e\t", `+  a: \x1b[31mred\u202e\t`},
	}
	for _, tt := range tests {
		if got := escapeCode(tt.in); got != tt.want {
			t.Errorf("escapeCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRulesGolden(t *testing.T) {
	rules := []finding.Rule{
		{ID: "render/error", Severity: finding.Error, Help: "kustomize-controller would fail to build the Kustomization.",
			Remediation: "Run `gitops-lint render --kustomization NS/NAME` and fix it."},
		{ID: "render/source-missing", Severity: finding.Warning, Help: "A source is not available locally.", Remediation: "Pass --source NS/NAME=DIR."},
		{ID: "policy/pipes", Severity: finding.Info, Help: "A | B, in a table.", Remediation: "Prefer A → B."},
	}
	for _, format := range Rules.Formats() {
		t.Run(string(format), func(t *testing.T) {
			golden(t, "rules-"+string(format)+".golden", output(t, Rules, string(format), rules))
		})
	}
}

func graphFixture() []*converge.Graph {
	return []*converge.Graph{
		{Environment: "dev", Nodes: []converge.GraphNode{
			{ID: "HelmRelease/monitoring/prometheus", DependsOn: []string{"HelmRelease/monitoring/crds"}, Bound: 5 * time.Minute},
			{ID: "HelmRelease/monitoring/crds", Bound: time.Minute},
			{ID: "Kustomization/flux-system/apps", DependsOn: []string{"Kustomization/flux-system/infra", "Kustomization/flux-system/missing"}, Bound: 10 * time.Minute},
			{ID: "Kustomization/flux-system/infra", Bound: 30 * time.Minute},
		}},
		{Environment: "empty"},
	}
}

func TestGraphGolden(t *testing.T) {
	for _, format := range Graph.Formats() {
		t.Run(string(format), func(t *testing.T) {
			golden(t, "graph-"+string(format)+".golden", output(t, Graph, string(format), graphFixture()))
		})
	}
}

// TestRegistry: every kind parses its own formats and no other, and says
// them as --help and usage errors do.
func TestRegistry(t *testing.T) {
	if got := Diff.Choices(); got != "text, markdown or json" {
		t.Errorf("Diff.Choices() = %q", got)
	}
	if got := Rules.Choices(); got != "text, json or markdown" {
		t.Errorf("Rules.Choices() = %q", got)
	}
	if got := Graph.Choices(); got != "text or dot" {
		t.Errorf("Graph.Choices() = %q", got)
	}
	if got := Findings.FormatList(); got != FormatList() || got != "text, json, sarif, junit, github, azure, markdown" {
		t.Errorf("Findings.FormatList() = %q", got)
	}
	if _, err := Graph.Parse("json"); err == nil {
		t.Error("Graph.Parse(json) succeeded")
	}
	if _, err := Diff.New("sarif"); err == nil {
		t.Error("Diff.New(sarif) succeeded")
	}
	if _, err := ParseFormat("dot"); err == nil {
		t.Error("ParseFormat(dot) succeeded: dot is not a findings format")
	}
}
