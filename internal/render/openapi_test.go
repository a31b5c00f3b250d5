package render

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/openapi/kubernetesapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// withOpenAPI runs f alone with kustomize's global OpenAPI state, and
// leaves the state as a run has it (the reduced schema, parsed).
func withOpenAPI(t *testing.T, f func()) {
	t.Helper()
	warmOpenAPI()
	openapiLock.Lock()
	defer openapiLock.Unlock()
	defer func() {
		installOpenAPI()
		_ = openapi.Schema()
	}()
	f()
}

func useBuiltInOpenAPI() {
	openapi.ResetOpenAPI()
	_ = openapi.Schema()
}

func useReducedOpenAPI() {
	installOpenAPI()
	_ = openapi.Schema()
}

// builtInSwagger is kyaml's built-in document, parsed as kyaml parses it.
func builtInSwagger(t *testing.T) *spec.Swagger {
	t.Helper()
	v := kubernetesapi.DefaultOpenAPI
	name := path.Join("kubernetesapi", strings.ReplaceAll(v, ".", "_"), "swagger.pb")
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(kubernetesapi.OpenAPIMustAsset[v](name), doc); err != nil {
		t.Fatal(err)
	}
	var sw spec.Swagger
	if _, err := sw.FromGnostic(doc); err != nil {
		t.Fatal(err)
	}
	return &sw
}

func gvkTypeMetas(ext any) []kyaml.TypeMeta {
	var list []any
	switch e := ext.(type) {
	case []any:
		list = e
	case map[string]any:
		list = []any{e}
	}
	var tms []kyaml.TypeMeta
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		if g, _ := m["group"].(string); g != "" {
			v = g + "/" + v
		}
		tms = append(tms, kyaml.TypeMeta{APIVersion: v, Kind: k})
	}
	return tms
}

// openAPIKinds lists every kind the current global schema's definitions
// carry a group-version-kind for.
func openAPIKinds() []kyaml.TypeMeta {
	var tms []kyaml.TypeMeta
	for _, d := range openapi.Schema().Definitions {
		tms = append(tms, gvkTypeMetas(d.Extensions["x-kubernetes-group-version-kind"])...)
	}
	return tms
}

