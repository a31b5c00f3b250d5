// Command openapi generates the reduced Kubernetes OpenAPI document that
// gitops-lint installs as kustomize's schema (internal/render/openapi.go)
// in place of kyaml's built-in one, which takes ~90 ms of CPU to parse.
//
// It reads kyaml's built-in swagger.pb out of the kyaml module zip, at the
// version go.mod pins (the version this generator is built against), and
// converts it exactly as kyaml does (protobuf → gnostic → spec.Swagger).
// It then keeps only what kyaml reads:
//
//   - every definition, with its schema keywords and x-kubernetes-*
//     extensions, minus documentation (description, title, example,
//     externalDocs), which kyaml never reads. A schema that would be left
//     empty keeps its description: kyaml tells a missing schema from a
//     present one by comparing with the empty schema.
//   - of the paths, only what findNamespaceability reads: one GET per
//     group-version-kind carrying its x-kubernetes-group-version-kind,
//     under a path with "namespaces/{namespace}" when any of the kind's
//     paths has it (namespaced), else under its first path.
//
// The output is JSON with sorted keys, gzipped reproducibly. Run it through
// `go generate ./internal/render/`.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime/debug"
	"sort"
	"strings"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/kustomize/kyaml/openapi/kubernetesapi"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
)

const kyamlModule = "sigs.k8s.io/kustomize/kyaml"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	return gen.Run("openapi", "kustomize-openapi.json.gz", "file to write the gzipped document to", args, stderr, generate)
}

func generate(out string) error {
	version, err := kyamlVersion()
	if err != nil {
		return err
	}
	zipPath, err := modzip.Download(kyamlModule, version)
	if err != nil {
		return err
	}
	name := AssetPath(kubernetesapi.DefaultOpenAPI)
	pb, err := modzip.ReadFile(zipPath, kyamlModule, version, "openapi/"+name)
	if err != nil {
		return err
	}
	// The generator runs the kyaml go.mod pins: its compiled-in asset is
	// what gitops-lint would otherwise parse, and must be the zip's.
	if !bytes.Equal(pb, kubernetesapi.OpenAPIMustAsset[kubernetesapi.DefaultOpenAPI](name)) {
		return fmt.Errorf("%s@%s: %s differs from the compiled-in asset", kyamlModule, version, name)
	}
	doc, err := Reduce(pb)
	if err != nil {
		return err
	}
	return gen.WriteGzip(out, doc)
}

// AssetPath is the path of kyaml's built-in swagger for version, relative
// to kyaml's openapi directory (as kyaml's parseBuiltinSchema builds it).
func AssetPath(version string) string {
	return path.Join("kubernetesapi", strings.ReplaceAll(version, ".", "_"), "swagger.pb")
}

// kyamlVersion is the version of kyaml this generator was built with: the
// one go.mod selects.
func kyamlVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information: run the generator with go run")
	}
	for _, d := range bi.Deps {
		if d.Path == kyamlModule {
			if d.Replace != nil {
				return "", fmt.Errorf("%s is replaced (by %s): generate from the module proxy's version only", kyamlModule, d.Replace.Path)
			}
			return d.Version, nil
		}
	}
	return "", fmt.Errorf("%s is not a dependency of the generator", kyamlModule)
}

// Reduce converts kyaml's built-in swagger.pb into the reduced JSON
// document.
func Reduce(pb []byte) ([]byte, error) {
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(pb, doc); err != nil {
		return nil, fmt.Errorf("openapi proto: %w", err)
	}
	var sw spec.Swagger
	if _, err := sw.FromGnostic(doc); err != nil {
		return nil, fmt.Errorf("openapi from gnostic: %w", err)
	}
	j, err := json.Marshal(&sw)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&full); err != nil {
		return nil, err
	}

	reduced := map[string]any{}
	for _, k := range []string{"swagger", "info"} {
		if v, ok := full[k]; ok {
			reduced[k] = v
		}
	}
	defs, _ := full["definitions"].(map[string]any)
	if len(defs) == 0 {
		return nil, errors.New("openapi: no definitions")
	}
	rdefs := make(map[string]any, len(defs))
	for name, d := range defs {
		rdefs[name] = reduceSchema(d)
	}
	reduced["definitions"] = rdefs
	paths, err := reducePaths(full["paths"])
	if err != nil {
		return nil, err
	}
	reduced["paths"] = paths

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reduced); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// docKeys are the schema keywords that only document.
var docKeys = []string{"description", "title", "example", "externalDocs"}

// reduceSchema drops the documentation from a schema and its subschemas.
// It walks the keywords that hold schemas, so that a property named like
// a keyword (PriorityClass.description) stays.
func reduceSchema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v // additionalProperties: true/false
	}
	r := make(map[string]any, len(m))
	for k, val := range m {
		switch {
		case strings.HasPrefix(k, "x-"):
			r[k] = val // extensions: kept verbatim
		case k == "properties" || k == "patternProperties" || k == "definitions":
			r[k] = reduceSchemaMap(val)
		case k == "dependencies":
			r[k] = reduceSchemaMap(val) // a schema or a list of names
		case k == "items":
			if list, ok := val.([]any); ok {
				r[k] = reduceSchemaList(list)
			} else {
				r[k] = reduceSchema(val)
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			list, _ := val.([]any)
			r[k] = reduceSchemaList(list)
		case k == "not" || k == "additionalProperties" || k == "additionalItems":
			r[k] = reduceSchema(val)
		default:
			r[k] = val
		}
	}
	for _, k := range docKeys {
		delete(r, k)
	}
	if len(r) == 0 && len(m) > 0 {
		// An empty schema reads as a missing one (ResourceSchema.IsMissingOrNull).
		if d, ok := m["description"]; ok {
			r["description"] = d
		} else {
			return m
		}
	}
	return r
}

func reduceSchemaMap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	r := make(map[string]any, len(m))
	for k, s := range m {
		r[k] = reduceSchema(s)
	}
	return r
}

func reduceSchemaList(list []any) []any {
	r := make([]any, len(list))
	for i, s := range list {
		r[i] = reduceSchema(s)
	}
	return r
}

const gvkKey = "x-kubernetes-group-version-kind"

// reducePaths keeps what kyaml's findNamespaceability reads: for each
// group-version-kind a GET operation carries, one path, namespaced
// ("namespaces/{namespace}") when any of its paths is.
func reducePaths(v any) (map[string]any, error) {
	paths, _ := v.(map[string]any)
	if len(paths) == 0 {
		return nil, errors.New("openapi: no paths")
	}
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)

	type kind struct {
		gvk        any
		path       string
		namespaced bool
	}
	kinds := map[string]*kind{}
	var order []string
	for _, p := range names {
		item, _ := paths[p].(map[string]any)
		get, _ := item["get"].(map[string]any)
		gvk, ok := get[gvkKey]
		if !ok {
			continue
		}
		key, err := json.Marshal(gvk)
		if err != nil {
			return nil, err
		}
		ns := strings.Contains(p, "namespaces/{namespace}")
		k, seen := kinds[string(key)]
		if !seen {
			kinds[string(key)] = &kind{gvk: gvk, path: p, namespaced: ns}
			order = append(order, string(key))
			continue
		}
		if ns && !k.namespaced {
			k.path, k.namespaced = p, true
		}
	}
	out := make(map[string]any, len(kinds))
	for _, key := range order {
		k := kinds[key]
		out[k.path] = map[string]any{"get": map[string]any{gvkKey: k.gvk}}
	}
	return out, nil
}
