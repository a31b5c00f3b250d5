package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// TestSchemaMatchesParser keeps docs/config.schema.json and Parse in step:
// every sample either passes both or fails both.
func TestSchemaMatchesParser(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		valid      bool
	}{
		{"every key", `format: [text, json=out/report.json]
failOn: warning
environments:
  - {name: dev, path: clusters/dev, branch: dev}
sources: {flux-system/apps: ../apps}
platform: ../platform
workers: 4
kubernetesVersion: "1.36"
crdDirs: [crds]
rbacDirs: [rbac]
promotion: dev,test,main
rules:
  policy/image-pinned: {severity: info}
  schema/unknown-kind: {disabled: true}
  policy/no-loadbalancer: {params: {allowedLoadBalancerNamespaces: [ingress]}}
ignore:
  - {rule: policy/resource-requests, path: "legacy/**", reason: old}
provides:
  - {kind: MyDB, group: example.com, produces: {kind: Secret, nameFrom: spec.credentialsSecret}}
  - {produces: {kind: Secret, name: cluster-vars, namespace: flux-system}}
`, true},
		{"format as a string", "format: json\n", true},
		{"unknown key", "fialOn: warning\n", false},
		{"bad failOn", "failOn: sometimes\n", false},
		{"bad severity", "rules:\n  policy/x: {severity: loud}\n", false},
		{"negative workers", "workers: -1\n", false},
		{"environment without path", "environments:\n  - {name: dev}\n", false},
		{"provides without produces", "provides:\n  - {kind: MyDB}\n", false},
		{"provides name and nameFrom", "provides:\n  - {kind: MyDB, produces: {kind: Secret, name: a, nameFrom: spec.b}}\n", false},
		{"provides outside git without name", "provides:\n  - {produces: {kind: Secret}}\n", false},
		{"provides group without kind", "provides:\n  - {group: example.com, produces: {kind: Secret, name: a}}\n", false},
		{"provides nameFrom without kind", "provides:\n  - {produces: {kind: Secret, name: a, nameFrom: spec.b}}\n", false},
		{"provides bad nameFrom", "provides:\n  - {kind: MyDB, produces: {kind: Secret, nameFrom: spec..b}}\n", false},
		{"provides outside git", "provides:\n  - {produces: {kind: ConfigMap, name: a}}\n", true},
		{"promotion as a list", "promotion: [dev, test, main]\n", true},
		{"promotion with one branch", "promotion: main\n", false},
		{"promotion with one listed branch", "promotion: [main]\n", false},
		{"promotion as a number", "promotion: 5\n", false},
		{"promotion as a mapping", "promotion: {dev: test}\n", false},
		{"workers as a word", "workers: many\n", false},
		{"workers as a fraction", "workers: 1.5\n", false},
		{"environments as a string", "environments: foo\n", false},
		{"sources as a list", "sources: [a]\n", false},
		{"crdDirs as a string", "crdDirs: crds\n", false},
		{"format as a mapping", "format: {text: true}\n", false},
		{"rules entry as a string", "rules:\n  policy/x: warning\n", false},
		{"rules params as a list", "rules:\n  policy/x: {params: [1]}\n", false},
		{"ignore entry as a string", "ignore: [policy/x]\n", false},
		{"provides produces as a string", "provides:\n  - {kind: MyDB, produces: Secret}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := Parse("/repo/.gitops-lint.yaml", "/repo", []byte(tc.yaml))
			j, err := yaml.YAMLToJSON([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
			if err != nil {
				t.Fatal(err)
			}
			serr := sch.Validate(inst)
			if (perr == nil) != tc.valid || (serr == nil) != tc.valid {
				t.Errorf("valid=%v: Parse error %v, schema error %v", tc.valid, perr, serr)
			}
		})
	}
}
