package helm

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
)

// The HelmRelease is handled as the unstructured map the render already
// holds; these helpers read the few fields helm-controller reads, with the
// same defaults (fluxcd/helm-controller api/v2/helmrelease_types.go).

// ReleaseName is the Helm release name helm-controller installs under:
// spec.releaseName, else `[spec.targetNamespace-]metadata.name`
// (HelmRelease.GetReleaseName), shortened past 53 characters as
// internal/release/name.go ShortenName does.
func ReleaseName(hr map[string]any) string {
	name := str(hr, "spec", "releaseName")
	if name == "" {
		name = str(hr, "metadata", "name")
		if tn := str(hr, "spec", "targetNamespace"); tn != "" {
			name = tn + "-" + name
		}
	}
	return ShortenName(name)
}

// ReleaseNamespace is spec.targetNamespace, else the HelmRelease's own
// namespace (HelmRelease.GetReleaseNamespace).
func ReleaseNamespace(hr map[string]any) string {
	if tn := str(hr, "spec", "targetNamespace"); tn != "" {
		return tn
	}
	return str(hr, "metadata", "namespace")
}

// ShortenName is helm-controller's internal/release.ShortenName: a name
// longer than 53 characters becomes its first 40 characters, a hyphen and
// the first 12 hex digits of its SHA-256.
func ShortenName(name string) string {
	const maxLength, shortHashLength = 53, 12
	if len(name) <= maxLength {
		return name
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxLength-(shortHashLength+1)] + "-" + sum[:shortHashLength]
}

// CRD policies of spec.install.crds / spec.upgrade.crds.
const (
	CRDsSkip          = "Skip"
	CRDsCreate        = "Create"
	CRDsCreateReplace = "CreateReplace"
)

// IncludeCRDs tells whether the chart's crds/ are applied at install under
// spec.install.crds (internal/action/crds.go crdPolicyOrDefault: empty
// means Create; Create and CreateReplace apply them, Skip does not).
func IncludeCRDs(hr map[string]any) (bool, error) {
	policy := str(hr, "spec", "install", "crds")
	switch policy {
	case "":
		return true, nil
	case CRDsCreate, CRDsCreateReplace:
		return true, nil
	case CRDsSkip:
		return false, nil
	}
	return false, fmt.Errorf("invalid CRD upgrade policy '%s', valid values are '%s', '%s' or '%s'",
		policy, CRDsSkip, CRDsCreate, CRDsCreateReplace)
}

// OptionsFor fills the Options a HelmRelease determines: release name and
// namespace, CRD policy, tests, hooks, schema validation, post-renderers,
// commonMetadata, post-render strategy, origin labels and the chart's
// valuesFiles (spec.chart.spec.valuesFiles; a chartRef has none). Kube
// version, API versions, Namespaced and Timeout are the caller's.
func OptionsFor(hr map[string]any) (Options, error) {
	var o Options
	o.ReleaseName = ReleaseName(hr)
	o.Namespace = ReleaseNamespace(hr)
	crds, err := IncludeCRDs(hr)
	if err != nil {
		return o, err
	}
	o.IncludeCRDs = crds
	o.IncludeTests = boolean(hr, "spec", "test", "enable")
	o.DisableHooks = boolean(hr, "spec", "install", "disableHooks")
	o.DisableSchemaValidation = boolean(hr, "spec", "install", "disableSchemaValidation")
	o.PostRenderStrategy = str(hr, "spec", "postRenderStrategy")
	if prs, ok := get(hr, "spec", "postRenderers").([]any); ok {
		o.PostRenderers = prs
	}
	if cm, ok := get(hr, "spec", "commonMetadata").(map[string]any); ok {
		o.CommonMetadata = cm
	}
	if vf, ok := get(hr, "spec", "chart", "spec", "valuesFiles").([]any); ok {
		for _, f := range vf {
			if s, ok := f.(string); ok {
				o.ValuesFiles = append(o.ValuesFiles, s)
			}
		}
	}
	o.IgnoreMissingValuesFiles = boolean(hr, "spec", "chart", "spec", "ignoreMissingValuesFiles")
	o.Origin.Name = str(hr, "metadata", "name")
	o.Origin.Namespace = str(hr, "metadata", "namespace")
	return o, nil
}

func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func str(m map[string]any, path ...string) string {
	s, _ := get(m, path...).(string)
	return s
}

func boolean(m map[string]any, path ...string) bool {
	b, _ := get(m, path...).(bool)
	return b
}

// convert re-decodes an unstructured value into a typed one through JSON,
// as the API server would have decoded the object.
func convert(in any, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	return d.Decode(out)
}
