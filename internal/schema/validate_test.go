package schema

import (
	"fmt"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// miniCatalog is a hand-written catalog in the generator's output format.
const miniCatalog = `{
 "version": "v1.37.0",
 "definitions": {
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "additionalProperties": false,
    "properties": {"name": {"type": ["string", "null"]}, "namespace": {"type": ["string", "null"]},
      "labels": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}}},
  "io.k8s.api.apps.v1.Deployment": {"type": "object", "additionalProperties": false,
    "properties": {"apiVersion": {"type": ["string", "null"]}, "kind": {"type": ["string", "null"]},
      "metadata": {"anyOf": [{"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}, {"type": "null"}]},
      "spec": {"anyOf": [{"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}, {"type": "null"}]}}},
  "io.k8s.api.apps.v1.DeploymentSpec": {"type": "object", "additionalProperties": false, "required": ["selector"],
    "properties": {"replicas": {"type": ["integer", "null"]}, "selector": {"type": "object"}}}
 },
 "kinds": {"apps/v1/Deployment": {"definition": "io.k8s.api.apps.v1.Deployment", "resource": "deployments", "namespaced": true}}
}`

func mustObj(t *testing.T, s string) map[string]any {
	t.Helper()
	// as rendered objects are: int64 and float64 numbers
	j, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateBuiltin(t *testing.T) {
	cat, err := ParseCatalog([]byte(miniCatalog))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.builtin("io.k8s.api.apps.v1.Deployment")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ obj, want string }{
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 2, selector: {}}\n", ""},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two, selector: {}}\n", "/spec/replicas: got string, want integer"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {selecter: {}, selector: {}}\n", "/spec/selecter: additional property not allowed (field not declared in schema)"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, labels: {x: 1}}\nspec: {selector: {}}\n", "/metadata/labels/x: got number, want string"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 1}\n", `/spec: missing required field "selector"`},
	} {
		var got []string
		for _, p := range Validate(s, mustObj(t, tc.obj)) {
			got = append(got, p.String())
		}
		if strings.Join(got, "; ") != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.obj, strings.Join(got, "; "), tc.want)
		}
	}
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              port: {x-kubernetes-int-or-string: true}
              color: {type: string, enum: [red, blue], nullable: true}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true}
            x-kubernetes-validations:
            - rule: self.size < 10
          status: {type: object, properties: {ok: {type: boolean}}}
  - name: v0
    served: false
    storage: false
