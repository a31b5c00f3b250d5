package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/charts"
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

// BenchmarkRenderOnedr0pCharts renders onedr0p with its HelmReleases,
// from the chart cache GITOPS_LINT_BENCH_CHARTS names (built by
// scripts/corpus-charts.sh --stand-in: 26 app-template releases render).
func BenchmarkRenderOnedr0pCharts(b *testing.B) {
	root := sharedDir(b, "corpus/onedr0p-home-ops")
	dir := os.Getenv("GITOPS_LINT_BENCH_CHARTS")
	if dir == "" {
		b.Skip("GITOPS_LINT_BENCH_CHARTS is not set: build a cache with scripts/corpus-charts.sh --stand-in DIR")
	}
	cache, err := charts.Open(root, dir)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := Render(context.Background(), Options{Root: root, Charts: cache})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, k := range res.Environments[0].Kustomizations {
			if k.Kind == KindHelmRelease {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no HelmRelease rendered")
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
