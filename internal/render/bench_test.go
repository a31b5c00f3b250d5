package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// BenchmarkRenderOnedr0p renders the whole Flux tree of the largest corpus
// repository (78 Flux Kustomizations, 104 kustomizations).
func BenchmarkRenderOnedr0p(b *testing.B) {
	root := sharedDir(b, "corpus/onedr0p-home-ops")
	for b.Loop() {
		res, err := Render(context.Background(), Options{Root: root})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Environments) != 1 {
			b.Fatalf("got %d environments", len(res.Environments))
		}
	}
}

// BenchmarkLoadIndexOnedr0p measures reading and parsing every YAML file.
func BenchmarkLoadIndexOnedr0p(b *testing.B) {
	root := sharedDir(b, "corpus/onedr0p-home-ops")
	for b.Loop() {
		if _, err := LoadIndex(root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChangedSinceOnedr0p renders for --changed-since after a
// one-line change to one app's HelmRelease: two Kustomizations are linted,
// the parent that lists them is built lean.
func BenchmarkChangedSinceOnedr0p(b *testing.B) {
	src := sharedDir(b, "corpus/onedr0p-home-ops")
	root := testutil.CopyTree(b, src)
	const file = "kubernetes/apps/default/plex/app/helmrelease.yaml"
	p := filepath.Join(root, filepath.FromSlash(file))
	orig, err := os.ReadFile(p)
	if err != nil {
		b.Skip(err)
	}
	if err := os.WriteFile(p, append(slices.Clone(orig), "# changed\n"...), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := Options{Root: root, ChangedOnly: true, Changed: []string{file}, Needs: everyNeed, BaseContent: map[string][]byte{file: orig}}
	for b.Loop() {
		res, err := Render(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, k := range res.Environments[0].Kustomizations {
			if !k.Unchanged {
				n++
			}
		}
		if n == 0 {
			b.Fatal("nothing selected")
		}
	}
}