func sortKinds(tms []kyaml.TypeMeta) []kyaml.TypeMeta {
	seen := map[kyaml.TypeMeta]bool{}
	var out []kyaml.TypeMeta
	for _, tm := range tms {
		if !seen[tm] {
			seen[tm] = true
			out = append(out, tm)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].APIVersion != out[j].APIVersion {
			return out[i].APIVersion < out[j].APIVersion
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

const (
	openAPIKindDepth = 9         // below a kind (a Pod's container ports are at 6)
	openAPIDefDepth  = 3         // below each definition
	openAPIMapKey    = "\x00key" // a map key no schema names as a property
)

// openAPIDump answers, for the current global schema, what kyaml asks of
// it, one line per schema node reached: through SchemaForResourceType and
// Resolve, then Field (every property, and a map's values), Elements and
// Lookup; at each node whether it is missing, type, format, both patch
// strategy and key readings, the x-kubernetes-* extensions and the
// property names. Plus IsNamespaceScoped of every kind given.
func openAPIDump(kinds, scopeKinds []kyaml.TypeMeta) map[string]string {
	out := map[string]string{}
	var walk func(rs *openapi.ResourceSchema, at string, depth int)
	walk = func(rs *openapi.ResourceSchema, at string, depth int) {
		if rs == nil {
			out[at] = "nil"
			return
		}
		out[at] = describeSchema(rs)
		if depth == 0 || rs.Schema == nil {
			return
		}
		for name := range rs.Schema.Properties {
			walk(rs.Field(name), at+"."+name, depth-1)
		}
		if rs.Schema.AdditionalProperties != nil {
			walk(rs.Field(openAPIMapKey), at+".{}", depth-1)
		}
		walk(rs.Elements(), at+"[]", depth-1)
	}
	for _, tm := range kinds {
		at := "kind " + tm.APIVersion + " " + tm.Kind
		rs := openapi.SchemaForResourceType(tm)
		walk(rs, at, openAPIKindDepth)
		if rs != nil {
			out[at+" lookup"] = describeSchema(rs.Lookup("spec", "template", "spec", "containers", openapi.Elements, "ports"))
		}
	}
	root := openapi.Schema()
	for name := range root.Definitions {
		ref := spec.MustCreateRef("#/definitions/" + name)
		s, err := openapi.Resolve(&ref, root)
		if err != nil {
			out["def "+name] = "error " + err.Error()
			continue
		}
		walk(&openapi.ResourceSchema{Schema: s}, "def "+name, openAPIDefDepth)
	}
	for _, tm := range scopeKinds {
		ns, found := openapi.IsNamespaceScoped(tm)
		out["scope "+tm.APIVersion+" "+tm.Kind] = fmt.Sprintf("namespaced=%v found=%v", ns, found)
	}
	return out
}

func describeSchema(rs *openapi.ResourceSchema) string {
	if rs == nil {
		return "nil"
	}
	if rs.IsMissingOrNull() {
		return "missing"
	}
	s := rs.Schema
	ps, mk := rs.PatchStrategyAndKey()
	ps2, keys := rs.PatchStrategyAndKeyList()
	ext := map[string]any{}
	for k, v := range s.Extensions {
		if strings.HasPrefix(k, "x-kubernetes-") {
			ext[k] = v
		}
	}
	extJSON, err := json.Marshal(ext)
	if err != nil {
		extJSON = []byte(err.Error())
	}
	props := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		props = append(props, name)
	}
	sort.Strings(props)
	items := "none"
	if s.Items != nil {
		items = fmt.Sprintf("schema=%v list=%d", s.Items.Schema != nil, len(s.Items.Schemas))
	}
	return fmt.Sprintf("type=%v format=%q ref=%q patch=%q/%q list=%q/%q ext=%s props=%v additional=%v items=%s required=%v",
		[]string(s.Type), s.Format, s.Ref.String(), ps, mk, ps2, keys, extJSON, props,
		s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil, items, s.Required)
}

// TestReducedOpenAPIEquivalent is the proof that the reduced schema can
// stand in for kyaml's built-in one: every answer kyaml's readers get is
// the same under both. GetSchemaVersion is not: under the reduced schema
// it reports a custom schema ("using custom schema from file provided")
// instead of the built-in version; kustomize only reports it.
func TestReducedOpenAPIEquivalent(t *testing.T) {
	withOpenAPI(t, func() {
		sw := builtInSwagger(t)
		var scope []kyaml.TypeMeta
		for _, item := range sw.Paths.Paths {
			if item.Get != nil {
				scope = append(scope, gvkTypeMetas(item.Get.Extensions["x-kubernetes-group-version-kind"])...)
			}
		}

		// IsNamespaceScoped answers built-in kinds from kyaml's precomputed
		// table first: compare what kyaml's findNamespaceability reads of
		// the paths directly too.
		data, err := kustomizeOpenAPI()
		if err != nil {
			t.Fatal(err)
		}
		var reduced spec.Swagger
		if err := reduced.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		wantScope, gotScope := pathScopes(sw.Paths), pathScopes(reduced.Paths)
		if fmt.Sprint(wantScope) != fmt.Sprint(gotScope) {
			t.Errorf("scope from paths:\n built-in: %v\n reduced:  %v", wantScope, gotScope)
		}

		useBuiltInOpenAPI()
		kinds := openAPIKinds()
		useReducedOpenAPI()
		kinds = append(kinds, openAPIKinds()...)
		kinds = sortKinds(kinds)
		scope = sortKinds(append(append(scope, kinds...),
			kyaml.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"},
			kyaml.TypeMeta{APIVersion: "v1", Kind: "Widget"}))
		if len(kinds) < 200 {
			t.Fatalf("only %d kinds in the built-in schema", len(kinds))
		}

		useBuiltInOpenAPI()
		if v := openapi.GetSchemaVersion(); v != kubernetesapi.DefaultOpenAPI {
			t.Errorf("built-in schema version %q", v)
		}
		want := openAPIDump(kinds, scope)
		useReducedOpenAPI()
		got := openAPIDump(kinds, scope)

		keys := map[string]bool{}
		for k := range want {
			keys[k] = true
		}
		for k := range got {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		diffs := 0
		for _, k := range sorted {
			w, wok := want[k]
			g, gok := got[k]
			if w == g && wok == gok {
				continue
			}
			diffs++
			if diffs <= 20 {
				t.Errorf("%q:\n built-in: %s (%v)\n reduced:  %s (%v)", k, w, wok, g, gok)
			}
		}
		if diffs > 0 {
			t.Fatalf("%d of %d answers differ", diffs, len(sorted))
		}
		t.Logf("%d answers agree (%d kinds, %d scope checks)", len(sorted), len(kinds), len(scope))
	})
}

// pathScopes is kyaml's findNamespaceability: a kind is namespaced when
// any GET of it is under namespaces/{namespace}.
func pathScopes(paths *spec.Paths) map[kyaml.TypeMeta]bool {
	scopes := map[kyaml.TypeMeta]bool{}
	for p, item := range paths.Paths {
		if item.Get == nil {
			continue
		}
		for _, tm := range gvkTypeMetas(item.Get.Extensions["x-kubernetes-group-version-kind"]) {
			scopes[tm] = scopes[tm] || strings.Contains(p, "namespaces/{namespace}")
		}
	}
	return scopes
}

// builtInParsed tells whether kyaml parsed its built-in schema into the
// global one: only the built-in has descriptions.
func builtInParsed() bool {
	d := openapi.Schema().Definitions["io.k8s.api.core.v1.Pod"]
	return d.Description != ""
}

// TestReducedOpenAPIInstall: the embedded data decompresses, installs, and
// stays the only schema parsed, through krusty's SetSchema of a
// kustomization without openapi: and namespace scope checks before any
// parse.
func TestReducedOpenAPIInstall(t *testing.T) {
	data, err := kustomizeOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]json.RawMessage
		Paths       map[string]json.RawMessage
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Definitions) < 500 || len(doc.Paths) < 50 {
		t.Fatalf("%d definitions, %d paths", len(doc.Definitions), len(doc.Paths))
	}
	unknown := kyaml.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"}
	withOpenAPI(t, func() {
		useBuiltInOpenAPI()
		if !builtInParsed() {
			t.Fatal("the built-in schema has no descriptions: builtInParsed cannot tell")
		}

		installOpenAPI()
		if _, found := openapi.IsNamespaceScoped(unknown); found {
			t.Error("example.com/v1 Widget found")
		}
		if builtInParsed() {
			t.Error("a namespace scope check parsed the built-in schema")
		}

		// A scope check with nothing installed flags the built-in schema
		// for a later parse; installing clears the flag.
		openapi.ResetOpenAPI()
		openapi.IsNamespaceScoped(unknown)
		installOpenAPI()
		if builtInParsed() {
			t.Error("the built-in schema was parsed after an early scope check")
		}

		// krusty.Kustomizer.Run on a kustomization without openapi:.
		if err := openapi.SetSchema(nil, nil, true); err != nil {
			t.Fatal(err)
		}
		if openapi.SchemaForResourceType(kyaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}) == nil {
			t.Error("no Deployment schema")
		}
		if builtInParsed() {
			t.Error("the built-in schema was parsed after krusty's SetSchema")
		}
		if ns, found := openapi.IsNamespaceScoped(kyaml.TypeMeta{APIVersion: "storage.k8s.io/v1beta1", Kind: "CSIStorageCapacity"}); !ns || !found {
			t.Errorf("CSIStorageCapacity: namespaced=%v found=%v", ns, found)
		}
	})
}

