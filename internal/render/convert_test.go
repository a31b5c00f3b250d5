package render

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestToUnstructuredMatchesJSON checks the fast node walk against the exact
// JSON round trip on scalars of every kind.
func TestToUnstructuredMatchesJSON(t *testing.T) {
	docs := []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  s: \"1\"\n  t: 'yes'\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\nspec:\n  replicas: 3\n  x: -0\n  f: 1.5\n  g: 2.0\n  h: 1e3\n  i: 0x1F\n  j: 0o17\n  k: 017\n  l: true\n  m: ~\n  n: [1, 2.25, \"3\", null]\n  big: 12345678901234567890\n  date: 2024-01-02\n  multi: |\n    a\n\n    b\n",
		"apiVersion: v1\nkind: List\nmetadata:\n  name: c\nitems: []\nempty: {}\n",
		// Empty values: null in a block mapping, '' once a flow mapping is
		// written back.
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\ndata: {A: , B: null, C: ~, D}\nblock:\n  E:\n",
		// Multi-line strings the emitter may not write back as they were:
		// trailing spaces, leading indentation, tabs, carriage returns,
		// trailing blank lines, in block and in flow collections.
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  a: \"x \\ny\\n\"\n  b: \"  lead\\nx\\n\"\n  c: \"tab\\t\\nx\"\n  d: \"crlf\\r\\nx\\r\\n\"\n  e: |+\n    keep\n\n\n  f: \"x\\n \"\n  g: {h: \"a\\n b \\n\", i: [\"p\\nq \"]}\n  j: >\n    folded\n    text\n\n    more\n  k: \"\\n\\nonly newlines\\n\\n\"\n  l: \"# not a comment\\n- not a list\\n\"\n",
	}
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	for _, d := range docs {
		rs, err := rf.SliceFromBytes([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got, err := toUnstructured(r)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, u.Object) {
				t.Errorf("fast conversion differs for %s:\n got %#v\nwant %#v", r.GetName(), got, u.Object)
			}
		}
	}
}

// TestToUnstructuredCorpus converts every document of every corpus
// repository both ways: the fast conversion must equal the generic one.
func TestToUnstructuredCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole corpus")
	}
	root := sharedDir(t, "corpus")
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAMLName(d.Name()) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		rs, err := rf.SliceFromBytes(data)
		if err != nil {
			return nil // not Kubernetes objects: nothing to convert
		}
		for _, r := range rs {
			got, err := toUnstructured(r)
			if err != nil {
				continue
			}
			b, err := r.MarshalJSON()
			if err != nil {
				continue
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(b); err != nil {
				continue
			}
			n++
			if !reflect.DeepEqual(got, u.Object) {
				t.Errorf("%s: fast conversion of %s differs", p, r.GetName())
			}
		}
		return nil
	})
	if n < 1000 {
		t.Errorf("converted only %d documents", n)
	}
	t.Logf("%d documents", n)
}

// TestHasDollar: substitution is skipped only for objects whose written
// text holds no '$' at all — values, keys and comments alike.
func TestHasDollar(t *testing.T) {
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	for doc, want := range map[string]bool{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: b}\n":                 false,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: \"${X}\"}\n":          true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: $X}\n":                true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  $k: v\n":               true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  # ${X}\n  a: b\n":      true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: b # cost: $5\n":     true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: |\n    x\n    $y\n": true,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: |\n    no dollar\n": false,
	} {
		rs, err := rf.SliceFromBytes([]byte(doc))
		if err != nil || len(rs) != 1 {
			t.Fatal(doc, err)
		}
		if got := hasDollar(rs[0].YNode(), 0); got != want {
			t.Errorf("%q: hasDollar = %v, want %v", doc, got, want)
		}
	}
}

// TestDocSpecCorpus: the direct conversion of source documents gives what
// decoding, encoding as JSON and reading back gives, on every document of
// every corpus repository (or leaves the document to that path).
func TestDocSpecCorpus(t *testing.T) {
	repos, _ := filepath.Glob(filepath.Join(filepath.Dir(testutil.Corpus(t, "onedr0p-home-ops")), "*"))
	direct, total := 0, 0
	for _, repo := range repos {
		if st, err := os.Stat(repo); err != nil || !st.IsDir() {
			continue
		}
		x, err := LoadIndex(repo)
		if err != nil {
			t.Fatal(err)
		}
		for f, docs := range x.Files {
			for _, d := range docs {
				if d.Node == nil {
					continue
				}
				total++
				v, err := decodedValue(d.Node)
				m, ok := v.(map[string]any)
				if err != nil || !ok {
					continue // docSpec takes the generic path
				}
				direct++
				if want := docSpecJSON(d); !reflect.DeepEqual(m, want) {
					t.Errorf("%s %s: direct %#v\nJSON %#v", filepath.Base(repo), f, v, want)
				}
			}
		}
	}
	if direct < total*9/10 {
		t.Errorf("only %d of %d documents converted directly", direct, total)
	}
	t.Logf("%d of %d documents converted directly", direct, total)
}

func FuzzDocSpec(f *testing.F) {
	f.Add("a: 1\nb: [x, 2.5, true, null, ~]\nc: {d: \"e\"}\n")
	f.Add("a: 0x1F\nb: 1e3\nc: !!binary aGk=\nd: 2024-01-01\n")
	f.Add("a: &x 1\nb: *x\n<<: {c: 2}\n")
	f.Add("a: 1\na: 2\n")
	f.Add("a: |\n  multi\n  line\nb: {c: , d}\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4000 {
			return
		}
		var n yaml.Node
		if yaml.Unmarshal([]byte(text), &n) != nil || len(n.Content) != 1 {
			return
		}
		d := &Doc{Node: n.Content[0]}
		v, err := decodedValue(d.Node)
		if err != nil {
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			return // docSpec takes the generic path
		}
		if want := docSpecJSON(d); !reflect.DeepEqual(m, want) {
			t.Fatalf("%q: direct %#v, JSON %#v", text, m, want)
		}
	})
}
