package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/catalog/gen"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

type kind struct {
	Definition   string   `json:"definition"`
	Resource     string   `json:"resource"`
	Namespaced   bool     `json:"namespaced"`
	Subresources []string `json:"subresources"`
}

type kubernetes struct {
	Version     string                     `json:"version"`
	Definitions map[string]json.RawMessage `json:"definitions"`
	Kinds       map[string]kind            `json:"kinds"`
}

func load(t *testing.T, minor string) kubernetes {
	t.Helper()
	b, err := Kubernetes(minor)
	if err != nil {
		t.Fatal(err)
	}
	var k kubernetes
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVersions(t *testing.T) {
	want := []string{"1.34", "1.35", "1.36", "1.37"}
	if got := Versions(); !reflect.DeepEqual(got, want) {
		t.Errorf("Versions() = %v, want %v", got, want)
	}
}

func TestKubernetesNewest(t *testing.T) {
	versions := Versions()
	k := load(t, versions[len(versions)-1])
	if k.Version != "v1.37.2" {
		t.Errorf("version = %s", k.Version)
	}
	dep := k.Kinds["apps/v1/Deployment"]
	if dep.Resource != "deployments" || !dep.Namespaced || dep.Definition != "io.k8s.api.apps.v1.Deployment" {
		t.Errorf("apps/v1/Deployment = %+v", dep)
	}
	if !reflect.DeepEqual(dep.Subresources, []string{"scale", "status"}) {
		t.Errorf("Deployment subresources = %v", dep.Subresources)
	}
	cr := k.Kinds["rbac.authorization.k8s.io/v1/ClusterRole"]
	if cr.Resource != "clusterroles" || cr.Namespaced {
		t.Errorf("ClusterRole = %+v, want cluster-scoped clusterroles", cr)
	}
	ns := k.Kinds["v1/Namespace"]
	if ns.Resource != "namespaces" || ns.Namespaced {
		t.Errorf("v1/Namespace = %+v, want cluster-scoped namespaces", ns)
	}
	pod := k.Kinds["v1/Pod"]
	if !slices.Contains(pod.Subresources, "status") || !slices.Contains(pod.Subresources, "eviction") {
		t.Errorf("v1/Pod subresources = %v", pod.Subresources)
	}
	for _, notKind := range []string{"apps/v1/DeploymentList", "v1/Status", "autoscaling/v1/Scale", "v1/DeleteOptions", "policy/v1/Eviction"} {
		if _, ok := k.Kinds[notKind]; ok {
			t.Errorf("%s is listed as a kind", notKind)
		}
	}
	var spec map[string]any
	if err := json.Unmarshal(k.Definitions["io.k8s.api.apps.v1.DeploymentSpec"], &spec); err != nil {
		t.Fatal(err)
	}
	if spec["additionalProperties"] != false {
		t.Error("DeploymentSpec is not closed")
	}
}

// TestKubernetesIntegrity checks every embedded catalog: each kind names a
// definition, and every $ref points at one.
func TestKubernetesIntegrity(t *testing.T) {
	for _, v := range Versions() {
		k := load(t, v)
		if !strings.HasPrefix(k.Version, "v"+v+".") {
			t.Errorf("%s: version %s", v, k.Version)
		}
		if len(k.Kinds) < 50 {
			t.Errorf("%s: only %d kinds", v, len(k.Kinds))
		}
		for key, kd := range k.Kinds {
			if _, ok := k.Definitions[kd.Definition]; !ok {
				t.Errorf("%s: %s names missing definition %q", v, key, kd.Definition)
			}
			if kd.Resource == "" {
				t.Errorf("%s: %s has no resource", v, key)
			}
		}
		for name, def := range k.Definitions {
			for _, ref := range refs(def) {
				if _, ok := k.Definitions[strings.TrimPrefix(ref, "#/definitions/")]; !ok {
					t.Errorf("%s: %s refers to missing %s", v, name, ref)
				}
			}
			if bytes.Contains(def, []byte(`"description":"`)) {
				t.Errorf("%s: %s keeps a description", v, name)
			}
		}
	}
	if _, err := Kubernetes("v1.37"); err != nil {
		t.Errorf("Kubernetes(v1.37): %v", err)
	}
	if _, err := Kubernetes("1.12"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "1.37") {
		t.Errorf("Kubernetes(1.12) err = %v, want ErrNotExist listing the embedded versions", err)
	}
}

// refs returns the string values of every "$ref" key in a JSON document
// (a property named "$ref" has an object value and is skipped).
func refs(doc []byte) []string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []string{"unparsable: " + err.Error()}
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func TestRemoved(t *testing.T) {
	b, err := Removed()
	if err != nil {
		t.Fatal(err)
	}
	var removed map[string]struct {
		LastServed   string `json:"lastServed"`
		Replacement  string `json:"replacement"`
		DeprecatedIn string `json:"deprecatedIn"`
	}
	if err := json.Unmarshal(b, &removed); err != nil {
		t.Fatal(err)
	}
	psp := removed["policy/v1beta1/PodSecurityPolicy"]
	if psp.LastServed != "1.24" || psp.Replacement != "" || psp.DeprecatedIn != "1.21" {
		t.Errorf("PodSecurityPolicy = %+v", psp)
	}
	hpa := removed["autoscaling/v2beta2/HorizontalPodAutoscaler"]
	if hpa.LastServed != "1.25" || hpa.Replacement != "autoscaling/v2" {
		t.Errorf("autoscaling/v2beta2 HPA = %+v", hpa)
	}
	if ing := removed["extensions/v1beta1/Ingress"]; ing.LastServed != "1.21" || ing.Replacement != "networking.k8s.io/v1" {
		t.Errorf("extensions/v1beta1 Ingress = %+v", ing)
	}
	newest := load(t, Versions()[len(Versions())-1])
	for key, r := range removed {
		if _, ok := newest.Kinds[key]; ok {
			t.Errorf("%s is both removed and served", key)
		}
		if r.Replacement != "" {
			kind := key[strings.LastIndexByte(key, '/')+1:]
			if _, ok := newest.Kinds[r.Replacement+"/"+kind]; !ok {
				t.Errorf("%s: replacement %s does not serve %s", key, r.Replacement, kind)
			}
		}
	}
}

func TestFluxCRDs(t *testing.T) {
	b, err := FluxCRDs()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var names []string
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "CustomResourceDefinition" {
			t.Errorf("document %s is a %s", doc.Metadata.Name, doc.Kind)
		}
		if len(doc.Spec.Versions) == 0 || doc.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
			t.Errorf("%s has no schema", doc.Metadata.Name)
		}
		names = append(names, doc.Metadata.Name)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("CRDs are not sorted by name: %v", names)
	}
	for _, want := range []string{
		"kustomizations.kustomize.toolkit.fluxcd.io",
		"helmreleases.helm.toolkit.fluxcd.io",
		"gitrepositories.source.toolkit.fluxcd.io",
		"ocirepositories.source.toolkit.fluxcd.io",
		"alerts.notification.toolkit.fluxcd.io",
		"imagepolicies.image.toolkit.fluxcd.io",
		"imageupdateautomations.image.toolkit.fluxcd.io",
		"artifactgenerators.source.extensions.fluxcd.io",
		"fluxinstances.fluxcd.controlplane.io",
		"resourcesets.fluxcd.controlplane.io",
		"resourcesetinputproviders.fluxcd.controlplane.io",
		"fluxreports.fluxcd.controlplane.io",
		"sealedsecrets.bitnami.com",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is missing from %v", want, names)
		}
	}
}

