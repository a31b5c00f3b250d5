package schema

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// checkOne runs the checker over one object of one Kustomization, as a
// lint run does, and returns its findings as "rule severity message".
// It fails the test when the check modifies the object (the render result
// is shared by every checker).
func checkOne(t *testing.T, c *Checker, obj string) []string {
	t.Helper()
	content := mustObj(t, obj)
	before := mustObj(t, obj)
	res := &render.Result{Environments: []*render.Environment{{Name: "dev", Kustomizations: []*render.Kustomization{{
		Namespace: "flux-system", Name: "apps", Objects: []*render.Object{{Content: content, File: "apps/obj.yaml", Line: 1}},
	}}}}}
	var out []string
	for _, f := range c.Check(context.Background(), res) {
		out = append(out, f.Rule+" "+string(f.Severity)+" "+f.Message)
	}
	if !reflect.DeepEqual(content, before) {
		t.Errorf("the check modified the rendered object:\n got  %v\n want %v", content, before)
	}
	return out
}

func gatewayAPIChecker(t *testing.T) *Checker {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "gateway.networking.k8s.io_httproutes.yaml.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		t.Fatal(err)
	}
	crds, err := objects.Decode(buf.Bytes())
	if err != nil || len(crds) != 1 {
		t.Fatalf("decode the HTTPRoute CRD: %v (%d objects)", err, len(crds))
	}
	cat, err := ParseCatalog([]byte(miniCatalog))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChecker(cat, crds)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHTTPRouteDefaults validates HTTPRoutes against the real Gateway API
