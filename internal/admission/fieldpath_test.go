package admission

import (
	"slices"
	"testing"
)

func TestObjectPaths(t *testing.T) {
	for _, c := range []struct {
		expr string
		want [][]string
	}{
		{"object.spec.replicas <= 3", [][]string{{"spec", "replicas"}}},
		{"has(object.metadata.labels) && 'team' in object.metadata.labels", [][]string{{"metadata", "labels"}, {"metadata", "labels"}}},
		{"object.spec.template.spec.containers[0].image.startsWith('x')", [][]string{{"spec", "template", "spec", "containers", "0", "image"}}},
		{"object.metadata.labels['app.kubernetes.io/name'] == 'x'", [][]string{{"metadata", "labels", "app.kubernetes.io/name"}}},
		{"oldObject.spec.x == params.object.y", nil},
		{"object.?spec.?replicas.orValue(1) < 3", [][]string{{"spec", "replicas"}}},
		{"object", nil},
	} {
		if got := objectPaths(c.expr); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%q: got %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestDeepestPath(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "x"}}}}
	got := deepestPath(obj, [][]string{{"spec", "missing"}, {"spec", "containers", "0", "image"}, {"spec", "containers", "7"}})
	if !slices.Equal(got, []string{"spec", "containers", "0", "image"}) {
		t.Fatalf("got %q", got)
	}
}

// FuzzObjectPaths: any expression text gives paths of non-empty parts,
// without a panic.
func FuzzObjectPaths(f *testing.F) {
	for _, s := range []string{"object.spec.replicas", "object.a['b'].c[0]", "object.[", "object.a[\"", "object.?x", "objectobject.x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, p := range objectPaths(expr) {
			for _, part := range p {
				if part == "" && !slices.Contains(p, "") {
					t.Fatalf("empty part in %q", p)
				}
			}
			_ = existing(map[string]any{"a": []any{1}}, p)
		}
	})
}
