// Command crds generates the embedded stream of Flux's own
// CustomResourceDefinitions (plus the Flux Operator's and Sealed Secrets')
// from pinned module zips.
// Run it through `go generate ./internal/catalog/`.
//
// source-controller and kustomize-controller publish config/crd/bases in
// their root modules. The Go module proxy does not serve the root modules of
// helm-controller, notification-controller, image-reflector-controller,
// image-automation-controller or source-watcher (only their api/
// submodules, which hold Go types and no CRDs), so their CRDs come from the
// Flux distribution manifests that flux-operator vendors per Flux release.
// The Flux Operator's own CRDs (FluxInstance, FluxReport, ResourceSet,
// ResourceSetInputProvider) come from the same module's config/crd/bases.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
)

// source is where one pinned module's CRDs are.
type source struct {
	module string
	// patterns are path.Match patterns relative to the module root.
	patterns []string
}

var sources = []source{
	{gen.SourceController, []string{"config/crd/bases/*.yaml"}},
	{gen.KustomizeController, []string{"config/crd/bases/*.yaml"}},
	{gen.FluxOperator, []string{
		"config/data/flux/" + gen.FluxDistribution + "/helm-controller.yaml",
		"config/data/flux/" + gen.FluxDistribution + "/notification-controller.yaml",
		"config/data/flux/" + gen.FluxDistribution + "/image-reflector-controller.yaml",
		"config/data/flux/" + gen.FluxDistribution + "/image-automation-controller.yaml",
		"config/data/flux/" + gen.FluxDistribution + "/source-watcher.yaml",
		"config/crd/bases/fluxcd.controlplane.io_*.yaml",
	}},
	{gen.SealedSecrets, []string{"helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml"}},
}

// Expected lists every CRD the stream must hold, so that an upstream file
// moving fails generation instead of silently dropping a kind.
var Expected = []string{
	"alerts.notification.toolkit.fluxcd.io",
	"artifactgenerators.source.extensions.fluxcd.io",
	"buckets.source.toolkit.fluxcd.io",
	"externalartifacts.source.toolkit.fluxcd.io",
	"fluxinstances.fluxcd.controlplane.io",
	"fluxreports.fluxcd.controlplane.io",
	"gitrepositories.source.toolkit.fluxcd.io",
	"helmcharts.source.toolkit.fluxcd.io",
	"helmreleases.helm.toolkit.fluxcd.io",
	"helmrepositories.source.toolkit.fluxcd.io",
	"imagepolicies.image.toolkit.fluxcd.io",
	"imagerepositories.image.toolkit.fluxcd.io",
	"imageupdateautomations.image.toolkit.fluxcd.io",
	"kustomizations.kustomize.toolkit.fluxcd.io",
	"ocirepositories.source.toolkit.fluxcd.io",
	"providers.notification.toolkit.fluxcd.io",
	"receivers.notification.toolkit.fluxcd.io",
	"resourcesetinputproviders.fluxcd.controlplane.io",
	"resourcesets.fluxcd.controlplane.io",
	"sealedsecrets.bitnami.com",
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	return gen.Run("crds", ".", "directory to write crds.json.gz and SOURCES.md to", args, stderr, generate)
}

func generate(out string) error {
	pins := map[string]gen.Pin{}
	for _, p := range gen.CRDs {
		pins[p.Module] = p
	}
	var files []File
	for _, s := range sources {
		p, ok := pins[s.module]
		if !ok {
			return fmt.Errorf("no pin for %s", s.module)
		}
		zipPath, err := gen.Zip(p)
		if err != nil {
			return err
		}
		for _, pattern := range s.patterns {
			got, err := modzip.Glob(zipPath, p.Module, p.Version, pattern)
			if err != nil {
				return err
			}
			for _, name := range modzip.Names(got) {
				files = append(files, File{Origin: p.Module + "@" + p.Version + "/" + name, Data: got[name]})
			}
		}
	}
	stream, err := Stream(files, Expected)
	if err != nil {
		return err
	}
	lines, err := gen.JSONLines(stream)
	if err != nil {
		return err
	}
	if err := gen.WriteGzip(filepath.Join(out, "crds.json.gz"), lines); err != nil {
		return err
	}
	return gen.WriteFile(filepath.Join(out, "SOURCES.md"), gen.SourcesMarkdown())
}
