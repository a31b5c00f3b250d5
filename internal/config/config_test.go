package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

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
		{name: "provides unknown field", yaml: "provides:\n  - {kind: MyDB, produce: {kind: Secret}}\n", wantErr: `/repo/.gitops-lint.yaml:2: provides entry 1: unknown key "produce" (known keys: group, kind, produces)`},
		{name: "bad rule severity", yaml: "rules:\n  policy/x: {severity: loud}\n", wantErr: `/repo/.gitops-lint.yaml:2: rules: policy/x: unknown severity "loud" (want error, warning or info)`},
		{name: "empty ignore entry", yaml: "ignore:\n  - {reason: x}\n", wantErr: `/repo/.gitops-lint.yaml:2: ignore entry 1 needs a rule, a path glob, or both`},
		{name: "format as a single string", yaml: "format: json\n", want: &File{Format: []string{"json"}}},
		{name: "unknown key", yaml: "failOn: error\nfialOn: warning\n", wantErr: `/repo/.gitops-lint.yaml:2: unknown key "fialOn" (known keys: admissionDirs, crdDirs, environments, failOn, format, ignore, kubernetesVersion, platform, promotion, provides, rbacDirs, rules, sources, workers)`},
		{name: "duplicate key", yaml: "workers: 1\nworkers: 2\n", wantErr: `/repo/.gitops-lint.yaml:2: key "workers" is already set above`},
		{name: "unknown environment key", yaml: "environments:\n  - name: dev\n    dir: x\n", wantErr: `/repo/.gitops-lint.yaml:3: environments entry 1: unknown key "dir" (known keys: branch, name, path)`},
		{name: "environment without path", yaml: "environments:\n  - name: dev\n", wantErr: `/repo/.gitops-lint.yaml:2: environment "dev" needs a path (its entry directory, relative to the repository)`},
		{name: "environment declared twice", yaml: "environments:\n  - {name: dev, path: a}\n  - {name: dev, path: b}\n", wantErr: `/repo/.gitops-lint.yaml:3: environment "dev" is declared twice`},
		{name: "environments not a list", yaml: "environments: dev\n", wantErr: `/repo/.gitops-lint.yaml:1: environments: want a list of {name, path, branch}, got "dev"`},
		{name: "bad failOn", yaml: "\nfailOn: sometimes\n", wantErr: `/repo/.gitops-lint.yaml:2: invalid failOn "sometimes" (want error, warning or never)`},
		{name: "negative workers", yaml: "workers: -1\n", wantErr: `/repo/.gitops-lint.yaml:1: workers must be 0 (one per CPU) or more, not -1`},
		{name: "not a mapping", yaml: "- a\n", wantErr: `/repo/.gitops-lint.yaml:1: the config must be a mapping of keys (admissionDirs, crdDirs, environments, failOn, format, ignore, kubernetesVersion, platform, promotion, provides, rbacDirs, rules, sources, workers)`},
		{name: "syntax error", yaml: "failOn: [\n", wantErr: `/repo/.gitops-lint.yaml:1: did not find expected node content`},
		{name: "lists through aliases", yaml: "rules: {policy/x: {params: {e: &e [{name: dev, path: p}], p: &p [{produces: {kind: S, name: n}}]}}}\nenvironments: *e\nprovides: *p\n",
			want: &File{Environments: []Environment{{Name: "dev", Path: "p"}}, Provides: []Provide{{Produces: Produced{Kind: "S", Name: "n"}}},
				Rules: map[string]finding.RuleSetting{"policy/x": {Params: map[string]any{"e": []any{map[string]any{"name": "dev", "path": "p"}}, "p": []any{map[string]any{"produces": map[string]any{"kind": "S", "name": "n"}}}}}}}},
		{name: "an alias entry at the anchor's line", yaml: "rules: {policy/x: {params: {e: &e [{name: dev}]}}}\nenvironments: *e\n", wantErr: `/repo/.gitops-lint.yaml:1: environment "dev" needs a path (its entry directory, relative to the repository)`},
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

