package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// fixture covers: a finding with no file, several files, several findings
// in one file, every severity, a multi-line message, missing context, and
// characters CI logging commands must escape (% , : ; ] CR LF) in a message
// and a file name. It is fed to every format.
func fixture() *Report {
	svc := &finding.Object{APIVersion: "v1", Kind: "Service", Namespace: "team-a", Name: "web"}
	lb := &finding.Object{APIVersion: "v1", Kind: "Service", Namespace: "prod", Name: "edge"}
	ns := &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: "team-a"}
	fs := []finding.Finding{
		{Rule: "rbac/forbidden", Severity: finding.Error, File: "deploy/base/service.yaml", Line: 4, Column: 1,
			Environment: "dev", Kustomization: "flux-system/team-a", Object: svc,
			Message: `Service/team-a/web: User "system:serviceaccount:team-a:flux-reconciler" cannot patch resource "services" in API group "" in the namespace "team-a"`},
		{Rule: "render/source-missing", Severity: finding.Warning, Environment: "prod", Kustomization: "flux-system/infra",
			Message: "GitRepository flux-system/infra is not available locally (no file: the source is another repository); pass --source flux-system/infra=DIR"},
		{Rule: "render/error", Severity: finding.Error, File: "clusters/dev/apps.yaml", Line: 12, Column: 3,
			Environment: "dev", Kustomization: "flux-system/apps",
			Message: "kustomize build failed:\naccumulating resources: missing.yaml: no such file or directory"},
		{Rule: "schema/unknown-kind", Severity: finding.Info, File: "deploy/base/service.yaml", Line: 20, Column: 1,
			Object: ns, Message: "no schema known for Namespace in v1 <this is a test & only a test>"},
		{Rule: "yaml/syntax", Severity: finding.Error, File: "deploy/base/broken.yaml", Line: 7, Column: 5,
			Message: "mapping key \"name\" already defined at line 3"},
		{Rule: policyRule.ID, Severity: finding.Warning, File: "apps/edge,v2:100%;].yaml", Line: 3, Column: 7,
			Environment: "prod", Kustomization: "flux-system/apps", Object: lb,
			Message: "Service/prod/edge: type LoadBalancer costs 100%; use ClusterIP, then an Ingress [see: docs]\r\nports: 80,443]"},
	}
	fs = finding.Sort(fs)
	s := finding.Summary{Environments: 3, Kustomizations: 12, Objects: 240, DurationMs: 830}
	s.Count(fs)
	return &Report{
		Tool: Tool{Name: "gitops-lint", Version: "v0.0.0-test"}, Summary: s, Findings: fs,
		Rules: append(testRules(), policyRule),
		Environments: []Environment{
			{Name: "dev", Kustomizations: []string{"flux-system/flux-system", "flux-system/apps", "flux-system/team-a"}},
			{Name: "prod", Kustomizations: []string{"flux-system/flux-system", "flux-system/infra", "flux-system/apps"}},
			{Name: "test", Kustomizations: []string{"flux-system/flux-system"}},
		},
		Repository: "fleet",
		Failed:     true,
	}
}

// testRules is the rule metadata of a run as the engine passes it: the
// rules the fixture's findings name, and one no finding names (SARIF lists
// every rule of the run). It is the format's input, not the registry, so
// adding a rule to a checker leaves the goldens alone.
func testRules() []finding.Rule {
	return []finding.Rule{
		{ID: "flux/depends-on-cycle", Severity: finding.Error, Help: "dependsOn forms a cycle, so none of its members ever reconciles.", Remediation: "Break the cycle."},
		{ID: "rbac/forbidden", Severity: finding.Error, Help: "The impersonated ServiceAccount may not apply the object.", Remediation: "Grant the verb on that resource."},
		{ID: "render/error", Severity: finding.Error, Help: "kustomize-controller would fail to build this Kustomization.", Remediation: "Run the build locally and fix the kustomization it names."},
		{ID: "render/source-missing", Severity: finding.Warning, Help: "A Kustomization's source is not available locally.", Remediation: "Pass --source NAMESPACE/NAME=DIR."},
		{ID: "schema/unknown-kind", Severity: finding.Warning, Help: "No schema is known for the object's kind.", Remediation: "Pass --crd-dir DIR."},
		{ID: "yaml/syntax", Severity: finding.Error, Help: "A YAML file does not parse.", Remediation: "Fix the YAML at the given line."},
	}
}

