package render

import (
	"fmt"
	"maps"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestFieldPos: a map field is at its key, a sequence element at its first
// content, and a path that leaves the document stops at the deepest field
// that exists.
func TestFieldPos(t *testing.T) {
	const src = `# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  labels: {app: web, tier: "front"}
spec:
  list:
  - name: first
    value: 1
  -   name: second
  - plain
  - [a, b]
  - {name: flow, x: 1}
  - - nested
  empty: []
`
	docs, _, err := parseDocs("f.yaml", []byte(src))
	if err != nil || len(docs) != 1 {
		t.Fatalf("parse: %v (%d documents)", err, len(docs))
	}
	d := docs[0]
	for _, tc := range []struct {
		path []string
		want string
	}{
		{nil, "2:1"},                                     // the document's first key
		{[]string{"kind"}, "3:1"},                        // a key
		{[]string{"metadata", "name"}, "5:3"},            // a nested key
		{[]string{"metadata", "labels", "tier"}, "6:22"}, // a key of a flow mapping
		{[]string{"spec", "list"}, "8:3"},
		{[]string{"spec", "list", "0"}, "9:5"},           // `- name: first`: at name
		{[]string{"spec", "list", "0", "value"}, "10:5"}, // a field of an element
		{[]string{"spec", "list", "1"}, "11:7"},          // at name, past the spaces after the dash
		{[]string{"spec", "list", "2"}, "12:5"},          // a scalar element
		{[]string{"spec", "list", "3", "1"}, "13:9"},     // an element of a flow sequence
		{[]string{"spec", "list", "4"}, "14:6"},          // a flow mapping element: at its first key
		{[]string{"spec", "list", "4", "x"}, "14:18"},
		{[]string{"spec", "list", "5"}, "15:5"}, // a sequence element: at its dash
		{[]string{"spec", "list", "5", "0"}, "15:7"},
		{[]string{"missing"}, "2:1"},                       // no such field: the document
		{[]string{"metadata", "missing", "deeper"}, "4:1"}, // the deepest field that exists
		{[]string{"spec", "list", "6"}, "8:3"},             // out of range: the list
		{[]string{"spec", "list", "-1"}, "8:3"},
		{[]string{"spec", "list", "first"}, "8:3"}, // not an index
		{[]string{"spec", "empty", "0"}, "16:3"},
		{[]string{"kind", "x"}, "3:1"}, // below a scalar
	} {
		line, col := d.FieldPos(tc.path...)
		if got := fmt.Sprintf("%d:%d", line, col); got != tc.want {
			t.Errorf("FieldPos(%q) = %s, want %s", tc.path, got, tc.want)
		}
	}
}

// TestDocStart: a document starts at its first key, also when it is
// indented or a flow mapping.
func TestDocStart(t *testing.T) {
	const src = "apiVersion: v1\nkind: A\n---\n# comment\n  apiVersion: v1\n  kind: B\n---\n{apiVersion: v1, kind: C}\n--- plain\n"
	docs, _, err := parseDocs("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, fmt.Sprintf("%d:%d", d.Line, d.Column))
	}
	if want := "[1:1 5:3 8:2 9:5]"; fmt.Sprint(got) != want {
		t.Errorf("document starts %v, want %s", got, want)
	}
}

// TestSyntaxPositions: a yaml/syntax finding is at the node it is about
// when there is one, at the start of its line when yaml.v3 names only the
// line.
func TestSyntaxPositions(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"dup.yaml":    "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: x\n  b: y\n  a: z\n",
		"nul.yaml":    "apiVersion: v1\nkind: ConfigMap\ndata: {a: \"x\x00\"}\n",
		"broken.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: [a\n",
	})
	x, err := LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range x.Findings {
		got[f.File] = fmt.Sprintf("%d:%d", f.Line, f.Column)
	}
	want := map[string]string{"dup.yaml": "6:3", "nul.yaml": "3:13", "broken.yaml": "2:1"}
	if !maps.Equal(got, want) {
		t.Errorf("yaml/syntax positions %v, want %v (%v)", got, want, x.Findings)
	}
}
