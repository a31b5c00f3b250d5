package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/gen/modzip"
)

var update = flag.Bool("update", false, "rewrite testdata/catalog.golden.json")

func buildFixture(t *testing.T) (doc []byte, warnings []string) {
	t.Helper()
	sw, err := os.ReadFile("testdata/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err = BuildCatalog("v1.99.0", sw, func(s string) { warnings = append(warnings, s) })
	if err != nil {
		t.Fatal(err)
	}
	return doc, warnings
}

// TestCatalogGolden pins the whole transformation of the fixture; the
// tests below spell out the rules it shows.
func TestCatalogGolden(t *testing.T) {
	doc, _ := buildFixture(t)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "catalog.golden.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("catalog differs from %s (go test -update rewrites it):\n%s", golden, pretty.Bytes())
	}
}

type fixtureCatalog struct {
	Version     string
	Definitions map[string]map[string]any
	Kinds       map[string]Kind
}

func decodeFixture(t *testing.T) fixtureCatalog {
	t.Helper()
	doc, _ := buildFixture(t)
	var c fixtureCatalog
	if err := json.Unmarshal(doc, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func prop(t *testing.T, c fixtureCatalog, def, name string) any {
	t.Helper()
	props, ok := c.Definitions[def]["properties"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no properties", def)
	}
	return props[name]
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestConvertRules(t *testing.T) {
	c := decodeFixture(t)
	const spec = "io.k8s.api.apps.v1.DeploymentSpec"
	for _, tc := range []struct {
		name, def, prop, want string
	}{
		// Optional scalars admit null; int32 gets its range.
		{"optional int32", spec, "replicas", `{"format":"int32","maximum":2147483647,"minimum":-2147483648,"type":["integer","null"]}`},
		{"int64 keeps only its format", spec, "revisionHistoryLimit", `{"format":"int64","type":["integer","null"]}`},
		// Required fields stay non-null.
		{"required map", spec, "selector", `{"additionalProperties":{"type":"string"},"type":"object"}`},
		// preserve-unknown-fields keeps the object open.
		{"preserve unknown fields", spec, "template", `{"properties":{"a":{"type":["string","null"]}},"type":"object","x-kubernetes-preserve-unknown-fields":true}`},
		// Optional $refs are wrapped.
		{"optional ref", spec, "maxSurge", `{"anyOf":[{"$ref":"#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},{"type":"null"}]}`},
		// Time already admits null: no wrapper.
		{"time ref", spec, "since", `{"$ref":"#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}`},
		{"RawExtension ref", spec, "raw", `{"$ref":"#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension"}`},
		{"inline int-or-string", spec, "inlineIntOrString", `{"type":["string","integer","null"]}`},
		{"enum gets null", spec, "mode", `{"enum":["A","B",null],"type":["string","null"]}`},
		// Merge extensions go, items are converted too.
		{"list extensions dropped", spec, "ports", `{"items":{"format":"int32","maximum":2147483647,"minimum":-2147483648,"type":"integer"},"type":["array","null"]}`},
		// Property names that look like keywords are data, not keywords.
		{"property named description", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "description", `{"type":["string","null"]}`},
		{"property named x-kubernetes-…", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-preserve-unknown-fields", `{"type":["boolean","null"]}`},
		{"property named $ref", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "$ref", `{"type":["string","null"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsonOf(prop(t, c, tc.def, tc.prop)); got != tc.want {
				t.Errorf("%s.%s = %s\nwant %s", tc.def, tc.prop, got, tc.want)
			}
		})
	}

	for _, tc := range []struct{ def, want string }{
		{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", `{"type":["string","integer"]}`},
		{"io.k8s.apimachinery.pkg.api.resource.Quantity", `{"pattern":` + jsonOf(QuantityPattern) + `,"type":["string","number"]}`},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.Time", `{"format":"date-time","type":["string","null"]}`},
		{"io.k8s.apimachinery.pkg.runtime.RawExtension", `{}`},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", `{"type":"object"}`},
		// preserve-unknown-fields on a definition keeps it open.
		{"io.k8s.api.apps.v1.Open", `{"properties":{"a":{"type":["string","null"]}},"type":"object","x-kubernetes-preserve-unknown-fields":true}`},
		// An empty Go struct is closed.
		{"io.k8s.api.apps.v1.Empty", `{"additionalProperties":false,"type":"object"}`},
	} {
		if got := jsonOf(c.Definitions[tc.def]); got != tc.want {
			t.Errorf("%s = %s\nwant %s", tc.def, got, tc.want)
		}
	}

	dep := c.Definitions["io.k8s.api.apps.v1.Deployment"]
	if dep["additionalProperties"] != false {
		t.Errorf("Deployment is not closed: %s", jsonOf(dep))
	}
	if _, ok := dep["description"]; ok {
		t.Error("descriptions are kept")
	}
	if _, ok := dep["x-kubernetes-group-version-kind"]; ok {
		t.Error("x-kubernetes-group-version-kind is kept")
	}
	if c.Definitions[spec]["additionalProperties"] != false {
		t.Error("DeploymentSpec is not closed")
	}
	if got := jsonOf(prop(t, c, spec, "template")); !bytes.Contains([]byte(got), []byte("preserve")) || bytes.Contains([]byte(got), []byte("additionalProperties")) {
		t.Errorf("preserve-unknown-fields object was closed: %s", got)
	}
}

func TestKindsFromPaths(t *testing.T) {
	c := decodeFixture(t)
	want := map[string]Kind{
		"apps/v1/Deployment": {Definition: "io.k8s.api.apps.v1.Deployment", Resource: "deployments", Namespaced: true, Subresources: []string{"scale", "status"}},
		"v1/Pod":             {Definition: "io.k8s.api.core.v1.Pod", Resource: "pods", Namespaced: true, Subresources: []string{"proxy", "status"}},
		"rbac.authorization.k8s.io/v1/ClusterRole": {Definition: "io.k8s.api.rbac.v1.ClusterRole", Resource: "clusterroles", Subresources: []string{}},
	}
	// Not kinds: DeploymentList (no path), Scale (only a subresource),
	// ComponentStatus (read-only).
	if !reflect.DeepEqual(c.Kinds, want) {
		t.Errorf("kinds =\n%s\nwant\n%s", jsonOf(c.Kinds), jsonOf(want))
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
		want resourcePath
	}{
		{"/api/v1/namespaces/{namespace}/pods", true, resourcePath{version: "v1", namespaced: true, plural: "pods"}},
		{"/api/v1/namespaces/{namespace}/pods/{name}/exec", true, resourcePath{version: "v1", namespaced: true, plural: "pods", named: true, sub: "exec"}},
		{"/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}", true, resourcePath{version: "v1", namespaced: true, plural: "pods", named: true, sub: "proxy"}},
		// The Namespace resource itself is cluster-scoped.
		{"/api/v1/namespaces/{name}/finalize", true, resourcePath{version: "v1", plural: "namespaces", named: true, sub: "finalize"}},
		{"/api/v1/namespaces", true, resourcePath{version: "v1", plural: "namespaces"}},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", true, resourcePath{group: "apps", version: "v1", namespaced: true, plural: "deployments", named: true, sub: "scale"}},
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}", true, resourcePath{group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", named: true}},
		{"/apis/apps/v1/watch/namespaces/{namespace}/deployments", false, resourcePath{}},
		{"/apis/apps/v1/", false, resourcePath{}},
		{"/apis/apps/", false, resourcePath{}},
		{"/api/", false, resourcePath{}},
		{"/version/", false, resourcePath{}},
		{"/.well-known/openid-configuration/", false, resourcePath{}},
	} {
		got, ok := parsePath(tc.path)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parsePath(%s) = %+v, %t; want %+v, %t", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRemoved(t *testing.T) {
	hpa := func(v string) GVK { return GVK{"autoscaling", v, "HorizontalPodAutoscaler"} }
	psp := GVK{"policy", "v1beta1", "PodSecurityPolicy"}
	ing := func(g, v string) GVK { return GVK{g, v, "Ingress"} }
	releases := []ServedRelease{
		{Minor: "1.21", Kinds: map[GVK]Kind{hpa("v1"): {}, hpa("v2beta1"): {}, hpa("v2beta2"): {}, psp: {}, ing("extensions", "v1beta1"): {}, ing("networking.k8s.io", "v1"): {}},
			Deprecated: map[GVK]string{psp: "1.21"}},
		{Minor: "1.24", Kinds: map[GVK]Kind{hpa("v1"): {}, hpa("v2"): {}, hpa("v2beta1"): {}, hpa("v2beta2"): {}, psp: {}, ing("networking.k8s.io", "v1"): {}}},
		{Minor: "1.25", Kinds: map[GVK]Kind{hpa("v1"): {}, hpa("v2"): {}, hpa("v2beta2"): {}, ing("networking.k8s.io", "v1"): {}}},
		{Minor: "1.37", Kinds: map[GVK]Kind{hpa("v1"): {}, hpa("v2"): {}, ing("networking.k8s.io", "v1"): {}}},
	}
	got := Removed(releases)
	want := map[string]Removal{
		"autoscaling/v2beta1/HorizontalPodAutoscaler": {LastServed: "1.24", Replacement: "autoscaling/v2"},
		"autoscaling/v2beta2/HorizontalPodAutoscaler": {LastServed: "1.25", Replacement: "autoscaling/v2"},
		"policy/v1beta1/PodSecurityPolicy":            {LastServed: "1.24", Replacement: "", DeprecatedIn: "1.21"},
		// No same-group successor: another group's.
		"extensions/v1beta1/Ingress": {LastServed: "1.21", Replacement: "networking.k8s.io/v1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Removed =\n%s\nwant\n%s", jsonOf(got), jsonOf(want))
	}
}

func TestCompareVersions(t *testing.T) {
	// Most preferred first.
	order := []string{"v2", "v1", "v2beta2", "v2beta1", "v1beta1", "v1alpha2", "v1alpha1"}
	for i := 0; i+1 < len(order); i++ {
		if compareVersions(order[i], order[i+1]) <= 0 {
			t.Errorf("%s is not preferred over %s", order[i], order[i+1])
		}
		if compareVersions(order[i+1], order[i]) >= 0 {
			t.Errorf("%s is preferred over %s", order[i+1], order[i])
		}
	}
}

func TestDeprecations(t *testing.T) {
	defs := map[string]any{
		"a": map[string]any{"description": "PodSecurityPolicy governs pods. Deprecated in 1.21."},
		"b": map[string]any{"description": "Deprecated in v1.16 in favor of admissionregistration.k8s.io/v1."},
		"c": map[string]any{"description": "DEPRECATED - This group version of Deployment is deprecated by apps/v1/Deployment."},
	}
	idx := map[GVK]string{{Kind: "A"}: "a", {Kind: "B"}: "b", {Kind: "C"}: "c"}
	got := Deprecations(defs, idx)
	want := map[GVK]string{{Kind: "A"}: "1.21", {Kind: "B"}: "1.16"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Deprecations = %v, want %v", got, want)
	}
}

func TestJoinYAML(t *testing.T) {
	got := string(JoinYAML([][]byte{[]byte("a: 1\n"), []byte("---\nb: 2"), []byte("c: 3\n")}))
	if want := "a: 1\n---\nb: 2\n---\nc: 3\n"; got != want {
		t.Errorf("JoinYAML = %q, want %q", got, want)
	}
}

func TestGzipReproducible(t *testing.T) {
	a, err := gen.Gzip([]byte("same input"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := gen.Gzip([]byte("same input"))
	if !bytes.Equal(a, b) {
		t.Fatal("two compressions differ")
	}
	// Header: no mtime (bytes 4-7) and no FNAME flag.
	if flags := a[3]; flags != 0 {
		t.Errorf("gzip header flags = %#x, want 0", flags)
	}
	if !bytes.Equal(a[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header mtime = %v, want 0", a[4:8])
	}
}

// TestReproducible regenerates the newest committed catalog, the bootstrap
// RBAC stream and (when every pinned release is cached) the removed table
// from the module cache, twice, and compares them with each other and with
// the committed files. It skips when a zip is not cached: it never
// downloads.
func TestReproducible(t *testing.T) {
	newest := gen.Newest()
	zipPath := cachedZip(t, newest)
	sw, err := modzip.ReadFile(zipPath, newest.Module, newest.Version, swaggerPath)
	if err != nil {
		t.Fatal(err)
	}
	quiet := func(string) {}
	first, err := BuildCatalog(newest.Version, sw, quiet)
	if err != nil {
		t.Fatal(err)
	}
	second, err := BuildCatalog(newest.Version, sw, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two runs of BuildCatalog differ")
	}
	gz1, _ := gen.Gzip(first)
	gz2, _ := gen.Gzip(second)
	if !bytes.Equal(gz1, gz2) {
		t.Fatal("two compressed catalogs differ")
	}
	committed := filepath.Join("..", "..", catalogFile(gen.Minor(newest.Version)))
	if got := gunzipFile(t, committed); !bytes.Equal(got, first) {
		t.Errorf("%s is stale: run make generate", committed)
	}

	var docs [][]byte
	for _, f := range BootstrapFiles {
		b, err := modzip.ReadFile(zipPath, newest.Module, newest.Version, BootstrapDir+f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	lines, err := gen.JSONLines(JoinYAML(docs))
	if err != nil {
		t.Fatal(err)
	}
	if got := gunzipFile(t, filepath.Join("..", "..", "bootstrap-rbac.json.gz")); !bytes.Equal(got, lines) {
		t.Error("bootstrap-rbac.json.gz is stale: run make generate")
	}

	var releases []ServedRelease
	for _, p := range append(append([]gen.Pin{}, gen.KubernetesHistory...), gen.KubernetesCatalog...) {
		z, err := modzip.CachedZip(p.Module, p.Version)
		if err != nil {
			t.Logf("removed table not checked: %v", err)
			return
		}
		sw, err := modzip.ReadFile(z, p.Module, p.Version, swaggerPath)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ReadServed(gen.Minor(p.Version), sw, quiet)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	removed, err := BuildRemoved(releases)
	if err != nil {
		t.Fatal(err)
	}
	if got := gunzipFile(t, filepath.Join("..", "..", "removed.json.gz")); !bytes.Equal(got, removed) {
		t.Error("removed.json.gz is stale: run make generate")
	}
}

func cachedZip(t *testing.T, p gen.Pin) string {
	t.Helper()
	z, err := modzip.CachedZip(p.Module, p.Version)
	if err != nil {
		t.Skipf("%v (go generate ./internal/catalog/ downloads it)", err)
	}
	return z
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := gen.ReadGzip(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
