// Package catalog embeds the schema data gitops-lint validates against:
// strict JSON Schema catalogs of Kubernetes' built-in kinds for several
// minors, the table of removed API versions, the CustomResourceDefinitions
// of Flux, of the Flux Operator (and of Sealed Secrets) and Kubernetes'
// bootstrap RBAC policy.
//
// Everything here is generated from pinned module zips of the Go module
// proxy (see SOURCES.md and internal/catalog/gen); nothing is downloaded at
// run time. Regenerate with `make generate`; `make check-generate` checks
// that the committed files are what the generators produce.
package catalog

//go:generate go run ./gen/k8s
//go:generate go run ./gen/crds

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

//go:embed *.gz
var files embed.FS

// FluxRelease is the Flux distribution the embedded CRDs come from (kept
// equal to the generator's pin by a test).
const FluxRelease = "v2.9.5"

const (
	kubernetesPrefix = "kubernetes-v"
	kubernetesSuffix = ".json.gz"
)

// Versions returns the Kubernetes minors ("1.34", ..., "1.37") that have an
// embedded catalog, oldest first.
func Versions() []string {
	entries, err := fs.Glob(files, kubernetesPrefix+"*"+kubernetesSuffix)
	if err != nil {
		return nil // the pattern is constant and valid
	}
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(e, kubernetesPrefix), kubernetesSuffix))
	}
	sort.Slice(out, func(i, j int) bool { return minorLess(out[i], out[j]) })
	return out
}

// Kubernetes returns the decompressed catalog of a minor ("1.37" or
// "v1.37"): a JSON object with "version" (the patch release it was made
// from), "definitions" (JSON Schemas; $refs point at #/definitions/NAME)
// and "kinds" (keyed "apiVersion/Kind": definition, resource, namespaced,
// subresources).
//
// It is decompressed once per process (the schema checker and the RBAC
// simulation both read the newest) and shared: callers must not modify it.
func Kubernetes(minor string) ([]byte, error) {
	minor = strings.TrimPrefix(minor, "v")
	name := kubernetesPrefix + minor + kubernetesSuffix
	f, _ := kubernetesData.LoadOrStore(name, sync.OnceValues(func() ([]byte, error) { return read(name) }))
	b, err := f.(func() ([]byte, error))()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no schema catalog for Kubernetes %s is embedded (embedded: %s): %w", minor, strings.Join(Versions(), ", "), fs.ErrNotExist)
	}
	return b, err
}

// kubernetesData holds, by file name, a func returning the decompressed
// catalog, decompressed on its first call.
var kubernetesData sync.Map

// Removed returns the decompressed removed-API table: a JSON object keyed
// "apiVersion/Kind" with lastServed ("1.24"), replacement (an apiVersion
// serving the same kind in the newest catalog, or "") and, when upstream
// says so, deprecatedIn.
func Removed() ([]byte, error) { return read("removed.json.gz") }

// FluxCRDs returns the decompressed stream of the
// CustomResourceDefinitions of the Flux controllers, source-watcher, the
// Flux Operator (fluxcd.controlplane.io: FluxInstance, FluxReport,
// ResourceSet, ResourceSetInputProvider) and Sealed Secrets, sorted by CRD
// name: one CRD a line, as compact JSON (a JSON stream objects.Decode
// reads), which the generator decoded from upstream's YAML. They are
// upstream's, unpatched: the Flux Operator's additions to
// notification-controller's CRDs are applied by internal/schema.
func FluxCRDs() ([]byte, error) { return read("crds.json.gz") }

var fluxCRDObjects = sync.OnceValues(func() ([]map[string]any, error) {
	data, err := FluxCRDs()
	if err != nil {
		return nil, err
	}
	return DecodeLines(data)
})

// DecodeLines decodes a stream of one JSON object a line (FluxCRDs,
// BootstrapRBAC) as objects.Decode does (int64/float64 numbers), without
// its stream reader's second pass over each document.
func DecodeLines(data []byte) ([]map[string]any, error) {
	out := make([]map[string]any, 0, bytes.Count(data, []byte("\n")))
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := utiljson.Unmarshal(line, &m); err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// FluxCRDObjects returns the embedded CRDs decoded (int64/float64 numbers),
// decoded once per process and shared: callers must not modify them.
func FluxCRDObjects() ([]map[string]any, error) { return fluxCRDObjects() }

// BootstrapRBAC returns the decompressed stream of the newest catalog's
// bootstrap RBAC policy: cluster roles, cluster role bindings, namespace
// roles and namespace role bindings, each a v1 List on a line of its own
// as compact JSON (DecodeLines reads it), which the generator decoded
// from upstream's YAML.
func BootstrapRBAC() ([]byte, error) { return read("bootstrap-rbac.json.gz") }

func read(name string) ([]byte, error) {
	gz, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("decompress embedded %s: %w", name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress embedded %s: %w", name, err)
	}
	return b, nil
}

// minorLess orders "1.9" before "1.10".
func minorLess(a, b string) bool {
	am, an := splitMinor(a)
	bm, bn := splitMinor(b)
	if am != bm {
		return am < bm
	}
	return an < bn
}

func splitMinor(v string) (int, int) {
	major, minor, _ := strings.Cut(v, ".")
	m, _ := strconv.Atoi(major)
	n, _ := strconv.Atoi(minor)
	return m, n
}
