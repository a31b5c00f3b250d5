// Package gen holds what the schema catalog generators (gen/k8s, gen/crds)
// share: the pinned upstream modules, reproducible gzip output and the
// generated SOURCES.md. Everything the catalog is made from is pinned here,
// so `go generate` gives the same bytes on every machine.
package gen

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
)

// Pin is one upstream module version the catalog is generated from.
type Pin struct {
	Module  string
	Version string
	// Sum is the module zip's h1: hash as go.sum records it. The go command
	// already checks zips against the checksum database; pinning it here as
	// well makes a changed pin show up in review as a changed sum.
	Sum string
	// Use says what the generators read from the module, for SOURCES.md.
	Use string
}

// Kubernetes is the module the Kubernetes OpenAPI documents come from.
const Kubernetes = "k8s.io/kubernetes"

// KubernetesCatalog pins the newest patch of each of the four newest minors:
// each gets a kubernetes-v1.NN.json.gz with the full schemas. The last one is
// "the newest" for the removed-API table and the bootstrap RBAC policy.
var KubernetesCatalog = []Pin{
	{Kubernetes, "v1.34.4", "h1:Yy6R4QB8C9kJPp25GFqEvX5XQwY5qzKeqD0Xx6oAcmk=", "api/openapi-spec/swagger.json"},
	{Kubernetes, "v1.35.4", "h1:o/8dBC/pHVpYoGV4OAIytAlNPZbdYVTXJHoYvXC4qzM=", "api/openapi-spec/swagger.json"},
	{Kubernetes, "v1.36.3", "h1:qDQdoMiluAE2Eab6Fa52YV+WjiGz9mZFFoagEA6cI+o=", "api/openapi-spec/swagger.json"},
	{Kubernetes, "v1.37.2", "h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=", "api/openapi-spec/swagger.json, plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata"},
}

// KubernetesHistory pins the last patch of every older minor back to 1.16.
// Only the API versions and kinds they serve are used (removed.json.gz).
// The proxy's version list omits most of these; they are fetched by exact
// version.
var KubernetesHistory = []Pin{
	{Kubernetes, "v1.16.15", "h1:JNIbOrzvNRcGO07TVvTosW5ubMwc5LfuQdu7cy104Dg=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.17.17", "h1:4JbBX+ak70Fh7jYmU7yLQ9bpfPtlD1E43mUxKcWBtqo=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.18.20", "h1:y09UE3cZyAgZeKkswkrDO0+HKKuo+p+P8w7xtGWblYQ=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.19.16", "h1:8dftf618+l3zwEU1REY0hnyfGMSw1SgHgv1QMpHHHx0=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.20.15", "h1:eGwdo4cRbRbi3AuFxQxzKz/uObB8nFt7eNhc3/KN4r0=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.21.14", "h1:MG74ErEiIbnyhiVqHNWagtNnysdzgkFBvVrTypf0/kw=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.22.17", "h1:RwbUxcpDoy8LSj/o7Mj4qhF2GPavzony4GkxVlQVNrA=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.23.17", "h1:nzPjHGp+Qbh44wHxPv4DJp4Znot26yuENYLMu4Av6ZU=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.24.17", "h1:+4+5VIoxcDv35PnVELouMdDC58AQF/sWs+hjjr4Ra44=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.25.16", "h1:pdtEdre7aInDvXas+mWzpTiK/7cpcaGRyYB+Bedr2+Q=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.26.15", "h1:o65B3kKH7q9xK2h2323rKKThI1rp3ZarXpb8asT932U=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.27.16", "h1:DHFqj/HTUqHStFlRH9wCKPocqgHsjR6Q/DzYarB2QQE=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.28.15", "h1:d91N2Znk+E8REIJZlrD6za2JtIwvEypa0DB1IoU4fJ0=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.29.15", "h1:hLcyf3XmxtfkubCEmmPX5QVD7lDclXjvEUrJeP283LM=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.30.14", "h1:MrlKXh9uhLIJpyxOeXhcndzRVSvwiV9iJ8NgH8nqPsg=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.31.14", "h1:UtjLfqvXLuSVDdJ4+NpQCIfFkKkLnAAVmxAEMsnkhjk=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.32.13", "h1:5TGYdZ6YZqdp6h/Rp1vX/4TIoybMPdgv97LCZCtPuNQ=", "api/openapi-spec/swagger.json (served kinds only)"},
	{Kubernetes, "v1.33.13", "h1:bmH31xUdSzeA5vk0wZAK9MZp11mdLuzUSeKk0qN3hPQ=", "api/openapi-spec/swagger.json (served kinds only)"},
}

// Flux and friends: where each CRD set is read from.
const (
	SourceController    = "github.com/fluxcd/source-controller"
	KustomizeController = "github.com/fluxcd/kustomize-controller"
	FluxOperator        = "github.com/controlplaneio-fluxcd/flux-operator"
	SealedSecrets       = "github.com/bitnami-labs/sealed-secrets"
)

// FluxDistribution is the Flux release whose manifests flux-operator ships;
// its CRDs stand in for the controllers whose root modules the Go module
// proxy does not serve (helm-, notification-, image-reflector-,
// image-automation-controller, source-watcher).
const FluxDistribution = "v2.9.5"

