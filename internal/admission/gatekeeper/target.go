package gatekeeper

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/open-policy-agent/frameworks/constraint/pkg/core/constraints"
	"github.com/open-policy-agent/frameworks/constraint/pkg/handler"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TargetName is the name of Gatekeeper's Kubernetes admission target: the
// key of a ConstraintTemplate's spec.targets[].target.
const TargetName = "admission.k8s.gatekeeper.sh"

// Gatekeeper's admission webhook stamps every review it makes with source
// "Original" (expansion's generated resources are "Generated").
const sourceOriginal = "Original"

// review is what the target hands the Rego driver: the admission request,
// serialised as input.review, plus what matching needs and Rego does not
// see.
type review struct {
	admissionv1.AdmissionRequest
	object    *unstructured.Unstructured
	namespace map[string]any // the Namespace object, or nil
	// skipped collects the constraints that could not be matched offline
	// (a namespaceSelector without the object's Namespace).
	skipped *skipList
}

// GetAdmissionRequest lets the frameworks client filter templates by
// spec.targets[].operations, as the webhook does.
func (r *review) GetAdmissionRequest() *admissionv1.AdmissionRequest {
	return &r.AdmissionRequest
}

type skipList struct {
	mu    sync.Mutex
	items []Skip
}

func (s *skipList) add(k Skip) {
	s.mu.Lock()
	s.items = append(s.items, k)
	s.mu.Unlock()
}

// target implements the frameworks' handler.TargetHandler for Kubernetes
// admission the way Gatekeeper's K8sValidationTarget matches constraints
// (spec.match: kinds, scope, namespaces, excludedNamespaces, labelSelector,
// namespaceSelector, name, source). It handles no data: data.inventory is
// never synced.
type target struct{}

var _ handler.TargetHandler = target{}

func (target) GetName() string { return TargetName }

func (target) ProcessData(any) (bool, []string, any, error) { return false, nil, nil, nil }

func (target) HandleReview(obj any) (bool, any, error) {
	r, ok := obj.(*review)
	if !ok {
		return false, nil, nil
	}
	return true, r, nil
}

// MatchSchema is the structural schema of a constraint's spec.match.
func (target) MatchSchema() apiextensions.JSONSchemaProps {
	str := apiextensions.JSONSchemaProps{Type: "string"}
	strs := apiextensions.JSONSchemaProps{Type: "array", Items: &apiextensions.JSONSchemaPropsOrArray{Schema: &str}}
	yes := true
	selector := apiextensions.JSONSchemaProps{Type: "object", XPreserveUnknownFields: &yes}
	kinds := apiextensions.JSONSchemaProps{Type: "object", Properties: map[string]apiextensions.JSONSchemaProps{
		"apiGroups": strs,
		"kinds":     strs,
	}}
	return apiextensions.JSONSchemaProps{
		Type: "object",
		Properties: map[string]apiextensions.JSONSchemaProps{
			"source":             str,
			"kinds":              {Type: "array", Items: &apiextensions.JSONSchemaPropsOrArray{Schema: &kinds}},
			"scope":              str,
			"namespaces":         strs,
			"excludedNamespaces": strs,
			"labelSelector":      selector,
			"namespaceSelector":  selector,
			"name":               str,
		},
	}
}

// ValidateConstraint checks the selectors as the API server would.
func (target) ValidateConstraint(u *unstructured.Unstructured) error {
	for _, key := range []string{"labelSelector", "namespaceSelector"} {
		raw, found, err := unstructured.NestedMap(u.Object, "spec", "match", key)
		if err != nil {
			return err
		}
		if !found || raw == nil {
			continue
		}
		var sel metav1.LabelSelector
		if err := remarshal(raw, &sel); err != nil {
			return fmt.Errorf("spec.match.%s: %w", key, err)
		}
		errs := metavalidation.ValidateLabelSelector(&sel, metavalidation.LabelSelectorValidationOptions{}, field.NewPath("spec", "match", key))
		if len(errs) > 0 {
			return errs.ToAggregate()
		}
	}
	return nil
}

func (target) ToMatcher(u *unstructured.Unstructured) (constraints.Matcher, error) {
	raw, found, err := unstructured.NestedMap(u.Object, "spec", "match")
	if err != nil {
		return nil, err
	}
	m := &matcher{kind: u.GetKind(), name: u.GetName()}
	if !found || raw == nil {
		return m, nil
	}
	m.match = &match{}
	if err := remarshal(raw, m.match); err != nil {
		return nil, fmt.Errorf("spec.match: %w", err)
	}
	for key, sel := range map[string]*metav1.LabelSelector{"labelSelector": m.match.LabelSelector, "namespaceSelector": m.match.NamespaceSelector} {
		if sel == nil {
			continue
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, fmt.Errorf("spec.match.%s: %w", key, err)
		}
		if key == "labelSelector" {
			m.labels = s
		} else {
			m.nsLabels = s
		}
	}
	return m, nil
}

// match is a constraint's spec.match.
type match struct {
	Source             string                `json:"source,omitempty"`
	Kinds              []matchKinds          `json:"kinds,omitempty"`
	Scope              string                `json:"scope,omitempty"`
	Namespaces         []string              `json:"namespaces,omitempty"`
	ExcludedNamespaces []string              `json:"excludedNamespaces,omitempty"`
	LabelSelector      *metav1.LabelSelector `json:"labelSelector,omitempty"`
	NamespaceSelector  *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Name               string                `json:"name,omitempty"`
}