`

func TestValidateCRD(t *testing.T) {
	cat, _ := ParseCatalog([]byte(miniCatalog))
	v, _ := NewValidator(cat)
	vs, err := crdVersions(mustObj(t, widgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Kind != "Widget" || !vs[0].Namespaced || !vs[0].HasCEL {
		t.Fatalf("versions %+v", vs)
	}
	s, err := v.crdSchema(vs[0].Schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ obj, want string }{
		{"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 2, port: http, color: null, free: {any: [thing]}}\nstatus: {whatever: 1}\n", ""},
		{"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 0, port: 80}\n", "/spec/size: minimum: got 0, want 1"},
		{"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1, colour: red}\n", "/spec/colour: additional property not allowed (field not declared in schema)"},
		{"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, bogus: x}\nspec: {size: 1}\n", "/metadata/bogus: additional property not allowed (field not declared in schema)"},
		{"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1, color: green}\n", "/spec/color: value must be one of 'red', 'blue', <nil>"},
	} {
		var got []string
		for _, p := range Validate(s, validatable(mustObj(t, tc.obj))) {
			got = append(got, p.String())
		}
		if strings.Join(got, "; ") != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.obj, strings.Join(got, "; "), tc.want)
		}
	}
}

func TestCELRules(t *testing.T) {
	vs, err := crdVersions(mustObj(t, widgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	var c celRules
	ok := mustObj(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 2}\n")
	if got := c.Validate(t.Context(), vs[0].Raw, ok); len(got) != 0 {
		t.Errorf("valid object: %v", got)
	}
	bad := mustObj(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 12}\n")
	got := c.Validate(t.Context(), vs[0].Raw, bad)
	if len(got) != 1 || got[0].Pointer() != "/spec" || !strings.Contains(got[0].Msg, "self.size < 10") {
		t.Errorf("got %v", got)
	}
}

func TestSemantic(t *testing.T) {
	for _, tc := range []struct{ obj, want string }{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine, labels: {app: web}}\n", ""},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Upper_Case}\n", "/metadata/name: Invalid value: \"Upper_Case\": a lowercase RFC 1123 subdomain"},
		{"apiVersion: v1\nkind: Service\nmetadata: {name: a.b}\nspec: {ports: [{port: 80}]}\n", "/metadata/name: Invalid value: \"a.b\": a DNS-1035 label"},
		{"apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 70000}]}\n", "/spec/ports/0/port: Invalid value: 70000: must be between 1 and 65535"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {app: \"not valid!\"}}\n", "/metadata/labels/app: Invalid value: \"not valid!\""},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: c, image: x:1}]}\n", "/spec/template/metadata/labels: Invalid value: app=other: `selector` does not match template `labels`"},
		{"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: j}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c}]}}}}}\n", "/spec/jobTemplate/spec/template/spec/containers/0/image: Required value"},
		{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: \"system:view\"}\n", ""},
	} {
		var got []string
		for _, p := range Semantic(mustObj(t, tc.obj), true) {
			got = append(got, p.String())
		}
		joined := strings.Join(got, "; ")
		if (tc.want == "") != (joined == "") || !strings.Contains(joined, tc.want) {
			t.Errorf("%s\ngot  %q\nwant %q", tc.obj, joined, tc.want)
		}
	}
}

// TestFoldUnknownKinds: every schema/unknown-kind of a kind and
// environment moves to the first object (a file of the repository before
// one of another source), so that the engine's Fold makes it one finding
// listing each object; other findings, kinds and environments are
// untouched.
func TestFoldUnknownKinds(t *testing.T) {
	obj := func(kind, name string) *finding.Object {
		return &finding.Object{APIVersion: "example.com/v1", Kind: kind, Namespace: "default", Name: name}
	}
	unknown := func(env, ks, kind, name, file string) finding.Finding {
		msg := "no schema for example.com/v1 " + kind
		line := 1
		if file == "" {
			msg += " (in other.yaml of source GitRepository/x/y, not in this repository)"
			line = 0
		}
		return RuleUnknownKind.New(finding.Finding{Environment: env, Kustomization: ks, Object: obj(kind, name), File: file, Line: line, Message: msg})
	}
	fs := foldUnknownKinds([]finding.Finding{
		unknown("dev", "flux-system/other", "Widget", "z", ""),
		unknown("dev", "flux-system/apps", "Widget", "b", "apps/b.yaml"),
		RuleInvalid.New(finding.Finding{Environment: "dev", Kustomization: "flux-system/apps", File: "apps/x.yaml", Line: 3, Message: "bad"}),
		unknown("dev", "flux-system/apps", "Widget", "a", "apps/a.yaml"),
		unknown("dev", "flux-system/infra", "Widget", "c", "infra/c.yaml"),
		unknown("dev", "flux-system/apps", "Gadget", "g", "apps/g.yaml"),
		unknown("prod", "flux-system/infra", "Widget", "d", "infra/d.yaml"),
	})
	var got []string
	for _, f := range finding.Fold(finding.Sort(fs)) {
		got = append(got, fmt.Sprintf("%s %s:%d %s ×%d", f.Rule, f.File, f.Line, f.Message, f.Count()))
	}
	want := []string{
		"schema/unknown-kind apps/a.yaml:1 no schema for example.com/v1 Widget ×4",
		"schema/unknown-kind apps/g.yaml:1 no schema for example.com/v1 Gadget ×1",
		"schema/invalid apps/x.yaml:3 bad ×1",
		"schema/unknown-kind infra/d.yaml:1 no schema for example.com/v1 Widget ×1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
