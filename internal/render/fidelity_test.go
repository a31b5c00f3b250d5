package render

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// sharedDir returns ../shared (relative to the module root), skipping the
// test when it is absent, as in a user's fresh clone.
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	wd, _ := os.Getwd()
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", sub)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("%s not found: the shared corpus is only present in the development workspace and CI", p)
			}
			return p
		}
	}
	t.Skip("module root not found")
	return ""
}

// TestFidelity compares BuildOne with what `flux build kustomization
// --dry-run` (flux v2.9.5) rendered for every Flux Kustomization of the
// corpus repos: the same objects, and the same content after removing the
// owner labels flux build adds and SOPS data it masks.
func TestFidelity(t *testing.T) {
	for _, repo := range []string{"flux2-multi-tenancy", "onedr0p-home-ops"} {
		t.Run(repo, func(t *testing.T) {
			want := sharedDir(t, filepath.Join("fidelity", repo))
			root := sharedDir(t, filepath.Join("corpus", repo))
			x, err := LoadIndex(root)
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewBuilder(Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			compared := 0
			for _, d := range x.Docs() {
				if !isFluxKustomization(d.APIVersion, d.Kind) {
					continue
				}
				golden := filepath.Join(want, strings.ReplaceAll(d.File, "/", "_")+"__"+d.Name+".yaml")
				data, err := os.ReadFile(golden)
				if err != nil {
					continue // not sourced from the repo itself
				}
				compared++
				t.Run(d.File+"/"+d.Name, func(t *testing.T) {
					k, fs, err := b.BuildOne(context.Background(), d.File, d.Name)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range fs {
						if f.Severity == "error" {
							t.Errorf("unexpected finding: %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
						}
					}
					compareObjects(t, decodeStream(t, data), k.Objects)
				})
			}
			if compared == 0 {
				t.Fatal("no fidelity file matched a Kustomization of the corpus")
			}
			t.Logf("%d Kustomizations compared", compared)
		})
	}
}

func decodeStream(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decode fidelity file: %v", err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

func idOf(m map[string]any) string {
	u := unstructured.Unstructured{Object: m}
	return u.GetAPIVersion() + " " + u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// normalize removes what flux build adds (owner labels) or masks (SOPS
// data) and round-trips through JSON so numbers compare equal.
func normalize(t *testing.T, m map[string]any) any {
	t.Helper()
	m = (&unstructured.Unstructured{Object: m}).DeepCopy().Object
	u := unstructured.Unstructured{Object: m}
	labels := u.GetLabels()
	delete(labels, "kustomize.toolkit.fluxcd.io/name")
	delete(labels, "kustomize.toolkit.fluxcd.io/namespace")
	u.SetLabels(labels)
	if len(labels) == 0 {
		unstructured.RemoveNestedField(m, "metadata", "labels")
	}
	if _, sops := m["sops"]; sops && u.GetKind() == "Secret" {
		delete(m, "data")
		delete(m, "stringData")
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func compareObjects(t *testing.T, want []map[string]any, got []*Object) {
	t.Helper()
	wantBy := map[string]map[string]any{}
	for _, m := range want {
		wantBy[idOf(m)] = m
	}
	gotBy := map[string]map[string]any{}
	for _, o := range got {
		gotBy[idOf(o.Content)] = o.Content
	}
	var ids []string
	for id := range wantBy {
		ids = append(ids, id)
	}
	for id := range gotBy {
		if _, ok := wantBy[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		w, inWant := wantBy[id]
		g, inGot := gotBy[id]
		switch {
		case !inGot:
			t.Errorf("missing object %s", id)
		case !inWant:
			t.Errorf("unexpected object %s", id)
		default:
			nw, ng := normalize(t, w), normalize(t, g)
			if !reflect.DeepEqual(nw, ng) {
				wb, _ := yaml.Marshal(nw)
				gb, _ := yaml.Marshal(ng)
				t.Errorf("object %s differs:\n--- flux build\n%s\n--- gitops-lint\n%s", id, wb, gb)
			}
		}
	}
}
