package schema

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/render"
)

// checkFile checks the one object of a repository file as a lint run does,
// with the file's positions, and returns the findings as
// "line:column pointer-and-message".
func checkFile(t *testing.T, c *Checker, src string) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "obj.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := render.LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := x.Files["obj.yaml"]
	if len(docs) != 1 {
		t.Fatalf("obj.yaml has %d documents, want 1 (%v)", len(docs), x.Findings)
	}
	d := docs[0]
	o := &render.Object{Content: mustObj(t, src), File: d.File, Line: d.Line, Column: d.Column}
	res := &render.Result{Index: x, Environments: []*render.Environment{{Name: "dev", Kustomizations: []*render.Kustomization{{
		Namespace: "flux-system", Name: "apps", Objects: []*render.Object{o},
	}}}}}
	var out []string
	for _, f := range c.Check(context.Background(), res) {
		out = append(out, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Message))
	}
	return out
}

// TestProblemPositions: a problem points at the key of the offending field
// and, for a problem of a list element, at the element (its first key, as
// editors place it), not at the list.
func TestProblemPositions(t *testing.T) {
	builtin, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Checker
		src  string
		want string
	}{
		{"field of an element", builtin, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
      - name: sidecar
        image: envoy
        ports:
        -   containerPort: "abc"
`, `19:13 /spec/template/spec/containers/1/ports/0/containerPort: got string, want integer`},
		{"CEL rule of an element", gatewayAPIChecker(t), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs:
  - name: gateway
  rules:
  - backendRefs:
    - name: web
      port: 80
    -   name: api
`, "11:9 /spec/rules/0/backendRefs/1: x-kubernetes-validations: Must have port for Service reference"},
		{"CEL rule of a flow element", gatewayAPIChecker(t), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gateway}]
  rules:
  - backendRefs: [{name: web, port: 80}, {name: api}]
`, "7:43 /spec/rules/0/backendRefs/1: x-kubernetes-validations: Must have port for Service reference"},
		{"unknown field", builtin, `apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  namespace: default
  lables: {app: web}
`, "6:3 /metadata/lables: additional property not allowed (field not declared in schema)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(checkFile(t, tc.c, tc.src), "\n")
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
