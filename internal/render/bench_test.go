package render

import (
	"context"
	"testing"
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
