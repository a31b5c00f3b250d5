package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

func TestParse(t *testing.T) {
	const dir = "/repo"
	tests := []struct {
		name    string
		yaml    string
		want    *File
		wantErr string
	}{
		{name: "empty", yaml: "", want: &File{}},
		{name: "comments only", yaml: "# nothing\n", want: &File{}},
		{name: "null document", yaml: "~\n", want: &File{}},
		{
			name: "every key",
			yaml: `format: [text, json=out/report.json]
failOn: warning
environments:
  - name: dev
    path: clusters/dev/
    branch: dev
  - {name: prod, path: clusters/prod}
sources:
  flux-system/apps: ../apps
  https://example.com/infra.git: /abs/infra
platform: ../platform
workers: 4
rules:
  policy/image-pinned: {severity: info}
  schema/unknown-kind: {disabled: true}
  policy/no-loadbalancer:
    params: {allowedLoadBalancerNamespaces: [ingress]}
ignore:
  - {rule: policy/resource-requests, path: "legacy/**", reason: old apps}
promotion: dev,main
provides:
  - kind: MyDB
    group: example.com
    produces: {kind: Secret, nameFrom: spec.credentialsSecret}
  - produces: {kind: Secret, name: cluster-vars, namespace: flux-system}
`,
			want: &File{
				Format: []string{"text", "json=out/report.json"},
				FailOn: finding.FailOnWarning,
				Environments: []Environment{
					{Name: "dev", Path: "clusters/dev", Branch: "dev"},
					{Name: "prod", Path: "clusters/prod"},
				},
				Sources:  map[string]string{"flux-system/apps": "/apps", "https://example.com/infra.git": "/abs/infra"},
				Platform: "/platform",
				Workers:  4,
				Rules: map[string]finding.RuleSetting{
					"policy/image-pinned":    {Severity: finding.Info},
					"schema/unknown-kind":    {Disabled: true},
					"policy/no-loadbalancer": {Params: map[string]any{"allowedLoadBalancerNamespaces": []any{"ingress"}}},
				},
				Ignore:    []finding.IgnoreEntry{{Rule: "policy/resource-requests", Path: "legacy/**", Reason: "old apps"}},
				Promotion: []string{"dev", "main"},
				Provides: []Provide{
					{Kind: "MyDB", Group: "example.com", Produces: Produced{Kind: "Secret", NameFrom: "spec.credentialsSecret"}},
					{Produces: Produced{Kind: "Secret", Name: "cluster-vars", Namespace: "flux-system"}},
				},
			},
		},
		{name: "provides without produces kind", yaml: "provides:\n  - kind: MyDB\n    produces: {name: x}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: produces needs a kind (the kind of the object made, e.g. Secret)`},
		{name: "provides entry without produces", yaml: "provides:\n  - {kind: A}\n  - {kind: MyDB, produces: {kind: Secret, name: a, nameFrom: spec.b}}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: produces needs a kind (the kind of the object made, e.g. Secret)`},
		{name: "provides both names", yaml: "provides:\n  - {kind: MyDB, produces: {kind: Secret, name: a, nameFrom: spec.b}}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: produces takes name or nameFrom, not both`},
		{name: "provides outside git without name", yaml: "provides:\n  - {produces: {kind: Secret}}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: an object that exists outside git needs produces.name (or give the producer's kind)`},
		{name: "provides bad nameFrom", yaml: "provides:\n  - {kind: MyDB, produces: {kind: Secret, nameFrom: spec..b}}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: nameFrom "spec..b" must be a dotted field path such as spec.secretName`},
		{name: "provides unknown field", yaml: "provides:\n  - {kind: MyDB, produce: {kind: Secret}}\n", wantErr: "/repo/.gitops-lint.yaml:2: field produce not found in type config.Provide"},
		{name: "bad rule severity", yaml: "rules:\n  policy/x: {severity: loud}\n", wantErr: `/repo/.gitops-lint.yaml:2: rules: policy/x: unknown severity "loud" (want error, warning or info)`},
		{name: "empty ignore entry", yaml: "ignore:\n  - {reason: x}\n", wantErr: `/repo/.gitops-lint.yaml:2: ignore entry 1 needs a rule, a path glob, or both`},
		{name: "format as a single string", yaml: "format: json\n", want: &File{Format: []string{"json"}}},
		{name: "unknown key", yaml: "failOn: error\nfialOn: warning\n", wantErr: `/repo/.gitops-lint.yaml:2: unknown key "fialOn" (known keys: crdDirs, environments, failOn, format, ignore, kubernetesVersion, platform, promotion, provides, rbacDirs, rules, sources, workers)`},
		{name: "duplicate key", yaml: "workers: 1\nworkers: 2\n", wantErr: `/repo/.gitops-lint.yaml:2: key "workers" is already set above`},
		{name: "unknown environment key", yaml: "environments:\n  - name: dev\n    dir: x\n", wantErr: `/repo/.gitops-lint.yaml:3: unknown environment key "dir" (known keys: branch, name, path)`},
		{name: "environment without path", yaml: "environments:\n  - name: dev\n", wantErr: `/repo/.gitops-lint.yaml:2: environment "dev" needs a path (its entry directory, relative to the repository)`},
		{name: "environment declared twice", yaml: "environments:\n  - {name: dev, path: a}\n  - {name: dev, path: b}\n", wantErr: `/repo/.gitops-lint.yaml:3: environment "dev" is declared twice`},
		{name: "environments not a list", yaml: "environments: dev\n", wantErr: `/repo/.gitops-lint.yaml:1: environments must be a list of {name, path, branch}`},
		{name: "bad failOn", yaml: "\nfailOn: sometimes\n", wantErr: `/repo/.gitops-lint.yaml:2: invalid failOn "sometimes" (want error, warning or never)`},
		{name: "workers not a number", yaml: "workers: many\n", wantErr: "/repo/.gitops-lint.yaml:1: cannot unmarshal !!str `many` into int"},
		{name: "negative workers", yaml: "workers: -1\n", wantErr: `/repo/.gitops-lint.yaml:1: workers must be 0 (one per CPU) or more, not -1`},
		{name: "sources not a map", yaml: "sources: [a]\n", wantErr: "/repo/.gitops-lint.yaml:1: cannot unmarshal !!seq into map[string]string"},
		{name: "not a mapping", yaml: "- a\n", wantErr: `/repo/.gitops-lint.yaml:1: the config must be a mapping of keys (crdDirs, environments, failOn, format, ignore, kubernetesVersion, platform, promotion, provides, rbacDirs, rules, sources, workers)`},
		{name: "syntax error", yaml: "failOn: [\n", wantErr: `/repo/.gitops-lint.yaml:1: did not find expected node content`},
		{name: "two documents", yaml: "workers: 1\n---\nworkers: 2\n", wantErr: `/repo/.gitops-lint.yaml:2: a config file holds one YAML document; remove the extra '---'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(filepath.Join(dir, FileName), dir, []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse: no error, want %q", tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("Parse error:\n got %q\nwant %q", err, tt.wantErr)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("Parse error is %T, want *config.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got.Path, got.Dir, got.lines, got.ruleLines, got.ignoreLines = "", "", nil, nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFileLines(t *testing.T) {
	f, err := Parse("c.yaml", "/", []byte("workers: 2\n\nformat:\n  - text\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Has(KeyWorkers) || f.Has(KeyFailOn) {
		t.Errorf("Has: workers=%v failOn=%v, want true false", f.Has(KeyWorkers), f.Has(KeyFailOn))
	}
	if got := f.Line(KeyFormat); got != 4 {
		t.Errorf("Line(format) = %d, want 4 (the line of the value)", got)
	}
	if got := f.Errorf(KeyFormat, "bad %s", "thing").Error(); got != "c.yaml:4: bad thing" {
		t.Errorf("Errorf = %q", got)
	}
	var nilFile *File
	if nilFile.Has(KeyFormat) || nilFile.Line(KeyFormat) != 0 {
		t.Error("a nil *File must report no keys")
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	touch := func(p string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// outer/.gitops-lint.yaml
	// outer/repo/.git/
	// outer/repo/a/b/
	// outer/repo/c/.gitops-lint.yaml
	// outer/plain/d/
	mk("outer/repo/.git")
	mk("outer/repo/a/b")
	mk("outer/repo/c")
	mk("outer/plain/d")
	touch("outer/" + FileName)
	touch("outer/repo/c/" + FileName)

	tests := []struct {
		start, want string
	}{
		{"outer/repo/c", "outer/repo/c/" + FileName},
		{"outer/repo/a/b", ""},                 // stops at the repository root
		{"outer/plain/d", "outer/" + FileName}, // no .git: keeps going up
		{"outer", "outer/" + FileName},
	}
	for _, tt := range tests {
		got, err := Find(filepath.Join(root, tt.start))
		if err != nil {
			t.Fatalf("Find(%s): %v", tt.start, err)
		}
		want := ""
		if tt.want != "" {
			want = filepath.Join(root, tt.want)
		}
		if got != want {
			t.Errorf("Find(%s) = %q, want %q", tt.start, got, want)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load of a missing file: %v (%T), want *config.Error", err, err)
	}
}

// TestCheckRuleIDs: a rules: key or an ignore entry naming a rule nothing
// reports is refused at its line, with the nearest id as a hint; known
// ids pass.
func TestCheckRuleIDs(t *testing.T) {
	known := []finding.Rule{{ID: "schema/invalid"}, {ID: "policy/no-loadbalancer"}, {ID: "render/error"}}
	f, err := Parse(".gitops-lint.yaml", "/repo", []byte("rules:\n  schema/invalid:\n    severity: warning\n  policy/no-loadbalancr:\n    disabled: true\nignore:\n  - rule: render/error\n  - rule: nothing/like-it\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = f.CheckRuleIDs(known)
	if err == nil || err.Error() != `.gitops-lint.yaml:4: rules: unknown rule "policy/no-loadbalancr" (did you mean "policy/no-loadbalancer"?); `+"`gitops-lint rules`"+` lists them all` {
		t.Errorf("got %v", err)
	}
	delete(f.Rules, "policy/no-loadbalancr")
	err = f.CheckRuleIDs(known)
	if err == nil || !strings.HasPrefix(err.Error(), `.gitops-lint.yaml:8: ignore entry 2: unknown rule "nothing/like-it";`) {
		t.Errorf("an unknown ignore rule with nothing near: got %v", err)
	}
	f.Ignore = f.Ignore[:1]
	if err := f.CheckRuleIDs(known); err != nil {
		t.Errorf("known ids refused: %v", err)
	}
}
