package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

func crd(name string) string {
	return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: " + name + "\nspec:\n  group: x\n"
}

func TestStream(t *testing.T) {
	files := []File{
		// controller-gen style: a leading separator.
		{Origin: "a@v1/config/crd/bases/b.yaml", Data: []byte("---\n" + crd("zebras.example.com"))},
		// A distribution manifest: CRDs mixed with other kinds.
		{Origin: "op@v1/data/ctrl.yaml", Data: []byte(crd("apples.example.com") + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ctrl\n---\n" + crd("mangos.example.com") + "---\n")},
	}
	got, err := Stream(files, []string{"apples.example.com", "zebras.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := "---\n" + crd("apples.example.com") + "---\n" + crd("mangos.example.com") + "---\n" + crd("zebras.example.com")
	if string(got) != want {
		t.Errorf("Stream =\n%s\nwant\n%s", got, want)
	}
}

func TestStreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    []File
		expected []string
		want     string
	}{
		{"missing", []File{{Origin: "a", Data: []byte(crd("a.example.com"))}}, []string{"b.example.com"}, "b.example.com not found"},
		{"duplicate", []File{{Origin: "a", Data: []byte(crd("a.example.com"))}, {Origin: "b", Data: []byte(crd("a.example.com"))}}, nil, "in both a and b"},
		{"v1beta1", []File{{Origin: "a", Data: []byte(strings.Replace(crd("a.example.com"), "/v1", "/v1beta1", 1))}}, nil, "want apiextensions.k8s.io/v1"},
		{"no name", []File{{Origin: "a", Data: []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n")}}, nil, "no metadata.name"},
		{"bad yaml", []File{{Origin: "a", Data: []byte("kind: [\n")}}, nil, "parse a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Stream(tc.files, tc.expected)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestReproducible rebuilds the stream from the module cache and compares
// it with the committed crds.json.gz. It skips when a pinned zip is not
// cached: it never downloads.
func TestReproducible(t *testing.T) {
	pins := map[string]gen.Pin{}
	for _, p := range gen.CRDs {
		pins[p.Module] = p
	}
	var files []File
	for _, s := range sources {
		p := pins[s.module]
		z, err := modzip.CachedZip(p.Module, p.Version)
		if err != nil {
			t.Skipf("%v (go generate ./internal/catalog/ downloads it)", err)
		}
		for _, pattern := range s.patterns {
			got, err := modzip.Glob(z, p.Module, p.Version, pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range modzip.Names(got) {
				files = append(files, File{Origin: name, Data: got[name]})
			}
		}
	}
	first, err := Stream(files, Expected)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Stream(files, Expected)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two runs differ")
	}
	lines, err := gen.JSONLines(first)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := gen.ReadGzip(filepath.Join("..", "..", "crds.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, lines) {
		t.Error("crds.json.gz is stale: run make generate")
	}
	// Each line decodes to what the YAML decodes to.
	want, err := objects.Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := utiljson.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("the JSON lines do not decode to the YAML stream's objects")
	}
	md, err := os.ReadFile(filepath.Join("..", "..", "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, gen.SourcesMarkdown()) {
		t.Error("SOURCES.md is stale: run make generate")
	}
}