// BenchmarkOpenAPISchema: parsing kyaml's built-in schema against the
// reduced one, as a run does once (and around each openapi: build).
func BenchmarkOpenAPISchema(b *testing.B) {
	warmOpenAPI()
	openapiLock.Lock()
	defer openapiLock.Unlock()
	defer useReducedOpenAPI()
	b.Run("builtin", func(b *testing.B) {
		for b.Loop() {
			useBuiltInOpenAPI()
		}
	})
	b.Run("reduced", func(b *testing.B) {
		for b.Loop() {
			useReducedOpenAPI()
		}
	})
}

// TestOpenAPIExclusiveBuild: a kustomization with openapi: builds under
// kyaml's built-in schema plus its own (its strategic merge patches merge
// by the keys both declare), and the runs' builds around it keep the
// reduced schema, installed again afterwards.
func TestOpenAPIExclusiveBuild(t *testing.T) {
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: app, image: \"nginx:1\"}\n      - {name: side, image: \"busybox:1\"}\n"
	deployPatch := "- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web, namespace: apps}\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: app, env: [{name: A, value: \"1\"}]}\n"
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/custom.yaml":                fmt.Sprintf(testutil.FluxKustomization, "custom", "./custom"),
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"apps/deploy.yaml":                        deploy,
		"apps/kustomization.yaml":                 "resources: [deploy.yaml]\npatches:\n" + deployPatch,
		"custom/deploy.yaml":                      deploy,
		"custom/widget.yaml":                      "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  items:\n  - {name: a, value: \"1\"}\n  - {name: b, value: \"1\"}\n",
		"custom/schema.json": `{"definitions": {"com.example.v1.Widget": {"type": "object",
  "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "Widget", "version": "v1"}],
  "properties": {"spec": {"type": "object", "properties": {"items": {"type": "array",
    "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name",
    "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}}}}}}}}`,
		"custom/kustomization.yaml": "openapi:\n  path: schema.json\nresources: [widget.yaml, deploy.yaml]\npatches:\n" +
			"- patch: |\n    apiVersion: example.com/v1\n    kind: Widget\n    metadata: {name: w}\n    spec:\n      items:\n      - {name: b, value: \"2\"}\n" +
			deployPatch,
	})
	res := renderHostile(t, dir)
	for _, f := range res.Findings {
		t.Errorf("unexpected finding %s:%d %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	items := func(o *Object) string {
		b, err := json.Marshal(o.Content["spec"])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	merged := `{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx:1","name":"app"},{"image":"busybox:1","name":"side"}]}}}`
	for _, id := range []string{"flux-system/apps", "flux-system/custom"} {
		k := findKs(t, res.Environments[0], id)
		if got := items(findObj(t, k, "Deployment", "web")); got != merged {
			t.Errorf("%s Deployment spec %s, want %s", id, got, merged)
		}
	}
	w := findObj(t, findKs(t, res.Environments[0], "flux-system/custom"), "Widget", "w")
	if got, want := items(w), `{"items":[{"name":"b","value":"2"},{"name":"a","value":"1"}]}`; got != want {
		t.Errorf("Widget spec %s, want %s (merged by the kustomization's schema)", got, want)
	}
	withOpenAPI(t, func() {
		if builtInParsed() {
			t.Error("the built-in schema is still in use after the openapi: build")
		}
		if openapi.SchemaForResourceType(kyaml.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"}) != nil {
			t.Error("the kustomization's schema outlived its build")
		}
	})
}
