package render

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
)

// TestToUnstructuredMatchesJSON checks the fast node walk against the exact
// JSON round trip on scalars of every kind.
func TestToUnstructuredMatchesJSON(t *testing.T) {
	docs := []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  s: \"1\"\n  t: 'yes'\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\nspec:\n  replicas: 3\n  x: -0\n  f: 1.5\n  g: 2.0\n  h: 1e3\n  i: 0x1F\n  j: 0o17\n  k: 017\n  l: true\n  m: ~\n  n: [1, 2.25, \"3\", null]\n  big: 12345678901234567890\n  date: 2024-01-02\n  multi: |\n    a\n\n    b\n",
		"apiVersion: v1\nkind: List\nmetadata:\n  name: c\nitems: []\nempty: {}\n",
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
