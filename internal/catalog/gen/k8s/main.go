// Command k8s generates the embedded Kubernetes schema catalog from the
// pinned k8s.io/kubernetes module zips: one strict JSON Schema catalog per
// supported minor, the removed-API table and the bootstrap RBAC policy.
// Run it through `go generate ./internal/catalog/`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
)

const swaggerPath = "api/openapi-spec/swagger.json"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	return gen.Run("k8s", ".", "directory to write the catalog files to", args, stderr, func(out string) error { return generate(out, stderr) })
}

func generate(out string, stderr io.Writer) error {
	var releases []ServedRelease
	pins := append(append([]gen.Pin{}, gen.KubernetesHistory...), gen.KubernetesCatalog...)
	inCatalog := map[string]bool{}
	for _, p := range gen.KubernetesCatalog {
		inCatalog[p.Version] = true
	}
	for _, p := range pins {
		warn := warner(stderr, p.Version)
		zipPath, err := gen.Zip(p)
		if err != nil {
			return err
		}
		sw, err := modzip.ReadFile(zipPath, p.Module, p.Version, swaggerPath)
		if err != nil {
			return err
		}
		served, err := ReadServed(gen.Minor(p.Version), sw, warn)
		if err != nil {
			return fmt.Errorf("%s@%s: %w", p.Module, p.Version, err)
		}
		releases = append(releases, served)
		if !inCatalog[p.Version] {
			continue
		}
		doc, err := BuildCatalog(p.Version, sw, warn)
		if err != nil {
			return fmt.Errorf("%s@%s: %w", p.Module, p.Version, err)
		}
		if err := gen.WriteGzip(filepath.Join(out, catalogFile(gen.Minor(p.Version))), doc); err != nil {
			return err
		}
	}
	sort.SliceStable(releases, func(i, j int) bool { return compareMinor(releases[i].Minor, releases[j].Minor) < 0 })
	removed, err := BuildRemoved(releases)
	if err != nil {
		return err
	}
	if err := gen.WriteGzip(filepath.Join(out, "removed.json.gz"), removed); err != nil {
		return err
	}

	newest := gen.Newest()
	zipPath, err := gen.Zip(newest)
	if err != nil {
		return err
	}
	var docs [][]byte
	for _, f := range BootstrapFiles {
		b, err := modzip.ReadFile(zipPath, newest.Module, newest.Version, BootstrapDir+f)
		if err != nil {
			return err
		}
		docs = append(docs, b)
	}
	lines, err := gen.JSONLines(JoinYAML(docs))
	if err != nil {
		return err
	}
	if err := gen.WriteGzip(filepath.Join(out, "bootstrap-rbac.json.gz"), lines); err != nil {
		return err
	}
	return gen.WriteFile(filepath.Join(out, "SOURCES.md"), gen.SourcesMarkdown())
}

// warner prints each distinct oddity of a release once.
func warner(w io.Writer, version string) func(string) {
	seen := map[string]bool{}
	return func(msg string) {
		if seen[msg] {
			return
		}
		seen[msg] = true
		fmt.Fprintf(w, "gen/k8s: %s: %s\n", version, msg)
	}
}

// compareMinor orders "1.9" before "1.16".
func compareMinor(a, b string) int {
	var am, an, bm, bn int
	_, _ = fmt.Sscanf(a, "%d.%d", &am, &an) // a version that does not parse sorts as 0.0
	_, _ = fmt.Sscanf(b, "%d.%d", &bm, &bn)
	if am != bm {
		return am - bm
	}
	return an - bn
}