// TestFluxCRDObjects checks that the line decoder gives what objects.Decode
// gives for the same stream.
func TestFluxCRDObjects(t *testing.T) {
	b, err := FluxCRDs()
	if err != nil {
		t.Fatal(err)
	}
	want, err := objects.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FluxCRDObjects()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("FluxCRDObjects: %d CRDs, differ from objects.Decode's %d", len(got), len(want))
	}
}

func TestBootstrapRBAC(t *testing.T) {
	b, err := BootstrapRBAC()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	kinds := map[string]int{}
	var clusterRoles []string
	for {
		var list struct {
			Kind  string
			Items []struct {
				Kind     string
				Metadata struct{ Name string }
			}
		}
		if err := dec.Decode(&list); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if list.Kind != "List" {
			t.Errorf("document is a %s, want List", list.Kind)
		}
		for _, it := range list.Items {
			kinds[it.Kind]++
			if it.Kind == "ClusterRole" {
				clusterRoles = append(clusterRoles, it.Metadata.Name)
			}
		}
	}
	for _, k := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the bootstrap policy (%v)", k, kinds)
		}
	}
	for _, want := range []string{"cluster-admin", "admin", "edit", "view", "system:discovery"} {
		if !slices.Contains(clusterRoles, want) {
			t.Errorf("ClusterRole %s missing", want)
		}
	}
}

func TestFluxReleaseMatchesPin(t *testing.T) {
	if FluxRelease != gen.FluxDistribution {
		t.Fatalf("catalog.FluxRelease = %s, generator pins %s: update catalog.go", FluxRelease, gen.FluxDistribution)
	}
}
