package render

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestFromDirReusesIndexWalk: packaging a checkout from what the index's
// walk kept gives the artifact a walk of its own gives — vendored and
// chart directories (which the index skips), .sourceignore exclusions,
// default exclusions, non-YAML files, links.
func TestFromDirReusesIndexWalk(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"apps/a.yaml":                   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"apps/kustomization.yaml":       "resources: [a.yaml]\n",
		"apps/config.env":               "A=1\n",
		"apps/logo.png":                 "png",
		"vendor/lib/x.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"vendor/lib/skip.tmp":           "tmp",
		"node_modules/m/index.js":       "js",
		"charts/c/Chart.yaml":           "apiVersion: v2\nname: c\nversion: 1.0.0\n",
		"charts/c/templates/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\n",
		"ignored/secret.yaml":           "apiVersion: v1\nkind: Secret\n",
		".sourceignore":                 "/ignored/\n*.tmp\n",
		".github/workflows/ci.yaml":     "on: push\n",
		"deep/er/still/z.yml":           "kind: List\n",
		"vendor/lib/.sourceignore.keep": "",
	}
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.yaml", filepath.Join(root, "apps", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	x, err := LoadIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	if !x.walked || len(x.walk) == 0 {
		t.Fatalf("the index kept no walk (walked=%v, %d entries): nothing is reused", x.walked, len(x.walk))
	}
	reused, err := fromDir(x, filepath.Join(t.TempDir(), "reused"), "")
	if err != nil {
		t.Fatal(err)
	}
	x.walked = false
	walked, err := fromDir(x, filepath.Join(t.TempDir(), "walked"), "")
	if err != nil {
		t.Fatal(err)
	}
	list := func(a *artifact) []string {
		var out []string
		for rel, src := range a.files {
			rel2, _ := filepath.Rel(root, src)
			out = append(out, rel+"="+filepath.ToSlash(rel2)+"="+string(a.mem.files[a.absOf(rel)]))
		}
		slices.Sort(out)
		return out
	}
	got, want := list(reused), list(walked)
	if !slices.Equal(got, want) {
		t.Fatalf("artifact from the index's walk:\n%q\nfrom its own walk:\n%q", got, want)
	}
	// A .sourceignore replaces the default exclusions (images, CI files).
	for _, must := range []string{"vendor/lib/x.yaml", "charts/c/templates/cm.yaml", "apps/config.env", "node_modules/m/index.js", "apps/logo.png", ".github/workflows/ci.yaml"} {
		if _, ok := reused.files[must]; !ok {
			t.Errorf("%s is not in the artifact", must)
		}
	}
	for _, mustNot := range []string{"ignored/secret.yaml", "vendor/lib/skip.tmp", "apps/link.yaml"} {
		if _, ok := reused.files[mustNot]; ok {
			t.Errorf("%s is in the artifact", mustNot)
		}
	}
}

// TestMayHave: a document is skipped only when it certainly lacks the path.
func TestMayHave(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{"spec:\n  values:\n    instance:\n      sync: {}\n", true},
		{"spec:\n  values:\n    other: 1\n", false},
		{"spec:\n  chart: x\n", false},
		{"metadata: {}\n", false},
		{"spec:\n  values:\n    <<: *base\n", true},          // a merge may bring it
		{"spec: *ref\n", true},                               // an alias may be it
		{"spec:\n  ? [a]\n  : 1\n", true},                    // a complex key
		{"spec:\n  values: [instance]\n", false},             // not a mapping
		{"spec:\n  \"values\":\n    'instance': {}\n", true}, // quoted keys
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("base: &base {instance: {}}\nref: &ref {}\n"+tc.doc), &n); err != nil {
			t.Fatalf("%q: %v", tc.doc, err)
		}
		// Drop the anchors' holders: only the document's own keys count.
		root := n.Content[0]
		root.Content = root.Content[4:]
		if got := mayHave(&n, "spec", "values", "instance"); got != tc.want {
			t.Errorf("%q: mayHave = %v, want %v", tc.doc, got, tc.want)
		}
	}
}