// CRDs pins the modules the Flux CRD stream is read from.
var CRDs = []Pin{
	{SourceController, "v1.9.6", "h1:nG534/bI6nVpyHra7ONAk6xDB3xPsVT+EOLHZHXPrrc=", "config/crd/bases/*.yaml"},
	{KustomizeController, "v1.9.6", "h1:XB+G3A0mky0j5uVHZWv4oSlS2RvZBoNIUhstIvY0JKE=", "config/crd/bases/*.yaml"},
	{FluxOperator, "v0.59.0", "h1:jByuiWYtjSJxucGHuz68tV0DeVFz5CYrKQYfxAwE7lE=",
		"config/data/flux/" + FluxDistribution + "/{helm-controller,notification-controller,image-reflector-controller,image-automation-controller,source-watcher}.yaml (CustomResourceDefinition documents only: helm-controller v1.6.4, notification-controller v1.9.4, image-reflector-controller v1.2.5, image-automation-controller v1.2.5, source-watcher v2.2.4); config/crd/bases/fluxcd.controlplane.io_*.yaml (the operator's own FluxInstance, FluxReport, ResourceSet, ResourceSetInputProvider)"},
	{SealedSecrets, "v0.40.0", "h1:rvCP35JL8ZV5LNA2SrwNR6iLyoM3ulrSFWN0lBtYEYI=", "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml"},
}

// Newest is the newest pinned Kubernetes version.
func Newest() Pin { return KubernetesCatalog[len(KubernetesCatalog)-1] }

// Minor turns "v1.37.2" into "1.37".
func Minor(version string) string {
	v := strings.TrimPrefix(version, "v")
	if i := strings.IndexByte(v, '.'); i >= 0 {
		if j := strings.IndexByte(v[i+1:], '.'); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}

// Zip downloads (or finds in the module cache) the pinned module and checks
// its checksum against the pin.
func Zip(p Pin) (string, error) {
	m, err := modzip.Fetch(p.Module, p.Version)
	if err != nil {
		return "", err
	}
	if p.Sum != "" && m.Sum != p.Sum {
		return "", fmt.Errorf("check %s@%s: checksum %s, pinned %s: update the pin only after checking why it changed", p.Module, p.Version, m.Sum, p.Sum)
	}
	return m.Zip, nil
}

// Gzip compresses data reproducibly: best compression and a header with no
// name, no comment and no modification time, so equal input gives equal
// bytes (for a given Go release's compress/flate).
func Gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteGzip writes data gzipped to path, replacing the file only when the
// bytes differ so that an unchanged catalog keeps its timestamp.
func WriteGzip(path string, data []byte) error {
	gz, err := Gzip(data)
	if err != nil {
		return fmt.Errorf("compress %s: %w", path, err)
	}
	return WriteFile(path, gz)
}

// ReadGzip reads the gzip file at path (a committed catalog file) whole.
func ReadGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// WriteFile writes b to path unless the file already holds exactly b.
func WriteFile(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SourcesMarkdown renders SOURCES.md from the pins alone, so that either
// generator can write it and both write the same bytes.
func SourcesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Sources of the embedded schema catalog\n\n")
	b.WriteString("Generated by `go generate ./internal/catalog/` from the pins in\n")
	b.WriteString("`internal/catalog/gen/gen.go`; do not edit. Every file is read from a module\n")
	b.WriteString("zip of the Go module proxy, verified by the go command against the checksum\n")
	b.WriteString("database and against the sum pinned here. gitops-lint downloads nothing at run time.\n\n")
	section := func(title, produces string, pins []Pin) {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", title, produces)
		b.WriteString("| module@version | go.sum hash | files read |\n| --- | --- | --- |\n")
		for _, p := range pins {
			fmt.Fprintf(&b, "| %s@%s | `%s` | %s |\n", p.Module, p.Version, p.Sum, p.Use)
		}
		b.WriteString("\n")
	}
	section("Kubernetes schemas", "`kubernetes-v1.NN.json.gz` (one per version), `bootstrap-rbac.json.gz` (one v1 List a line, compact JSON decoded from the YAML of "+Newest().Version+": cluster-roles, cluster-role-bindings, namespace-roles, namespace-role-bindings), and, with the older minors below, `removed.json.gz`.", KubernetesCatalog)
	section("Kubernetes history", "`removed.json.gz`: the last patch of every older minor, read for the API versions and kinds it serves.", KubernetesHistory)
	section("Custom resource definitions", "`crds.json.gz`: one CRD a line (compact JSON, decoded from upstream's YAML), sorted by CRD name: Flux's controllers, the Flux Operator's own kinds, Sealed Secrets.", CRDs)
	return b.Bytes()
}

// Run is the command line of a generator: -out (defaulting to defOut,
// described by usage) then generate; exit 2 for bad flags, 1 when
// generating fails (said on stderr as "gen/NAME: error").
func Run(name, defOut, usage string, args []string, stderr io.Writer, generate func(out string) error) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", defOut, usage)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := generate(*out); err != nil {
		fmt.Fprintf(stderr, "gen/%s: %v\n", name, err)
		return 1
	}
	return 0
}