// TestParseWrongType: a value of the wrong type, for every key of the file
// and every key inside its entries, is a *config.Error at the value's line
// naming the key and the type wanted, never a Go decoding error.
func TestParseWrongType(t *testing.T) {
	tests := []struct{ yaml, want string }{
		// format
		{"format: {text: true}\n", `:1: format: want a format or a list of formats, such as text or json=report.json, got a mapping`},
		{"format:\n  - text\n  - [json]\n", `:3: format entry 2: want a format such as text or json=report.json, got a list`},
		{"format: [text, ~]\n", `:1: format entry 2: want a format such as text or json=report.json, got null`},
		// failOn
		{"failOn: [error]\n", `:1: failOn: want error, warning or never, got a list`},
		{"failOn: 5\n", `:1: invalid failOn "5" (want error, warning or never)`},
		// environments
		{"workers: 1\nenvironments: foo\n", `:2: environments: want a list of {name, path, branch}, got "foo"`},
		{"environments: {dev: clusters/dev}\n", `:1: environments: want a list of {name, path, branch}, got a mapping`},
		{"environments:\n  - dev\n", `:2: environments entry 1: want a mapping {branch, name, path}, got "dev"`},
		{"environments:\n  - name: [dev]\n    path: a\n", `:2: environments entry 1: name: want a string, got a list`},
		{"environments:\n  - name: dev\n    path: {a: b}\n", `:3: environments entry 1: path: want a directory, got a mapping`},
		{"environments:\n  - {name: dev, path: a, branch: [main]}\n", `:2: environments entry 1: branch: want a string, got a list`},
		{"environments:\n  - {name: dev, path: a, name: b}\n", `:2: environments entry 1: key "name" is already set above`},
		// sources
		{"sources: [a]\n", `:1: sources: want a mapping of sources (namespace/name or URL) to directories, got a list`},
		{"sources: ../apps\n", `:1: sources: want a mapping of sources (namespace/name or URL) to directories, got "../apps"`},
		{"sources:\n  flux-system/apps: [../apps]\n", `:2: sources: flux-system/apps: want a directory, got a list`},
		{"sources:\n  [a]: b\n", `:2: sources: a key must be a name, got a list`},
		// platform
		{"platform: [../platform]\n", `:1: platform: want a directory, got a list`},
		// workers
		{"\n\nworkers: many\n", `:3: workers: want an integer, got "many"`},
		{"workers: \"4\"\n", `:1: workers: want an integer, got "4"`},
		{"workers: 1.5\n", `:1: workers: want an integer, got 1.5`},
		{"workers: true\n", `:1: workers: want an integer, got true`},
		{"workers: [1]\n", `:1: workers: want an integer, got a list`},
		{"workers: 99999999999999999999\n", `:1: workers: want an integer, got 99999999999999999999`},
		// kubernetesVersion
		{"kubernetesVersion: {minor: 36}\n", `:1: kubernetesVersion: want a Kubernetes version X.Y, such as "1.36", got a mapping`},
		// crdDirs, rbacDirs
		{"crdDirs: crds\n", `:1: crdDirs: want a list of directories, got "crds"`},
		{"crdDirs: [crds, {a: b}]\n", `:1: crdDirs entry 2: want a directory, got a mapping`},
		{"rbacDirs: {a: b}\n", `:1: rbacDirs: want a list of directories, got a mapping`},
		// rules
		{"rules: [policy/x]\n", `:1: rules: want a mapping of rule ids to {severity, disabled, params}, got a list`},
		{"rules:\n  policy/x: warning\n", `:2: rules: policy/x: want a mapping {disabled, params, severity}, got "warning"`},
		{"rules:\n  policy/x: {severity: [info]}\n", `:2: rules: policy/x: severity: want error, warning or info, got a list`},
		{"rules:\n  policy/x:\n    disabled: maybe\n", `:3: rules: policy/x: disabled: want true or false, got "maybe"`},
		{"rules:\n  policy/x: {params: [1]}\n", `:2: rules: policy/x: params: want a mapping of parameter names to values, got a list`},
		{"rules:\n  policy/x: {sevrity: info}\n", `:2: rules: policy/x: unknown key "sevrity" (known keys: disabled, params, severity)`},
		{"rules:\n  \"a: b\": {disabled: 1}\n", `:2: rules: "a: b": disabled: want true or false, got 1`},
		// ignore
		{"ignore: policy/x\n", `:1: ignore: want a list of {rule, path, reason}, got "policy/x"`},
		{"ignore:\n  - policy/x\n", `:2: ignore entry 1: want a mapping {path, reason, rule}, got "policy/x"`},
		{"ignore:\n  - {rule: [a]}\n", `:2: ignore entry 1: rule: want a rule id, got a list`},
		{"ignore:\n  - {path: {a: b}}\n", `:2: ignore entry 1: path: want a file glob, got a mapping`},
		{"ignore:\n  - {rule: a, reason: [x]}\n", `:2: ignore entry 1: reason: want a string, got a list`},
		{"ignore:\n  - {rule: a, file: x}\n", `:2: ignore entry 1: unknown key "file" (known keys: path, reason, rule)`},
		// provides
		{"provides: {kind: MyDB}\n", `:1: provides: want a list of {kind, group, produces}, got a mapping`},
		{"provides:\n  - MyDB\n", `:2: provides entry 1: want a mapping {group, kind, produces}, got "MyDB"`},
		{"provides:\n  - {kind: [MyDB]}\n", `:2: provides entry 1: kind: want a string, got a list`},
		{"provides:\n  - {kind: MyDB, group: [a]}\n", `:2: provides entry 1: group: want a string, got a list`},
		{"provides:\n  - {kind: MyDB, produces: Secret}\n", `:2: provides entry 1: produces: want a mapping {kind, name, nameFrom, namespace}, got "Secret"`},
		{"provides:\n  - kind: MyDB\n    produces:\n      kind: Secret\n      nameFrom: [spec, a]\n", `:5: provides entry 1: produces: nameFrom: want a dotted field path such as spec.secretName, got a list`},
		{"provides:\n  - {produces: {kind: Secret, name: {a: b}}}\n", `:2: provides entry 1: produces: name: want a string, got a mapping`},
		{"provides:\n  - {produces: {kind: Secret, name: a, namespace: [x]}}\n", `:2: provides entry 1: produces: namespace: want a string, got a list`},
		{"provides:\n  - {produces: {kind: Secret, name: a, names: x}}\n", `:2: provides entry 1: produces: unknown key "names" (known keys: kind, name, nameFrom, namespace)`},
		// promotion
		{"promotion: 5\n", `:1: promotion: want at least two branches, upstream first (dev,test,main), got "5"`},
		{"promotion: {dev: test}\n", `:1: promotion: want a list of branches or a comma-separated string, upstream first (dev,test,main), got a mapping`},
		{"promotion:\n  - dev\n  - [test]\n", `:3: promotion entry 2: want a branch name, got a list`},
		{"promotion: main\n", `:1: promotion: want at least two branches, upstream first (dev,test,main), got "main"`},
		{"promotion: [dev]\n", `:1: promotion: want at least two branches, upstream first (dev,test,main), got "dev"`},
		{"promotion: \" , \"\n", `:1: promotion: want at least two branches, upstream first (dev,test,main), got none`},
		{"promotion:\n", `:1: promotion: want at least two branches, upstream first (dev,test,main), got none`},
		// aliases are followed
		{"crdDirs: &p [a]\nrbacDirs: *p\nworkers: *p\n", `:3: workers: want an integer, got a list`},
		// repository content in a message is quoted
		{"workers: \"\\e[31mred\"\n", `:1: workers: want an integer, got "\x1b[31mred"`},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			_, err := Parse(FileName, "/repo", []byte(tt.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse error %v (%T), want a *config.Error", err, err)
			}
			if got := strings.TrimPrefix(err.Error(), FileName); got != tt.want {
				t.Errorf("Parse error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestDecodeError: an error of the strict decode that fileShape did not
// foresee still names the top-level key holding its line.
func TestDecodeError(t *testing.T) {
	data := []byte("failOn: error\nworkers: 2\nrules:\n  a: {}\n")
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	err := decodeError("c.yaml", doc.Content[0], &yaml.TypeError{Errors: []string{"line 4: cannot unmarshal !!map into something"}})
	if got, want := err.Error(), "c.yaml:4: rules: cannot unmarshal !!map into something"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	err = yamlError("c.yaml", errors.New("yaml: line 2: did not find expected key"))
	if got, want := err.Error(), "c.yaml:2: did not find expected key"; got != want {
		t.Errorf("syntax error: got %q, want %q", got, want)
	}
}

// TestShapesMatchTypes keeps fileShape in step with the types the file
// decodes into: each mapping with fixed keys has exactly the yaml keys of
// its type.
func TestShapesMatchTypes(t *testing.T) {
	f := fileShape.fields
	for _, tc := range []struct {
		name  string
		shape *shape
		typ   any
	}{
		{"file", fileShape, raw{}},
		{"environments", f[KeyEnvironments].items, Environment{}},
		{"rules", f[KeyRules].values, ruleRaw{}},
		{"ignore", f[KeyIgnore].items, finding.IgnoreEntry{}},
		{"provides", f[KeyProvides].items, Provide{}},
		{"provides produces", f[KeyProvides].items.fields["produces"], Produced{}},
	} {
		var keys []string
		rt := reflect.TypeOf(tc.typ)
		for i := range rt.NumField() {
			if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ","); tag != "" {
				keys = append(keys, tag)
			}
		}
		slices.Sort(keys)
		if got := sortedKeys(tc.shape.fields); !slices.Equal(got, keys) {
			t.Errorf("%s: shape keys %v, type keys %v", tc.name, got, keys)
		}
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