// policyRule is a Rego rule's metadata, as the policy engine adds it.
var policyRule = finding.Rule{ID: "policy/no-loadbalancer", Severity: finding.Warning,
	Help: "A Service of type LoadBalancer provisions a cloud load balancer.", Remediation: "Use a ClusterIP Service behind the shared Ingress."}

func empty() *Report {
	return &Report{Tool: Tool{Name: "gitops-lint", Version: "v0.0.0-test"},
		Summary: finding.Summary{Environments: 1, Kustomizations: 1, Objects: 1, DurationMs: 5}}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		format string
		opts   []Option
		report *Report
	}{
		{"text.golden", "text", nil, fixture()},
		{"text-color.golden", "text", []Option{WithColor(true)}, fixture()},
		{"text-empty.golden", "text", nil, empty()},
		{"json.golden", "json", nil, fixture()},
		{"json-empty.golden", "json", nil, empty()},
		{"sarif.golden", "sarif", nil, fixture()},
		{"sarif-empty.golden", "sarif", nil, empty()},
		{"junit.golden", "junit", nil, fixture()},
		{"junit-empty.golden", "junit", nil, empty()},
		{"github.golden", "github", nil, fixture()},
		{"github-empty.golden", "github", nil, empty()},
		{"azure.golden", "azure", nil, fixture()},
		{"azure-empty.golden", "azure", nil, empty()},
		{"markdown.golden", "markdown", nil, fixture()},
		{"markdown-empty.golden", "markdown", nil, empty()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			w, err := New(tt.format, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := w.Write(&buf, tt.report); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/report/ -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run go test ./internal/report/ -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, buf.Bytes(), want)
			}
		})
	}
}

// TestJSONContract checks the shape docs/contract.md promises, independently of
// the golden file.
func TestJSONContract(t *testing.T) {
	for name, r := range map[string]*Report{"fixture": fixture(), "empty": empty()} {
		t.Run(name, func(t *testing.T) {
			w, _ := New("json")
			var buf bytes.Buffer
			if err := w.Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["schemaVersion"] != float64(1) {
				t.Errorf("schemaVersion = %v, want 1", doc["schemaVersion"])
			}
			tool, _ := doc["tool"].(map[string]any)
			if tool["name"] != "gitops-lint" || tool["version"] == "" {
				t.Errorf("tool = %v", tool)
			}
			summary, _ := doc["summary"].(map[string]any)
			for _, k := range []string{"environments", "kustomizations", "objects", "errors", "warnings", "durationMs"} {
				if _, ok := summary[k]; !ok {
					t.Errorf("summary.%s missing", k)
				}
			}
			fs, ok := doc["findings"].([]any)
			if !ok {
				t.Fatalf("findings = %v, want an array (never null)", doc["findings"])
			}
			for _, f := range fs {
				f := f.(map[string]any)
				for _, k := range []string{"rule", "severity", "message", "file", "line", "column"} {
					if _, ok := f[k]; !ok {
						t.Errorf("finding %v: %s missing", f, k)
					}
				}
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		if _, err := ParseFormat(string(f)); err != nil {
			t.Errorf("ParseFormat(%s): %v", f, err)
		}
		if w, err := New(string(f)); err != nil || w == nil {
			t.Errorf("New(%s) = %v, %v", f, w, err)
		}
	}
	_, err := ParseFormat("xml")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(xml) = %v, want ErrUnknownFormat", err)
	}
	if want := `unknown format "xml" (want one of text, json, sarif, junit, github, azure, markdown)`; err.Error() != want {
		t.Errorf("ParseFormat(xml) = %q, want %q", err, want)
	}
}
