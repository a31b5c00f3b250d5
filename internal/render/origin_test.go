package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestOriginsWithoutAnnotations: objects are located at the documents
// they come from, whether the renderer finds their files itself or asks
// kustomize (its origin annotations), and it asks exactly when it cannot
// be certain.
func TestOriginsWithoutAnnotations(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	for _, tc := range []struct {
		name      string
		files     map[string]string
		want      map[string]string // object name → file:line
		annotated int64
	}{{
		name: "resources and a patch that looks like one",
		files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\npatches:\n  - path: patch.yaml\n",
			"app/a.yaml":             fmt.Sprintf(cm, "a"),
			"app/b.yaml":             fmt.Sprintf(cm, "b") + "---\n" + fmt.Sprintf(cm, "c"),
			"app/patch.yaml":         fmt.Sprintf(cm, "a") + "data:\n  k: v\n",
		},
		want: map[string]string{"a": "app/a.yaml:1", "b": "app/b.yaml:1", "c": "app/b.yaml:6"},
	}, {
		name: "a name prefix through a base",
		files: map[string]string{
			"app/kustomization.yaml":      "namePrefix: o-\nresources:\n  - ../base\n",
			"base/kustomization.yaml":     "resources:\n  - x.yaml\n",
			"base/x.yaml":                 fmt.Sprintf(cm, "x"),
			"base/not-listed.yaml":        fmt.Sprintf(cm, "o-x"),
			"app/unrelated/kustomization": "",
		},
		want: map[string]string{"o-x": "base/x.yaml:1"},
	}, {
		name: "a Namespace kustomize names after namespace:",
		files: map[string]string{
			"app/kustomization.yaml":    "resources:\n  - ns\n",
			"app/ns/kustomization.yaml": "namespace: team\nresources:\n  - namespace.yaml\n  - cm.yaml\n",
			"app/ns/namespace.yaml":     "# the name is a placeholder\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: _\n",
			"app/ns/cm.yaml":            fmt.Sprintf(cm, "x"),
		},
		want: map[string]string{"team": "app/ns/namespace.yaml:2", "x": "app/ns/cm.yaml:1"},
	}, {
		name: "a generated ConfigMap is the generator's",
		files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - a.yaml\nconfigMapGenerator:\n  - name: settings\n    literals: [k=v]\n",
			"app/a.yaml":             fmt.Sprintf(cm, "other"),
		},
		want: map[string]string{"other": "app/a.yaml:1", "settings-*": "app/kustomization.yaml:1"},
	}, {
		name: "a resource whose name holds a generator's is located by kustomize",
		files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - a.yaml\nconfigMapGenerator:\n  - name: settings\n    literals: [k=v]\n",
			"app/a.yaml":             fmt.Sprintf(cm, "settings-old"),
		},
		want:      map[string]string{"settings-old": "app/a.yaml:1", "settings-*": "app/kustomization.yaml:1"},
		annotated: 1,
	}, {
		name: "a generator that merges is located by kustomize",
		files: map[string]string{
			"app/kustomization.yaml":  "resources:\n  - ../base\nconfigMapGenerator:\n  - name: settings\n    behavior: merge\n    literals: [k=w]\n",
			"base/kustomization.yaml": "configMapGenerator:\n  - name: settings\n    literals: [k=v]\n",
		},
		want:      map[string]string{"settings-*": "base/kustomization.yaml:1"},
		annotated: 1,
	}, {
		name: "one name in two files",
		files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n",
			"app/a.yaml":             fmt.Sprintf(cm, "same") + "  namespace: one\n",
			"app/b.yaml":             "# comment\n" + fmt.Sprintf(cm, "same") + "  namespace: two\n",
		},
		want:      map[string]string{"same": "app/a.yaml:1|app/b.yaml:2"},
		annotated: 1,
	}, {
		name: "a patch that may remove annotations",
		files: map[string]string{
			"app/kustomization.yaml": "resources:\n  - a.yaml\npatches:\n  - patch: |-\n      - op: remove\n        path: /metadata/annotations\n    target:\n      kind: ConfigMap\n",
			"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: y\n",
		},
		want:      map[string]string{"a": "app/kustomization.yaml:1"}, // the transformer, as kustomize records it
		annotated: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
				"clusters/dev/app.yaml":                   fmt.Sprintf(testutil.FluxKustomization, "app", "./app"),
			}
			for k, v := range tc.files {
				files[k] = v
			}
			res := renderHostile(t, testutil.WriteTree(t, t.TempDir(), files))
			got := map[string]string{}
			for _, o := range findKs(t, res.Environments[0], "flux-system/app").Objects {
				name := o.Name()
				if strings.HasPrefix(name, "settings-") && name != "settings-old" {
					name = "settings-*"
				}
				got[name] += "|" + fmt.Sprintf("%s:%d", o.File, o.Line)
			}
			for name, want := range tc.want {
				if strings.TrimPrefix(got[name], "|") != want {
					t.Errorf("%s is at %s, want %s", name, strings.TrimPrefix(got[name], "|"), want)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("objects %v, want %v", got, tc.want)
			}
			if res.annotatedBuilds != tc.annotated {
				t.Errorf("%d builds asked kustomize for origins, want %d", res.annotatedBuilds, tc.annotated)
			}
		})
	}
}