type matchKinds struct {
	APIGroups []string `json:"apiGroups,omitempty"`
	Kinds     []string `json:"kinds,omitempty"`
}

type matcher struct {
	kind, name string
	match      *match
	labels     labels.Selector
	nsLabels   labels.Selector
}

// Match reports whether the constraint applies to the review. Every
// criterion must hold; an unset one holds.
func (m *matcher) Match(rv any) (bool, error) {
	if m.match == nil {
		return true, nil
	}
	r, ok := rv.(*review)
	if !ok {
		return false, fmt.Errorf("unexpected review type %T", rv)
	}
	obj := r.object
	gvk := obj.GroupVersionKind()
	isNamespace := gvk.Group == "" && gvk.Kind == "Namespace"
	nsName := ""
	if r.namespace != nil {
		nsName, _, _ = unstructured.NestedString(r.namespace, "metadata", "name")
	}
	hasNamespace := obj.GetNamespace() != "" || r.namespace != nil
	// The namespace the namespaces/excludedNamespaces lists are checked
	// against: a Namespace's own name, else the Namespace object's, else
	// the one the object declares; none for other cluster-scoped objects.
	ns, nsKnown := "", true
	switch {
	case isNamespace:
		ns = obj.GetName()
	case r.namespace != nil:
		ns = nsName
	case obj.GetNamespace() != "":
		ns = obj.GetNamespace()
	default:
		nsKnown = false
	}

	mt := m.match
	if len(mt.Kinds) > 0 && !kindsMatch(mt.Kinds, gvk.Group, gvk.Kind) {
		return false, nil
	}
	switch mt.Scope {
	case "Cluster":
		if !isNamespace && hasNamespace {
			return false, nil
		}
	case "Namespaced":
		if isNamespace || !hasNamespace {
			return false, nil
		}
	}
	if len(mt.Namespaces) > 0 && nsKnown && !anyWildcard(mt.Namespaces, ns) {
		return false, nil
	}
	if len(mt.ExcludedNamespaces) > 0 && nsKnown && anyWildcard(mt.ExcludedNamespaces, ns) {
		return false, nil
	}
	if m.labels != nil && !m.labels.Matches(labels.Set(obj.GetLabels())) {
		return false, nil
	}
	if m.nsLabels != nil {
		switch {
		case isNamespace:
			if !m.nsLabels.Matches(labels.Set(obj.GetLabels())) {
				return false, nil
			}
		case r.namespace == nil && obj.GetNamespace() == "":
			// Cluster-scoped objects other than Namespaces match.
		case r.namespace == nil:
			// Gatekeeper reads the Namespace from the cluster; offline it
			// must be given. Without it the constraint is not evaluated
			// rather than guessed (Gatekeeper would autoreject).
			if r.skipped != nil {
				r.skipped.add(Skip{Kind: m.kind, Name: m.name,
					Reason: fmt.Sprintf("spec.match.namespaceSelector needs the Namespace %q, which was not given", obj.GetNamespace())})
			}
			return false, nil
		default:
			nsLabels, _, _ := unstructured.NestedStringMap(r.namespace, "metadata", "labels")
			if !m.nsLabels.Matches(labels.Set(nsLabels)) {
				return false, nil
			}
		}
	}
	if mt.Name != "" && !wildcard(mt.Name, obj.GetName()) && !generateNameWildcard(mt.Name, obj.GetGenerateName()) {
		return false, nil
	}
	switch mt.Source {
	case "", "All", sourceOriginal:
	case "Generated":
		return false, nil
	default:
		return false, fmt.Errorf("invalid source field %q", mt.Source)
	}
	return true, nil
}

func kindsMatch(ks []matchKinds, group, kind string) bool {
	for _, k := range ks {
		if len(k.Kinds) > 0 && !contains(k.Kinds, "*") && !contains(k.Kinds, kind) {
			continue
		}
		if len(k.APIGroups) == 0 || contains(k.APIGroups, "*") || contains(k.APIGroups, group) {
			return true
		}
	}
	return false
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

func anyWildcard(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcard(p, s) {
			return true
		}
	}
	return false
}

// wildcard matches Gatekeeper's name patterns: a leading and/or trailing
// "*" (contains, suffix, prefix), otherwise equality.
func wildcard(p, s string) bool {
	pre, suf := strings.HasPrefix(p, "*"), strings.HasSuffix(p, "*")
	switch {
	case pre && suf:
		return strings.Contains(s, strings.TrimSuffix(strings.TrimPrefix(p, "*"), "*"))
	case pre:
		return strings.HasSuffix(s, p[1:])
	case suf:
		return strings.HasPrefix(s, p[:len(p)-1])
	}
	return p == s
}

// generateNameWildcard matches a pattern ending in "*" against an object's
// metadata.generateName (a suffix-only pattern cannot match a prefix).
func generateNameWildcard(p, s string) bool {
	if s == "" || !strings.HasSuffix(p, "*") {
		return false
	}
	return wildcard(p, s)
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