// CRD (v1.4.1, testdata/README.md). Its CEL rules read fields the schema
// defaults (parentRefs[].group and kind, backendRefs[].group and kind,
// rules[].matches, matches[].path.type); the apiserver defaults them
// before it evaluates the rules, so a route that leaves them out is valid.
// Before the checker defaulted, each route had false errors ("no such key:
// group evaluating rule: …", up to 15 for one route), and the relative
// path whose type the schema defaults got "no such key: type" errors
// instead of the rule's message.
func TestHTTPRouteDefaults(t *testing.T) {
	c := gatewayAPIChecker(t)
	const head = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: default}\n"
	const pathRule = "x-kubernetes-validations: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"
	for _, tc := range []struct{ name, spec, want string }{
		{"defaults", `spec:
  parentRefs: [{name: gateway, namespace: network, sectionName: https}]
  hostnames: [web.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
`, ""},
		{"two parents of one gateway", `spec:
  parentRefs: [{name: gateway, sectionName: http}, {name: gateway, sectionName: https}]
  rules:
  - matches: [{path: {value: /api}}]
    backendRefs: [{name: api, port: 8080, weight: 2}, {name: web, port: 80}]
`, ""},
		{"relative path", `spec:
  parentRefs: [{name: gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: api}}]
    backendRefs: [{name: api, port: 8080}]
`, "schema/invalid error /spec/rules/0/matches/0/path: " + pathRule},
		{"relative path, type defaulted", `spec:
  parentRefs: [{name: gateway}]
  rules:
  - matches: [{path: {value: api}}]
    backendRefs: [{name: api, port: 8080}]
`, "schema/invalid error /spec/rules/0/matches/0/path: " + pathRule},
		{"a Service needs a port", `spec:
  parentRefs: [{name: gateway}]
  rules:
  - backendRefs: [{name: api}]
`, "schema/invalid error /spec/rules/0/backendRefs/0: x-kubernetes-validations: Must have port for Service reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(checkOne(t, c, head+tc.spec), "\n")
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// gadgetCRD declares defaults its schema and its CEL rules rely on, a
// rule that reads an optional field without a default, an embedded
// resource, and a kind whose root schema declares no properties (pruning
// drops everything but apiVersion, kind and metadata). The oracle's
// apiserver (v1.34, server-side apply dry run) gives the verdict each case
// expects.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
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
            required: [mode]
            properties:
              mode: {type: string, enum: [fast, slow], default: fast}
              replicas: {type: integer, default: 1}
              limit: {type: integer}
              tags: {type: array, maxItems: 16, items: {type: string, maxLength: 63}}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                properties:
                  spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
              values: {type: object, x-kubernetes-preserve-unknown-fields: true}
            x-kubernetes-validations:
            - rule: self.mode == 'fast' || self.replicas <= 3
              message: slow mode runs at most 3 replicas
            - rule: '!has(self.tags) || self.limit >= size(self.tags)'
              messageExpression: "'limit must cover the tags: ' + self.tags.join(', ')"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: notes.example.com
spec:
  group: example.com
  names: {kind: Note, plural: notes}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object}
`

// TestPruneAndDefault proves the apiserver's order on a hand-written CRD:
// unknown fields refused, defaults applied, then the OpenAPI schema and the
// CEL rules on the defaulted object. On the code that validated the object
// as written, the first four cases were false errors ("missing required
// field", "got null", "no such key" from the rules), and the last two were
// missed.
func TestPruneAndDefault(t *testing.T) {
	crds, err := objects.Decode([]byte(gadgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := ParseCatalog([]byte(miniCatalog))
	c, err := NewChecker(cat, crds)
	if err != nil {
		t.Fatal(err)
	}
	const gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\n"
	for _, tc := range []struct{ name, obj, want string }{
		// mode defaults to fast, which the required list and the first rule read.
		{"required field defaulted", gadget + "spec: {}\n", ""},
		// replicas defaults to 1, which the first rule reads.
		{"default read by a rule", gadget + "spec: {mode: slow}\n", ""},
		// A null with a default is defaulted.
		{"null defaulted", gadget + "spec: {mode: null}\n", ""},
		{"status is not validated", gadget + "spec: {}\nstatus: {anything: 1}\n", ""},
		// One without stays, and the schema refuses it.
		{"null", gadget + "spec: {mode: null, limit: null}\n", "schema/invalid error /spec/limit: got null, want integer"},
		{"rule violated", gadget + "spec: {mode: slow, replicas: 5}\n",
			"schema/invalid error /spec: x-kubernetes-validations: slow mode runs at most 3 replicas"},
		{"messageExpression", gadget + "spec: {tags: [a, b], limit: 1}\n",
			"schema/invalid error /spec: x-kubernetes-validations: limit must cover the tags: a, b"},
		// Server-side apply refuses an unknown field before the apiserver
		// would prune it: still schema/invalid, worded as before.
		{"unknown field", gadget + "spec: {colour: red, mode: slow, replicas: 5}\n",
			"schema/invalid error /spec/colour: additional property not allowed (field not declared in schema)"},
		{"unknown fields", gadget + "spec: {colour: red, size: 2}\n",
			`schema/invalid error /spec: additional properties "colour", "size" not allowed (fields not declared in schema)`},
		// A rule that cannot be evaluated is no proven rejection.
		{"rule not evaluated", gadget + "spec: {tags: [a]}\n",
			RuleCELError.ID + ` warning /spec: x-kubernetes-validations rule "!has(self.tags) || self.limit >= size(self.tags)" could not be evaluated: it reads field "limit", which the object does not set and the schema does not default`},
		// Preserved fields are not pruned (nor their nulls).
		{"preserved", gadget + "spec: {values: {a: null, b: [1, {c: null}]}, template: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {any: thing}}}\n", ""},
		// Pruning drops the undeclared fields of an embedded resource and
		// the top-level fields of a root without properties: server-side
		// apply refuses them ("field not declared in schema").
		{"unknown field of an embedded resource", gadget + "spec: {template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}}\n",
			"schema/invalid error /spec/template/data: additional property not allowed (field not declared in schema)"},
		{"unknown field at a root without properties", "apiVersion: example.com/v1\nkind: Note\nmetadata: {name: note, namespace: default}\nspec: {text: hi}\n",
			"schema/invalid error /spec: additional property not allowed (field not declared in schema)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(checkOne(t, c, tc.obj), "\n")
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestCELProblem: a rule that evaluates to false is an error worded by the
// rule; every other outcome of the apiserver's CEL validator is a warning
// that does not quote the evaluator.
func TestCELProblem(t *testing.T) {
	p := field.NewPath("spec", "rules").Index(0)
	for _, tc := range []struct {
		fe       *field.Error
		rule     string
		severity finding.Severity
		want     string
	}{
		{field.Invalid(p, "x", "must be short"), RuleInvalid.ID, finding.Error, "/spec/rules/0: x-kubernetes-validations: must be short"},
		{field.Required(p.Child("name"), "name is required"), RuleInvalid.ID, finding.Error, "/spec/rules/0/name: x-kubernetes-validations: name is required"},
		{field.Invalid(p, "object", "no such key: group evaluating rule: Must have port for Service reference"), RuleCELError.ID, finding.Warning,
			`/spec/rules/0: x-kubernetes-validations rule "Must have port for Service reference" could not be evaluated: it reads field "group", which the object does not set and the schema does not default`},
		{field.Invalid(p, "object", "validation failed due to running out of cost budget, no further validation rules will be run"), RuleCELError.ID, finding.Warning,
			"/spec/rules/0: x-kubernetes-validations could not be evaluated: the rules exceed the apiserver's CEL cost budget for one object"},
		{field.Invalid(p, "object", "rule compile error: compilation failed: ERROR: <input>:1:6: undeclared reference"), RuleCELError.ID, finding.Warning,
			"/spec/rules/0: x-kubernetes-validations could not be evaluated: a rule does not compile with gitops-lint's CEL library"},
		{field.Invalid(p, "object", "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.port + 1 > 0"), RuleCELError.ID, finding.Warning,
			`/spec/rules/0: x-kubernetes-validations rule "self.port + 1 > 0" could not be evaluated: it applies an operator or function to a value of a type it does not accept`},
		{field.Invalid(p, "object", "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: names must be unique"), RuleCELError.ID, finding.Warning,
			`/spec/rules/0: x-kubernetes-validations rule "names must be unique" could not be evaluated: it exceeds the apiserver's CEL cost limit per evaluation`},
		{field.InternalError(p, io.ErrUnexpectedEOF), RuleCELError.ID, finding.Warning,
			"/spec/rules/0: x-kubernetes-validations could not be evaluated (the apiserver reports an internal error)"},
	} {
		got := celProblem(tc.fe)
		rule := RuleInvalid
		if got.rule != nil {
			rule = *got.rule
		}
		if got.String() != tc.want || rule.ID != tc.rule || rule.Severity != tc.severity {
			t.Errorf("%v:\ngot  %s %s %s\nwant %s %s %s", tc.fe, rule.ID, rule.Severity, got, tc.rule, tc.severity, tc.want)
		}
		if strings.Contains(got.Msg, "evaluating rule") || strings.Contains(got.Msg, "no such key") {
			t.Errorf("%v: the message quotes the evaluator: %s", tc.fe, got.Msg)
		}
	}
}

// TestUnknownFields: a field pruning drops is reported as the JSON Schema
// words it, once, whether the schema reports it itself or not.
func TestUnknownFields(t *testing.T) {
	cat, _ := ParseCatalog([]byte(miniCatalog))
	v, _ := NewValidator(cat)
	vs, err := crdVersions(mustObj(t, widgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.crdSchema(vs[0].Schema)
	if err != nil {
		t.Fatal(err)
	}
	obj := mustObj(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1, colour: red}\n")
	var got []string
	for _, p := range unknownFields(s, obj, []string{"spec.colour", "spec.rules[0].extra"}) {
		got = append(got, p.String())
	}
	want := []string{
		"/spec/colour: additional property not allowed (field not declared in schema)",
		"/spec/rules/0/extra: additional property not allowed (field not declared in schema)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
